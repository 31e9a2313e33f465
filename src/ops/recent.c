/* recent.c — recently viewed products per user (SEMANTICS §9), the `recently_viewed`
 * state-change table. Sits after dedup: sees every view; at each epoch boundary
 * (`flush`) writes one row per user whose list changed.
 *
 * Keeping only the top `recent.size` products by (latest view ts desc, product_id asc)
 * is exact: a product outside the list can only re-enter through a new view of it,
 * and then its new latest ts is that view's ts.
 *
 * A list is dropped once last_view_ts + ttl < W; a min-heap on that deadline (left
 * stale when a newer view arrives, checked when it comes up) keeps `advance` O(1)
 * when nothing is due. A list dropped with an unflushed change gets its row then, so
 * the last row per user is always the user's last list, whatever the epoch timing. */
#include "recent.h"

#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/timefmt.h"
#include "../state/blockpool.h"
#include "../state/dueheap.h"
#include "../state/winheap.h"

struct ritem {
    int64_t ts;
    uint32_t product; /* held */
};

struct ruser {
    uint32_t user;    /* held; 0 = free slot */
    uint8_t dirty;    /* changed since the last row */
    uint8_t queued;   /* has a heap entry */
    uint16_t n, cap;
    struct ritem *it; /* ts desc, product_id asc */
    uint32_t next_free;
};

struct recent {
    struct ss_op base;
    struct ss_intern *intern;
    int64_t size, ttl;
    struct ruser *u;
    size_t nu, cap_u;
    uint32_t free_u;
    size_t live;
    /* item lists by capacity: [0] holds lists of `size` items, [k] lists of 2^(k+1) */
    struct ss_blockpool lists[16];
    /* a user's slot + 1 is ss_intern_aux(user, SS_AUX_RECENT): found in the entry the
     * engine has just read to intern the id, with no index of its own to miss in */
    struct ss_dueheap due;  /* (it[0].ts + ttl when pushed, slot, user): dropped once at < W */
    uint32_t *dirty;        /* slots with a pending row (may repeat or be stale) */
    size_t ndirty, cap_dirty;
    struct ss_buf json;
};

static struct ss_blockpool *list_pool(struct recent *r, uint16_t cap) {
    return &r->lists[cap == r->size ? 0 : __builtin_ctz(cap) - 1];
}

static int recent_open(struct ss_op **out, const struct ss_op_env *env, struct ss_err *err) {
    *out = NULL;
    const struct ss_config *cfg = env->cfg;
    if (cfg->recent_size < 1 || cfg->recent_size > 65535)
        return ss_err_set(err, SS_EUSAGE, "recent.size must be between 1 and 65535 (got %lld)",
                          (long long)cfg->recent_size);
    if (cfg->recent_ttl_ms < 0)
        return ss_err_set(err, SS_EUSAGE, "recent.ttl must not be negative (got %lld ms)",
                          (long long)cfg->recent_ttl_ms);
    struct recent *r = ss_calloc(1, sizeof *r);
    r->base.type = &ss_op_recent;
    r->intern = env->intern;
    r->size = cfg->recent_size;
    r->ttl = cfg->recent_ttl_ms;
    *out = &r->base;
    return SS_OK;
}

/* true when (ts_a, a) comes before (ts_b, b): later first, then product_id ascending */
static bool before(const struct recent *r, int64_t ts_a, uint32_t a, int64_t ts_b, uint32_t b) {
    if (ts_a != ts_b) return ts_a > ts_b;
    return ss_str_cmp(ss_intern_str(r->intern, a), ss_intern_str(r->intern, b)) < 0;
}

static void emit(struct recent *r, const struct ruser *u, struct ss_out *out) {
    r->json.len = 0;
    ss_buf_addc(&r->json, '[');
    for (uint32_t i = 0; i < u->n; i++) {
        if (i) ss_buf_addc(&r->json, ',');
        struct ss_str p = ss_intern_str(r->intern, u->it[i].product);
        ss_buf_add_json_str(&r->json, p.p, p.len);
    }
    ss_buf_addc(&r->json, ']');
    struct ss_val *v = ss_out_row(out, SS_T_RECENTLY_VIEWED);
    ss_out_str(out, &v[SS_RV_USER_ID], ss_intern_str(r->intern, u->user));
    ss_out_str(out, &v[SS_RV_PRODUCTS], (struct ss_str){r->json.p, (uint32_t)r->json.len});
    v[SS_RV_LAST_VIEW_TS].i = u->n ? u->it[0].ts : 0;
}

