/* join.c — the stream-stream promotion join (SEMANTICS §7), the `promo_matches` table.
 * Sits after dedup: sees promotions and clicks; a pair is emitted when the later of the
 * two arrives.
 *
 * Promotions are few and long-lived: a slab, a chain per product, and a min-heap on
 * ends_at that evicts each once ends_at < W.
 *
 * Clicks (views and cart_adds) are many and short-lived: each is kept only while
 * c.ts + grace >= max_ts of its partition. That condition is checked exactly, at match
 * time, against the partitions' current max_ts; physically, clicks sit in one array in
 * arrival order with their event_id and user_id bytes in one byte store, and are
 * compacted in a batch whenever the array has doubled since the last compaction. So a
 * held click costs no allocation of its own, memory stays within twice what is live,
 * and the work per click is O(1) amortised.
 *
 * Only a promotion looks clicks up by product, and promotions are rare, so the chains
 * per product are built when one arrives, for the clicks that came since the last one
 * (`indexed`), not on every click. A compaction drops the chains; the next promotion
 * chains the survivors again, once per compaction at most. */
#include <string.h>

#include "../core/alloc.h"
#include "../core/money.h"
#include "../core/timefmt.h"
#include "../state/keymap.h"
#include "../state/winheap.h"
#include "op.h"

#define MIN_SWEEP 1024

struct promo {
    int64_t starts, ends, discount;
    uint32_t promo, product; /* held; promo == 0: free slot */
    uint32_t next;           /* next promotion of the product / next free slot, index + 1 */
};

struct click {
    int64_t ts;
    uint32_t product;     /* held */
    uint32_t slot;        /* partition slot, for its max_ts */
    uint32_t next;        /* next chained click of the product, index + 1 */
    uint32_t off;         /* event_id, then user_id, in the byte store */
    uint32_t len, ulen;   /* their lengths */
};

struct pdue {
    int64_t ends;
    uint32_t idx;
};

struct join {
    struct ss_op base;
    struct ss_intern *intern;
    int64_t grace;
    struct promo *p;
    size_t np, cap_p;
    uint32_t free_p;
    size_t live_p;
    struct pdue *heap;
    size_t nheap, cap_heap;
    struct ss_keymap promos_of; /* product -> first promotion, index + 1 */
    struct click *c;
    size_t nc, cap_c;
    size_t sweep_at;
    char *sb;                   /* event_id and user_id bytes of held clicks, back to back in their order */
    size_t nsb, cap_sb;
    size_t indexed;             /* clicks [0, indexed) are chained in clicks_of */
    struct ss_keymap clicks_of; /* product -> last chained click, index + 1 */
};

/* ---- promotions ------------------------------------------------------------------ */

static void heap_push(struct join *j, int64_t ends, uint32_t idx) {
    SS_GROW(j->heap, j->cap_heap, j->nheap + 1);
    size_t i = j->nheap++;
    while (i > 0 && j->heap[(i - 1) / 2].ends > ends) {
        j->heap[i] = j->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    j->heap[i] = (struct pdue){ends, idx};
}

static struct pdue heap_pop(struct join *j) {
    struct pdue top = j->heap[0], last = j->heap[--j->nheap];
    size_t n = j->nheap, i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && j->heap[c + 1].ends < j->heap[c].ends) c++;
        if (j->heap[c].ends >= last.ends) break;
        j->heap[i] = j->heap[c];
        i = c;
    }
    if (n) j->heap[i] = last;
    return top;
}

static void promo_evict(struct join *j, uint32_t idx) {
    struct promo *q = &j->p[idx];
    uint32_t head = ss_keymap_get(&j->promos_of, q->product);
    if (head == idx + 1) {
        ss_keymap_set(&j->promos_of, q->product, q->next);
    } else {
        uint32_t k = head;
        while (k && j->p[k - 1].next != idx + 1) k = j->p[k - 1].next;
        ss_assert(k);
        j->p[k - 1].next = q->next;
    }
    ss_intern_drop(j->intern, q->promo);
    ss_intern_drop(j->intern, q->product);
    q->promo = q->product = 0;
    q->next = j->free_p;
    j->free_p = idx + 1;
    j->live_p--;
}

/* ---- clicks ----------------------------------------------------------------------- */

