/* quality.c — see quality.h. The engine counts every record here (decode result,
 * late, duplicate) and ticks it at epoch boundaries; rows go to data_quality, and
 * the `quality` alert to alerts.
 *
 * A minute is only ever emitted once: its row is written when a later minute starts
 * (or at the end of the run), never again, so append-only sinks can sum the rows.
 * A wall clock that steps backwards keeps counting into the current minute rather
 * than reopening an earlier one. */
#include "quality.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../core/money.h"

#define MINUTE_MS 60000

void ss_quality_init(struct ss_quality *q, const struct ss_config *cfg) {
    memset(q, 0, sizeof *q);
    q->minute_start = -1;
    q->threshold = cfg->quality_alert_threshold;
    q->alert_minutes = cfg->quality_alert_minutes;
}

static int64_t minute_of(int64_t now_ms) {
    int64_t m = now_ms / MINUTE_MS;
    if (now_ms % MINUTE_MS != 0 && now_ms < 0) m--;
    return m * MINUTE_MS;
}

/* valid / total in ten-thousandths, half up; a minute without records is perfect */
static int64_t score_of(int64_t valid, int64_t total) {
    if (total <= 0) return SS_MONEY_SCALE;
    return (valid * SS_MONEY_SCALE * 2 + total) / (total * 2);
}

/* DESIGN §4: a minute is bad when its score valid / total is below the threshold. The
 * exact ratio decides, not the score rounded to 4 decimals for the row: 18999 / 20000 =
 * 0.94995 is below 0.95 although its row shows 0.9500. A minute without records is
 * perfect. */
static bool below_threshold(const struct ss_quality *q) {
    int64_t valid = q->n[SS_Q_VALID], total = q->n[SS_Q_TOTAL];
    if (total <= 0) return false;
    return (__int128)valid * SS_MONEY_SCALE < (__int128)q->threshold * total;
}

static void alert_row(struct ss_quality *q, int64_t score, struct ss_out *out) {
    char id[48], num[32], detail[96];
    snprintf(id, sizeof id, "quality:%lld", (long long)q->minute_start);
    ss_money_format(score, 4, num);
    snprintf(detail, sizeof detail, "{\"score\":\"%s\",\"minutes\":%lld}", num, (long long)q->low_streak);
    struct ss_val *v = ss_out_row(out, SS_T_ALERTS);
    ss_out_str(out, &v[SS_AL_ALERT_ID], ss_str_c(id));
    ss_out_str(out, &v[SS_AL_KIND], SS_STR_LIT("quality"));
    ss_out_str(out, &v[SS_AL_USER_ID], SS_STR_LIT(""));
    ss_out_str(out, &v[SS_AL_ORDER_ID], SS_STR_NULL);
    v[SS_AL_AMOUNT].i = 0;
    v[SS_AL_TS].i = q->minute_start;
    ss_out_str(out, &v[SS_AL_DETAIL], ss_str_c(detail));
}

/* Writes the row of the minute being counted and starts afresh. */
static void emit_minute(struct ss_quality *q, struct ss_out *out) {
    static const int col[SS_Q_NCOUNTERS] = {
        [SS_Q_TOTAL] = SS_DQ_TOTAL,           [SS_Q_VALID] = SS_DQ_VALID,
        [SS_Q_MALFORMED] = SS_DQ_MALFORMED,   [SS_Q_MISSING_FIELD] = SS_DQ_MISSING_FIELD,
        [SS_Q_UNKNOWN_TYPE] = SS_DQ_UNKNOWN_TYPE, [SS_Q_BAD_TS] = SS_DQ_BAD_TS,
        [SS_Q_BAD_AMOUNT] = SS_DQ_BAD_AMOUNT, [SS_Q_LATE] = SS_DQ_LATE,
        [SS_Q_DUPLICATES] = SS_DQ_DUPLICATES,
    };
    int64_t score = score_of(q->n[SS_Q_VALID], q->n[SS_Q_TOTAL]);
    struct ss_val *v = ss_out_row(out, SS_T_DATA_QUALITY);
    v[SS_DQ_MINUTE_START].i = q->minute_start;
    for (int c = 0; c < SS_Q_NCOUNTERS; c++) v[col[c]].i = q->n[c];
    v[SS_DQ_QUALITY_SCORE].i = score;

    if (below_threshold(q)) {
        q->low_streak++;
        if (q->low_streak == q->alert_minutes) alert_row(q, score, out);
    } else {
        q->low_streak = 0;
    }
    memset(q->n, 0, sizeof q->n);
}

