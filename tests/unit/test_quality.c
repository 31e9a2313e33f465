/* test_quality.c — data quality per processing-time minute (src/ops/quality.c): minute
 * rollover with injected clocks, counters, the score's rounding, run totals and the
 * `quality` alert (streak, one alert per streak, re-arm). */
#include "harness.h"
#include "ops/quality.h"

#define T0 1764000000000LL /* a minute boundary: 1764000000000 / 60000 = 29400000 */

static struct ss_val *dq(struct ss_out *o, size_t i) { return ss_out_get(o, SS_T_DATA_QUALITY, i); }

static void init(struct ss_quality *q, int64_t threshold, int64_t minutes) {
    struct ss_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.quality_alert_threshold = threshold;
    cfg.quality_alert_minutes = minutes;
    ss_quality_init(q, &cfg);
}

/* n records of which `bad` are malformed, all at time t */
static void minute(struct ss_quality *q, int64_t t, int n, int bad, struct ss_out *o) {
    for (int i = 0; i < n; i++) ss_quality_record(q, i < bad ? SS_BAD_MALFORMED : SS_VALID, t, o);
}

TEST(rollover_and_counters) {
    struct ss_quality q;
    struct ss_out o;
    ss_out_init(&o);
    init(&q, 9500, 3);
    CHECK_EQ_INT(q.minute_start, -1);
    ss_quality_record(&q, SS_VALID, T0 + 5, &o);
    ss_quality_record(&q, SS_VALID, T0 + 100, &o);
    ss_quality_record(&q, SS_BAD_MALFORMED, T0 + 200, &o);
    ss_quality_record(&q, SS_BAD_MISSING, T0 + 300, &o);
    ss_quality_record(&q, SS_BAD_MISSING, T0 + 300, &o);
    ss_quality_record(&q, SS_BAD_UNKNOWN_TYPE, T0 + 400, &o);
    ss_quality_record(&q, SS_BAD_TS, T0 + 500, &o);
    ss_quality_record(&q, SS_BAD_AMOUNT, T0 + 59999, &o);
    ss_quality_count(&q, SS_Q_LATE, T0 + 59999, &o);
    ss_quality_count(&q, SS_Q_DUPLICATES, T0 + 59999, &o);
    ss_quality_tick(&q, T0 + 59999, 0, &o);
    CHECK_EQ_INT(o.t[SS_T_DATA_QUALITY].n, 0);
    CHECK_EQ_INT(q.minute_start, T0);
    ss_quality_record(&q, SS_VALID, T0 + 60000, &o); /* the next minute: T0's row goes out */
    CHECK_EQ_INT(o.t[SS_T_DATA_QUALITY].n, 1);
    struct ss_val *v = dq(&o, 0);
    CHECK_EQ_INT(v[SS_DQ_MINUTE_START].i, T0);
    CHECK_EQ_INT(v[SS_DQ_TOTAL].i, 8);
    CHECK_EQ_INT(v[SS_DQ_VALID].i, 2);
    CHECK_EQ_INT(v[SS_DQ_MALFORMED].i, 1);
    CHECK_EQ_INT(v[SS_DQ_MISSING_FIELD].i, 2);
    CHECK_EQ_INT(v[SS_DQ_UNKNOWN_TYPE].i, 1);
    CHECK_EQ_INT(v[SS_DQ_BAD_TS].i, 1);
    CHECK_EQ_INT(v[SS_DQ_BAD_AMOUNT].i, 1);
    CHECK_EQ_INT(v[SS_DQ_LATE].i, 1);
    CHECK_EQ_INT(v[SS_DQ_DUPLICATES].i, 1);
    CHECK_EQ_INT(v[SS_DQ_QUALITY_SCORE].i, 2500);
    /* a clock that steps back keeps counting into the current minute */
    ss_quality_record(&q, SS_VALID, T0 + 30000, &o);
    /* a jump of several minutes: one row for the minute that was counted */
    ss_quality_record(&q, SS_BAD_TS, T0 + 5 * 60000 + 1, &o);
    CHECK_EQ_INT(o.t[SS_T_DATA_QUALITY].n, 2);
    v = dq(&o, 1);
    CHECK_EQ_INT(v[SS_DQ_MINUTE_START].i, T0 + 60000);
    CHECK_EQ_INT(v[SS_DQ_TOTAL].i, 2);
    CHECK_EQ_INT(v[SS_DQ_QUALITY_SCORE].i, 10000);
    /* end of run */
    ss_quality_tick(&q, T0 + 5 * 60000 + 2, 1, &o);
    CHECK_EQ_INT(o.t[SS_T_DATA_QUALITY].n, 3);
    v = dq(&o, 2);
    CHECK_EQ_INT(v[SS_DQ_MINUTE_START].i, T0 + 5 * 60000);
    CHECK_EQ_INT(v[SS_DQ_TOTAL].i, 1);
    CHECK_EQ_INT(v[SS_DQ_QUALITY_SCORE].i, 0);
    ss_quality_tick(&q, T0 + 6 * 60000, 1, &o); /* nothing counted since: no row */
    CHECK_EQ_INT(o.t[SS_T_DATA_QUALITY].n, 3);
    /* whole-run totals */
    CHECK_EQ_INT(q.run[SS_Q_TOTAL], 11);
    CHECK_EQ_INT(q.run[SS_Q_VALID], 4);
    CHECK_EQ_INT(q.run[SS_Q_BAD_TS], 2);
    CHECK_EQ_INT(q.run[SS_Q_MISSING_FIELD], 2);
    CHECK_EQ_INT(q.run[SS_Q_LATE], 1);
    CHECK_EQ_INT(o.t[SS_T_ALERTS].n, 0);
    ss_out_free(&o);
}

