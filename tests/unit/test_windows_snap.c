/* test_windows_snap.c — savepoints of the window operators (tumbling.c behind
 * category_revenue, hourly_sales and funnel; trending.c): an operator saved and
 * restored mid-stream (op_fixture's fx_save_restore) must go on to emit exactly the
 * rows of its twin, which never was; damaged bytes must be refused without a crash,
 * a leak or an id held twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/intern.h"
#include "core/snap.h"
#include "core/table.h"
#include "op_fixture.h"
#include "ops/tumbling.h"

/* ---- helpers ---------------------------------------------------------------------- */

static void base_cfg(struct ss_config *c) {
    c->category_revenue_ms = 60000;
    c->hourly_sales_ms = 3600000;
    c->trending_size_ms = 600000;
    c->trending_slide_ms = 60000;
    c->trending_top = 20;
    c->funnel_ms = 3600000;
}

static void fx_begin(struct fx *f, const struct ss_op_type *type, void (*tweak)(struct ss_config *)) {
    fx_init(f);
    base_cfg(&f->cfg);
    if (tweak) tweak(&f->cfg);
    fx_start(f, type);
}

/* An event; NULL ids stay 0 (no user, no category). */
static void ev(struct fx *f, int type, int64_t ts, const char *user, const char *product, const char *cat,
               int64_t price, int32_t qty) {
    struct ss_event e;
    memset(&e, 0, sizeof e);
    e.stream = type == SS_EV_PURCHASE && qty > 1 ? SS_STREAM_ORDERS : SS_STREAM_CLICKS;
    e.type = (uint8_t)type;
    e.ts = ts;
    e.price = price;
    e.has_price = price != 0;
    e.quantity = qty;
    if (user) e.user = ss_intern_get(f->in, ss_str_c(user));
    if (product) e.product = ss_intern_get(f->in, ss_str_c(product));
    if (cat) e.cat = ss_intern_get(f->in, ss_str_c(cat));
    fx_process(f, &e);
}

static enum ss_table_id table_of(const struct ss_op_type *type) {
    if (type == &ss_op_category_revenue) return SS_T_CATEGORY_REVENUE;
    if (type == &ss_op_hourly_sales) return SS_T_HOURLY_SALES;
    if (type == &ss_op_funnel) return SS_T_FUNNEL;
    return SS_T_TRENDING_PRODUCTS;
}

struct rowset {
    char **s;
    size_t n, cap;
};

static void rs_free(struct rowset *rs) {
    for (size_t i = 0; i < rs->n; i++) ss_free(rs->s[i]);
    ss_free(rs->s);
    memset(rs, 0, sizeof *rs);
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every row of table t in o from row `from` on, each column formatted, sorted. */
static void rs_fill(struct rowset *rs, const struct ss_out *o, enum ss_table_id t, size_t from) {
    char buf[512];
    for (size_t r = from; r < o->t[t].n; r++) {
        const struct ss_val *v = ss_out_get(o, t, r);
        size_t off = 0;
        for (int c = 0; c < ss_tables[t].ncols; c++) {
            if (v[c].null) off += (size_t)snprintf(buf + off, sizeof buf - off, "|N");
            else if (ss_tables[t].cols[c].type == SS_COL_STR)
                off += (size_t)snprintf(buf + off, sizeof buf - off, "|%s", v[c].s);
            else off += (size_t)snprintf(buf + off, sizeof buf - off, "|%lld", (long long)v[c].i);
        }
        SS_GROW(rs->s, rs->cap, rs->n + 1);
        rs->s[rs->n++] = ss_strdup(buf);
    }
    qsort(rs->s, rs->n, sizeof *rs->s, str_cmp);
}

/* Same rows as multisets? Prints the first difference. */
static int rs_same(const struct rowset *a, const struct rowset *b, const char *what) {
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->s[i], b->s[j]);
        if (c == 0) { i++; j++; continue; }
        fprintf(stderr, "%s: %s row %s\n", what, c < 0 ? "extra" : "missing", c < 0 ? a->s[i] : b->s[j]);
        return 0;
    }
    return 1;
}

/* The restored operator emitted exactly the rows of its twin (which was never saved). */
static void check_same_as_twin(struct fx *f) {
    enum ss_table_id t = table_of(f->op->type);
    struct rowset a = {0}, b = {0};
    rs_fill(&a, &f->out, t, 0);
    rs_fill(&b, &f->twin_out, t, 0);
    CHECK(rs_same(&a, &b, f->op->type->name));
    rs_free(&a);
    rs_free(&b);
}

