/* session.c — per-user event-time gap sessions (SEMANTICS §6), the `sessions` table.
 * Sits after dedup: sees every valid, on-time click and order event, emits a session
 * when the watermark passes session_end + gap.
 *
 * State. Sessions live in one slab of 48-byte records; a user's open sessions form a
 * short chain from the word the interning table keeps with each id (ss_intern_aux).
 * Almost every user has exactly one open session, so the chain is one record; several
 * appear only when out-of-order events open a session before an earlier one closed.
 *
 * Why the interning table's word: the engine has just read the user's entry there to
 * intern the id, so finding the chain costs no cache miss, where an index of the
 * operator's own cost one per event that its prefetch could not hide (a hash map of
 * the users with an open session, 16-32 bytes per user, took ~4 % of the whole run's
 * time in the load of its slot). Nor a keymap (state/keymap.h, an array over every
 * interned id): its size follows every id any operator holds, and recently viewed
 * keeps users for 24 h, so over a 5M-event run it grew from 4 to 56 bytes per live
 * session.
 *
 * An event that falls within gap of two sessions joins them: the later one is folded
 * into the earlier and marked dead.
 *
 * Deadlines. A min-heap of (end + gap, session) decides what is due, so `advance`
 * is O(1) when nothing is. Extending a session does not touch the heap: its entry is
 * left stale (too early), and when it comes up the session is either emitted or
 * pushed again with its real deadline. A session is pushed once per gap of activity
 * at most, and pushes of fresh deadlines land near the bottom of the heap, so the
 * heap costs O(1) amortised per event instead of a sift per event. A dead (folded)
 * session keeps its slot until its heap entry comes up, so heap entries never point
 * at a reused slot. */
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/money.h"
#include "../core/timefmt.h"
#include "../state/dueheap.h"
#include "../state/winheap.h"
#include "op.h"

struct sess {
    int64_t start, end;
    int64_t revenue;
    uint32_t events, views, cart_adds, purchases;
    uint32_t user; /* held; 0 = dead (folded into another session) or free */
    uint32_t next; /* next session of the user, or next free slot; index + 1, 0 = none */
};

struct sessions {
    struct ss_op base;
    struct ss_intern *intern;
    int64_t gap;
    struct sess *s;
    size_t ns, cap_s;
    uint32_t free_head; /* index + 1 */
    struct ss_dueheap due;   /* (end + gap when pushed, session, user) */
    size_t live;
};

/* ---- slab ------------------------------------------------------------------------- */



static uint32_t sess_alloc(struct sessions *o) {
    uint32_t idx;
    if (o->free_head) {
        idx = o->free_head - 1;
        o->free_head = o->s[idx].next;
    } else {
        ss_assert(o->ns < UINT32_MAX - 1);
        SS_GROW(o->s, o->cap_s, o->ns + 1);
        idx = (uint32_t)o->ns++;
    }
    memset(&o->s[idx], 0, sizeof o->s[idx]);
    return idx;
}

static void sess_free(struct sessions *o, uint32_t idx) {
    o->s[idx].user = 0;
    o->s[idx].next = o->free_head;
    o->free_head = idx + 1;
}

/* Makes idx (its user set, held) the first of its user's chain. */
static void link_sess(struct sessions *o, uint32_t idx) {
    uint32_t user = o->s[idx].user;
    o->s[idx].next = ss_intern_aux(o->intern, user, SS_AUX_SESSIONS);
    ss_intern_set_aux(o->intern, user, SS_AUX_SESSIONS, idx + 1);
}

/* Removes idx from its user's chain. */
static void unlink_sess(struct sessions *o, uint32_t idx) {
    uint32_t user = o->s[idx].user;
    uint32_t head = ss_intern_aux(o->intern, user, SS_AUX_SESSIONS);
    if (head == idx + 1) {
        ss_intern_set_aux(o->intern, user, SS_AUX_SESSIONS, o->s[idx].next);
        return;
    }
    for (uint32_t k = head; k; k = o->s[k - 1].next) {
        if (o->s[k - 1].next == idx + 1) {
            o->s[k - 1].next = o->s[idx].next;
            return;
        }
    }
    ss_assert(!"session missing from its user's chain");
}

/* ---- operator ----------------------------------------------------------------------- */

static int sessions_open(struct ss_op **out, const struct ss_op_env *env, struct ss_err *err) {
    *out = NULL;
    if (env->cfg->session_gap_ms <= 0)
        return ss_err_set(err, SS_EUSAGE, "sessions.gap must be a positive duration (got %lld ms)",
                          (long long)env->cfg->session_gap_ms);
    struct sessions *o = ss_calloc(1, sizeof *o);
    o->base.type = &ss_op_sessions;
    o->intern = env->intern;
    o->gap = env->cfg->session_gap_ms;
    *out = &o->base;
    return SS_OK;
}

