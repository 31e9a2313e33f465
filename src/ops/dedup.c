/* dedup.c — see dedup.h. Sits in the engine between the late check and the operators:
 * every valid, on-time event's id is checked here once, and ss_dedup_evict runs after
 * every watermark move.
 *
 * Layout. One open-addressing table of 16-byte slots {a, b, t}: a and b are 96 bits of
 * the id's XXH3-128 fingerprint (a == 0 marks an empty slot, so a real a of 0 becomes 1),
 * t is the first occurrence's ts modulo 2^32. It is an *ordered* linear probing table
 * (Amble & Knuth): the home slot of a is a monotone function of a (a * cap >> 64) and
 * every run is kept sorted by a, so a lookup for an absent id (the common case: a new
 * id) stops at the first larger a instead of running to the end of the cluster. That
 * keeps misses short at 85 % load, which is what lets an id cost <= 24 bytes. Runs never
 * wrap: a tail of spare slots follows the last home slot, so positions are plain
 * indices and "sorted" needs no modular arithmetic.
 *
 * Time. t is decoded against lo, a lower bound of every stored ts: ts = lo + (t - lo)
 * mod 2^32, exact while every stored ts lies in [lo, lo + 2^32). Insertions keep that
 * true (lo moves down when it can); when an insertion cannot fit, the table goes *wide*:
 * ts64[] holds the exact ts of every slot (moved in step with the slots) until a sweep
 * pass finds the span small again. An entry is dead (forgotten) when its ts < W; dead
 * entries still occupy their slot until removed, and stay in the sorted order, so
 * lookups simply pass over them.
 *
 * Removal. An incremental sweep (a cursor moving a few slots per check, see ss_dedup_evict)
 * deletes dead entries by backward shift (the displaced rest of the run moves left by
 * one), and an insertion swallows the first dead slot at or after its position (the
 * entries in between move right by one), so tombstones never pile up. Each completed
 * sweep pass has seen every entry, so it raises lo to the smallest stored ts.
 *
 * One entry per id: an id found dead is reused in place (its slot gets the new ts), so a
 * lookup's first match on (a, b) is the answer. */
#include "dedup.h"

#include <string.h>

#include "../core/alloc.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../core/snap.h"
#include "../core/timefmt.h"

#define MIN_CAP 64
#define GROW_PCT 85    /* occupied slots (live + dead) at which the table is cleaned or grows */
#define TARGET_PCT 72  /* load right after a resize */
#define SHRINK_PCT 25  /* a sweep pass that finds fewer occupied slots shrinks the table */
#define SWEEP_STEPS 4  /* slots the sweep cursor visits per check (and per evict after none) */
#define SPAN ((uint64_t)1 << 32)

struct slot {
    uint64_t a; /* fingerprint high word; 0: empty */
    uint32_t b; /* fingerprint, 32 more bits */
    uint32_t t; /* ts mod 2^32 */
};

struct ss_dedup {
    struct slot *s;
    int64_t *ts64;        /* wide mode: the exact ts of each slot; NULL when narrow */
    size_t cap;           /* home slots */
    size_t n;             /* cap + tail */
    size_t used;          /* occupied slots, dead included */
    int64_t w;            /* the watermark */
    int64_t lo, hi;       /* bounds of every stored ts (meaningful while used > 0) */
    uint64_t dead_below;  /* narrow: an entry is dead iff (t - lo) mod 2^32 < dead_below */
    size_t cur;           /* sweep cursor */
    int64_t pass_min, pass_max; /* ts of entries the current pass kept or saw inserted */
    bool swept;           /* the sweep ran since the last ss_dedup_evict */
};

static inline size_t home_of(const struct ss_dedup *d, uint64_t a) {
    return (size_t)(((unsigned __int128)a * d->cap) >> 64);
}

static inline int64_t ts_at(const struct ss_dedup *d, size_t i) {
    if (d->ts64) return d->ts64[i];
    return (int64_t)((uint64_t)d->lo + (uint32_t)(d->s[i].t - (uint32_t)d->lo));
}

static inline bool dead_at(const struct ss_dedup *d, size_t i) {
    if (d->ts64) return d->ts64[i] < d->w;
    return (uint64_t)(uint32_t)(d->s[i].t - (uint32_t)d->lo) < d->dead_below;
}

