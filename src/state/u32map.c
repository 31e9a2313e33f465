/* u32map.c — see u32map.h. */
#include "u32map.h"

#include "../core/alloc.h"

#define INITIAL_SLOTS 64

void ss_u32map_free(struct ss_u32map *m) {
    ss_free(m->slots);
    *m = (struct ss_u32map){0};
}

static void resize(struct ss_u32map *m, size_t nslots) {
    struct ss_u32map_slot *old = m->slots;
    size_t oldn = old ? m->mask + 1 : 0;
    m->slots = ss_calloc(nslots, sizeof *m->slots);
    m->mask = nslots - 1;
    for (size_t i = 0; i < oldn; i++)
        if (old[i].key) m->slots[ss_u32map_find(m, old[i].key)] = old[i];
    ss_free(old);
}

/* Empties slot i by backward shift: a later member of the probe run moves into the hole
 * unless its home lies cyclically in (hole, its position]. */
static void delete_at(struct ss_u32map *m, size_t i) {
    for (size_t j = i;;) {
        j = (j + 1) & m->mask;
        if (!m->slots[j].key) break;
        size_t home = ss_hash_u64(m->slots[j].key) & m->mask;
        bool stays = i <= j ? i < home && home <= j : i < home || home <= j;
        if (stays) continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    m->slots[i] = (struct ss_u32map_slot){0, 0};
    m->n--;
}

void ss_u32map_set(struct ss_u32map *m, uint32_t key, uint32_t val) {
    if (!m->slots) {
        if (!val) return;
        resize(m, INITIAL_SLOTS);
    }
    size_t i = ss_u32map_find(m, key);
    if (m->slots[i].key) {
        if (val) m->slots[i].val = val;
        else delete_at(m, i);
        return;
    }
    if (!val) return;
    if ((m->n + 1) * 2 > m->mask + 1) {
        resize(m, (m->mask + 1) * 2);
        i = ss_u32map_find(m, key);
    }
    m->slots[i] = (struct ss_u32map_slot){key, val};
    m->n++;
}