static int64_t amount_of(const struct ss_event *ev) {
    int64_t a;
    if (ss_money_mul(ev->price, ev->quantity, &a) != 0)
        a = (ev->price < 0) != (ev->quantity < 0) ? INT64_MIN : INT64_MAX;
    return a;
}

static void add_event(struct sess *s, const struct ss_event *ev) {
    if (ev->ts < s->start) s->start = ev->ts;
    if (ev->ts > s->end) s->end = ev->ts;
    s->events++;
    switch (ev->type) {
    case SS_EV_VIEW: s->views++; break;
    case SS_EV_CART_ADD: s->cart_adds++; break;
    case SS_EV_PURCHASE:
        s->purchases++;
        s->revenue = ss_sat_add(s->revenue, amount_of(ev));
        break;
    default: break;
    }
}

static void sessions_process(struct ss_op *op, const struct ss_event *ev, const struct ss_clock *clk,
                             struct ss_out *out) {
    (void)clk;
    (void)out;
    struct sessions *o = (struct sessions *)op;
    if (ev->stream == SS_STREAM_PROMOTIONS || !ev->user) return;
    /* the sessions this event touches: at most two, since open sessions of a user are
     * more than gap apart and the event reaches gap either side */
    uint32_t hit[2] = {0, 0};
    int nhit = 0;
    for (uint32_t k = ss_intern_aux(o->intern, ev->user, SS_AUX_SESSIONS); k && nhit < 2; k = o->s[k - 1].next) {
        const struct sess *s = &o->s[k - 1];
        if (ev->ts >= ss_sat_add(s->start, -o->gap) && ev->ts <= ss_sat_add(s->end, o->gap)) hit[nhit++] = k;
    }
    if (nhit == 0) {
        uint32_t idx = sess_alloc(o);
        struct sess *s = &o->s[idx];
        s->start = s->end = ev->ts;
        s->user = ev->user;
        ss_intern_hold(o->intern, ev->user);
        link_sess(o, idx);
        add_event(s, ev);
        ss_dueheap_push(&o->due, ss_sat_add(s->end, o->gap), idx, ev->user);
        ss_op_wake_by(&o->base, ss_dueheap_wake(&o->due));
        o->live++;
        return;
    }
    struct sess *a = &o->s[hit[0] - 1];
    if (nhit == 2) {
        uint32_t bi = hit[1] - 1;
        struct sess *b = &o->s[bi];
        if (b->start < a->start) a->start = b->start;
        if (b->end > a->end) a->end = b->end;
        a->events += b->events;
        a->views += b->views;
        a->cart_adds += b->cart_adds;
        a->purchases += b->purchases;
        a->revenue = ss_sat_add(a->revenue, b->revenue);
        unlink_sess(o, bi);
        ss_intern_drop(o->intern, b->user);
        b->user = 0; /* dead: freed when its heap entry comes up */
        o->live--;
    }
    add_event(a, ev);
}

/* Brings the user's first session in (the user's interned entry, where the chain starts,
 * was read when the id was interned, just before stage 0). */
static void sessions_prefetch(struct ss_op *op, const struct ss_event *ev, int stage) {
    const struct sessions *o = (const struct sessions *)op;
    if (ev->stream == SS_STREAM_PROMOTIONS || !ev->user || stage > 0) return;
    uint32_t k = ss_intern_aux(o->intern, ev->user, SS_AUX_SESSIONS);
    if (k) { /* a 48-byte record may straddle two lines */
        __builtin_prefetch(&o->s[k - 1]);
        __builtin_prefetch((const char *)&o->s[k - 1] + sizeof o->s[0] - 1);
    }
}

static void emit(struct sessions *o, const struct sess *s, struct ss_out *out) {
    struct ss_val *v = ss_out_row(out, SS_T_SESSIONS);
    ss_out_str(out, &v[SS_SE_USER_ID], ss_intern_str(o->intern, s->user));
    v[SS_SE_SESSION_START].i = s->start;
    v[SS_SE_SESSION_END].i = s->end;
    v[SS_SE_DURATION_S].i = (s->end - s->start) / 1000;
    v[SS_SE_EVENTS].i = s->events;
    v[SS_SE_VIEWS].i = s->views;
    v[SS_SE_CART_ADDS].i = s->cart_adds;
    v[SS_SE_PURCHASES].i = s->purchases;
    v[SS_SE_REVENUE].i = s->revenue;
    v[SS_SE_CONVERTED].i = s->purchases > 0;
}

