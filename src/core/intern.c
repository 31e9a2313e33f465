/* intern.c — see intern.h.
 *
 * Entries live in one array indexed by id (32 bytes each: strings of up to 16 bytes
 * inline so the common ids cost no extra allocation, and the owners' words, aux). The
 * hash index is open addressing with linear probing; deletion uses backward shifting,
 * so there are no tombstones and probe lengths do not degrade on a long-running stream.
 *
 * An index slot holds the id and the low 32 bits of its hash (the tag), which also
 * give its home slot. So probing and rehashing read the index only, and a lookup
 * touches an entry only when the tag matches: one cache miss for the slot and one for
 * the entry, both of which a batch can prefetch ahead (ss_intern_prefetch). The entry
 * keeps no hash: the sweep that frees an id hashes its bytes again to find its slot,
 * which leaves the entry room for the owners' words within 32 bytes. */
#include "intern.h"

#include <string.h>

#include "alloc.h"
#include "err.h"
#include "hash.h"

#define INLINE_MAX 16

struct entry {
    uint32_t aux[SS_AUX_OWNERS]; /* ss_intern_aux */
    uint32_t refs;
    uint32_t len : 31;
    uint32_t pending : 1; /* on the sweep list */
    union {
        char inl[INLINE_MAX];
        char *heap;
    } u;
};

_Static_assert(sizeof(struct entry) == 32, "two entries a cache line, none across two: room for 2 owners");

struct ss_intern {
    struct entry *ents;   /* index 0 unused: id 0 means "none" */
    size_t nents, cap_ents;
    uint32_t *free_ids;   /* freed ids, reused first */
    size_t nfree, cap_free;
    uint64_t *slots;      /* hash index: 0 empty, else tag << 32 | id */
    size_t mask;          /* slots size - 1 */
    size_t live;
    uint32_t *sweep;      /* ids that may be unreferenced */
    size_t nsweep, cap_sweep;
    size_t heap_bytes;
    uint64_t (*hash)(struct ss_str s); /* what callers of ss_intern_get_hashed hash with */
};

static const char *ent_bytes(const struct entry *e) {
    return e->len <= INLINE_MAX ? e->u.inl : e->u.heap;
}

struct ss_intern *ss_intern_new(void) { return ss_intern_new_hashing(ss_intern_hash); }

struct ss_intern *ss_intern_new_hashing(uint64_t (*hash)(struct ss_str s)) {
    struct ss_intern *t = ss_calloc(1, sizeof *t);
    t->hash = hash;
    t->cap_ents = 1024;
    t->ents = ss_calloc(t->cap_ents, sizeof *t->ents);
    t->nents = 1;
    t->mask = 2047;
    t->slots = ss_calloc(t->mask + 1, sizeof *t->slots);
    return t;
}

void ss_intern_free(struct ss_intern *t) {
    if (!t) return;
    for (size_t i = 1; i < t->nents; i++)
        if (t->ents[i].len > INLINE_MAX && t->ents[i].u.heap) ss_free(t->ents[i].u.heap);
    ss_free(t->ents);
    ss_free(t->free_ids);
    ss_free(t->slots);
    ss_free(t->sweep);
    ss_free(t);
}

static inline uint32_t tag_of(uint64_t h) { return (uint32_t)h; }
static inline size_t home_of(const struct ss_intern *t, uint64_t slot) { return (size_t)(slot >> 32) & t->mask; }

static void rehash(struct ss_intern *t, size_t nslots) {
    uint64_t *old = t->slots;
    size_t oldn = t->mask + 1;
    t->slots = ss_calloc(nslots, sizeof *t->slots);
    t->mask = nslots - 1;
    for (size_t i = 0; i < oldn; i++) {
        uint64_t v = old[i];
        if (!v) continue;
        size_t s = home_of(t, v);
        while (t->slots[s]) s = (s + 1) & t->mask;
        t->slots[s] = v;
    }
    ss_free(old);
}

