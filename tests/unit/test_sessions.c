/* test_sessions.c — the sessions operator (src/ops/session.c) against SEMANTICS §6:
 * gap boundaries, out-of-order merges, emission time, the state budget, and a
 * randomized comparison with a brute-force sessionization. */
#include <stdlib.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/snap.h"
#include "core/timefmt.h"
#include "harness.h"
#include "op_fixture.h"
#include "ops/op.h"

#define GAP 1800000 /* 30 min */
#define MIN 60000

static void fx_open(struct fx *f) {
    fx_init(f);
    f->cfg.session_gap_ms = GAP;
    fx_start(f, &ss_op_sessions);
}

static void ev_send(struct fx *f, const char *user, int type, int64_t ts, int64_t price, int32_t qty) {
    struct ss_event ev;
    memset(&ev, 0, sizeof ev);
    ev.stream = type == SS_EV_PROMOTION ? SS_STREAM_PROMOTIONS : SS_STREAM_CLICKS;
    ev.type = (uint8_t)type;
    ev.ts = ts;
    ev.price = price;
    ev.quantity = qty;
    ev.event_id = SS_STR_LIT("e");
    ev.user_id = ss_str_c(user);
    ev.product_id = SS_STR_LIT("p1");
    ev.user = type == SS_EV_PROMOTION ? 0 : ss_intern_get(f->in, ev.user_id);
    ev.product = ss_intern_get(f->in, ev.product_id);
    fx_process(f, &ev);
    ss_intern_sweep(f->in); /* ids unheld by the operator must not survive */
}

static size_t nrows(struct fx *f) { return f->out.t[SS_T_SESSIONS].n; }
static struct ss_val *row(struct fx *f, size_t i) { return ss_out_get(&f->out, SS_T_SESSIONS, i); }

/* A gap of exactly 30 min keeps one session; 30 min + 1 ms starts a new one. */
TEST(gap_boundary) {
    struct fx f;
    fx_open(&f);
    ev_send(&f, "u1", SS_EV_VIEW, 0, 0, 1);
    ev_send(&f, "u1", SS_EV_VIEW, GAP, 0, 1);              /* same session */
    ev_send(&f, "u1", SS_EV_CART_ADD, 2 * GAP + 1, 0, 1);  /* new session */
    ev_send(&f, "u2", SS_EV_VIEW, 5, 0, 1);
    advance(&f, SS_TS_MAX);
    CHECK_EQ_INT(nrows(&f), 3);
    int seen = 0;
    for (size_t i = 0; i < nrows(&f); i++) {
        struct ss_val *v = row(&f, i);
        if (v[SS_SE_USER_ID].len == 2 && memcmp(v[SS_SE_USER_ID].s, "u1", 2) == 0 && v[SS_SE_SESSION_START].i == 0) {
            CHECK_EQ_INT(v[SS_SE_SESSION_END].i, GAP);
            CHECK_EQ_INT(v[SS_SE_EVENTS].i, 2);
            CHECK_EQ_INT(v[SS_SE_VIEWS].i, 2);
            CHECK_EQ_INT(v[SS_SE_DURATION_S].i, 1800);
            seen |= 1;
        } else if (v[SS_SE_SESSION_START].i == 2 * GAP + 1) {
            CHECK_EQ_INT(v[SS_SE_SESSION_END].i, 2 * GAP + 1);
            CHECK_EQ_INT(v[SS_SE_CART_ADDS].i, 1);
            CHECK_EQ_INT(v[SS_SE_VIEWS].i, 0);
            CHECK_EQ_INT(v[SS_SE_DURATION_S].i, 0);
            seen |= 2;
        } else if (v[SS_SE_SESSION_START].i == 5) {
            CHECK_EQ_STR(v[SS_SE_USER_ID].s, "u2");
            seen |= 4;
        }
    }
    CHECK_EQ_INT(seen, 7);
    fx_close(&f);
}

