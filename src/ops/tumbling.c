/* tumbling.c — see tumbling.h. Sits after validate / late / dedup in the engine: sees
 * every valid, on-time, unique event and emits window rows when the watermark passes
 * a window's end. */
#include "tumbling.h"

#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/timefmt.h"
#include "../state/u64map.h"
#include "../state/winheap.h"

/* Windows whose storage is kept for reuse when they close; beyond this many idle
 * ones (after a burst of open windows, e.g. while W was -inf) storage is released. */
#define KEEP_WARM 32
/* Aggregates per window are numbered in 30 bits: (agg, kind, user) packs into 64. */
#define MAX_AGGS (1u << 30)
/* Key -> aggregate lookups go through a small direct-mapped cache before the window's
 * map: the keys are categories (a few dozen) or the one key of an unkeyed window, so
 * nearly every lookup hits, for one compare instead of a hash probe. */
#define KEY_CACHE 32

struct win {
    int64_t start;
    struct ss_u64map keys;       /* key id -> index in aggs */
    uint32_t kc_key[KEY_CACHE];  /* key + 1 of a cached entry; 0: empty */
    uint32_t kc_agg[KEY_CACHE];
    struct ss_tumble_agg *aggs;
    size_t naggs, cap_aggs;
    /* Distinct users. Keyed: a set of agg << 34 | kind << 32 | user (each entry holds
     * its user). Unkeyed (funnel, where every view counts): one byte of kind bits per
     * user id, addressed directly because interned ids are dense, which costs one
     * cache line touch per event instead of a 16-byte hash slot per (kind, user);
     * `held` lists the users with a non-zero byte (each held once). */
    struct ss_u64map users;
    uint8_t *uflags;
    size_t cap_uflags;
    uint32_t *held;
    size_t nheld, cap_held;
};

struct tumble {
    struct ss_op base;
    const struct ss_tumble_spec *spec;
    struct ss_intern *intern;
    int64_t size;
    struct win *wins;            /* slots; a closed window's slot is on `idle` */
    size_t nwins, cap_wins;
    uint32_t *idle;
    size_t nidle, cap_idle;
    struct ss_u64map index;      /* start of an open window -> slot */
    struct ss_winheap due;       /* starts of open windows: the next to close on top */
    bool cached;                 /* last_slot holds the window of last_start */
    uint32_t last_slot;
    int64_t last_start;
    size_t live_aggs;
    /* scratch for emission order */
    struct order { struct ss_str s; uint32_t agg; } *order;
    size_t cap_order;
    int64_t *starts;
    size_t cap_starts;
};

int ss_tumble_open(struct ss_op **out, const struct ss_op_type *type, const struct ss_tumble_spec *spec,
                   int64_t size_ms, const struct ss_op_env *env, struct ss_err *err) {
    *out = NULL;
    if (size_ms <= 0)
        return ss_err_set(err, SS_EUSAGE, "%s must be a positive duration (got %lld ms)", spec->cfg_key,
                          (long long)size_ms);
    struct tumble *t = ss_calloc(1, sizeof *t);
    t->base.type = type;
    t->spec = spec;
    t->intern = env->intern;
    t->size = size_ms;
    ss_u64map_init(&t->index);
    ss_winheap_init(&t->due);
    *out = &t->base;
    return SS_OK;
}

static struct win *win_get(struct tumble *t, int64_t start) {
    if (t->cached && t->last_start == start) return &t->wins[t->last_slot];
    bool inserted;
    uint32_t *slotp = ss_u64map_put(&t->index, (uint64_t)start, &inserted);
    if (inserted) {
        uint32_t slot;
        if (t->nidle) {
            slot = t->idle[--t->nidle];
        } else {
            ss_assert(t->nwins < UINT32_MAX);
            SS_GROW(t->wins, t->cap_wins, t->nwins + 1);
            slot = (uint32_t)t->nwins++;
            memset(&t->wins[slot], 0, sizeof t->wins[slot]);
        }
        *slotp = slot;
        t->wins[slot].start = start;
        ss_winheap_push(&t->due, start);
        ss_op_wake_by(&t->base, ss_sat_add(start, t->size));
    }
    t->cached = true;
    t->last_start = start;
    t->last_slot = *slotp;
    return &t->wins[*slotp];
}

