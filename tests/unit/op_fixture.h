/* op_fixture.h — drives one operator in a unit test: its config, a real intern table,
 * the output rows and a clock (watermark, max_ts per partition slot).
 * Use: fx_init(f); set f->cfg fields; fx_start(f, &ss_op_x); ... fx_close(f).
 * fx_close moves W to +inf and checks that the operator released every key and
 * every interned id, which is how the tests catch state leaks. */
#ifndef SS_OP_FIXTURE_H
#define SS_OP_FIXTURE_H

#include "core/timefmt.h"
#include "harness.h"
#include "ops/op.h"

#define FX_SLOTS 4

struct fx {
    struct ss_config cfg;
    struct ss_intern *in;
    struct ss_op *op;
    struct ss_out out;
    int64_t max_ts[FX_SLOTS];
    struct ss_clock clk;
};

static void fx_init(struct fx *f) {
    memset(f, 0, sizeof *f);
    f->in = ss_intern_new();
    ss_out_init(&f->out);
    for (int i = 0; i < FX_SLOTS; i++) f->max_ts[i] = SS_TS_MIN;
    f->clk.watermark = SS_TS_MIN;
    f->clk.max_ts = f->max_ts;
}

static void fx_start(struct fx *f, const struct ss_op_type *type) {
    struct ss_op_env env = {.cfg = &f->cfg, .intern = f->in};
    struct ss_err err;
    CHECK_EQ_INT(type->open(&f->op, &env, &err), SS_OK);
}

static inline void advance(struct fx *f, int64_t w) {
    f->clk.watermark = w;
    f->op->type->advance(f->op, &f->clk, &f->out);
}

static void fx_close(struct fx *f) {
    if (f->op->type->flush) f->op->type->flush(f->op, &f->out);
    advance(f, SS_TS_MAX);
    CHECK_EQ_INT(f->op->type->state_keys(f->op), 0);
    ss_intern_sweep(f->in);
    CHECK_EQ_INT(ss_intern_live(f->in), 0);
    f->op->type->close(f->op);
    ss_intern_free(f->in);
    ss_out_free(&f->out);
}

#endif