/* Two sessions 2*gap apart become one when an event lands in between. */
TEST(out_of_order_merge) {
    struct fx f;
    fx_open(&f);
    ev_send(&f, "u", SS_EV_VIEW, 10 * MIN, 0, 1);
    ev_send(&f, "u", SS_EV_PURCHASE, 10 * MIN + 2 * GAP, 1234500, 2); /* 246.90 */
    ev_send(&f, "u", SS_EV_VIEW, 10 * MIN + 2 * GAP + 1500, 0, 1);
    ev_send(&f, "promo-ignored", SS_EV_PROMOTION, 10 * MIN + GAP, 0, 1);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 2);
    ev_send(&f, "u", SS_EV_CART_REMOVE, 10 * MIN + GAP, 0, 1); /* within gap of both */
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 1);
    int64_t end = 10 * MIN + 2 * GAP + 1500;
    advance(&f, end + GAP); /* end + gap < W is false */
    CHECK_EQ_INT(nrows(&f), 0);
    advance(&f, end + GAP + 1);
    CHECK_EQ_INT(nrows(&f), 1);
    struct ss_val *v = row(&f, 0);
    CHECK_EQ_STR(v[SS_SE_USER_ID].s, "u");
    CHECK_EQ_INT(v[SS_SE_SESSION_START].i, 10 * MIN);
    CHECK_EQ_INT(v[SS_SE_SESSION_END].i, end);
    CHECK_EQ_INT(v[SS_SE_DURATION_S].i, (2 * GAP + 1500) / 1000);
    CHECK_EQ_INT(v[SS_SE_EVENTS].i, 4);
    CHECK_EQ_INT(v[SS_SE_VIEWS].i, 2);
    CHECK_EQ_INT(v[SS_SE_CART_ADDS].i, 0);
    CHECK_EQ_INT(v[SS_SE_PURCHASES].i, 1);
    CHECK_EQ_INT(v[SS_SE_REVENUE].i, 2469000);
    CHECK_EQ_INT(v[SS_SE_CONVERTED].i, 1);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 0);
    advance(&f, SS_TS_MAX);
    CHECK_EQ_INT(nrows(&f), 1);
    fx_close(&f);
}

/* An extended session is not emitted at its old deadline. */
TEST(extension_defers_emission) {
    struct fx f;
    fx_open(&f);
    ev_send(&f, "a", SS_EV_VIEW, 0, 0, 1);
    ev_send(&f, "b", SS_EV_VIEW, 1000, 0, 1);
    ev_send(&f, "a", SS_EV_VIEW, GAP, 0, 1); /* a now ends at GAP */
    advance(&f, GAP + 1);                    /* a's first deadline passed */
    CHECK_EQ_INT(nrows(&f), 0);
    advance(&f, GAP + 1001); /* b: 1000 + gap < W */
    CHECK_EQ_INT(nrows(&f), 1);
    CHECK_EQ_STR(row(&f, 0)[SS_SE_USER_ID].s, "b");
    advance(&f, 2 * GAP);
    CHECK_EQ_INT(nrows(&f), 1);
    advance(&f, 2 * GAP + 1);
    CHECK_EQ_INT(nrows(&f), 2);
    CHECK_EQ_STR(row(&f, 1)[SS_SE_USER_ID].s, "a");
    CHECK_EQ_INT(row(&f, 1)[SS_SE_EVENTS].i, 2);
    fx_close(&f);
}

/* <= 128 bytes per live session, index included, with 200k users. */
TEST(state_budget) {
    struct fx f;
    fx_open(&f);
    char u[32];
    for (int i = 0; i < 200000; i++) {
        snprintf(u, sizeof u, "user-%d", i);
        ev_send(&f, u, SS_EV_VIEW, (int64_t)i * 7, 0, 1);
    }
    for (int i = 0; i < 200000; i += 3) {
        snprintf(u, sizeof u, "user-%d", i);
        ev_send(&f, u, SS_EV_PURCHASE, (int64_t)i * 7 + 100, 10000, 1);
    }
    size_t keys = f.op->type->state_keys(f.op), bytes = f.op->type->state_bytes(f.op);
    CHECK_EQ_INT(keys, 200000);
    fprintf(stderr, "sessions: %.1f bytes per live session\n", (double)bytes / (double)keys);
    CHECK(bytes <= 128 * keys);
    advance(&f, SS_TS_MAX);
    CHECK_EQ_INT(nrows(&f), 200000);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 0);
    fx_close(&f);
}

