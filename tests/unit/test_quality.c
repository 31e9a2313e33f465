/* test_quality.c — data quality per processing-time minute (src/ops/quality.c): minute
 * rollover with injected clocks, counters, the score's rounding, run totals and the
 * `quality` alert (streak, one alert per streak, re-arm). */
#include <stdlib.h>

#include "core/alloc.h"
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

/* ---- savepoints ---------------------------------------------------------------------- */

static uint64_t rng_state = 0x853c49e6748fea9bULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return rng_state;
}

/* Saves q and loads the bytes into a fresh q of the same configuration (every byte
 * read); every cut of them is refused and leaves the fresh q as it was. */
static void save_restore(struct ss_quality *q) {
    struct ss_buf b = {0};
    ss_quality_save(q, &b);
    struct ss_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.quality_alert_threshold = q->threshold;
    cfg.quality_alert_minutes = q->alert_minutes;
    struct ss_err err = {0};
    for (size_t cut = 0; cut < b.len; cut++) {
        struct ss_quality c, fresh;
        ss_quality_init(&c, &cfg);
        fresh = c;
        struct ss_snap_r r = ss_snap_reader(b.p, cut);
        CHECK(ss_quality_load(&c, &r, &err) != SS_OK);
        CHECK(memcmp(&c, &fresh, sizeof c) == 0);
    }
    ss_quality_init(q, &cfg);
    struct ss_snap_r r = ss_snap_reader(b.p, b.len);
    int rc = ss_quality_load(q, &r, &err);
    if (rc) fprintf(stderr, "load: %s\n", err.msg);
    CHECK_EQ_INT(rc, SS_OK);
    CHECK(r.p == r.end);
    ss_free(b.p);
}

/* A restart within the minute goes on counting it: its one row holds the counts from
 * both sides of the restart; the run totals are this process's own. */
TEST(save_restore_same_minute) {
    struct ss_quality q;
    struct ss_out o;
    ss_out_init(&o);
    init(&q, 9500, 2);
    save_restore(&q); /* before anything was counted */
    CHECK_EQ_INT(q.minute_start, -1);
    ss_quality_tick(&q, T0 + 10, 0, &o);
    save_restore(&q); /* a minute started, nothing counted in it yet */
    CHECK_EQ_INT(q.minute_start, T0);
    minute(&q, T0 + 100, 10, 3, &o);
    ss_quality_count(&q, SS_Q_LATE, T0 + 200, &o);
    save_restore(&q);
    CHECK_EQ_INT(q.run[SS_Q_TOTAL], 0);
    minute(&q, T0 + 59999, 5, 1, &o);
    ss_quality_count(&q, SS_Q_DUPLICATES, T0 + 59999, &o);
    CHECK_EQ_INT(q.run[SS_Q_TOTAL], 5);
    CHECK_EQ_INT(q.run[SS_Q_DUPLICATES], 1);
    CHECK_EQ_INT(o.t[SS_T_DATA_QUALITY].n, 0);
    ss_quality_tick(&q, T0 + 60000, 0, &o);
    CHECK_EQ_INT(o.t[SS_T_DATA_QUALITY].n, 1);
    struct ss_val *v = dq(&o, 0);
    CHECK_EQ_INT(v[SS_DQ_MINUTE_START].i, T0);
    CHECK_EQ_INT(v[SS_DQ_TOTAL].i, 15);
    CHECK_EQ_INT(v[SS_DQ_VALID].i, 11);
    CHECK_EQ_INT(v[SS_DQ_MALFORMED].i, 4);
    CHECK_EQ_INT(v[SS_DQ_LATE].i, 1);
    CHECK_EQ_INT(v[SS_DQ_DUPLICATES].i, 1);
    CHECK_EQ_INT(v[SS_DQ_QUALITY_SCORE].i, 7333);
    ss_out_free(&o);
}

/* A restart in a later minute: the saved minute's row goes out at the first tick, and
 * the low streak carries on across the restart. */
