/* test_time.c — timestamp parsing / formatting, calendar arithmetic and durations
 * (core/timefmt.c). Expected values come from a naive day-counting calendar written
 * here, independent of the Hinnant algorithms under test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "harness.h"

static int is_leap(long long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
static int mdays(long long y, int m) {
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : d[m - 1];
}
/* Days since 1970-01-01 by counting whole years and months (years >= 0). */
static long long naive_days(long long y, int m, int d) {
    long long n = 0;
    for (long long i = 1970; i < y; i++) n += is_leap(i) ? 366 : 365;
    for (long long i = y; i < 1970; i++) n -= is_leap(i) ? 366 : 365;
    for (int i = 1; i < m; i++) n += mdays(y, i);
    return n + d - 1;
}
static long long naive_ms(long long y, int mo, int d, int h, int mi, int s, int ms) {
    return naive_days(y, mo, d) * 86400000LL + h * 3600000LL + mi * 60000LL + s * 1000LL + ms;
}

static int64_t T(const char *s, int *rc) {
    int64_t v = 424242;
    *rc = ss_ts_parse(s, strlen(s), &v);
    return v;
}
#define TS_OK(s, want)                                                                             \
    do {                                                                                           \
        int rc_;                                                                                   \
        int64_t v_ = T(s, &rc_);                                                                   \
        CHECK_EQ_INT(rc_, 0);                                                                      \
        CHECK_EQ_INT(v_, want);                                                                    \
    } while (0)
#define TS_BAD(s)                                                                                  \
    do {                                                                                           \
        int rc_;                                                                                   \
        int64_t v_ = T(s, &rc_);                                                                   \
        CHECK_EQ_INT(rc_, -1);                                                                     \
        CHECK_EQ_INT(v_, 424242);                                                                  \
    } while (0)

TEST(parse_iso) {
    long long base = naive_ms(2026, 11, 27, 10, 30, 0, 0);
    TS_OK("2026-11-27T10:30:00.123Z", base + 123);
    TS_OK("2026-11-27T10:30:00Z", base);
    TS_OK("2026-11-27 10:30:00Z", base);
    TS_OK("2026-11-27T10:30:00+01:00", base - 3600000);
    TS_OK("2026-11-27T10:30:00+0100", base - 3600000);
    TS_OK("2026-11-27T10:30:00-0530", base + 5 * 3600000 + 30 * 60000);
    TS_OK("2026-11-27T10:30:00.5-05:30", base + 5 * 3600000 + 30 * 60000 + 500);
    TS_OK("2026-11-27T10:30:00+00:00", base);
    TS_OK("2026-11-27T10:30:00-00:00", base);
    TS_OK("2026-11-27T10:30:00+23:59", base - 23 * 3600000 - 59 * 60000);
    /* fractions of every length, truncated (never rounded) to milliseconds */
    TS_OK("2026-11-27T10:30:00.1Z", base + 100);
    TS_OK("2026-11-27T10:30:00.12Z", base + 120);
    TS_OK("2026-11-27T10:30:00.123Z", base + 123);
    TS_OK("2026-11-27T10:30:00.1239Z", base + 123);
    TS_OK("2026-11-27T10:30:00.12399Z", base + 123);
    TS_OK("2026-11-27T10:30:00.123999Z", base + 123);
    TS_OK("2026-11-27T10:30:00.9999999Z", base + 999);
    TS_OK("2026-11-27T10:30:00.99999999Z", base + 999);
    TS_OK("2026-11-27T10:30:00.123456789Z", base + 123);
    TS_OK("2026-11-27T10:30:00.000000000001Z", base);
    TS_OK("1970-01-01T00:00:00Z", 0);
    TS_OK("1969-12-31T23:59:59.999Z", -1);
    TS_OK("1970-01-01T00:00:00+01:00", -3600000);
    TS_OK("0000-01-01T00:00:00Z", naive_ms(0, 1, 1, 0, 0, 0, 0));
    TS_OK("9999-12-31T23:59:59.999Z", naive_ms(9999, 12, 31, 23, 59, 59, 999));
    TS_OK("0000-01-01T00:00:00-00:01", naive_ms(0, 1, 1, 0, 1, 0, 0));
    TS_OK("9999-12-31T23:59:59.999+00:01", naive_ms(9999, 12, 31, 23, 58, 59, 999));
    /* leap years */
    TS_OK("2024-02-29T12:00:00Z", naive_ms(2024, 2, 29, 12, 0, 0, 0));
    TS_OK("2000-02-29T00:00:00Z", naive_ms(2000, 2, 29, 0, 0, 0, 0));
    TS_OK("2024-12-31T23:59:59Z", naive_ms(2024, 12, 31, 23, 59, 59, 0));
    TS_OK("2023-03-01T00:00:00Z", naive_ms(2023, 3, 1, 0, 0, 0, 0));
}

