/* test_generator.c — the synthetic traffic generator (src/source/generator.c).
 * Every record goes through the real decoders (src/decode/), so "valid" means what
 * the engine will accept, and every invalid record must be rejected for exactly the
 * reason the generator says. Shares, session shapes and popularity are recomputed
 * here from the records themselves, not taken from the generator's counters. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/hash.h"
#include "decode/decode.h"
#include "harness.h"
#include "source/generator.h"

#define MIN_MS 60000LL

/* ---- a set of 64-bit hashes (test scaffolding) ---- */

struct hset {
    uint64_t *k;
    size_t cap, n;
};

static void hset_init(struct hset *s, size_t cap) {
    s->cap = 1;
    while (s->cap < cap * 2) s->cap <<= 1;
    s->k = calloc(s->cap, sizeof *s->k);
    s->n = 0;
}
/* Returns 1 when h was new. 0 is reserved as "empty", so h|1. */
static int hset_add(struct hset *s, uint64_t h) {
    h |= 1;
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->k[i] == h) return 0;
        if (!s->k[i]) {
            s->k[i] = h;
            s->n++;
            return 1;
        }
    }
}
static int hset_has(const struct hset *s, uint64_t h) {
    h |= 1;
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->k[i] == h) return 1;
        if (!s->k[i]) return 0;
    }
}

static struct ss_gen *gen(const struct ss_gen_opts *o) {
    struct ss_gen *g = NULL;
    struct ss_err err = {0};
    int rc = ss_gen_new(&g, o, &err);
    CHECK_EQ_INT(rc, SS_OK);
    if (rc) fprintf(stderr, "ss_gen_new: %s\n", err.msg);
    return g;
}

/* Hash of the whole output (stream, key and bytes of every record, in order). */
static uint64_t run_hash(const struct ss_gen_opts *o, int64_t *count) {
    struct ss_gen *g = gen(o);
    struct ss_gen_record r;
    uint64_t h = 0;
    *count = 0;
    while (ss_gen_next(g, &r) == SS_OK) {
        h = ss_hash_u64(h ^ ss_hash(r.data, r.len)) + (uint64_t)r.stream;
        h = ss_hash_u64(h ^ ss_hash(r.key, r.key_len));
        (*count)++;
    }
    ss_gen_free(g);
    return h;
}

/* Defaults, one stream, `events` records at `rate` per second of event time. */
static void one_stream_opts(struct ss_gen_opts *o, enum ss_stream st, int64_t events, double rate) {
    ss_gen_opts_init(o);
    o->streams = 1u << st;
    o->events = events;
    o->rate = rate;
}

static void defect_opts(struct ss_gen_opts *o) {
    ss_gen_opts_init(o);
    o->events = 100000;
    o->rate = 2000; /* 50 s of event time: the shares below are computed for that span */
    o->p_duplicate = 0.05;
    o->p_late = 0.04;
    o->p_reorder = 0.02;
    o->p_invalid = 0.05;
}

TEST(determinism) {
    struct ss_gen_opts o;
    defect_opts(&o);
    o.events = 50000;
    int64_t n1, n2, n3;
    uint64_t a = run_hash(&o, &n1), b = run_hash(&o, &n2);
    CHECK_EQ_INT(n1, 50000);
    CHECK_EQ_INT(n2, 50000);
    CHECK(a == b);
    o.seed = 2;
    uint64_t c = run_hash(&o, &n3);
    CHECK_EQ_INT(n3, 50000);
    CHECK(a != c);
    o.seed = 1;
    o.format[SS_STREAM_CLICKS] = SS_FMT_CSV;
    CHECK(run_hash(&o, &n3) != a);
}

/* A clicks-only run is the start of the clicks of a full run with the same seed
 * and the same click rate (rate x (1 - orders_share) in the full run). */
