/* dueheap.h — deadlines of keyed state (a session's end + gap, a recently-viewed
 * list's last view + ttl), so that `advance` finds what is due in O(1) when nothing is.
 *
 * Most deadlines arrive in order: they are an event's ts plus a constant, and events
 * come nearly in ts order. Those go to a FIFO run (a ring, non-decreasing `at`), where
 * push and pop are O(1) and sequential in memory; only a deadline earlier than the
 * run's last one (a late event, a session re-queued when it comes up extended) goes to
 * a min-heap. The earliest deadline is the smaller of the run's head and the heap's top.
 * A heap alone cost a root-to-leaf walk through cold memory per pop. The heap has four
 * children per node (half the depth of a binary one; the four are 64 contiguous bytes).
 * Entries of equal `at` come out in no defined order. */
#ifndef SS_DUEHEAP_H
#define SS_DUEHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ss_due {
    int64_t at;
    uint32_t slot;  /* the operator's record */
    uint32_t hint;  /* what the operator wants to prefetch before the entry is due */
};

struct ss_dueheap {
    struct ss_due *v;       /* the heap */
    size_t n, cap;
    struct ss_due *run;     /* the in-order run: a ring of len entries from head */
    size_t head, len, cap_run;
};

void ss_dueheap_push(struct ss_dueheap *h, int64_t at, uint32_t slot, uint32_t hint);
/* Removes and returns the entry with the smallest at; h must not be empty. */
struct ss_due ss_dueheap_pop(struct ss_dueheap *h);
/* Empties h, handing its entries over in no particular order: at the end of the input
 * everything is due at once, and a walk over an array beats a pop per entry. The array
 * stays valid until the next push. */
struct ss_due *ss_dueheap_take_all(struct ss_dueheap *h, size_t *n);
void ss_dueheap_free(struct ss_dueheap *h);

static inline size_t ss_dueheap_size(const struct ss_dueheap *h) { return h->n + h->len; }
/* Whether an entry is due before w. */
static inline bool ss_dueheap_due_before(const struct ss_dueheap *h, int64_t w) {
    return (h->len && h->run[h->head].at < w) || (h->n && h->v[0].at < w);
}
/* The least w for which ss_dueheap_due_before(h, w) holds; INT64_MAX when h is empty. */
static inline int64_t ss_dueheap_wake(const struct ss_dueheap *h) {
    int64_t at = INT64_MAX;
    if (h->len && h->run[h->head].at < at) at = h->run[h->head].at;
    if (h->n && h->v[0].at < at) at = h->v[0].at;
    return at == INT64_MAX ? INT64_MAX : at + 1;
}
/* The k-th entry of the run (k < len). */
static inline struct ss_due *ss_dueheap_run_at(const struct ss_dueheap *h, size_t k) {
    size_t i = h->head + k;
    return &h->run[i < h->cap_run ? i : i - h->cap_run];
}

/* Up to max of the entries due soonest (not in order): prefetch hints. */
static inline size_t ss_dueheap_next(const struct ss_dueheap *h, struct ss_due *out, size_t max) {
    size_t k = 0;
    if (max && h->n) out[k++] = h->v[0];
    for (size_t i = 0; k < max && i < h->len; i++) out[k++] = *ss_dueheap_run_at(h, i);
    return k;
}

static inline size_t ss_dueheap_bytes(const struct ss_dueheap *h) {
    return (h->cap + h->cap_run) * sizeof *h->v;
}

#endif