static uint32_t user_slot(struct recent *r, uint32_t user) {
    uint32_t k = ss_intern_aux(r->intern, user, SS_AUX_RECENT);
    if (k) return k - 1;
    uint32_t idx;
    if (r->free_u) {
        idx = r->free_u - 1;
        r->free_u = r->u[idx].next_free;
    } else {
        ss_assert(r->nu < UINT32_MAX - 1);
        SS_GROW(r->u, r->cap_u, r->nu + 1);
        idx = (uint32_t)r->nu++;
    }
    memset(&r->u[idx], 0, sizeof r->u[idx]);
    r->u[idx].user = user;
    ss_intern_hold(r->intern, user);
    ss_intern_set_aux(r->intern, user, SS_AUX_RECENT, idx + 1);
    r->live++;
    return idx;
}

static void user_drop(struct recent *r, uint32_t idx) {
    struct ruser *u = &r->u[idx];
    for (uint32_t i = 0; i < u->n; i++) ss_intern_drop(r->intern, u->it[i].product);
    ss_intern_set_aux(r->intern, u->user, SS_AUX_RECENT, 0);
    ss_intern_drop(r->intern, u->user);
    if (u->it) ss_blockpool_put(list_pool(r, u->cap), u->it);
    memset(u, 0, sizeof *u);
    u->next_free = r->free_u;
    r->free_u = idx + 1;
    r->live--;
}

static void recent_process(struct ss_op *op, const struct ss_event *ev, const struct ss_clock *clk,
                           struct ss_out *out) {
    (void)clk;
    (void)out;
    struct recent *r = (struct recent *)op;
    if (ev->stream != SS_STREAM_CLICKS || ev->type != SS_EV_VIEW || !ev->user || !ev->product) return;
    uint32_t idx = user_slot(r, ev->user);
    struct ruser *u = &r->u[idx];
    uint32_t at = u->n; /* where the product is now, u->n when absent */
    for (uint32_t i = 0; i < u->n; i++)
        if (u->it[i].product == ev->product) {
            at = i;
            break;
        }
    if (at < u->n) {
        if (u->it[at].ts >= ev->ts) return; /* an older view of a listed product changes nothing */
        memmove(&u->it[at], &u->it[at + 1], (u->n - at - 1) * sizeof *u->it); /* re-placed below */
        u->n--;
    } else {
        if (u->n == r->size && !before(r, ev->ts, ev->product, u->it[u->n - 1].ts, u->it[u->n - 1].product))
            return; /* would fall off the end at once */
        ss_intern_hold(r->intern, ev->product);
        if (u->n == r->size) { /* the last one falls off */
            ss_intern_drop(r->intern, u->it[u->n - 1].product);
            u->n--;
        }
    }
    if (u->n == u->cap) {
        int64_t want = u->cap ? 2 * (int64_t)u->cap : 4; /* most users view a few products */
        uint16_t cap = (uint16_t)(want < r->size ? want : r->size);
        struct ritem *it = ss_blockpool_get(list_pool(r, cap), cap * sizeof *it);
        if (u->it) {
            memcpy(it, u->it, u->n * sizeof *it);
            ss_blockpool_put(list_pool(r, u->cap), u->it);
        }
        u->it = it;
        u->cap = cap;
    }
    uint32_t pos = 0;
    while (pos < u->n && before(r, u->it[pos].ts, u->it[pos].product, ev->ts, ev->product)) pos++;
    memmove(&u->it[pos + 1], &u->it[pos], (u->n - pos) * sizeof *u->it);
    u->it[pos] = (struct ritem){ev->ts, ev->product};
    u->n++;
    if (!u->dirty) {
        u->dirty = 1;
        SS_GROW(r->dirty, r->cap_dirty, r->ndirty + 1);
        r->dirty[r->ndirty++] = idx;
    }
    if (!u->queued) {
        ss_dueheap_push(&r->due, ss_sat_add(u->it[0].ts, r->ttl), idx, u->user);
        ss_op_wake_by(&r->base, ss_dueheap_wake(&r->due));
        u->queued = 1;
    }
}

/* Stage 0 brings the user's record in (its slot is in the user's interned entry, read
 * when the id was interned, just before), stage 1 the user's list. */
