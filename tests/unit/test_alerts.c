/* test_alerts.c — high_value_order and velocity alerts (src/ops/alert.c) against
 * SEMANTICS §8: hand-computed cases, a randomized comparison of velocity with a
 * brute-force model of the §8 rule (any arrival order), and one of in-order streams with
 * DESIGN §4's rule simulated in event time (re-arm when the sliding count drops below N). */
#include <stdlib.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/snap.h"
#include "core/timefmt.h"
#include "harness.h"
#include "op_fixture.h"
#include "ops/op.h"

#define RANGE 600000

static void fx_open_n(struct fx *f, int64_t high_value_threshold, int64_t n) {
    fx_init(f);
    f->cfg.high_value_threshold = high_value_threshold;
    f->cfg.velocity_count = n;
    f->cfg.velocity_range_ms = RANGE;
    fx_start(f, &ss_op_alerts);
}

static void fx_open(struct fx *f) { fx_open_n(f, 10000000 /* 1000.00 */, 5); }

static void buy(struct fx *f, int stream, int type, const char *eid, const char *user, const char *order, int64_t ts,
                int64_t price, int32_t qty) {
    struct ss_event ev;
    memset(&ev, 0, sizeof ev);
    ev.stream = (uint8_t)stream;
    ev.type = (uint8_t)type;
    ev.ts = ts;
    ev.price = price;
    ev.has_price = 1;
    ev.quantity = qty;
    ev.event_id = ss_str_c(eid);
    ev.user_id = ss_str_c(user);
    ev.product_id = SS_STR_LIT("p");
    ev.order_id = order ? ss_str_c(order) : SS_STR_NULL;
    ev.user = ss_intern_get(f->in, ev.user_id);
    ev.product = ss_intern_get(f->in, ev.product_id);
    fx_process(f, &ev);
    ss_intern_sweep(f->in);
}

static size_t nrows(struct fx *f) { return f->out.t[SS_T_ALERTS].n; }
static struct ss_val *row(struct fx *f, size_t i) { return ss_out_get(&f->out, SS_T_ALERTS, i); }

/* a click purchase of quantity 1 whose amount is `amount` (ten-thousandths) */
static void vbuy(struct fx *f, const char *eid, const char *user, int64_t ts, int64_t amount) {
    buy(f, SS_STREAM_CLICKS, SS_EV_PURCHASE, eid, user, NULL, ts, amount, 1);
}

/* n purchases by user, named prefix0, prefix1, ..., at t0, t0 + step, ..., of amounts
 * amount, amount + amount_step, ... */
static void vbuys(struct fx *f, const char *prefix, const char *user, int n, int64_t t0, int64_t step, int64_t amount,
                  int64_t amount_step) {
    char eid[16];
    for (int i = 0; i < n; i++) {
        snprintf(eid, sizeof eid, "%s%d", prefix, i);
        vbuy(f, eid, user, t0 + i * step, amount + i * amount_step);
    }
}

/* row i is the velocity alert of purchase eid by user at ts, with amount and count */
static void check_velocity(struct fx *f, size_t i, const char *user, const char *eid, int64_t ts, int64_t amount,
                           int count) {
    CHECK(i < nrows(f));
    if (i >= nrows(f)) return;
    struct ss_val *v = row(f, i);
    char want[64];
    snprintf(want, sizeof want, "velocity:%s:%s", user, eid);
    CHECK_EQ_STR(v[SS_AL_ALERT_ID].s, want);
    CHECK_EQ_STR(v[SS_AL_KIND].s, "velocity");
    CHECK_EQ_STR(v[SS_AL_USER_ID].s, user);
    CHECK_EQ_INT(v[SS_AL_ORDER_ID].null, 1);
    CHECK_EQ_INT(v[SS_AL_TS].i, ts);
    CHECK_EQ_INT(v[SS_AL_AMOUNT].i, amount);
    snprintf(want, sizeof want, "{\"count\":%d,\"range_ms\":600000}", count);
    CHECK_EQ_STR(v[SS_AL_DETAIL].s, want);
}

