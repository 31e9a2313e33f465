/* op_fixture.h — drives one operator in a unit test: its config, a real intern table,
 * the output rows and a clock (watermark, max_ts per partition slot).
 * Use: fx_init(f); set f->cfg fields; fx_start(f, &ss_op_x); ... fx_close(f).
 *
 * Every event also goes to a twin of the operator (with an intern table of its own, as
 * an operator may keep a word in the ids' entries: ss_intern_aux), whose advance is
 * skipped while W is below its wake, as the engine does (op.h): after each advance both
 * must have emitted as many rows and hold as many keys, so a wake that comes too late
 * fails the test that meets it, and advance_checked fails one that claims too early that
 * nothing is due.
 * fx_close moves W to +inf and checks that the operator released every key and
 * every interned id, which is how the tests catch state leaks. */
#ifndef SS_OP_FIXTURE_H
#define SS_OP_FIXTURE_H

#include <stdlib.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/timefmt.h"
#include "harness.h"
#include "op_wake.h"
#include "ops/op.h"

#define FX_SLOTS 4

struct fx {
    struct ss_config cfg;
    struct ss_intern *in;
    struct ss_op *op;
    struct ss_out out;
    int64_t max_ts[FX_SLOTS];
    struct ss_clock clk;
    struct ss_op *twin;  /* advanced as the engine does: only at or past its wake */
    struct ss_intern *twin_in; /* the twin's: its events' ids are interned there afresh */
    struct ss_out twin_out;
};

static void fx_init(struct fx *f) {
    memset(f, 0, sizeof *f);
    f->in = ss_intern_new();
    f->twin_in = ss_intern_new();
    ss_out_init(&f->out);
    ss_out_init(&f->twin_out);
    for (int i = 0; i < FX_SLOTS; i++) f->max_ts[i] = SS_TS_MIN;
    f->clk.watermark = SS_TS_MIN;
    f->clk.max_ts = f->max_ts;
}

static void fx_start(struct fx *f, const struct ss_op_type *type) {
    struct ss_op_env env = {.cfg = &f->cfg, .intern = f->in};
    struct ss_err err;
    CHECK_EQ_INT(type->open(&f->op, &env, &err), SS_OK);
    struct ss_op_env twin_env = {.cfg = &f->cfg, .intern = f->twin_in};
    CHECK_EQ_INT(type->open(&f->twin, &twin_env, &err), SS_OK);
    f->op->wake = f->twin->wake = SS_TS_MIN; /* as the engine does */
}

static uint32_t fx_twin_id(struct fx *f, uint32_t id) {
    return id ? ss_intern_get(f->twin_in, ss_intern_str(f->in, id)) : 0;
}

static void fx_process(struct fx *f, const struct ss_event *ev) {
    f->op->type->process(f->op, ev, &f->clk, &f->out);
    struct ss_event tw = *ev;
    tw.user = fx_twin_id(f, ev->user);
    tw.product = fx_twin_id(f, ev->product);
    tw.cat = fx_twin_id(f, ev->cat);
    tw.promo = fx_twin_id(f, ev->promo);
    f->twin->type->process(f->twin, &tw, &f->clk, &f->twin_out);
    ss_intern_sweep(f->twin_in); /* what the twin did not hold must not survive */
}

static void fx_twin_agrees(struct fx *f) {
    CHECK_EQ_INT(ss_out_rows(&f->twin_out), ss_out_rows(&f->out));
    CHECK_EQ_INT(f->twin->type->state_keys(f->twin), f->op->type->state_keys(f->op));
}

static inline void advance(struct fx *f, int64_t w) {
    f->clk.watermark = w;
    advance_checked(f->op, &f->clk, &f->out);
    if (w >= f->twin->wake) f->twin->type->advance(f->twin, &f->clk, &f->twin_out);
    fx_twin_agrees(f);
}

static void fx_flush(struct fx *f) {
    f->op->type->flush(f->op, &f->out);
    f->twin->type->flush(f->twin, &f->twin_out);
}

/* Saves the operator, closes it, sweeps the ids it alone held, and loads the bytes into
 * a freshly opened one, which goes on in its place (its twin is left as it was, and
 * keeps checking it). The ids of the loaded state are interned afresh, so they
 * differ from the saved ones wherever the sweep freed them. */
static inline void fx_save_restore(struct fx *f) {
    struct ss_buf b = {0};
    f->op->type->save(f->op, &b);
    const struct ss_op_type *type = f->op->type;
    f->op->type->close(f->op);
    ss_intern_sweep(f->in);
    struct ss_op_env env = {.cfg = &f->cfg, .intern = f->in};
    struct ss_err err = {0};
    CHECK_EQ_INT(type->open(&f->op, &env, &err), SS_OK);
    struct ss_snap_r r = ss_snap_reader(b.p, b.len);
    int rc = type->load(f->op, &r, &err);
    if (rc) fprintf(stderr, "load: %s\n", err.msg);
    CHECK_EQ_INT(rc, SS_OK);
    CHECK(r.p == r.end); /* load read every byte save wrote */
    f->op->wake = SS_TS_MIN;
    fx_twin_agrees(f);
    /* a cut savepoint is refused, never half-loaded into a crash */
    for (size_t cut = 0; cut < b.len; cut += 1 + b.len / 64) {
        struct ss_op *o;
        CHECK_EQ_INT(type->open(&o, &env, &err), SS_OK);
        struct ss_snap_r c = ss_snap_reader(b.p, cut);
        CHECK(type->load(o, &c, &err) != SS_OK);
        o->type->close(o);
        ss_intern_sweep(f->in);
    }
    ss_free(b.p);
}