TEST(streams_independent) {
    struct ss_gen_opts o;
    defect_opts(&o);
    o.events = 40000;
    o.orders_share = 0.25;
    struct ss_gen *full = gen(&o);
    o.streams = 1u << SS_STREAM_CLICKS;
    o.rate = 1500;
    o.events = 20000;
    struct ss_gen *only = gen(&o);
    struct ss_gen_record r;
    int compared = 0, same = 0;
    char *a = malloc(1024);
    size_t alen = 0;
    while (compared < 15000 && ss_gen_next(full, &r) == SS_OK) {
        if (r.stream != SS_STREAM_CLICKS) continue;
        memcpy(a, r.data, r.len);
        alen = r.len;
        if (ss_gen_next(only, &r) != SS_OK) break;
        compared++;
        same += r.len == alen && memcmp(a, r.data, alen) == 0;
    }
    CHECK_EQ_INT(compared, 15000);
    CHECK_EQ_INT(same, 15000);
    free(a);
    ss_gen_free(full);
    ss_gen_free(only);
}

/* ---- one full pass over a run, checking every record with the decoders ---- */

struct session_acc {
    int64_t first, last;
    int purchases, events;
};

struct pass {
    int64_t n, by_stream[SS_STREAM_COUNT], by_defect[SS_GEN_DEFECT_COUNT], invalid[SS_REASON_COUNT];
    int64_t decode_ok, decode_mismatch, reason_mismatch, missing_variants[SS_F_COUNT];
    int64_t clicks[4], high_value, purchases_without_cents, purchases_without_order;
    int64_t ts_mismatch, key_mismatch, dup_not_seen, dup_too_old, clean_repeated, late_wrong, reorder_wrong, ids_repeated;
    int64_t promo_bad, promo_out_of_order, promos;
    int64_t min_ts, max_ts;
    int64_t *views;          /* per product number */
    struct session_acc *sess; /* per session number */
    size_t nsess;
};

static int64_t id_number(struct ss_str s) { /* the digits after the last '-' (or the prefix letter) */
    int64_t v = 0;
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c >= '0' && c <= '9') v = v * 10 + (c - '0');
        else v = 0;
    }
    return v;
}

/* Exactly two decimals in the raw price text ("35.90"), as shops send cents. */
static int price_has_cents(const char *data, size_t len, int csv) {
    const char *p;
    if (csv) { /* clicks CSV: price is column 7 */
        int col = 0;
        size_t i = 0;
        for (; i < len && col < 6; i++)
            if (data[i] == ',') col++;
        p = data + i;
    } else {
        p = memmem(data, len, "\"price\":\"", 9);
        if (!p) return 0;
        p += 9;
    }
    const char *dot = p;
    while (dot < data + len && *dot >= '0' && *dot <= '9') dot++;
    return dot > p && dot + 2 < data + len && *dot == '.' && dot[1] >= '0' && dot[1] <= '9' && dot[2] >= '0' &&
           dot[2] <= '9' && (dot[3] == '"' || dot[3] == ',');
}