TEST(high_value) {
    struct fx f;
    fx_open(&f);
    buy(&f, SS_STREAM_ORDERS, SS_EV_PURCHASE, "o1", "u1", "o1", 5000, 5000000, 2); /* exactly 1000.00 */
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "c1", "u2", NULL, 6000, 3333333, 3);  /* 999.9999 */
    buy(&f, SS_STREAM_CLICKS, SS_EV_VIEW, "c2", "u2", NULL, 6000, 99999999, 3);     /* not a purchase */
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "c3", "u3", NULL, 7000, 12345678, 1);
    CHECK_EQ_INT(nrows(&f), 2);
    struct ss_val *v = row(&f, 0);
    CHECK_EQ_STR(v[SS_AL_ALERT_ID].s, "high_value_order:o1");
    CHECK_EQ_STR(v[SS_AL_KIND].s, "high_value_order");
    CHECK_EQ_STR(v[SS_AL_USER_ID].s, "u1");
    CHECK_EQ_STR(v[SS_AL_ORDER_ID].s, "o1");
    CHECK_EQ_INT(v[SS_AL_ORDER_ID].null, 0);
    CHECK_EQ_INT(v[SS_AL_AMOUNT].i, 10000000);
    CHECK_EQ_INT(v[SS_AL_TS].i, 5000);
    CHECK_EQ_STR(v[SS_AL_DETAIL].s, "{\"threshold\":\"1000.00\"}");
    v = row(&f, 1);
    CHECK_EQ_STR(v[SS_AL_ALERT_ID].s, "high_value_order:c3");
    CHECK_EQ_INT(v[SS_AL_ORDER_ID].null, 1);
    CHECK_EQ_INT(v[SS_AL_AMOUNT].i, 12345678);
    fx_close(&f);
}

TEST(velocity_arm_disarm_rearm) {
    struct fx f;
    fx_open(&f);
    const int64_t M = 60000;
    char eid[16];
    for (int i = 0; i < 4; i++) {
        snprintf(eid, sizeof eid, "e%d", i + 1);
        buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, eid, "u", NULL, i * M, 10000 * (i + 1), 1);
    }
    CHECK_EQ_INT(nrows(&f), 0);
    buy(&f, SS_STREAM_ORDERS, SS_EV_PURCHASE, "e5", "u", "e5", 4 * M, 50000, 1); /* 5th in range */
    CHECK_EQ_INT(nrows(&f), 1);
    struct ss_val *v = row(&f, 0);
    CHECK_EQ_STR(v[SS_AL_ALERT_ID].s, "velocity:u:e5");
    CHECK_EQ_STR(v[SS_AL_KIND].s, "velocity");
    CHECK_EQ_STR(v[SS_AL_USER_ID].s, "u");
    CHECK_EQ_STR(v[SS_AL_ORDER_ID].s, "e5");
    CHECK_EQ_INT(v[SS_AL_AMOUNT].i, 150000); /* 1+2+3+4+5 */
    CHECK_EQ_INT(v[SS_AL_TS].i, 4 * M);
    CHECK_EQ_STR(v[SS_AL_DETAIL].s, "{\"count\":5,\"range_ms\":600000}");
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "e6", "u", NULL, 5 * M, 1, 1); /* before 5: disarmed */
    CHECK_EQ_INT(nrows(&f), 1);
    /* (t - range, t] at t = 10 min excludes the purchase at 0: before = 5 (1..5 min), the
     * count never fell below 5, no re-arm */
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "e7", "u", NULL, 10 * M, 1, 1);
    CHECK_EQ_INT(nrows(&f), 1);
    /* at 15 min + 1: (5 min + 1, ...] holds e7: before 1 < 5 re-arms */
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "e8", "u", NULL, 15 * M + 1, 1, 1);
    for (int i = 0; i < 2; i++) {
        snprintf(eid, sizeof eid, "f%d", i);
        buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, eid, "u", NULL, 15 * M + 2 + i, 1, 1);
    }
    CHECK_EQ_INT(nrows(&f), 1);
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "g", "u", NULL, 15 * M + 10, 7, 1); /* e7 e8 f0 f1 g = 5 */
    CHECK_EQ_INT(nrows(&f), 2);
    CHECK_EQ_STR(row(&f, 1)[SS_AL_ALERT_ID].s, "velocity:u:g");
    CHECK_EQ_INT(row(&f, 1)[SS_AL_AMOUNT].i, 11);
    fx_close(&f);
}

