/* tumbling.h — the tumbling-window core shared by category_revenue, hourly_sales and
 * funnel (DESIGN §4, SEMANTICS §5): epoch-aligned windows [start, start + size),
 * optionally keyed by category, holding sums, counts and exact distinct-user counts.
 *
 * Each of those operators is this core plus a spec: which key, which distinct counts
 * to keep, and how one aggregate becomes a row of its table. The spec's operator type
 * uses the ss_tumble_* functions below directly as its process / advance / ... entries.
 *
 * State: per open window, a map key -> aggregate and the distinct users (a set of
 * (aggregate, kind, user) when keyed, a byte per user id when not); windows are found through a map by start
 * (with a one-entry cache: consecutive events nearly always share a window) and
 * closed in start order through a min-heap, so `advance` costs O(1) when nothing is
 * due. Window state is recycled, so steady state allocates nothing per event. */
#ifndef SS_TUMBLING_H
#define SS_TUMBLING_H

#include <stdbool.h>
#include <stdint.h>

#include "op.h"

/* Kinds of distinct-user counts (index into ss_tumble_agg.distinct). */
enum { SS_TUMBLE_VIEWERS, SS_TUMBLE_CARTERS, SS_TUMBLE_BUYERS, SS_TUMBLE_NKINDS };

/* One (window, key) aggregate over clicks and orders events. */
struct ss_tumble_agg {
    uint32_t key;                          /* interned category (held), or 0 when unkeyed */
    uint32_t distinct[SS_TUMBLE_NKINDS];   /* distinct users, for the kinds in distinct_mask */
    int64_t revenue;                       /* Σ price×quantity of purchases, ten-thousandths */
    int64_t orders, units, views, cart_adds;
};

struct ss_tumble_spec {
    const char *cfg_key;       /* "windows.category_revenue": named in configuration errors */
    bool keyed;                /* key = category; otherwise one aggregate per window */
    unsigned distinct_mask;    /* 1u << SS_TUMBLE_* for each distinct count kept */
    /* Appends the row of aggregate a of window [start, end) to out. Strings of interned
     * ids are valid during the call. */
    void (*row)(struct ss_out *out, const struct ss_intern *intern, int64_t start, int64_t end,
                const struct ss_tumble_agg *a, bool final);
};

/* Opens a tumbling operator of `type` with window size size_ms; SS_EUSAGE naming
 * spec->cfg_key when size_ms <= 0. */
int ss_tumble_open(struct ss_op **out, const struct ss_op_type *type, const struct ss_tumble_spec *spec,
                   int64_t size_ms, const struct ss_op_env *env, struct ss_err *err);
void ss_tumble_process(struct ss_op *op, const struct ss_event *ev, const struct ss_clock *clk,
                       struct ss_out *out);
/* The prefetch hook (op.h) of unkeyed specs: the user's distinct-flags byte. */
void ss_tumble_prefetch(struct ss_op *op, const struct ss_event *ev, int stage);
void ss_tumble_advance(struct ss_op *op, const struct ss_clock *clk, struct ss_out *out);
void ss_tumble_provisional(struct ss_op *op, struct ss_out *out);
size_t ss_tumble_state_bytes(const struct ss_op *op);
size_t ss_tumble_state_keys(const struct ss_op *op);
void ss_tumble_close(struct ss_op *op);
/* Savepoints (op.h): every open window with its aggregates and distinct-user sets, ids
 * as strings, tagged with the operator's name. Closed windows are gone from the state:
 * that they are not emitted again rests on the engine's watermark, restored with it. A
 * savepoint of another window size is refused naming the setting. */
void ss_tumble_save(const struct ss_op *op, struct ss_buf *b);
int ss_tumble_load(struct ss_op *op, struct ss_snap_r *r, struct ss_err *err);

/* The hooks every tumbling operator shares, for its ss_op_type initializer after
 * .name and .open (unkeyed specs add .prefetch = ss_tumble_prefetch,
 * .prefetch_stages = 1u << 0). */
#define SS_TUMBLE_HOOKS                                                                      \
    .process = ss_tumble_process, .advance = ss_tumble_advance,                              \
    .provisional = ss_tumble_provisional, .state_bytes = ss_tumble_state_bytes,              \
    .state_keys = ss_tumble_state_keys, .close = ss_tumble_close, .save = ss_tumble_save,     \
    .load = ss_tumble_load

#endif
