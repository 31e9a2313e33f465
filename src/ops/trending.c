/* trending.c — trending_products: per sliding window [k·slide, k·slide + size) the top
 * `trending.top` products by views desc, then product_id asc (DESIGN §4, SEMANTICS §5).
 * Sits after validate / late / dedup with the other window operators.
 *
 * Pane optimisation (as Flink does): an event updates only its pane, the tumbling
 * sub-window [p·slide, (p+1)·slide) of its ts, never the size/slide windows that
 * contain it. Window k is panes k .. k+n-1 (n = size/slide). Windows are finalised in
 * order from a running sum (`struct slider`): moving from window k to k+1 subtracts
 * pane k and adds pane k+n, so each pane entry is touched twice whatever n is, and
 * ranking a window is one pass with a bounded heap of `top` entries. A pane is freed
 * as soon as the window that starts at it is emitted: no later window needs it, and
 * no event can reach it again (its end <= W). Only windows holding at least one
 * event are emitted: the next window is the later of (last emitted + 1) and the first
 * window containing the oldest live pane.
 *
 * Memory: product ids are held once per pane entry; the running sums hold none
 * (every product they contain is in a live pane). Pane storage is recycled. */
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/timefmt.h"
#include "../state/u64map.h"
#include "../state/winheap.h"
#include "op.h"

#define KEEP_WARM 32
#define MAX_WINDOWS_PER_EVENT 10080

/* Totals of one product, in a pane or in a running sum. `events` counts every event
 * (cart_remove too): a product is in a window iff its events there are > 0. */
struct tstat {
    uint32_t product;
    int64_t events, views, cart_adds, purchases, revenue;
};

struct pane {
    struct ss_u64map prods;   /* product id -> index in st */
    struct tstat *st;
    size_t nst, cap_st;
};

/* The sum of the live panes in [lo, hi) (valid when `on`). */
struct slider {
    bool on;
    int64_t lo, hi;
    struct ss_u64map prods;   /* product id -> index in st */
    struct tstat *st;
    size_t nst, cap_st;
};

struct trending {
    struct ss_op base;
    struct ss_intern *intern;
    int64_t size, slide, n, top;
    struct pane *panes;       /* slots; a freed pane's slot is on `idle` */
    size_t npanes, cap_panes;
    uint32_t *idle;
    size_t nidle, cap_idle;
    struct ss_u64map index;   /* pane number -> slot */
    struct ss_winheap due;    /* pane numbers of live panes, oldest on top */
    int64_t next_k;           /* windows below next_k have been emitted */
    bool cached;              /* last_slot holds pane last_pane */
    uint32_t last_slot;
    int64_t last_pane;
    int64_t last_from;        /* where pane last_pane starts: last_pane * slide */
    size_t live;              /* pane entries */
    struct slider fin;        /* towards the next window to finalise */
    struct slider prov;       /* scratch for provisional rows */
    uint32_t *best;           /* top-N selection: indices into a slider's st */
    size_t cap_best;
    int64_t *order;           /* scratch: sorted pane numbers */
    size_t cap_order;
};