TEST(parse_iso_bad) {
    TS_BAD("2023-02-29T00:00:00Z");   /* not a leap year */
    TS_BAD("1900-02-29T00:00:00Z");   /* century, not a leap year */
    TS_BAD("2024-02-30T00:00:00Z");
    TS_BAD("2024-04-31T00:00:00Z");
    TS_BAD("2024-13-01T00:00:00Z");
    TS_BAD("2024-00-01T00:00:00Z");
    TS_BAD("2024-01-00T00:00:00Z");
    TS_BAD("2024-01-32T00:00:00Z");
    TS_BAD("2024-01-01T24:00:00Z");
    TS_BAD("2024-01-01T00:60:00Z");
    TS_BAD("2024-01-01T00:00:60Z");   /* leap seconds are not representable */
    TS_BAD("2024-01-01T00:00:00");    /* no zone */
    TS_BAD("2024-01-01T00:00:00.123");
    TS_BAD("2024-01-01 00:00:00");
    TS_BAD("2024-01-01T00:00:00z");
    TS_BAD("2024-01-01t00:00:00Z");
    TS_BAD("2024-01-01X00:00:00Z");
    TS_BAD("2024-01-01T00:00Z");      /* seconds are required */
    TS_BAD("2024-01-01");
    TS_BAD("2024-01-01T00:00:00.Z");  /* a point needs digits */
    TS_BAD("2024-01-01T00:00:00+01");
    TS_BAD("2024-01-01T00:00:00+1:00");
    TS_BAD("2024-01-01T00:00:00+01:0");
    TS_BAD("2024-01-01T00:00:00+010");
    TS_BAD("2024-01-01T00:00:00+24:00");
    TS_BAD("2024-01-01T00:00:00+01:60");
    TS_BAD("2024-01-01T00:00:00+01:00:00");
    TS_BAD("2024-01-01T00:00:00ZZ");
    TS_BAD("2024-01-01T00:00:00Z ");
    TS_BAD(" 2024-01-01T00:00:00Z");
    TS_BAD("2024-1-01T00:00:00Z");
    TS_BAD("24-01-01T00:00:00Z");
    TS_BAD("+2024-01-01T00:00:00Z");
    TS_BAD("2024-01-01T0a:00:00Z");
    TS_BAD("2024/01/01T00:00:00Z");
    TS_BAD("");
    TS_BAD("now");
    /* an offset that moves year 0000 or 9999 out of the range */
    TS_BAD("0000-01-01T00:00:00+00:01");
    TS_BAD("9999-12-31T23:59:59.999-00:01");
    TS_BAD("9999-12-31T23:30:00-23:59");
}

