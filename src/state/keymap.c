/* keymap.c — see keymap.h. */
#include "keymap.h"

#include <string.h>

#include "../core/alloc.h"

void ss_keymap_free(struct ss_keymap *m) {
    ss_free(m->v);
    m->v = NULL;
    m->cap = 0;
}

void ss_keymap_reserve(struct ss_keymap *m, uint32_t id) {
    if (id < m->cap) return;
    size_t cap = m->cap ? m->cap : 1024;
    while (cap <= id) cap += cap / 2;
    m->v = ss_realloc(m->v, cap * sizeof *m->v);
    memset(m->v + m->cap, 0, (cap - m->cap) * sizeof *m->v);
    m->cap = cap;
}