/* Provisional rows are not state, but they show the open windows: the restored
 * operator's must be its twin's. */
static void check_provisional_as_twin(struct fx *f) {
    enum ss_table_id t = table_of(f->op->type);
    struct ss_out a, b;
    ss_out_init(&a);
    ss_out_init(&b);
    f->op->type->provisional(f->op, &a);
    f->twin->type->provisional(f->twin, &b);
    struct rowset ra = {0}, rb = {0};
    rs_fill(&ra, &a, t, 0);
    rs_fill(&rb, &b, t, 0);
    CHECK(rs_same(&ra, &rb, "provisional"));
    rs_free(&ra);
    rs_free(&rb);
    ss_out_free(&a);
    ss_out_free(&b);
}

static size_t rows(const struct fx *f) { return f->out.t[table_of(f->op->type)].n; }
static int64_t I(const struct fx *f, size_t r, int c) { return ss_out_get(&f->out, table_of(f->op->type), r)[c].i; }
static const char *S(const struct fx *f, size_t r, int c) {
    return ss_out_get(&f->out, table_of(f->op->type), r)[c].s;
}

/* ---- handmade: tumbling ------------------------------------------------------------ */

TEST(test_empty) {
    const struct ss_op_type *types[] = {&ss_op_category_revenue, &ss_op_hourly_sales, &ss_op_funnel, &ss_op_trending};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        struct fx f;
        fx_begin(&f, types[i], NULL);
        fx_save_restore(&f); /* never advanced: W = -inf */
        advance(&f, 1000);
        fx_save_restore(&f);
        ev(&f, SS_EV_VIEW, 5000, "u", "p", "c", 0, 1);
        advance(&f, SS_TS_MAX);
        fx_save_restore(&f); /* everything emitted: empty again */
        CHECK_EQ_INT(f.op->type->state_keys(f.op), 0);
        advance(&f, SS_TS_MAX);
        check_same_as_twin(&f);
        CHECK(rows(&f) > 0);
        fx_close(&f);
    }
}

/* A buyer counted in a window before the save is not counted again after it; a window
 * due exactly at the save's watermark closes at the next advance, once; windows
 * emitted before the save are not emitted again. */
TEST(test_category_across_save) {
    struct fx f;
    fx_begin(&f, &ss_op_category_revenue, NULL);
    ev(&f, SS_EV_PURCHASE, 1000, "u1", "p1", "toys", 20000, 2);   /* [0, 60000) */
    ev(&f, SS_EV_PURCHASE, 2000, "u2", "p1", "books", 10000, 1);
    ev(&f, SS_EV_VIEW, 3000, "u3", "p2", NULL, 0, 1);              /* no category: key 0 */
    ev(&f, SS_EV_VIEW, 3000, "u3", "p2", "", 0, 1);                /* the empty category: another key */
    ev(&f, SS_EV_PURCHASE, 61000, "u1", "p1", "toys", 5000, 1);   /* [60000, 120000) */
    ev(&f, SS_EV_PURCHASE, -5, "u1", "p1", "toys", 5000, 1);      /* [-60000, 0) */
    advance(&f, 0);
    CHECK_EQ_INT(rows(&f), 1); /* [-60000, 0) */
    advance(&f, 59999);
    fx_save_restore(&f);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 5);
    ev(&f, SS_EV_PURCHASE, 59999, "u1", "p1", "toys", 10000, 1);  /* u1 again: still one buyer */
    ev(&f, SS_EV_PURCHASE, 59999, "u4", "p1", "toys", 10000, 1);
    ev(&f, SS_EV_CART_ADD, 59999, "u2", "p1", "books", 0, 1);
    fx_save_restore(&f);
    advance(&f, 60000); /* due exactly now */
    CHECK_EQ_INT(rows(&f), 1 + 4);
    /* key order: "" (no category) and "" (empty) share a name, then books, toys */
    CHECK_EQ_STR(S(&f, 3, SS_CR_CATEGORY), "books");
    CHECK_EQ_INT(I(&f, 3, SS_CR_CART_ADDS), 1);
    CHECK_EQ_INT(I(&f, 3, SS_CR_BUYERS), 1);
    CHECK_EQ_STR(S(&f, 4, SS_CR_CATEGORY), "toys");
    CHECK_EQ_INT(I(&f, 4, SS_CR_BUYERS), 2);
    CHECK_EQ_INT(I(&f, 4, SS_CR_ORDERS), 3);
    CHECK_EQ_INT(I(&f, 4, SS_CR_UNITS), 4);
    CHECK_EQ_INT(I(&f, 4, SS_CR_REVENUE), 60000);
    CHECK_EQ_INT(I(&f, 4, SS_CR_FINAL), 1);
    fx_save_restore(&f);
    advance(&f, 60000);
    CHECK_EQ_INT(rows(&f), 5); /* nothing twice */
    ev(&f, SS_EV_PURCHASE, 119999, "u1", "p1", "toys", 1, 1);     /* u1 already counted there */
    fx_save_restore(&f);
    advance(&f, SS_TS_MAX);
    CHECK_EQ_INT(rows(&f), 6);
    CHECK_EQ_INT(I(&f, 5, SS_CR_WINDOW_START), 60000);
    CHECK_EQ_INT(I(&f, 5, SS_CR_BUYERS), 1);
    CHECK_EQ_INT(I(&f, 5, SS_CR_ORDERS), 2);
    check_same_as_twin(&f);
    fx_close(&f);
}