static void set_dead_below(struct ss_dedup *d) {
    if (d->w <= d->lo) d->dead_below = 0;
    else {
        uint64_t diff = (uint64_t)d->w - (uint64_t)d->lo; /* w > lo: no wrap */
        d->dead_below = diff > SPAN ? SPAN : diff;
    }
}

static inline void pass_note(struct ss_dedup *d, int64_t ts) {
    if (ts < d->pass_min) d->pass_min = ts;
    if (ts > d->pass_max) d->pass_max = ts;
}

static void pass_reset(struct ss_dedup *d) {
    d->cur = 0;
    d->pass_min = SS_TS_MAX;
    d->pass_max = SS_TS_MIN;
}

static void table_alloc(struct ss_dedup *d, size_t cap, bool wide) {
    if (cap < MIN_CAP) cap = MIN_CAP;
    d->cap = cap;
    d->n = cap + 16 + cap / 64;
    d->s = ss_calloc(d->n, sizeof *d->s);
    d->ts64 = wide ? ss_calloc(d->n, sizeof *d->ts64) : NULL;
}

struct ss_dedup *ss_dedup_new(void) {
    struct ss_dedup *d = ss_calloc(1, sizeof *d);
    d->w = SS_TS_MIN;
    table_alloc(d, MIN_CAP, false);
    pass_reset(d);
    return d;
}

void ss_dedup_free(struct ss_dedup *d) {
    if (!d) return;
    ss_free(d->s);
    ss_free(d->ts64);
    ss_free(d);
}

static void to_wide(struct ss_dedup *d) {
    int64_t *ts64 = ss_calloc(d->n, sizeof *ts64);
    for (size_t i = 0; i < d->n; i++)
        if (d->s[i].a) ts64[i] = ts_at(d, i);
    d->ts64 = ts64;
}

/* Only when every stored ts lies in [lo, lo + 2^32). */
static void to_narrow(struct ss_dedup *d) {
    ss_free(d->ts64);
    d->ts64 = NULL;
    set_dead_below(d);
}

/* Rebuilds the table with `cap` home slots, dropping dead entries. Entries come out in
 * sorted order, so each goes to max(home, previous position + 1) and the new table is
 * sorted too: one linear pass, no probing. */
static void rehash(struct ss_dedup *d, size_t cap) {
    size_t live = 0;
    int64_t lo = SS_TS_MAX, hi = SS_TS_MIN;
    for (size_t i = 0; i < d->n; i++) {
        if (!d->s[i].a || dead_at(d, i)) continue;
        int64_t ts = ts_at(d, i);
        if (ts < lo) lo = ts;
        if (ts > hi) hi = ts;
        live++;
    }
    bool wide = live && (uint64_t)hi - (uint64_t)lo >= SPAN;
    if (cap < live + live / 8) cap = live + live / 8;
    struct ss_dedup old = *d;
    for (;;) {
        table_alloc(d, cap, wide);
        size_t next = 0;
        bool fits = true;
        for (size_t i = 0; i < old.n && fits; i++) {
            if (!old.s[i].a || dead_at(&old, i)) continue;
            size_t h = home_of(d, old.s[i].a);
            size_t pos = h > next ? h : next;
            if (pos >= d->n) {
                fits = false;
                break;
            }
            d->s[pos] = old.s[i];
            if (wide) d->ts64[pos] = ts_at(&old, i);
            next = pos + 1;
        }
        if (fits) break;
        ss_free(d->s); /* pathological clustering at the end: retry larger */
        ss_free(d->ts64);
        cap += cap / 2;
    }
    ss_free(old.s);
    ss_free(old.ts64);
    d->used = live;
    if (live) {
        d->lo = lo;
        d->hi = hi;
    }
    set_dead_below(d);
    pass_reset(d);
}

/* End of a sweep pass: every stored entry was seen (kept by the cursor or inserted during
 * the pass; entries only move towards the cursor or away from it, never past it backwards
 * unseen), so [pass_min, pass_max] bounds them. */
static void pass_end(struct ss_dedup *d) {
    if (d->used && d->pass_min <= d->pass_max) {
        d->lo = d->pass_min;
        d->hi = d->pass_max;
    }
    if (d->ts64 && (!d->used || (uint64_t)d->hi - (uint64_t)d->lo < SPAN / 2)) to_narrow(d);
    set_dead_below(d);
    pass_reset(d);
    if (d->cap > MIN_CAP && d->used * 100 < d->cap * SHRINK_PCT) rehash(d, d->used * 100 / TARGET_PCT);
}