static bool click_alive(const struct click *c, int64_t grace, const struct ss_clock *clk) {
    return ss_sat_add(c->ts, grace) >= clk->max_ts[c->slot];
}

/* Chains the clicks that came since the last promotion into clicks_of. */
static void clicks_index(struct join *j) {
    for (size_t i = j->indexed; i < j->nc; i++) {
        j->c[i].next = ss_keymap_get(&j->clicks_of, j->c[i].product);
        ss_keymap_set(&j->clicks_of, j->c[i].product, (uint32_t)i + 1);
    }
    j->indexed = j->nc;
}

/* Drops every click that can no longer match (or all of them) and compacts. Clicks
 * expire roughly in arrival order, so the survivors come in long runs (most of the
 * newer half of the array); a run moves down as one block, its bytes too (those of
 * consecutive clicks are consecutive in the byte store), instead of click by click. */
static void clicks_sweep(struct join *j, const struct ss_clock *clk, bool all) {
    for (size_t i = 0; i < j->indexed; i++) ss_keymap_set(&j->clicks_of, j->c[i].product, 0);
    j->indexed = 0;
    size_t n = 0, nsb = 0, i = 0;
    while (i < j->nc) {
        if (all || !click_alive(&j->c[i], j->grace, clk)) {
            ss_intern_drop(j->intern, j->c[i].product);
            i++;
            continue;
        }
        size_t end = i + 1; /* survivors [i, end) */
        while (end < j->nc && click_alive(&j->c[end], j->grace, clk)) end++;
        const struct click *last = &j->c[end - 1];
        size_t from = j->c[i].off, bytes = last->off + (size_t)last->len + last->ulen - from;
        if (from != nsb) { /* survivors only move down */
            memmove(j->sb + nsb, j->sb + from, bytes);
            for (size_t k = i; k < end; k++) j->c[k].off -= (uint32_t)(from - nsb);
        }
        if (i != n) memmove(&j->c[n], &j->c[i], (end - i) * sizeof *j->c);
        n += end - i;
        nsb += bytes;
        i = end;
    }
    /* the bytes given up are overwritten: a click left with a stale offset then reads
     * garbage at once rather than its old ids, which stay intact until new clicks reach
     * them (the tests see such a bug only so) */
    if (j->nsb > nsb) memset(j->sb + nsb, '#', j->nsb - nsb);
    j->nc = n;
    j->nsb = nsb;
    j->sweep_at = n * 2 > MIN_SWEEP ? n * 2 : MIN_SWEEP;
}

/* ---- operator ------------------------------------------------------------------------ */

static int join_open(struct ss_op **out, const struct ss_op_env *env, struct ss_err *err) {
    *out = NULL;
    if (env->cfg->join_grace_ms < 0)
        return ss_err_set(err, SS_EUSAGE, "join.grace must not be negative (got %lld ms)",
                          (long long)env->cfg->join_grace_ms);
    struct join *j = ss_calloc(1, sizeof *j);
    j->base.type = &ss_op_promo_join;
    j->intern = env->intern;
    j->grace = env->cfg->join_grace_ms;
    j->sweep_at = MIN_SWEEP;
    *out = &j->base;
    return SS_OK;
}

static void emit(struct ss_out *out, struct ss_str event_id, struct ss_str promo_id, struct ss_str user_id,
                 struct ss_str product_id, int64_t discount, int64_t click_ts) {
    struct ss_val *v = ss_out_row(out, SS_T_PROMO_MATCHES);
    ss_out_str(out, &v[SS_PM_EVENT_ID], event_id);
    ss_out_str(out, &v[SS_PM_PROMO_ID], promo_id);
    ss_out_str(out, &v[SS_PM_USER_ID], user_id);
    ss_out_str(out, &v[SS_PM_PRODUCT_ID], product_id);
    v[SS_PM_DISCOUNT_PCT].i = discount;
    v[SS_PM_CLICK_TS].i = click_ts;
}

