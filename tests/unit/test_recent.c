/* test_recent.c — recently viewed (src/ops/recent.c) against SEMANTICS §9: distinct
 * products, ts desc then product_id asc, the size cap, the TTL, rows at flush only for
 * changed users, and the query function. */
#include <stdlib.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/snap.h"
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

/* Random views of a few users against a model of SEMANTICS §9 (the top `size` products
 * by latest view ts desc, product_id asc; a list dropped once its latest view + ttl < W),
 * at sizes around the list's growth steps (blocks of 4, 8, 16 items, then `size`):
 * lists that fill their first block, grow, hit the cap, and slots reused after a drop. */
#define M_USERS 6
#define M_PRODUCTS 14
struct m_user {
    int64_t ts[M_PRODUCTS]; /* latest view per product, -1 = none since the list began */
};

/* The user's latest view; -1 when the user has no list. */
static int64_t m_last(const struct m_user *u) {
    int64_t last = -1;
    for (int p = 0; p < M_PRODUCTS; p++)
        if (u->ts[p] > last) last = u->ts[p];
    return last;
}

static uint64_t m_rng = 0x9e3779b97f4a7c15ULL;
static uint32_t m_rand(uint32_t n) {
    m_rng ^= m_rng << 13;
    m_rng ^= m_rng >> 7;
    m_rng ^= m_rng << 17;
    return (uint32_t)(m_rng % n);
}

/* The model's list of u: product indexes in list order; returns its length. */
static int m_list(const struct m_user *u, int64_t size, int *idx) {
    int n = 0;
    for (int p = 0; p < M_PRODUCTS; p++)
        if (u->ts[p] >= 0) idx[n++] = p;
    for (int i = 1; i < n; i++) /* ts desc, then name asc: "p00".."p13" sort as their index */
        for (int k = i; k > 0 && (u->ts[idx[k]] > u->ts[idx[k - 1]] ||
                                  (u->ts[idx[k]] == u->ts[idx[k - 1]] && idx[k] < idx[k - 1])); k--) {
            int t = idx[k];
            idx[k] = idx[k - 1];
            idx[k - 1] = t;
        }
    return n < size ? n : (int)size;
}

/* With restore, the operator is also saved and restored at random points, and flushed
 * at random: it must still agree with the model, and at the end its rows with those of
 * its uninterrupted twin. */
static void model_rounds(bool restore) {
    static const int64_t sizes[] = {1, 3, 4, 5, 7, 8, 9, 20};
    const int64_t ttl = 500;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        int64_t size = sizes[si];
        struct fx f;
        fx_open(&f, size, ttl);
        struct m_user mu[M_USERS];
        for (int u = 0; u < M_USERS; u++)
            for (int p = 0; p < M_PRODUCTS; p++) mu[u].ts[p] = -1;
        int64_t w = 0;
        int bad = 0, grown = 0;
        for (int step = 0; step < 4000 && !bad; step++) {
            if (m_rand(40) == 0) {
                /* half the time exactly to a list's deadline (kept at W = last + ttl) or
                 * one past it (dropped), where an off-by-one would show */
                int64_t last = m_last(&mu[m_rand(M_USERS)]);
                int64_t at = last + ttl + (int64_t)m_rand(2);
                if (m_rand(2) && last >= 0 && at >= w) w = at; /* W never goes back */
                else w += m_rand(300);
                advance(&f, w);
                for (int u = 0; u < M_USERS; u++)
                    if (m_last(&mu[u]) >= 0 && m_last(&mu[u]) + ttl < w)
                        for (int p = 0; p < M_PRODUCTS; p++) mu[u].ts[p] = -1;
            }
            int u = (int)m_rand(M_USERS), p = (int)m_rand(M_PRODUCTS);
            int64_t ts = w + m_rand(400);
            char user[8], product[8];
            snprintf(user, sizeof user, "u%d", u);
            snprintf(product, sizeof product, "p%02d", p);
            view(&f, user, product, ts, SS_EV_VIEW);
            if (ts > mu[u].ts[p]) mu[u].ts[p] = ts;
            if (restore && m_rand(50) == 0) fx_flush(&f);
            if (restore && m_rand(80) == 0) fx_save_restore(&f);

            int idx[M_PRODUCTS];
            int n = m_list(&mu[u], size, idx);
            if (n > 4) grown++; /* past the first block of 4 */
            struct ss_str got[M_PRODUCTS + 1];
            int64_t last = -1;
            int k = ss_recent_get(f.op, ss_str_c(user), got, M_PRODUCTS + 1, &last);
            bad = k != n || last != mu[u].ts[idx[0]];
            for (int i = 0; i < k && !bad; i++) {
                snprintf(product, sizeof product, "p%02d", idx[i]);
                bad = !ss_str_eqc(got[i], product);
            }
            int live = 0;
            for (int v = 0; v < M_USERS; v++) live += m_last(&mu[v]) >= 0;
            bad = bad || (int)f.op->type->state_keys(f.op) != live;
        }
        CHECK(!bad);
        if (size > 4) CHECK(grown > 0);
        if (restore) {
            fx_flush(&f);
            advance(&f, SS_TS_MAX);
            fx_rows_match(&f.out, &f.twin_out, SS_T_RECENTLY_VIEWED);
        }
        fx_close(&f);
    }
}