static int open_op(struct ss_op **out, const struct ss_op_env *env, struct ss_err *err) {
    const struct ss_config *cfg = env->cfg;
    *out = NULL;
    if (cfg->trending_size_ms <= 0)
        return ss_err_set(err, SS_EUSAGE, "windows.trending.size must be a positive duration (got %lld ms)",
                          (long long)cfg->trending_size_ms);
    if (cfg->trending_slide_ms <= 0)
        return ss_err_set(err, SS_EUSAGE, "windows.trending.slide must be a positive duration (got %lld ms)",
                          (long long)cfg->trending_slide_ms);
    if (cfg->trending_size_ms % cfg->trending_slide_ms != 0)
        return ss_err_set(err, SS_EUSAGE,
                          "windows.trending.size (%lld ms) must be a multiple of windows.trending.slide (%lld ms)",
                          (long long)cfg->trending_size_ms, (long long)cfg->trending_slide_ms);
    /* Each event is in size/slide windows, and each of them is emitted: `slide: 1` (1 ms,
     * meant as a minute) made 600,000 windows per event, and a run of 1,000 events
     * with size 1d took 24 GB before it was killed. A week of one-minute slides is the
     * most allowed. */
    if (cfg->trending_size_ms / cfg->trending_slide_ms > MAX_WINDOWS_PER_EVENT)
        return ss_err_set(err, SS_EUSAGE,
                          "windows.trending.size / windows.trending.slide is %lld windows per event (%lld ms / %lld ms), "
                          "more than %d: each event is counted in and emitted for every window holding it (a plain "
                          "number is milliseconds: write 1m, not 1)",
                          (long long)(cfg->trending_size_ms / cfg->trending_slide_ms), (long long)cfg->trending_size_ms,
                          (long long)cfg->trending_slide_ms, MAX_WINDOWS_PER_EVENT);
    if (cfg->trending_top <= 0 || cfg->trending_top > UINT32_MAX)
        return ss_err_set(err, SS_EUSAGE, "windows.trending.top must be between 1 and 4294967295 rows (got %lld)",
                          (long long)cfg->trending_top);
    struct trending *t = ss_calloc(1, sizeof *t);
    t->base.type = &ss_op_trending;
    t->intern = env->intern;
    t->size = cfg->trending_size_ms;
    t->slide = cfg->trending_slide_ms;
    t->n = t->size / t->slide;
    t->top = cfg->trending_top;
    t->next_k = INT64_MIN;
    ss_u64map_init(&t->index);
    ss_winheap_init(&t->due);
    *out = &t->base;
    return SS_OK;
}

static struct pane *pane_at(struct trending *t, int64_t p) {
    uint32_t *slot = ss_u64map_get(&t->index, (uint64_t)p);
    return slot ? &t->panes[*slot] : NULL;
}

/* The first window not yet emitted that contains pane p. */
static int64_t first_window(const struct trending *t, int64_t p) {
    int64_t k = ss_sat_add(p, 1 - t->n);
    return k > t->next_k ? k : t->next_k;
}

/* The W at which the first window still to close that holds pane p closes. */
static int64_t wake_for(const struct trending *t, int64_t p) {
    return ss_sat_add(ss_sat_mul(first_window(t, p), t->slide), t->size);
}

static struct pane *pane_get(struct trending *t, int64_t p) {
    if (t->cached && t->last_pane == p) return &t->panes[t->last_slot];
    bool inserted;
    uint32_t *slotp = ss_u64map_put(&t->index, (uint64_t)p, &inserted);
    if (inserted) {
        uint32_t slot;
        if (t->nidle) {
            slot = t->idle[--t->nidle];
        } else {
            ss_assert(t->npanes < UINT32_MAX);
            SS_GROW(t->panes, t->cap_panes, t->npanes + 1);
            slot = (uint32_t)t->npanes++;
            memset(&t->panes[slot], 0, sizeof t->panes[slot]);
        }
        *slotp = slot;
        ss_winheap_push(&t->due, p);
        ss_op_wake_by(&t->base, wake_for(t, p));
    }
    t->cached = true;
    t->last_pane = p;
    t->last_from = ss_sat_mul(p, t->slide); /* saturating: a p read from a savepoint has no range check */
    t->last_slot = *slotp;
    return &t->panes[*slotp];
}

/* The pane holding ts: the last one tested first by a subtraction, without the two
 * divisions (as tumbling.c's window_of). */
static inline struct pane *pane_of(struct trending *t, int64_t ts) {
    if (t->cached && (uint64_t)ts - (uint64_t)t->last_from < (uint64_t)t->slide) return &t->panes[t->last_slot];
    return pane_get(t, ss_ts_floor(ts, t->slide) / t->slide);
}

