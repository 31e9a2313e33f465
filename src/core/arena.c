/* arena.c — see arena.h. */
#include "arena.h"

#include <string.h>

#include "alloc.h"

struct ss_arena_block {
    struct ss_arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void ss_arena_init(struct ss_arena *a, size_t block_size) {
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
}

void *ss_arena_alloc(struct ss_arena *a, size_t n) {
    n = (n + 7) & ~(size_t)7;
    struct ss_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > a->block_size ? n : a->block_size;
        b = ss_malloc(sizeof *b + cap);
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *ss_arena_strndup(struct ss_arena *a, const char *s, size_t n) {
    char *d = ss_arena_alloc(a, n + 1);
    if (n) memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void ss_arena_reset(struct ss_arena *a) {
    struct ss_arena_block *b = a->head;
    if (!b) return;
    /* keep the oldest block (normally block_size) for reuse */
    struct ss_arena_block *keep = b;
    while (keep->next) keep = keep->next;
    while (b != keep) {
        struct ss_arena_block *n = b->next;
        ss_free(b);
        b = n;
    }
    keep->used = 0;
    a->head = keep;
}

void ss_arena_free(struct ss_arena *a) {
    struct ss_arena_block *b = a->head;
    while (b) {
        struct ss_arena_block *n = b->next;
        ss_free(b);
        b = n;
    }
    a->head = NULL;
}

size_t ss_arena_bytes(const struct ss_arena *a) {
    size_t t = 0;
    for (const struct ss_arena_block *b = a->head; b; b = b->next) t += b->cap;
    return t;
}
