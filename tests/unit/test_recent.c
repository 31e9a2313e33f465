/* test_recent.c — recently viewed (src/ops/recent.c) against SEMANTICS §9: distinct
 * products, ts desc then product_id asc, the size cap, the TTL, rows at flush only for
 * changed users, and the query function. */
#include "core/alloc.h"
#include "core/timefmt.h"
#include "harness.h"
#include "op_fixture.h"
#include "ops/op.h"
#include "ops/recent.h"

static void fx_open(struct fx *f, int64_t size, int64_t ttl) {
    fx_init(f);
    f->cfg.recent_size = size;
    f->cfg.recent_ttl_ms = ttl;
    fx_start(f, &ss_op_recent);
}

static void view(struct fx *f, const char *user, const char *product, int64_t ts, int type) {
    struct ss_event ev;
    memset(&ev, 0, sizeof ev);
    ev.stream = SS_STREAM_CLICKS;
    ev.type = (uint8_t)type;
    ev.ts = ts;
    ev.quantity = 1;
    ev.event_id = SS_STR_LIT("e");
    ev.user_id = ss_str_c(user);
    ev.product_id = ss_str_c(product);
    ev.user = ss_intern_get(f->in, ev.user_id);
    ev.product = ss_intern_get(f->in, ev.product_id);
    fx_process(f, &ev);
    ss_intern_sweep(f->in);
}

static size_t nrows(struct fx *f) { return f->out.t[SS_T_RECENTLY_VIEWED].n; }
static struct ss_val *row(struct fx *f, size_t i) { return ss_out_get(&f->out, SS_T_RECENTLY_VIEWED, i); }

TEST(distinct_and_ordered) {
    struct fx f;
    fx_open(&f, 20, 86400000);
    view(&f, "u", "p1", 100, SS_EV_VIEW);
    view(&f, "u", "p2", 200, SS_EV_VIEW);
    view(&f, "u", "p1", 300, SS_EV_VIEW);
    view(&f, "u", "pB", 250, SS_EV_VIEW);
    view(&f, "u", "pA", 250, SS_EV_VIEW);       /* same ts: product_id ascending */
    view(&f, "u", "p9", 999, SS_EV_CART_ADD);   /* not a view */
    view(&f, "w", "q\"1", 5, SS_EV_VIEW);
    CHECK_EQ_INT(nrows(&f), 0); /* rows only at flush */
    fx_flush(&f);
    CHECK_EQ_INT(nrows(&f), 2);
    struct ss_val *v = row(&f, 0);
    CHECK_EQ_STR(v[SS_RV_USER_ID].s, "u");
    CHECK_EQ_STR(v[SS_RV_PRODUCTS].s, "[\"p1\",\"pA\",\"pB\",\"p2\"]");
    CHECK_EQ_INT(v[SS_RV_LAST_VIEW_TS].i, 300);
    v = row(&f, 1);
    CHECK_EQ_STR(v[SS_RV_USER_ID].s, "w");
    CHECK_EQ_STR(v[SS_RV_PRODUCTS].s, "[\"q\\\"1\"]");
    CHECK_EQ_INT(v[SS_RV_LAST_VIEW_TS].i, 5);

    /* an older view of a listed product changes nothing: no row */
    view(&f, "u", "p2", 150, SS_EV_VIEW);
    fx_flush(&f);
    CHECK_EQ_INT(nrows(&f), 2);
    /* two changes between flushes: one row with the latest list */
    view(&f, "u", "p2", 400, SS_EV_VIEW);
    view(&f, "u", "p3", 350, SS_EV_VIEW);
    fx_flush(&f);
    CHECK_EQ_INT(nrows(&f), 3);
    CHECK_EQ_STR(row(&f, 2)[SS_RV_PRODUCTS].s, "[\"p2\",\"p3\",\"p1\",\"pA\",\"pB\"]");
    CHECK_EQ_INT(row(&f, 2)[SS_RV_LAST_VIEW_TS].i, 400);

    struct ss_str got[8];
    int64_t last = 0;
    CHECK_EQ_INT(ss_recent_get(f.op, SS_STR_LIT("u"), got, 8, &last), 5);
    CHECK(ss_str_eqc(got[0], "p2") && ss_str_eqc(got[4], "pB"));
    CHECK_EQ_INT(last, 400);
    CHECK_EQ_INT(ss_recent_get(f.op, SS_STR_LIT("u"), got, 2, NULL), 2);
    CHECK(ss_str_eqc(got[1], "p3"));
    CHECK_EQ_INT(ss_recent_get(f.op, SS_STR_LIT("nobody"), got, 8, &last), 0);
    fx_close(&f);
}