static void pane_release(struct trending *t, int64_t p) {
    uint32_t slot = *ss_u64map_get(&t->index, (uint64_t)p);
    struct pane *pn = &t->panes[slot];
    for (size_t i = 0; i < pn->nst; i++) {
        /* products are spread over all ids: fetch a few ahead */
        if (i + 8 < pn->nst) ss_intern_prefetch_id(t->intern, pn->st[i + 8].product);
        ss_intern_drop(t->intern, pn->st[i].product);
    }
    t->live -= pn->nst;
    pn->nst = 0;
    if (t->nidle < KEEP_WARM) {
        ss_u64map_clear(&pn->prods);
    } else {
        ss_u64map_free(&pn->prods);
        ss_free(pn->st);
        pn->st = NULL;
        pn->cap_st = 0;
    }
    ss_u64map_del(&t->index, (uint64_t)p);
    if (t->cached && t->last_slot == slot) t->cached = false;
    SS_GROW(t->idle, t->cap_idle, t->nidle + 1);
    t->idle[t->nidle++] = slot;
}

static void process(struct ss_op *op, const struct ss_event *ev, const struct ss_clock *clk, struct ss_out *out) {
    (void)clk;
    (void)out;
    struct trending *t = (struct trending *)op;
    if (ev->stream == SS_STREAM_PROMOTIONS || ev->type > SS_EV_PURCHASE || !ev->product) return;
    struct pane *pn = pane_of(t, ev->ts);
    bool inserted;
    uint32_t *ip = ss_u64map_put(&pn->prods, ev->product, &inserted);
    if (inserted) {
        SS_GROW(pn->st, pn->cap_st, pn->nst + 1);
        *ip = (uint32_t)pn->nst++;
        memset(&pn->st[*ip], 0, sizeof pn->st[*ip]);
        pn->st[*ip].product = ev->product;
        ss_intern_hold(t->intern, ev->product);
        t->live++;
    }
    struct tstat *s = &pn->st[*ip];
    s->events++;
    switch (ev->type) {
    case SS_EV_VIEW: s->views++; break;
    case SS_EV_CART_ADD: s->cart_adds++; break;
    case SS_EV_PURCHASE:
        s->purchases++;
        /* saturates instead of wrapping on absurd inputs */
        s->revenue = ss_sat_add(s->revenue, ss_sat_mul(ev->price, ev->quantity));
        break;
    default: break;
    }
}

/* Stage 0 brings the product's slot in the event's pane into cache, stage 1 its totals
 * (when the product is already in the pane and sits in its home slot). Only for the
 * pane of the previous event (nearly always the event's own). */
static void trending_prefetch(struct ss_op *op, const struct ss_event *ev, int stage) {
    const struct trending *t = (const struct trending *)op;
    if (stage > 1 || !t->cached || ev->stream == SS_STREAM_PROMOTIONS || ev->type > SS_EV_PURCHASE || !ev->product)
        return;
    if ((uint64_t)ev->ts - (uint64_t)t->last_from >= (uint64_t)t->slide) return;
    const struct pane *pn = &t->panes[t->last_slot];
    if (stage == 0) {
        ss_u64map_prefetch(&pn->prods, ev->product);
        return;
    }
    if (!pn->prods.slots) return;
    const struct ss_u64map_slot *sl = &pn->prods.slots[ss_hash_u64(ev->product) & pn->prods.mask];
    if (sl->used && sl->key == ev->product && sl->val < pn->nst) __builtin_prefetch(&pn->st[sl->val]);
}

/* Adds (sign 1) or subtracts (sign -1) pane p, if it exists, to the running sum. */
static void slider_apply(struct trending *t, struct slider *sl, int64_t p, int sign) {
    const struct pane *pn = pane_at(t, p);
    if (!pn) return;
    for (size_t i = 0; i < pn->nst; i++) {
        const struct tstat *src = &pn->st[i];
        bool inserted;
        uint32_t *ip = ss_u64map_put(&sl->prods, src->product, &inserted);
        if (inserted) {
            SS_GROW(sl->st, sl->cap_st, sl->nst + 1);
            *ip = (uint32_t)sl->nst++;
            memset(&sl->st[*ip], 0, sizeof sl->st[*ip]);
            sl->st[*ip].product = src->product;
        }
        uint32_t at = *ip;
        struct tstat *d = &sl->st[at];
        d->events += sign * src->events;
        d->views += sign * src->views;
        d->cart_adds += sign * src->cart_adds;
        d->purchases += sign * src->purchases;
        d->revenue = ss_sat_add(d->revenue, sign * src->revenue);
        if (d->events == 0) { /* left the window: swap-remove */
            ss_u64map_del(&sl->prods, d->product);
            size_t last = --sl->nst;
            if (at != last) {
                sl->st[at] = sl->st[last];
                *ss_u64map_get(&sl->prods, sl->st[at].product) = at;
            }
        }
    }
}

