/* op.h — the operator interface. An operator keeps keyed state, reads canonical
 * events and writes rows; it never does I/O (DESIGN §2).
 *
 * The engine calls, for every valid, on-time, non-duplicate event, `process` of each
 * operator in registration order; after each event that moved the watermark, and at
 * the end with W = SS_TS_MAX, `advance`, which emits every row that became final and
 * evicts what can no longer change. `provisional` (optional) emits the current state
 * of open windows with final = false, for sinks that update in place; the engine
 * calls it at epoch boundaries only when out->provisional is set.
 *
 * Determinism: rows depend on the events and their order only, never on the wall
 * clock, so a replay writes the same rows (DESIGN §6). */
#ifndef SS_OP_H
#define SS_OP_H

#include <stddef.h>
#include <stdint.h>

#include "../core/config.h"
#include "../core/err.h"
#include "../core/event.h"
#include "../core/intern.h"
#include "../core/snap.h"
#include "../core/table.h"

/* What the engine knows about event time, lent read-only to operators. */
struct ss_clock {
    int64_t watermark;       /* W as it was before the current event */
    const int64_t *max_ts;   /* largest valid ts seen per partition slot (ev->slot) */
};

struct ss_op_env {
    const struct ss_config *cfg;
    struct ss_intern *intern;
};

struct ss_op;

struct ss_op_type {
    const char *name;
    int (*open)(struct ss_op **out, const struct ss_op_env *env, struct ss_err *err);
    void (*process)(struct ss_op *op, const struct ss_event *ev, const struct ss_clock *clk,
                    struct ss_out *out);
    void (*advance)(struct ss_op *op, const struct ss_clock *clk, struct ss_out *out);
    void (*provisional)(struct ss_op *op, struct ss_out *out); /* may be NULL */
    /* At every epoch boundary (and once more at the end, before the last advance):
     * emit state-change rows (recently_viewed). May be NULL. */
    void (*flush)(struct ss_op *op, struct ss_out *out);
    size_t (*state_bytes)(const struct ss_op *op);             /* memory held, for metrics */
    size_t (*state_keys)(const struct ss_op *op);              /* live keys (sessions, ids...) */
    void (*close)(struct ss_op *op);
    /* Optional, a timing hint only: the engine calls it for an event a few events
     * before `process` (ids filled; the event may yet turn out late or a duplicate),
     * with stage 0, then 1, then 2, each closer to `process`, so that the operator can
     * prefetch the event's state in dependent steps (index, record, what the record
     * points to). It must change no state. May be NULL. */
    void (*prefetch)(struct ss_op *op, const struct ss_event *ev, int stage);
    /* With prefetch: bit s set for each stage s at which it does anything; the engine
     * calls it at those stages only (three calls per operator and event otherwise). */
    unsigned prefetch_stages;
    /* Savepoints (engine/savepoint.c, README "Savepoints"): `save` writes everything
     * process, advance and flush will read, ids as their strings (snap.h); `load` fills a
     * freshly opened operator of the same configuration from those bytes, holding the ids
     * it keeps, and returns SS_OK or an error saying what is wrong with them (r->bad: cut
     * short). Afterwards the operator emits the rows the saved one would have emitted for
     * the same following events and watermarks (the same rows, not necessarily in the
     * same order within one advance). The engine sets wake to SS_TS_MIN after a load. */
    void (*save)(const struct ss_op *op, struct ss_buf *b);
    int (*load)(struct ss_op *op, struct ss_snap_r *r, struct ss_err *err);
};

/* Every operator's private struct starts with this.
 *
 * wake: advance has nothing to do while W < wake, so the engine skips the call (the
 * watermark moves with nearly every event, and most moves close nothing). An operator
 * keeps it a lower bound of the first W at which its advance would emit or evict:
 * advance sets it from what stays pending, and process lowers it (ss_op_wake_by) for
 * what it adds. The engine sets SS_TS_MIN after open (advance on every move) and calls
 * advance with SS_TS_MAX regardless. */
struct ss_op {
    const struct ss_op_type *type;
    int64_t wake;
    /* The engine's lower bound of every operator's wake, lowered along with this one's,
     * so that a watermark move that wakes no operator costs one compare (NULL outside
     * an engine). */
    int64_t *soonest;
};

static inline void ss_op_wake_by(struct ss_op *op, int64_t w) {
    if (w < op->wake) {
        op->wake = w;
        if (op->soonest && w < *op->soonest) *op->soonest = w;
    }
}

/* The registered operators, in processing order (ops.c). */
extern const struct ss_op_type *const ss_op_types[];
extern const int ss_op_ntypes;

extern const struct ss_op_type ss_op_category_revenue;
extern const struct ss_op_type ss_op_hourly_sales;
extern const struct ss_op_type ss_op_trending;
extern const struct ss_op_type ss_op_funnel;
extern const struct ss_op_type ss_op_sessions;
extern const struct ss_op_type ss_op_promo_join;
extern const struct ss_op_type ss_op_alerts;
extern const struct ss_op_type ss_op_recent;

#endif
