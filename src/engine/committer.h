/* committer.h — commits epochs to the sinks on a thread of its own, so that the engine
 * computes epoch N+1 while epoch N is formatted, written and made durable (Flink's
 * asynchronous checkpoint, for outputs).
 *
 * One epoch at most is in flight: the engine submits epoch N, goes on, and before it
 * submits N+1 (or when partitions are revoked, or at the end) waits for N. Each sink
 * commits the epochs in order, and the engine commits the inputs' positions only after
 * it collected the epoch that covers them, so "offsets after outputs" (at-least-once)
 * holds as before. A sink that answers SS_RETRY is retried with backoff until it
 * succeeds; meanwhile the engine, once it has to wait, keeps its inputs paused.
 *
 * The committer owns the rows and positions it was handed until they are collected;
 * the sinks run only on its thread between submit and collect. */
#ifndef SS_COMMITTER_H
#define SS_COMMITTER_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/err.h"
#include "../sink/sink.h"

struct ss_committer;

int ss_committer_start(struct ss_committer **out, struct ss_err *err);
/* Adds a sink (before the first submit); SS_EUSAGE beyond the maximum. */
int ss_committer_add_sink(struct ss_committer *c, struct ss_sink *sk, struct ss_err *err);

/* Hands an epoch over: *ep (copied; its rows and positions now belong to the committer
 * until collected; ep->stats is copied too). Only when nothing is in flight. */
void ss_committer_submit(struct ss_committer *c, const struct ss_epoch *ep);

/* True while an epoch is in flight and not yet finished. */
bool ss_committer_busy(struct ss_committer *c);
/* True while the epoch in flight waits for a sink that answered SS_RETRY. */
bool ss_committer_retrying(struct ss_committer *c);

/* While a sink's commit call is running: that sink's type name, and in *ms how long
 * the call has run; else NULL. A call that neither returns nor fails (a PostgreSQL
 * table locked by another session, a hung file system) shows here: the engine warns
 * about it instead of stalling without a word. */
const char *ss_committer_stalled(struct ss_committer *c, int64_t *ms);

/* Waits up to timeout_ms for the epoch in flight; true when nothing is in flight now. */
bool ss_committer_wait(struct ss_committer *c, int timeout_ms);

/* Waits for the epoch in flight and collects it: its rows and positions come back in
 * *ep (false when nothing was in flight), the result is returned (err filled on
 * failure) and *secs is how long the sinks took. */
int ss_committer_collect(struct ss_committer *c, struct ss_epoch *ep, bool *had, double *secs, struct ss_err *err);
/* After a collect that had an epoch: how long each sink's commit of it took (ms, retries
 * included), in the order the sinks were added; returns how many were filled. */
int ss_committer_sink_ms(struct ss_committer *c, int64_t *ms, int max);

/* After a collect: the newest epoch every sink has made durable. That is the epoch
 * collected, unless a sink with SS_SINK_HOLDS still holds some of its rows (see
 * ss_sink.durable_epoch). 0 before any epoch. */
uint64_t ss_committer_durable(struct ss_committer *c);

/* The run is stopping: a sink that keeps answering SS_RETRY is given up on after a
 * while instead of forever. Async-signal-safe. */
void ss_committer_stopping(struct ss_committer *c);

/* Waits for the thread (collect first) and frees it. */
void ss_committer_free(struct ss_committer *c);

#endif
