/* blockpool.c — see blockpool.h. */
#include "blockpool.h"

#include <string.h>

#include "../core/alloc.h"
#include "../core/err.h"

#define CHUNK_BYTES ((size_t)64 << 10)

#if defined(__SANITIZE_ADDRESS__)
#define SS_BLOCKPOOL_PLAIN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SS_BLOCKPOOL_PLAIN 1
#endif
#endif

void *ss_blockpool_get(struct ss_blockpool *p, size_t size) {
    if (!p->size) p->size = ((size < sizeof(void *) ? sizeof(void *) : size) + 15) & ~(size_t)15;
    ss_assert(size <= p->size);
#ifdef SS_BLOCKPOOL_PLAIN
    p->bytes += p->size;
    return ss_malloc(p->size);
#else
    if (p->free) {
        void *b = p->free;
        memcpy(&p->free, b, sizeof p->free);
        return b;
    }
    if (!p->left) {
        size_t n = CHUNK_BYTES / p->size;
        if (n < 16) n = 16;
        SS_GROW(p->chunks, p->cap_chunks, p->nchunks + 1);
        p->cur = p->chunks[p->nchunks++] = ss_malloc(n * p->size);
        p->left = n;
        p->bytes += n * p->size;
    }
    void *b = p->cur;
    p->cur += p->size;
    p->left--;
    return b;
#endif
}

void ss_blockpool_put(struct ss_blockpool *p, void *b) {
    if (!b) return;
#ifdef SS_BLOCKPOOL_PLAIN
    p->bytes -= p->size;
    ss_free(b);
#else
    memcpy(b, &p->free, sizeof p->free);
    p->free = b;
#endif
}

void ss_blockpool_free(struct ss_blockpool *p) {
    for (size_t i = 0; i < p->nchunks; i++) ss_free(p->chunks[i]);
    ss_free(p->chunks);
    memset(p, 0, sizeof *p);
}
