/* alert.c — per-event alerts (SEMANTICS §8), the `alerts` table: high_value_order and
 * velocity. Sits after dedup: sees every purchase (clicks or orders) once. The
 * `quality` alert is raised by quality.c, which sees rejected records too.
 *
 * Velocity state per user: the armed flag and the user's purchases (ts, amount)
 * sorted by ts. A purchase with ts <= W - range can never fall in the range
 * (t - range, t] of a future purchase (t >= W), so it is dropped; a min-heap keyed on
 * each user's oldest ts + range finds the users with something to drop in O(1) when
 * nothing is due. A user whose history is empty is forgotten entirely: the next purchase
 * finds before = 0 < N (N >= 1) and re-arms, as a new user starts armed. */
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/money.h"
#include "../core/timefmt.h"
#include "../state/keymap.h"
#include "../state/winheap.h"
#include "op.h"

struct buy {
    int64_t ts, amount;
};

struct vuser {
    uint32_t user;    /* held; 0 = free slot */
    uint8_t armed;
    uint8_t queued;   /* has an entry in the heap */
    uint32_t n, cap;
    struct buy *b;    /* sorted by ts */
    uint32_t next_free;
};

struct vdue {
    int64_t at;       /* oldest ts + range when pushed: something may go once at <= W */
    uint32_t idx;
};

struct alerts {
    struct ss_op base;
    struct ss_intern *intern;
    int64_t threshold, count, range;
    char threshold_detail[64];
    struct vuser *u;
    size_t nu, cap_u;
    uint32_t free_u;
    size_t live;
    size_t hist_bytes;      /* purchase histories */
    struct ss_keymap users; /* user id -> slot + 1 */
    struct vdue *heap;
    size_t nheap, cap_heap;
};

static void heap_push(struct alerts *a, int64_t at, uint32_t idx) {
    SS_GROW(a->heap, a->cap_heap, a->nheap + 1);
    size_t i = a->nheap++;
    while (i > 0 && a->heap[(i - 1) / 2].at > at) {
        a->heap[i] = a->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    a->heap[i] = (struct vdue){at, idx};
}

static struct vdue heap_pop(struct alerts *a) {
    struct vdue top = a->heap[0], last = a->heap[--a->nheap];
    size_t n = a->nheap, i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && a->heap[c + 1].at < a->heap[c].at) c++;
        if (a->heap[c].at >= last.at) break;
        a->heap[i] = a->heap[c];
        i = c;
    }
    if (n) a->heap[i] = last;
    return top;
}

static int alerts_open(struct ss_op **out, const struct ss_op_env *env, struct ss_err *err) {
    *out = NULL;
    const struct ss_config *cfg = env->cfg;
    if (cfg->velocity_range_ms <= 0)
        return ss_err_set(err, SS_EUSAGE, "alerts.velocity.range must be a positive duration (got %lld ms)",
                          (long long)cfg->velocity_range_ms);
    if (cfg->velocity_count < 1) /* forgetting a user with no history relies on it */
        return ss_err_set(err, SS_EUSAGE, "alerts.velocity.count must be at least 1 (got %lld)",
                          (long long)cfg->velocity_count);
    struct alerts *a = ss_calloc(1, sizeof *a);
    a->base.type = &ss_op_alerts;
    a->intern = env->intern;
    a->threshold = cfg->high_value_threshold;
    a->count = cfg->velocity_count;
    a->range = cfg->velocity_range_ms;
    char num[32];
    ss_money_format(a->threshold, 2, num);
    snprintf(a->threshold_detail, sizeof a->threshold_detail, "{\"threshold\":\"%s\"}", num);
    *out = &a->base;
    return SS_OK;
}

