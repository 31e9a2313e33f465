/* dedup.c — see dedup.h. Sits in the engine between the late check and the operators:
 * every valid, on-time event's id is checked here once.
 *
 * Layout. Each generation (one span of event time) has its own table of 16-byte
 * fingerprints, so dropping a generation is one free. A table is an *ordered* linear
 * probing table (Amble & Knuth): the home slot of a fingerprint is a monotone
 * function of its high word (hi * cap >> 64), and every probe run is kept sorted, so a
 * lookup for an absent id stops at the first larger fingerprint instead of running to
 * the next empty slot. That keeps misses (the common case: a new id) short even at
 * 85-90 % load, which is what lets an id cost <= 24 bytes. Runs never wrap: the table
 * has a tail of spare slots past the last home slot, and a run that would overflow it
 * grows the table.
 *
 * Sizing. A new generation is pre-sized from the final count of the previous ones
 * (at a steady rate every minute holds about as many ids), so tables fill to a high
 * load without ever rehashing; a table that overflows anyway grows by a sequential
 * merge (the table is sorted, so rebuilding is one linear pass).
 *
 * A duplicate carries the original ts (dedup.h), so an id is looked up only in the
 * generation of its ts: one probe sequence per event however many generations live. */
#include "dedup.h"

#include <string.h>

#include "../core/alloc.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../core/timefmt.h"

#define TAIL 64          /* spare slots after the last home slot */
#define MIN_CAP 64       /* home slots of the smallest table */
#define TARGET_PCT 86    /* load a pre-sized table reaches at the previous generation's count */
#define GROW_PCT 92      /* load at which a table grows */

struct fp {
    uint64_t hi, lo; /* all zero: empty */
};

struct gen {
    int64_t idx;     /* floor(ts / generation_ms) */
    struct fp *slots; /* cap + TAIL */
    size_t cap;      /* home slots */
    size_t count;
};

struct ss_dedup {
    int64_t span;
    struct gen *gens;  /* sorted by idx, few (lateness / span + 2) */
    size_t ngens, cap_gens;
    size_t count;      /* ids in all generations */
    size_t hint;       /* expected ids per generation */
    int last;          /* index of the generation used last (a cache) */
};

static inline int fp_cmp(struct fp a, struct fp b) {
    if (a.hi != b.hi) return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo) return a.lo < b.lo ? -1 : 1;
    return 0;
}
static inline bool fp_empty(struct fp a) { return (a.hi | a.lo) == 0; }
/* floor(a / b) for b > 0, without the overflow of floor-then-multiply at INT64_MIN */
static inline int64_t fdiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && a < 0); }

static inline size_t home_of(uint64_t hi, size_t cap) {
    return (size_t)(((unsigned __int128)hi * cap) >> 64);
}

struct ss_dedup *ss_dedup_new(int64_t generation_ms) {
    ss_assert(generation_ms > 0);
    struct ss_dedup *d = ss_calloc(1, sizeof *d);
    d->span = generation_ms;
    d->last = -1;
    return d;
}

void ss_dedup_free(struct ss_dedup *d) {
    if (!d) return;
    for (size_t i = 0; i < d->ngens; i++) ss_free(d->gens[i].slots);
    ss_free(d->gens);
    ss_free(d);
}

static void table_alloc(struct gen *g, size_t cap) {
    if (cap < MIN_CAP) cap = MIN_CAP;
    g->cap = cap;
    g->slots = ss_calloc(cap + TAIL, sizeof *g->slots);
}

/* Rebuilds g with at least `cap` home slots: entries come out in sorted order, so each
 * goes to max(home, previous position + 1) and the new table is sorted too. */
