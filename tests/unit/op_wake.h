/* op_wake.h — calls an operator's advance and checks its wake (op.h): while W is below
 * it, the engine skips advance, so such a call must emit no row and release no key. */
#ifndef SS_OP_WAKE_H
#define SS_OP_WAKE_H

#include <stdbool.h>

#include "harness.h"
#include "ops/op.h"

static inline void advance_checked(struct ss_op *op, const struct ss_clock *clk, struct ss_out *out) {
    bool skippable = clk->watermark < op->wake;
    size_t rows = ss_out_rows(out), keys = op->type->state_keys(op);
    op->type->advance(op, clk, out);
    if (skippable) {
        CHECK_EQ_INT(ss_out_rows(out), rows);
        CHECK_EQ_INT(op->type->state_keys(op), keys);
    }
}

#endif