/* Removes the entry at i: the displaced part of the run after it moves left by one. */
static void delete_at(struct ss_dedup *d, size_t i) {
    /* each displaced entry moves as the scan passes it: the runs are a few slots long,
     * and a memmove call after the scan cost more than the moves */
    struct slot *s = d->s;
    size_t j = i + 1;
    if (!d->ts64) {
        for (; j < d->n && s[j].a && home_of(d, s[j].a) < j; j++) s[j - 1] = s[j];
    } else {
        for (; j < d->n && s[j].a && home_of(d, s[j].a) < j; j++) {
            s[j - 1] = s[j];
            d->ts64[j - 1] = d->ts64[j];
        }
    }
    s[j - 1].a = 0;
    d->used--;
}

/* One step of the sweep cursor (cur < n). */
static inline void sweep_one(struct ss_dedup *d) {
    size_t i = d->cur;
    if (!d->s[i].a) {
        d->cur++;
        return;
    }
    /* dead_at and ts_at in one, the mode tested once */
    int64_t ts;
    if (!d->ts64) {
        uint32_t since_lo = d->s[i].t - (uint32_t)d->lo;
        if (since_lo < d->dead_below) {
            delete_at(d, i); /* slot i now holds the next entry, or is empty */
            return;
        }
        ts = (int64_t)((uint64_t)d->lo + since_lo);
    } else {
        ts = d->ts64[i];
        if (ts < d->w) {
            delete_at(d, i);
            return;
        }
    }
    pass_note(d, ts);
    d->cur++;
}

/* The cursor moves a line of slots per call, interleaved with random probes, which
 * the hardware prefetcher does not follow: bring the slots a few calls ahead. */
#define SWEEP_AHEAD 32

static void sweep(struct ss_dedup *d, size_t steps) {
    d->swept = true;
    if (d->cur + SWEEP_AHEAD < d->n) __builtin_prefetch(&d->s[d->cur + SWEEP_AHEAD]);
    while (steps--) {
        if (d->cur >= d->n) {
            pass_end(d);
            return;
        }
        sweep_one(d);
    }
}

/* Makes the table able to hold ts (narrow: inside [lo, lo + 2^32)), moving lo/hi. */
static void admit_ts(struct ss_dedup *d, int64_t ts) {
    if (!d->used) {
        if (d->ts64) to_narrow(d);
        d->lo = d->hi = ts;
        set_dead_below(d);
        return;
    }
    int64_t lo = ts < d->lo ? ts : d->lo, hi = ts > d->hi ? ts : d->hi;
    if (!d->ts64 && (uint64_t)hi - (uint64_t)lo >= SPAN) to_wide(d);
    d->hi = hi;
    if (lo != d->lo) {
        d->lo = lo;
        set_dead_below(d);
    }
}

/* The table is full (or its tail is): clean it completely, then grow unless that freed
 * at least a tenth of the limit, so cleaning costs O(1) per insertion amortised. */
static void make_room(struct ss_dedup *d, bool tail_full) {
    size_t cap = d->cap;
    pass_reset(d);
    while (d->cur < d->n) sweep_one(d);
    pass_end(d);
    if (d->cap != cap) return; /* the pass shrank the table: room enough */
    if (tail_full || (d->used + 1) * 100 > d->cap * (GROW_PCT - GROW_PCT / 10)) {
        size_t want = (d->used + 1) * 100 / TARGET_PCT;
        rehash(d, want > cap + cap / 8 ? want : cap + cap / 8);
    }
}

/* The first empty or dead slot from k on, or n: dead_at over a run of live entries,
 * with the mode tested once instead of at every slot. */
static inline size_t first_free(const struct ss_dedup *d, size_t k) {
    const struct slot *s = d->s;
    size_t n = d->n;
    if (!d->ts64) {
        uint32_t lo = (uint32_t)d->lo;
        uint64_t dead_below = d->dead_below;
        while (k < n && s[k].a && (uint64_t)(uint32_t)(s[k].t - lo) >= dead_below) k++;
    } else {
        while (k < n && s[k].a && d->ts64[k] >= d->w) k++;
    }
    return k;
}

struct ss_dedup_key ss_dedup_key(struct ss_str id) {
    XXH128_hash_t h = XXH3_128bits(id.p, id.len);
    return (struct ss_dedup_key){h.high64 ? h.high64 : 1, (uint32_t)h.low64};
}