static void run_pass(const struct ss_gen_opts *o, struct pass *ps) {
    memset(ps, 0, sizeof *ps);
    ps->min_ts = INT64_MAX;
    ps->max_ts = INT64_MIN;
    ps->views = calloc((size_t)o->products + 1, sizeof *ps->views);
    ps->nsess = 4000000;
    ps->sess = calloc(ps->nsess, sizeof *ps->sess);
    struct ss_decoder *dec[SS_STREAM_COUNT];
    struct ss_err err;
    for (int s = 0; s < SS_STREAM_COUNT; s++) CHECK_EQ_INT(ss_decoder_open(&dec[s], s, o->format[s], NULL, &err), SS_OK);
    struct ss_gen *g = gen(o);
    for (int s = 0; s < SS_STREAM_COUNT; s++) {
        const char *h = ss_gen_header(g, (enum ss_stream)s, o->format[s]);
        CHECK((h != NULL) == (o->format[s] == SS_FMT_CSV));
        if (h) {
            struct ss_event ev;
            struct ss_decode_result res;
            struct ss_arena ar;
            ss_arena_init(&ar, 4096);
            CHECK_EQ_INT(ss_decoder_decode(dec[s], h, strlen(h), &ar, &ev, &res), SS_DEC_SKIP);
            ss_arena_free(&ar);
        }
    }
    struct hset seen, ids;
    hset_init(&seen, (size_t)o->events);
    hset_init(&ids, (size_t)o->events);
    int64_t valid_max[SS_STREAM_COUNT] = {INT64_MIN, INT64_MIN, INT64_MIN}, last_promo_ts = INT64_MIN;
    struct ss_arena ar;
    ss_arena_init(&ar, 1 << 16);
    struct ss_gen_record r;
    while (ss_gen_next(g, &r) == SS_OK) {
        ps->n++;
        ps->by_stream[r.stream]++;
        ps->by_defect[r.defect]++;
        struct ss_event ev;
        struct ss_decode_result res;
        ss_arena_reset(&ar);
        enum ss_decode_status st = ss_decoder_decode(dec[r.stream], r.data, r.len, &ar, &ev, &res);
        uint64_t hb = ss_hash(r.data, r.len);
        if (r.defect == SS_GEN_INVALID) {
            ps->invalid[r.reason]++;
            if (st != SS_DEC_INVALID) ps->decode_mismatch++;
            else if (res.reason != r.reason) ps->reason_mismatch++;
            else if (res.reason == SS_BAD_MISSING) ps->missing_variants[res.missing]++;
            continue;
        }
        if (st != SS_DEC_EVENT) {
            ps->decode_mismatch++;
            fprintf(stderr, "not valid (%s): %.*s\n", res.reason_text, (int)r.len, r.data);
            continue;
        }
        ps->decode_ok++;
        if (r.ts != ev.ts) ps->ts_mismatch++;
        if (r.defect == SS_GEN_DUPLICATE) {
            if (!hset_has(&seen, hb)) ps->dup_not_seen++;
            if (ev.ts < valid_max[r.stream] - 125000) ps->dup_too_old++;
            continue;
        }
        if (!hset_add(&seen, hb)) ps->clean_repeated++;
        int64_t behind = valid_max[r.stream] == INT64_MIN ? -1 : valid_max[r.stream] - ev.ts;
        if (r.defect == SS_GEN_LATE && !(behind >= o->late_min_ms && behind <= o->late_max_ms)) ps->late_wrong++;
        if (r.defect == SS_GEN_REORDERED && !(behind >= o->reorder_min_ms && behind <= o->reorder_max_ms))
            ps->reorder_wrong++;
        if (r.defect == SS_GEN_CLEAN && ev.ts > valid_max[r.stream]) valid_max[r.stream] = ev.ts;
        if (r.stream == SS_STREAM_PROMOTIONS) {
            ps->promos++;
            int64_t lead = ev.starts_at - ev.ts, dur = ev.ends_at - ev.starts_at;
            if (!(ev.ts < ev.starts_at && ev.starts_at < ev.ends_at && lead >= 2 * MIN_MS && lead <= 60 * MIN_MS &&
                  dur >= 30 * MIN_MS && dur <= 180 * MIN_MS && ev.discount_pct > 0 && ev.discount_pct <= 1000000 &&
                  ss_str_eq((struct ss_str){r.key, (uint32_t)r.key_len}, ev.product_id)))
                ps->promo_bad++;
            if (ev.ts < last_promo_ts) ps->promo_out_of_order++;
            last_promo_ts = ev.ts;
            continue;
        }
        /* clicks and orders */
        if (!ss_str_eq((struct ss_str){r.key, (uint32_t)r.key_len}, ev.user_id)) ps->key_mismatch++;
        if (!hset_add(&ids, ss_hash(ev.event_id.p, ev.event_id.len))) ps->ids_repeated++;
        if (r.defect == SS_GEN_LATE) continue; /* the engine drops it; it counts nowhere else */
        if (r.defect == SS_GEN_CLEAN && ev.ts < ps->min_ts) ps->min_ts = ev.ts;
        if (r.defect == SS_GEN_CLEAN && ev.ts > ps->max_ts) ps->max_ts = ev.ts;
        if (ev.type == SS_EV_PURCHASE) {
            int64_t amount = ev.price * ev.quantity;
            if (amount >= 1000 * 10000LL) ps->high_value++;
            if (ev.price % 100 != 0 || ev.price <= 0) ps->purchases_without_cents++;
            if (r.stream == SS_STREAM_CLICKS && !price_has_cents(r.data, r.len, o->format[r.stream] == SS_FMT_CSV))
                ps->purchases_without_cents++;
            if (ev.order_id.p == NULL || ev.order_id.len == 0) ps->purchases_without_order++;
        }
        if (r.stream != SS_STREAM_CLICKS) continue;
        ps->clicks[ev.type]++;
        if (ev.type == SS_EV_VIEW) ps->views[id_number(ev.product_id)]++;
        int64_t sn = id_number(ev.session_id);
        if (r.defect == SS_GEN_CLEAN && sn > 0 && (size_t)sn < ps->nsess) {
            struct session_acc *sa = &ps->sess[sn];
            if (!sa->events++) sa->first = ev.ts;
            sa->last = ev.ts;
            if (ev.type == SS_EV_PURCHASE) sa->purchases++;
        }
    }
    ss_arena_free(&ar);
    struct ss_gen_stats gs;
    ss_gen_stats(g, &gs);
    /* the generator's counters agree with what came out */
    CHECK_EQ_INT(gs.records, ps->n);
    for (int s = 0; s < SS_STREAM_COUNT; s++) CHECK_EQ_INT(gs.streams[s], ps->by_stream[s]);
    for (int d = 0; d < SS_GEN_DEFECT_COUNT; d++) CHECK_EQ_INT(gs.defects[d], ps->by_defect[d]);
    for (int k = 0; k < SS_REASON_COUNT; k++) CHECK_EQ_INT(gs.invalid[k], ps->invalid[k]);
    for (int t = 0; t < 4; t++) CHECK_EQ_INT(gs.clicks[t], ps->clicks[t]);
    CHECK_EQ_INT(gs.high_value, ps->high_value);
    ss_gen_free(g);
    for (int s = 0; s < SS_STREAM_COUNT; s++) ss_decoder_close(dec[s]);
    free(seen.k);
    free(ids.k);
}