/* ---- randomized comparison with a brute-force model -------------------------------------- */

struct rev { int user; int type; int64_t ts; int64_t price; int32_t qty; };
struct bsess { int user; int64_t start, end, revenue; int events, views, carts, purchases; };

static uint64_t rng_state;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return rng_state;
}

static int cmp_rev(const void *a, const void *b) {
    const struct rev *x = a, *y = b;
    if (x->user != y->user) return x->user < y->user ? -1 : 1;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}
static int cmp_bs(const void *a, const void *b) {
    const struct bsess *x = a, *y = b;
    if (x->user != y->user) return x->user < y->user ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int bs_eq(const struct bsess *a, const struct bsess *b) {
    return a->user == b->user && a->start == b->start && a->end == b->end && a->revenue == b->revenue &&
           a->events == b->events && a->views == b->views && a->carts == b->carts && a->purchases == b->purchases;
}

static void random_round(uint64_t seed) {
    rng_state = seed * 2654435761u + 1;
    struct fx f;
    fx_open(&f);
    const int64_t lateness = 15 * MIN;
    int nusers = 1 + (int)(rnd() % 20), n = 200 + (int)(rnd() % 800);
    struct rev *evs = ss_calloc((size_t)n, sizeof *evs), *acc = ss_calloc((size_t)n, sizeof *acc);
    int nacc = 0;
    size_t checked = 0;
    int64_t base = 0, max_ts = SS_TS_MIN, w = SS_TS_MIN;
    for (int i = 0; i < n; i++) {
        base += (int64_t)(rnd() % (5 * MIN));
        struct rev *e = &evs[i];
        e->user = (int)(rnd() % (uint64_t)nusers);
        e->type = (int)(rnd() % 4);
        /* out of order by up to 20 min: some arrive late and are dropped, as by the engine */
        e->ts = base - (int64_t)(rnd() % (20 * MIN));
        e->price = e->type == SS_EV_PURCHASE ? (int64_t)(rnd() % 1000000) : 0;
        e->qty = 1 + (int32_t)(rnd() % 3);
        if (e->ts < w) continue; /* late */
        acc[nacc++] = *e;
        char u[16];
        snprintf(u, sizeof u, "u%d", e->user);
        ev_send(&f, u, e->type, e->ts, e->price, e->qty);
        if (e->ts > max_ts) max_ts = e->ts;
        if (max_ts - lateness > w) {
            w = max_ts - lateness;
            advance(&f, w);
            /* every row emitted so far must be final: end + gap < W */
            for (; checked < nrows(&f); checked++) CHECK(row(&f, checked)[SS_SE_SESSION_END].i + GAP < w);
        }
    }
    advance(&f, SS_TS_MAX);

    /* brute force: sort each user's accepted events and cut at gaps > GAP */
    qsort(acc, (size_t)nacc, sizeof *acc, cmp_rev);
    struct bsess *bs = ss_calloc((size_t)nacc + 1, sizeof *bs);
    int nbs = 0;
    for (int i = 0; i < nacc; i++) {
        struct rev *e = &acc[i];
        if (i == 0 || acc[i - 1].user != e->user || e->ts - acc[i - 1].ts > GAP) {
            bs[nbs++] = (struct bsess){.user = e->user, .start = e->ts, .end = e->ts};
        }
        struct bsess *s = &bs[nbs - 1];
        s->end = e->ts;
        s->events++;
        if (e->type == SS_EV_VIEW) s->views++;
        if (e->type == SS_EV_CART_ADD) s->carts++;
        if (e->type == SS_EV_PURCHASE) { s->purchases++; s->revenue += e->price * e->qty; }
    }
    /* engine rows, in the same order */
    size_t nr = nrows(&f);
    struct bsess *got = ss_calloc(nr + 1, sizeof *got);
    for (size_t r = 0; r < nr; r++) {
        struct ss_val *v = row(&f, r);
        got[r] = (struct bsess){.user = atoi(v[SS_SE_USER_ID].s + 1), .start = v[SS_SE_SESSION_START].i,
                                .end = v[SS_SE_SESSION_END].i, .revenue = v[SS_SE_REVENUE].i,
                                .events = (int)v[SS_SE_EVENTS].i, .views = (int)v[SS_SE_VIEWS].i,
                                .carts = (int)v[SS_SE_CART_ADDS].i, .purchases = (int)v[SS_SE_PURCHASES].i};
        CHECK_EQ_INT(v[SS_SE_DURATION_S].i, (got[r].end - got[r].start) / 1000);
        CHECK_EQ_INT(v[SS_SE_CONVERTED].i, got[r].purchases > 0);
    }
    qsort(got, nr, sizeof *got, cmp_bs);
    CHECK_EQ_INT(nr, nbs);
    int bad = 0;
    for (size_t r = 0; r < nr && r < (size_t)nbs; r++)
        if (!bs_eq(&got[r], &bs[r])) bad++;
    CHECK_EQ_INT(bad, 0);
    ss_free(got);
    ss_free(bs);
    ss_free(evs);
    ss_free(acc);
    fx_close(&f);
}

TEST(randomized_vs_brute_force) {
    for (uint64_t seed = 1; seed <= 300; seed++) random_round(seed);
}


/* ---- savepoints ------------------------------------------------------------------------- */


static struct ss_val *find_row(struct fx *f, const char *user, int64_t start) {
    for (size_t i = 0; i < nrows(f); i++) {
        struct ss_val *v = row(f, i);
        if (v[SS_SE_USER_ID].len == strlen(user) && !memcmp(v[SS_SE_USER_ID].s, user, strlen(user)) &&
            v[SS_SE_SESSION_START].i == start)
            return v;
    }
    return NULL;
}

/* Empty state; sessions open across the save; one due exactly at the save's watermark
 * (end + gap == W: not yet); a user with two open sessions that an event after the
 * restore joins. */
TEST(savepoint_edges) {
    struct fx f;
    fx_open(&f);
    fx_save_restore(&f); /* nothing yet */
    ev_send(&f, "u1", SS_EV_VIEW, 0, 0, 1);
    ev_send(&f, "u1", SS_EV_PURCHASE, 1000, 250000, 2);
    ev_send(&f, "u2", SS_EV_VIEW, 3 * GAP, 0, 1);
    ev_send(&f, "u2", SS_EV_CART_ADD, 5 * GAP, 0, 1); /* a second open session of u2 */
    ev_send(&f, "u3", SS_EV_VIEW, 500, 0, 1);
    advance(&f, 500 + GAP); /* u3 is due once W passes 500 + gap: not yet */
    CHECK_EQ_INT(nrows(&f), 0);
    fx_save_restore(&f);
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 4);
    ev_send(&f, "u1", SS_EV_VIEW, 1000 + GAP, 0, 1); /* extends u1's session */
    advance(&f, 501 + GAP);
    CHECK_EQ_INT(nrows(&f), 1);
    CHECK_EQ_STR(row(&f, 0)[SS_SE_USER_ID].s, "u3");
    fx_save_restore(&f);
    ev_send(&f, "u2", SS_EV_VIEW, 4 * GAP, 0, 1); /* within gap of both of u2's sessions */
    CHECK_EQ_INT(f.op->type->state_keys(f.op), 2);
    fx_save_restore(&f);
    advance(&f, 1000 + 2 * GAP + 1);
    CHECK_EQ_INT(nrows(&f), 2);
    struct ss_val *v = find_row(&f, "u1", 0);
    CHECK(v != NULL);
    if (v) {
        CHECK_EQ_INT(v[SS_SE_SESSION_END].i, 1000 + GAP);
        CHECK_EQ_INT(v[SS_SE_EVENTS].i, 3);
        CHECK_EQ_INT(v[SS_SE_PURCHASES].i, 1);
        CHECK_EQ_INT(v[SS_SE_REVENUE].i, 500000);
    }
    advance(&f, SS_TS_MAX);
    v = find_row(&f, "u2", 3 * GAP);
    CHECK(v != NULL);
    if (v) {
        CHECK_EQ_INT(v[SS_SE_SESSION_END].i, 5 * GAP);
        CHECK_EQ_INT(v[SS_SE_EVENTS].i, 3);
        CHECK_EQ_INT(v[SS_SE_CART_ADDS].i, 1);
    }
    CHECK_EQ_INT(nrows(&f), 3);
    fx_rows_match(&f.out, &f.twin_out, SS_T_SESSIONS);
    fx_save_restore(&f); /* empty again */
    fx_close(&f);
}