TEST(against_model) { model_rounds(false); }


/* ---- savepoints ------------------------------------------------------------------------- */


TEST(savepoint_against_model) { model_rounds(true); }

static struct ss_val *find_row(struct fx *f, size_t from, const char *user) {
    for (size_t i = from; i < nrows(f); i++)
        if (!strcmp(row(f, i)[SS_RV_USER_ID].s, user)) return row(f, i);
    return NULL;
}

/* Empty state; changes made before the save and not flushed get their rows after the
 * load (at the flush, or when the list is dropped); a list due exactly at the save's
 * watermark is kept; order and the size cap hold for the loaded lists. */
TEST(savepoint_edges) {
    struct fx f;
    fx_open(&f, 3, 1000);
    fx_save_restore(&f);
    view(&f, "u", "p1", 100, SS_EV_VIEW);
    view(&f, "u", "p2", 200, SS_EV_VIEW);
    view(&f, "v", "q", 100, SS_EV_VIEW);
    fx_flush(&f);
    CHECK_EQ_INT(nrows(&f), 2);
    view(&f, "u", "p3", 300, SS_EV_VIEW); /* u changed, not flushed */
    view(&f, "w", "b", 500, SS_EV_VIEW);
    view(&f, "w", "a", 500, SS_EV_VIEW);
    view(&f, "w", "c", 400, SS_EV_VIEW);
    view(&f, "w", "d", 600, SS_EV_VIEW); /* c falls off */
    advance(&f, 1100);                   /* v: 100 + 1000 < 1100 is false, kept */
    fx_save_restore(&f);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 3);
    view(&f, "w", "c", 450, SS_EV_VIEW); /* after b at 500: falls off at once */
    view(&f, "u", "p1", 50, SS_EV_VIEW); /* an older view of a listed product */
    fx_flush(&f);
    CHECK_EQ_INT(nrows(&f), 4); /* u and w, not v */
    struct ss_val *v = find_row(&f, 2, "u");
    CHECK(v != NULL);
    if (v) {
        CHECK_EQ_STR(v[SS_RV_PRODUCTS].s, "[\"p3\",\"p2\",\"p1\"]");
        CHECK_EQ_INT(v[SS_RV_LAST_VIEW_TS].i, 300);
    }
    v = find_row(&f, 2, "w");
    CHECK(v != NULL);
    if (v) {
        CHECK_EQ_STR(v[SS_RV_PRODUCTS].s, "[\"d\",\"a\",\"b\"]");
        CHECK_EQ_INT(v[SS_RV_LAST_VIEW_TS].i, 600);
    }
    advance(&f, 1101); /* v dropped, with no pending change: no row */
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 2);
    CHECK_EQ_INT(nrows(&f), 4);
    view(&f, "u", "p4", 700, SS_EV_VIEW); /* changed, saved unflushed, dropped after the load */
    fx_save_restore(&f);
    advance(&f, 1701);
    CHECK_EQ_INT(nrows(&f), 5);
    CHECK_EQ_STR(row(&f, 4)[SS_RV_USER_ID].s, "u");
    CHECK_EQ_STR(row(&f, 4)[SS_RV_PRODUCTS].s, "[\"p4\",\"p3\",\"p2\"]");
    fx_flush(&f);
    CHECK_EQ_INT(nrows(&f), 5);
    advance(&f, SS_TS_MAX);
    fx_rows_match(&f.out, &f.twin_out, SS_T_RECENTLY_VIEWED);
    fx_close(&f);
}

/* ---- damaged savepoints: refused, and the operator closes clean ---- */

struct snap_item { const char *product; int64_t ts; };

static void put_user(struct ss_buf *b, const char *user, uint8_t dirty, int64_t n, const struct snap_item *it, int nit) {
    ss_snap_str(b, ss_str_c(user));
    ss_snap_u8(b, dirty);
    ss_snap_i64(b, n);
    for (int i = 0; i < nit; i++) {
        ss_snap_str(b, ss_str_c(it[i].product));
        ss_snap_i64(b, it[i].ts);
    }
}