static void on_promotion(struct join *j, const struct ss_event *ev, const struct ss_clock *clk,
                         struct ss_out *out) {
    clicks_index(j);
    for (uint32_t k = ss_keymap_get(&j->clicks_of, ev->product); k; k = j->c[k - 1].next) {
        const struct click *c = &j->c[k - 1];
        if (c->ts < ev->starts_at || c->ts >= ev->ends_at || !click_alive(c, j->grace, clk)) continue;
        emit(out, (struct ss_str){j->sb + c->off, c->len}, ev->promo_id,
             (struct ss_str){j->sb + c->off + c->len, c->ulen}, ev->product_id, ev->discount_pct, c->ts);
    }
    uint32_t idx;
    if (j->free_p) {
        idx = j->free_p - 1;
        j->free_p = j->p[idx].next;
    } else {
        ss_assert(j->np < UINT32_MAX - 1);
        SS_GROW(j->p, j->cap_p, j->np + 1);
        idx = (uint32_t)j->np++;
    }
    struct promo *q = &j->p[idx];
    q->starts = ev->starts_at;
    q->ends = ev->ends_at;
    q->discount = ev->discount_pct;
    q->promo = ev->promo;
    q->product = ev->product;
    ss_intern_hold(j->intern, q->promo);
    ss_intern_hold(j->intern, q->product);
    q->next = ss_keymap_get(&j->promos_of, q->product);
    ss_keymap_set(&j->promos_of, q->product, idx + 1);
    heap_push(j, q->ends, idx);
    ss_op_wake_by(&j->base, ss_sat_add(j->heap[0].ends, 1));
    j->live_p++;
}

static void on_click(struct join *j, const struct ss_event *ev, const struct ss_clock *clk, struct ss_out *out) {
    for (uint32_t k = j->live_p ? ss_keymap_get(&j->promos_of, ev->product) : 0; k; k = j->p[k - 1].next) {
        const struct promo *q = &j->p[k - 1];
        if (ev->ts < q->starts || ev->ts >= q->ends) continue;
        emit(out, ev->event_id, ss_intern_str(j->intern, q->promo), ev->user_id, ev->product_id, q->discount,
             ev->ts);
    }
    if (ss_sat_add(ev->ts, j->grace) < clk->max_ts[ev->slot]) return; /* already past its grace */
    if (j->nc >= j->sweep_at) clicks_sweep(j, clk, false);
    size_t bytes = (size_t)ev->event_id.len + ev->user_id.len;
    ss_assert(j->nc < UINT32_MAX - 1 && j->nsb + bytes <= UINT32_MAX);
    SS_GROW(j->c, j->cap_c, j->nc + 1);
    SS_GROW(j->sb, j->cap_sb, j->nsb + bytes);
    /* the user by its bytes, not a held id: a held id is a write to the user's intern
     * entry now and another, usually a cache miss, when the click is dropped */
    if (bytes) { /* (else sb may still be NULL) */
        ss_copy_short(j->sb + j->nsb, ev->event_id.p, ev->event_id.len);
        ss_copy_short(j->sb + j->nsb + ev->event_id.len, ev->user_id.p, ev->user_id.len);
    }
    struct click *c = &j->c[j->nc++];
    c->ts = ev->ts;
    c->product = ev->product;
    c->slot = ev->slot;
    c->next = 0;
    c->off = (uint32_t)j->nsb;
    c->len = ev->event_id.len;
    c->ulen = ev->user_id.len;
    ss_intern_hold(j->intern, c->product);
    j->nsb += bytes;
}

static void join_process(struct ss_op *op, const struct ss_event *ev, const struct ss_clock *clk,
                         struct ss_out *out) {
    struct join *j = (struct join *)op;
    if (!ev->product) return;
    if (ev->stream == SS_STREAM_PROMOTIONS) {
        if (ev->promo) on_promotion(j, ev, clk, out);
    } else if (ev->stream == SS_STREAM_CLICKS && (ev->type == SS_EV_VIEW || ev->type == SS_EV_CART_ADD) &&
               ev->user) {
        on_click(j, ev, clk, out);
    }
}

static void join_advance(struct ss_op *op, const struct ss_clock *clk, struct ss_out *out) {
    (void)out;
    struct join *j = (struct join *)op;
    bool all = clk->watermark == SS_TS_MAX;
    while (j->nheap && (all || j->heap[0].ends < clk->watermark)) promo_evict(j, heap_pop(j).idx);
    if (all && j->nc) clicks_sweep(j, clk, true); /* no event can come any more */
    j->base.wake = j->nheap ? ss_sat_add(j->heap[0].ends, 1) : SS_TS_MAX;
}

