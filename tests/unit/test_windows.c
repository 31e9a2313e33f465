/* test_windows.c — the window operators (src/ops/tumbling.c, category_revenue.c,
 * hourly_sales.c, funnel.c, trending.c) against hand-computed rows and a brute-force
 * recomputation of SEMANTICS §5 over random event streams. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/intern.h"
#include "core/table.h"
#include "core/timefmt.h"
#include "ops/op.h"
#include "harness.h"
#include "op_wake.h"

/* ---- helpers ---------------------------------------------------------------------- */

static struct ss_config base_cfg(void) {
    struct ss_config c;
    memset(&c, 0, sizeof c);
    c.category_revenue_ms = 60000;
    c.hourly_sales_ms = 3600000;
    c.trending_size_ms = 600000;
    c.trending_slide_ms = 60000;
    c.trending_top = 20;
    c.funnel_ms = 3600000;
    return c;
}

static struct ss_op *open_op(const struct ss_op_type *type, const struct ss_config *cfg, struct ss_intern *in) {
    struct ss_op_env env = {cfg, in};
    struct ss_op *op = NULL;
    struct ss_err err = {0};
    int rc = type->open(&op, &env, &err);
    CHECK_EQ_INT(rc, SS_OK);
    if (rc) fprintf(stderr, "open %s: %s\n", type->name, err.msg);
    else op->wake = SS_TS_MIN; /* as the engine does */
    return op;
}

static struct ss_event mk(struct ss_intern *in, int stream, int type, int64_t ts, const char *user,
                          const char *product, const char *cat, int64_t price, int32_t qty) {
    struct ss_event ev;
    memset(&ev, 0, sizeof ev);
    ev.stream = (uint8_t)stream;
    ev.type = (uint8_t)type;
    ev.ts = ts;
    ev.price = price;
    ev.has_price = price != 0;
    ev.quantity = qty;
    ev.user = ss_intern_get(in, ss_str_c(user));
    ev.product = ss_intern_get(in, ss_str_c(product));
    ev.cat = ss_intern_get(in, ss_str_c(cat));
    return ev;
}

static void feed(struct ss_op *op, struct ss_event ev, int64_t w, struct ss_out *out) {
    struct ss_clock clk = {w, NULL};
    op->type->process(op, &ev, &clk, out);
}

static void adv(struct ss_op *op, int64_t w, struct ss_out *out) {
    struct ss_clock clk = {w, NULL};
    advance_checked(op, &clk, out);
}

static size_t nrows(const struct ss_out *o, enum ss_table_id t) { return o->t[t].n; }
static int64_t I(const struct ss_out *o, enum ss_table_id t, size_t r, int c) { return ss_out_get(o, t, r)[c].i; }
static const char *S(const struct ss_out *o, enum ss_table_id t, size_t r, int c) { return ss_out_get(o, t, r)[c].s; }

/* ---- category_revenue / hourly_sales ------------------------------------------------ */

TEST(test_category_boundaries) {
    struct ss_intern *in = ss_intern_new();
    struct ss_config cfg = base_cfg();
    struct ss_op *op = open_op(&ss_op_category_revenue, &cfg, in);
    struct ss_out out;
    ss_out_init(&out);
    int64_t W = SS_TS_MIN;
    /* window [0, 60000) of "toys": first and last millisecond */
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, 0, "u1", "p1", "toys", 0, 1), W, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_PURCHASE, 59999, "u1", "p1", "toys", 123400, 3), W, &out);
    feed(op, mk(in, SS_STREAM_ORDERS, SS_EV_PURCHASE, 30000, "u1", "p2", "toys", 10000, 1), W, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_PURCHASE, 1, "u2", "p2", "toys", 5, 2), W, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_CART_ADD, 2, "u3", "p2", "toys", 0, 1), W, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_CART_ADD, 3, "u3", "p2", "toys", 0, 1), W, &out);
    /* a category with only a cart_remove still gets a row */
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_CART_REMOVE, 100, "u4", "p3", "books", 0, 1), W, &out);
    /* promotions never enter windows */
    feed(op, mk(in, SS_STREAM_PROMOTIONS, SS_EV_PROMOTION, 100, "u9", "p9", "promo", 0, 1), W, &out);
    /* next window: [60000, 120000) */
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, 60000, "u1", "p1", "toys", 0, 1), W, &out);
    /* negative timestamps: -1 and -60000 in [-60000, 0), -60001 in [-120000, -60000) */
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, -1, "u1", "p1", "toys", 0, 1), W, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, -60000, "u1", "p1", "toys", 0, 1), W, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, -60001, "u1", "p1", "toys", 0, 1), W, &out);
    CHECK_EQ_INT(op->type->state_keys(op), 5);
    CHECK(op->type->state_bytes(op) > 0);

    adv(op, -60001, &out);
    CHECK_EQ_INT(nrows(&out, SS_T_CATEGORY_REVENUE), 0);
    adv(op, -60000, &out); /* end of [-120000, -60000) */
    CHECK_EQ_INT(nrows(&out, SS_T_CATEGORY_REVENUE), 1);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 0, SS_CR_WINDOW_START), -120000);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 0, SS_CR_WINDOW_END), -60000);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 0, SS_CR_VIEWS), 1);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 0, SS_CR_FINAL), 1);
    adv(op, -1, &out);
    CHECK_EQ_INT(nrows(&out, SS_T_CATEGORY_REVENUE), 1);
    adv(op, 59999, &out); /* [-60000, 0) closes; [0, 60000) not yet */
    CHECK_EQ_INT(nrows(&out, SS_T_CATEGORY_REVENUE), 2);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 1, SS_CR_WINDOW_START), -60000);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 1, SS_CR_VIEWS), 2);
    ss_out_clear(&out);

    adv(op, 60000, &out);
    CHECK_EQ_INT(nrows(&out, SS_T_CATEGORY_REVENUE), 2);
    /* key order within the window: books < toys */
    CHECK_EQ_STR(S(&out, SS_T_CATEGORY_REVENUE, 0, SS_CR_CATEGORY), "books");
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 0, SS_CR_REVENUE), 0);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 0, SS_CR_ORDERS), 0);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 0, SS_CR_VIEWS), 0);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 0, SS_CR_BUYERS), 0);
    CHECK_EQ_STR(S(&out, SS_T_CATEGORY_REVENUE, 1, SS_CR_CATEGORY), "toys");
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 1, SS_CR_WINDOW_START), 0);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 1, SS_CR_WINDOW_END), 60000);
    /* 12.34 x 3 + 1.00 x 1 + 0.0005 x 2 = 38.021 */
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 1, SS_CR_REVENUE), 380210);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 1, SS_CR_ORDERS), 3);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 1, SS_CR_UNITS), 6);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 1, SS_CR_VIEWS), 1);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 1, SS_CR_CART_ADDS), 2);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 1, SS_CR_BUYERS), 2); /* u1 twice, u2 */
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 1, SS_CR_FINAL), 1);
    adv(op, 60000, &out); /* nothing twice */
    adv(op, 119999, &out);
    CHECK_EQ_INT(nrows(&out, SS_T_CATEGORY_REVENUE), 2);
    adv(op, SS_TS_MAX, &out);
    CHECK_EQ_INT(nrows(&out, SS_T_CATEGORY_REVENUE), 3);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 2, SS_CR_WINDOW_START), 60000);
    CHECK_EQ_INT(op->type->state_keys(op), 0);
    ss_intern_sweep(in);
    CHECK_EQ_INT(ss_intern_live(in), 0);
    op->type->close(op);
    ss_out_free(&out);
    ss_intern_free(in);
}