static void recent_prefetch(struct ss_op *op, const struct ss_event *ev, int stage) {
    const struct recent *r = (const struct recent *)op;
    if (ev->stream != SS_STREAM_CLICKS || ev->type != SS_EV_VIEW || !ev->user) return;
    uint32_t k = ss_intern_aux(r->intern, ev->user, SS_AUX_RECENT); /* the entry is in cache */
    if (!k) return;
    if (stage == 0) { /* a record may straddle two lines */
        __builtin_prefetch(&r->u[k - 1]);
        __builtin_prefetch((const char *)&r->u[k - 1] + sizeof r->u[0] - 1);
        return;
    }
    const struct ritem *it = r->u[k - 1].it;
    if (it) {
        __builtin_prefetch(it);
        __builtin_prefetch((const char *)it + 64); /* a list of 20 spans 5 lines */
    }
}

/* Prefetch distances in the dirty list: the user record, then what it points to. */
#define FLUSH_AHEAD1 16
#define FLUSH_AHEAD2 8

static void recent_flush(struct ss_op *op, struct ss_out *out) {
    struct recent *r = (struct recent *)op;
    for (size_t i = 0; i < r->ndirty; i++) {
        if (i + FLUSH_AHEAD1 < r->ndirty) __builtin_prefetch(&r->u[r->dirty[i + FLUSH_AHEAD1]]);
        if (i + FLUSH_AHEAD2 < r->ndirty) {
            const struct ruser *a = &r->u[r->dirty[i + FLUSH_AHEAD2]];
            if (a->it) {
                __builtin_prefetch(a->it);
                __builtin_prefetch((const char *)a->it + 64);
            }
            if (a->user) ss_intern_prefetch_id(r->intern, a->user);
        }
        struct ruser *u = &r->u[r->dirty[i]];
        if (!u->user || !u->dirty) continue; /* dropped (its row went out then) or listed twice */
        emit(r, u, out);
        u->dirty = 0;
    }
    r->ndirty = 0;
}

/* Drops the list in slot idx (its ttl has passed), with its row if it changed. */
static void expire(struct recent *r, uint32_t idx, struct ss_out *out) {
    struct ruser *u = &r->u[idx];
    u->queued = 0;
    if (u->dirty) emit(r, u, out);
    user_drop(r, idx);
}

#define DRAIN_AHEAD 8

static void recent_advance(struct ss_op *op, const struct ss_clock *clk, struct ss_out *out) {
    struct recent *r = (struct recent *)op;
    int64_t w = clk->watermark;
    if (w == SS_TS_MAX) { /* the end: every list is due, in any order */
        size_t n;
        struct ss_due *all = ss_dueheap_take_all(&r->due, &n);
        for (size_t i = 0; i < n; i++) {
            if (i + DRAIN_AHEAD < n) {
                const struct ruser *a = &r->u[all[i + DRAIN_AHEAD].slot];
                __builtin_prefetch(a);
                ss_intern_prefetch_id(r->intern, all[i + DRAIN_AHEAD].hint);
            }
            if (i + DRAIN_AHEAD / 2 < n && r->u[all[i + DRAIN_AHEAD / 2].slot].it)
                __builtin_prefetch(r->u[all[i + DRAIN_AHEAD / 2].slot].it);
            expire(r, all[i].slot, out);
        }
        return;
    }
    while (ss_dueheap_due_before(&r->due, w)) {
        uint32_t idx = ss_dueheap_pop(&r->due).slot;
        struct ruser *u = &r->u[idx];
        int64_t at = ss_sat_add(u->it[0].ts, r->ttl);
        if (at >= w) { /* viewed again since */
            ss_dueheap_push(&r->due, at, idx, u->user);
            continue;
        }
        expire(r, idx, out);
    }
    r->base.wake = ss_dueheap_wake(&r->due);
    /* the next advance comes events later: bring the next due slots in (see
     * sessions_advance) */
    struct ss_due next[3];
    for (size_t i = 0, n = ss_dueheap_next(&r->due, next, 3); i < n; i++) {
        __builtin_prefetch(&r->u[next[i].slot]);
        ss_intern_prefetch_id(r->intern, next[i].hint);
    }
}

