/* dueheap.c — see dueheap.h. */
#include "dueheap.h"

#include <string.h>

#include "../core/alloc.h"

#define ARITY 4

void ss_dueheap_push(struct ss_dueheap *h, int64_t at, uint32_t slot, uint32_t hint) {
    SS_GROW(h->v, h->cap, h->n + 1);
    size_t i = h->n++;
    /* fresh deadlines are mostly the latest ones: this loop rarely runs */
    while (i > 0) {
        size_t p = (i - 1) / ARITY;
        if (h->v[p].at <= at) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = (struct ss_due){at, slot, hint};
}

struct ss_due ss_dueheap_pop(struct ss_dueheap *h) {
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

void ss_dueheap_free(struct ss_dueheap *h) {
    ss_free(h->v);
    memset(h, 0, sizeof *h);
}