/* The window holding ts. Events come nearly in order: the last window is tested by a
 * subtraction first, without the divisions of ss_ts_floor (whose latency each event
 * paid three times, once per tumbling operator). Unsigned, ts before last_start wraps
 * to a difference no smaller than size. */
static inline struct win *window_of(struct tumble *t, int64_t ts) {
    if (t->cached && (uint64_t)ts - (uint64_t)t->last_start < (uint64_t)t->size) return &t->wins[t->last_slot];
    return win_get(t, ss_ts_floor(ts, t->size));
}

static void add_distinct(struct tumble *t, struct win *w, uint32_t agg, unsigned kind, uint32_t user) {
    if (!t->spec->keyed) {
        if (user >= w->cap_uflags) {
            size_t cap = w->cap_uflags ? w->cap_uflags : 1024;
            while (cap <= user) cap *= 2;
            w->uflags = ss_realloc(w->uflags, cap);
            memset(w->uflags + w->cap_uflags, 0, cap - w->cap_uflags);
            w->cap_uflags = cap;
        }
        uint8_t f = w->uflags[user];
        if (f & (1u << kind)) return;
        if (!f) {
            SS_GROW(w->held, w->cap_held, w->nheld + 1);
            w->held[w->nheld++] = user;
            ss_intern_hold(t->intern, user);
        }
        w->uflags[user] = (uint8_t)(f | 1u << kind);
        w->aggs[agg].distinct[kind]++;
        return;
    }
    bool inserted;
    ss_u64map_put(&w->users, (uint64_t)agg << 34 | (uint64_t)kind << 32 | user, &inserted);
    if (!inserted) return;
    w->aggs[agg].distinct[kind]++;
    /* the id stays in the set until the window closes: hold it so it is not reused */
    ss_intern_hold(t->intern, user);
}

/* Most windows count few kinds distinctly (category_revenue and hourly_sales only
 * buyers): the test stays at the call site, where it costs no call. */
static inline void count_distinct(struct tumble *t, struct win *w, uint32_t agg, unsigned kind, uint32_t user) {
    if ((t->spec->distinct_mask & (1u << kind)) && user) add_distinct(t, w, agg, kind, user);
}

void ss_tumble_process(struct ss_op *op, const struct ss_event *ev, const struct ss_clock *clk,
                       struct ss_out *out) {
    (void)clk;
    (void)out;
    struct tumble *t = (struct tumble *)op;
    if (ev->stream == SS_STREAM_PROMOTIONS || ev->type > SS_EV_PURCHASE) return;
    struct win *w = window_of(t, ev->ts);
    uint32_t key = t->spec->keyed ? ev->cat : 0, agg;
    unsigned c = key % KEY_CACHE;
    if (w->kc_key[c] == key + 1) {
        agg = w->kc_agg[c];
    } else {
        bool inserted;
        uint32_t *aggp = ss_u64map_put(&w->keys, key, &inserted);
        if (inserted) {
            ss_assert(w->naggs < MAX_AGGS);
            SS_GROW(w->aggs, w->cap_aggs, w->naggs + 1);
            *aggp = (uint32_t)w->naggs++;
            memset(&w->aggs[*aggp], 0, sizeof w->aggs[*aggp]);
            w->aggs[*aggp].key = key;
            if (key) ss_intern_hold(t->intern, key);
            t->live_aggs++;
        }
        agg = *aggp;
        w->kc_key[c] = key + 1;
        w->kc_agg[c] = agg;
    }
    struct ss_tumble_agg *a = &w->aggs[agg];
    switch (ev->type) {
    case SS_EV_VIEW:
        a->views++;
        count_distinct(t, w, agg, SS_TUMBLE_VIEWERS, ev->user);
        break;
    case SS_EV_CART_ADD:
        a->cart_adds++;
        count_distinct(t, w, agg, SS_TUMBLE_CARTERS, ev->user);
        break;
    case SS_EV_PURCHASE:
        a->orders++;
        a->units = ss_sat_add(a->units, ev->quantity);
        /* saturates instead of wrapping on absurd inputs (epoch-scale price x 2^31 units) */
        a->revenue = ss_sat_add(a->revenue, ss_sat_mul(ev->price, ev->quantity));
        count_distinct(t, w, agg, SS_TUMBLE_BUYERS, ev->user);
        break;
    default: /* cart_remove: only makes the row exist */
        break;
    }
}

