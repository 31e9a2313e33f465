/* dueheap.c — see dueheap.h. */
#include "dueheap.h"

#include <string.h>

#include "../core/alloc.h"

#define ARITY 4

static void heap_push(struct ss_dueheap *h, struct ss_due e) {
    SS_GROW(h->v, h->cap, h->n + 1);
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / ARITY;
        if (h->v[p].at <= e.at) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = e;
}

static struct ss_due heap_pop(struct ss_dueheap *h) {
    struct ss_due top = h->v[0], last = h->v[--h->n];
    size_t n = h->n, i = 0;
    for (;;) {
        size_t c = ARITY * i + 1;
        if (c >= n) break;
        size_t m = c, e = c + ARITY < n ? c + ARITY : n;
        for (size_t k = c + 1; k < e; k++)
            if (h->v[k].at < h->v[m].at) m = k;
        if (h->v[m].at >= last.at) break;
        h->v[i] = h->v[m];
        i = m;
    }
    if (n) h->v[i] = last;
    return top;
}

/* Copies run r, in order, to the start of a new ring twice the size. */
static void run_grow(struct ss_due_run *r) {
    size_t cap = r->cap ? 2 * r->cap : 64;
    struct ss_due *ring = ss_malloc(cap * sizeof *ring);
    for (size_t k = 0; k < r->len; k++) ring[k] = *ss_due_run_at(r, k);
    ss_free(r->ring);
    r->ring = ring;
    r->cap = cap;
    r->head = 0;
}

void ss_dueheap_push(struct ss_dueheap *h, int64_t at, uint32_t slot, uint32_t hint) {
    struct ss_due e = {at, slot, hint};
    int best = -1, empty = -1;
    int64_t best_last = INT64_MIN;
    for (int r = 0; r < SS_DUE_RUNS; r++) {
        const struct ss_due_run *run = &h->runs[r];
        if (!run->len) {
            if (empty < 0) empty = r;
            continue;
        }
        int64_t last = ss_due_run_at(run, run->len - 1)->at;
        if (last <= at && (best < 0 || last > best_last)) {
            best = r;
            best_last = last;
        }
    }
    if (best < 0) best = empty;
    if (best < 0) {
        heap_push(h, e);
        return;
    }
    struct ss_due_run *run = &h->runs[best];
    if (run->len == run->cap) run_grow(run);
    size_t i = run->head + run->len;
    run->ring[i < run->cap ? i : i - run->cap] = e;
    run->len++;
    h->len++;
}

struct ss_due ss_dueheap_pop(struct ss_dueheap *h) {
    int64_t at;
    int best = ss_dueheap_soonest(h, &at);
    if (best < 0) return heap_pop(h);
    struct ss_due_run *run = &h->runs[best];
    struct ss_due e = run->ring[run->head];
    run->head = run->head + 1 < run->cap ? run->head + 1 : 0;
    run->len--;
    h->len--;
    return e;
}

struct ss_due *ss_dueheap_take_all(struct ss_dueheap *h, size_t *n) {
    SS_GROW(h->v, h->cap, h->n + h->len);
    size_t k = h->n;
    for (int r = 0; r < SS_DUE_RUNS; r++) {
        struct ss_due_run *run = &h->runs[r];
        for (size_t i = 0; i < run->len; i++) h->v[k++] = *ss_due_run_at(run, i);
        run->len = run->head = 0;
    }
    *n = k;
    h->n = h->len = 0;
    return h->v;
}

void ss_dueheap_free(struct ss_dueheap *h) {
    ss_free(h->v);
    for (int r = 0; r < SS_DUE_RUNS; r++) ss_free(h->runs[r].ring);
    memset(h, 0, sizeof *h);
}