static void pass_free(struct pass *ps) {
    free(ps->views);
    free(ps->sess);
}

static int near(int64_t got, double want, double rel) {
    double d = (double)got - want;
    if (d < 0) d = -d;
    if (d > want * rel) fprintf(stderr, "  got %" PRId64 ", want %.1f +- %.0f%%\n", got, want, rel * 100);
    return d <= want * rel;
}

static void check_records(const struct ss_gen_opts *o, struct pass *ps) {
    CHECK_EQ_INT(ps->n, o->events);
    CHECK_EQ_INT(ps->decode_mismatch, 0);
    CHECK_EQ_INT(ps->ts_mismatch, 0);
    CHECK_EQ_INT(ps->key_mismatch, 0);
    CHECK_EQ_INT(ps->reason_mismatch, 0);
    CHECK_EQ_INT(ps->dup_not_seen, 0);
    CHECK_EQ_INT(ps->dup_too_old, 0);
    CHECK_EQ_INT(ps->clean_repeated, 0);
    CHECK_EQ_INT(ps->ids_repeated, 0);
    CHECK_EQ_INT(ps->late_wrong, 0);
    CHECK_EQ_INT(ps->reorder_wrong, 0);
    CHECK_EQ_INT(ps->promo_bad, 0);
    CHECK_EQ_INT(ps->promo_out_of_order, 0);
    CHECK_EQ_INT(ps->purchases_without_cents, 0);
    CHECK_EQ_INT(ps->purchases_without_order, 0);
    CHECK((ps->promos > 0) == (((o->streams >> SS_STREAM_PROMOTIONS) & 1) != 0));
}