void ss_dedup_prefetch(const struct ss_dedup *d, struct ss_dedup_key k) {
    __builtin_prefetch(&d->s[home_of(d, k.a)]);
}

bool ss_dedup_check(struct ss_dedup *d, struct ss_str id, int64_t ts) {
    return ss_dedup_check_key(d, ss_dedup_key(id), ts);
}

bool ss_dedup_check_key(struct ss_dedup *d, struct ss_dedup_key k, int64_t ts) {
    uint64_t a = k.a;
    uint32_t b = k.b;
    for (;;) {
        struct slot *s = d->s;
        size_t n = d->n, i = home_of(d, a);
        while (i < n && s[i].a && s[i].a < a) i++;
        for (; i < n && s[i].a == a; i++) {
            if (s[i].b != b) continue;
            if (!dead_at(d, i)) {
                sweep(d, SWEEP_STEPS);
                return true;
            }
            if (ts < d->w) return false;
            /* forgotten: this occurrence is the new first one, in the same slot */
            admit_ts(d, ts);
            s[i].t = (uint32_t)ts;
            if (d->ts64) d->ts64[i] = ts;
            pass_note(d, ts);
            sweep(d, SWEEP_STEPS);
            return false;
        }
        if (ts < d->w) return false;
        /* absent: it belongs at i; take the first dead or empty slot from i on */
        size_t k = first_free(d, i);
        if (k == n || (!s[k].a && (d->used + 1) * 100 > d->cap * GROW_PCT)) {
            make_room(d, k == n);
            continue;
        }
        admit_ts(d, ts); /* may allocate ts64, never moves slots */
        if (!s[k].a) d->used++;
        for (size_t m = k; m > i; m--) s[m] = s[m - 1]; /* a few slots: cheaper than a memmove call */
        s[i] = (struct slot){a, b, (uint32_t)ts};
        if (d->ts64) {
            memmove(&d->ts64[i + 1], &d->ts64[i], (k - i) * sizeof *d->ts64);
            d->ts64[i] = ts;
        }
        pass_note(d, ts);
        sweep(d, SWEEP_STEPS);
        return false;
    }
}

void ss_dedup_evict(struct ss_dedup *d, int64_t watermark) {
    if (watermark > d->w) {
        d->w = watermark;
        if (watermark == SS_TS_MAX) { /* the end: everything goes */
            ss_free(d->s);
            ss_free(d->ts64);
            table_alloc(d, MIN_CAP, false);
            d->used = 0;
            pass_reset(d);
            return;
        }
        set_dead_below(d);
    }
    /* The engine evicts after nearly every check (the watermark moves with almost every
     * event), and each check has swept already: sweeping here too doubled the sweep's
     * cost. Evictions with no check between them still sweep, so a table whose inputs
     * have gone quiet empties (and shrinks) as the watermark moves on. An empty table of
     * the least size has nothing to sweep: the engine's promotions table, most runs. */
    if (!d->swept && (d->used || d->cap > MIN_CAP)) sweep(d, SWEEP_STEPS);
    d->swept = false;
}

size_t ss_dedup_count(const struct ss_dedup *d) { return d->used; }

size_t ss_dedup_bytes(const struct ss_dedup *d) {
    return sizeof *d + d->n * (sizeof *d->s + (d->ts64 ? sizeof *d->ts64 : 0));
}

/* ---- savepoint ------------------------------------------------------------------------ */

/* Version 1: W, then the live entries {a, b, ts} in strictly increasing (a, b) order: the
 * table's own order (it is sorted by a), with the rare entries of an equal a put in
 * order of b, so that a load can check the order and rebuild the table in one pass as
 * rehash does. The ts is saved whole: narrow or wide is decided again from the span. */
#define DEDUP_SNAP_VERSION 1
#define ENTRY_BYTES (8 + 4 + 8)