void ss_quality_tick(struct ss_quality *q, int64_t now_ms, int force, struct ss_out *out) {
    int64_t m = minute_of(now_ms);
    if (q->minute_start < 0) {
        if (force) return; /* nothing was ever counted */
        q->minute_start = m;
        return;
    }
    if (m > q->minute_start) {
        emit_minute(q, out);
        q->minute_start = m;
    }
    if (force) {
        emit_minute(q, out);
        q->minute_start = -1;
    }
}

void ss_quality_count(struct ss_quality *q, enum ss_quality_counter c, int64_t now_ms, struct ss_out *out) {
    ss_quality_tick(q, now_ms, 0, out);
    q->n[c]++;
    q->run[c]++;
}

void ss_quality_record(struct ss_quality *q, enum ss_reason reason, int64_t now_ms, struct ss_out *out) {
    static const enum ss_quality_counter by_reason[SS_REASON_COUNT] = {
        [SS_VALID] = SS_Q_VALID,         [SS_BAD_MALFORMED] = SS_Q_MALFORMED,
        [SS_BAD_MISSING] = SS_Q_MISSING_FIELD, [SS_BAD_UNKNOWN_TYPE] = SS_Q_UNKNOWN_TYPE,
        [SS_BAD_TS] = SS_Q_BAD_TS,       [SS_BAD_AMOUNT] = SS_Q_BAD_AMOUNT,
    };
    ss_quality_tick(q, now_ms, 0, out);
    enum ss_quality_counter c = (unsigned)reason < SS_REASON_COUNT ? by_reason[reason] : SS_Q_MALFORMED;
    q->n[SS_Q_TOTAL]++;
    q->run[SS_Q_TOTAL]++;
    q->n[c]++;
    q->run[c]++;
}

/* ---- savepoint ------------------------------------------------------------------------ */

/* Version 1: minute_start, the SS_Q_NCOUNTERS counters of that minute, low_streak. */
#define QUALITY_SNAP_VERSION 1
/* Far beyond any minute's records (1e12 per second), and small enough that the score's
 * valid * 20000 + total cannot overflow. */
#define QUALITY_MAX_COUNT ((int64_t)1 << 46)

void ss_quality_save(const struct ss_quality *q, struct ss_buf *b) {
    ss_snap_tag(b, "quality");
    ss_snap_u32(b, QUALITY_SNAP_VERSION);
    ss_snap_i64(b, q->minute_start);
    for (int c = 0; c < SS_Q_NCOUNTERS; c++) ss_snap_i64(b, q->n[c]);
    ss_snap_i64(b, q->low_streak);
}

static int quality_load_fail(struct ss_err *err, const char *what) {
    return ss_err_set(err, SS_ERROR, "quality savepoint: %s", what);
}

int ss_quality_load(struct ss_quality *q, struct ss_snap_r *r, struct ss_err *err) {
    if (!ss_snap_expect(r, "quality")) return quality_load_fail(err, "cut short or damaged (no quality section)");
    uint32_t version = ss_snap_get_u32(r);
    if (r->bad) return quality_load_fail(err, "cut short (version)");
    if (version != QUALITY_SNAP_VERSION)
        return ss_err_set(err, SS_ERROR, "quality savepoint: version %u, this build reads version %d", version,
                          QUALITY_SNAP_VERSION);
    int64_t minute_start = ss_snap_get_i64(r), n[SS_Q_NCOUNTERS];
    for (int c = 0; c < SS_Q_NCOUNTERS; c++) n[c] = ss_snap_get_i64(r);
    int64_t low_streak = ss_snap_get_i64(r);
    if (r->bad) return quality_load_fail(err, "cut short (counters)");
    if (minute_start < -1 || (minute_start >= 0 && minute_start % MINUTE_MS != 0))
        return ss_err_set(err, SS_ERROR, "quality savepoint: minute_start %lld is not the start of a minute",
                          (long long)minute_start);
    for (int c = 0; c < SS_Q_NCOUNTERS; c++) {
        if (n[c] < 0 || n[c] > QUALITY_MAX_COUNT) return quality_load_fail(err, "a counter out of range");
        if (minute_start < 0 && n[c]) return quality_load_fail(err, "counts before the first minute");
    }
    if (n[SS_Q_VALID] > n[SS_Q_TOTAL]) return quality_load_fail(err, "more valid records than records");
    if (low_streak < 0 || low_streak > QUALITY_MAX_COUNT) return quality_load_fail(err, "low-quality streak out of range");
    q->minute_start = minute_start;
    memcpy(q->n, n, sizeof q->n);
    q->low_streak = low_streak;
    return SS_OK;
}
