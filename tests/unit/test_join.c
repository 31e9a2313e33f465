/* test_join.c — the promotion join (src/ops/join.c) against SEMANTICS §7: both arrival
 * orders, [starts_at, ends_at), grace by the click's own partition, promotion eviction,
 * bounded click memory, and a randomized comparison with a brute-force model. */
#include <stdlib.h>

#include "core/alloc.h"
#include "core/timefmt.h"
#include "harness.h"
#include "op_fixture.h"
#include "ops/op.h"

#define GRACE 120000

static void fx_open(struct fx *f) {
    fx_init(f);
    f->cfg.join_grace_ms = GRACE;
    fx_start(f, &ss_op_promo_join);
}

/* The engine's part: process with max_ts excluding the event, then update max_ts. */
static void deliver(struct fx *f, struct ss_event *ev) {
    fx_process(f, ev);
    if (ev->ts > f->max_ts[ev->slot]) f->max_ts[ev->slot] = ev->ts;
    ss_intern_sweep(f->in);
}

static void click(struct fx *f, const char *id, const char *user, const char *product, int type, int64_t ts,
                  uint32_t slot) {
    char idbuf[64];
    snprintf(idbuf, sizeof idbuf, "%s", id);
    struct ss_event ev;
    memset(&ev, 0, sizeof ev);
    ev.stream = SS_STREAM_CLICKS;
    ev.type = (uint8_t)type;
    ev.ts = ts;
    ev.quantity = 1;
    ev.event_id = ss_str_c(idbuf);
    ev.user_id = ss_str_c(user);
    ev.product_id = ss_str_c(product);
    ev.user = ss_intern_get(f->in, ev.user_id);
    ev.product = ss_intern_get(f->in, ev.product_id);
    ev.slot = slot;
    deliver(f, &ev);
    memset(idbuf, 'X', sizeof idbuf); /* the operator must have copied the event_id */
}

static void promo(struct fx *f, const char *id, const char *product, int64_t starts, int64_t ends, int64_t pct,
                  int64_t ts, uint32_t slot) {
    struct ss_event ev;
    memset(&ev, 0, sizeof ev);
    ev.stream = SS_STREAM_PROMOTIONS;
    ev.type = SS_EV_PROMOTION;
    ev.ts = ts;
    ev.promo_id = ss_str_c(id);
    ev.product_id = ss_str_c(product);
    ev.discount_pct = pct;
    ev.starts_at = starts;
    ev.ends_at = ends;
    ev.promo = ss_intern_get(f->in, ev.promo_id);
    ev.product = ss_intern_get(f->in, ev.product_id);
    ev.slot = slot;
    deliver(f, &ev);
}

static size_t nrows(struct fx *f) { return f->out.t[SS_T_PROMO_MATCHES].n; }
static struct ss_val *row(struct fx *f, size_t i) { return ss_out_get(&f->out, SS_T_PROMO_MATCHES, i); }

static bool has_row(struct fx *f, const char *eid, const char *pid) {
    for (size_t i = 0; i < nrows(f); i++) {
        struct ss_val *v = row(f, i);
        if (strcmp(v[SS_PM_EVENT_ID].s, eid) == 0 && strcmp(v[SS_PM_PROMO_ID].s, pid) == 0) return true;
    }
    return false;
}

TEST(promotion_first) {
    struct fx f;
    fx_open(&f);
    promo(&f, "q1", "p1", 1000, 2000, 125000, 0, 0);
    promo(&f, "q2", "p2", 0, 5000, 100000, 0, 0);
    click(&f, "c-start", "u1", "p1", SS_EV_VIEW, 1000, 1);     /* starts_at inclusive */
    click(&f, "c-last", "u2", "p1", SS_EV_CART_ADD, 1999, 1);  /* before ends_at */
    click(&f, "c-end", "u1", "p1", SS_EV_VIEW, 2000, 1);       /* ends_at exclusive */
    click(&f, "c-before", "u1", "p1", SS_EV_VIEW, 999, 1);
    click(&f, "c-remove", "u1", "p1", SS_EV_CART_REMOVE, 1500, 1); /* not a view or cart_add */
    click(&f, "c-buy", "u1", "p1", SS_EV_PURCHASE, 1500, 1);
    CHECK_EQ_INT(nrows(&f), 2);
    struct ss_val *v = row(&f, 0);
    CHECK_EQ_STR(v[SS_PM_EVENT_ID].s, "c-start");
    CHECK_EQ_STR(v[SS_PM_PROMO_ID].s, "q1");
    CHECK_EQ_STR(v[SS_PM_USER_ID].s, "u1");
    CHECK_EQ_STR(v[SS_PM_PRODUCT_ID].s, "p1");
    CHECK_EQ_INT(v[SS_PM_DISCOUNT_PCT].i, 125000);
    CHECK_EQ_INT(v[SS_PM_CLICK_TS].i, 1000);
    v = row(&f, 1);
    CHECK_EQ_STR(v[SS_PM_EVENT_ID].s, "c-last");
    CHECK_EQ_STR(v[SS_PM_USER_ID].s, "u2");
    CHECK_EQ_INT(v[SS_PM_CLICK_TS].i, 1999);
    fx_close(&f);
}

