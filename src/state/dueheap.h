/* dueheap.h — deadlines of keyed state (a session's end + gap, a recently-viewed
 * list's last view + ttl): a min-heap of (at, slot) so that `advance` finds what is
 * due in O(1) when nothing is.
 *
 * Four children per node rather than two: the heap is read at random in memory far
 * larger than the caches, and a pop walks from the root to a leaf, so halving the
 * depth halves the cache misses of each pop; the four children of a node are 64
 * contiguous bytes. Entries of equal `at` come out in no defined order. */
#ifndef SS_DUEHEAP_H
#define SS_DUEHEAP_H

#include <stddef.h>
#include <stdint.h>

struct ss_due {
    int64_t at;
    uint32_t slot;  /* the operator's record */
    uint32_t hint;  /* what the operator wants to prefetch before the entry is due */
};

struct ss_dueheap {
    struct ss_due *v;
    size_t n, cap;
};

void ss_dueheap_push(struct ss_dueheap *h, int64_t at, uint32_t slot, uint32_t hint);
/* Removes and returns the entry with the smallest at; h must not be empty. */
struct ss_due ss_dueheap_pop(struct ss_dueheap *h);
/* Empties the heap, handing its entries over in no particular order: at the end of the
 * input everything is due at once, and a walk over the array costs a fraction of a
 * pop per entry. The array stays valid until the next push. */
static inline struct ss_due *ss_dueheap_take_all(struct ss_dueheap *h, size_t *n) {
    *n = h->n;
    h->n = 0;
    return h->v;
}
void ss_dueheap_free(struct ss_dueheap *h);
static inline size_t ss_dueheap_bytes(const struct ss_dueheap *h) { return h->cap * sizeof *h->v; }

#endif