TEST(test_provisional_and_hourly) {
    struct ss_intern *in = ss_intern_new();
    struct ss_config cfg = base_cfg();
    struct ss_op *cr = open_op(&ss_op_category_revenue, &cfg, in);
    struct ss_op *hs = open_op(&ss_op_hourly_sales, &cfg, in);
    struct ss_out out;
    ss_out_init(&out);
    out.provisional = true;
    struct ss_event evs[] = {
        mk(in, SS_STREAM_CLICKS, SS_EV_PURCHASE, 3599999, "u1", "p1", "", 20000, 2),
        mk(in, SS_STREAM_CLICKS, SS_EV_PURCHASE, 10, "u1", "p1", "", 30000, 1),
        mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, 3600000, "u2", "p1", "", 0, 1),
    };
    for (size_t i = 0; i < 3; i++) {
        feed(cr, evs[i], 0, &out);
        feed(hs, evs[i], 0, &out);
    }
    ss_intern_sweep(in); /* the operators hold what they keep */
    hs->type->provisional(hs, &out);
    CHECK_EQ_INT(nrows(&out, SS_T_HOURLY_SALES), 2);
    CHECK_EQ_INT(I(&out, SS_T_HOURLY_SALES, 0, SS_HS_WINDOW_START), 0);
    CHECK_EQ_STR(S(&out, SS_T_HOURLY_SALES, 0, SS_HS_CATEGORY), "");
    CHECK_EQ_INT(I(&out, SS_T_HOURLY_SALES, 0, SS_HS_REVENUE), 70000);
    CHECK_EQ_INT(I(&out, SS_T_HOURLY_SALES, 0, SS_HS_ORDERS), 2);
    CHECK_EQ_INT(I(&out, SS_T_HOURLY_SALES, 0, SS_HS_UNITS), 3);
    CHECK_EQ_INT(I(&out, SS_T_HOURLY_SALES, 0, SS_HS_BUYERS), 1);
    CHECK_EQ_INT(I(&out, SS_T_HOURLY_SALES, 0, SS_HS_FINAL), 0);
    CHECK_EQ_INT(I(&out, SS_T_HOURLY_SALES, 1, SS_HS_WINDOW_START), 3600000);
    CHECK_EQ_INT(I(&out, SS_T_HOURLY_SALES, 1, SS_HS_REVENUE), 0);
    CHECK_EQ_INT(I(&out, SS_T_HOURLY_SALES, 1, SS_HS_FINAL), 0);
    cr->type->provisional(cr, &out);
    CHECK_EQ_INT(nrows(&out, SS_T_CATEGORY_REVENUE), 3);
    for (size_t r = 0; r < 3; r++) CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, r, SS_CR_FINAL), 0);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 0, SS_CR_WINDOW_START), 0);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 1, SS_CR_WINDOW_START), 3540000);
    CHECK_EQ_INT(I(&out, SS_T_CATEGORY_REVENUE, 2, SS_CR_WINDOW_START), 3600000);
    ss_out_clear(&out);
    adv(hs, 3600000, &out);
    adv(cr, 3600000, &out);
    CHECK_EQ_INT(nrows(&out, SS_T_HOURLY_SALES), 1);
    CHECK_EQ_INT(I(&out, SS_T_HOURLY_SALES, 0, SS_HS_FINAL), 1);
    CHECK_EQ_INT(I(&out, SS_T_HOURLY_SALES, 0, SS_HS_REVENUE), 70000);
    CHECK_EQ_INT(nrows(&out, SS_T_CATEGORY_REVENUE), 2);
    ss_out_clear(&out);
    hs->type->provisional(hs, &out); /* only the open window remains */
    CHECK_EQ_INT(nrows(&out, SS_T_HOURLY_SALES), 1);
    CHECK_EQ_INT(I(&out, SS_T_HOURLY_SALES, 0, SS_HS_WINDOW_START), 3600000);
    /* close with state still open: everything dropped */
    cr->type->close(cr);
    hs->type->close(hs);
    ss_intern_sweep(in);
    CHECK_EQ_INT(ss_intern_live(in), 0);
    ss_out_free(&out);
    ss_intern_free(in);
}