/* Emits and frees session slot i (its deadline has passed). */
static void expire(struct sessions *o, uint32_t i, struct ss_out *out) {
    struct sess *s = &o->s[i];
    if (s->user) {
        emit(o, s, out);
        unlink_sess(o, i);
        ss_intern_drop(o->intern, s->user);
        o->live--;
    } /* else dead: folded into another session, which is emitted on its own */
    sess_free(o, i);
}

#define DRAIN_AHEAD 8

static void sessions_advance(struct ss_op *op, const struct ss_clock *clk, struct ss_out *out) {
    struct sessions *o = (struct sessions *)op;
    int64_t w = clk->watermark;
    if (w == SS_TS_MAX) { /* the end: every session is due, in any order */
        size_t n;
        struct ss_due *all = ss_dueheap_take_all(&o->due, &n);
        for (size_t i = 0; i < n; i++) {
            if (i + DRAIN_AHEAD < n) {
                __builtin_prefetch(&o->s[all[i + DRAIN_AHEAD].slot]);
                ss_intern_prefetch_id(o->intern, all[i + DRAIN_AHEAD].hint);
            }
            expire(o, all[i].slot, out);
        }
        return;
    }
    while (ss_dueheap_due_before(&o->due, w)) {
        struct ss_due d = ss_dueheap_pop(&o->due);
        struct sess *s = &o->s[d.slot];
        int64_t at = ss_sat_add(s->end, o->gap);
        if (s->user && at >= w) {
            ss_dueheap_push(&o->due, at, d.slot, s->user); /* extended since it was pushed */
            continue;
        }
        expire(o, d.slot, out);
    }
    o->base.wake = ss_dueheap_wake(&o->due);
    /* the next advance comes events later (the engine calls it only once the next entry
     * is due): time enough to bring the sessions most likely due next, and their users'
     * ids, into cache */
    struct ss_due next[3];
    for (size_t i = 0, n = ss_dueheap_next(&o->due, next, 3); i < n; i++) {
        __builtin_prefetch(&o->s[next[i].slot]);
        ss_intern_prefetch_id(o->intern, next[i].hint);
    }
}

static size_t sessions_state_bytes(const struct ss_op *op) {
    const struct sessions *o = (const struct sessions *)op;
    return sizeof *o + o->cap_s * sizeof *o->s + ss_dueheap_bytes(&o->due);
}

static size_t sessions_state_keys(const struct ss_op *op) { return ((const struct sessions *)op)->live; }

static void sessions_close(struct ss_op *op) {
    struct sessions *o = (struct sessions *)op;
    if (!o) return;
    for (size_t i = 0; i < o->ns; i++)
        if (o->s[i].user) {
            ss_intern_set_aux(o->intern, o->s[i].user, SS_AUX_SESSIONS, 0);
            ss_intern_drop(o->intern, o->s[i].user);
        }
    ss_free(o->s);
    ss_dueheap_free(&o->due);
    ss_free(o);
}

/* ---- savepoint ---------------------------------------------------------------------- */

/* Layout (version 1): per user with an open session, its id and its sessions sorted by
 * start. Dead (folded) sessions and the heap are not saved: every heap entry is at or
 * before its session's end + gap (extensions leave it early), so a heap rebuilt from
 * end + gap expires each session at the same watermark. Grouping by user states the
 * invariant load checks: a user's open sessions are more than gap apart. */
#define SNAP_VERSION 1
#define SNAP_SESS_BYTES (3 * 8 + 4 * 4)