void ss_tumble_prefetch(struct ss_op *op, const struct ss_event *ev, int stage) {
    const struct tumble *t = (const struct tumble *)op;
    if (stage != 0 || t->spec->keyed || !t->cached || !ev->user) return;
    if (ev->stream == SS_STREAM_PROMOTIONS || ev->type > SS_EV_PURCHASE) return;
    if ((uint64_t)ev->ts - (uint64_t)t->last_start >= (uint64_t)t->size) return;
    const struct win *w = &t->wins[t->last_slot];
    if (ev->user < w->cap_uflags) __builtin_prefetch(&w->uflags[ev->user]);
}

static int order_cmp(const void *pa, const void *pb) {
    const struct order *a = pa, *b = pb;
    return ss_str_cmp(a->s, b->s);
}

/* Emits every aggregate of w, in key order so output is stable whatever the arrival order. */
static void win_emit(struct tumble *t, const struct win *w, bool final, struct ss_out *out) {
    int64_t end = ss_sat_add(w->start, t->size);
    SS_GROW(t->order, t->cap_order, w->naggs);
    for (size_t i = 0; i < w->naggs; i++) {
        uint32_t key = w->aggs[i].key;
        t->order[i].s = key ? ss_intern_str(t->intern, key) : SS_STR_LIT("");
        t->order[i].agg = (uint32_t)i;
    }
    if (t->spec->keyed && w->naggs > 1) qsort(t->order, w->naggs, sizeof *t->order, order_cmp);
    for (size_t i = 0; i < w->naggs; i++)
        t->spec->row(out, t->intern, w->start, end, &w->aggs[t->order[i].agg], final);
}

/* Drops what w holds and puts its slot on the idle list. */
static void win_release(struct tumble *t, uint32_t slot) {
    struct win *w = &t->wins[slot];
    for (size_t i = 0; i < w->naggs; i++)
        if (w->aggs[i].key) ss_intern_drop(t->intern, w->aggs[i].key);
    for (size_t i = 0; i < ss_u64map_cap(&w->users); i++)
        if (w->users.slots[i].used) ss_intern_drop(t->intern, (uint32_t)w->users.slots[i].key);
    for (size_t i = 0; i < w->nheld; i++) {
        /* held users are spread over all ids: fetch a few ahead */
        if (i + 8 < w->nheld) {
            ss_intern_prefetch_id(t->intern, w->held[i + 8]);
            __builtin_prefetch(&w->uflags[w->held[i + 8]]);
        }
        ss_intern_drop(t->intern, w->held[i]);
        w->uflags[w->held[i]] = 0;
    }
    w->nheld = 0;
    t->live_aggs -= w->naggs;
    w->naggs = 0;
    memset(w->kc_key, 0, sizeof w->kc_key);
    if (t->nidle < KEEP_WARM) {
        ss_u64map_clear(&w->keys);
        ss_u64map_clear(&w->users);
    } else {
        ss_u64map_free(&w->keys);
        ss_u64map_free(&w->users);
        ss_free(w->aggs);
        ss_free(w->uflags);
        ss_free(w->held);
        w->aggs = NULL;
        w->uflags = NULL;
        w->held = NULL;
        w->cap_aggs = w->cap_uflags = w->cap_held = 0;
    }
    ss_u64map_del(&t->index, (uint64_t)w->start);
    if (t->cached && t->last_slot == slot) t->cached = false;
    SS_GROW(t->idle, t->cap_idle, t->nidle + 1);
    t->idle[t->nidle++] = slot;
}