TEST(parse_epoch) {
    TS_OK("0", 0);
    TS_OK("-0", 0);
    TS_OK("1700000000000", 1700000000000LL);
    TS_OK("-1", -1);
    TS_OK("-86400000", -86400000LL);
    TS_OK("00000000000000000000000000001", 1);
    /* only the instants of years 0000-9999 (SS_TS_EVENT_MIN/MAX), counted here */
    TS_OK("-62167219200000", naive_ms(0, 1, 1, 0, 0, 0, 0));
    TS_OK("253402300799999", naive_ms(9999, 12, 31, 23, 59, 59, 999));
    TS_BAD("-62167219200001");
    TS_BAD("253402300800000");
    TS_BAD("9223372036854775807");
    TS_BAD("-9223372036854775808");
    TS_BAD("-9223372036854775000");
    TS_BAD("9223372036854775808");
    TS_BAD("-9223372036854775809");
    TS_BAD("99999999999999999999999");
    TS_BAD("1.5");
    TS_BAD("1e3");
    TS_BAD("1700000000000.0");
    TS_BAD("-");
    TS_BAD("+5");
    TS_BAD("5 ");
    TS_BAD("--5");
    TS_BAD("0x10");
}

TEST(format_known) {
    char b[32];
    CHECK_EQ_INT(ss_ts_format(0, b), 24);
    CHECK_EQ_STR(b, "1970-01-01T00:00:00.000Z");
    ss_ts_format(-1, b);
    CHECK_EQ_STR(b, "1969-12-31T23:59:59.999Z");
    ss_ts_format(naive_ms(2026, 11, 27, 10, 30, 0, 123), b);
    CHECK_EQ_STR(b, "2026-11-27T10:30:00.123Z");
    ss_ts_format(naive_ms(2024, 2, 29, 23, 59, 59, 7), b);
    CHECK_EQ_STR(b, "2024-02-29T23:59:59.007Z");
    ss_ts_format(naive_ms(0, 1, 1, 0, 0, 0, 0), b);
    CHECK_EQ_STR(b, "0000-01-01T00:00:00.000Z");
    ss_ts_format(naive_ms(0, 1, 1, 0, 0, 0, 0) - 1, b);
    CHECK_EQ_STR(b, "-0001-12-31T23:59:59.999Z");
    /* absurd values stay in the buffer and do not trap */
    CHECK(ss_ts_format(INT64_MIN, b) < 32);
    CHECK(b[0] == '-');
    CHECK(ss_ts_format(INT64_MAX, b) < 32);
    CHECK(strchr(b, 'Z') != NULL);
}

