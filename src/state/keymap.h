/* keymap.h — per-id state index for the per-user operators (src/ops/session.c,
 * alert.c, recent.c): interned id -> uint32 value (a slot in the operator's own slab),
 * 0 meaning "none".
 *
 * Interned ids are dense (intern.h reuses freed numbers), so the index is a plain
 * array addressed by id: one load, no hashing, 4 bytes per interned id. It only ever
 * grows, up to the highest id the interner handed out. Lifetime: the operator holds
 * every id it keeps a value for, so an id cannot be reused while its entry is set. */
#ifndef SS_KEYMAP_H
#define SS_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

struct ss_keymap {
    uint32_t *v;
    size_t cap;
};

void ss_keymap_free(struct ss_keymap *m);
/* Grows m so that id is addressable (new entries 0). */
void ss_keymap_reserve(struct ss_keymap *m, uint32_t id);

static inline uint32_t ss_keymap_get(const struct ss_keymap *m, uint32_t id) {
    return id < m->cap ? m->v[id] : 0;
}
static inline void ss_keymap_set(struct ss_keymap *m, uint32_t id, uint32_t val) {
    if (id >= m->cap) ss_keymap_reserve(m, id);
    m->v[id] = val;
}
static inline size_t ss_keymap_bytes(const struct ss_keymap *m) { return m->cap * sizeof *m->v; }

#endif