void ss_tumble_advance(struct ss_op *op, const struct ss_clock *clk, struct ss_out *out) {
    struct tumble *t = (struct tumble *)op;
    while (t->due.n && ss_sat_add(ss_winheap_top(&t->due), t->size) <= clk->watermark) {
        int64_t start = ss_winheap_pop(&t->due);
        uint32_t slot = *ss_u64map_get(&t->index, (uint64_t)start);
        win_emit(t, &t->wins[slot], true, out);
        win_release(t, slot);
    }
    t->base.wake = t->due.n ? ss_sat_add(ss_winheap_top(&t->due), t->size) : SS_TS_MAX;
}

static int i64_cmp(const void *pa, const void *pb) {
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

void ss_tumble_provisional(struct ss_op *op, struct ss_out *out) {
    struct tumble *t = (struct tumble *)op;
    size_t n = t->due.n;
    if (!n) return;
    SS_GROW(t->starts, t->cap_starts, n);
    memcpy(t->starts, t->due.v, n * sizeof *t->starts);
    qsort(t->starts, n, sizeof *t->starts, i64_cmp);
    for (size_t i = 0; i < n; i++) {
        uint32_t slot = *ss_u64map_get(&t->index, (uint64_t)t->starts[i]);
        win_emit(t, &t->wins[slot], false, out);
    }
}

/* ---- savepoints ------------------------------------------------------------------- */

/* Bumped when the bytes below change meaning: an older savepoint is then refused by
 * name instead of being read as something else. */
#define SNAP_VERSION 1

/* Per open window: start, its aggregates (key as its string, behind a flag since a key
 * of 0, "no category", differs from the interned empty string), then its distinct users:
 * keyed, (aggregate, kind, user) triples; unkeyed, (user, kind bits). Distinct counts
 * are not written: they are the sizes of those sets, recounted on load. */
void ss_tumble_save(const struct ss_op *op, struct ss_buf *b) {
    const struct tumble *t = (const struct tumble *)op;
    ss_snap_tag(b, op->type->name);
    ss_snap_u32(b, SNAP_VERSION);
    ss_snap_i64(b, t->size);
    ss_snap_i64(b, (int64_t)t->due.n);
    for (size_t i = 0; i < t->due.n; i++) {
        const struct win *w = &t->wins[*ss_u64map_get(&t->index, (uint64_t)t->due.v[i])];
        ss_snap_i64(b, w->start);
        ss_snap_i64(b, (int64_t)w->naggs);
        for (size_t j = 0; j < w->naggs; j++) {
            const struct ss_tumble_agg *a = &w->aggs[j];
            ss_snap_u8(b, a->key != 0);
            if (a->key) ss_snap_str(b, ss_intern_str(t->intern, a->key));
            ss_snap_i64(b, a->revenue);
            ss_snap_i64(b, a->orders);
            ss_snap_i64(b, a->units);
            ss_snap_i64(b, a->views);
            ss_snap_i64(b, a->cart_adds);
        }
        if (t->spec->keyed) {
            ss_snap_i64(b, (int64_t)w->users.n);
            for (size_t j = 0; j < ss_u64map_cap(&w->users); j++) {
                if (!w->users.slots[j].used) continue;
                uint64_t k = w->users.slots[j].key;
                ss_snap_u32(b, (uint32_t)(k >> 34));
                ss_snap_u8(b, (uint8_t)(k >> 32 & 3));
                ss_snap_str(b, ss_intern_str(t->intern, (uint32_t)k));
            }
        } else {
            ss_snap_i64(b, (int64_t)w->nheld);
            for (size_t j = 0; j < w->nheld; j++) {
                ss_snap_str(b, ss_intern_str(t->intern, w->held[j]));
                ss_snap_u8(b, w->uflags[w->held[j]]);
            }
        }
    }
}

static int load_fail(const struct tumble *t, struct ss_err *err, const char *what) {
    return ss_err_set(err, SS_ERROR, "savepoint of %s is damaged: %s", t->base.type->name, what);
}

/* One window's aggregates and distinct users into w (just opened, empty). Everything
 * is put where ss_tumble_close finds it as soon as it is held, so a failure part way
 * leaves nothing held twice or leaked. */
static int load_win(struct tumble *t, struct win *w, struct ss_snap_r *r, struct ss_err *err) {
    size_t naggs = ss_snap_get_count(r, 1 + 5 * 8);
    if (r->bad) return load_fail(t, err, "cut short, or a count past its end (aggregates)");
    if (naggs == 0 || naggs > MAX_AGGS || (!t->spec->keyed && naggs != 1))
        return load_fail(t, err, "a window with a wrong number of aggregates");
    for (size_t j = 0; j < naggs; j++) {
        uint8_t has_key = ss_snap_get_u8(r);
        struct ss_str ks = has_key ? ss_snap_get_str(r) : SS_STR_NULL;
        struct ss_tumble_agg a = {0};
        a.revenue = ss_snap_get_i64(r);
        a.orders = ss_snap_get_i64(r);
        a.units = ss_snap_get_i64(r);
        a.views = ss_snap_get_i64(r);
        a.cart_adds = ss_snap_get_i64(r);
        if (r->bad) return load_fail(t, err, "cut short, or a count past its end (aggregate)");
        if (has_key > 1 || (has_key && !t->spec->keyed)) return load_fail(t, err, "a damaged aggregate key");
        if (a.orders < 0 || a.views < 0 || a.cart_adds < 0) return load_fail(t, err, "a negative count");
        uint32_t key = has_key ? ss_intern_get(t->intern, ks) : 0;
        bool inserted;
        uint32_t *aggp = ss_u64map_put(&w->keys, key, &inserted);
        if (!inserted) return load_fail(t, err, "the same key twice in one window");
        SS_GROW(w->aggs, w->cap_aggs, w->naggs + 1);
        *aggp = (uint32_t)w->naggs;
        a.key = key;
        w->aggs[w->naggs++] = a;
        if (key) ss_intern_hold(t->intern, key);
        t->live_aggs++;
    }
    if (t->spec->keyed) {
        size_t n = ss_snap_get_count(r, 4 + 1 + 4);
        for (size_t j = 0; j < n; j++) {
            uint32_t agg = ss_snap_get_u32(r);
            uint8_t kind = ss_snap_get_u8(r);
            struct ss_str us = ss_snap_get_str(r);
            if (r->bad) break;
            if (agg >= w->naggs || kind >= SS_TUMBLE_NKINDS || !(t->spec->distinct_mask & (1u << kind)))
                return load_fail(t, err, "a distinct user of an unknown aggregate or kind");
            uint32_t user = ss_intern_get(t->intern, us);
            bool inserted;
            ss_u64map_put(&w->users, (uint64_t)agg << 34 | (uint64_t)kind << 32 | user, &inserted);
            if (!inserted) return load_fail(t, err, "the same distinct user twice");
            w->aggs[agg].distinct[kind]++;
            ss_intern_hold(t->intern, user);
        }
    } else {
        size_t n = ss_snap_get_count(r, 4 + 1);
        for (size_t j = 0; j < n; j++) {
            struct ss_str us = ss_snap_get_str(r);
            uint8_t flags = ss_snap_get_u8(r);
            if (r->bad) break;
            if (!flags || (flags & ~t->spec->distinct_mask)) return load_fail(t, err, "damaged distinct-user kinds");
            uint32_t user = ss_intern_get(t->intern, us);
            if (user < w->cap_uflags && w->uflags[user]) return load_fail(t, err, "the same distinct user twice");
            for (unsigned kind = 0; kind < SS_TUMBLE_NKINDS; kind++)
                if (flags & (1u << kind)) add_distinct(t, w, 0, kind, user);
        }
    }
    if (r->bad) return load_fail(t, err, "cut short, or a count past its end (distinct users)");
    return SS_OK;
}

int ss_tumble_load(struct ss_op *op, struct ss_snap_r *r, struct ss_err *err) {
    struct tumble *t = (struct tumble *)op;
    if (!ss_snap_expect(r, op->type->name)) return load_fail(t, err, "not this operator's state, or cut short");
    uint32_t version = ss_snap_get_u32(r);
    int64_t size = ss_snap_get_i64(r);
    size_t nwins = ss_snap_get_count(r, 3 * 8);
    if (r->bad) return load_fail(t, err, "cut short, or a count past its end (header)");
    if (version != SNAP_VERSION)
        return ss_err_set(err, SS_ERROR, "savepoint of %s: format version %u, this build reads %u", op->type->name,
                          version, SNAP_VERSION);
    if (size != t->size)
        return ss_err_set(err, SS_ERROR,
                          "savepoint of %s: its windows are %lld ms but %s is now %lld ms; restore with the "
                          "setting it was saved with, or start without the savepoint",
                          op->type->name, (long long)size, t->spec->cfg_key, (long long)t->size);
    for (size_t i = 0; i < nwins; i++) {
        int64_t start = ss_snap_get_i64(r);
        if (r->bad) return load_fail(t, err, "cut short, or a count past its end (window)");
        if (ss_ts_floor(start, t->size) != start) return load_fail(t, err, "a window start off the window grid");
        if (ss_u64map_get(&t->index, (uint64_t)start)) return load_fail(t, err, "the same window twice");
        int rc = load_win(t, win_get(t, start), r, err);
        if (rc) return rc;
    }
    t->cached = false;
    return SS_OK;
}

size_t ss_tumble_state_bytes(const struct ss_op *op) {
    const struct tumble *t = (const struct tumble *)op;
    size_t b = sizeof *t + t->cap_wins * sizeof *t->wins + t->cap_idle * sizeof *t->idle +
               ss_u64map_bytes(&t->index) + ss_winheap_bytes(&t->due) + t->cap_order * sizeof *t->order +
               t->cap_starts * sizeof *t->starts;
    for (size_t i = 0; i < t->nwins; i++) {
        const struct win *w = &t->wins[i];
        b += ss_u64map_bytes(&w->keys) + ss_u64map_bytes(&w->users) + w->cap_aggs * sizeof *w->aggs +
             w->cap_uflags + w->cap_held * sizeof *w->held;
    }
    return b;
}

size_t ss_tumble_state_keys(const struct ss_op *op) { return ((const struct tumble *)op)->live_aggs; }

void ss_tumble_close(struct ss_op *op) {
    struct tumble *t = (struct tumble *)op;
    if (!t) return;
    while (t->due.n) {
        int64_t start = ss_winheap_pop(&t->due);
        win_release(t, *ss_u64map_get(&t->index, (uint64_t)start));
    }
    for (size_t i = 0; i < t->nwins; i++) {
        ss_u64map_free(&t->wins[i].keys);
        ss_u64map_free(&t->wins[i].users);
        ss_free(t->wins[i].aggs);
        ss_free(t->wins[i].uflags);
        ss_free(t->wins[i].held);
    }
    ss_free(t->wins);
    ss_free(t->idle);
    ss_u64map_free(&t->index);
    ss_winheap_free(&t->due);
    ss_free(t->order);
    ss_free(t->starts);
    ss_free(t);
}