static void small_hourly(struct ss_config *c) { c->hourly_sales_ms = 10000; }

TEST(test_hourly_several_windows) {
    struct fx f;
    fx_begin(&f, &ss_op_hourly_sales, small_hourly);
    for (int i = 0; i < 40; i++) {
        char u[8], c[8];
        snprintf(u, sizeof u, "u%d", i % 7);
        snprintf(c, sizeof c, "c%d", i % 3);
        ev(&f, SS_EV_PURCHASE, 2500 * i, u, "p", c, 100 + i, 1 + i % 4);
        if (i % 5 == 4) {
            fx_save_restore(&f);
            check_provisional_as_twin(&f);
            advance(&f, 2500 * i - 10000);
        }
    }
    fx_save_restore(&f);
    advance(&f, SS_TS_MAX);
    check_same_as_twin(&f);
    fx_close(&f);
}

/* Funnel: one aggregate per window, the three distinct-user sets in one byte per user. */
TEST(test_funnel_across_save) {
    struct fx f;
    fx_begin(&f, &ss_op_funnel, NULL);
    ev(&f, SS_EV_VIEW, 10, "a", "p", "c", 0, 1);
    ev(&f, SS_EV_VIEW, 11, "b", "p", "c", 0, 1);
    ev(&f, SS_EV_CART_ADD, 12, "a", "p", "c", 0, 1);
    ev(&f, SS_EV_VIEW, 13, NULL, "p", "c", 0, 1); /* no user: counted nowhere */
    ev(&f, SS_EV_VIEW, 3600000, "a", "p", "c", 0, 1); /* next window */
    fx_save_restore(&f);
    ev(&f, SS_EV_VIEW, 20, "a", "p", "c", 0, 1);     /* a already a viewer */
    ev(&f, SS_EV_CART_ADD, 21, "a", "p", "c", 0, 1); /* and a carter */
    ev(&f, SS_EV_CART_ADD, 22, "b", "p", "c", 0, 1);
    ev(&f, SS_EV_PURCHASE, 23, "a", "p", "c", 100, 1);
    fx_save_restore(&f);
    ev(&f, SS_EV_PURCHASE, 24, "a", "p", "c", 100, 1);
    advance(&f, 3600000);
    CHECK_EQ_INT(rows(&f), 1);
    CHECK_EQ_INT(I(&f, 0, SS_FN_VIEWERS), 2);
    CHECK_EQ_INT(I(&f, 0, SS_FN_CARTERS), 2);
    CHECK_EQ_INT(I(&f, 0, SS_FN_BUYERS), 1);
    CHECK_EQ_INT(I(&f, 0, SS_FN_VIEW_TO_CART), 10000);
    CHECK_EQ_INT(I(&f, 0, SS_FN_CART_TO_PURCHASE), 5000);
    fx_save_restore(&f);
    ev(&f, SS_EV_VIEW, 3600001, "a", "p", "c", 0, 1);
    ev(&f, SS_EV_VIEW, 3600002, "b", "p", "c", 0, 1);
    advance(&f, SS_TS_MAX);
    CHECK_EQ_INT(rows(&f), 2);
    CHECK_EQ_INT(I(&f, 1, SS_FN_VIEWERS), 2);
    check_same_as_twin(&f);
    fx_close(&f);
}

