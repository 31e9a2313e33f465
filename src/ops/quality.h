/* quality.h — data quality per processing-time minute (DESIGN §4 Data quality) and
 * the `quality` alert (score below a threshold for N minutes in a row).
 * This is the only place where the wall clock enters a result. */
#ifndef SS_QUALITY_H
#define SS_QUALITY_H

#include <stdint.h>

#include "../core/config.h"
#include "../core/err.h"
#include "../core/snap.h"
#include "../core/event.h"
#include "../core/table.h"

enum ss_quality_counter {
    SS_Q_TOTAL, SS_Q_VALID, SS_Q_MALFORMED, SS_Q_MISSING_FIELD, SS_Q_UNKNOWN_TYPE, SS_Q_BAD_TS,
    SS_Q_BAD_AMOUNT, SS_Q_LATE, SS_Q_DUPLICATES, SS_Q_NCOUNTERS
};

struct ss_quality {
    int64_t minute_start;            /* processing-time minute being counted, -1 before the first */
    int64_t n[SS_Q_NCOUNTERS];       /* this minute */
    int64_t run[SS_Q_NCOUNTERS];     /* whole run */
    int64_t threshold;               /* ratio ten-thousandths */
    int64_t alert_minutes;
    int64_t low_streak;              /* consecutive minutes below threshold */
};

void ss_quality_init(struct ss_quality *q, const struct ss_config *cfg);
/* Counts one record: valid, or rejected for reason. now_ms rolls the minute over
 * (emitting the finished minute's row into out). */
void ss_quality_record(struct ss_quality *q, enum ss_reason reason, int64_t now_ms, struct ss_out *out);
void ss_quality_count(struct ss_quality *q, enum ss_quality_counter c, int64_t now_ms, struct ss_out *out);
/* Emits the current minute's row if the minute changed or `force` (end of run). */
void ss_quality_tick(struct ss_quality *q, int64_t now_ms, int force, struct ss_out *out);

/* Savepoints (snap.h): the minute being counted (minute_start and its counters) and the
 * low-quality streak, so that a run restarted within the same minute goes on counting
 * it: the minute's row is an upsert keyed by minute_start, and one that started again
 * from zero would overwrite the counts before the restart. Save before the end-of-run
 * tick (force), which emits the minute and starts afresh. `run` is not saved: it is
 * this process's own totals. ss_quality_load reads into q as ss_quality_init left it
 * (threshold and alert minutes come from the configuration) and leaves q unchanged
 * when it refuses the bytes (SS_ERROR, err says what is wrong). */
void ss_quality_save(const struct ss_quality *q, struct ss_buf *b);
int ss_quality_load(struct ss_quality *q, struct ss_snap_r *r, struct ss_err *err);

#endif