TEST(click_first_and_grace) {
    struct fx f;
    fx_open(&f);
    click(&f, "a", "u1", "p1", SS_EV_VIEW, 10000, 0);
    click(&f, "b", "u2", "p1", SS_EV_CART_ADD, 10000, 1);
    click(&f, "other", "u3", "p9", SS_EV_VIEW, 10000, 1);
    /* partition 0 moves to exactly ts + grace: "a" still joins */
    click(&f, "x0", "u4", "p5", SS_EV_VIEW, 10000 + GRACE, 0);
    /* partition 1 moves one past ts + grace: "b" no longer joins */
    click(&f, "x1", "u4", "p5", SS_EV_VIEW, 10000 + GRACE + 1, 1);
    CHECK_EQ_INT(nrows(&f), 0);
    promo(&f, "q", "p1", 0, 20000, 50000, 5, 2); /* the promotion's own partition plays no part */
    CHECK_EQ_INT(nrows(&f), 1);
    struct ss_val *v = row(&f, 0);
    CHECK_EQ_STR(v[SS_PM_EVENT_ID].s, "a");
    CHECK_EQ_STR(v[SS_PM_PROMO_ID].s, "q");
    CHECK_EQ_STR(v[SS_PM_USER_ID].s, "u1");
    CHECK_EQ_STR(v[SS_PM_PRODUCT_ID].s, "p1");
    CHECK_EQ_INT(v[SS_PM_DISCOUNT_PCT].i, 50000);
    CHECK_EQ_INT(v[SS_PM_CLICK_TS].i, 10000);
    /* a click already past its grace on arrival is matched against held promotions only */
    click(&f, "old", "u5", "p1", SS_EV_VIEW, 10000, 1);
    CHECK_EQ_INT(nrows(&f), 2);
    promo(&f, "q-late", "p1", 0, 20000, 1, 6, 2);
    CHECK(!has_row(&f, "old", "q-late"));
    CHECK(has_row(&f, "a", "q-late"));
    CHECK_EQ_INT(nrows(&f), 3);
    fx_close(&f);
}

TEST(promotion_eviction) {
    struct fx f;
    fx_open(&f);
    promo(&f, "q1", "p1", 0, 5000, 1, 0, 0);
    promo(&f, "q2", "p1", 0, 9000, 1, 0, 0);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 2);
    advance(&f, 5000); /* ends_at < W is false */
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 2);
    advance(&f, 5001);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 1);
    click(&f, "c", "u", "p1", SS_EV_VIEW, 5001, 0);
    CHECK_EQ_INT(nrows(&f), 1);
    CHECK_EQ_STR(row(&f, 0)[SS_PM_PROMO_ID].s, "q2");
    fx_close(&f);
}

/* Clicks past their grace are dropped in batches: memory follows what is live. */
TEST(click_memory_bounded) {
    struct fx f;
    fx_open(&f);
    char id[32], prod[32];
    size_t peak = 0;
    for (int i = 0; i < 200000; i++) {
        snprintf(id, sizeof id, "e%d", i);
        snprintf(prod, sizeof prod, "p%d", i % 5000);
        click(&f, id, "u", prod, SS_EV_VIEW, (int64_t)i * 100, 0); /* 1200 clicks within grace */
        size_t k = f.op->type->state_keys(f.op);
        if (k > peak) peak = k;
    }
    CHECK(peak <= 2 * 1201 + 1024);
    /* the live ones still join */
    promo(&f, "q", "p4999", 0, SS_TS_MAX, 7, 0, 1);
    CHECK_EQ_INT(nrows(&f), 1);
    CHECK_EQ_STR(row(&f, 0)[SS_PM_EVENT_ID].s, "e199999");
    fx_close(&f);
}