/* Loads b into a fresh operator (size 3): the code it returned; the operator is closed
 * and the intern table must hold nothing afterwards. */
static int try_load(const struct ss_buf *b, bool whole) {
    struct ss_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.recent_size = 3;
    cfg.recent_ttl_ms = 1000;
    return fx_try_load(&ss_op_recent, &cfg, b, whole);
}

TEST(savepoint_damaged) {
    struct ss_buf b = {0};
    struct snap_item ok[3] = {{"b", 300}, {"a", 200}, {"c", 200}};
    fx_snap_head(&b, "recently_viewed", 1, 2);
    put_user(&b, "u", 1, 3, ok, 3);
    put_user(&b, "v", 0, 1, ok, 1);
    CHECK_EQ_INT(try_load(&b, true), SS_OK); /* the builder writes what save writes */

    fx_snap_head(&b, "sessions", 1, 0);
    CHECK(try_load(&b, true) != SS_OK);
    fx_snap_head(&b, "recently_viewed", 7, 0);
    CHECK(try_load(&b, true) != SS_OK);
    fx_snap_head(&b, "recently_viewed", 1, (int64_t)1 << 40);
    CHECK(try_load(&b, true) != SS_OK);

    /* each after a good user, so that the failure leaves state for close to release */
    struct snap_item four[4] = {{"a", 4}, {"b", 3}, {"c", 2}, {"d", 1}};
    struct snap_item bad[][2] = {
        {{"a", 100}, {"b", 200}},                  /* not latest first */
        {{"b", 100}, {"a", 100}},                  /* same ts, ids not ascending */
        {{"a", 100}, {"a", 100}},                  /* twice, same ts */
        {{"a", 200}, {"a", 100}},                  /* twice */
        {{"a", SS_TS_EVENT_MAX + 1}, {"b", 100}},  /* not an event's time */
        {{"a", 100}, {"b", SS_TS_EVENT_MIN - 1}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_snap_head(&b, "recently_viewed", 1, 2);
        put_user(&b, "good", 1, 3, ok, 3);
        put_user(&b, "x", 0, 2, bad[i], 2);
        CHECK(try_load(&b, true) != SS_OK);
    }
    fx_snap_head(&b, "recently_viewed", 1, 2); /* longer than recent.size */
    put_user(&b, "good", 1, 3, ok, 3);
    put_user(&b, "x", 0, 4, four, 4);
    CHECK(try_load(&b, true) != SS_OK);
    fx_snap_head(&b, "recently_viewed", 1, 2); /* a dirty flag other than 0 or 1 */
    put_user(&b, "good", 1, 3, ok, 3);
    put_user(&b, "x", 2, 1, ok, 1);
    CHECK(try_load(&b, true) != SS_OK);
    fx_snap_head(&b, "recently_viewed", 1, 2); /* an empty list */
    put_user(&b, "good", 1, 3, ok, 3);
    put_user(&b, "x", 0, 0, NULL, 0);
    put_user(&b, "padding", 0, 0, ok, 3);
    CHECK(try_load(&b, false) != SS_OK);
    fx_snap_head(&b, "recently_viewed", 1, 2); /* a user twice */
    put_user(&b, "u", 1, 1, ok, 1);
    put_user(&b, "u", 0, 1, ok + 1, 1);
    CHECK(try_load(&b, true) != SS_OK);

    /* garbled bytes of a real savepoint: refused or loaded, never a crash or a leak */
    struct fx f;
    fx_open(&f, 3, 1000);
    char u[16], p[16];
    for (int i = 0; i < 60; i++) {
        snprintf(u, sizeof u, "u%d", (int)m_rand(6));
        snprintf(p, sizeof p, "p%d", (int)m_rand(6));
        view(&f, u, p, (int64_t)m_rand(3000), SS_EV_VIEW);
    }
    struct ss_buf s = {0};
    f.op->type->save(f.op, &s);
    int refused = 0;
    for (int k = 0; k < 2000; k++) {
        b.len = 0;
        ss_buf_add(&b, s.p, s.len);
        for (int j = 0, nflip = 1 + (int)m_rand(3); j < nflip; j++)
            ((unsigned char *)b.p)[m_rand((uint32_t)b.len)] ^= (unsigned char)(1u << m_rand(8));
        refused += try_load(&b, false) != SS_OK;
    }
    CHECK(refused > 0);
    ss_free(s.p);
    fx_close(&f);
    ss_free(b.p);
}

int main(void) {
    RUN(distinct_and_ordered);
    RUN(size_cap);
    RUN(ttl);
    RUN(against_model);
    RUN(savepoint_edges);
    RUN(savepoint_against_model);
    RUN(savepoint_damaged);
    return ss_t_report("recent");
}