/* ---- funnel ------------------------------------------------------------------------- */

TEST(test_funnel) {
    struct ss_intern *in = ss_intern_new();
    struct ss_config cfg = base_cfg();
    cfg.funnel_ms = 1000;
    struct ss_op *op = open_op(&ss_op_funnel, &cfg, in);
    struct ss_out out;
    ss_out_init(&out);
    char u[16];
    /* window [0,1000): viewers u1 u2 u3 (u1 twice), carters u1 u2 (u2 twice), buyers u1 (twice) */
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, 0, "u1", "p", "c", 0, 1), 0, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, 5, "u1", "p", "c", 0, 1), 0, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, 6, "u2", "p", "c", 0, 1), 0, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, 999, "u3", "p", "c", 0, 1), 0, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_CART_ADD, 7, "u1", "p", "c", 0, 1), 0, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_CART_ADD, 8, "u2", "p", "c", 0, 1), 0, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_CART_ADD, 9, "u2", "p", "c", 0, 1), 0, &out);
    feed(op, mk(in, SS_STREAM_ORDERS, SS_EV_PURCHASE, 10, "u1", "p", "c", 100, 1), 0, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_PURCHASE, 11, "u1", "p", "c", 100, 1), 0, &out);
    /* window [1000,2000): 32 viewers, 1 carter -> 1/32 = 0.03125 -> 0.0313 (half up); 0 buyers */
    for (int i = 0; i < 32; i++) {
        snprintf(u, sizeof u, "v%d", i);
        feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, 1000 + i, u, "p", "c", 0, 1), 0, &out);
    }
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_CART_ADD, 1999, "v3", "p", "c", 0, 1), 0, &out);
    /* window [2000,3000): only a cart_remove: a row with nulls */
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_CART_REMOVE, 2500, "u1", "p", "c", 0, 1), 0, &out);
    /* window [-1000,0): a purchase without views or carts: view_to_cart null, cart_to_purchase null */
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_PURCHASE, -1, "u1", "p", "c", 100, 1), 0, &out);
    /* promotion: nothing */
    feed(op, mk(in, SS_STREAM_PROMOTIONS, SS_EV_PROMOTION, 5000, "u1", "p", "c", 0, 1), 0, &out);
    ss_intern_sweep(in);
    adv(op, 999, &out);
    CHECK_EQ_INT(nrows(&out, SS_T_FUNNEL), 1);
    adv(op, SS_TS_MAX, &out);
    CHECK_EQ_INT(nrows(&out, SS_T_FUNNEL), 4);
    const enum ss_table_id F = SS_T_FUNNEL;
    CHECK_EQ_INT(I(&out, F, 0, SS_FN_WINDOW_START), -1000);
    CHECK_EQ_INT(I(&out, F, 0, SS_FN_BUYERS), 1);
    CHECK(ss_out_get(&out, F, 0)[SS_FN_VIEW_TO_CART].null);
    CHECK(ss_out_get(&out, F, 0)[SS_FN_CART_TO_PURCHASE].null);
    CHECK_EQ_INT(I(&out, F, 1, SS_FN_WINDOW_START), 0);
    CHECK_EQ_INT(I(&out, F, 1, SS_FN_WINDOW_END), 1000);
    CHECK_EQ_INT(I(&out, F, 1, SS_FN_VIEWERS), 3);
    CHECK_EQ_INT(I(&out, F, 1, SS_FN_CARTERS), 2);
    CHECK_EQ_INT(I(&out, F, 1, SS_FN_BUYERS), 1);
    CHECK_EQ_INT(I(&out, F, 1, SS_FN_VIEW_TO_CART), 6667); /* 2/3 */
    CHECK(!ss_out_get(&out, F, 1)[SS_FN_VIEW_TO_CART].null);
    CHECK_EQ_INT(I(&out, F, 1, SS_FN_CART_TO_PURCHASE), 5000);
    CHECK_EQ_INT(I(&out, F, 1, SS_FN_FINAL), 1);
    CHECK_EQ_INT(I(&out, F, 2, SS_FN_VIEWERS), 32);
    CHECK_EQ_INT(I(&out, F, 2, SS_FN_CARTERS), 1);
    CHECK_EQ_INT(I(&out, F, 2, SS_FN_VIEW_TO_CART), 313);
    CHECK_EQ_INT(I(&out, F, 2, SS_FN_CART_TO_PURCHASE), 0);
    CHECK(!ss_out_get(&out, F, 2)[SS_FN_CART_TO_PURCHASE].null);
    CHECK_EQ_INT(I(&out, F, 3, SS_FN_WINDOW_START), 2000);
    CHECK_EQ_INT(I(&out, F, 3, SS_FN_VIEWERS), 0);
    CHECK(ss_out_get(&out, F, 3)[SS_FN_VIEW_TO_CART].null);
    CHECK(ss_out_get(&out, F, 3)[SS_FN_CART_TO_PURCHASE].null);
    ss_intern_sweep(in);
    CHECK_EQ_INT(ss_intern_live(in), 0);
    op->type->close(op);
    ss_out_free(&out);
    ss_intern_free(in);
}

/* ---- trending ----------------------------------------------------------------------- */