/* ---- randomized comparison ------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return rng_state;
}

struct item {
    int is_promo, product, slot, type;
    int64_t ts, starts, ends, pct;
    char id[16];
    char user[24];
};

static bool joins(int type) { return type == SS_EV_VIEW || type == SS_EV_CART_ADD; }
static uint64_t pair_of(int click, int promo) { return (uint64_t)click << 32 | (uint32_t)promo; }
static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Over all rounds: the pairs expected, those of them made by a promotion arriving after its
 * click, and the pairs the grace kept from forming (the click had expired): all must occur. */
static size_t total_pairs, total_promo_second, total_grace_expired;

/* The brute force of §7 builds the exact list of (click, promotion) pairs: a click arriving
 * matches every held promotion (ends_at >= W) of its product whose [starts_at, ends_at)
 * holds its ts; a promotion arriving matches every earlier click of its product in its
 * interval with c.ts + grace >= max_ts of the click's partition at that moment. Only views
 * and cart_adds join; late events never reach the operator. The operator's rows, as
 * (click, promotion) pairs, sorted, must be that list: no pair missing, none extra, none twice. */
static void random_round(uint64_t seed, int n_min, int n_span, int64_t unit) {
    rng_state = seed * 0x9e3779b97f4a7c15ULL + 7;
    struct fx f;
    fx_open(&f);
    int n = n_min + (int)(rnd() % (uint64_t)n_span);
    int64_t w = SS_TS_MIN;
    struct item *it = ss_calloc((size_t)n, sizeof *it);
    int64_t mx[4] = {SS_TS_MIN, SS_TS_MIN, SS_TS_MIN, SS_TS_MIN};
    uint64_t *expect = NULL;
    size_t nexpect = 0, cap = 0;
    SS_GROW(expect, cap, 64); /* never NULL, for qsort */
    int64_t base = 0;
    /* times in whole units (a second, or an eighth of one), so that the edges (ts =
     * starts_at, ts = ends_at, ts + grace = max_ts, ts = W) occur often */
    for (int i = 0; i < n; i++) {
        struct item *x = &it[i];
        base += (int64_t)(rnd() % 20) * unit;
        x->is_promo = rnd() % 8 == 0;
        x->product = (int)(rnd() % 6);
        x->slot = (int)(rnd() % 3);
        x->type = x->is_promo ? SS_EV_PROMOTION : (int)(rnd() % 4);
        x->ts = base - (int64_t)(rnd() % 300) * unit;
        snprintf(x->id, sizeof x->id, "%c%d", x->is_promo ? 'q' : 'c', i);
        /* users of 1 to 21 bytes: the copy of each length into the click store */
        if (rnd() % 5 == 0) snprintf(x->user, sizeof x->user, "u");
        else snprintf(x->user, sizeof x->user, "u%0*d", (int)(rnd() % 21), i);
        if (x->ts < w) { /* late: the engine never shows it to operators */
            x->product = -1;
            continue;
        }
        char prod[8];
        snprintf(prod, sizeof prod, "p%d", x->product);
        if (x->is_promo) {
            x->starts = base - (int64_t)(rnd() % 600) * unit;
            x->ends = x->starts + (int64_t)(rnd() % 600) * unit;
            x->pct = (int64_t)(rnd() % 1000000);
            for (int k = 0; k < i; k++) {
                struct item *c = &it[k];
                if (c->is_promo || c->product != x->product || !joins(c->type)) continue;
                if (!(x->starts <= c->ts && c->ts < x->ends)) continue;
                if (c->ts + GRACE < mx[c->slot]) {
                    total_grace_expired++;
                    continue;
                }
                SS_GROW(expect, cap, nexpect + 1);
                expect[nexpect++] = pair_of(k, i);
                total_promo_second++;
            }
            promo(&f, x->id, prod, x->starts, x->ends, x->pct, x->ts, (uint32_t)x->slot);
        } else {
            for (int k = 0; k < i && joins(x->type); k++) {
                struct item *q = &it[k];
                if (!q->is_promo || q->product != x->product || q->ends < w) continue;
                if (q->starts <= x->ts && x->ts < q->ends) {
                    SS_GROW(expect, cap, nexpect + 1);
                    expect[nexpect++] = pair_of(i, k);
                }
            }
            click(&f, x->id, x->user, prod, x->type, x->ts, (uint32_t)x->slot);
        }
        if (x->ts > mx[x->slot]) mx[x->slot] = x->ts;
        int64_t lo = mx[0] < mx[1] ? mx[0] : mx[1];
        if (mx[2] < lo) lo = mx[2];
        if (lo != SS_TS_MIN && lo - 900000 > w) {
            w = lo - 900000;
            advance(&f, w);
        }
    }
    total_pairs += nexpect;
    /* the rows as pairs; each row's values are those of its click and promotion */
    size_t ngot = nrows(&f);
    uint64_t *got = ss_calloc(ngot + 1, sizeof *got);
    int bad = 0;
    for (size_t r = 0; r < ngot; r++) {
        struct ss_val *v = row(&f, r);
        int ci = atoi(v[SS_PM_EVENT_ID].s + 1), qi = atoi(v[SS_PM_PROMO_ID].s + 1);
        if (v[SS_PM_EVENT_ID].s[0] != 'c' || v[SS_PM_PROMO_ID].s[0] != 'q' || ci < 0 || ci >= n || qi < 0 ||
            qi >= n || strcmp(it[ci].id, v[SS_PM_EVENT_ID].s) != 0 || strcmp(it[qi].id, v[SS_PM_PROMO_ID].s) != 0) {
            bad++;
            continue;
        }
        char prod[8];
        snprintf(prod, sizeof prod, "p%d", it[ci].product);
        if (strcmp(v[SS_PM_PRODUCT_ID].s, prod) != 0 || strcmp(v[SS_PM_USER_ID].s, it[ci].user) != 0 ||
            v[SS_PM_CLICK_TS].i != it[ci].ts || v[SS_PM_DISCOUNT_PCT].i != it[qi].pct)
            bad++;
        got[r] = pair_of(ci, qi);
    }
    CHECK_EQ_INT(bad, 0);
    qsort(expect, nexpect, sizeof *expect, cmp_u64);
    qsort(got, ngot, sizeof *got, cmp_u64);
    size_t d = 0;
    while (d < nexpect && d < ngot && expect[d] == got[d]) d++;
    CHECK(ngot == nexpect && d == nexpect);
    if (ngot != nexpect || d != nexpect) {
        uint64_t g = d < ngot ? got[d] : 0, e = d < nexpect ? expect[d] : 0;
        fprintf(stderr, "  seed %llu: %zu pairs, expected %zu; first difference at %zu: got (c%u, q%u), "
                        "expected (c%u, q%u)\n", (unsigned long long)seed, ngot, nexpect, d,
                (unsigned)(g >> 32), (unsigned)g, (unsigned)(e >> 32), (unsigned)e);
    }
    ss_free(got);
    ss_free(expect);
    ss_free(it);
    fx_close(&f);
}