/* Calendar: walk every day from 1600-01-01 to 2400-12-31 with a naive counter. */
TEST(civil_walk) {
    long long z = naive_days(1600, 1, 1);
    long long y = 1600;
    int m = 1, d = 1, bad = 0;
    while (y <= 2400) {
        int64_t yy;
        unsigned mm, dd;
        ss_civil_from_days(z, &yy, &mm, &dd);
        if (yy != y || (int)mm != m || (int)dd != d) bad++;
        if (ss_days_from_civil(y, (unsigned)m, (unsigned)d) != z) bad++;
        z++;
        if (++d > mdays(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(ss_days_from_civil(1970, 1, 1), 0);
    CHECK_EQ_INT(ss_days_from_civil(2000, 3, 1), 11017);
    CHECK_EQ_INT(ss_days_from_civil(1969, 12, 31), -1);
}

/* format then parse is the identity; parse of a formatted naive date is exact. */
TEST(round_trip) {
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    int bad = 0;
    const long long lo = naive_ms(0, 1, 1, 0, 0, 0, 0), hi = naive_ms(9999, 12, 31, 23, 59, 59, 999);
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        long long ms;
        if (i % 4 == 0) ms = (long long)(x % 4000000000000ULL) - 2000000000000LL; /* around 1970 */
        else if (i % 4 == 1) ms = lo + (long long)(x % (uint64_t)(hi - lo + 1));
        else if (i % 4 == 2) ms = -(long long)(x % 1000000);                      /* just before 1970 */
        else ms = 1700000000000LL + (long long)(x % 100000000000ULL);
        char b[32];
        int n = ss_ts_format(ms, b);
        int64_t back = 0;
        if (n != 24) bad++; /* every year in range has four digits */
        if (ss_ts_parse(b, (size_t)n, &back) != 0 || back != ms) {
            if (bad++ < 5) fprintf(stderr, "round trip %lld -> %s -> %lld\n", ms, b, (long long)back);
        }
        /* also through an offset spelling of the same instant */
        if (i % 16 == 0 && ms > lo + 86400000LL) {
            char o[40];
            int64_t shifted = ms + 5 * 3600000 + 30 * 60000, back2 = 0;
            ss_ts_format(shifted, o);
            o[23] = '\0';
            strcat(o, "+05:30");
            if (ss_ts_parse(o, strlen(o), &back2) != 0 || back2 != ms) bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    /* every formatted day boundary of 1999-2001 against the naive calendar */
    bad = 0;
    for (long long y = 1999; y <= 2001; y++)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= mdays(y, m); d++) {
                char want[64], got[32];
                snprintf(want, sizeof want, "%04lld-%02d-%02dT23:59:59.999Z", y, m, d);
                ss_ts_format(naive_ms(y, m, d, 23, 59, 59, 999), got);
                if (strcmp(want, got) != 0) bad++;
            }
    CHECK_EQ_INT(bad, 0);
}

TEST(ts_floor) {
    CHECK_EQ_INT(ss_ts_floor(125, 60), 120);
    CHECK_EQ_INT(ss_ts_floor(-1, 60), -60);
    CHECK_EQ_INT(ss_ts_floor(-60, 60), -60);
    CHECK_EQ_INT(ss_ts_floor(0, 60), 0);
}

static int64_t D(const char *s, int *rc) {
    int64_t v = 31337;
    *rc = ss_duration_parse(s, &v);
    return v;
}
#define DUR_OK(s, want)                                                                            \
    do {                                                                                           \
        int rc_;                                                                                   \
        int64_t v_ = D(s, &rc_);                                                                   \
        CHECK_EQ_INT(rc_, 0);                                                                      \
        CHECK_EQ_INT(v_, want);                                                                    \
    } while (0)
#define DUR_BAD(s)                                                                                 \
    do {                                                                                           \
        int rc_;                                                                                   \
        int64_t v_ = D(s, &rc_);                                                                   \
        CHECK_EQ_INT(rc_, -1);                                                                     \
        CHECK_EQ_INT(v_, 31337);                                                                   \
    } while (0)

TEST(duration) {
    DUR_OK("500ms", 500);
    DUR_OK("30s", 30000);
    DUR_OK("15m", 900000);
    DUR_OK("15min", 900000);
    DUR_OK("2h", 7200000);
    DUR_OK("1d", 86400000);
    DUR_OK("250", 250);
    DUR_OK("0", 0);
    DUR_OK("0s", 0);
    DUR_OK("36500d", 36500LL * 86400000); /* SS_DURATION_MAX, 100 years */
    DUR_OK("3153600000000", 3153600000000LL);
    DUR_BAD("3153600000001");
    DUR_BAD("36501d");
    DUR_BAD("876001h");
    DUR_BAD("9223372036854775807");
    DUR_BAD("-5s");
    DUR_BAD("-5");
    DUR_BAD("");
    DUR_BAD("s");
    DUR_BAD("5x");
    DUR_BAD("5 s");
    DUR_BAD(" 5s");
    DUR_BAD("5s ");
    DUR_BAD("5mins");
    DUR_BAD("5mi");
    DUR_BAD("5msx");
    DUR_BAD("1.5h");
    DUR_BAD("5S");
    DUR_BAD("9223372036854775808");
    DUR_BAD("106751991167301d"); /* overflows int64 ms */
    CHECK_EQ_INT(ss_duration_parse(NULL, &(int64_t){0}), -1);
}

TEST(now) {
    int64_t a = ss_now_ms();
    /* after 2020-01-01 and before 2100-01-01 */
    CHECK(a > naive_ms(2020, 1, 1, 0, 0, 0, 0));
    CHECK(a < naive_ms(2100, 1, 1, 0, 0, 0, 0));
}

int main(void) {
    RUN(parse_iso);
    RUN(parse_iso_bad);
    RUN(parse_epoch);
    RUN(format_known);
    RUN(civil_walk);
    RUN(round_trip);
    RUN(ts_floor);
    RUN(duration);
    RUN(now);
    return ss_t_report("time");
}
