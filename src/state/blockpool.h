/* blockpool.h — fixed-size blocks for small per-key state that is created, resized
 * and dropped all the time (a user's recently-viewed list grows 4 -> 8 -> 16 -> 20
 * items and is dropped when the user goes quiet). A free list per block size turns
 * each of those changes into a pointer swap instead of a malloc, realloc or free,
 * which cost more than the operator's own work.
 *
 * Blocks are carved from chunks that are only given back by ss_blockpool_free, so
 * the memory held is the peak number of live blocks. Under AddressSanitizer every
 * block is its own allocation, so a use after put is still caught. */
#ifndef SS_BLOCKPOOL_H
#define SS_BLOCKPOOL_H

#include <stddef.h>

struct ss_blockpool {
    size_t size;            /* block bytes; 0 until the first get */
    void *free;             /* blocks put back, linked through their first word */
    char *cur;              /* the chunk being carved, `left` blocks remaining */
    size_t left;
    void **chunks;
    size_t nchunks, cap_chunks;
    size_t bytes;           /* bytes held from the allocator */
};

/* A block of `size` bytes (aligned for any object up to 16 bytes). The first get
 * fixes the pool's block size; later calls must pass the same size. */
void *ss_blockpool_get(struct ss_blockpool *p, size_t size);
/* Gives b (from this pool) back for reuse. */
void ss_blockpool_put(struct ss_blockpool *p, void *b);
/* Frees the pool's memory; the pool is empty and reusable afterwards. Every block
 * must have been put back first (under AddressSanitizer a block still out leaks,
 * and LeakSanitizer names its owner). */
void ss_blockpool_free(struct ss_blockpool *p);

#endif