static int by_start(const void *a, const void *b) {
    const struct sess *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* Whether slot i is the first open session of its user: each user once, over the slab. */
static bool first_of_user(const struct sessions *o, size_t i) {
    return o->s[i].user && ss_intern_aux(o->intern, o->s[i].user, SS_AUX_SESSIONS) == i + 1;
}

static void sessions_save(const struct ss_op *op, struct ss_buf *b) {
    const struct sessions *o = (const struct sessions *)op;
    ss_snap_tag(b, "sessions");
    ss_snap_u32(b, SNAP_VERSION);
    size_t users = 0;
    for (size_t i = 0; i < o->ns; i++) users += first_of_user(o, i);
    ss_snap_i64(b, (int64_t)users);
    struct sess *tmp = NULL; /* one user's sessions, to sort: one buffer for the whole save */
    size_t cap = 0;
    for (size_t i = 0; i < o->ns; i++) {
        if (!first_of_user(o, i)) continue;
        uint32_t user = o->s[i].user;
        size_t k = 0;
        for (uint32_t j = (uint32_t)i + 1; j; j = o->s[j - 1].next) {
            SS_GROW(tmp, cap, k + 1);
            tmp[k++] = o->s[j - 1];
        }
        if (k > 1) qsort(tmp, k, sizeof *tmp, by_start);
        ss_snap_str(b, ss_intern_str(o->intern, user));
        ss_snap_i64(b, (int64_t)k);
        for (size_t j = 0; j < k; j++) {
            ss_snap_i64(b, tmp[j].start);
            ss_snap_i64(b, tmp[j].end);
            ss_snap_i64(b, tmp[j].revenue);
            ss_snap_u32(b, tmp[j].events);
            ss_snap_u32(b, tmp[j].views);
            ss_snap_u32(b, tmp[j].cart_adds);
            ss_snap_u32(b, tmp[j].purchases);
        }
    }
    ss_free(tmp);
}

static int snap_cut(struct ss_err *err) {
    return ss_err_set(err, SS_ERROR, "sessions savepoint: cut short or damaged (a length or count runs past its end)");
}

/* What is kept as it is read: a failure leaves the sessions loaded so far, each held
 * and indexed as process would have left it, for close to release. */
static int sessions_load(struct ss_op *op, struct ss_snap_r *r, struct ss_err *err) {
    struct sessions *o = (struct sessions *)op;
    struct ss_snap_r peek = *r;
    ss_snap_get_str(&peek);
    if (!ss_snap_expect(r, "sessions")) {
        if (peek.bad) return snap_cut(err);
        return ss_err_set(err, SS_ERROR, "sessions savepoint: the section does not start with its name 'sessions'");
    }
    uint32_t version = ss_snap_get_u32(r);
    if (!r->bad && version != SNAP_VERSION)
        return ss_err_set(err, SS_ERROR, "sessions savepoint: format version %u, this build reads version %d only",
                          version, SNAP_VERSION);
    size_t nusers = ss_snap_get_count(r, 4 + 8 + SNAP_SESS_BYTES);
    for (size_t u = 0; u < nusers && !r->bad; u++) {
        struct ss_str id = ss_snap_get_str(r);
        size_t k = ss_snap_get_count(r, SNAP_SESS_BYTES);
        if (r->bad) break;
        if (k == 0)
            return ss_err_set(err, SS_ERROR, "sessions savepoint: user '%.*s' is listed with no session",
                              (int)id.len, id.p);
        uint32_t user = ss_intern_get(o->intern, id);
        if (ss_intern_aux(o->intern, user, SS_AUX_SESSIONS))
            return ss_err_set(err, SS_ERROR, "sessions savepoint: user '%.*s' is listed twice", (int)id.len, id.p);
        int64_t prev_end = 0;
        for (size_t j = 0; j < k; j++) {
            struct sess s = {0};
            s.start = ss_snap_get_i64(r);
            s.end = ss_snap_get_i64(r);
            s.revenue = ss_snap_get_i64(r);
            s.events = ss_snap_get_u32(r);
            s.views = ss_snap_get_u32(r);
            s.cart_adds = ss_snap_get_u32(r);
            s.purchases = ss_snap_get_u32(r);
            if (r->bad) break;
            if (s.start < SS_TS_EVENT_MIN || s.end > SS_TS_EVENT_MAX || s.start > s.end || s.events == 0 ||
                (uint64_t)s.views + s.cart_adds + s.purchases > s.events)
                return ss_err_set(err, SS_ERROR,
                                  "sessions savepoint: user '%.*s' has an impossible session (start %lld, end %lld, "
                                  "%u events of which %u views, %u cart adds, %u purchases)",
                                  (int)id.len, id.p, (long long)s.start, (long long)s.end, s.events, s.views,
                                  s.cart_adds, s.purchases);
            /* an event within gap of two sessions would have joined them */
            if (j > 0 && s.start <= ss_sat_add(prev_end, o->gap))
                return ss_err_set(err, SS_ERROR,
                                  "sessions savepoint: user '%.*s' has sessions %lld ms apart, not sorted or not more "
                                  "than sessions.gap (%lld ms) apart (a savepoint of another gap?)",
                                  (int)id.len, id.p, (long long)(s.start - prev_end), (long long)o->gap);
            prev_end = s.end;
            uint32_t idx = sess_alloc(o);
            s.user = user;
            o->s[idx] = s;
            ss_intern_hold(o->intern, user);
            link_sess(o, idx);
            ss_dueheap_push(&o->due, ss_sat_add(s.end, o->gap), idx, user);
            o->live++;
        }
    }
    if (r->bad) return snap_cut(err);
    o->base.wake = ss_dueheap_wake(&o->due);
    return SS_OK;
}

const struct ss_op_type ss_op_sessions = {
    .name = "sessions",
    .open = sessions_open,
    .process = sessions_process,
    .advance = sessions_advance,
    .provisional = NULL,
    .flush = NULL,
    .state_bytes = sessions_state_bytes,
    .state_keys = sessions_state_keys,
    .close = sessions_close,
    .prefetch = sessions_prefetch,
    .prefetch_stages = 1u << 0,
    .save = sessions_save,
    .load = sessions_load,
};