TEST(randomized_vs_brute_force) {
    for (uint64_t seed = 1; seed <= 60; seed++) random_round(seed, 500, 3000, 1000);
    CHECK(total_pairs > 0);
    CHECK(total_promo_second > 0);
    CHECK(total_grace_expired > 0);
}

/* Rounds long enough for many compactions of the held clicks (one each time their array
 * doubles past 1,024), in units of 125 ms: ~100 clicks within the grace and a disorder of
 * a third of it, so that the survivors of a compaction come in several runs between
 * expired clicks. Each match after a compaction names its click's event_id and user_id,
 * which moved with it. */
TEST(randomized_across_compactions) {
    total_pairs = total_promo_second = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) random_round(1000 + seed, 20000, 5000, 125);
    CHECK(total_promo_second > 1000);
}

/* ---- savepoints ---------------------------------------------------------------------- */

/* Promotions and held clicks open across a save point: each kind of pair forms after the
 * restore, the clicks keep their user and event ids and their partition's grace, and a
 * promotion due exactly at the save's watermark (ends_at == W) is still held. */
TEST(save_restore_open_state) {
    struct fx f;
    fx_open(&f);
    promo(&f, "q1", "p1", 1000, 50000, 125000, 0, 0);
    promo(&f, "q2", "p2", 0, 9000, 100000, 0, 0);
    click(&f, "c1", "u1", "p3", SS_EV_VIEW, 20000, 1);
    click(&f, "c2", "u2", "p3", SS_EV_CART_ADD, 20000, 2);
    click(&f, "c3", "u3", "p3", SS_EV_PURCHASE, 21000, 1); /* not held */
    advance(&f, 9000);
    CHECK_EQ_INT(nrows(&f), 0);
    fx_save_restore(&f);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 4);
    click(&f, "c4", "u4", "p1", SS_EV_VIEW, 30000, 0);
    click(&f, "c5", "u5", "p2", SS_EV_VIEW, 8999, 0); /* q2 ends at 9000 == W: still held */
    CHECK(has_row(&f, "c4", "q1"));
    CHECK(has_row(&f, "c5", "q2"));
    /* partition 1 moves to exactly c1.ts + grace, partition 2 one past c2's */
    click(&f, "x1", "u9", "p9", SS_EV_VIEW, 20000 + GRACE, 1);
    click(&f, "x2", "u9", "p9", SS_EV_VIEW, 20000 + GRACE + 1, 2);
    fx_save_restore(&f);
    promo(&f, "q3", "p3", 0, 30000, 7, 0, 3);
    CHECK(has_row(&f, "c1", "q3"));
    CHECK(!has_row(&f, "c2", "q3"));
    for (size_t i = 0; i < nrows(&f); i++) {
        struct ss_val *v = row(&f, i);
        if (strcmp(v[SS_PM_EVENT_ID].s, "c1") != 0) continue;
        CHECK_EQ_STR(v[SS_PM_USER_ID].s, "u1");
        CHECK_EQ_STR(v[SS_PM_PRODUCT_ID].s, "p3");
        CHECK_EQ_INT(v[SS_PM_DISCOUNT_PCT].i, 7);
        CHECK_EQ_INT(v[SS_PM_CLICK_TS].i, 20000);
    }
    CHECK_EQ_INT(nrows(&f), 3);
    advance(&f, 9001); /* q2 goes */
    fx_save_restore(&f);
    click(&f, "c6", "u6", "p2", SS_EV_VIEW, 8999, 0);
    CHECK(!has_row(&f, "c6", "q2"));
    fx_close(&f);
}