/* alert_id is the concatenation of parts, assembled in the output arena */
static void alert_row(struct ss_out *out, const struct ss_str *parts, int nparts, const char *kind,
                      const struct ss_event *ev, int64_t amount, struct ss_str detail) {
    struct ss_val *v = ss_out_row(out, SS_T_ALERTS);
    size_t len = 0;
    for (int i = 0; i < nparts; i++) len += parts[i].len;
    char *id = ss_arena_alloc(&out->arena, len + 1);
    len = 0;
    for (int i = 0; i < nparts; i++) {
        if (parts[i].len) memcpy(id + len, parts[i].p, parts[i].len);
        len += parts[i].len;
    }
    id[len] = '\0';
    v[SS_AL_ALERT_ID].s = id;
    v[SS_AL_ALERT_ID].len = (uint32_t)len;
    ss_out_str(out, &v[SS_AL_KIND], ss_str_c(kind));
    ss_out_str(out, &v[SS_AL_USER_ID], ev->user_id);
    ss_out_str(out, &v[SS_AL_ORDER_ID], ev->order_id.p ? ev->order_id : SS_STR_NULL);
    v[SS_AL_AMOUNT].i = amount;
    v[SS_AL_TS].i = ev->ts;
    ss_out_str(out, &v[SS_AL_DETAIL], detail);
}

static uint32_t user_slot(struct alerts *a, uint32_t user) {
    uint32_t k = ss_keymap_get(&a->users, user);
    if (k) return k - 1;
    uint32_t idx;
    if (a->free_u) {
        idx = a->free_u - 1;
        a->free_u = a->u[idx].next_free;
    } else {
        ss_assert(a->nu < UINT32_MAX - 1);
        SS_GROW(a->u, a->cap_u, a->nu + 1);
        idx = (uint32_t)a->nu++;
    }
    memset(&a->u[idx], 0, sizeof a->u[idx]);
    a->u[idx].user = user;
    a->u[idx].armed = 1;
    ss_intern_hold(a->intern, user);
    ss_keymap_set(&a->users, user, idx + 1);
    a->live++;
    return idx;
}

static void user_forget(struct alerts *a, uint32_t idx) {
    struct vuser *u = &a->u[idx];
    ss_keymap_set(&a->users, u->user, 0);
    ss_intern_drop(a->intern, u->user);
    a->hist_bytes -= u->cap * sizeof *u->b;
    ss_free(u->b);
    memset(u, 0, sizeof *u);
    u->next_free = a->free_u;
    a->free_u = idx + 1;
    a->live--;
}

static void velocity(struct alerts *a, const struct ss_event *ev, int64_t amount, struct ss_out *out) {
    uint32_t idx = user_slot(a, ev->user);
    struct vuser *u = &a->u[idx];
    /* insert after every purchase with ts <= t, keeping the history sorted */
    uint32_t lo = 0, hi = u->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (u->b[mid].ts <= ev->ts) lo = mid + 1;
        else hi = mid;
    }
    if (u->n == u->cap) {
        a->hist_bytes -= u->cap * sizeof *u->b;
        u->cap = u->cap ? u->cap * 2 : 4;
        a->hist_bytes += u->cap * sizeof *u->b;
        u->b = ss_realloc(u->b, u->cap * sizeof *u->b);
    }
    memmove(&u->b[lo + 1], &u->b[lo], (u->n - lo) * sizeof *u->b);
    u->b[lo] = (struct buy){ev->ts, amount};
    u->n++;
    /* purchases in (t - range, t]: the ones before position lo + 1 with ts > t - range */
    int64_t from = ss_sat_add(ev->ts, -a->range);
    uint32_t end = lo + 1, first = 0, top = end;
    while (first < top) {
        uint32_t mid = first + (top - first) / 2;
        if (u->b[mid].ts > from) top = mid;
        else first = mid + 1;
    }
    int64_t count = end - first;
    /* before = count - 1 purchases accepted earlier in (t - range, t]. DESIGN §4 re-arms
     * when the sliding count drops below N: between arrivals it can only drop, so its low
     * point is at t, just before this purchase counts (SEMANTICS §8) */
    if (count - 1 < a->count) u->armed = 1;
    if (count >= a->count && u->armed) {
        int64_t sum = 0;
        for (uint32_t i = first; i < end; i++) sum = ss_sat_add(sum, u->b[i].amount);
        char detail[96];
        snprintf(detail, sizeof detail, "{\"count\":%lld,\"range_ms\":%lld}", (long long)count, (long long)a->range);
        struct ss_str id[4] = {SS_STR_LIT("velocity:"), ev->user_id, SS_STR_LIT(":"), ev->event_id};
        alert_row(out, id, 4, "velocity", ev, sum, ss_str_c(detail));
        u->armed = 0;
    }
    if (!u->queued) {
        heap_push(a, ss_sat_add(u->b[0].ts, a->range), idx);
        ss_op_wake_by(&a->base, a->heap[0].at);
        u->queued = 1;
    }
}

