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
/* The value slot of key, inserting it with value 0 if absent (then *inserted = true). */
uint32_t *ss_u64map_put(struct ss_u64map *m, uint64_t key, bool *inserted);
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