/* ---- handmade: trending ------------------------------------------------------------ */

static void small_trending(struct ss_config *c) {
    c->trending_size_ms = 3000;
    c->trending_slide_ms = 1000;
    c->trending_top = 2;
}

/* Windows partly emitted (the running sum on, panes behind it), a pane due exactly at
 * the save's watermark, ranks that change after the save. */
TEST(test_trending_across_save) {
    struct fx f;
    fx_begin(&f, &ss_op_trending, small_trending);
    ev(&f, SS_EV_VIEW, 500, "u", "a", "c", 0, 1);
    ev(&f, SS_EV_VIEW, 1500, "u", "b", "c", 0, 1);
    ev(&f, SS_EV_VIEW, 1600, "u", "b", "c", 0, 1);
    ev(&f, SS_EV_CART_ADD, 2500, "u", "c", "c", 0, 1);
    ev(&f, SS_EV_PURCHASE, 2600, "u", "a", "c", 300, 2);
    /* windows -2 (a), -1 (b, a) and 0 (b, a; c cut by top 2) out; the running sum
     * now holds panes 1, 2 */
    advance(&f, 3000);
    CHECK_EQ_INT(rows(&f), 5);
    fx_save_restore(&f);
    ev(&f, SS_EV_VIEW, 3000, "u", "c", "c", 0, 1);
    ev(&f, SS_EV_VIEW, 3100, "u", "c", "c", 0, 1);
    ev(&f, SS_EV_VIEW, 3200, "u", "c", "c", 0, 1);
    fx_save_restore(&f);
    advance(&f, 4000); /* [1000,4000): c 3 views, b 2 */
    CHECK_EQ_INT(rows(&f), 7);
    CHECK_EQ_INT(I(&f, 5, SS_TP_WINDOW_START), 1000);
    CHECK_EQ_STR(S(&f, 5, SS_TP_PRODUCT_ID), "c");
    CHECK_EQ_INT(I(&f, 5, SS_TP_VIEWS), 3);
    CHECK_EQ_INT(I(&f, 5, SS_TP_CART_ADDS), 1);
    CHECK_EQ_STR(S(&f, 6, SS_TP_PRODUCT_ID), "b");
    fx_save_restore(&f);
    advance(&f, 4000);
    CHECK_EQ_INT(rows(&f), 7); /* nothing twice */
    ev(&f, SS_EV_VIEW, 9000, "u", "d", "c", 0, 1); /* after a gap */
    fx_save_restore(&f);
    check_provisional_as_twin(&f);
    advance(&f, SS_TS_MAX);
    check_same_as_twin(&f);
    fx_close(&f);
}

/* Revenues that saturate: subtracting a saturated pane from the running sum does not
 * undo its addition, so a sum rebuilt from the panes would differ from the saved one. */
TEST(test_trending_saturated_revenue) {
    struct fx f;
    fx_begin(&f, &ss_op_trending, small_trending);
    int64_t huge = INT64_MAX / 2;
    ev(&f, SS_EV_PURCHASE, 0, "u", "a", "c", huge, 3);    /* pane 0: saturated */
    ev(&f, SS_EV_PURCHASE, 1000, "u", "a", "c", huge, 3); /* pane 1: saturated */
    ev(&f, SS_EV_PURCHASE, 2000, "u", "a", "c", 1, 1);
    advance(&f, 3000); /* the sum over panes 1, 2 is now MAX - MAX + 1 */
    fx_save_restore(&f);
    advance(&f, SS_TS_MAX);
    check_same_as_twin(&f);
    fx_close(&f);
}

/* ---- randomized: restored at random points vs. never saved ------------------------- */

