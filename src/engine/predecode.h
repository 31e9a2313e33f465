/* predecode.h — decodes a batch of records on a second thread, ahead of the engine.
 *
 * Decoding (JSON/CSV to the canonical event, the dedup key and the intern hashes) needs
 * nothing from the engine's state, so it can run on another core while the engine
 * processes the records before it: the engine submits a batch, then, for each record k
 * in order, waits until k is decoded (it almost never has to: decoding is several
 * times faster than processing) and goes on. Interning, dedup and the operators stay on
 * the engine's thread, in order, as before.
 *
 * One job at a time. The job's records, decoder, arena and output array belong to the
 * worker from submit until every record has been waited for. */
#ifndef SS_PREDECODE_H
#define SS_PREDECODE_H

#include <stdatomic.h>

#include "../core/err.h"

struct ss_predecode {
    _Atomic int ready;  /* records of the current job decoded so far */
    _Atomic int asleep; /* the engine sleeps until the next record is ready */
    /* the rest is the worker's (predecode.c) */
    struct ss_predecode_impl *impl;
};

/* Decodes record k of the job (fn's own context). */
typedef void (*ss_predecode_fn)(void *ctx, int k);

int ss_predecode_start(struct ss_predecode **out, struct ss_err *err);
/* Starts decoding records 0..n-1 with fn(ctx, k), in order. */
void ss_predecode_submit(struct ss_predecode *p, ss_predecode_fn fn, void *ctx, int n);
/* Returns once record k of the job is decoded. */
void ss_predecode_wait_slow(struct ss_predecode *p, int k);
static inline void ss_predecode_wait(struct ss_predecode *p, int k) {
    if (atomic_load_explicit(&p->ready, memory_order_acquire) <= k) ss_predecode_wait_slow(p, k);
}
void ss_predecode_free(struct ss_predecode *p);

#endif