/* The same random events through an operator saved and restored at random points and
 * through its uninterrupted twin: the same rows. */
static void restore_round(uint64_t seed) {
    rng_state = seed * 0x9e3779b97f4a7c15ULL + 7;
    struct fx f;
    fx_open(&f);
    const int64_t lateness = 15 * MIN;
    int nusers = 1 + (int)(rnd() % 12), n = 100 + (int)(rnd() % 300);
    int64_t base = 0, max_ts = SS_TS_MIN, w = SS_TS_MIN;
    for (int i = 0; i < n; i++) {
        base += (int64_t)(rnd() % (5 * MIN));
        int user = (int)(rnd() % (uint64_t)nusers), type = (int)(rnd() % 4);
        int64_t ts = base - (int64_t)(rnd() % (20 * MIN));
        if (ts < w) continue;
        char u[16];
        snprintf(u, sizeof u, "u%d", user);
        ev_send(&f, u, type, ts, type == SS_EV_PURCHASE ? (int64_t)(rnd() % 1000000) : 0, 1 + (int32_t)(rnd() % 3));
        if (ts > max_ts) max_ts = ts;
        if (max_ts - lateness > w) {
            w = max_ts - lateness;
            advance(&f, w);
        }
        if (rnd() % 25 == 0) fx_save_restore(&f);
    }
    fx_save_restore(&f);
    advance(&f, SS_TS_MAX);
    fx_rows_match(&f.out, &f.twin_out, SS_T_SESSIONS);
    fx_close(&f);
}

