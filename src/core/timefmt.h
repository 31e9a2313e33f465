/* timefmt.h — timestamps are int64 milliseconds since the Unix epoch, UTC. */
#ifndef SS_TIMEFMT_H
#define SS_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SS_TS_MIN INT64_MIN
#define SS_TS_MAX INT64_MAX
#define SS_MS_PER_DAY 86400000LL

/* The event timestamps accepted: 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z,
 * what ISO-8601's four-digit year can write. An epoch-ms value outside is bad_ts: one
 * record at -9223372036854775000 would otherwise put the watermark in the year 292
 * million and make every later event late. With durations bounded too (below), any
 * ts +- duration stays far inside int64. */
#define SS_TS_EVENT_MIN (-62167219200000LL)
#define SS_TS_EVENT_MAX 253402300799999LL
/* The longest duration ss_duration_parse accepts: 100 years of 365 days. */
#define SS_DURATION_MAX (36500LL * SS_MS_PER_DAY)

/* Accepts ISO-8601 with a zone: YYYY-MM-DDTHH:MM:SS[.fff...]( Z | +HH:MM | -HH:MM | +HHMM ),
 * a space instead of 'T', or an integer of epoch milliseconds (a JSON number or digits).
 * Fractions beyond milliseconds are truncated. A timestamp with no zone is rejected
 * (its meaning would depend on the machine), and so is an instant outside
 * [SS_TS_EVENT_MIN, SS_TS_EVENT_MAX]. Returns 0 and fills *out, or -1. */
int ss_ts_parse(const char *s, size_t n, int64_t *out);

/* "2026-11-27T10:30:00.123Z" (always milliseconds, always Z). buf needs 32 bytes.
 * Returns the length written. */
int ss_ts_format(int64_t ms, char *buf);

/* Days since 1970-01-01 for a civil date, and back (proleptic Gregorian). */
int64_t ss_days_from_civil(int64_t y, unsigned m, unsigned d);
void ss_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* Floor division for window alignment: floor(ts / size) * size, also for negative ts. */
static inline int64_t ss_ts_floor(int64_t ts, int64_t size) {
    int64_t q = ts / size;
    if ((ts % size) != 0 && ts < 0) q--;
    return q * size;
}

/* Parses a duration: "15m", "15min", "30s", "2h", "1d", "500ms", or plain milliseconds;
 * at most SS_DURATION_MAX. */
int ss_duration_parse(const char *s, int64_t *out_ms);

/* Processing time: wall-clock milliseconds (used only for data_quality minutes and idleness). */
int64_t ss_now_ms(void);
/* Sleeps ms milliseconds (backoff between retries). */
void ss_sleep_ms(int64_t ms);
/* The CLOCK_REALTIME instant ms milliseconds from now: a deadline for pthread_cond_timedwait. */
struct timespec ss_deadline_in_ms(int64_t ms);

#endif