static size_t join_state_bytes(const struct ss_op *op) {
    const struct join *j = (const struct join *)op;
    return sizeof *j + j->cap_p * sizeof *j->p + j->cap_heap * sizeof *j->heap + j->cap_c * sizeof *j->c +
           j->cap_sb + ss_keymap_bytes(&j->promos_of) + ss_keymap_bytes(&j->clicks_of);
}

static size_t join_state_keys(const struct ss_op *op) {
    const struct join *j = (const struct join *)op;
    return j->live_p + j->nc;
}

static void join_close(struct ss_op *op) {
    struct join *j = (struct join *)op;
    if (!j) return;
    for (size_t i = 0; i < j->np; i++)
        if (j->p[i].promo) {
            ss_intern_drop(j->intern, j->p[i].promo);
            ss_intern_drop(j->intern, j->p[i].product);
        }
    for (size_t i = 0; i < j->nc; i++) ss_intern_drop(j->intern, j->c[i].product);
    ss_free(j->p);
    ss_free(j->heap);
    ss_free(j->c);
    ss_free(j->sb);
    ss_keymap_free(&j->promos_of);
    ss_keymap_free(&j->clicks_of);
    ss_free(j);
}

/* ---- savepoint ------------------------------------------------------------------------ */

/* Version 1: the live promotions {starts, ends, discount, promo_id, product_id}, then
 * every held click in arrival order {ts, slot, product_id, event_id, user_id}, then
 * sweep_at. Clicks past their grace are saved too: save has no clock to tell them, and
 * the next sweep drops them as it would have. The chains per product are not saved: the
 * next promotion builds them from the clicks (indexed = 0). */
#define JOIN_SNAP_VERSION 1
#define PROMO_MIN_BYTES (3 * 8 + 4 + 4)
#define CLICK_MIN_BYTES (8 + 4 + 4 + 4 + 4)

static void join_save(const struct ss_op *op, struct ss_buf *b) {
    const struct join *j = (const struct join *)op;
    ss_snap_tag(b, "promo_join");
    ss_snap_u32(b, JOIN_SNAP_VERSION);
    ss_snap_i64(b, (int64_t)j->live_p);
    for (size_t i = 0; i < j->np; i++) {
        const struct promo *q = &j->p[i];
        if (!q->promo) continue;
        ss_snap_i64(b, q->starts);
        ss_snap_i64(b, q->ends);
        ss_snap_i64(b, q->discount);
        ss_snap_str(b, ss_intern_str(j->intern, q->promo));
        ss_snap_str(b, ss_intern_str(j->intern, q->product));
    }
    ss_snap_i64(b, (int64_t)j->nc);
    for (size_t i = 0; i < j->nc; i++) {
        const struct click *c = &j->c[i];
        ss_snap_i64(b, c->ts);
        ss_snap_u32(b, c->slot);
        ss_snap_str(b, ss_intern_str(j->intern, c->product));
        ss_snap_str(b, (struct ss_str){j->sb + c->off, c->len});
        ss_snap_str(b, (struct ss_str){j->sb + c->off + c->len, c->ulen});
    }
    ss_snap_i64(b, (int64_t)j->sweep_at);
}

static int load_fail(struct ss_snap_r *r, struct ss_err *err, const char *what) {
    if (r->bad) return ss_err_set(err, SS_ERROR, "promo_join savepoint: cut short or damaged (%s)", what);
    return ss_err_set(err, SS_ERROR, "promo_join savepoint: %s", what);
}

/* Each promotion and click goes into the state as soon as it is read and checked, with
 * its ids held, so that close after a refusal half-way releases exactly what was taken. */