TEST(shares_and_validity) {
    struct ss_gen_opts o;
    defect_opts(&o);
    struct pass ps;
    run_pass(&o, &ps);
    check_records(&o, &ps);
    /* shares of the click and order records */
    int64_t co = ps.by_stream[SS_STREAM_CLICKS] + ps.by_stream[SS_STREAM_ORDERS];
    CHECK(near(ps.by_defect[SS_GEN_DUPLICATE], co * o.p_duplicate, 0.10));
    CHECK(near(ps.by_defect[SS_GEN_LATE], co * o.p_late, 0.10));
    CHECK(near(ps.by_defect[SS_GEN_REORDERED], co * o.p_reorder, 0.15));
    CHECK(near(ps.by_defect[SS_GEN_INVALID], co * o.p_invalid, 0.10));
    CHECK(near(ps.by_stream[SS_STREAM_ORDERS], (double)o.events * o.orders_share, 0.15));
    /* 50 s of event time: the minimum span (1 min), so 10 promotions, all published before start */
    CHECK_EQ_INT(ps.by_stream[SS_STREAM_PROMOTIONS], 10);
    /* every kind of invalid record, in about equal numbers (clicks rotate over 5, orders over 4) */
    for (int k = SS_BAD_MALFORMED; k < SS_REASON_COUNT; k++) CHECK(ps.invalid[k] > ps.by_defect[SS_GEN_INVALID] / 8);
    int fields[] = {SS_F_EVENT_ID, SS_F_EVENT_TYPE, SS_F_USER_ID, SS_F_PRODUCT_ID, SS_F_TS, SS_F_PRICE};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) CHECK(ps.missing_variants[fields[i]] > 0);
    /* a real funnel */
    CHECK(ps.clicks[SS_EV_VIEW] > 4 * ps.clicks[SS_EV_CART_ADD]);
    CHECK(ps.clicks[SS_EV_CART_ADD] > ps.clicks[SS_EV_PURCHASE]);
    CHECK(ps.clicks[SS_EV_PURCHASE] > ps.clicks[SS_EV_CART_REMOVE] / 4);
    CHECK(ps.clicks[SS_EV_CART_REMOVE] > 0);
    /* big tickets exist */
    CHECK(ps.high_value > 10);
    /* event time advances at about `rate` records per second */
    double span_s = (double)(ps.max_ts - ps.min_ts) / 1000.0;
    CHECK(span_s > 0.8 * o.events / o.rate && span_s < 1.25 * o.events / o.rate);
    /* Zipf: the top product is viewed far more than the median one */
    int64_t top = 0, *sorted = malloc((size_t)o.products * sizeof *sorted);
    for (int64_t p = 1; p <= o.products; p++) {
        sorted[p - 1] = ps.views[p];
        if (ps.views[p] > top) top = ps.views[p];
    }
    int64_t below_half = 0; /* products with fewer views than top/100 */
    for (int64_t p = 0; p < o.products; p++) below_half += sorted[p] * 100 < top;
    CHECK(top > ps.clicks[SS_EV_VIEW] / 50);        /* > 2% of all views on one product */
    CHECK(below_half > o.products / 2);             /* the median product is < 1% of the top */
    free(sorted);
    pass_free(&ps);
}

/* A share of 0 or 1 turns one of the two user streams off, not the other. */
TEST(orders_share_edges) {
    for (int all = 0; all <= 1; all++) {
        struct ss_gen_opts o;
        ss_gen_opts_init(&o);
        o.events = 5000;
        o.orders_share = all;
        struct ss_gen *g = gen(&o);
        if (!g) return;
        int64_t by[SS_STREAM_COUNT] = {0};
        struct ss_gen_record r;
        while (ss_gen_next(g, &r) == SS_OK) by[r.stream]++;
        ss_gen_free(g);
        CHECK_EQ_INT(by[all ? SS_STREAM_CLICKS : SS_STREAM_ORDERS], 0);
        CHECK(by[all ? SS_STREAM_ORDERS : SS_STREAM_CLICKS] > 4000);
        CHECK(by[SS_STREAM_PROMOTIONS] >= 10);
    }
}