TEST(save_restore_later_minute_and_streak) {
    struct ss_quality q;
    struct ss_out o;
    ss_out_init(&o);
    init(&q, 9500, 3);
    int64_t m = 60000;
    minute(&q, T0, 100, 10, &o);     /* low 1 */
    minute(&q, T0 + m, 100, 10, &o); /* low 2 when it ends */
    save_restore(&q);
    CHECK_EQ_INT(q.low_streak, 1);
    CHECK_EQ_INT(o.t[SS_T_ALERTS].n, 0);
    minute(&q, T0 + 5 * m, 100, 20, &o); /* T0+m finished after the restart: low 2 */
    CHECK_EQ_INT(o.t[SS_T_DATA_QUALITY].n, 2);
    CHECK_EQ_INT(dq(&o, 1)[SS_DQ_MINUTE_START].i, T0 + m);
    CHECK_EQ_INT(dq(&o, 1)[SS_DQ_TOTAL].i, 100);
    CHECK_EQ_INT(o.t[SS_T_ALERTS].n, 0);
    save_restore(&q);
    ss_quality_tick(&q, T0 + 6 * m, 0, &o); /* low 3: the alert */
    CHECK_EQ_INT(o.t[SS_T_ALERTS].n, 1);
    if (o.t[SS_T_ALERTS].n == 1)
        CHECK_EQ_STR(ss_out_get(&o, SS_T_ALERTS, 0)[SS_AL_DETAIL].s, "{\"score\":\"0.8000\",\"minutes\":3}");
    ss_out_free(&o);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every data_quality and alerts row, every column, formatted and sorted. */
static char **rows_of(struct ss_out *o, size_t *n) {
    size_t nd = o->t[SS_T_DATA_QUALITY].n, na = o->t[SS_T_ALERTS].n;
    *n = nd + na;
    char **v = ss_calloc(*n + 1, sizeof *v);
    for (size_t i = 0; i < *n; i++) {
        char buf[512];
        int len = 0;
        if (i < nd) {
            struct ss_val *x = dq(o, i);
            len += snprintf(buf, sizeof buf, "dq");
            for (int c = 0; c < SS_DQ_NCOLS; c++)
                len += snprintf(buf + len, sizeof buf - (size_t)len, "|%lld", (long long)x[c].i);
        } else {
            struct ss_val *x = ss_out_get(o, SS_T_ALERTS, i - nd);
            snprintf(buf, sizeof buf, "al|%s|%s|%s|%s|%lld|%lld|%s", x[SS_AL_ALERT_ID].s, x[SS_AL_KIND].s,
                     x[SS_AL_USER_ID].s, x[SS_AL_ORDER_ID].null ? "null" : x[SS_AL_ORDER_ID].s,
                     (long long)x[SS_AL_AMOUNT].i, (long long)x[SS_AL_TS].i, x[SS_AL_DETAIL].s);
        }
        v[i] = ss_malloc(strlen(buf) + 1);
        memcpy(v[i], buf, strlen(buf) + 1);
    }
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

/* The same random records, counts and ticks (a clock that mostly moves on, sometimes
 * steps back or jumps minutes) through a q that runs straight and one saved and
 * restored at random points: the same rows. */
TEST(randomized_save_restore) {
    int restores = 0;
    size_t rows = 0, alerts = 0;
    for (int round = 0; round < 200; round++) {
        struct ss_quality a, b;
        struct ss_out oa, ob;
        ss_out_init(&oa);
        ss_out_init(&ob);
        int64_t threshold = 5000 + (int64_t)(rnd() % 5001), minutes = 1 + (int64_t)(rnd() % 4);
        init(&a, threshold, minutes);
        init(&b, threshold, minutes);
        int64_t now = T0 + (int64_t)(rnd() % 60000);
        int bad_pct = (int)(rnd() % 60);
        for (int s = 0; s < 3000; s++) {
            uint64_t x = rnd() % 1000;
            if (x < 5) now += 60000 * (int64_t)(1 + rnd() % 4);
            else if (x < 10) now -= (int64_t)(rnd() % 30000);
            else now += (int64_t)(rnd() % 200);
            if (x % 97 == 0) bad_pct = (int)(rnd() % 60);
            uint64_t k = rnd() % 100;
            if (k < 85) {
                enum ss_reason reason = (int)(rnd() % 100) < bad_pct ? (enum ss_reason)(1 + rnd() % 5) : SS_VALID;
                ss_quality_record(&a, reason, now, &oa);
                ss_quality_record(&b, reason, now, &ob);
            } else if (k < 95) {
                enum ss_quality_counter c = k % 2 ? SS_Q_LATE : SS_Q_DUPLICATES;
                ss_quality_count(&a, c, now, &oa);
                ss_quality_count(&b, c, now, &ob);
            } else {
                ss_quality_tick(&a, now, 0, &oa);
                ss_quality_tick(&b, now, 0, &ob);
            }
            if (rnd() % 300 == 0) {
                save_restore(&b);
                restores++;
            }
        }
        ss_quality_tick(&a, now, 1, &oa);
        ss_quality_tick(&b, now, 1, &ob);
        size_t na, nb;
        char **ra = rows_of(&oa, &na), **rb = rows_of(&ob, &nb);
        CHECK_EQ_INT(nb, na);
        size_t same = 0;
        while (same < na && same < nb && strcmp(ra[same], rb[same]) == 0) same++;
        CHECK_EQ_INT(same, na);
        if (same < na || same < nb)
            fprintf(stderr, "  round %d: first difference at row %zu: %s vs %s\n", round, same,
                    same < na ? ra[same] : "-", same < nb ? rb[same] : "-");
        rows += na;
        alerts += oa.t[SS_T_ALERTS].n;
        for (size_t i = 0; i < na; i++) ss_free(ra[i]);
        for (size_t i = 0; i < nb; i++) ss_free(rb[i]);
        ss_free(ra);
        ss_free(rb);
        ss_out_free(&oa);
        ss_out_free(&ob);
    }
    CHECK(restores > 500);
    CHECK(rows > 1000);
    CHECK(alerts > 20);
}

/* Hand-written savepoints with one value wrong: refused, the q left as init made it. */
static int load_values(uint32_t version, int64_t minute_start, const int64_t *n, int64_t streak) {
    struct ss_buf b = {0};
    ss_snap_tag(&b, "quality");
    ss_snap_u32(&b, version);
    ss_snap_i64(&b, minute_start);
    for (int c = 0; c < SS_Q_NCOUNTERS; c++) ss_snap_i64(&b, n[c]);
    ss_snap_i64(&b, streak);
    struct ss_quality q, fresh;
    init(&q, 9500, 3);
    fresh = q;
    struct ss_snap_r r = ss_snap_reader(b.p, b.len);
    struct ss_err err = {0};
    int rc = ss_quality_load(&q, &r, &err);
    if (rc) {
        CHECK(memcmp(&q, &fresh, sizeof q) == 0);
        CHECK(strstr(err.msg, "quality") != NULL);
    } else {
        CHECK(r.p == r.end);
    }
    ss_free(b.p);
    return rc;
}

TEST(damaged_savepoints_refused) {
    int64_t n[SS_Q_NCOUNTERS] = {10, 7, 3, 0, 0, 0, 0, 2, 1};
    int64_t zero[SS_Q_NCOUNTERS] = {0};
    CHECK_EQ_INT(load_values(1, T0, n, 2), SS_OK);
    CHECK_EQ_INT(load_values(1, -1, zero, 0), SS_OK);
    CHECK(load_values(2, T0, n, 2) != SS_OK);
    CHECK(load_values(1, T0 + 1, n, 2) != SS_OK);  /* not a minute's start */
    CHECK(load_values(1, -60000, n, 2) != SS_OK);
    CHECK(load_values(1, -1, n, 0) != SS_OK);      /* counts before the first minute */
    CHECK(load_values(1, T0, n, -1) != SS_OK);
    CHECK(load_values(1, T0, n, INT64_MAX) != SS_OK);
    for (int c = 0; c < SS_Q_NCOUNTERS; c++) {
        int64_t m[SS_Q_NCOUNTERS];
        memcpy(m, n, sizeof m);
        m[c] = -1;
        CHECK(load_values(1, T0, m, 2) != SS_OK);
        m[c] = INT64_MAX; /* would overflow the score */
        CHECK(load_values(1, T0, m, 2) != SS_OK);
    }
    int64_t more_valid[SS_Q_NCOUNTERS] = {5, 7};
    CHECK(load_values(1, T0, more_valid, 0) != SS_OK);
    /* garbled bytes of a real savepoint: refused or loaded, then counting goes on */
    struct ss_quality q;
    struct ss_out o;
    ss_out_init(&o);
    init(&q, 9500, 3);
    minute(&q, T0, 100, 10, &o);
    struct ss_buf b = {0};
    ss_quality_save(&q, &b);
    for (int t = 0; t < 2000; t++) {
        unsigned char *copy = ss_malloc(b.len);
        memcpy(copy, b.p, b.len);
        copy[rnd() % b.len] ^= (unsigned char)(1 + rnd() % 255);
        struct ss_quality x;
        init(&x, 9500, 3);
        struct ss_snap_r r = ss_snap_reader(copy, b.len);
        struct ss_err err = {0};
        (void)ss_quality_load(&x, &r, &err);
        minute(&x, T0 + 120000, 10, 1, &o);
        ss_quality_tick(&x, T0 + 180000, 1, &o);
        ss_free(copy);
    }
    ss_free(b.p);
    ss_out_free(&o);
}

int main(void) {
    RUN(rollover_and_counters);
    RUN(score_rounding);
    RUN(quality_alert);
    RUN(quality_alert_exact_ratio);
    RUN(save_restore_same_minute);
    RUN(save_restore_later_minute_and_streak);
    RUN(randomized_save_restore);
    RUN(damaged_savepoints_refused);
    return ss_t_report("quality");
}