int ss_recent_get(const struct ss_op *op, struct ss_str user_id, struct ss_str *products, int max,
                  int64_t *last_view_ts) {
    const struct recent *r = (const struct recent *)op;
    ss_assert(op->type == &ss_op_recent);
    uint32_t id = ss_intern_find(r->intern, user_id);
    uint32_t k = id ? ss_intern_aux(r->intern, id, SS_AUX_RECENT) : 0;
    if (!k) return 0;
    const struct ruser *u = &r->u[k - 1];
    int n = 0;
    for (; n < max && n < (int)u->n; n++) products[n] = ss_intern_str(r->intern, u->it[n].product);
    if (last_view_ts) *last_view_ts = u->n ? u->it[0].ts : 0;
    return n;
}

static size_t recent_state_bytes(const struct ss_op *op) {
    const struct recent *r = (const struct recent *)op;
    size_t lists = 0;
    for (size_t k = 0; k < sizeof r->lists / sizeof r->lists[0]; k++) lists += r->lists[k].bytes;
    return sizeof *r + r->cap_u * sizeof *r->u + ss_dueheap_bytes(&r->due) +
           r->cap_dirty * sizeof *r->dirty + lists + r->json.cap;
}

static size_t recent_state_keys(const struct ss_op *op) { return ((const struct recent *)op)->live; }

static void recent_close(struct ss_op *op) {
    struct recent *r = (struct recent *)op;
    if (!r) return;
    for (size_t i = 0; i < r->nu; i++)
        if (r->u[i].user) user_drop(r, (uint32_t)i);
    for (size_t k = 0; k < sizeof r->lists / sizeof r->lists[0]; k++) ss_blockpool_free(&r->lists[k]);
    ss_free(r->u);
    ss_dueheap_free(&r->due);
    ss_free(r->dirty);
    ss_buf_free(&r->json);
    ss_free(r);
}

/* ---- savepoint ---------------------------------------------------------------------- */

/* Layout (version 1): per live user, its id, whether its list changed since its last
 * row (so that a change made before the save and not yet flushed still gets its row
 * after the load), and the list in order (product id, latest view ts). The heap is
 * rebuilt from it[0].ts + ttl: an entry is never later than that (it[0].ts only grows
 * and a stale entry is re-pushed when it comes up), so each list is dropped at the
 * same watermark. */
#define SNAP_VERSION 1
#define SNAP_ITEM_BYTES (4 + 8)

static void recent_save(const struct ss_op *op, struct ss_buf *b) {
    const struct recent *r = (const struct recent *)op;
    ss_snap_tag(b, "recently_viewed");
    ss_snap_u32(b, SNAP_VERSION);
    ss_snap_i64(b, (int64_t)r->live);
    for (size_t i = 0; i < r->nu; i++) {
        const struct ruser *u = &r->u[i];
        if (!u->user) continue;
        ss_snap_str(b, ss_intern_str(r->intern, u->user));
        ss_snap_u8(b, u->dirty);
        ss_snap_i64(b, u->n);
        for (uint32_t k = 0; k < u->n; k++) {
            ss_snap_str(b, ss_intern_str(r->intern, u->it[k].product));
            ss_snap_i64(b, u->it[k].ts);
        }
    }
}

struct snap_item {
    struct ss_str product;
    int64_t ts;
};

static int by_product(const void *a, const void *b) {
    return ss_str_cmp(*(const struct ss_str *)a, *(const struct ss_str *)b);
}

/* Why a list of n items as read cannot be loaded, or NULL; sorted is scratch for n. */
static const char *list_wrong(const struct snap_item *it, size_t n, struct ss_str *sorted) {
    for (size_t k = 0; k < n; k++) {
        if (it[k].ts < SS_TS_EVENT_MIN || it[k].ts > SS_TS_EVENT_MAX) return "a view time outside the event range";
        if (k && (it[k].ts > it[k - 1].ts ||
                  (it[k].ts == it[k - 1].ts && ss_str_cmp(it[k - 1].product, it[k].product) >= 0)))
            return "products not in order (latest view first, then product id)";
        sorted[k] = it[k].product;
    }
    if (n > 1) qsort(sorted, n, sizeof *sorted, by_product); /* sorted may be NULL for none */
    for (size_t k = 1; k < n; k++)
        if (ss_str_eq(sorted[k - 1], sorted[k])) return "a product listed twice";
    return NULL;
}

static int snap_cut(struct ss_err *err) {
    return ss_err_set(err, SS_ERROR,
                      "recently_viewed savepoint: cut short or damaged (a length or count runs past its end)");
}

