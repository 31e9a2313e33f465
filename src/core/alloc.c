/* alloc.c — see alloc.h. A size header in front of each block lets ss_free account
 * without the caller passing the size. */
#include "alloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HDR 16 /* keeps 16-byte alignment for the caller's block */

static _Atomic int64_t live_bytes;

static _Noreturn void oom(size_t n) {
    fprintf(stderr, "level=fatal msg=\"out of memory\" requested=%zu\n", n);
    abort();
}

void *ss_malloc(size_t n) {
    unsigned char *p = malloc(n + HDR);
    if (!p) oom(n);
    memcpy(p, &n, sizeof n);
    atomic_fetch_add_explicit(&live_bytes, (int64_t)n, memory_order_relaxed);
    return p + HDR;
}

void *ss_calloc(size_t count, size_t size) {
    if (size && count > (SIZE_MAX - HDR) / size) oom(SIZE_MAX);
    size_t n = count * size;
    unsigned char *p = calloc(1, n + HDR);
    if (!p) oom(n);
    memcpy(p, &n, sizeof n);
    atomic_fetch_add_explicit(&live_bytes, (int64_t)n, memory_order_relaxed);
    return p + HDR;
}

void *ss_realloc(void *ptr, size_t n) {
    if (!ptr) return ss_malloc(n);
    unsigned char *base = (unsigned char *)ptr - HDR;
    size_t old;
    memcpy(&old, base, sizeof old);
    unsigned char *p = realloc(base, n + HDR);
    if (!p) oom(n);
    memcpy(p, &n, sizeof n);
    atomic_fetch_add_explicit(&live_bytes, (int64_t)n - (int64_t)old, memory_order_relaxed);
    return p + HDR;
}

void ss_free(void *ptr) {
    if (!ptr) return;
    unsigned char *base = (unsigned char *)ptr - HDR;
    size_t n;
    memcpy(&n, base, sizeof n);
    atomic_fetch_sub_explicit(&live_bytes, (int64_t)n, memory_order_relaxed);
    free(base);
}

char *ss_strndup(const char *s, size_t n) {
    char *d = ss_malloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *ss_strdup(const char *s) { return ss_strndup(s, strlen(s)); }

int64_t ss_alloc_live_bytes(void) { return atomic_load_explicit(&live_bytes, memory_order_relaxed); }

void ss_grow(void **p, size_t *cap, size_t need, size_t elem_size) {
    if (need <= *cap) return;
    size_t c = *cap ? *cap : 8;
    while (c < need) c += c / 2 + 8;
    *p = ss_realloc(*p, c * elem_size);
    *cap = c;
}