/* the lower bound of (t - range, t] is open: a purchase at exactly t - range is out */
TEST(velocity_range_boundary) {
    struct fx f;
    fx_open(&f);
    int64_t ts[] = {0, 100, 200, 300};
    char eid[16];
    for (int i = 0; i < 4; i++) {
        snprintf(eid, sizeof eid, "a%d", i);
        buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, eid, "a", NULL, ts[i], 1, 1);
        snprintf(eid, sizeof eid, "b%d", i);
        buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, eid, "b", NULL, ts[i] + 1, 1, 1);
    }
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "a-last", "a", NULL, RANGE, 1, 1);     /* 0 is out: 4 */
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "b-last", "b", NULL, RANGE, 1, 1);     /* 1 is in: 5 */
    CHECK_EQ_INT(nrows(&f), 1);
    CHECK_EQ_STR(row(&f, 0)[SS_AL_ALERT_ID].s, "velocity:b:b-last");
    /* out of order: a purchase older than the rest counts only what is in its own range */
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "c1", "c", NULL, 1000000, 1, 1);
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "c2", "c", NULL, 1000001, 1, 1);
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "c3", "c", NULL, 1000002, 1, 1);
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "c4", "c", NULL, 1000003, 1, 1);
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "c0", "c", NULL, 999999, 1, 1); /* (399999, 999999]: 1 */
    CHECK_EQ_INT(nrows(&f), 1);
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "c5", "c", NULL, 1000002, 1, 1); /* before: c0 c1 c2 c3 */
    CHECK_EQ_INT(nrows(&f), 2);
    CHECK_EQ_INT(row(&f, 1)[SS_AL_AMOUNT].i, 5); /* c0 c1 c2 c3 c5; c4 (1000003) is after t */
    CHECK_EQ_STR(row(&f, 1)[SS_AL_DETAIL].s, "{\"count\":5,\"range_ms\":600000}");
    fx_close(&f);
}

#define MIN 60000

/* The count re-arms between purchases: 0, 2.1, 4.2, 6.3, 8.4 min alert at 8.4; at 10.0
 * the purchase at 0 leaves the range (4 left), so the one at 10.5 is a new 5th in 10 min.
 * (The old rule, count at arrival only, saw 5 at 10.5 and stayed silent.) */
TEST(velocity_rearm_between_purchases) {
    struct fx f;
    fx_open(&f);
    const int64_t step = 126000; /* 2.1 min */
    vbuys(&f, "p", "u", 5, 0, step, 10000, 10000); /* 1.00, 2.00, ... */
    CHECK_EQ_INT(nrows(&f), 1);
    check_velocity(&f, 0, "u", "p4", 4 * step, 150000, 5); /* 1+2+3+4+5 */
    vbuy(&f, "p5", "u", 5 * step, 60000);                 /* (0.5 min, 10.5 min]: p1..p4 */
    CHECK_EQ_INT(nrows(&f), 2);
    check_velocity(&f, 1, "u", "p5", 5 * step, 200000, 5); /* 2+3+4+5+6 */
    fx_close(&f);
}

/* A steady purchase every 2.1 min: (t - 10 min, t] always holds this one and the four
 * before it (8.4 min back; 10.5 is out), so every purchase from the 5th on alerts. */
TEST(velocity_steady_stream) {
    struct fx f;
    fx_open(&f);
    const int64_t step = 126000;
    char eid[16];
    for (int i = 0; i < 30; i++) {
        snprintf(eid, sizeof eid, "s%d", i);
        vbuy(&f, eid, "u", 1000000 + i * step, 10000);
        size_t want = i < 4 ? 0 : (size_t)(i - 3);
        CHECK_EQ_INT(nrows(&f), want);
        if (i >= 4) check_velocity(&f, (size_t)(i - 4), "u", eid, 1000000 + i * step, 50000, 5);
        if (i % 3 == 2) advance(&f, 1000000 + (i - 8) * step); /* history eviction must not change it */
    }
    fx_close(&f);
}

