/* u64map.c — see u64map.h. */
#include "u64map.h"

#include <string.h>

#include "../core/alloc.h"
#include "../core/hash.h"

#define INITIAL_SLOTS 16

void ss_u64map_init(struct ss_u64map *m) {
    m->slots = NULL;
    m->mask = 0;
    m->n = 0;
}

void ss_u64map_free(struct ss_u64map *m) {
    ss_free(m->slots);
    ss_u64map_init(m);
}

static void resize(struct ss_u64map *m, size_t nslots) {
    struct ss_u64map_slot *old = m->slots;
    size_t oldn = ss_u64map_cap(m);
    m->slots = ss_calloc(nslots, sizeof *m->slots);
    m->mask = nslots - 1;
    for (size_t i = 0; i < oldn; i++) {
        if (!old[i].used) continue;
        size_t s = ss_hash_u64(old[i].key) & m->mask;
        while (m->slots[s].used) s = (s + 1) & m->mask;
        m->slots[s] = old[i];
    }
    ss_free(old);
}

uint32_t *ss_u64map_put_grown(struct ss_u64map *m, uint64_t key) {
    resize(m, m->slots ? (m->mask + 1) * 2 : INITIAL_SLOTS);
    size_t i = ss_hash_u64(key) & m->mask;
    while (m->slots[i].used) i = (i + 1) & m->mask;
    return ss_u64map_occupy(m, i, key);
}

uint32_t *ss_u64map_get(const struct ss_u64map *m, uint64_t key) {
    if (!m->slots) return NULL;
    for (size_t i = ss_hash_u64(key) & m->mask;; i = (i + 1) & m->mask) {
        struct ss_u64map_slot *s = &m->slots[i];
        if (!s->used) return NULL;
        if (s->key == key) return &s->val;
    }
}

bool ss_u64map_del(struct ss_u64map *m, uint64_t key) {
    if (!m->slots) return false;
    size_t i = ss_hash_u64(key) & m->mask;
    for (;; i = (i + 1) & m->mask) {
        if (!m->slots[i].used) return false;
        if (m->slots[i].key == key) break;
    }
    /* Backward shift: a later member of the probe run moves into the hole unless its
     * home slot lies cyclically in (hole, its position]. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & m->mask;
        if (!m->slots[j].used) break;
        size_t home = ss_hash_u64(m->slots[j].key) & m->mask;
        bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (stays) continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    m->slots[i].used = 0;
    m->n--;
    return true;
}

void ss_u64map_clear(struct ss_u64map *m) {
    if (m->slots && m->n) memset(m->slots, 0, ss_u64map_cap(m) * sizeof *m->slots);
    m->n = 0;
}

size_t ss_u64map_bytes(const struct ss_u64map *m) { return ss_u64map_cap(m) * sizeof *m->slots; }