TEST(save_restore_empty) {
    struct fx f;
    fx_open(&f);
    fx_save_restore(&f);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 0);
    promo(&f, "q", "p", 0, 100, 1, 0, 0);
    click(&f, "c", "u", "p", SS_EV_VIEW, 50, 0);
    CHECK_EQ_INT(nrows(&f), 1);
    advance(&f, SS_TS_MAX); /* everything evicted: the empty state again */
    fx_save_restore(&f);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 0);
    fx_close(&f);
}

/* More clicks than a sweep's batch: the restored operator compacts when the saved one
 * would have (the twin checks state_keys after every advance). */
TEST(save_restore_across_sweeps) {
    struct fx f;
    fx_open(&f);
    char id[32], prod[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "e%d", i);
        snprintf(prod, sizeof prod, "p%d", i % 50);
        click(&f, id, "u", prod, SS_EV_VIEW, (int64_t)i * 100, 0);
        if (i % 1237 == 0) fx_save_restore(&f);
        if (i % 97 == 0) advance(&f, (int64_t)i * 50);
    }
    promo(&f, "q", "p49", 0, SS_TS_MAX, 7, 0, 1);
    CHECK_EQ_INT(nrows(&f), 25); /* e4849 .. e4999 within grace (120 s at 100 ms) */
    fx_close(&f);
}


static size_t restores_done;

/* The same random events through an operator that runs straight and one saved and
 * restored at random points: the rows must be the same multiset. */