static void rnd_small(struct ss_config *c) {
    c->category_revenue_ms = 1000;
    c->hourly_sales_ms = 7000;
    c->funnel_ms = 3000;
    c->trending_size_ms = 20000;
    c->trending_slide_ms = 1000;
    c->trending_top = 3;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void run_random(const struct ss_op_type *type, void (*tweak)(struct ss_config *), uint64_t seed,
                       size_t nevents, int64_t lateness, int64_t step) {
    rng = seed;
    struct fx f;
    fx_begin(&f, type, tweak);
    int64_t now = -50000, max_ts = SS_TS_MIN;
    int restores = 0;
    for (size_t e = 0; e < nevents; e++) {
        now += (int64_t)(rnd() % (uint64_t)(2 * step));
        if (rnd() % 300 == 0) now += 60000; /* a gap: windows closed in bulk */
        int64_t ts = now - (int64_t)(rnd() % (uint64_t)(lateness + lateness / 4 + 1));
        if (ts < f.clk.watermark) continue; /* late: never reaches operators */
        char u[16], p[16], c[16];
        snprintf(u, sizeof u, "user%d", (int)(rnd() % 30));
        snprintf(p, sizeof p, "p%d", (int)(rnd() % 25));
        int cat = (int)(rnd() % 5);
        snprintf(c, sizeof c, "cat%d", cat);
        int r = (int)(rnd() % 100);
        int t = r < 55 ? SS_EV_VIEW : r < 70 ? SS_EV_CART_ADD : r < 80 ? SS_EV_CART_REMOVE : SS_EV_PURCHASE;
        int64_t price = rnd() % 1000 == 0 ? INT64_MAX / 3 : (int64_t)(rnd() % 2000000);
        ev(&f, t, ts, r % 17 == 0 ? NULL : u, p, cat ? c : NULL, price, 1 + (int32_t)(rnd() % 4));
        if (ts > max_ts) max_ts = ts;
        if (max_ts - lateness > f.clk.watermark) advance(&f, max_ts - lateness);
        if (rnd() % 64 == 0) ss_intern_sweep(f.in);
        if (rnd() % 250 == 0) {
            fx_save_restore(&f);
            restores++;
            if (restores % 3 == 0) check_provisional_as_twin(&f);
        }
    }
    CHECK(restores >= 3);
    advance(&f, SS_TS_MAX);
    CHECK(rows(&f) > 0);
    check_same_as_twin(&f);
    fx_close(&f);
}

TEST(test_random) {
    const struct ss_op_type *types[] = {&ss_op_category_revenue, &ss_op_hourly_sales, &ss_op_funnel, &ss_op_trending};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        run_random(types[i], rnd_small, 1000 + i, 3000, 4000, 50);
        run_random(types[i], NULL, 2000 + i, 3000, 5 * 60000, 600); /* the default sizes */
    }
    run_random(&ss_op_trending, small_trending, 77, 3000, 2000, 100);
}

/* ---- damaged bytes ------------------------------------------------------------------ */

/* Loads b into a fresh operator of f's type: returns the load's code, and closes it. */
static int try_load(struct fx *f, const struct ss_op_type *type, const struct ss_buf *b, bool show) {
    struct ss_op_env env = {.cfg = &f->cfg, .intern = f->in};
    struct ss_err err = {0};
    struct ss_op *o;
    CHECK_EQ_INT(type->open(&o, &env, &err), SS_OK);
    struct ss_snap_r r = ss_snap_reader(b->p, b->len);
    int rc = type->load(o, &r, &err);
    if (rc) CHECK(err.msg[0] != '\0');
    if (show && rc) fprintf(stderr, "  refused: %s\n", err.msg);
    if (!rc) {
        /* what loaded must run to the end and let go of everything */
        struct ss_out out;
        ss_out_init(&out);
        struct ss_clock clk = {SS_TS_MAX, f->max_ts};
        o->wake = SS_TS_MIN;
        o->type->provisional(o, &out);
        o->type->advance(o, &clk, &out);
        CHECK_EQ_INT(o->type->state_keys(o), 0);
        ss_out_free(&out);
    }
    o->type->close(o);
    ss_intern_sweep(f->in);
    return rc;
}

/* Defects of a handmade tumbling savepoint (0: none). */
enum {
    TD_NONE, TD_TAG, TD_VERSION, TD_SIZE, TD_OFFGRID, TD_DUPWIN, TD_NOAGGS, TD_HASKEY, TD_DUPKEY, TD_NEGCOUNT,
    TD_AGG, TD_KIND, TD_DUPUSER, TD_HUGECOUNT, TD_N
};