void ss_dedup_save(const struct ss_dedup *d, struct ss_buf *b) {
    size_t live = 0;
    for (size_t i = 0; i < d->n; i++) live += d->s[i].a && !dead_at(d, i);
    ss_snap_tag(b, "dedup");
    ss_snap_u32(b, DEDUP_SNAP_VERSION);
    ss_snap_i64(b, d->w);
    ss_snap_i64(b, (int64_t)live);
    for (size_t i = 0; i < d->n;) {
        if (!d->s[i].a) {
            i++;
            continue;
        }
        size_t end = i + 1; /* [i, end): the entries with this a, usually one */
        while (end < d->n && d->s[end].a == d->s[i].a) end++;
        /* each live one in order of b: a selection, as such groups have one or two */
        bool have_prev = false;
        uint32_t prev = 0;
        for (;;) {
            size_t best = end;
            for (size_t k = i; k < end; k++) {
                if (dead_at(d, k) || (have_prev && d->s[k].b <= prev)) continue;
                if (best == end || d->s[k].b < d->s[best].b) best = k;
            }
            if (best == end) break;
            ss_snap_i64(b, (int64_t)d->s[best].a);
            ss_snap_u32(b, d->s[best].b);
            ss_snap_i64(b, ts_at(d, best));
            prev = d->s[best].b;
            have_prev = true;
        }
        i = end;
    }
}

static int dedup_load_fail(struct ss_snap_r *r, struct ss_err *err, const char *what) {
    if (r->bad) return ss_err_set(err, SS_ERROR, "dedup savepoint: cut short or damaged (%s)", what);
    return ss_err_set(err, SS_ERROR, "dedup savepoint: %s", what);
}

/* Reads and checks everything before touching the table, so a refusal leaves it fresh;
 * then rebuilds it from a second reading of the same bytes. */
int ss_dedup_load(struct ss_dedup *d, struct ss_snap_r *r, struct ss_err *err) {
    if (d->used || d->w != SS_TS_MIN)
        return ss_err_set(err, SS_ERROR, "dedup savepoint: loaded into a table in use");
    if (!ss_snap_expect(r, "dedup")) return dedup_load_fail(r, err, "no dedup section");
    uint32_t version = ss_snap_get_u32(r);
    if (r->bad) return dedup_load_fail(r, err, "version");
    if (version != DEDUP_SNAP_VERSION)
        return ss_err_set(err, SS_ERROR, "dedup savepoint: version %u, this build reads version %d", version,
                          DEDUP_SNAP_VERSION);
    int64_t w = ss_snap_get_i64(r);
    size_t live = ss_snap_get_count(r, ENTRY_BYTES);
    if (r->bad) return dedup_load_fail(r, err, "watermark or id count");

    struct ss_snap_r entries = *r;
    int64_t lo = SS_TS_MAX, hi = SS_TS_MIN;
    uint64_t prev_a = 0;
    uint32_t prev_b = 0;
    for (size_t i = 0; i < live; i++) {
        uint64_t a = (uint64_t)ss_snap_get_i64(r);
        uint32_t b = ss_snap_get_u32(r);
        int64_t ts = ss_snap_get_i64(r);
        if (r->bad) return dedup_load_fail(r, err, "an id");
        if (!a) return dedup_load_fail(r, err, "an id's fingerprint is 0");
        if (i && (a < prev_a || (a == prev_a && b <= prev_b)))
            return dedup_load_fail(r, err, "ids out of order (or repeated)");
        if (ts < w) return dedup_load_fail(r, err, "an id already forgotten at its watermark");
        prev_a = a;
        prev_b = b;
        if (ts < lo) lo = ts;
        if (ts > hi) hi = ts;
    }
    struct ss_snap_r after = *r;

    bool wide = live && (uint64_t)hi - (uint64_t)lo >= SPAN;
    size_t cap = live * 100 / TARGET_PCT;
    if (cap < live + live / 8) cap = live + live / 8;
    for (;;) {
        ss_free(d->s);
        ss_free(d->ts64);
        table_alloc(d, cap, wide);
        *r = entries;
        size_t next = 0;
        bool fits = true;
        for (size_t i = 0; i < live; i++) {
            uint64_t a = (uint64_t)ss_snap_get_i64(r);
            uint32_t b = ss_snap_get_u32(r);
            int64_t ts = ss_snap_get_i64(r);
            size_t h = home_of(d, a);
            size_t pos = h > next ? h : next;
            if (pos >= d->n) {
                fits = false;
                break;
            }
            d->s[pos] = (struct slot){a, b, (uint32_t)ts};
            if (wide) d->ts64[pos] = ts;
            next = pos + 1;
        }
        if (fits) break;
        cap += cap / 2; /* pathological clustering at the end: retry larger, as rehash does */
    }
    *r = after;
    d->w = w;
    d->used = live;
    if (live) {
        d->lo = lo;
        d->hi = hi;
    }
    set_dead_below(d);
    pass_reset(d);
    d->swept = false;
    return SS_OK;
}