static void save_round(uint64_t seed) {
    rng_state = seed * 0x2545f4914f6cdd1dULL + 11;
    struct fx a, b;
    fx_open(&a);
    fx_open(&b);
    int n = 300 + (int)(rnd() % 2500);
    int64_t w = SS_TS_MIN, base = 0;
    int64_t mx[3] = {SS_TS_MIN, SS_TS_MIN, SS_TS_MIN};
    for (int i = 0; i < n; i++) {
        base += (int64_t)(rnd() % 20) * 1000;
        bool is_promo = rnd() % 8 == 0;
        int slot = (int)(rnd() % 3);
        int64_t ts = base - (int64_t)(rnd() % 300) * 1000;
        if (ts < w) continue;
        char id[16], prod[8], user[8];
        snprintf(id, sizeof id, "%c%d", is_promo ? 'q' : 'c', i);
        snprintf(prod, sizeof prod, "p%d", (int)(rnd() % 6));
        snprintf(user, sizeof user, "u%d", (int)(rnd() % 9));
        if (is_promo) {
            int64_t starts = base - (int64_t)(rnd() % 600) * 1000;
            int64_t ends = starts + (int64_t)(rnd() % 600) * 1000;
            int64_t pct = (int64_t)(rnd() % 1000001);
            promo(&a, id, prod, starts, ends, pct, ts, (uint32_t)slot);
            promo(&b, id, prod, starts, ends, pct, ts, (uint32_t)slot);
        } else {
            int type = (int)(rnd() % 4);
            if (rnd() % 50 == 0) id[0] = '\0'; /* an empty event_id is kept as such */
            click(&a, id, user, prod, type, ts, (uint32_t)slot);
            click(&b, id, user, prod, type, ts, (uint32_t)slot);
        }
        if (ts > mx[slot]) mx[slot] = ts;
        int64_t lo = mx[0] < mx[1] ? mx[0] : mx[1];
        if (mx[2] < lo) lo = mx[2];
        if (lo != SS_TS_MIN && lo - 900000 > w) {
            w = lo - 900000;
            advance(&a, w);
            advance(&b, w);
        }
        if (rnd() % 200 == 0) {
            fx_save_restore(&b);
            restores_done++;
        }
    }
    advance(&a, SS_TS_MAX);
    advance(&b, SS_TS_MAX);
    fx_rows_match(&a.out, &b.out, SS_T_PROMO_MATCHES);
    fx_close(&a);
    fx_close(&b);
}

TEST(randomized_save_restore) {
    for (uint64_t seed = 1; seed <= 40; seed++) save_round(seed);
    CHECK(restores_done > 100);
}

/* ---- damaged savepoints ---- */

struct jsnap {
    uint32_t version;
    int64_t promo_count, discount, click_count, sweep_at;
    const char *promo_product, *click_product;
    uint32_t click_slot;
};

static uint32_t jload_slots = UINT32_MAX; /* the engine's slot count jload tells the load */

static void jsnap_write(struct ss_buf *b, const struct jsnap *s) {
    ss_snap_tag(b, "promo_join");
    ss_snap_u32(b, s->version);
    ss_snap_i64(b, s->promo_count);
    for (int i = 0; i < 2; i++) {
        ss_snap_i64(b, 0);
        ss_snap_i64(b, 1000);
        ss_snap_i64(b, s->discount);
        ss_snap_str(b, ss_str_c(i ? "q2" : "q1"));
        ss_snap_str(b, ss_str_c(s->promo_product));
    }
    ss_snap_i64(b, s->click_count);
    for (int i = 0; i < 2; i++) {
        ss_snap_i64(b, 500);
        ss_snap_u32(b, s->click_slot);
        ss_snap_str(b, ss_str_c(s->click_product));
        ss_snap_str(b, ss_str_c("e"));
        ss_snap_str(b, ss_str_c("u"));
    }
    ss_snap_i64(b, s->sweep_at);
}

/* Loads b into a fresh operator and closes it: returns the load's result; the intern
 * table must hold nothing afterwards (no id held twice, none leaked). */
static int jload(const void *p, size_t len) {
    struct ss_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.join_grace_ms = GRACE;
    struct ss_intern *in = ss_intern_new();
    struct ss_op_env env = {.cfg = &cfg, .intern = in};
    struct ss_err err = {0};
    struct ss_op *op;
    CHECK_EQ_INT(ss_op_promo_join.open(&op, &env, &err), SS_OK);
    struct ss_snap_r r = ss_snap_reader(p, len);
    r.slots = jload_slots;
    int rc = ss_op_promo_join.load(op, &r, &err);
    if (rc == SS_OK) CHECK(r.p == r.end);
    else CHECK(strstr(err.msg, "promo_join") != NULL);
    ss_op_promo_join.close(op);
    ss_intern_sweep(in);
    CHECK_EQ_INT(ss_intern_live(in), 0);
    ss_intern_free(in);
    return rc;
}

