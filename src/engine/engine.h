/* engine.h — the pipeline runtime: sources -> decode -> validate -> late? -> dedup ->
 * operators -> epochs -> sinks (DESIGN §2, docs/SEMANTICS.md §3-§4).
 *
 * One engine runs on one thread. It owns the operators, the watermark per input
 * partition, the output buffer and the sinks; it alone retries sinks and pauses
 * sources (sinks answer OK / RETRY / ERROR). */
#ifndef SS_ENGINE_H
#define SS_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "../core/config.h"
#include "../core/err.h"
#include "../sink/sink.h"
#include "../source/source.h"

struct ss_engine;

/* cfg must outlive the engine. Opens the operators; inputs and sinks come next. */
int ss_engine_open(struct ss_engine **out, const struct ss_config *cfg, struct ss_err *err);
/* "STREAM=PATH" (or kafka://...). Inputs are read in the order added. */
int ss_engine_add_input(struct ss_engine *e, const char *arg, struct ss_err *err);
/* Adds an already-open source (the demo's generator, tests). The engine closes it. */
int ss_engine_add_source(struct ss_engine *e, struct ss_source *src, const struct ss_input_spec *spec,
                         struct ss_err *err);
/* What the configuration refuses of an input of this type, before it is opened
 * (savepoint.path with an input that cannot resume at a position): SS_EUSAGE naming it. */
int ss_engine_check_input(const struct ss_config *cfg, const struct ss_source_type *type, const char *url,
                          struct ss_err *err);
int ss_engine_add_sink(struct ss_engine *e, const char *url, struct ss_err *err);
/* Runs until every input is finished (then W = +inf, everything is emitted and
 * committed) or ss_engine_stop is called (then the current epoch is committed). */
int ss_engine_run(struct ss_engine *e, struct ss_err *err);
/* Async-signal-safe: asks run to finish the current epoch and return. */
void ss_engine_stop(struct ss_engine *e);
/* Whether ss_engine_stop was called: the run ended with windows and sessions still open. */
bool ss_engine_stopped(const struct ss_engine *e);
const struct ss_run_stats *ss_engine_stats(const struct ss_engine *e);
int64_t ss_engine_watermark(const struct ss_engine *e);
/* Live state for metrics and the benchmark. */
size_t ss_engine_state_bytes(const struct ss_engine *e);
size_t ss_engine_intern_live(const struct ss_engine *e);
/* Per-operator state (name, bytes held, live keys) for metrics and the benchmark;
 * returns false past the last operator. Index -1 is dedup. */
bool ss_engine_op_state(const struct ss_engine *e, int i, const char **name, size_t *bytes, size_t *keys);
/* Called after every committed epoch (metrics sampling, the benchmark). */
void ss_engine_set_epoch_hook(struct ss_engine *e, void (*fn)(void *ctx, struct ss_engine *e), void *ctx);
void ss_engine_close(struct ss_engine *e);

#endif