TEST(csv_clicks_json_orders) {
    struct ss_gen_opts o;
    defect_opts(&o);
    o.events = 30000;
    o.seed = 99;
    o.format[SS_STREAM_CLICKS] = SS_FMT_CSV;
    o.format[SS_STREAM_ORDERS] = SS_FMT_JSON;
    o.format[SS_STREAM_PROMOTIONS] = SS_FMT_CSV;
    struct pass ps;
    run_pass(&o, &ps);
    check_records(&o, &ps);
    for (int k = SS_BAD_MALFORMED; k < SS_REASON_COUNT; k++) CHECK(ps.invalid[k] > 0);
    pass_free(&ps);
}

/* Buyers browse ~4x longer than non-buyers (the seed's converters do). Measured on
 * whole sessions: a slow rate stretches event time so that most sessions start and
 * end inside the run. */
TEST(buyers_browse_longer) {
    struct ss_gen_opts o;
    ss_gen_opts_init(&o);
    o.streams = 1u << SS_STREAM_CLICKS;
    o.rate = 20;
    o.events = 200000;
    struct pass ps;
    run_pass(&o, &ps);
    check_records(&o, &ps);
    int64_t t0 = o.start_ms + 30 * MIN_MS, t1 = ps.max_ts - 60 * MIN_MS;
    double dur[2] = {0, 0}, evs[2] = {0, 0};
    int64_t n[2] = {0, 0};
    for (size_t i = 0; i < ps.nsess; i++) {
        const struct session_acc *sa = &ps.sess[i];
        if (!sa->events || sa->first < t0 || sa->first > t1) continue;
        int b = sa->purchases > 0;
        dur[b] += (double)(sa->last - sa->first);
        evs[b] += sa->events;
        n[b]++;
    }
    CHECK(n[0] > 1000 && n[1] > 100);
    double share = (double)n[1] / (double)(n[0] + n[1]);
    CHECK(share > 0.08 && share < 0.16);
    double ratio = (dur[1] / (double)n[1]) / (dur[0] / (double)n[0]);
    fprintf(stderr, "  sessions: %" PRId64 " non-buyers, %" PRId64 " buyers, duration ratio %.2f, events %.1f vs %.1f\n",
            n[0], n[1], ratio, evs[0] / (double)n[0], evs[1] / (double)n[1]);
    CHECK(ratio > 3.0 && ratio < 5.5);
    pass_free(&ps);
}

/* st.sessions counts the sessions that reach the output: it counted the sessions under
 * way at start too (~34000 at 1000 records/s), so a 5000-click run reported 7 times more
 * sessions than its distinct session ids. */
TEST(sessions_counted_as_written) {
    struct ss_gen_opts o;
    one_stream_opts(&o, SS_STREAM_CLICKS, 5000, 1000);
    struct ss_gen *g = gen(&o);
    struct ss_gen_record r;
    struct hset ids;
    hset_init(&ids, 8192);
    static const char key[] = "\"session_id\":\"";
    while (ss_gen_next(g, &r) == SS_OK) {
        const char *p = memmem(r.data, r.len, key, sizeof key - 1);
        CHECK(p != NULL);
        if (!p) continue;
        p += sizeof key - 1;
        const char *q = memchr(p, '"', r.len - (size_t)(p - r.data));
        CHECK(q != NULL);
        if (q) hset_add(&ids, ss_hash(p, (size_t)(q - p)));
    }
    struct ss_gen_stats st;
    ss_gen_stats(g, &st);
    CHECK_EQ_INT(st.sessions, (int64_t)ids.n);
    CHECK(ids.n > 100 && ids.n < 5000);
    free(ids.k);
    ss_gen_free(g);
}