TEST(test_trending) {
    struct ss_intern *in = ss_intern_new();
    struct ss_config cfg = base_cfg();
    cfg.trending_size_ms = 3000;
    cfg.trending_slide_ms = 1000;
    cfg.trending_top = 2;
    struct ss_op *op = open_op(&ss_op_trending, &cfg, in);
    struct ss_out out;
    ss_out_init(&out);
    out.provisional = true;
    /* ts 2500 belongs to [0,3000), [1000,4000), [2000,5000) */
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, 2500, "u", "b", "c", 0, 1), 0, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, 2999, "u", "a", "c", 0, 1), 0, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_CART_ADD, 2000, "u", "B", "c", 0, 1), 0, &out);
    feed(op, mk(in, SS_STREAM_ORDERS, SS_EV_PURCHASE, 4000, "u", "a", "c", 15000, 2), 0, &out);
    feed(op, mk(in, SS_STREAM_PROMOTIONS, SS_EV_PROMOTION, 4000, "u", "zz", "c", 0, 1), 0, &out);
    ss_intern_sweep(in);
    CHECK_EQ_INT(op->type->state_keys(op), 4); /* pane 2: b a B, pane 4: a */

    op->type->provisional(op, &out);
    /* open windows with events: k = 0..4 -> [0,3000) [1000,4000) [2000,5000) [3000,6000) [4000,7000) */
    const enum ss_table_id T = SS_T_TRENDING_PRODUCTS;
    CHECK_EQ_INT(nrows(&out, T), 2 + 2 + 2 + 1 + 1);
    for (size_t r = 0; r < nrows(&out, T); r++) CHECK_EQ_INT(I(&out, T, r, SS_TP_FINAL), 0);
    ss_out_clear(&out);

    adv(op, 2999, &out);
    CHECK_EQ_INT(nrows(&out, T), 0);
    adv(op, 3000, &out);
    /* [0,3000): a, b have 1 view each, B 0 views: a (tie broken by id), b; B cut by top 2 */
    CHECK_EQ_INT(nrows(&out, T), 2);
    CHECK_EQ_INT(I(&out, T, 0, SS_TP_WINDOW_START), 0);
    CHECK_EQ_INT(I(&out, T, 0, SS_TP_WINDOW_END), 3000);
    CHECK_EQ_STR(S(&out, T, 0, SS_TP_PRODUCT_ID), "a");
    CHECK_EQ_INT(I(&out, T, 0, SS_TP_RANK), 1);
    CHECK_EQ_STR(S(&out, T, 1, SS_TP_PRODUCT_ID), "b");
    CHECK_EQ_INT(I(&out, T, 1, SS_TP_RANK), 2);
    CHECK_EQ_INT(I(&out, T, 1, SS_TP_VIEWS), 1);
    CHECK_EQ_INT(I(&out, T, 1, SS_TP_FINAL), 1);
    ss_out_clear(&out);
    adv(op, 5000, &out);
    /* [1000,4000): a b (B cut); [2000,5000): a has 1 view + purchase: a, b */
    CHECK_EQ_INT(nrows(&out, T), 4);
    CHECK_EQ_INT(I(&out, T, 0, SS_TP_WINDOW_START), 1000);
    CHECK_EQ_INT(I(&out, T, 0, SS_TP_PURCHASES), 0);
    CHECK_EQ_INT(I(&out, T, 2, SS_TP_WINDOW_START), 2000);
    CHECK_EQ_STR(S(&out, T, 2, SS_TP_PRODUCT_ID), "a");
    CHECK_EQ_INT(I(&out, T, 2, SS_TP_PURCHASES), 1);
    CHECK_EQ_INT(I(&out, T, 2, SS_TP_REVENUE), 30000);
    CHECK_EQ_INT(I(&out, T, 2, SS_TP_VIEWS), 1);
    ss_out_clear(&out);
    adv(op, 5000, &out);
    CHECK_EQ_INT(nrows(&out, T), 0);
    adv(op, SS_TS_MAX, &out);
    /* [3000,6000) and [4000,7000): only a (0 views, 1 purchase) */
    CHECK_EQ_INT(nrows(&out, T), 2);
    CHECK_EQ_INT(I(&out, T, 0, SS_TP_WINDOW_START), 3000);
    CHECK_EQ_STR(S(&out, T, 0, SS_TP_PRODUCT_ID), "a");
    CHECK_EQ_INT(I(&out, T, 0, SS_TP_VIEWS), 0);
    CHECK_EQ_INT(I(&out, T, 0, SS_TP_RANK), 1);
    CHECK_EQ_INT(I(&out, T, 1, SS_TP_WINDOW_START), 4000);
    CHECK_EQ_INT(I(&out, T, 1, SS_TP_WINDOW_END), 7000);
    CHECK_EQ_INT(op->type->state_keys(op), 0);
    ss_intern_sweep(in);
    CHECK_EQ_INT(ss_intern_live(in), 0);
    /* after a gap: windows resume at the first one containing the new event, negative ts */
    ss_out_clear(&out);
    op->type->close(op);
    op = open_op(&ss_op_trending, &cfg, in);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, -1, "u", "x", "c", 0, 1), SS_TS_MIN, &out);
    feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, 100000, "u", "y", "c", 0, 1), SS_TS_MIN, &out);
    adv(op, SS_TS_MAX, &out);
    CHECK_EQ_INT(nrows(&out, T), 6);
    int64_t want[6] = {-3000, -2000, -1000, 98000, 99000, 100000};
    for (size_t r = 0; r < 6; r++) CHECK_EQ_INT(I(&out, T, r, SS_TP_WINDOW_START), want[r]);
    CHECK_EQ_STR(S(&out, T, 2, SS_TP_PRODUCT_ID), "x");
    CHECK_EQ_STR(S(&out, T, 3, SS_TP_PRODUCT_ID), "y");
    op->type->close(op);
    /* the last ms of a pane, the first of the next, and back: each event in its own pane */
    ss_out_clear(&out);
    op = open_op(&ss_op_trending, &cfg, in);
    const int64_t at[] = {999, 1000, 1999, 2000, 998};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, at[i], "u", "p", "c", 0, 1), SS_TS_MIN, &out);
    adv(op, SS_TS_MAX, &out);
    CHECK_EQ_INT(nrows(&out, T), 5);
    const int64_t from[5] = {-2000, -1000, 0, 1000, 2000}, views[5] = {2, 4, 5, 3, 1};
    for (size_t r = 0; r < 5; r++) {
        CHECK_EQ_INT(I(&out, T, r, SS_TP_WINDOW_START), from[r]);
        CHECK_EQ_INT(I(&out, T, r, SS_TP_VIEWS), views[r]);
    }
    op->type->close(op);
    ss_intern_sweep(in);
    CHECK_EQ_INT(ss_intern_live(in), 0);
    ss_out_free(&out);
    ss_intern_free(in);
}

