/* bench_parquet.c — throughput of the Parquet writer (src/sink/parquet/writer.c) on
 * the lake's widest table, events, with each codec; target >= 2M rows/s with zstd.
 * The peer, measured in the same run when python3 has pyarrow: pyarrow's C++ writer
 * (pq.write_table, zstd, dictionary on) over a table of the same shape and
 * cardinalities, timing the write only.
 *
 *   build/bench/bench_parquet [ROWS] [DIR]      (defaults 2000000, /tmp)
 *
 * Rows: unique event ids, 100K users, 10K products, 20 categories, a session id
 * (null for 1 in 5), a price and order id on 1 purchase in 20. Figures, not pass/fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/table.h"
#include "sink/parquet/writer.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const types[] = {"view", "view", "view", "cart_add", "cart_remove"};

static void fill(struct ss_out *o, size_t n) {
    uint64_t r = 88172645463325252ULL;
    for (size_t i = 0; i < n; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        struct ss_val *v = ss_out_row(o, SS_T_EVENTS);
        char b[48];
        int l = snprintf(b, sizeof b, "evt-%012zu", i);
        ss_out_str(o, &v[SS_EV_EVENT_ID], (struct ss_str){b, (uint32_t)l});
        v[SS_EV_TS].i = 1795773600000LL + (int64_t)(i / 4);
        int purchase = i % 20 == 0;
        ss_out_str(o, &v[SS_EV_EVENT_TYPE], ss_str_c(purchase ? "purchase" : types[r % 5]));
        unsigned user = (unsigned)(r >> 8) % 100000;
        l = snprintf(b, sizeof b, "user-%u", user);
        ss_out_str(o, &v[SS_EV_USER_ID], (struct ss_str){b, (uint32_t)l});
        if (i % 5 == 0) {
            v[SS_EV_SESSION_ID].null = 1;
        } else {
            l = snprintf(b, sizeof b, "sess-%u", user * 3 + (unsigned)(i % 3));
            ss_out_str(o, &v[SS_EV_SESSION_ID], (struct ss_str){b, (uint32_t)l});
        }
        l = snprintf(b, sizeof b, "prod-%u", (unsigned)(r >> 24) % 10000);
        ss_out_str(o, &v[SS_EV_PRODUCT_ID], (struct ss_str){b, (uint32_t)l});
        l = snprintf(b, sizeof b, "category-%u", (unsigned)(r >> 40) % 20);
        ss_out_str(o, &v[SS_EV_CATEGORY], (struct ss_str){b, (uint32_t)l});
        if (purchase) {
            v[SS_EV_PRICE].i = (int64_t)((r >> 20) % 1000000) * 100;
            l = snprintf(b, sizeof b, "order-%zu", i);
            ss_out_str(o, &v[SS_EV_ORDER_ID], (struct ss_str){b, (uint32_t)l});
        } else {
            v[SS_EV_PRICE].null = 1;
            v[SS_EV_ORDER_ID].null = 1;
        }
        v[SS_EV_QUANTITY].i = 1 + (int64_t)(r % 3);
    }
}

static long long file_size(const char *p) {
    FILE *f = fopen(p, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long long n = ftell(f);
    fclose(f);
    return n;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 2000000;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    struct ss_out o;
    ss_out_init(&o);
    fill(&o, n);
    static const struct {
        enum ss_pq_codec codec;
        const char *name;
    } codecs[] = {{SS_PQ_ZSTD, "zstd"}, {SS_PQ_SNAPPY, "snappy"}, {SS_PQ_UNCOMPRESSED, "none"}};
    char path[1024];
    for (size_t k = 0; k < sizeof codecs / sizeof codecs[0]; k++) {
        snprintf(path, sizeof path, "%s/bench_parquet_%d_%s.parquet", dir, (int)getpid(), codecs[k].name);
        struct ss_pq_opts op;
        ss_pq_opts_default(&op);
        op.codec = codecs[k].codec;
        struct ss_err err = {0};
        struct ss_pq_writer *w;
        double t0 = now_s();
        int rc = ss_pq_open(&w, path, &ss_tables[SS_T_EVENTS], &op, &err);
        if (!rc) rc = ss_pq_write(w, o.t[SS_T_EVENTS].v, NULL, n, &err);
        if (!rc) rc = ss_pq_close(w, &err);
        else ss_pq_abort(w);
        double dt = now_s() - t0;
        if (rc) {
            fprintf(stderr, "bench_parquet: %s\n", err.msg);
            return 1;
        }
        printf("shopstream  %-7s %9zu rows  %6.3f s  %10.0f rows/s  %6.1f MB\n", codecs[k].name, n, dt, (double)n / dt,
               (double)file_size(path) / 1e6);
        unlink(path);
    }
    ss_out_free(&o);

    /* the peer: pyarrow's writer over the same shape of data */
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "python3 - <<'EOF' 2>/dev/null || echo 'peer: pyarrow not available'\n"
             "import time, os, pyarrow as pa, pyarrow.parquet as pq, pyarrow.compute as pc\n"
             "n = %zu\n"
             "i = pa.array(range(n), pa.int64())\n"
             "h = pc.bit_wise_and(pc.multiply(i, 2654435761), 0x7fffffff)\n"
             "s = lambda p, a: pc.binary_join_element_wise(p, pc.cast(a, pa.string()), '')\n"
             "pur = pc.equal(pc.remainder(i, 20), 0)\n"
             "usr = pc.remainder(h, 100000)\n"
             "t = pa.table({'event_id': s('evt-', i),\n"
             "  'ts': pc.cast(pc.add(1795773600000, pc.divide(i, 4)), pa.timestamp('ms', tz='UTC')),\n"
             "  'event_type': pc.if_else(pur, 'purchase', 'view'),\n"
             "  'user_id': s('user-', usr),\n"
             "  'session_id': pc.if_else(pc.equal(pc.remainder(i, 5), 0), pa.scalar(None, pa.string()), s('sess-', usr)),\n"
             "  'product_id': s('prod-', pc.remainder(h, 10000)),\n"
             "  'category': s('category-', pc.remainder(h, 20)),\n"
             "  'price': pc.if_else(pur, pc.cast(pc.cast(pc.remainder(h, 1000000), pa.decimal128(21, 2)), pa.decimal128(18, 2)), pa.scalar(None, pa.decimal128(18, 2))),\n"
             "  'quantity': pc.add(pc.remainder(h, 3), 1),\n"
             "  'order_id': pc.if_else(pur, s('order-', i), pa.scalar(None, pa.string()))})\n"
             "p = '%s/bench_parquet_peer_%d.parquet'\n"
             "t0 = time.monotonic(); pq.write_table(t, p, compression='zstd'); dt = time.monotonic() - t0\n"
             "print('peer: pyarrow zstd %%9d rows  %%6.3f s  %%10.0f rows/s  %%6.1f MB' %% (n, dt, n / dt, os.path.getsize(p) / 1e6))\n"
             "os.unlink(p)\n"
             "EOF",
             n, dir, (int)getpid());
    fflush(stdout);
    return system(cmd) == 0 ? 0 : 1;
}
