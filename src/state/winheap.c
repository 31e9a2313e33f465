/* winheap.c — see winheap.h. */
#include "winheap.h"

#include "../core/alloc.h"

void ss_winheap_init(struct ss_winheap *h) {
    h->v = NULL;
    h->n = h->cap = 0;
}

void ss_winheap_free(struct ss_winheap *h) {
    ss_free(h->v);
    ss_winheap_init(h);
}

void ss_winheap_push(struct ss_winheap *h, int64_t x) {
    SS_GROW(h->v, h->cap, h->n + 1);
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h->v[p] <= x) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = x;
}

int64_t ss_winheap_pop(struct ss_winheap *h) {
    int64_t top = h->v[0];
    int64_t x = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && h->v[c + 1] < h->v[c]) c++;
        if (x <= h->v[c]) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = x;
    return top;
}