TEST(test_config_errors) {
    struct ss_intern *in = ss_intern_new();
    struct {
        const struct ss_op_type *type;
        void (*set)(struct ss_config *);
        const char *key;
    } cases[] = {
        {&ss_op_category_revenue, NULL, "windows.category_revenue"},
        {&ss_op_hourly_sales, NULL, "windows.hourly_sales"},
        {&ss_op_funnel, NULL, "windows.funnel"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ss_config cfg = base_cfg();
        cfg.category_revenue_ms = cfg.hourly_sales_ms = cfg.funnel_ms = 0;
        struct ss_op_env env = {&cfg, in};
        struct ss_op *op = (struct ss_op *)&cfg;
        struct ss_err err = {0};
        CHECK_EQ_INT(cases[i].type->open(&op, &env, &err), SS_EUSAGE);
        CHECK(op == NULL);
        CHECK(strstr(err.msg, cases[i].key) != NULL);
    }
    struct { int64_t size, slide, top; const char *key; } tc[] = {
        {0, 1000, 5, "windows.trending.size"},
        {3000, -1, 5, "windows.trending.slide"},
        {3000, 2000, 5, "windows.trending.slide"},
        {3000, 1000, 0, "windows.trending.top"},
        {600000, 1, 5, "is 600000 windows per event (600000 ms / 1 ms), more than 10080"},
        {10081 * 60000LL, 60000, 5, "is 10081 windows per event"},
    };
    for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
        struct ss_config cfg = base_cfg();
        cfg.trending_size_ms = tc[i].size;
        cfg.trending_slide_ms = tc[i].slide;
        cfg.trending_top = tc[i].top;
        struct ss_op_env env = {&cfg, in};
        struct ss_op *op = NULL;
        struct ss_err err = {0};
        CHECK_EQ_INT(ss_op_trending.open(&op, &env, &err), SS_EUSAGE);
        CHECK(strstr(err.msg, tc[i].key) != NULL);
    }
    { /* a week of one-minute slides is the most windows per event allowed */
        struct ss_config cfg = base_cfg();
        cfg.trending_size_ms = 10080 * 60000LL;
        cfg.trending_slide_ms = 60000;
        struct ss_op_env env = {&cfg, in};
        struct ss_op *op = NULL;
        struct ss_err err = {0};
        CHECK_EQ_INT(ss_op_trending.open(&op, &env, &err), SS_OK);
        if (op) op->type->close(op);
    }
    ss_intern_free(in);
}

/* Timestamps near the int64 limits (epoch-ms input is not range-checked): no overflow
 * (UBSan build), window ends saturate at SS_TS_MAX, everything closes at the end. */
TEST(test_extremes) {
    struct ss_intern *in = ss_intern_new();
    struct ss_config cfg = base_cfg();
    const struct ss_op_type *types[4] = {&ss_op_category_revenue, &ss_op_hourly_sales, &ss_op_trending, &ss_op_funnel};
    const enum ss_table_id tabs[4] = {SS_T_CATEGORY_REVENUE, SS_T_HOURLY_SALES, SS_T_TRENDING_PRODUCTS, SS_T_FUNNEL};
    const size_t want[4] = {2, 2, 20, 2};
    const int endcol[4] = {SS_CR_WINDOW_END, SS_HS_WINDOW_END, SS_TP_WINDOW_END, SS_FN_WINDOW_END};
    for (int i = 0; i < 4; i++) {
        struct ss_op *op = open_op(types[i], &cfg, in);
        struct ss_out out;
        ss_out_init(&out);
        feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_PURCHASE, INT64_MIN + 3600000, "u", "p", "c", 10000, 1), SS_TS_MIN, &out);
        feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_VIEW, INT64_MAX - 1, "u", "p", "c", 0, 1), SS_TS_MIN, &out);
        feed(op, mk(in, SS_STREAM_CLICKS, SS_EV_PURCHASE, INT64_MAX, "u", "p", "c", INT64_MAX / 2, 3), SS_TS_MIN, &out);
        adv(op, INT64_MAX - 1, &out);
        size_t early = nrows(&out, tabs[i]);
        CHECK(early < want[i]);
        adv(op, SS_TS_MAX, &out);
        CHECK_EQ_INT(nrows(&out, tabs[i]), want[i]);
        size_t last = nrows(&out, tabs[i]) - 1;
        CHECK_EQ_INT(I(&out, tabs[i], last, endcol[i]), INT64_MAX);
        if (tabs[i] == SS_T_CATEGORY_REVENUE) /* revenue saturates instead of wrapping */
            CHECK_EQ_INT(I(&out, tabs[i], last, SS_CR_REVENUE), INT64_MAX);
        CHECK_EQ_INT(op->type->state_keys(op), 0);
        op->type->close(op);
        ss_out_free(&out);
    }
    ss_intern_sweep(in);
    CHECK_EQ_INT(ss_intern_live(in), 0);
    ss_intern_free(in);
}