/* category_revenue (keyed, buyers) with 60 s windows: two windows, two categories. */
static void tumble_bytes(struct ss_buf *b, int d) {
    ss_snap_tag(b, d == TD_TAG ? "hourly_sales" : "category_revenue");
    ss_snap_u32(b, d == TD_VERSION ? 2 : 1);
    ss_snap_i64(b, d == TD_SIZE ? 30000 : 60000);
    ss_snap_i64(b, d == TD_HUGECOUNT ? (int64_t)1 << 60 : 2);
    for (int w = 0; w < 2; w++) {
        ss_snap_i64(b, d == TD_OFFGRID && w ? 60001 : d == TD_DUPWIN ? 0 : 60000 * w);
        ss_snap_i64(b, d == TD_NOAGGS && w ? 0 : 2);
        for (int a = 0; a < (d == TD_NOAGGS && w ? 0 : 2); a++) {
            ss_snap_u8(b, d == TD_HASKEY && a ? 7 : 1);
            ss_snap_str(b, ss_str_c(d == TD_DUPKEY || a == 0 ? "toys" : "books"));
            ss_snap_i64(b, 1000);
            ss_snap_i64(b, d == TD_NEGCOUNT ? -1 : 1);
            ss_snap_i64(b, 1);
            ss_snap_i64(b, 0);
            ss_snap_i64(b, 0);
        }
        ss_snap_i64(b, 2);
        for (int u = 0; u < 2; u++) {
            bool dup = d == TD_DUPUSER && u;
            ss_snap_u32(b, d == TD_AGG && u ? 2 : dup ? 0 : (uint32_t)u);
            ss_snap_u8(b, d == TD_KIND ? SS_TUMBLE_VIEWERS : SS_TUMBLE_BUYERS);
            ss_snap_str(b, ss_str_c(dup || !u ? "u0" : "u1"));
        }
    }
}

/* Defects of a handmade funnel savepoint. */
enum { FD_NONE, FD_AGGS, FD_KEY, FD_FLAGS0, FD_FLAGS8, FD_DUPUSER, FD_N };

static void funnel_bytes(struct ss_buf *b, int d) {
    ss_snap_tag(b, "funnel");
    ss_snap_u32(b, 1);
    ss_snap_i64(b, 3600000);
    ss_snap_i64(b, 1);
    ss_snap_i64(b, 0);
    ss_snap_i64(b, d == FD_AGGS ? 2 : 1);
    for (int a = 0; a < (d == FD_AGGS ? 2 : 1); a++) {
        ss_snap_u8(b, d == FD_KEY);
        if (d == FD_KEY) ss_snap_str(b, ss_str_c("toys"));
        for (int i = 0; i < 5; i++) ss_snap_i64(b, 1);
    }
    ss_snap_i64(b, 2);
    ss_snap_str(b, ss_str_c("u0"));
    ss_snap_u8(b, d == FD_FLAGS0 ? 0 : d == FD_FLAGS8 ? 8 : 7);
    ss_snap_str(b, ss_str_c(d == FD_DUPUSER ? "u0" : "u1"));
    ss_snap_u8(b, 1);
}

/* Defects of a handmade trending savepoint (size 3 s, slide 1 s: n = 3). */
enum {
    RD_NONE, RD_SLIDE, RD_OLDPANE, RD_DUPPANE, RD_EMPTYPANE, RD_ZEROEVENTS, RD_VIEWS, RD_HUGE, RD_DUPPROD, RD_ON,
    RD_LO, RD_SPAN, RD_FINCOUNT, RD_FINPROD, RD_FINDUP, RD_OFFWITH, RD_N
};

/* next_k = 5; panes 5 (a, b) and 6 (a); fin on over [5, 7) with a, b. */
static void trending_bytes(struct ss_buf *b, int d) {
    ss_snap_tag(b, "trending");
    ss_snap_u32(b, 1);
    ss_snap_i64(b, 3000);
    ss_snap_i64(b, d == RD_SLIDE ? 500 : 1000);
    ss_snap_i64(b, 5);
    ss_snap_i64(b, 2);
    for (int p = 0; p < 2; p++) {
        ss_snap_i64(b, d == RD_OLDPANE && p ? 4 : d == RD_DUPPANE ? 5 : 5 + p);
        int n = d == RD_EMPTYPANE && p ? 0 : p ? 1 : 2;
        ss_snap_i64(b, n);
        for (int i = 0; i < n; i++) {
            ss_snap_str(b, ss_str_c(d == RD_DUPPROD || i == 0 ? "a" : "b"));
            ss_snap_i64(b, d == RD_ZEROEVENTS ? 0 : d == RD_HUGE ? INT64_MAX / 2 : 3);
            ss_snap_i64(b, d == RD_VIEWS ? 4 : 2);
            ss_snap_i64(b, 0);
            ss_snap_i64(b, 1);
            ss_snap_i64(b, 500);
        }
    }
    ss_snap_u8(b, d == RD_ON ? 2 : d == RD_OFFWITH ? 0 : 1);
    ss_snap_i64(b, d == RD_LO ? 4 : 5);
    ss_snap_i64(b, d == RD_SPAN ? 8 : 7);
    int n = d == RD_FINCOUNT ? 1 : 2;
    ss_snap_i64(b, n);
    for (int i = 0; i < n; i++) {
        ss_snap_str(b, ss_str_c(i == 0 ? "a" : d == RD_FINPROD ? "zz" : d == RD_FINDUP ? "a" : "b"));
        ss_snap_i64(b, 1000);
    }
}