static void alerts_process(struct ss_op *op, const struct ss_event *ev, const struct ss_clock *clk,
                           struct ss_out *out) {
    (void)clk;
    struct alerts *a = (struct alerts *)op;
    if (ev->stream == SS_STREAM_PROMOTIONS || ev->type != SS_EV_PURCHASE) return;
    int64_t amount;
    if (ss_money_mul(ev->price, ev->quantity, &amount) != 0)
        amount = (ev->price < 0) != (ev->quantity < 0) ? INT64_MIN : INT64_MAX;
    if (amount >= a->threshold) {
        struct ss_str id[2] = {SS_STR_LIT("high_value_order:"), ev->event_id};
        alert_row(out, id, 2, "high_value_order", ev, amount, ss_str_c(a->threshold_detail));
    }
    if (ev->user) velocity(a, ev, amount, out);
}

static void alerts_advance(struct ss_op *op, const struct ss_clock *clk, struct ss_out *out) {
    (void)out;
    struct alerts *a = (struct alerts *)op;
    int64_t w = clk->watermark;
    bool all = w == SS_TS_MAX;
    while (a->nheap && (all || a->heap[0].at <= w)) {
        uint32_t idx = heap_pop(a).idx;
        struct vuser *u = &a->u[idx];
        u->queued = 0;
        uint32_t drop = 0;
        while (drop < u->n && (all || ss_sat_add(u->b[drop].ts, a->range) <= w)) drop++;
        memmove(u->b, u->b + drop, (u->n - drop) * sizeof *u->b);
        u->n -= drop;
        if (u->n) {
            heap_push(a, ss_sat_add(u->b[0].ts, a->range), idx);
            u->queued = 1;
        } else {
            user_forget(a, idx);
        }
    }
    a->base.wake = a->nheap ? a->heap[0].at : SS_TS_MAX;
}

static size_t alerts_state_bytes(const struct ss_op *op) {
    const struct alerts *a = (const struct alerts *)op;
    return sizeof *a + a->cap_u * sizeof *a->u + a->cap_heap * sizeof *a->heap + ss_keymap_bytes(&a->users) +
           a->hist_bytes;
}

static size_t alerts_state_keys(const struct ss_op *op) { return ((const struct alerts *)op)->live; }

static void alerts_close(struct ss_op *op) {
    struct alerts *a = (struct alerts *)op;
    if (!a) return;
    for (size_t i = 0; i < a->nu; i++)
        if (a->u[i].user) {
            ss_intern_drop(a->intern, a->u[i].user);
            ss_free(a->u[i].b);
        }
    ss_free(a->u);
    ss_free(a->heap);
    ss_keymap_free(&a->users);
    ss_free(a);
}

/* ---- savepoint ---------------------------------------------------------------------- */

/* Layout (version 1): per live user, its id, armed, and its purchase history (ts,
 * amount) sorted by ts. The heap is rebuilt from each user's oldest ts + range. The
 * saved operator's entry may be later than that (pushed before an out-of-order
 * purchase older than the user's then oldest), but that only delays dropping
 * purchases no future purchase can count (ts <= W - range); the rows are the same,
 * and so is when the user is forgotten: at the first advance with W >= its newest
 * ts + range, since every entry is at or before that. */
#define SNAP_VERSION 1
#define SNAP_BUY_BYTES 16

static void alerts_save(const struct ss_op *op, struct ss_buf *b) {
    const struct alerts *a = (const struct alerts *)op;
    ss_snap_tag(b, "alerts");
    ss_snap_u32(b, SNAP_VERSION);
    ss_snap_i64(b, (int64_t)a->live);
    for (size_t i = 0; i < a->nu; i++) {
        const struct vuser *u = &a->u[i];
        if (!u->user) continue;
        ss_snap_str(b, ss_intern_str(a->intern, u->user));
        ss_snap_u8(b, u->armed);
        ss_snap_i64(b, u->n);
        for (uint32_t k = 0; k < u->n; k++) {
            ss_snap_i64(b, u->b[k].ts);
            ss_snap_i64(b, u->b[k].amount);
        }
    }
}