/* ---- randomized comparison with a brute-force recomputation ------------------------- */

#define NUSERS 40
#define NPRODS 25
#define NCATS 5
static const char *cat_names[NCATS] = {"", "books", "toys", "Toys", "garden"};

struct bev {
    int64_t ts, price;
    int32_t qty;
    int stream, type, user, prod, cat;
};

struct rowset {
    char **s;
    size_t n, cap;
};

static void rs_add(struct rowset *rs, const char *s) {
    SS_GROW(rs->s, rs->cap, rs->n + 1);
    rs->s[rs->n++] = ss_strdup(s);
}
static void rs_free(struct rowset *rs) {
    for (size_t i = 0; i < rs->n; i++) ss_free(rs->s[i]);
    ss_free(rs->s);
    memset(rs, 0, sizeof *rs);
}
static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Same rows (as sets with multiplicity)? Prints the first difference. */
static int rs_same(struct rowset *a, struct rowset *b, const char *what) {
    qsort(a->s, a->n, sizeof *a->s, str_cmp);
    qsort(b->s, b->n, sizeof *b->s, str_cmp);
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->s[i], b->s[j]);
        if (c == 0) { i++; j++; continue; }
        fprintf(stderr, "%s: %s row %s\n", what, c < 0 ? "unexpected" : "missing", c < 0 ? a->s[i] : b->s[j]);
        return 0;
    }
    return 1;
}

static void fmt_row(const struct ss_val *v, enum ss_table_id t, char *buf, size_t n) {
    size_t off = 0;
    for (int c = 0; c < ss_tables[t].ncols; c++) {
        if (v[c].null) off += (size_t)snprintf(buf + off, n - off, "%sN", c ? "|" : "");
        else if (ss_tables[t].cols[c].type == SS_COL_STR) off += (size_t)snprintf(buf + off, n - off, "%s%s", c ? "|" : "", v[c].s);
        else off += (size_t)snprintf(buf + off, n - off, "%s%lld", c ? "|" : "", (long long)v[c].i);
    }
}

static int64_t bf_ratio_ok(int64_t num, int64_t den, int *null) {
    *null = den == 0;
    return den ? (num * 20000 + den) / (2 * den) : 0;
}

/* Brute force of the tumbling tables (category_revenue, hourly_sales keyed; funnel unkeyed)
 * over evs; only windows with end > W_open (open) or all windows (W_open = SS_TS_MIN). */
static void bf_tumbling(const struct bev *evs, size_t n, enum ss_table_id t, int64_t size, int64_t w_open, int final,
                        struct rowset *rs) {
    int keyed = t != SS_T_FUNNEL;
    /* simple O(windows x events): collect distinct starts */
    int64_t *ws = ss_malloc((n + 1) * sizeof *ws);
    size_t nw = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t s = ss_ts_floor(evs[i].ts, size);
        size_t k;
        for (k = 0; k < nw && ws[k] != s; k++) {}
        if (k == nw) ws[nw++] = s;
    }
    char buf[512];
    for (size_t w = 0; w < nw; w++) {
        int64_t s = ws[w], e = s + size;
        if (e <= w_open) continue;
        for (int c = 0; c < (keyed ? NCATS : 1); c++) {
            int64_t revenue = 0, orders = 0, units = 0, views = 0, carts = 0, any = 0;
            char viewed[NUSERS] = {0}, carted[NUSERS] = {0}, bought[NUSERS] = {0};
            for (size_t i = 0; i < n; i++) {
                const struct bev *b = &evs[i];
                if (b->ts < s || b->ts >= e || (keyed && b->cat != c)) continue;
                any = 1;
                if (b->type == SS_EV_VIEW) { views++; viewed[b->user] = 1; }
                if (b->type == SS_EV_CART_ADD) { carts++; carted[b->user] = 1; }
                if (b->type == SS_EV_PURCHASE) {
                    revenue += b->price * b->qty; orders++; units += b->qty; bought[b->user] = 1;
                }
            }
            if (!any) continue;
            int64_t nv = 0, nc = 0, nb = 0;
            for (int u = 0; u < NUSERS; u++) { nv += viewed[u]; nc += carted[u]; nb += bought[u]; }
            if (t == SS_T_CATEGORY_REVENUE)
                snprintf(buf, sizeof buf, "%lld|%s|%lld|%lld|%lld|%lld|%lld|%lld|%lld|%d", (long long)s, cat_names[c],
                         (long long)e, (long long)revenue, (long long)orders, (long long)units, (long long)views,
                         (long long)carts, (long long)nb, final);
            else if (t == SS_T_HOURLY_SALES)
                snprintf(buf, sizeof buf, "%lld|%s|%lld|%lld|%lld|%lld|%lld|%d", (long long)s, cat_names[c], (long long)e,
                         (long long)revenue, (long long)orders, (long long)units, (long long)nb, final);
            else {
                int n1, n2;
                int64_t r1 = bf_ratio_ok(nc, nv, &n1), r2 = bf_ratio_ok(nb, nc, &n2);
                char a[32], b2[32];
                if (n1) snprintf(a, sizeof a, "N"); else snprintf(a, sizeof a, "%lld", (long long)r1);
                if (n2) snprintf(b2, sizeof b2, "N"); else snprintf(b2, sizeof b2, "%lld", (long long)r2);
                snprintf(buf, sizeof buf, "%lld|%lld|%lld|%lld|%lld|%s|%s|%d", (long long)s, (long long)e, (long long)nv,
                         (long long)nc, (long long)nb, a, b2, final);
            }
            rs_add(rs, buf);
        }
    }
    ss_free(ws);
}

static char prod_names[NPRODS][16];