static void table_grow(struct gen *g, size_t cap) {
    for (;;) {
        struct fp *old = g->slots;
        size_t oldn = g->cap + TAIL;
        table_alloc(g, cap);
        size_t next = 0;
        bool fits = true;
        for (size_t i = 0; i < oldn && fits; i++) {
            if (fp_empty(old[i])) continue;
            size_t h = home_of(old[i].hi, g->cap);
            size_t pos = h > next ? h : next;
            if (pos >= g->cap + TAIL) fits = false;
            else {
                g->slots[pos] = old[i];
                next = pos + 1;
            }
        }
        if (fits) {
            ss_free(old);
            return;
        }
        /* pathological clustering at the end: retry larger */
        ss_free(g->slots);
        g->slots = old;
        g->cap = oldn - TAIL;
        cap = cap + cap / 2;
    }
}

/* Returns true when f is in g; otherwise inserts it (growing g if needed). */
static bool table_check(struct gen *g, struct fp f) {
    for (;;) {
        size_t end = g->cap + TAIL;
        size_t i = home_of(f.hi, g->cap);
        struct fp *s = g->slots;
        while (i < end && !fp_empty(s[i])) {
            int c = fp_cmp(s[i], f);
            if (c == 0) return true;
            if (c > 0) break;
            i++;
        }
        /* f belongs at i: shift the rest of the run right by one */
        size_t j = i;
        while (j < end && !fp_empty(s[j])) j++;
        if (j == end || (g->count + 1) * 100 > g->cap * GROW_PCT) {
            table_grow(g, g->cap + g->cap / 2 + MIN_CAP);
            continue;
        }
        if (j > i) memmove(&s[i + 1], &s[i], (j - i) * sizeof *s);
        s[i] = f;
        g->count++;
        return false;
    }
}

static struct gen *gen_get(struct ss_dedup *d, int64_t idx) {
    if (d->last >= 0 && d->gens[d->last].idx == idx) return &d->gens[d->last];
    size_t i = 0;
    while (i < d->ngens && d->gens[i].idx < idx) i++;
    if (i < d->ngens && d->gens[i].idx == idx) {
        d->last = (int)i;
        return &d->gens[i];
    }
    /* a new generation, pre-sized from what earlier generations held */
    size_t expect = d->hint;
    for (size_t k = 0; k < d->ngens; k++)
        if (d->gens[k].count > expect) expect = d->gens[k].count;
    SS_GROW(d->gens, d->cap_gens, d->ngens + 1);
    memmove(&d->gens[i + 1], &d->gens[i], (d->ngens - i) * sizeof *d->gens);
    d->ngens++;
    struct gen *g = &d->gens[i];
    memset(g, 0, sizeof *g);
    g->idx = idx;
    table_alloc(g, expect * 100 / TARGET_PCT + 1);
    d->last = (int)i;
    return g;
}

bool ss_dedup_check(struct ss_dedup *d, struct ss_str id, int64_t ts) {
    XXH128_hash_t h = XXH3_128bits(id.p, id.len);
    struct fp f = {h.high64, h.low64};
    if (fp_empty(f)) f.lo = 1; /* all zero marks an empty slot */
    struct gen *g = gen_get(d, fdiv(ts, d->span));
    if (table_check(g, f)) return true;
    d->count++;
    return false;
}

void ss_dedup_evict(struct ss_dedup *d, int64_t watermark) {
    size_t drop = 0;
    while (drop < d->ngens) {
        struct gen *g = &d->gens[drop];
        /* the generation covers [idx*span, (idx+1)*span); it ends at or before W */
        if (watermark != SS_TS_MAX && g->idx >= fdiv(watermark, d->span)) break;
        d->hint = g->count; /* the most recent final count sizes the next generation */
        d->count -= g->count;
        ss_free(g->slots);
        drop++;
    }
    if (!drop) return;
    memmove(d->gens, d->gens + drop, (d->ngens - drop) * sizeof *d->gens);
    d->ngens -= drop;
    d->last = -1;
}

size_t ss_dedup_count(const struct ss_dedup *d) { return d->count; }

size_t ss_dedup_bytes(const struct ss_dedup *d) {
    size_t b = sizeof *d + d->cap_gens * sizeof *d->gens;
    for (size_t i = 0; i < d->ngens; i++) b += (d->gens[i].cap + TAIL) * sizeof(struct fp);
    return b;
}