/* A burst of 5 alerts once; a 6th still within range of all 5 finds before = 5: the count
 * never dropped below 5, no alert. Neither does a 7th at the instant the first leaves
 * (before = 5 again: 4 of the burst and the 6th). */
TEST(velocity_burst_then_sixth) {
    struct fx f;
    fx_open(&f);
    vbuys(&f, "b", "u", 5, 0, 1000, 10000, 0);
    CHECK_EQ_INT(nrows(&f), 1);
    check_velocity(&f, 0, "u", "b4", 4000, 50000, 5);
    vbuy(&f, "b5", "u", 9 * MIN, 10000);
    CHECK_EQ_INT(nrows(&f), 1);
    vbuy(&f, "b6", "u", RANGE, 10000); /* (0, 10 min]: b1..b5 */
    CHECK_EQ_INT(nrows(&f), 1);
    fx_close(&f);
}

/* Half-open (t - range, t]: a purchase at exactly t - range has left. Users a and b both
 * buy at 0, 1, 2, 3, 4 min (alert at 4). a's 6th at 10 min - 1 ms still has the one at 0
 * in range (before 5): silent. b's 6th at exactly 10 min does not (before 4): re-armed, alert. */
TEST(velocity_rearm_boundary) {
    struct fx f;
    fx_open(&f);
    vbuys(&f, "a", "a", 5, 0, MIN, 10000, 10000);
    vbuys(&f, "b", "b", 5, 0, MIN, 10000, 10000);
    CHECK_EQ_INT(nrows(&f), 2);
    check_velocity(&f, 0, "a", "a4", 4 * MIN, 150000, 5);
    check_velocity(&f, 1, "b", "b4", 4 * MIN, 150000, 5);
    vbuy(&f, "a5", "a", RANGE - 1, 60000);
    CHECK_EQ_INT(nrows(&f), 2);
    vbuy(&f, "b5", "b", RANGE, 60000);
    CHECK_EQ_INT(nrows(&f), 3);
    check_velocity(&f, 2, "b", "b5", RANGE, 200000, 5); /* 2+3+4+5+6: the 1.00 at 0 is out */
    fx_close(&f);
}

/* Purchases with the same ts: an earlier arrival at t is in the later one's range. */
TEST(velocity_same_ts) {
    struct fx f;
    fx_open(&f);
    /* six at one instant: the 5th alerts, the 6th (before 5) does not */
    vbuys(&f, "x", "x", 6, 5000, 0, 10000, 0);
    CHECK_EQ_INT(nrows(&f), 1);
    check_velocity(&f, 0, "x", "x4", 5000, 50000, 5);
    /* 0..4 min alert at 4; two at 10 min: the first finds 1..4 min (4, re-armed) and
     * alerts, the second finds those and the first (5) and does not */
    vbuys(&f, "y", "y", 5, 0, MIN, 10000, 0);
    CHECK_EQ_INT(nrows(&f), 2);
    vbuy(&f, "y5", "y", RANGE, 20000);
    vbuy(&f, "y6", "y", RANGE, 30000);
    CHECK_EQ_INT(nrows(&f), 3);
    check_velocity(&f, 2, "y", "y5", RANGE, 60000, 5);
    fx_close(&f);
}

/* Out of order: a purchase counts only the purchases with ts <= its own in its range;
 * the armed flag is the user's, whatever the ts. */
TEST(velocity_out_of_order) {
    struct fx f;
    fx_open(&f);
    vbuys(&f, "o", "u", 4, 10 * MIN, MIN, 10000, 10000); /* 10..13 min: before 0..3 */
    vbuy(&f, "t20", "u", 20 * MIN, 990000); /* (10, 20 min]: 11..13 min, before 3 */
    CHECK_EQ_INT(nrows(&f), 0);
    /* 14 min arrives after 20 min: (4, 14 min] holds 10..13 (before 4), not 20 */
    vbuy(&f, "o14", "u", 14 * MIN, 50000);
    CHECK_EQ_INT(nrows(&f), 1);
    check_velocity(&f, 0, "u", "o14", 14 * MIN, 150000, 5);
    vbuy(&f, "o14b", "u", 14 * MIN + 30000, 10000); /* before 5 (10..14): disarmed, silent */
    CHECK_EQ_INT(nrows(&f), 1);
    /* 3 min: (-7, 3 min] is empty, before 0 < 5: re-arms the user ... */
    vbuy(&f, "o3", "u", 3 * MIN, 10000);
    CHECK_EQ_INT(nrows(&f), 1);
    /* ... so 14.6 min, with 10, 11, 12, 13, 14, 14.5 in (4.6, 14.6] (before 6), alerts */
    vbuy(&f, "o14c", "u", 14 * MIN + 36000, 10000);
    CHECK_EQ_INT(nrows(&f), 2);
    check_velocity(&f, 1, "u", "o14c", 14 * MIN + 36000, 170000, 7);
    fx_close(&f);
}