struct pstat { int64_t events, views, carts, purchases, revenue; int prod; };

static int pstat_cmp(const void *pa, const void *pb) {
    const struct pstat *a = pa, *b = pb;
    if (a->views != b->views) return a->views > b->views ? -1 : 1;
    return strcmp(prod_names[a->prod], prod_names[b->prod]);
}

static void bf_trending(const struct bev *evs, size_t n, int64_t size, int64_t slide, int64_t top, int64_t w_open,
                        int final, struct rowset *rs) {
    int64_t kmin = INT64_MAX, kmax = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        int64_t p = ss_ts_floor(evs[i].ts, slide) / slide;
        if (p - size / slide + 1 < kmin) kmin = p - size / slide + 1;
        if (p > kmax) kmax = p;
    }
    char buf[512];
    for (int64_t k = kmin; k <= kmax; k++) {
        int64_t s = k * slide, e = s + size;
        if (e <= w_open) continue;
        struct pstat ps[NPRODS];
        memset(ps, 0, sizeof ps);
        for (int p = 0; p < NPRODS; p++) ps[p].prod = p;
        for (size_t i = 0; i < n; i++) {
            const struct bev *b = &evs[i];
            if (b->ts < s || b->ts >= e) continue;
            struct pstat *x = &ps[b->prod];
            x->events++;
            if (b->type == SS_EV_VIEW) x->views++;
            if (b->type == SS_EV_CART_ADD) x->carts++;
            if (b->type == SS_EV_PURCHASE) { x->purchases++; x->revenue += b->price * b->qty; }
        }
        struct pstat live[NPRODS];
        int m = 0;
        for (int p = 0; p < NPRODS; p++) if (ps[p].events) live[m++] = ps[p];
        qsort(live, (size_t)m, sizeof live[0], pstat_cmp);
        for (int r = 0; r < m && r < top; r++) {
            snprintf(buf, sizeof buf, "%lld|%s|%lld|%d|%lld|%lld|%lld|%lld|%d", (long long)s, prod_names[live[r].prod],
                     (long long)e, r + 1, (long long)live[r].views, (long long)live[r].carts,
                     (long long)live[r].purchases, (long long)live[r].revenue, final);
            rs_add(rs, buf);
        }
    }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return rng_state;
}

#define NOPS 4
static const enum ss_table_id op_table[NOPS] = {SS_T_CATEGORY_REVENUE, SS_T_HOURLY_SALES, SS_T_TRENDING_PRODUCTS,
                                                SS_T_FUNNEL};

static void expected(const struct bev *evs, size_t n, const struct ss_config *cfg, int i, int64_t w_open, int final,
                     struct rowset *rs) {
    switch (op_table[i]) {
    case SS_T_CATEGORY_REVENUE: bf_tumbling(evs, n, op_table[i], cfg->category_revenue_ms, w_open, final, rs); break;
    case SS_T_HOURLY_SALES: bf_tumbling(evs, n, op_table[i], cfg->hourly_sales_ms, w_open, final, rs); break;
    case SS_T_FUNNEL: bf_tumbling(evs, n, op_table[i], cfg->funnel_ms, w_open, final, rs); break;
    default: bf_trending(evs, n, cfg->trending_size_ms, cfg->trending_slide_ms, cfg->trending_top, w_open, final, rs);
    }
}

