/* predecode.h — decodes a batch of records on a second thread, ahead of the engine.
 *
 * Decoding (JSON/CSV to the canonical event, the dedup key and the intern hashes) needs
 * nothing from the engine's state, so it can run on another core while the engine
 * processes the records before it: the engine submits a batch, then, for each record k
 * in order, waits until k is decoded (it rarely has to: decoding is several times
 * faster than processing) and goes on. Interning, dedup and the operators stay on the
 * engine's thread, in order, as before.
 *
 * Records are claimed one at a time, by the worker in order and, when the worker has
 * not reached the record the engine needs next, by the engine itself
 * (ss_predecode_take). The worker sleeps between batches and may take a millisecond
 * to get a core back on a busy two-core machine; the engine decodes meanwhile
 * instead of waiting.
 *
 * A job may carry one more task, `after`, which the worker runs once it has claimed
 * every record (the Kafka source fetches the next batch's records there). The engine
 * settles it before it needs what the task touches: it waits if the worker is on it,
 * and cancels it if the worker has not got that far (ss_predecode_settle).
 *
 * One job at a time. The job's records, decoder, arena and output array belong to the
 * worker from submit until every record has been taken or waited for. */
#ifndef SS_PREDECODE_H
#define SS_PREDECODE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../core/err.h"

struct ss_predecode {
    /* The claim word: job << 32 | the next record to claim. The job number in it keeps
     * a claim by a worker still leaving the last job from taking a record of the next.
     * The worker writes it for every record, and what the engine reads for every
     * record (done, job) is a cache line away: sharing the line, the two threads passed
     * it back and forth at every record (a third of the worker's time with Kafka). */
    char line_before[64];
    _Atomic uint64_t claim;
    char line_after[64];
    _Atomic uint32_t *done; /* done[k] == job: record k of the job was decoded by the worker */
    _Atomic int asleep;     /* the engine sleeps until a record is done */
    _Atomic uint64_t after; /* job << 32 | AFTER_* state of the job's after task */
    uint32_t job;           /* the engine's: the current job's number (never 0) */
    int max;                /* records per job at most */
    /* the rest is the worker's (predecode.c) */
    struct ss_predecode_impl *impl;
};

/* Decodes record k of the job (fn's own context). */
typedef void (*ss_predecode_fn)(void *ctx, int k);

int ss_predecode_start(struct ss_predecode **out, int max, struct ss_err *err);
/* Starts decoding records 0..n-1 (n <= max) with fn(ctx, k), in order; then, if
 * after is not NULL, after(actx) unless ss_predecode_settle cancelled it first. */
void ss_predecode_submit(struct ss_predecode *p, ss_predecode_fn fn, void *ctx, int n, void (*after)(void *),
                         void *actx);
/* Returns once the last job's after task has run or will never run. */
void ss_predecode_settle(struct ss_predecode *p);

static inline bool ss_predecode_done(struct ss_predecode *p, int k) {
    return atomic_load_explicit(&p->done[k], memory_order_acquire) == p->job;
}
/* Called for the records in order, each not done: true when the worker has not
 * claimed record k, which is then the caller's to decode; false when the worker has
 * it (ss_predecode_wait). */
bool ss_predecode_take(struct ss_predecode *p, int k);
/* Returns once the worker has decoded record k, which it claimed. */
void ss_predecode_wait_slow(struct ss_predecode *p, int k);
static inline void ss_predecode_wait(struct ss_predecode *p, int k) {
    if (!ss_predecode_done(p, k)) ss_predecode_wait_slow(p, k);
}
void ss_predecode_free(struct ss_predecode *p);

#endif