TEST(history_eviction) {
    struct fx f;
    fx_open(&f);
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "x", "u", NULL, 1000, 1, 1);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 1);
    advance(&f, 1000 + RANGE - 1);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 1);
    advance(&f, 1000 + RANGE); /* ts <= W - range */
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 0);
    ss_intern_sweep(f.in);
    CHECK_EQ_INT(ss_intern_live(f.in), 0);
    /* after a time with no history at all, a new one is evicted too */
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "y", "u", NULL, 5 * RANGE, 1, 1);
    advance(&f, 6 * RANGE);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 0);
    fx_close(&f);
}

/* N = 1: every purchase with nothing else in its range alerts, and disarms the user. Once
 * the history is gone the next purchase finds before = 0 and re-arms anyway, so a disarmed
 * user is forgotten like an armed one (state stays bounded by the purchases in range). */
TEST(history_eviction_disarmed) {
    struct fx f;
    fx_open_n(&f, 10000000, 1);
    vbuy(&f, "a", "u", 1000, 10000);
    vbuy(&f, "b", "u", 2000, 10000); /* before 1: no re-arm */
    CHECK_EQ_INT(nrows(&f), 1);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 1);
    advance(&f, 2000 + RANGE);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 0);
    vbuy(&f, "c", "u", 2000 + RANGE, 10000);
    CHECK_EQ_INT(nrows(&f), 2);
    check_velocity(&f, 1, "u", "c", 2000 + RANGE, 10000, 1);
    fx_close(&f);
}

TEST(velocity_count_below_one_is_refused) {
    struct ss_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.velocity_range_ms = RANGE;
    struct ss_op_env env = {.cfg = &cfg, .intern = NULL};
    struct ss_err err;
    struct ss_op *op = NULL;
    CHECK_EQ_INT(ss_op_alerts.open(&op, &env, &err), SS_EUSAGE);
    CHECK(op == NULL);
}

/* ---- randomized velocity against brute-force models ------------------------------------ */

static uint64_t rng_state;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return rng_state;
}

struct p { int user; int64_t ts, amount; };

/* buys x as event e<i> and checks that it raised exactly the alert expected (or none);
 * returns the number of mismatches */
static size_t buy_and_check(struct fx *f, int i, struct p x, bool alert, int64_t sum) {
    char u[8], eid[16];
    snprintf(u, sizeof u, "u%d", x.user);
    snprintf(eid, sizeof eid, "e%d", i);
    size_t before = nrows(f);
    vbuy(f, eid, u, x.ts, x.amount);
    if (nrows(f) != before + (alert ? 1 : 0)) return 1;
    if (!alert) return 0;
    struct ss_val *v = row(f, before);
    char want[64];
    snprintf(want, sizeof want, "velocity:%s:%s", u, eid);
    return strcmp(v[SS_AL_ALERT_ID].s, want) != 0 || v[SS_AL_AMOUNT].i != sum;
}

/* Any arrival order (ts up to 15 min behind the newest, W = newest - 15 min so nothing is
 * late), N of 1, 2 or 5. The model is SEMANTICS §8 read literally, over every purchase
 * accepted so far: before = those of the user in (t - range, t]; before < N arms;
 * before + 1 >= N while armed alerts and disarms. */
/* With restore, the operator is also saved and restored at random points (and high
 * value alerts are on): it must still agree with the model, and at the end its rows
 * with those of its uninterrupted twin. */