/* valid / total in ten-thousandths, half up */
TEST(score_rounding) {
    struct ss_quality q;
    struct ss_out o;
    ss_out_init(&o);
    init(&q, 0, 3);
    minute(&q, T0, 3, 1, &o);             /* 2/3 = 0.66666 -> 6667 */
    minute(&q, T0 + 60000, 20000, 1, &o); /* 19999/20000 = 0.99995 -> 10000 (half up) */
    minute(&q, T0 + 120000, 40000, 3, &o); /* 39997/40000 = 0.999925 -> 9999 */
    ss_quality_tick(&q, T0 + 180000, 0, &o);
    CHECK_EQ_INT(o.t[SS_T_DATA_QUALITY].n, 3);
    CHECK_EQ_INT(dq(&o, 0)[SS_DQ_QUALITY_SCORE].i, 6667);
    CHECK_EQ_INT(dq(&o, 1)[SS_DQ_QUALITY_SCORE].i, 10000);
    CHECK_EQ_INT(dq(&o, 2)[SS_DQ_QUALITY_SCORE].i, 9999);
    /* a minute with no records (the engine ticked, nothing came) scores 1 */
    ss_quality_tick(&q, T0 + 240000, 0, &o);
    CHECK_EQ_INT(o.t[SS_T_DATA_QUALITY].n, 4);
    CHECK_EQ_INT(dq(&o, 3)[SS_DQ_TOTAL].i, 0);
    CHECK_EQ_INT(dq(&o, 3)[SS_DQ_QUALITY_SCORE].i, 10000);
    ss_out_free(&o);
}