static int jload_snap(const struct jsnap *s) {
    struct ss_buf b = {0};
    jsnap_write(&b, s);
    int rc = jload(b.p, b.len);
    ss_free(b.p);
    return rc;
}

TEST(damaged_savepoints_refused) {
    const struct jsnap good = {1, 2, 5000, 2, 1024, "p1", "p1", 0};
    CHECK_EQ_INT(jload_snap(&good), SS_OK);
    struct jsnap s = good;
    s.version = 2;
    CHECK(jload_snap(&s) != SS_OK);
    s = good;
    s.promo_count = 3; /* more than follow */
    CHECK(jload_snap(&s) != SS_OK);
    s.promo_count = 1; /* fewer: the second one's bytes are read as the click count */
    CHECK(jload_snap(&s) != SS_OK);
    s.promo_count = -1;
    CHECK(jload_snap(&s) != SS_OK);
    s.promo_count = INT64_MAX;
    CHECK(jload_snap(&s) != SS_OK);
    s = good;
    s.click_count = 1; /* the second click's ts is read as sweep_at */
    CHECK(jload_snap(&s) != SS_OK);
    s.click_count = (int64_t)1 << 40;
    CHECK(jload_snap(&s) != SS_OK);
    s = good;
    s.discount = -1;
    CHECK(jload_snap(&s) != SS_OK);
    s.discount = 100 * 10000 + 1;
    CHECK(jload_snap(&s) != SS_OK);
    s = good;
    s.promo_product = "";
    CHECK(jload_snap(&s) != SS_OK);
    s = good;
    s.click_product = "";
    CHECK(jload_snap(&s) != SS_OK);
    s = good;
    s.sweep_at = 1023;
    CHECK(jload_snap(&s) != SS_OK);
    s.sweep_at = 1025; /* 2 clicks: at most max(2 * 2, 1024) */
    CHECK(jload_snap(&s) != SS_OK);
    s.sweep_at = -5;
    CHECK(jload_snap(&s) != SS_OK);
    s = good;
    s.click_slot = 2; /* the engine loaded 3 slots, then 2 */
    jload_slots = 3;
    CHECK_EQ_INT(jload_snap(&s), SS_OK);
    jload_slots = 2;
    CHECK(jload_snap(&s) != SS_OK);
    jload_slots = UINT32_MAX;

    /* a real savepoint with random bytes garbled: refused or loaded, never a crash, a
     * leak or an id held twice (ASan and the intern count) */
    struct fx f;
    fx_open(&f);
    promo(&f, "q1", "p1", 0, 90000, 5, 0, 0);
    promo(&f, "q2", "p2", 0, 90000, 5, 0, 0);
    for (int i = 0; i < 30; i++) {
        char id[16], prod[8];
        snprintf(id, sizeof id, "c%d", i);
        snprintf(prod, sizeof prod, "p%d", i % 4);
        click(&f, id, "user", prod, SS_EV_VIEW, 1000 + i, (uint32_t)(i % 3));
    }
    struct ss_buf b = {0};
    f.op->type->save(f.op, &b);
    rng_state = 12345;
    int refused = 0;
    for (int t = 0; t < 2000; t++) {
        unsigned char *copy = ss_malloc(b.len);
        memcpy(copy, b.p, b.len);
        for (int k = 0; k < 1 + (int)(rnd() % 3); k++) copy[rnd() % b.len] ^= (unsigned char)(1 + rnd() % 255);
        if (jload(copy, b.len) != SS_OK) refused++;
        ss_free(copy);
    }
    CHECK(refused > 0);
    ss_free(b.p);
    fx_close(&f);
}

int main(void) {
    RUN(promotion_first);
    RUN(click_first_and_grace);
    RUN(promotion_eviction);
    RUN(click_memory_bounded);
    RUN(randomized_vs_brute_force);
    RUN(randomized_across_compactions);
    RUN(save_restore_open_state);
    RUN(save_restore_empty);
    RUN(save_restore_across_sweeps);
    RUN(randomized_save_restore);
    RUN(damaged_savepoints_refused);
    return ss_t_report("join");
}
