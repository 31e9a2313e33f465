/* test_out.c — the epoch's output rows (core/table.c): after a burst epoch (millions of
 * session rows as a watermark jump closes them at once) the row buffers go back to what
 * the quiet epochs after it use, instead of keeping the burst's size for the rest of the
 * run; a steady epoch size never reallocates; rows written after a shrink, side tables'
 * users included, read back whole. */
#include <stdint.h>

#include "core/alloc.h"
#include "core/table.h"
#include "harness.h"

static void fill(struct ss_out *o, enum ss_table_id t, size_t n) {
    for (size_t i = 0; i < n; i++) {
        struct ss_val *v = ss_out_row(o, t);
        v[0].i = (int64_t)i;
        if (ss_tables[t].flags & SS_TBL_SIDE) ss_out_user(o, t, o->t[t].n - 1)->i = (int64_t)i;
    }
}

static bool rows_read_back(const struct ss_out *o, enum ss_table_id t, size_t n) {
    if (o->t[t].n != n) return false;
    for (size_t i = 0; i < n; i++) {
        if (ss_out_get(o, t, i)[0].i != (int64_t)i) return false;
        if ((ss_tables[t].flags & SS_TBL_SIDE) && ss_out_user(o, t, i)->i != (int64_t)i) return false;
    }
    return true;
}

TEST(burst_then_quiet_gives_memory_back) {
    struct ss_out o;
    ss_out_init(&o);
    int64_t before = ss_alloc_live_bytes();
    fill(&o, SS_T_SESSIONS, 500000); /* the burst epoch */
    fill(&o, SS_T_DLQ, 200000);
    int64_t burst = ss_alloc_live_bytes() - before;
    CHECK(burst > 100 * 1000 * 1000);
    ss_out_clear(&o); /* collected: the burst's own clear keeps its size */
    fill(&o, SS_T_SESSIONS, 3000);
    fill(&o, SS_T_DLQ, 10);
    ss_out_clear(&o); /* a quiet epoch: back to twice what it held */
    int64_t quiet = ss_alloc_live_bytes() - before;
    CHECK(quiet < burst / 50);
    CHECK_EQ_INT(o.t[SS_T_SESSIONS].cap, 6000 * (size_t)ss_tables[SS_T_SESSIONS].ncols);
    /* the next epochs grow it again as they need */
    fill(&o, SS_T_SESSIONS, 20000);
    fill(&o, SS_T_DLQ, 5000);
    CHECK(rows_read_back(&o, SS_T_SESSIONS, 20000));
    CHECK(rows_read_back(&o, SS_T_DLQ, 5000));
    ss_out_free(&o);
}

TEST(steady_epochs_keep_their_buffers) {
    struct ss_out o;
    ss_out_init(&o);
    fill(&o, SS_T_SESSIONS, 100000);
    ss_out_clear(&o);
    size_t cap = o.t[SS_T_SESSIONS].cap;
    const struct ss_val *v = o.t[SS_T_SESSIONS].v;
    for (int epoch = 0; epoch < 20; epoch++) { /* sizes within a factor of 4 below the largest */
        fill(&o, SS_T_SESSIONS, epoch % 2 ? 100000 : 40000);
        ss_out_clear(&o);
    }
    CHECK_EQ_INT(o.t[SS_T_SESSIONS].cap, cap);
    CHECK(o.t[SS_T_SESSIONS].v == v);
    /* few rows never shrink below the floor */
    fill(&o, SS_T_ALERTS, 2000);
    ss_out_clear(&o);
    ss_out_clear(&o);
    CHECK_EQ_INT(o.t[SS_T_ALERTS].cap, 1024 * (size_t)ss_tables[SS_T_ALERTS].ncols);
    ss_out_free(&o);
}

int main(void) {
    RUN(burst_then_quiet_gives_memory_back);
    RUN(steady_epochs_keep_their_buffers);
    CHECK_EQ_INT(ss_alloc_live_bytes(), 0);
    return ss_t_report("out");
}
