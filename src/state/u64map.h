/* u64map.h — open-addressing hash map from uint64 keys to uint32 values, the keyed
 * state table of the window operators (src/ops/tumbling.c, trending.c): window and
 * pane indices, (aggregate, user) pairs for exact distinct counts, interned ids.
 *
 * Linear probing over 16-byte slots (key, value and the used flag share one cache
 * line), grown by doubling at 3/4 load, deletion by backward shifting so a table
 * that lives for the whole run never accumulates tombstones. Every key value is
 * allowed. Lifetime: a pointer returned by put/get is valid until the next put or
 * del on the same map. */
#ifndef SS_U64MAP_H
#define SS_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/hash.h"

struct ss_u64map_slot {
    uint64_t key;
    uint32_t val;
    uint32_t used;
};

struct ss_u64map {
    struct ss_u64map_slot *slots; /* NULL until the first put */
    size_t mask;                  /* number of slots - 1 */
    size_t n;                     /* live keys */
};

void ss_u64map_init(struct ss_u64map *m);
void ss_u64map_free(struct ss_u64map *m);
/* Stores absent key in empty slot i with value 0 (put's insertion). */
static inline uint32_t *ss_u64map_occupy(struct ss_u64map *m, size_t i, uint64_t key) {
    struct ss_u64map_slot *s = &m->slots[i];
    s->key = key;
    s->val = 0;
    s->used = 1;
    m->n++;
    return &s->val;
}
/* ss_u64map_put for an absent key when the map must grow first (or has no slots yet). */
uint32_t *ss_u64map_put_grown(struct ss_u64map *m, uint64_t key);
/* The value slot of key, inserting it with value 0 if absent (then *inserted = true).
 * Inline: the window operators put for every event, and as a call, saving and
 * restoring registers was a quarter of its cost. */
static inline uint32_t *ss_u64map_put(struct ss_u64map *m, uint64_t key, bool *inserted) {
    *inserted = true;
    if (!m->slots) return ss_u64map_put_grown(m, key);
    size_t i = ss_hash_u64(key) & m->mask;
    for (;; i = (i + 1) & m->mask) {
        struct ss_u64map_slot *s = &m->slots[i];
        if (!s->used) break;
        if (s->key == key) {
            *inserted = false;
            return &s->val;
        }
    }
    if ((m->n + 1) * 4 > (m->mask + 1) * 3) return ss_u64map_put_grown(m, key);
    return ss_u64map_occupy(m, i, key);
}
/* The value slot of key, or NULL. */
uint32_t *ss_u64map_get(const struct ss_u64map *m, uint64_t key);
/* Removes key; returns false when it was absent. */
bool ss_u64map_del(struct ss_u64map *m, uint64_t key);
/* Empties the map and keeps its capacity (for recycled window state). */
void ss_u64map_clear(struct ss_u64map *m);
size_t ss_u64map_bytes(const struct ss_u64map *m);

/* Brings key's home slot into cache: a hint for a later put/get, it changes nothing. */
static inline void ss_u64map_prefetch(const struct ss_u64map *m, uint64_t key) {
    if (m->slots) __builtin_prefetch(&m->slots[ss_hash_u64(key) & m->mask]);
}

/* Iteration over live slots: for (i = 0; i < ss_u64map_cap(m); i++) if (m->slots[i].used) ... */
static inline size_t ss_u64map_cap(const struct ss_u64map *m) { return m->slots ? m->mask + 1 : 0; }

#endif