static int snap_cut(struct ss_err *err) {
    return ss_err_set(err, SS_ERROR, "alerts savepoint: cut short or damaged (a length or count runs past its end)");
}

/* Each user is checked whole before it is kept: a failure leaves the users loaded so
 * far, held and indexed as process would have left them, for close to release. */
static int alerts_load(struct ss_op *op, struct ss_snap_r *r, struct ss_err *err) {
    struct alerts *a = (struct alerts *)op;
    struct ss_snap_r peek = *r;
    ss_snap_get_str(&peek);
    if (!ss_snap_expect(r, "alerts")) {
        if (peek.bad) return snap_cut(err);
        return ss_err_set(err, SS_ERROR, "alerts savepoint: the section does not start with its name 'alerts'");
    }
    uint32_t version = ss_snap_get_u32(r);
    if (!r->bad && version != SNAP_VERSION)
        return ss_err_set(err, SS_ERROR, "alerts savepoint: format version %u, this build reads version %d only",
                          version, SNAP_VERSION);
    struct buy *tmp = NULL;
    uint32_t cap_tmp = 0;
    int rc = SS_OK;
    size_t nusers = ss_snap_get_count(r, 4 + 1 + 8 + SNAP_BUY_BYTES);
    for (size_t i = 0; i < nusers && !r->bad; i++) {
        struct ss_str id = ss_snap_get_str(r);
        uint8_t armed = ss_snap_get_u8(r);
        size_t n = ss_snap_get_count(r, SNAP_BUY_BYTES);
        if (r->bad) break;
        if (n < 1 || n > UINT32_MAX / 2 || armed > 1) {
            rc = ss_err_set(err, SS_ERROR,
                            "alerts savepoint: user '%.*s' has %zu purchases (at least 1 expected) and armed flag %u "
                            "(0 or 1 expected)",
                            (int)id.len, id.p, n, armed);
            goto out;
        }
        uint32_t cap = 4; /* the capacities velocity grows through */
        while (cap < n) cap *= 2;
        if (!tmp || cap > cap_tmp) {
            tmp = ss_realloc(tmp, cap * sizeof *tmp);
            cap_tmp = cap;
        }
        for (size_t k = 0; k < n; k++) {
            tmp[k].ts = ss_snap_get_i64(r);
            tmp[k].amount = ss_snap_get_i64(r);
        }
        if (r->bad) break;
        const char *wrong = NULL;
        for (size_t k = 0; k < n && !wrong; k++)
            if (tmp[k].ts < SS_TS_EVENT_MIN || tmp[k].ts > SS_TS_EVENT_MAX)
                wrong = "a purchase time outside the event range";
            else if (k && tmp[k].ts < tmp[k - 1].ts)
                wrong = "purchases not sorted by time";
        uint32_t user = ss_intern_get(a->intern, id);
        if (!wrong && ss_keymap_get(&a->users, user)) wrong = "the user listed twice";
        if (wrong) {
            rc = ss_err_set(err, SS_ERROR, "alerts savepoint: user '%.*s': %s", (int)id.len, id.p, wrong);
            goto out;
        }
        uint32_t idx = user_slot(a, user);
        struct vuser *u = &a->u[idx];
        u->armed = armed;
        u->b = ss_malloc(cap * sizeof *u->b);
        memcpy(u->b, tmp, n * sizeof *u->b);
        u->n = (uint32_t)n;
        u->cap = cap;
        a->hist_bytes += cap * sizeof *u->b;
        heap_push(a, ss_sat_add(tmp[0].ts, a->range), idx);
        u->queued = 1;
    }
    if (r->bad) rc = snap_cut(err);
    else a->base.wake = a->nheap ? a->heap[0].at : SS_TS_MAX;
out:
    ss_free(tmp);
    return rc;
}

const struct ss_op_type ss_op_alerts = {
    .name = "alerts",
    .open = alerts_open,
    .process = alerts_process,
    .advance = alerts_advance,
    .provisional = NULL,
    .flush = NULL,
    .state_bytes = alerts_state_bytes,
    .state_keys = alerts_state_keys,
    .close = alerts_close,
    .save = alerts_save,
    .load = alerts_load,
};