/* Each list is checked whole before it is kept: a failure leaves the lists loaded so
 * far, held and indexed as process would have left them, for close to release. */
static int recent_load(struct ss_op *op, struct ss_snap_r *r, struct ss_err *err) {
    struct recent *rv = (struct recent *)op;
    struct ss_snap_r peek = *r;
    ss_snap_get_str(&peek);
    if (!ss_snap_expect(r, "recently_viewed")) {
        if (peek.bad) return snap_cut(err);
        return ss_err_set(err, SS_ERROR,
                          "recently_viewed savepoint: the section does not start with its name 'recently_viewed'");
    }
    uint32_t version = ss_snap_get_u32(r);
    if (!r->bad && version != SNAP_VERSION)
        return ss_err_set(err, SS_ERROR,
                          "recently_viewed savepoint: format version %u, this build reads version %d only", version,
                          SNAP_VERSION);
    struct snap_item *it = NULL;
    struct ss_str *sorted = NULL;
    size_t cap_it = 0, cap_sorted = 0;
    int rc = SS_OK;
    size_t nusers = ss_snap_get_count(r, 4 + 1 + 8 + SNAP_ITEM_BYTES);
    for (size_t i = 0; i < nusers && !r->bad; i++) {
        struct ss_str id = ss_snap_get_str(r);
        uint8_t dirty = ss_snap_get_u8(r);
        size_t n = ss_snap_get_count(r, SNAP_ITEM_BYTES);
        if (r->bad) break;
        if (n < 1 || n > (size_t)rv->size || dirty > 1) {
            rc = ss_err_set(err, SS_ERROR,
                            "recently_viewed savepoint: user '%.*s' has a list of %zu products (flag %u), not 1 to "
                            "recent.size = %lld (a savepoint of another recent.size?)",
                            (int)id.len, id.p, n, dirty, (long long)rv->size);
            goto out;
        }
        SS_GROW(it, cap_it, n);
        SS_GROW(sorted, cap_sorted, n);
        for (size_t k = 0; k < n; k++) {
            it[k].product = ss_snap_get_str(r);
            it[k].ts = ss_snap_get_i64(r);
        }
        if (r->bad) break;
        const char *wrong = list_wrong(it, n, sorted);
        uint32_t user = ss_intern_get(rv->intern, id);
        if (!wrong && ss_intern_aux(rv->intern, user, SS_AUX_RECENT)) wrong = "the user listed twice";
        if (wrong) {
            rc = ss_err_set(err, SS_ERROR, "recently_viewed savepoint: user '%.*s': %s", (int)id.len, id.p, wrong);
            goto out;
        }
        uint32_t idx = user_slot(rv, user);
        struct ruser *u = &rv->u[idx];
        int64_t want = 4; /* the capacities process grows through: 4, 8, 16, ... up to size */
        while (want < (int64_t)n) want *= 2;
        uint16_t cap = (uint16_t)(want < rv->size ? want : rv->size);
        u->it = ss_blockpool_get(list_pool(rv, cap), cap * sizeof *u->it);
        u->cap = cap;
        for (size_t k = 0; k < n; k++) {
            uint32_t p = ss_intern_get(rv->intern, it[k].product);
            ss_intern_hold(rv->intern, p);
            u->it[k] = (struct ritem){it[k].ts, p};
        }
        u->n = (uint16_t)n;
        if (dirty) {
            u->dirty = 1;
            SS_GROW(rv->dirty, rv->cap_dirty, rv->ndirty + 1);
            rv->dirty[rv->ndirty++] = idx;
        }
        ss_dueheap_push(&rv->due, ss_sat_add(u->it[0].ts, rv->ttl), idx, user);
        u->queued = 1;
    }
    if (r->bad) rc = snap_cut(err);
    else rv->base.wake = ss_dueheap_wake(&rv->due);
out:
    ss_free(it);
    ss_free(sorted);
    return rc;
}

const struct ss_op_type ss_op_recent = {
    .name = "recently_viewed",
    .open = recent_open,
    .process = recent_process,
    .advance = recent_advance,
    .provisional = NULL,
    .flush = recent_flush,
    .state_bytes = recent_state_bytes,
    .state_keys = recent_state_keys,
    .close = recent_close,
    .prefetch = recent_prefetch,
    .prefetch_stages = 1u << 0 | 1u << 1,
    .save = recent_save,
    .load = recent_load,
};
