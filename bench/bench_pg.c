/* bench_pg.c — throughput of the PostgreSQL sink (COPY into staging + INSERT ... ON
 * CONFLICT DO UPDATE, one transaction per epoch) against a peer measured in the same
 * run on the same server: a plain COPY FROM STDIN (what psql \copy sends) of the same
 * rows into an unindexed table, one transaction per epoch. Target: >= 200K rows/s
 * upserted.
 *
 *   build/bench/bench_pg [URL] [ROWS] [EPOCH_ROWS]
 * URL defaults to $SHOPSTREAM_PG_URL; without either, a private server is started
 * with scripts/pg-test-server (run from the repository root) and removed afterwards.
 * The bench works in its own database, shopstream_bench, dropped and recreated.
 *
 * Phases (each ROWS rows of category_revenue, EPOCH_ROWS rows per epoch):
 *   insert  new keys, provisional rows       (INSERT path of the upsert)
 *   update  the same keys, final rows        (ON CONFLICT DO UPDATE path)
 *   peer    COPY of the same rows into an unindexed table */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/money.h"
#include "core/table.h"
#include "core/timefmt.h"
#include "sink/sql_sinks.h"

#define T0 1795775400000LL
#define MIN 60000LL

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Rows [from, to): 1000 categories per minute window, as an engine emits them. */
static void fill(struct ss_out *o, long from, long to, int fin) {
    ss_out_clear(o);
    for (long i = from; i < to; i++) {
        char cat[32];
        snprintf(cat, sizeof cat, "category-%04ld", i % 1000);
        struct ss_val *v = ss_out_row(o, SS_T_CATEGORY_REVENUE);
        v[SS_CR_WINDOW_START].i = T0 + (i / 1000) * MIN;
        v[SS_CR_WINDOW_END].i = T0 + (i / 1000 + 1) * MIN;
        v[SS_CR_REVENUE].i = i * 1234 + fin;
        v[SS_CR_ORDERS].i = i % 17 + fin;
        v[SS_CR_UNITS].i = i % 31;
        v[SS_CR_VIEWS].i = i % 101;
        v[SS_CR_CART_ADDS].i = i % 7;
        v[SS_CR_BUYERS].i = i % 13;
        v[SS_CR_FINAL].i = fin;
        ss_out_str(o, &v[SS_CR_CATEGORY], ss_str_c(cat));
    }
}

static int sink_phase(struct ss_sink *sk, struct ss_out *o, long rows, long per, int fin, uint64_t *epoch,
                      double *secs) {
    struct ss_err err = {0};
    *secs = 0;
    for (long from = 0; from < rows; from += per) {
        long to = from + per < rows ? from + per : rows;
        fill(o, from, to, fin);
        struct ss_position pos = {.source = "bench", .partition = 0, .next_offset = to, .lag = -1, .max_ts = INT64_MIN};
        struct ss_epoch ep = {.epoch = ++*epoch, .rows = o, .positions = &pos, .npositions = 1};
        double t = now_s();
        int rc = sk->type->commit(sk, &ep, &err);
        *secs += now_s() - t;
        if (rc) {
            fprintf(stderr, "bench_pg: commit failed: %s\n", err.msg);
            return 1;
        }
    }
    return 0;
}

static int exec_ok(PGconn *c, const char *sql) {
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) fprintf(stderr, "bench_pg: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok;
}

/* The peer: COPY text of the same rows into an unindexed table, formatting included. */
static int peer_phase(PGconn *c, struct ss_out *o, long rows, long per, double *secs) {
    if (!exec_ok(c, "CREATE TABLE peer_copy (window_start timestamptz, category text, window_end timestamptz, "
                    "revenue numeric(18,2), orders bigint, units bigint, views bigint, cart_adds bigint, "
                    "buyers bigint, final boolean)"))
        return 1;
    struct ss_buf b = {0};
    *secs = 0;
    for (long from = 0; from < rows; from += per) {
        long to = from + per < rows ? from + per : rows;
        fill(o, from, to, 1);
        double t = now_s();
        if (!exec_ok(c, "BEGIN")) return 1;
        PGresult *r = PQexec(c, "COPY peer_copy FROM STDIN");
        if (PQresultStatus(r) != PGRES_COPY_IN) return 1;
        PQclear(r);
        b.len = 0;
        for (size_t i = 0; i < o->t[SS_T_CATEGORY_REVENUE].n; i++) {
            const struct ss_val *v = ss_out_get(o, SS_T_CATEGORY_REVENUE, i);
            char ws[32], we[32], rev[32];
            ss_ts_format(v[SS_CR_WINDOW_START].i, ws);
            ss_ts_format(v[SS_CR_WINDOW_END].i, we);
            ss_money_format(v[SS_CR_REVENUE].i, 2, rev);
            ss_buf_reserve(&b, 256);
            b.len += (size_t)snprintf(b.p + b.len, 256, "%s\t%.*s\t%s\t%s\t%lld\t%lld\t%lld\t%lld\t%lld\t%c\n", ws,
                                      (int)v[SS_CR_CATEGORY].len, v[SS_CR_CATEGORY].s, we, rev,
                                      (long long)v[SS_CR_ORDERS].i, (long long)v[SS_CR_UNITS].i,
                                      (long long)v[SS_CR_VIEWS].i, (long long)v[SS_CR_CART_ADDS].i,
                                      (long long)v[SS_CR_BUYERS].i, v[SS_CR_FINAL].i ? 't' : 'f');
            if (b.len > (1u << 20)) {
                if (PQputCopyData(c, b.p, (int)b.len) != 1) return 1;
                b.len = 0;
            }
        }
        if (b.len && PQputCopyData(c, b.p, (int)b.len) != 1) return 1;
        if (PQputCopyEnd(c, NULL) != 1) return 1;
        r = PQgetResult(c);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        while ((r = PQgetResult(c))) PQclear(r);
        if (!ok || !exec_ok(c, "COMMIT")) return 1;
        *secs += now_s() - t;
    }
    ss_buf_free(&b);
    return 0;
}