TEST(promotions_only_and_limits) {
    struct ss_gen_opts o;
    one_stream_opts(&o, SS_STREAM_PROMOTIONS, 100, 100);
    o.promotions = 7;
    struct ss_gen *g = gen(&o);
    struct ss_gen_record r;
    int n = 0;
    while (ss_gen_next(g, &r) == SS_OK) n++;
    CHECK_EQ_INT(n, 7); /* exhausted before `events` */
    CHECK_EQ_INT(ss_gen_next(g, &r), SS_EOF);
    ss_gen_free(g);

    o.events = 0;
    g = gen(&o);
    CHECK_EQ_INT(ss_gen_next(g, &r), SS_EOF);
    ss_gen_free(g);
}

TEST(bad_options) {
    struct ss_gen_opts o;
    struct ss_gen *g = NULL;
    struct ss_err err = {0};
    ss_gen_opts_init(&o);
    o.p_late = 1.5;
    CHECK_EQ_INT(ss_gen_new(&g, &o, &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "late") != NULL);
    CHECK(g == NULL);
    ss_gen_opts_init(&o);
    o.p_duplicate = 0.3;
    o.p_invalid = 0.5;
    CHECK_EQ_INT(ss_gen_new(&g, &o, &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "duplicates") != NULL);
    ss_gen_opts_init(&o);
    o.rate = 0;
    CHECK_EQ_INT(ss_gen_new(&g, &o, &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "rate") != NULL);
    ss_gen_opts_init(&o);
    o.streams = 0;
    CHECK_EQ_INT(ss_gen_new(&g, &o, &err), SS_EUSAGE);
    ss_gen_opts_init(&o);
    o.categories = 13;
    CHECK_EQ_INT(ss_gen_new(&g, &o, &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "categories") != NULL);
}

TEST(headers_and_first_records) {
    CHECK_EQ_STR(ss_gen_header(NULL, SS_STREAM_ORDERS, SS_FMT_CSV),
                 "order_id,customer_id,product_id,category,price,quantity,order_ts");
    CHECK_EQ_STR(ss_gen_header(NULL, SS_STREAM_CLICKS, SS_FMT_CSV),
                 "event_id,event_type,user_id,session_id,product_id,category,price,quantity,order_id,ts");
    CHECK_EQ_STR(ss_gen_header(NULL, SS_STREAM_PROMOTIONS, SS_FMT_CSV),
                 "promo_id,product_id,discount_pct,starts_at,ends_at,ts");
    CHECK(ss_gen_header(NULL, SS_STREAM_CLICKS, SS_FMT_JSON) == NULL);
    /* the first click: ids carry the seed, the key is the user, ts starts at --start */
    struct ss_gen_opts o;
    ss_gen_opts_init(&o);
    o.seed = 42;
    o.streams = 1u << SS_STREAM_CLICKS;
    o.events = 3;
    struct ss_gen *g = gen(&o);
    struct ss_gen_record r;
    CHECK_EQ_INT(ss_gen_next(g, &r), SS_OK);
    CHECK(r.len > 40 && memcmp(r.data, "{\"event_id\":\"e-42-1\",\"event_type\":\"", 35) == 0);
    CHECK(r.data[r.len - 1] == '}');
    CHECK(memmem(r.data, r.len, "\"ts\":\"2026-11-27T00:00:00.", 26) != NULL);
    char want_key[40];
    snprintf(want_key, sizeof want_key, "\"user_id\":\"%.*s\"", (int)r.key_len, r.key);
    CHECK(memmem(r.data, r.len, want_key, strlen(want_key)) != NULL);
    CHECK(r.key_len >= 2 && r.key[0] == 'u');
    ss_gen_free(g);
}

int main(void) {
    RUN(headers_and_first_records);
    RUN(determinism);
    RUN(streams_independent);
    RUN(shares_and_validity);
    RUN(orders_share_edges);
    RUN(csv_clicks_json_orders);
    RUN(buyers_browse_longer);
    RUN(sessions_counted_as_written);
    RUN(promotions_only_and_limits);
    RUN(bad_options);
    return ss_t_report("generator");
}