static int join_load(struct ss_op *op, struct ss_snap_r *r, struct ss_err *err) {
    struct join *j = (struct join *)op;
    if (j->np || j->nc) return ss_err_set(err, SS_ERROR, "promo_join savepoint: loaded into a used operator");
    if (!ss_snap_expect(r, "promo_join")) return load_fail(r, err, "no promo_join section");
    uint32_t version = ss_snap_get_u32(r);
    if (r->bad) return load_fail(r, err, "version");
    if (version != JOIN_SNAP_VERSION)
        return ss_err_set(err, SS_ERROR, "promo_join savepoint: version %u, this build reads version %d",
                          version, JOIN_SNAP_VERSION);

    size_t np = ss_snap_get_count(r, PROMO_MIN_BYTES);
    if (r->bad) return load_fail(r, err, "promotion count");
    if (np >= UINT32_MAX - 1) return load_fail(r, err, "too many promotions");
    if (np) {
        j->p = ss_calloc(np, sizeof *j->p);
        j->cap_p = np;
    }
    for (size_t i = 0; i < np; i++) {
        int64_t starts = ss_snap_get_i64(r), ends = ss_snap_get_i64(r), discount = ss_snap_get_i64(r);
        struct ss_str promo_id = ss_snap_get_str(r), product_id = ss_snap_get_str(r);
        if (r->bad) return load_fail(r, err, "promotion");
        if (discount < 0 || discount > 100 * SS_MONEY_SCALE)
            return load_fail(r, err, "a promotion's discount is outside 0..100 %");
        if (!product_id.len) return load_fail(r, err, "a promotion without product_id");
        uint32_t idx = (uint32_t)j->np++;
        struct promo *q = &j->p[idx];
        q->starts = starts;
        q->ends = ends;
        q->discount = discount;
        q->promo = ss_intern_get(j->intern, promo_id);
        q->product = ss_intern_get(j->intern, product_id);
        ss_intern_hold(j->intern, q->promo);
        ss_intern_hold(j->intern, q->product);
        q->next = ss_keymap_get(&j->promos_of, q->product);
        ss_keymap_set(&j->promos_of, q->product, idx + 1);
        heap_push(j, ends, idx);
        j->live_p++;
    }

    size_t nc = ss_snap_get_count(r, CLICK_MIN_BYTES);
    if (r->bad) return load_fail(r, err, "click count");
    if (nc >= UINT32_MAX - 1) return load_fail(r, err, "too many clicks");
    if (nc) {
        j->c = ss_calloc(nc, sizeof *j->c);
        j->cap_c = nc;
    }
    for (size_t i = 0; i < nc; i++) {
        int64_t ts = ss_snap_get_i64(r);
        uint32_t slot = ss_snap_get_u32(r);
        struct ss_str product_id = ss_snap_get_str(r), event_id = ss_snap_get_str(r), user_id = ss_snap_get_str(r);
        if (r->bad) return load_fail(r, err, "click");
        if (!product_id.len) return load_fail(r, err, "a click without product_id");
        if (slot >= r->slots) return load_fail(r, err, "a click's partition slot out of range");
        size_t bytes = (size_t)event_id.len + user_id.len;
        if (j->nsb + bytes > UINT32_MAX) return load_fail(r, err, "clicks' ids exceed 4 GiB");
        SS_GROW(j->sb, j->cap_sb, j->nsb + bytes);
        if (event_id.len) memcpy(j->sb + j->nsb, event_id.p, event_id.len);
        if (user_id.len) memcpy(j->sb + j->nsb + event_id.len, user_id.p, user_id.len);
        struct click *c = &j->c[j->nc++];
        c->ts = ts;
        c->product = ss_intern_get(j->intern, product_id);
        c->slot = slot;
        c->next = 0;
        c->off = (uint32_t)j->nsb;
        c->len = event_id.len;
        c->ulen = user_id.len;
        ss_intern_hold(j->intern, c->product);
        j->nsb += bytes;
    }

    /* sweep_at decides when the held clicks are compacted, so state_keys follows the
     * saved operator's; a sweep leaves it at max(2 n, MIN_SWEEP) and n only grows up
     * to it until the next one. */
    int64_t sweep_at = ss_snap_get_i64(r);
    if (r->bad) return load_fail(r, err, "sweep_at");
    size_t most = 2 * j->nc > MIN_SWEEP ? 2 * j->nc : MIN_SWEEP;
    if (sweep_at < MIN_SWEEP || (uint64_t)sweep_at < j->nc || (uint64_t)sweep_at > most)
        return load_fail(r, err, "sweep_at does not fit the number of clicks");
    j->sweep_at = (size_t)sweep_at;
    j->base.wake = SS_TS_MIN;
    return SS_OK;
}

const struct ss_op_type ss_op_promo_join = {
    .name = "promo_join",
    .open = join_open,
    .process = join_process,
    .advance = join_advance,
    .provisional = NULL,
    .flush = NULL,
    .state_bytes = join_state_bytes,
    .state_keys = join_state_keys,
    .close = join_close,
    .save = join_save,
    .load = join_load,
};