int main(int argc, char **argv) {
    const char *url = argc > 1 ? argv[1] : getenv("SHOPSTREAM_PG_URL");
    long rows = argc > 2 ? atol(argv[2]) : 1000000;
    long per = argc > 3 ? atol(argv[3]) : 100000;
    char dir[64] = "", started[512] = "", cmd[256];
    if (rows <= 0 || per <= 0) {
        fprintf(stderr, "usage: bench_pg [URL] [ROWS] [EPOCH_ROWS]\n");
        return 2;
    }
    if (!url || !*url) {
        snprintf(dir, sizeof dir, "/tmp/ss-bench-pg.XXXXXX");
        if (!mkdtemp(dir)) return 1;
        snprintf(cmd, sizeof cmd, "chmod 755 %s && scripts/pg-test-server start %s/pg", dir, dir);
        FILE *p = popen(cmd, "r");
        if (!p || !fgets(started, sizeof started, p)) {
            fprintf(stderr, "bench_pg: no URL and scripts/pg-test-server could not start a server: skipped\n");
            if (p) pclose(p);
            return 0;
        }
        pclose(p);
        started[strcspn(started, "\n")] = '\0';
        url = started;
    }
    /* our own database next to the one the URL names */
    char admin[512], bench[600];
    snprintf(admin, sizeof admin, "%s", url);
    char *slash = strrchr(admin, '/');
    if (!slash || slash < strstr(admin, "//") + 2) {
        fprintf(stderr, "bench_pg: URL must name a database: postgresql://USER@HOST:PORT/DB\n");
        return 2;
    }
    *slash = '\0';
    snprintf(bench, sizeof bench, "%s/shopstream_bench", admin);
    PGconn *c = PQconnectdb(url);
    int rc = 1;
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench_pg: %s", PQerrorMessage(c));
        goto out;
    }
    if (!exec_ok(c, "DROP DATABASE IF EXISTS shopstream_bench") || !exec_ok(c, "CREATE DATABASE shopstream_bench"))
        goto out;
    PQfinish(c);
    c = PQconnectdb(bench);

    struct ss_sink *sk = NULL;
    struct ss_err err = {0};
    if (ss_sink_postgres.open(&sk, bench, NULL, &err)) {
        fprintf(stderr, "bench_pg: open: %s\n", err.msg);
        goto out;
    }
    struct ss_out o;
    ss_out_init(&o);
    uint64_t epoch = 0;
    double t_ins, t_upd, t_peer;
    if (sink_phase(sk, &o, rows, per, 0, &epoch, &t_ins) || sink_phase(sk, &o, rows, per, 1, &epoch, &t_upd) ||
        peer_phase(c, &o, rows, per, &t_peer)) {
        ss_out_free(&o);
        sk->type->close(sk);
        goto out;
    }
    PGresult *r = PQexec(c, "SELECT count(*), sum(final::int) FROM category_revenue");
    printf("bench_pg: %ld rows of category_revenue, %ld rows per epoch; table now %s rows, %s final\n", rows, per,
           PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
    PQclear(r);
    printf("  sink upsert, new keys      %9.0f rows/s  (%.2f s)\n", (double)rows / t_ins, t_ins);
    printf("  sink upsert, update keys   %9.0f rows/s  (%.2f s)\n", (double)rows / t_upd, t_upd);
    printf("  peer COPY, unindexed table %9.0f rows/s  (%.2f s)\n", (double)rows / t_peer, t_peer);
    printf("  sink / peer: %.2f (insert), %.2f (update); target >= 200000 rows/s\n", t_peer / t_ins, t_peer / t_upd);
    ss_out_free(&o);
    sk->type->close(sk);
    rc = 0;
out:
    PQfinish(c);
    if (dir[0]) {
        snprintf(cmd, sizeof cmd, "scripts/pg-test-server stop %s/pg; rmdir %s", dir, dir);
        if (system(cmd) != 0) fprintf(stderr, "bench_pg: could not stop the private server in %s\n", dir);
    }
    return rc;
}
