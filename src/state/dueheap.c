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

/* Copies the run, in order, to the start of a new ring twice the size. */
static void run_grow(struct ss_dueheap *h) {
    size_t cap = h->cap_run ? 2 * h->cap_run : 64;
    struct ss_due *r = ss_malloc(cap * sizeof *r);
    for (size_t k = 0; k < h->len; k++) r[k] = *ss_dueheap_run_at(h, k);
    ss_free(h->run);
    h->run = r;
    h->cap_run = cap;
    h->head = 0;
}

void ss_dueheap_push(struct ss_dueheap *h, int64_t at, uint32_t slot, uint32_t hint) {
    struct ss_due e = {at, slot, hint};
    if (h->len && at < ss_dueheap_run_at(h, h->len - 1)->at) {
        heap_push(h, e);
        return;
    }
    if (h->len == h->cap_run) run_grow(h);
    *ss_dueheap_run_at(h, h->len) = e;
    h->len++;
}

struct ss_due ss_dueheap_pop(struct ss_dueheap *h) {
    if (h->len && (!h->n || h->run[h->head].at <= h->v[0].at)) {
        struct ss_due e = h->run[h->head];
        h->head = h->head + 1 < h->cap_run ? h->head + 1 : 0;
        h->len--;
        return e;
    }
    return heap_pop(h);
}

struct ss_due *ss_dueheap_take_all(struct ss_dueheap *h, size_t *n) {
    SS_GROW(h->v, h->cap, h->n + h->len);
    for (size_t k = 0; k < h->len; k++) h->v[h->n + k] = *ss_dueheap_run_at(h, k);
    *n = h->n + h->len;
    h->n = h->len = h->head = 0;
    return h->v;
}

void ss_dueheap_free(struct ss_dueheap *h) {
    ss_free(h->v);
    ss_free(h->run);
    memset(h, 0, sizeof *h);
}
