/* u32map.h — open-addressing hash map from nonzero uint32 keys (interned ids) to
 * uint32 values, in 8-byte slots: the compact sibling of u64map.h for state that must
 * stay small per key (the sessions operator's index of users with an open session).
 *
 * Linear probing, at most half full (so a probe for an absent key, the common case
 * when a key is new, stays short), grown by doubling, deletion by backward shifting.
 * Key 0 marks an empty slot and cannot be stored. 16-32 bytes per key at the largest
 * count so far (it never shrinks). */
#ifndef SS_U32MAP_H
#define SS_U32MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/hash.h"

struct ss_u32map_slot {
    uint32_t key; /* 0: empty */
    uint32_t val;
};

struct ss_u32map {
    struct ss_u32map_slot *slots; /* NULL until the first set */
    size_t mask;                  /* number of slots - 1 */
    size_t n;                     /* keys */
};

void ss_u32map_free(struct ss_u32map *m);
/* The slot of key, or the empty slot where it would go; only when m->slots. */
static inline size_t ss_u32map_find(const struct ss_u32map *m, uint32_t key) {
    size_t i = ss_hash_u64(key) & m->mask;
    while (m->slots[i].key && m->slots[i].key != key) i = (i + 1) & m->mask;
    return i;
}
/* The value of key; 0 when absent. */
static inline uint32_t ss_u32map_get(const struct ss_u32map *m, uint32_t key) {
    return m->slots ? m->slots[ss_u32map_find(m, key)].val : 0;
}
/* Sets key's value (key != 0); a value of 0 removes the key. */
void ss_u32map_set(struct ss_u32map *m, uint32_t key, uint32_t val);
static inline size_t ss_u32map_bytes(const struct ss_u32map *m) {
    return m->slots ? (m->mask + 1) * sizeof *m->slots : 0;
}
/* Brings key's home slot into cache: a hint for a later get or set, it changes nothing. */
static inline void ss_u32map_prefetch(const struct ss_u32map *m, uint32_t key) {
    if (m->slots) __builtin_prefetch(&m->slots[ss_hash_u64(key) & m->mask]);
}

#endif