TEST(quality_alert) {
    struct ss_quality q;
    struct ss_out o;
    ss_out_init(&o);
    init(&q, 9500, 3);
    int64_t m = 60000;
    minute(&q, T0, 100, 10, &o);         /* 0.90 low 1 */
    minute(&q, T0 + m, 100, 5, &o);      /* 0.95: at the threshold, not below: resets */
    minute(&q, T0 + 2 * m, 100, 6, &o);  /* 0.94 low 1 */
    minute(&q, T0 + 3 * m, 10000, 688, &o); /* 0.9312 low 2 */
    CHECK_EQ_INT(o.t[SS_T_ALERTS].n, 0);
    minute(&q, T0 + 4 * m, 10000, 688, &o); /* low 3 when this minute ends */
    minute(&q, T0 + 5 * m, 100, 50, &o);    /* T0+4m finished: the third low minute in a row */
    CHECK_EQ_INT(o.t[SS_T_ALERTS].n, 1);
    struct ss_val *v = ss_out_get(&o, SS_T_ALERTS, 0);
    char want[48];
    snprintf(want, sizeof want, "quality:%lld", (long long)(T0 + 4 * m));
    CHECK_EQ_STR(v[SS_AL_ALERT_ID].s, want);
    CHECK_EQ_STR(v[SS_AL_KIND].s, "quality");
    CHECK_EQ_STR(v[SS_AL_USER_ID].s, "");
    CHECK_EQ_INT(v[SS_AL_USER_ID].null, 0);
    CHECK_EQ_INT(v[SS_AL_ORDER_ID].null, 1);
    CHECK_EQ_INT(v[SS_AL_AMOUNT].i, 0);
    CHECK_EQ_INT(v[SS_AL_TS].i, T0 + 4 * m);
    CHECK_EQ_STR(v[SS_AL_DETAIL].s, "{\"score\":\"0.9312\",\"minutes\":3}");
    minute(&q, T0 + 6 * m, 100, 50, &o); /* still low: no second alert for this streak */
    minute(&q, T0 + 7 * m, 100, 0, &o);  /* 6m low; 7m good: re-arms */
    minute(&q, T0 + 8 * m, 100, 50, &o);
    minute(&q, T0 + 9 * m, 100, 50, &o);
    minute(&q, T0 + 10 * m, 100, 50, &o);
    CHECK_EQ_INT(o.t[SS_T_ALERTS].n, 1);
    ss_quality_tick(&q, T0 + 11 * m, 0, &o);
    CHECK_EQ_INT(o.t[SS_T_ALERTS].n, 2);
    v = ss_out_get(&o, SS_T_ALERTS, 1);
    snprintf(want, sizeof want, "quality:%lld", (long long)(T0 + 10 * m));
    CHECK_EQ_STR(v[SS_AL_ALERT_ID].s, want);
    CHECK_EQ_STR(v[SS_AL_DETAIL].s, "{\"score\":\"0.5000\",\"minutes\":3}");
    ss_out_free(&o);
}

/* The exact ratio decides whether a minute is bad, not the rounded score of its row. */
TEST(quality_alert_exact_ratio) {
    struct ss_quality q;
    struct ss_out o;
    ss_out_init(&o);
    init(&q, 9500, 1);
    minute(&q, T0, 20000, 1001, &o);         /* 18999 / 20000 = 0.94995: row 0.9500, yet below */
    minute(&q, T0 + 60000, 20000, 1000, &o); /* 19000 / 20000 = 0.95 exactly: not below */
    ss_quality_tick(&q, T0 + 120000, 0, &o);
    CHECK_EQ_INT(o.t[SS_T_DATA_QUALITY].n, 2);
    CHECK_EQ_INT(dq(&o, 0)[SS_DQ_QUALITY_SCORE].i, 9500);
    CHECK_EQ_INT(dq(&o, 1)[SS_DQ_QUALITY_SCORE].i, 9500);
    CHECK_EQ_INT(o.t[SS_T_ALERTS].n, 1);
    if (o.t[SS_T_ALERTS].n == 1) {
        struct ss_val *v = ss_out_get(&o, SS_T_ALERTS, 0);
        char want[48];
        snprintf(want, sizeof want, "quality:%lld", (long long)T0);
        CHECK_EQ_STR(v[SS_AL_ALERT_ID].s, want);
        CHECK_EQ_STR(v[SS_AL_DETAIL].s, "{\"score\":\"0.9500\",\"minutes\":1}");
    }
    ss_out_free(&o);
}

int main(void) {
    RUN(rollover_and_counters);
    RUN(score_rounding);
    RUN(quality_alert);
    RUN(quality_alert_exact_ratio);
    return ss_t_report("quality");
}
