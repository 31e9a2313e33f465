/* alloc.h — every allocation goes through these wrappers (shared/STYLE.md §4):
 * they account live bytes (reported in metrics and the benchmark's state sizes)
 * and abort with a clear message on exhaustion, so callers never check for NULL.
 * Memory from ss_malloc must be released with ss_free (which needs no size). */
#ifndef SS_ALLOC_H
#define SS_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* never NULL (they abort instead): said to the compiler, and to gcc -fanalyzer (make analyze) */
#define SS_NONNULL_RESULT __attribute__((returns_nonnull))
void *ss_malloc(size_t n) SS_NONNULL_RESULT __attribute__((malloc));
void *ss_calloc(size_t count, size_t size) SS_NONNULL_RESULT __attribute__((malloc));
void *ss_realloc(void *p, size_t n) SS_NONNULL_RESULT;
void ss_free(void *p);
char *ss_strndup(const char *s, size_t n) SS_NONNULL_RESULT __attribute__((malloc));
char *ss_strdup(const char *s) SS_NONNULL_RESULT __attribute__((malloc));

/* Live bytes allocated through the wrappers (all threads). */
int64_t ss_alloc_live_bytes(void);

/* Grows *p (an array of elem_size items with capacity *cap) to hold at least need items. */
void ss_grow(void **p, size_t *cap, size_t need, size_t elem_size);
/* The capacity test is inline: most calls sit on per-event paths and find room.
 * cap and need are evaluated twice, so they must be plain lvalues and sums. */
#define SS_GROW(arr, cap, need)                                                                   \
    do {                                                                                          \
        if ((size_t)(need) > (size_t)(cap)) ss_grow((void **)&(arr), &(cap), (need), sizeof *(arr)); \
    } while (0)

#endif