/* Every row of table t in out, each formatted with all its columns, sorted: rows as a
 * multiset, to compare two runs whose row order within an advance may differ. */
static int fx_cmp_strp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static inline char **fx_rows_sorted(struct ss_out *out, int t, size_t *n) {
    *n = out->t[t].n;
    char **v = ss_calloc(*n + 1, sizeof *v);
    for (size_t r = 0; r < *n; r++) {
        struct ss_val *c = ss_out_get(out, t, r);
        struct ss_buf b = {0};
        for (int k = 0; k < ss_tables[t].ncols; k++) {
            char num[64];
            snprintf(num, sizeof num, "|%d:%lld:", c[k].null, (long long)c[k].i);
            ss_buf_add(&b, num, strlen(num));
            if (c[k].s) ss_buf_add(&b, c[k].s, c[k].len);
        }
        ss_buf_addc(&b, '\0');
        v[r] = b.p;
    }
    qsort(v, *n, sizeof *v, fx_cmp_strp);
    return v;
}

/* a and b hold the same rows of table t, every column compared, row order aside (a
 * restored operator against its uninterrupted twin). */
static inline void fx_rows_match(struct ss_out *a, struct ss_out *b, int t) {
    size_t na, nb;
    char **ra = fx_rows_sorted(a, t, &na), **rb = fx_rows_sorted(b, t, &nb);
    CHECK_EQ_INT(na, nb);
    size_t diff = 0;
    for (size_t i = 0; i < na && i < nb; i++)
        if (strcmp(ra[i], rb[i])) {
            if (!diff) fprintf(stderr, "%s: one %s\n     the other %s\n", ss_tables[t].name, ra[i], rb[i]);
            diff++;
        }
    CHECK_EQ_INT(diff, 0);
    for (size_t i = 0; i < na; i++) ss_free(ra[i]);
    for (size_t i = 0; i < nb; i++) ss_free(rb[i]);
    ss_free(ra);
    ss_free(rb);
}

/* A hand-built savepoint's start (tests of damaged bytes): into b, emptied first, the
 * section's tag, its format version and its count of items. */
static inline void fx_snap_head(struct ss_buf *b, const char *tag, uint32_t version, int64_t nitems) {
    b->len = 0;
    ss_snap_tag(b, tag);
    ss_snap_u32(b, version);
    ss_snap_i64(b, nitems);
}

/* Loads b into a fresh operator of type under cfg, with an intern table of its own: the
 * code load returned. Loaded (and, with whole, every byte read), the operator must
 * release every key once flushed and advanced to +inf; refused, it must say why. Either
 * way it is closed, and the intern table must hold nothing afterwards. */
static inline int fx_try_load(const struct ss_op_type *type, const struct ss_config *cfg, const struct ss_buf *b,
                              bool whole) {
    struct ss_intern *in = ss_intern_new();
    struct ss_op_env env = {.cfg = cfg, .intern = in};
    struct ss_err err = {0};
    struct ss_op *o;
    CHECK_EQ_INT(type->open(&o, &env, &err), SS_OK);
    struct ss_snap_r r = ss_snap_reader(b->p, b->len);
    int rc = type->load(o, &r, &err);
    if (rc == SS_OK) {
        if (whole) CHECK(r.p == r.end);
        struct ss_out out;
        ss_out_init(&out);
        if (type->flush) type->flush(o, &out);
        struct ss_clock clk = {.watermark = SS_TS_MAX};
        type->advance(o, &clk, &out);
        CHECK_EQ_INT(type->state_keys(o), 0);
        ss_out_free(&out);
    } else {
        CHECK(err.msg[0] != '\0');
    }
    type->close(o);
    ss_intern_sweep(in);
    CHECK_EQ_INT(ss_intern_live(in), 0);
    ss_intern_free(in);
    return rc;
}

static void fx_close(struct fx *f) {
    if (f->op->type->flush) fx_flush(f);
    advance(f, SS_TS_MAX);
    CHECK_EQ_INT(f->op->type->state_keys(f->op), 0);
    ss_intern_sweep(f->in);
    CHECK_EQ_INT(ss_intern_live(f->in), 0);
    f->op->type->close(f->op);
    ss_intern_sweep(f->twin_in);
    CHECK_EQ_INT(ss_intern_live(f->twin_in), 0); /* the twin released every id too */
    f->twin->type->close(f->twin);
    ss_intern_free(f->in);
    ss_intern_free(f->twin_in);
    ss_out_free(&f->out);
    ss_out_free(&f->twin_out);
}

#endif