static void check_defects(const struct ss_op_type *type, void (*tweak)(struct ss_config *),
                          void (*bytes)(struct ss_buf *, int), int ndefects) {
    struct fx f;
    fx_begin(&f, type, tweak);
    for (int d = 0; d < ndefects; d++) {
        struct ss_buf b = {0};
        bytes(&b, d);
        int rc = try_load(&f, type, &b, getenv("SHOW") != NULL);
        if (d == 0) CHECK_EQ_INT(rc, SS_OK); /* the handmade bytes are right: each defect is the refusal */
        else if (rc == SS_OK) fprintf(stderr, "%s: defect %d loaded\n", type->name, d);
        if (d) CHECK(rc != SS_OK);
        ss_free(b.p);
    }
    CHECK_EQ_INT(ss_intern_live(f.in), 0); /* nothing held by what was refused */
    fx_close(&f);
}

TEST(test_damaged_handmade) {
    check_defects(&ss_op_category_revenue, NULL, tumble_bytes, TD_N);
    check_defects(&ss_op_funnel, NULL, funnel_bytes, FD_N);
    check_defects(&ss_op_trending, small_trending, trending_bytes, RD_N);
}

/* Every byte of a real savepoint garbled in turn: loaded or refused, never a crash, a
 * leak or an id held twice (fx_close checks every id was let go). */
static void garble(const struct ss_op_type *type, void (*tweak)(struct ss_config *)) {
    struct fx f;
    fx_begin(&f, type, tweak);
    rng = 99;
    for (int i = 0; i < 60; i++) {
        char u[8], p[8], c[8];
        snprintf(u, sizeof u, "u%d", (int)(rnd() % 5));
        snprintf(p, sizeof p, "p%d", (int)(rnd() % 5));
        snprintf(c, sizeof c, "c%d", (int)(rnd() % 3));
        ev(&f, i % 4 == 0 ? SS_EV_PURCHASE : i % 4 == 1 ? SS_EV_CART_ADD : SS_EV_VIEW, 500 * i, u, p, c, 100, 1);
        if (i == 40) advance(&f, 500 * i - 2500);
    }
    struct ss_buf b = {0};
    f.op->type->save(f.op, &b);
    size_t refused = 0;
    for (size_t i = 0; i < b.len; i++) {
        for (int k = 0; k < 2; k++) {
            unsigned char was = ((unsigned char *)b.p)[i];
            ((unsigned char *)b.p)[i] = k ? (unsigned char)(was ^ 0x80) : (unsigned char)(was + 1);
            refused += try_load(&f, type, &b, false) != SS_OK;
            ((unsigned char *)b.p)[i] = was;
        }
    }
    CHECK(refused > b.len / 4);
    CHECK_EQ_INT(try_load(&f, type, &b, false), SS_OK);
    ss_free(b.p);
    fx_close(&f);
}

static void tiny_windows(struct ss_config *c) {
    c->category_revenue_ms = 5000;
    c->funnel_ms = 5000;
    small_trending(c);
}

TEST(test_damaged_garbled) {
    garble(&ss_op_category_revenue, tiny_windows);
    garble(&ss_op_funnel, tiny_windows);
    garble(&ss_op_trending, tiny_windows);
}

int main(void) {
    RUN(test_empty);
    RUN(test_category_across_save);
    RUN(test_hourly_several_windows);
    RUN(test_funnel_across_save);
    RUN(test_trending_across_save);
    RUN(test_trending_saturated_revenue);
    RUN(test_random);
    RUN(test_damaged_handmade);
    RUN(test_damaged_garbled);
    return ss_t_report("windows_snap");
}
