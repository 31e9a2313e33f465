/* arena.h — bump allocator for per-batch memory (decoded strings that needed
 * unescaping, output row strings). Everything allocated from an arena lives until
 * ss_arena_reset or ss_arena_free; nothing is freed individually. */
#ifndef SS_ARENA_H
#define SS_ARENA_H

#include <stddef.h>

struct ss_arena_block;

struct ss_arena {
    struct ss_arena_block *head; /* block being filled; older blocks follow */
    size_t block_size;
};

void ss_arena_init(struct ss_arena *a, size_t block_size);
void *ss_arena_alloc(struct ss_arena *a, size_t n); /* 8-byte aligned, never NULL */
char *ss_arena_strndup(struct ss_arena *a, const char *s, size_t n);
/* Keeps the first block for reuse, frees the rest. */
void ss_arena_reset(struct ss_arena *a);
void ss_arena_free(struct ss_arena *a);
size_t ss_arena_bytes(const struct ss_arena *a);

#endif
