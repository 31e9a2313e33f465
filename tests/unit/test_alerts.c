/* test_alerts.c — high_value_order and velocity alerts (src/ops/alert.c) against
 * SEMANTICS §8, plus a randomized comparison of velocity with a brute-force model. */
#include <stdlib.h>

#include "core/alloc.h"
#include "core/timefmt.h"
#include "harness.h"
#include "op_fixture.h"
#include "ops/op.h"

#define RANGE 600000

static void fx_open_with(struct fx *f, int64_t high_value_threshold) {
    fx_init(f);
    f->cfg.high_value_threshold = high_value_threshold;
    f->cfg.velocity_count = 5;
    f->cfg.velocity_range_ms = RANGE;
    fx_start(f, &ss_op_alerts);
}

static void fx_open(struct fx *f) { fx_open_with(f, 10000000); /* 1000.00 */ }

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
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "e6", "u", NULL, 5 * M, 1, 1); /* 6 in range, disarmed */
    CHECK_EQ_INT(nrows(&f), 1);
    /* (t - range, t] at t = 10 min excludes the purchase at 0: still 5 (1..5 min) + this */
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "e7", "u", NULL, 10 * M, 1, 1);
    CHECK_EQ_INT(nrows(&f), 1);
    /* at 15 min + 1: (5 min + 1, ...] holds e7 and this: 2 < 5 re-arms */
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
    buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, "c5", "c", NULL, 1000002, 1, 1); /* 6 */
    CHECK_EQ_INT(nrows(&f), 2);
    CHECK_EQ_INT(row(&f, 1)[SS_AL_AMOUNT].i, 5); /* c0 c1 c2 c3 c5; c4 (1000003) is after t */
    CHECK_EQ_STR(row(&f, 1)[SS_AL_DETAIL].s, "{\"count\":5,\"range_ms\":600000}");
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

/* ---- randomized velocity against a brute-force model ------------------------------------ */

static uint64_t rng_state;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return rng_state;
}

struct p { int user; int64_t ts, amount; };

static void random_round(uint64_t seed) {
    rng_state = seed * 0x9e3779b97f4a7c15ULL + 3;
    struct fx f;
    fx_open_with(&f, INT64_MAX);
    int n = 200 + (int)(rnd() % 2000), nusers = 1 + (int)(rnd() % 5);
    struct p *acc = ss_calloc((size_t)n, sizeof *acc);
    int nacc = 0, armed[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    size_t nexp = 0, bad = 0;
    int64_t base = 0, w = SS_TS_MIN, mx = SS_TS_MIN;
    for (int i = 0; i < n; i++) {
        base += (int64_t)(rnd() % 60000);
        struct p x = {(int)(rnd() % (uint64_t)nusers), base - (int64_t)(rnd() % 900000), 1 + (int64_t)(rnd() % 100)};
        if (x.ts < w) continue;
        acc[nacc++] = x;
        int64_t count = 0, sum = 0;
        for (int k = 0; k < nacc; k++)
            if (acc[k].user == x.user && acc[k].ts > x.ts - RANGE && acc[k].ts <= x.ts) {
                count++;
                sum += acc[k].amount;
            }
        bool alert = false;
        if (count >= 5 && armed[x.user]) { alert = true; armed[x.user] = 0; }
        else if (count < 5) armed[x.user] = 1;
        char u[8], eid[16];
        snprintf(u, sizeof u, "u%d", x.user);
        snprintf(eid, sizeof eid, "e%d", i);
        size_t before = nrows(&f);
        buy(&f, SS_STREAM_CLICKS, SS_EV_PURCHASE, eid, u, NULL, x.ts, x.amount, 1);
        if (nrows(&f) != before + (alert ? 1 : 0)) bad++;
        else if (alert) {
            nexp++;
            struct ss_val *v = row(&f, before);
            char want[64];
            snprintf(want, sizeof want, "velocity:%s:%s", u, eid);
            if (strcmp(v[SS_AL_ALERT_ID].s, want) != 0 || v[SS_AL_AMOUNT].i != sum) bad++;
        }
        if (x.ts > mx) mx = x.ts;
        if (mx - 900000 > w) advance(&f, w = mx - 900000);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(nexp > 0 || n < 400);
    ss_free(acc);
    fx_close(&f);
}

TEST(randomized_velocity) {
    for (uint64_t seed = 1; seed <= 100; seed++) random_round(seed);
}

int main(void) {
    RUN(high_value);
    RUN(velocity_arm_disarm_rearm);
    RUN(velocity_range_boundary);
    RUN(history_eviction);
    RUN(randomized_velocity);
    return ss_t_report("alerts");
}