static void random_round(uint64_t seed, bool restore) {
    rng_state = seed * 0x9e3779b97f4a7c15ULL + 3;
    const int64_t N = seed % 3 == 0 ? 1 : seed % 3 == 1 ? 5 : 2;
    struct fx f;
    fx_open_n(&f, restore ? 95 : INT64_MAX, N);
    int n = 200 + (int)(rnd() % 2000), nusers = 1 + (int)(rnd() % 5);
    struct p *acc = ss_calloc((size_t)n, sizeof *acc);
    int nacc = 0, armed[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    size_t nexp = 0, bad = 0;
    int64_t base = 0, w = SS_TS_MIN, mx = SS_TS_MIN;
    for (int i = 0; i < n; i++) {
        base += (int64_t)(rnd() % 60000);
        struct p x = {(int)(rnd() % (uint64_t)nusers), base - (int64_t)(rnd() % 900000), 1 + (int64_t)(rnd() % 100)};
        if (x.ts < w) continue;
        int64_t before = 0, sum = x.amount;
        for (int k = 0; k < nacc; k++)
            if (acc[k].user == x.user && acc[k].ts > x.ts - RANGE && acc[k].ts <= x.ts) {
                before++;
                sum += acc[k].amount;
            }
        acc[nacc++] = x;
        if (before < N) armed[x.user] = 1;
        bool alert = before + 1 >= N && armed[x.user];
        if (alert) armed[x.user] = 0;
        nexp += alert;
        if (!restore) bad += buy_and_check(&f, i, x, alert, sum);
        else { /* a high value alert may come first */
            char u[8], eid[16];
            snprintf(u, sizeof u, "u%d", x.user);
            snprintf(eid, sizeof eid, "e%d", i);
            size_t before_rows = nrows(&f);
            vbuy(&f, eid, u, x.ts, x.amount);
            size_t velocity_rows = 0;
            for (size_t r = before_rows; r < nrows(&f); r++)
                if (!strcmp(row(&f, r)[SS_AL_KIND].s, "velocity")) {
                    velocity_rows++;
                    bad += row(&f, r)[SS_AL_AMOUNT].i != sum;
                }
            bad += velocity_rows != (alert ? 1u : 0u);
            if (rnd() % 40 == 0) fx_save_restore(&f);
        }
        if (x.ts > mx) mx = x.ts;
        if (mx - 900000 > w) advance(&f, w = mx - 900000);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(nexp > 0 || n < 400);
    if (restore) {
        fx_save_restore(&f);
        advance(&f, SS_TS_MAX);
        fx_rows_match(&f.out, &f.twin_out, SS_T_ALERTS);
    }
    ss_free(acc);
    fx_close(&f);
}

TEST(randomized_velocity) {
    for (uint64_t seed = 1; seed <= 100; seed++) random_round(seed, false);
}

/* Purchases in ts order (ties included), N = 5: the model is DESIGN §4 simulated in event
 * time. Each user keeps the ts of the purchases in range, oldest first; before a purchase
 * at t, those with ts <= t - range leave one by one, and the user re-arms whenever a
 * departure leaves fewer than N; the purchase then joins, and if that makes N or more
 * while armed it alerts and disarms. SEMANTICS §8's rule at arrivals must agree. */
static void design_round(uint64_t seed) {
    rng_state = seed * 0x2545f4914f6cdd1dULL + 11;
    struct fx f;
    fx_open(&f);
    enum { NU = 4 };
    int n = 300 + (int)(rnd() % 1500);
    int64_t *q[NU], sumq[NU], *amt[NU];
    int head[NU], tail[NU], armed[NU];
    for (int u = 0; u < NU; u++) {
        q[u] = ss_calloc((size_t)n, sizeof *q[u]);
        amt[u] = ss_calloc((size_t)n, sizeof *amt[u]);
        head[u] = tail[u] = 0;
        sumq[u] = 0;
        armed[u] = 1;
    }
    int64_t t = 0, gapmax = 1 + (int64_t)(rnd() % 240000);
    size_t nexp = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        if (rnd() % 4) t += (int64_t)(rnd() % (uint64_t)gapmax); /* else same ts as the one before */
        if (rnd() % 16 == 0) t += RANGE - 1 + (int64_t)(rnd() % 3); /* a range apart, give or take 1 ms */
        struct p x = {(int)(rnd() % NU), t, 1 + (int64_t)(rnd() % 100)};
        int u = x.user;
        while (head[u] < tail[u] && q[u][head[u]] + RANGE <= x.ts) { /* leaves at q + range */
            sumq[u] -= amt[u][head[u]];
            head[u]++;
            if (tail[u] - head[u] < 5) armed[u] = 1;
        }
        q[u][tail[u]] = x.ts;
        amt[u][tail[u]++] = x.amount;
        sumq[u] += x.amount;
        bool alert = tail[u] - head[u] >= 5 && armed[u];
        if (alert) armed[u] = 0;
        nexp += alert;
        bad += buy_and_check(&f, i, x, alert, sumq[u]);
        if (i % 7 == 0) advance(&f, t); /* in order: nothing is late at W = t */
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(nexp > 0);
    for (int u = 0; u < NU; u++) {
        ss_free(q[u]);
        ss_free(amt[u]);
    }
    fx_close(&f);
}

TEST(in_order_velocity_is_design) {
    for (uint64_t seed = 1; seed <= 100; seed++) design_round(seed);
}


/* ---- savepoints ------------------------------------------------------------------------- */


TEST(savepoint_randomized) {
    for (uint64_t seed = 1; seed <= 40; seed++) random_round(seed, true);
}

/* Empty state; a user armed, one disarmed, purchases that leave exactly at the save's
 * watermark; a heap entry made late by an out-of-order purchase, rebuilt earlier (the
 * fixture checks that the loaded operator keeps and forgets users when its twin
 * does). N = 2. */
TEST(savepoint_edges) {
    struct fx f;
    fx_open_n(&f, 10000000, 2);
    fx_save_restore(&f);
    vbuy(&f, "a0", "a", 0, 100);
    vbuy(&f, "b0", "b", 0, 100);
    vbuy(&f, "b1", "b", 10, 200); /* alert, b disarmed */
    CHECK_EQ_INT(nrows(&f), 1);
    vbuy(&f, "c0", "c", 5000, 300);
    vbuy(&f, "c1", "c", 1000 - RANGE, 400); /* older than c's oldest: c's entry is late; no alert */
    CHECK_EQ_INT(nrows(&f), 1);
    advance(&f, RANGE - 1); /* a's and b's first purchases leave at W = RANGE: not yet */
    fx_save_restore(&f);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 3);
    vbuy(&f, "a1", "a", 500, 50); /* a armed: alert with both */
    CHECK_EQ_INT(nrows(&f), 2);
    check_velocity(&f, 1, "a", "a1", 500, 150, 2);
    vbuy(&f, "b2", "b", 20, 1); /* b still disarmed: 3 in range, no alert */
    CHECK_EQ_INT(nrows(&f), 2);
    fx_save_restore(&f);
    advance(&f, RANGE); /* a0, b0 leave; c's late entry is not due yet */
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 3);
    fx_save_restore(&f);
    advance(&f, RANGE + 15); /* b's history: b2 only; c1 could go, but c's entry is not due */
    fx_save_restore(&f);
    vbuy(&f, "b3", "b", RANGE + 19, 7); /* 2 in range, 1 before < 2: re-armed, alert */
    CHECK_EQ_INT(nrows(&f), 3);
    check_velocity(&f, 2, "b", "b3", RANGE + 19, 8, 2);
    advance(&f, 5000 + RANGE); /* c's entry comes up */
    fx_save_restore(&f);
    advance(&f, SS_TS_MAX);
    fx_rows_match(&f.out, &f.twin_out, SS_T_ALERTS);
    fx_close(&f);
}

