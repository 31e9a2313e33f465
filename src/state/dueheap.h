/* dueheap.h — deadlines of keyed state (a session's end + gap, a recently-viewed
 * list's last view + ttl), so that `advance` finds what is due in O(1) when nothing is.
 *
 * Most deadlines arrive in order within a few streams: they are an event's ts plus a
 * constant, and the events of one Kafka partition (or one file) come nearly in ts
 * order. Each stream fills a FIFO run (a ring, non-decreasing `at`) where push
 * and pop are O(1) and sequential in memory: a deadline goes to the run whose last
 * entry is the latest not after it (best fit), or to an empty run; only one that fits
 * none (a late event, a session re-queued as it comes up extended: those follow no
 * order) goes to a min-heap. The earliest deadline is the least of the
 * runs' heads and the heap's top. With one run, three interleaved partitions sent
 * three quarters of the deadlines to the heap, and a heap costs a root-to-leaf walk
 * through cold memory per pop. The heap has four children per node (half the depth of
 * a binary one; the four are 64 contiguous bytes). Entries of equal `at` come out in
 * no defined order. */
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

#define SS_DUE_RUNS 4

struct ss_due_run {
    struct ss_due *ring;    /* len entries from head, non-decreasing at */
    size_t head, len, cap;
};

struct ss_dueheap {
    struct ss_due *v;       /* the heap */
    size_t n, cap;
    struct ss_due_run runs[SS_DUE_RUNS];
    size_t len;             /* entries in the runs */
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
/* The k-th entry of run r (k < its len). */
static inline const struct ss_due *ss_due_run_at(const struct ss_due_run *r, size_t k) {
    size_t i = r->head + k;
    return &r->ring[i < r->cap ? i : i - r->cap];
}
/* The earliest at; INT64_MAX when h is empty. */
/* The run whose head is the earliest entry, or -1 when that is the heap's top (or h is
 * empty); *at gets the earliest at, INT64_MAX when h is empty. */
static inline int ss_dueheap_soonest(const struct ss_dueheap *h, int64_t *at) {
    int best = -1;
    *at = h->n ? h->v[0].at : INT64_MAX;
    for (int r = 0; r < SS_DUE_RUNS; r++) {
        const struct ss_due_run *run = &h->runs[r];
        if (run->len && (run->ring[run->head].at < *at || (best < 0 && run->ring[run->head].at == *at))) {
            best = r;
            *at = run->ring[run->head].at;
        }
    }
    return best;
}
static inline int64_t ss_dueheap_min(const struct ss_dueheap *h) {
    int64_t at;
    ss_dueheap_soonest(h, &at);
    return at;
}
/* Whether an entry is due before w. */
static inline bool ss_dueheap_due_before(const struct ss_dueheap *h, int64_t w) { return ss_dueheap_min(h) < w; }
/* The least w for which ss_dueheap_due_before(h, w) holds; INT64_MAX when h is empty. */
static inline int64_t ss_dueheap_wake(const struct ss_dueheap *h) {
    int64_t at = ss_dueheap_min(h);
    return at == INT64_MAX ? INT64_MAX : at + 1;
}

/* Up to max of the entries due soonest (not in order, nor exactly the soonest):
 * prefetch hints. */
static inline size_t ss_dueheap_next(const struct ss_dueheap *h, struct ss_due *out, size_t max) {
    size_t k = 0;
    if (max && h->n) out[k++] = h->v[0];
    for (size_t i = 0; k < max && i < max; i++)
        for (int r = 0; r < SS_DUE_RUNS && k < max; r++)
            if (i < h->runs[r].len) out[k++] = *ss_due_run_at(&h->runs[r], i);
    return k;
}

static inline size_t ss_dueheap_bytes(const struct ss_dueheap *h) {
    size_t n = h->cap;
    for (int r = 0; r < SS_DUE_RUNS; r++) n += h->runs[r].cap;
    return n * sizeof *h->v;
}

#endif