/* gated: advance only at a watermark at or past the operator's wake, as the engine does */
static void run_random(uint64_t seed, size_t nevents, struct ss_config cfg, int64_t lateness, int64_t step,
                       bool gated) {
    rng_state = seed;
    struct ss_intern *in = ss_intern_new();
    const struct ss_op_type *types[NOPS] = {&ss_op_category_revenue, &ss_op_hourly_sales, &ss_op_trending,
                                            &ss_op_funnel};
    struct ss_op *ops[NOPS];
    for (int i = 0; i < NOPS; i++) ops[i] = open_op(types[i], &cfg, in);
    struct ss_out out;
    ss_out_init(&out);
    out.provisional = true;
    struct rowset got[NOPS] = {{0}}, want[NOPS] = {{0}};
    struct bev *evs = ss_malloc(nevents * sizeof *evs);
    size_t nev = 0;
    int64_t W = SS_TS_MIN, max_ts = SS_TS_MIN, now = -3600000 - 1234; /* cross zero */
    int64_t last_start[NOPS];
    for (int i = 0; i < NOPS; i++) last_start[i] = SS_TS_MIN;
    int timing_ok = 1, order_ok = 1, prov_ok = 1;
    char buf[512], ubuf[16];

    for (size_t e = 0; e < nevents; e++) {
        now += (int64_t)(rnd() % (uint64_t)(2 * step));
        if (rnd() % 500 == 0) now += 20 * 60000; /* a gap: windows closed in bulk */
        int64_t ts = now - (int64_t)(rnd() % (uint64_t)(lateness + lateness / 4 + 1));
        struct bev b = {0};
        b.ts = ts;
        b.user = (int)(rnd() % NUSERS);
        b.prod = (int)(rnd() % NPRODS);
        b.cat = (int)(rnd() % NCATS);
        int r = (int)(rnd() % 100);
        b.stream = r < 5 ? SS_STREAM_PROMOTIONS : r < 12 ? SS_STREAM_ORDERS : SS_STREAM_CLICKS;
        b.type = b.stream == SS_STREAM_PROMOTIONS ? SS_EV_PROMOTION
                 : b.stream == SS_STREAM_ORDERS   ? SS_EV_PURCHASE
                 : r < 60                         ? SS_EV_VIEW
                 : r < 75                         ? SS_EV_CART_ADD
                 : r < 85                         ? SS_EV_CART_REMOVE
                                                  : SS_EV_PURCHASE;
        b.qty = b.type == SS_EV_PURCHASE ? 1 + (int32_t)(rnd() % 5) : 1;
        b.price = (int64_t)(rnd() % 2000000);
        if (ts < W) continue; /* late: the engine never hands it to operators */
        snprintf(ubuf, sizeof ubuf, "user%d", b.user);
        struct ss_event ev = mk(in, b.stream, b.type, ts, ubuf, prod_names[b.prod], cat_names[b.cat], b.price, b.qty);
        if (b.stream != SS_STREAM_PROMOTIONS) evs[nev++] = b;
        struct ss_clock clk = {W, NULL};
        for (int i = 0; i < NOPS; i++) ops[i]->type->process(ops[i], &ev, &clk, &out);
        if (ts > max_ts) max_ts = ts;
        int64_t nw = max_ts - lateness;
        if (nw > W) {
            int64_t prev = W;
            W = nw;
            clk.watermark = W;
            for (int i = 0; i < NOPS; i++) {
                size_t before = out.t[op_table[i]].n;
                if (gated && W < ops[i]->wake) continue;
                advance_checked(ops[i], &clk, &out);
                for (size_t rr = before; rr < out.t[op_table[i]].n; rr++) {
                    const struct ss_val *v = ss_out_get(&out, op_table[i], rr);
                    int endc = op_table[i] == SS_T_FUNNEL ? SS_FN_WINDOW_END : 2;
                    int64_t end = v[endc].i, start = v[0].i;
                    /* due now, and not already due at the previous watermark */
                    if (!(end <= W && end > prev)) timing_ok = 0;
                    if (start < last_start[i]) order_ok = 0;
                    last_start[i] = start;
                    fmt_row(v, op_table[i], buf, sizeof buf);
                    rs_add(&got[i], buf);
                }
            }
            ss_out_clear(&out);
        }
        if (rnd() % 64 == 0) ss_intern_sweep(in); /* as the engine does per batch */
        if (rnd() % 2000 == 0) { /* provisional rows equal a recomputation of the open windows */
            for (int i = 0; i < NOPS; i++) {
                struct rowset pg = {0}, pw = {0};
                ops[i]->type->provisional(ops[i], &out);
                for (size_t rr = 0; rr < out.t[op_table[i]].n; rr++) {
                    fmt_row(ss_out_get(&out, op_table[i], rr), op_table[i], buf, sizeof buf);
                    rs_add(&pg, buf);
                }
                expected(evs, nev, &cfg, i, W, 0, &pw);
                if (!rs_same(&pg, &pw, ss_tables[op_table[i]].name)) prov_ok = 0;
                rs_free(&pg);
                rs_free(&pw);
            }
            ss_out_clear(&out);
        }
    }
    struct ss_clock clk = {SS_TS_MAX, NULL};
    for (int i = 0; i < NOPS; i++) {
        ops[i]->type->advance(ops[i], &clk, &out);
        for (size_t rr = 0; rr < out.t[op_table[i]].n; rr++) {
            const struct ss_val *v = ss_out_get(&out, op_table[i], rr);
            if (v[0].i < last_start[i]) order_ok = 0;
            last_start[i] = v[0].i;
            fmt_row(v, op_table[i], buf, sizeof buf);
            rs_add(&got[i], buf);
        }
        CHECK_EQ_INT(ops[i]->type->state_keys(ops[i]), 0);
    }
    CHECK(timing_ok);
    CHECK(order_ok);
    CHECK(prov_ok);
    for (int i = 0; i < NOPS; i++) {
        expected(evs, nev, &cfg, i, SS_TS_MIN, 1, &want[i]);
        CHECK(want[i].n > 0);
        CHECK(rs_same(&got[i], &want[i], ss_tables[op_table[i]].name));
        rs_free(&got[i]);
        rs_free(&want[i]);
    }
    ss_intern_sweep(in);
    CHECK_EQ_INT(ss_intern_live(in), 0);
    for (int i = 0; i < NOPS; i++) ops[i]->type->close(ops[i]);
    ss_free(evs);
    ss_out_free(&out);
    ss_intern_free(in);
}

TEST(test_random) {
    for (int p = 0; p < NPRODS; p++) snprintf(prod_names[p], sizeof prod_names[p], "p%d", p);
    strcpy(prod_names[NPRODS - 1], "P1"); /* upper case sorts first: byte order */
    struct ss_config cfg = base_cfg();
    cfg.trending_top = 5;
    /* ~20k events over ~3 h: minute and hour windows, 10-min sliding, 15-min funnel */
    cfg.funnel_ms = 900000;
    run_random(12345, 20000, cfg, 5 * 60000, 600, false);
    run_random(12345, 20000, cfg, 5 * 60000, 600, true);
    /* small windows and a slide equal to the size (tumbling trending), dense panes */
    cfg.category_revenue_ms = 1000;
    cfg.hourly_sales_ms = 7000;
    cfg.trending_size_ms = 5000;
    cfg.trending_slide_ms = 5000;
    cfg.trending_top = 3;
    cfg.funnel_ms = 3000;
    run_random(777, 20000, cfg, 4000, 50, false);
    run_random(777, 20000, cfg, 4000, 50, true);
    /* many panes per window, sparse events */
    cfg.trending_size_ms = 20000;
    cfg.trending_slide_ms = 1000;
    run_random(4242, 5000, cfg, 3000, 2000, false);
    run_random(4242, 5000, cfg, 3000, 2000, true);
}

int main(void) {
    RUN(test_category_boundaries);
    RUN(test_provisional_and_hourly);
    RUN(test_funnel);
    RUN(test_trending);
    RUN(test_config_errors);
    RUN(test_extremes);
    RUN(test_random);
    return ss_t_report("windows");
}