/* ---- damaged savepoints: refused, and the operator closes clean ---- */

static void put_user(struct ss_buf *b, const char *user, uint8_t armed, int64_t n, const int64_t *ts, int nts) {
    ss_snap_str(b, ss_str_c(user));
    ss_snap_u8(b, armed);
    ss_snap_i64(b, n);
    for (int i = 0; i < nts; i++) {
        ss_snap_i64(b, ts[i]);
        ss_snap_i64(b, 100 + i);
    }
}

/* Loads b into a fresh operator: the code it returned; the operator is closed and the
 * intern table must hold nothing afterwards. */
static int try_load(const struct ss_buf *b, bool whole) {
    struct ss_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.high_value_threshold = 10000000;
    cfg.velocity_count = 2;
    cfg.velocity_range_ms = RANGE;
    return fx_try_load(&ss_op_alerts, &cfg, b, whole);
}

TEST(savepoint_damaged) {
    struct ss_buf b = {0};
    int64_t ok[3] = {100, 100, 5000};
    fx_snap_head(&b, "alerts", 1, 2);
    put_user(&b, "u", 1, 3, ok, 3);
    put_user(&b, "v", 0, 3, ok, 3);
    CHECK_EQ_INT(try_load(&b, true), SS_OK); /* the builder writes what save writes */

    fx_snap_head(&b, "sessions", 1, 0);
    CHECK(try_load(&b, true) != SS_OK);
    fx_snap_head(&b, "alerts", 3, 0);
    CHECK(try_load(&b, true) != SS_OK);
    fx_snap_head(&b, "alerts", 1, (int64_t)1 << 40);
    CHECK(try_load(&b, true) != SS_OK);

    /* each after a good user, so that the failure leaves state for close to release */
    struct { uint8_t armed; int64_t ts[2]; } bad[] = {
        {2, {100, 200}},                    /* armed neither 0 nor 1 */
        {1, {200, 100}},                    /* not sorted */
        {1, {SS_TS_EVENT_MIN - 1, 0}},      /* not an event's time */
        {1, {0, SS_TS_EVENT_MAX + 1}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_snap_head(&b, "alerts", 1, 2);
        put_user(&b, "good", 1, 3, ok, 3);
        put_user(&b, "x", bad[i].armed, 2, bad[i].ts, 2);
        CHECK(try_load(&b, true) != SS_OK);
    }
    fx_snap_head(&b, "alerts", 1, 2); /* no purchases */
    put_user(&b, "good", 1, 3, ok, 3);
    put_user(&b, "x", 1, 0, NULL, 0);
    put_user(&b, "padding", 0, 0, ok, 3);
    CHECK(try_load(&b, false) != SS_OK);
    fx_snap_head(&b, "alerts", 1, 2); /* a user twice */
    put_user(&b, "u", 1, 1, ok, 1);
    put_user(&b, "u", 1, 1, ok, 1);
    CHECK(try_load(&b, true) != SS_OK);

    /* garbled bytes of a real savepoint: refused or loaded, never a crash or a leak */
    rng_state = 77;
    struct fx f;
    fx_open_n(&f, 10000000, 2);
    char u[16], eid[16];
    for (int i = 0; i < 40; i++) {
        snprintf(u, sizeof u, "u%d", (int)(rnd() % 5));
        snprintf(eid, sizeof eid, "e%d", i);
        vbuy(&f, eid, u, (int64_t)(rnd() % (2 * RANGE)), 100);
    }
    struct ss_buf s = {0};
    f.op->type->save(f.op, &s);
    int refused = 0;
    for (int k = 0; k < 2000; k++) {
        b.len = 0;
        ss_buf_add(&b, s.p, s.len);
        for (int j = 0, nflip = 1 + (int)(rnd() % 3); j < nflip; j++)
            ((unsigned char *)b.p)[rnd() % b.len] ^= (unsigned char)(1u << (rnd() % 8));
        refused += try_load(&b, false) != SS_OK;
    }
    CHECK(refused > 0);
    ss_free(s.p);
    fx_close(&f);
    ss_free(b.p);
}

int main(void) {
    RUN(high_value);
    RUN(velocity_arm_disarm_rearm);
    RUN(velocity_range_boundary);
    RUN(velocity_rearm_between_purchases);
    RUN(velocity_steady_stream);
    RUN(velocity_burst_then_sixth);
    RUN(velocity_rearm_boundary);
    RUN(velocity_same_ts);
    RUN(velocity_out_of_order);
    RUN(history_eviction);
    RUN(history_eviction_disarmed);
    RUN(velocity_count_below_one_is_refused);
    RUN(randomized_velocity);
    RUN(in_order_velocity_is_design);
    RUN(savepoint_edges);
    RUN(savepoint_randomized);
    RUN(savepoint_damaged);
    return ss_t_report("alerts");
}