static void slider_reset(struct slider *sl) {
    ss_u64map_clear(&sl->prods);
    sl->nst = 0;
    sl->on = false;
}

/* Makes sl the sum of window k (panes k .. k+n-1); windows only move forward. Each
 * call looks at most 2n pane numbers. */
static void slider_move(struct trending *t, struct slider *sl, int64_t k) {
    int64_t khi = ss_sat_add(k, t->n);
    if (!sl->on || k >= sl->hi) {
        slider_reset(sl);
        sl->on = true;
        sl->lo = sl->hi = k;
    }
    for (int64_t p = sl->lo; p < k; p++) slider_apply(t, sl, p, -1);
    sl->lo = k;
    for (int64_t p = sl->hi > k ? sl->hi : k; p < khi; p++) slider_apply(t, sl, p, 1);
    sl->hi = khi;
}

/* Strict ranking order: views desc, then product_id bytes asc (ids are unique). */
static bool better(const struct trending *t, const struct tstat *a, const struct tstat *b) {
    if (a->views != b->views) return a->views > b->views;
    return ss_str_cmp(ss_intern_str(t->intern, a->product), ss_intern_str(t->intern, b->product)) < 0;
}

/* Heap of indices into st with the worst entry on top. */
static void sift_down(const struct trending *t, const struct tstat *st, uint32_t *h, size_t n, size_t i) {
    uint32_t x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && better(t, &st[h[c]], &st[h[c + 1]])) c++;
        if (!better(t, &st[x], &st[h[c]])) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static void sift_up(const struct trending *t, const struct tstat *st, uint32_t *h, size_t i) {
    uint32_t x = h[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!better(t, &st[h[p]], &st[x])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

/* Emits ranks 1..top of window k from the running sum sl. */
static void emit_window(struct trending *t, const struct slider *sl, int64_t k, bool final, struct ss_out *out) {
    size_t top = (size_t)t->top < sl->nst ? (size_t)t->top : sl->nst;
    if (!top) return;
    SS_GROW(t->best, t->cap_best, top);
    size_t h = 0;
    for (size_t i = 0; i < sl->nst; i++) {
        if (h < top) {
            t->best[h] = (uint32_t)i;
            sift_up(t, sl->st, t->best, h++);
        } else if (better(t, &sl->st[i], &sl->st[t->best[0]])) {
            t->best[0] = (uint32_t)i;
            sift_down(t, sl->st, t->best, h, 0);
        }
    }
    /* heapsort: repeatedly move the worst to the end, leaving best first */
    for (size_t m = h; m > 1; m--) {
        uint32_t worst = t->best[0];
        t->best[0] = t->best[m - 1];
        sift_down(t, sl->st, t->best, m - 1, 0);
        t->best[m - 1] = worst;
    }
    int64_t start = ss_sat_mul(k, t->slide), end = ss_sat_add(start, t->size);
    for (size_t r = 0; r < h; r++) {
        const struct tstat *s = &sl->st[t->best[r]];
        struct ss_val *v = ss_out_row(out, SS_T_TRENDING_PRODUCTS);
        v[SS_TP_WINDOW_START].i = start;
        ss_out_str(out, &v[SS_TP_PRODUCT_ID], ss_intern_str(t->intern, s->product));
        v[SS_TP_WINDOW_END].i = end;
        v[SS_TP_RANK].i = (int64_t)r + 1;
        v[SS_TP_VIEWS].i = s->views;
        v[SS_TP_CART_ADDS].i = s->cart_adds;
        v[SS_TP_PURCHASES].i = s->purchases;
        v[SS_TP_REVENUE].i = s->revenue;
        v[SS_TP_FINAL].i = final;
    }
}

static void advance(struct ss_op *op, const struct ss_clock *clk, struct ss_out *out) {
    struct trending *t = (struct trending *)op;
    while (t->due.n) {
        /* every live pane is >= next_k, so window k holds the oldest one: not empty */
        int64_t k = first_window(t, ss_winheap_top(&t->due));
        if (ss_sat_add(ss_sat_mul(k, t->slide), t->size) > clk->watermark) break;
        slider_move(t, &t->fin, k);
        emit_window(t, &t->fin, k, true, out);
        if (ss_winheap_top(&t->due) == k) {
            slider_apply(t, &t->fin, k, -1);
            ss_winheap_pop(&t->due);
            pane_release(t, k);
        }
        t->fin.lo = ss_sat_add(k, 1);
        if (k == INT64_MAX) { /* nothing can follow; only reachable with ts near the int64 limit */
            while (t->due.n) pane_release(t, ss_winheap_pop(&t->due));
            slider_reset(&t->fin);
        }
        t->next_k = ss_sat_add(k, 1);
    }
    t->base.wake = t->due.n ? wake_for(t, ss_winheap_top(&t->due)) : SS_TS_MAX;
}

static int i64_cmp(const void *pa, const void *pb) {
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

/* Every window with an event that is not final yet, in start order, from a scratch
 * running sum walked over the sorted live panes. */
static void provisional(struct ss_op *op, struct ss_out *out) {
    struct trending *t = (struct trending *)op;
    size_t np = t->due.n;
    if (!np) return;
    SS_GROW(t->order, t->cap_order, np);
    memcpy(t->order, t->due.v, np * sizeof *t->order);
    qsort(t->order, np, sizeof *t->order, i64_cmp);
    bool any = false;
    int64_t done = 0; /* last window emitted, when any */
    for (size_t i = 0; i < np; i++) {
        int64_t k = first_window(t, t->order[i]);
        if (any && k <= done) k = done + 1;
        for (; k <= t->order[i]; k++) {
            slider_move(t, &t->prov, k);
            emit_window(t, &t->prov, k, false, out);
            any = true;
            done = k;
            if (k == INT64_MAX) break;
        }
    }
    slider_reset(&t->prov);
}

/* ---- savepoints ------------------------------------------------------------------- */

/* Bumped when the bytes below change meaning: an older savepoint is then refused. */
#define SNAP_VERSION 1
/* A pane entry's counts are far below this (2^40 events of one product in one slide),
 * and a running sum of n <= MAX_WINDOWS_PER_EVENT of them cannot overflow: a damaged
 * count is refused instead of overflowing the sum rebuilt on load. */
#define MAX_PANE_COUNT ((int64_t)1 << 40)

/* The live panes (products as strings), then the running sum `fin`. Its counts are
 * the sums of the live panes in [lo, hi) and are rebuilt from them on load; only its
 * revenues are written, because a saturated revenue sum is not undone exactly by
 * subtraction, so the rebuilt one could differ from what the saved operator holds. */
static void save_op(const struct ss_op *op, struct ss_buf *b) {
    const struct trending *t = (const struct trending *)op;
    ss_snap_tag(b, "trending");
    ss_snap_u32(b, SNAP_VERSION);
    ss_snap_i64(b, t->size);
    ss_snap_i64(b, t->slide);
    ss_snap_i64(b, t->next_k);
    ss_snap_i64(b, (int64_t)t->due.n);
    for (size_t i = 0; i < t->due.n; i++) {
        int64_t p = t->due.v[i];
        const struct pane *pn = &t->panes[*ss_u64map_get(&t->index, (uint64_t)p)];
        ss_snap_i64(b, p);
        ss_snap_i64(b, (int64_t)pn->nst);
        for (size_t j = 0; j < pn->nst; j++) {
            const struct tstat *s = &pn->st[j];
            ss_snap_str(b, ss_intern_str(t->intern, s->product));
            ss_snap_i64(b, s->events);
            ss_snap_i64(b, s->views);
            ss_snap_i64(b, s->cart_adds);
            ss_snap_i64(b, s->purchases);
            ss_snap_i64(b, s->revenue);
        }
    }
    ss_snap_u8(b, t->fin.on);
    ss_snap_i64(b, t->fin.lo);
    ss_snap_i64(b, t->fin.hi);
    ss_snap_i64(b, (int64_t)t->fin.nst);
    for (size_t j = 0; j < t->fin.nst; j++) {
        ss_snap_str(b, ss_intern_str(t->intern, t->fin.st[j].product));
        ss_snap_i64(b, t->fin.st[j].revenue);
    }
}

static int load_fail(struct ss_err *err, const char *what) {
    return ss_err_set(err, SS_ERROR, "savepoint of trending is damaged: %s", what);
}

/* One pane's entries into pn (just opened, empty); each product is held as soon as it
 * is in the pane, where close_op drops it, so a failure part way leaks nothing. */
static int load_pane(struct trending *t, struct pane *pn, struct ss_snap_r *r, struct ss_err *err) {
    size_t n = ss_snap_get_count(r, 4 + 5 * 8);
    if (r->bad) return load_fail(err, "cut short, or a count past its end (pane)");
    if (n == 0) return load_fail(err, "an empty pane");
    for (size_t j = 0; j < n; j++) {
        struct ss_str ps = ss_snap_get_str(r);
        struct tstat s = {0};
        s.events = ss_snap_get_i64(r);
        s.views = ss_snap_get_i64(r);
        s.cart_adds = ss_snap_get_i64(r);
        s.purchases = ss_snap_get_i64(r);
        s.revenue = ss_snap_get_i64(r);
        if (r->bad) return load_fail(err, "cut short, or a count past its end (pane entry)");
        /* revenue too: prices and quantities are never negative (SEMANTICS §2), and the
         * running sum negates it */
        if (s.events < 1 || s.events > MAX_PANE_COUNT || s.views < 0 || s.cart_adds < 0 || s.purchases < 0 ||
            s.views + s.cart_adds + s.purchases > s.events || s.revenue < 0)
            return load_fail(err, "a pane entry with impossible counts");
        s.product = ss_intern_get(t->intern, ps);
        bool inserted;
        uint32_t *ip = ss_u64map_put(&pn->prods, s.product, &inserted);
        if (!inserted) return load_fail(err, "the same product twice in one pane");
        SS_GROW(pn->st, pn->cap_st, pn->nst + 1);
        *ip = (uint32_t)pn->nst;
        pn->st[pn->nst++] = s;
        ss_intern_hold(t->intern, s.product);
        t->live++;
    }
    return SS_OK;
}

/* Rebuilds fin from the loaded panes, then takes the saved revenues, refusing a saved
 * sum whose products are not exactly the rebuilt ones. */
static int load_fin(struct trending *t, struct ss_snap_r *r, struct ss_err *err) {
    uint8_t on = ss_snap_get_u8(r);
    int64_t lo = ss_snap_get_i64(r), hi = ss_snap_get_i64(r);
    size_t n = ss_snap_get_count(r, 4 + 8);
    if (r->bad) return load_fail(err, "cut short, or a count past its end (running sum)");
    if (on > 1 || (!on && n)) return load_fail(err, "a damaged running sum");
    if (!on) return SS_OK;
    /* after advance, fin covers windows from next_k on: [next_k, next_k + n - 1) */
    int64_t span;
    if (lo != t->next_k || hi < lo || __builtin_sub_overflow(hi, lo, &span) || span >= t->n)
        return load_fail(err, "a running sum over a wrong range of panes");
    t->fin.on = true;
    t->fin.lo = t->fin.hi = lo;
    for (int64_t p = lo; p < hi; p++) slider_apply(t, &t->fin, p, 1);
    t->fin.hi = hi;
    if (n != t->fin.nst) return load_fail(err, "a running sum that disagrees with its panes");
    for (size_t j = 0; j < n; j++) {
        struct ss_str ps = ss_snap_get_str(r);
        int64_t revenue = ss_snap_get_i64(r);
        if (r->bad) return load_fail(err, "cut short, or a count past its end (running sum entry)");
        uint32_t id = ss_intern_find(t->intern, ps);
        uint32_t *ip = id ? ss_u64map_get(&t->fin.prods, id) : NULL;
        bool inserted = false;
        if (ip) ss_u64map_put(&t->prov.prods, id, &inserted); /* prov is scratch here */
        if (!inserted) {
            ss_u64map_clear(&t->prov.prods);
            return load_fail(err, "a running sum that disagrees with its panes");
        }
        t->fin.st[*ip].revenue = revenue;
    }
    ss_u64map_clear(&t->prov.prods);
    return SS_OK;
}

static int load_op(struct ss_op *op, struct ss_snap_r *r, struct ss_err *err) {
    struct trending *t = (struct trending *)op;
    if (!ss_snap_expect(r, "trending")) return load_fail(err, "not this operator's state, or cut short");
    uint32_t version = ss_snap_get_u32(r);
    int64_t size = ss_snap_get_i64(r), slide = ss_snap_get_i64(r);
    t->next_k = ss_snap_get_i64(r);
    size_t npanes = ss_snap_get_count(r, 2 * 8);
    if (r->bad) return load_fail(err, "cut short, or a count past its end (header)");
    if (version != SNAP_VERSION)
        return ss_err_set(err, SS_ERROR, "savepoint of trending: format version %u, this build reads %u", version,
                          SNAP_VERSION);
    if (size != t->size || slide != t->slide)
        return ss_err_set(err, SS_ERROR,
                          "savepoint of trending: its windows are %lld ms sliding by %lld ms but "
                          "windows.trending is now %lld ms by %lld ms; restore with the settings it was saved "
                          "with, or start without the savepoint",
                          (long long)size, (long long)slide, (long long)t->size, (long long)t->slide);
    for (size_t i = 0; i < npanes; i++) {
        int64_t p = ss_snap_get_i64(r);
        if (r->bad) return load_fail(err, "cut short, or a count past its end (pane)");
        /* advance frees a pane once the window starting at it is emitted */
        if (p < t->next_k) return load_fail(err, "a pane of windows already emitted");
        if (pane_at(t, p)) return load_fail(err, "the same pane twice");
        int rc = load_pane(t, pane_get(t, p), r, err);
        if (rc) return rc;
    }
    t->cached = false;
    return load_fin(t, r, err);
}

static size_t slider_bytes(const struct slider *sl) {
    return ss_u64map_bytes(&sl->prods) + sl->cap_st * sizeof *sl->st;
}

static size_t state_bytes(const struct ss_op *op) {
    const struct trending *t = (const struct trending *)op;
    size_t b = sizeof *t + t->cap_panes * sizeof *t->panes + t->cap_idle * sizeof *t->idle +
               ss_u64map_bytes(&t->index) + ss_winheap_bytes(&t->due) + slider_bytes(&t->fin) +
               slider_bytes(&t->prov) + t->cap_best * sizeof *t->best + t->cap_order * sizeof *t->order;
    for (size_t i = 0; i < t->npanes; i++)
        b += ss_u64map_bytes(&t->panes[i].prods) + t->panes[i].cap_st * sizeof *t->panes[i].st;
    return b;
}

static size_t state_keys(const struct ss_op *op) { return ((const struct trending *)op)->live; }

static void close_op(struct ss_op *op) {
    struct trending *t = (struct trending *)op;
    if (!t) return;
    while (t->due.n) pane_release(t, ss_winheap_pop(&t->due));
    for (size_t i = 0; i < t->npanes; i++) {
        ss_u64map_free(&t->panes[i].prods);
        ss_free(t->panes[i].st);
    }
    ss_free(t->panes);
    ss_free(t->idle);
    ss_u64map_free(&t->index);
    ss_winheap_free(&t->due);
    ss_u64map_free(&t->fin.prods);
    ss_free(t->fin.st);
    ss_u64map_free(&t->prov.prods);
    ss_free(t->prov.st);
    ss_free(t->best);
    ss_free(t->order);
    ss_free(t);
}

const struct ss_op_type ss_op_trending = {
    .name = "trending",
    .open = open_op,
    .process = process,
    .advance = advance,
    .provisional = provisional,
    .state_bytes = state_bytes,
    .state_keys = state_keys,
    .close = close_op,
    .prefetch = trending_prefetch,
    .prefetch_stages = 1u << 0 | 1u << 1,
    .save = save_op,
    .load = load_op,
};