uint64_t ss_intern_hash(struct ss_str s) { return ss_hash(s.p, s.len); }

void ss_intern_prefetch(const struct ss_intern *t, uint64_t h) {
    __builtin_prefetch(&t->slots[tag_of(h) & t->mask]);
}

void ss_intern_prefetch_entry(const struct ss_intern *t, uint64_t h) {
    uint64_t want = tag_of(h);
    for (size_t i = want & t->mask;; i = (i + 1) & t->mask) {
        uint64_t v = t->slots[i];
        if (!v) return;
        if (v >> 32 == want) {
            __builtin_prefetch(&t->ents[(uint32_t)v]);
            return;
        }
    }
}

void ss_intern_prefetch_id(const struct ss_intern *t, uint32_t id) {
    if (id < t->nents) __builtin_prefetch(&t->ents[id]);
}

/* a == b over n bytes; for the short ids that dominate, overlapping word loads
 * instead of a call to memcmp (both sides have n readable bytes) */
static inline bool same_bytes(const char *a, const char *b, size_t n) {
    if (n >= 8 && n <= 16) {
        uint64_t a0, a1, b0, b1;
        memcpy(&a0, a, 8);
        memcpy(&b0, b, 8);
        memcpy(&a1, a + n - 8, 8);
        memcpy(&b1, b + n - 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n >= 4 && n < 8) {
        uint32_t a0, a1, b0, b1;
        memcpy(&a0, a, 4);
        memcpy(&b0, b, 4);
        memcpy(&a1, a + n - 4, 4);
        memcpy(&b1, b + n - 4, 4);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n < 4) {
        for (size_t i = 0; i < n; i++)
            if (a[i] != b[i]) return false;
        return true;
    }
    return memcmp(a, b, n) == 0;
}

static uint32_t lookup(const struct ss_intern *t, struct ss_str s, uint64_t h, size_t *at) {
    uint64_t want = tag_of(h);
    size_t i = want & t->mask;
    for (;; i = (i + 1) & t->mask) {
        uint64_t v = t->slots[i];
        if (!v) break;
        if (v >> 32 != want) continue;
        const struct entry *e = &t->ents[(uint32_t)v];
        if (e->len == s.len && same_bytes(ent_bytes(e), s.p, s.len)) return (uint32_t)v;
    }
    *at = i;
    return 0;
}

uint32_t ss_intern_find(const struct ss_intern *t, struct ss_str s) {
    size_t at;
    return lookup(t, s, t->hash(s), &at);
}

static void mark_pending(struct ss_intern *t, uint32_t id) {
    struct entry *e = &t->ents[id];
    if (e->pending) return;
    e->pending = 1;
    SS_GROW(t->sweep, t->cap_sweep, t->nsweep + 1);
    t->sweep[t->nsweep++] = id;
}

uint32_t ss_intern_get(struct ss_intern *t, struct ss_str s) { return ss_intern_get_hashed(t, s, t->hash(s)); }

static __attribute__((noinline)) uint32_t get_probing(struct ss_intern *t, struct ss_str s, uint64_t h);

/* The common case first: the string is there, in its home slot, and short. Alone,
 * it needs no call and no saved register; the whole search (a loop with a memcmp
 * call in it, the insertion) made every lookup save and restore six. */
uint32_t ss_intern_get_hashed(struct ss_intern *t, struct ss_str s, uint64_t h) {
    uint64_t v = t->slots[tag_of(h) & t->mask];
    if (v >> 32 == tag_of(h) && s.len <= 16) {
        const struct entry *e = &t->ents[(uint32_t)v];
        if (e->len == s.len && same_bytes(e->u.inl, s.p, s.len)) return (uint32_t)v;
    }
    return get_probing(t, s, h);
}

static uint32_t get_probing(struct ss_intern *t, struct ss_str s, uint64_t h) {
    size_t i = 0; /* set by lookup when it finds nothing, which is when it is used */
    uint32_t id = lookup(t, s, h, &i);
    if (id) return id;
    if (t->nfree) {
        id = t->free_ids[--t->nfree];
    } else {
        ss_assert(t->nents < UINT32_MAX);
        SS_GROW(t->ents, t->cap_ents, t->nents + 1);
        id = (uint32_t)t->nents++;
    }
    struct entry *e = &t->ents[id];
    memset(e, 0, sizeof *e);
    e->len = s.len;
    if (s.len <= INLINE_MAX) {
        if (s.len) memcpy(e->u.inl, s.p, s.len);
    } else {
        e->u.heap = ss_malloc(s.len);
        memcpy(e->u.heap, s.p, s.len);
        t->heap_bytes += s.len;
    }
    t->slots[i] = (uint64_t)tag_of(h) << 32 | id;
    t->live++;
    mark_pending(t, id);
    if (t->live * 4 > (t->mask + 1) * 3) rehash(t, (t->mask + 1) * 2);
    return id;
}

void ss_intern_hold(struct ss_intern *t, uint32_t id) {
    ss_assert(id > 0 && id < t->nents);
    t->ents[id].refs++;
}

void ss_intern_drop(struct ss_intern *t, uint32_t id) {
    ss_assert(id > 0 && id < t->nents && t->ents[id].refs > 0);
    if (--t->ents[id].refs == 0) mark_pending(t, id);
}

uint32_t ss_intern_aux(const struct ss_intern *t, uint32_t id, enum ss_aux_owner owner) {
    ss_assert(id > 0 && id < t->nents);
    return t->ents[id].aux[owner];
}

void ss_intern_set_aux(struct ss_intern *t, uint32_t id, enum ss_aux_owner owner, uint32_t v) {
    ss_assert(id > 0 && id < t->nents && t->ents[id].refs > 0);
    t->ents[id].aux[owner] = v;
}

struct ss_str ss_intern_str(const struct ss_intern *t, uint32_t id) {
    ss_assert(id > 0 && id < t->nents);
    const struct entry *e = &t->ents[id];
    return (struct ss_str){ent_bytes(e), e->len};
}

/* Removes id from the index, shifting later members of its probe run back. */
static void unindex(struct ss_intern *t, uint32_t id) {
    const struct entry *e = &t->ents[id];
    uint64_t me = (uint64_t)tag_of(t->hash((struct ss_str){ent_bytes(e), e->len})) << 32 | id;
    size_t i = home_of(t, me);
    while (t->slots[i] != me) i = (i + 1) & t->mask;
    size_t j = i;
    for (;;) {
        j = (j + 1) & t->mask;
        uint64_t o = t->slots[j];
        if (!o) break;
        size_t home = home_of(t, o);
        /* o may move into the hole at i unless its home lies cyclically in (i, j] */
        bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (stays) continue;
        t->slots[i] = o;
        i = j;
    }
    t->slots[i] = 0;
}

void ss_intern_sweep(struct ss_intern *t) {
    for (size_t k = 0; k < t->nsweep; k++) {
        uint32_t id = t->sweep[k];
        struct entry *e = &t->ents[id];
        e->pending = 0;
        if (e->refs) continue;
        for (int k = 0; k < SS_AUX_OWNERS; k++) ss_assert(!e->aux[k]); /* cleared before the last drop */
        unindex(t, id);
        if (e->len > INLINE_MAX) {
            t->heap_bytes -= e->len;
            ss_free(e->u.heap);
        }
        memset(e, 0, sizeof *e);
        SS_GROW(t->free_ids, t->cap_free, t->nfree + 1);
        t->free_ids[t->nfree++] = id;
        t->live--;
    }
    t->nsweep = 0;
}

size_t ss_intern_live(const struct ss_intern *t) { return t->live; }

size_t ss_intern_bytes(const struct ss_intern *t) {
    return t->cap_ents * sizeof *t->ents + (t->mask + 1) * sizeof *t->slots +
           t->cap_free * sizeof *t->free_ids + t->cap_sweep * sizeof *t->sweep + t->heap_bytes;
}