TEST(size_cap) {
    struct fx f;
    fx_open(&f, 3, 86400000);
    char p[16];
    for (int i = 1; i <= 5; i++) {
        snprintf(p, sizeof p, "p%d", i);
        view(&f, "u", p, i * 10, SS_EV_VIEW);
    }
    fx_flush(&f);
    CHECK_EQ_STR(row(&f, 0)[SS_RV_PRODUCTS].s, "[\"p5\",\"p4\",\"p3\"]");
    view(&f, "u", "p1", 25, SS_EV_VIEW); /* older than the last kept: stays out */
    view(&f, "u", "p0", 30, SS_EV_VIEW); /* ties p3 at 30 and sorts before it: p3 falls off */
    fx_flush(&f);
    CHECK_EQ_INT(nrows(&f), 2);
    CHECK_EQ_STR(row(&f, 1)[SS_RV_PRODUCTS].s, "[\"p5\",\"p4\",\"p0\"]");
    view(&f, "u", "p3", 30, SS_EV_VIEW); /* (30, p3) sorts after (30, p0): stays out */
    view(&f, "u", "p1", 60, SS_EV_VIEW); /* re-enters on top */
    fx_flush(&f);
    CHECK_EQ_INT(nrows(&f), 3);
    CHECK_EQ_STR(row(&f, 2)[SS_RV_PRODUCTS].s, "[\"p1\",\"p5\",\"p4\"]");
    CHECK_EQ_INT(row(&f, 2)[SS_RV_LAST_VIEW_TS].i, 60);
    fx_close(&f);
}

TEST(ttl) {
    struct fx f;
    fx_open(&f, 20, 1000);
    view(&f, "u", "p1", 300, SS_EV_VIEW);
    view(&f, "v", "p1", 100, SS_EV_VIEW);
    fx_flush(&f);
    CHECK_EQ_INT(nrows(&f), 2);
    view(&f, "u", "p2", 500, SS_EV_VIEW); /* u changed, not yet flushed */
    advance(&f, 1100);                    /* 100 + 1000 < 1100 is false */
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 2);
    advance(&f, 1101); /* v dropped: it had no pending change, so no row */
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 1);
    CHECK_EQ_INT(nrows(&f), 2);
    advance(&f, 1501); /* u dropped with its pending change: the row goes out now */
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 0);
    CHECK_EQ_INT(nrows(&f), 3);
    CHECK_EQ_STR(row(&f, 2)[SS_RV_PRODUCTS].s, "[\"p2\",\"p1\"]");
    fx_flush(&f);
    CHECK_EQ_INT(nrows(&f), 3);
    ss_intern_sweep(f.in);
    CHECK_EQ_INT(ss_intern_live(f.in), 0);
    view(&f, "u", "p3", 1600, SS_EV_VIEW); /* a new list */
    fx_flush(&f);
    CHECK_EQ_INT(nrows(&f), 4);
    CHECK_EQ_STR(row(&f, 3)[SS_RV_PRODUCTS].s, "[\"p3\"]");
    advance(&f, 2601); /* after a time with no list at all, the new one expires too */
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 0);
    fx_close(&f);
}

int main(void) {
    RUN(distinct_and_ordered);
    RUN(size_cap);
    RUN(ttl);
    return ss_t_report("recent");
}