TEST(savepoint_randomized) {
    for (uint64_t seed = 1; seed <= 40; seed++) restore_round(seed);
}

/* ---- damaged savepoints: refused, and the operator closes clean ---- */

struct snap_sess { int64_t start, end, revenue; uint32_t events, views, carts, purchases; };

static void put_user(struct ss_buf *b, const char *user, int64_t n, const struct snap_sess *s, int ns) {
    ss_snap_str(b, ss_str_c(user));
    ss_snap_i64(b, n);
    for (int i = 0; i < ns; i++) {
        ss_snap_i64(b, s[i].start);
        ss_snap_i64(b, s[i].end);
        ss_snap_i64(b, s[i].revenue);
        ss_snap_u32(b, s[i].events);
        ss_snap_u32(b, s[i].views);
        ss_snap_u32(b, s[i].carts);
        ss_snap_u32(b, s[i].purchases);
    }
}

/* Loads b into a fresh operator: the code it returned; the operator is closed and the
 * intern table must hold nothing afterwards. */
static int try_load(const struct ss_buf *b, bool whole) {
    struct ss_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.session_gap_ms = GAP;
    return fx_try_load(&ss_op_sessions, &cfg, b, whole);
}

TEST(savepoint_damaged) {
    struct ss_buf b = {0};
    struct snap_sess ok[2] = {{0, 1000, 500, 3, 1, 1, 1}, {1000 + GAP + 1, 1000 + GAP + 1, 0, 1, 1, 0, 0}};
    fx_snap_head(&b, "sessions", 1, 2);
    put_user(&b, "a", 2, ok, 2);
    put_user(&b, "b", 1, ok, 1);
    CHECK_EQ_INT(try_load(&b, true), SS_OK); /* the builder writes what save writes */

    fx_snap_head(&b, "alerts", 1, 0);
    CHECK(try_load(&b, true) != SS_OK); /* another operator's section */
    fx_snap_head(&b, "sessions", 2, 0);
    CHECK(try_load(&b, true) != SS_OK); /* a version this build cannot read */
    fx_snap_head(&b, "sessions", 1, (int64_t)1 << 40);
    CHECK(try_load(&b, true) != SS_OK); /* a count past the end */
    fx_snap_head(&b, "sessions", 1, -1);
    CHECK(try_load(&b, true) != SS_OK);

    /* each after a good user, so that the failure leaves state for close to release */
    struct snap_sess bad[][2] = {
        {{1000, 0, 0, 1, 0, 0, 0}},                       /* start after end */
        {{SS_TS_EVENT_MIN - 1, 0, 0, 1, 0, 0, 0}},        /* not an event's time */
        {{0, SS_TS_EVENT_MAX + 1, 0, 1, 0, 0, 0}},
        {{0, 0, 0, 0, 0, 0, 0}},                          /* no events */
        {{0, 0, 0, 2, 1, 1, 1}},                          /* more typed events than events */
        {{0, 0, 0, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, /* sum overflows 32 bits */
        {{0, 1000, 0, 1, 0, 0, 0}, {1000 + GAP, 1000 + GAP, 0, 1, 0, 0, 0}}, /* within gap */
        {{5 * GAP, 5 * GAP, 0, 1, 0, 0, 0}, {0, 0, 0, 1, 0, 0, 0}},          /* not sorted */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_snap_head(&b, "sessions", 1, 2);
        put_user(&b, "good", 2, ok, 2);
        put_user(&b, "x", bad[i][1].events ? 2 : 1, bad[i], bad[i][1].events ? 2 : 1);
        CHECK(try_load(&b, true) != SS_OK);
    }
    fx_snap_head(&b, "sessions", 1, 2); /* a user with no session */
    put_user(&b, "good", 2, ok, 2);
    put_user(&b, "x", 0, NULL, 0);
    ss_snap_i64(&b, 0); /* padding, so the count is not refused as a cut */
    ss_snap_i64(&b, 0);
    ss_snap_i64(&b, 0);
    ss_snap_i64(&b, 0);
    ss_snap_i64(&b, 0);
    ss_snap_i64(&b, 0);
    ss_snap_i64(&b, 0);
    CHECK(try_load(&b, true) != SS_OK);
    fx_snap_head(&b, "sessions", 1, 2); /* a user twice */
    put_user(&b, "a", 1, ok, 1);
    put_user(&b, "a", 1, ok + 1, 1);
    CHECK(try_load(&b, true) != SS_OK);

    /* garbled bytes of a real savepoint: refused or loaded, never a crash or a leak */
    rng_state = 99;
    struct fx f;
    fx_open(&f);
    char u[16];
    for (int i = 0; i < 40; i++) {
        snprintf(u, sizeof u, "u%d", (int)(rnd() % 8));
        ev_send(&f, u, (int)(rnd() % 4), (int64_t)(rnd() % (10 * GAP)), 1000, 1);
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
    RUN(gap_boundary);
    RUN(out_of_order_merge);
    RUN(extension_defers_emission);
    RUN(state_budget);
    RUN(randomized_vs_brute_force);
    RUN(savepoint_edges);
    RUN(savepoint_randomized);
    RUN(savepoint_damaged);
    return ss_t_report("sessions");
}
