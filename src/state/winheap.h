/* winheap.h — event-time bookkeeping shared by the window operators (src/ops/tumbling.c,
 * trending.c): a min-heap of open window / pane indices, so the next one to close is
 * known in O(1) after every watermark move, and saturating arithmetic on window
 * bounds, so timestamps near the int64 limits (epoch-ms input is not range-checked)
 * never overflow: an end that does not fit becomes SS_TS_MAX, which the final
 * watermark (SS_TS_MAX) still closes. */
#ifndef SS_WINHEAP_H
#define SS_WINHEAP_H

#include <stddef.h>
#include <stdint.h>

struct ss_winheap {
    int64_t *v;
    size_t n, cap;
};

void ss_winheap_init(struct ss_winheap *h);
void ss_winheap_free(struct ss_winheap *h);
void ss_winheap_push(struct ss_winheap *h, int64_t x);
int64_t ss_winheap_pop(struct ss_winheap *h); /* the minimum; h must not be empty */
static inline int64_t ss_winheap_top(const struct ss_winheap *h) { return h->v[0]; }
static inline size_t ss_winheap_bytes(const struct ss_winheap *h) { return h->cap * sizeof *h->v; }

static inline int64_t ss_sat_add(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}
static inline int64_t ss_sat_mul(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) return ((a < 0) != (b < 0)) ? INT64_MIN : INT64_MAX;
    return r;
}

#endif
