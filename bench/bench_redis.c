/* bench_redis.c — throughput of the Redis sink (one WATCH-fenced MULTI/EXEC per epoch,
 * commands pipelined in chunks) against a peer measured in the same run on the same
 * server: `redis-benchmark -t set -n N -P 64 -q` (pipelined SETs, 50 clients).
 * Target: >= 500K commands/s through the sink. A second peer, SETs of ~120 bytes with a
 * TTL to a million distinct keys, is the server's own ceiling for any sink that writes one
 * key per user (measured 0.33M/s here with appendfsync always, against 0.9M/s for the
 * one-key SET).
 *
 *   build/bench/bench_redis [URL] [ROWS] [EPOCH_ROWS]
 * URL defaults to $SHOPSTREAM_REDIS_URL; without either, a private server is started with
 * scripts/redis-test-server (run from the repository root; AOF with appendfsync always)
 * and removed afterwards. The bench writes into database 15 (flushed first).
 *
 * Commands are counted by the server (INFO stats total_commands_processed), so the
 * figure is what Redis executed for the sink: the queued writes plus WATCH, GET,
 * MULTI, EXEC per epoch. Rows/s is the figure to compare across sink versions and the
 * one that matters to users: the sink sends fewer, larger commands where it can (one
 * RESTORE ... REPLACE per row, one ZADD per window), which lowers commands/s while
 * raising rows/s; both are printed, with commands per row. Phases (ROWS rows each,
 * EPOCH_ROWS per epoch):
 *   recent    recently_viewed rows, 3..20 products each (one RESTORE per row; on Redis < 7.0
 *             or where RESTORE is denied DEL + RPUSH + PEXPIRE)
 *   windows   category_revenue rows, 1000 categories per minute (one RESTORE per row, or
 *             HSET + PEXPIRE; one ZADD per window and 512 rows)
 * Before the RESTORE rows, the sink sent 3 commands per recent row and ~2 per
 * window row: commands/s then read about 3x and 2x its rows/s.
 * Durability: the private server runs appendfsync always, the policy under which an
 * acknowledged epoch survives a crash (the README's contract); the server's own AOF
 * rewrites (auto-aof-rewrite at 64 MB, then at 100 % growth) run during the phases and
 * are part of the figure, as they would be in production. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/table.h"
#include "sink/redis_sink.h"

#define T0 1795775400000LL
#define MIN 60000LL

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill_recent(struct ss_out *o, long from, long to) {
    ss_out_clear(o);
    char user[32], json[512];
    for (long i = from; i < to; i++) {
        snprintf(user, sizeof user, "user-%08ld", i);
        size_t n = 0;
        json[n++] = '[';
        int np = 3 + (int)(i % 18);
        for (int k = 0; k < np; k++)
            n += (size_t)snprintf(json + n, sizeof json - n, "%s\"product-%06ld\"", k ? "," : "", (i * 7 + k) % 100000);
        json[n++] = ']';
        struct ss_val *v = ss_out_row(o, SS_T_RECENTLY_VIEWED);
        v[SS_RV_LAST_VIEW_TS].i = T0 + i;
        ss_out_str(o, &v[SS_RV_USER_ID], ss_str_c(user));
        ss_out_str(o, &v[SS_RV_PRODUCTS], (struct ss_str){json, (uint32_t)n});
    }
}

static void fill_windows(struct ss_out *o, long from, long to) {
    ss_out_clear(o);
    for (long i = from; i < to; i++) {
        char cat[32];
        snprintf(cat, sizeof cat, "category-%04ld", i % 1000);
        struct ss_val *v = ss_out_row(o, SS_T_CATEGORY_REVENUE);
        v[SS_CR_WINDOW_START].i = T0 + (i / 1000) * MIN;
        v[SS_CR_WINDOW_END].i = T0 + (i / 1000 + 1) * MIN;
        v[SS_CR_REVENUE].i = i * 1234;
        v[SS_CR_ORDERS].i = i % 17;
        v[SS_CR_UNITS].i = i % 31;
        v[SS_CR_VIEWS].i = i % 101;
        v[SS_CR_CART_ADDS].i = i % 7;
        v[SS_CR_BUYERS].i = i % 13;
        ss_out_str(o, &v[SS_CR_CATEGORY], ss_str_c(cat));
    }
}

static long long total_commands(redisContext *c) {
    redisReply *r = redisCommand(c, "INFO stats");
    long long n = -1;
    if (r && r->type == REDIS_REPLY_STRING) {
        const char *p = strstr(r->str, "total_commands_processed:");
        if (p) n = atoll(p + strlen("total_commands_processed:"));
    }
    if (r) freeReplyObject(r);
    return n;
}

static int phase(struct ss_sink *sk, redisContext *c, struct ss_out *o, void (*fill)(struct ss_out *, long, long),
                 long rows, long per, uint64_t *epoch, double *secs, long long *cmds) {
    struct ss_err err = {0};
    *secs = 0;
    long long before = total_commands(c);
    for (long from = 0; from < rows; from += per) {
        long to = from + per < rows ? from + per : rows;
        fill(o, from, to);
        struct ss_position pos = {.source = "bench", .partition = 0, .next_offset = to, .lag = -1,
                                  .max_ts = INT64_MIN};
        struct ss_epoch ep = {.epoch = ++*epoch, .rows = o, .positions = &pos, .npositions = 1, .watermark = T0};
        double t = now_s();
        int rc = sk->type->commit(sk, &ep, &err);
        *secs += now_s() - t;
        if (rc) {
            fprintf(stderr, "bench_redis: commit failed: %s\n", err.msg);
            return 1;
        }
    }
    *cmds = total_commands(c) - before - 1; /* less our own INFO */
    return 0;
}

/* A peer: redis-benchmark's pipelined rate of `what` on the same server. */
static double peer(const char *host, int port, long n, const char *what, char *line, size_t cap) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "redis-benchmark -h %s -p %d --dbnum 15 -n %ld -P 64 -q %s 2>/dev/null", host, port, n, what);
    FILE *p = popen(cmd, "r");
    double rps = 0;
    line[0] = '\0';
    if (!p) return 0;
    /* The output is progress segments ended by '\r', then the result ended by '\n':
     * "SET ...: 1234567.89 requests per second, p50=...". A segment can be longer than
     * any line buffer (the command is echoed), so it is cut character by character. */
    char seg[1024];
    size_t len = 0;
    for (int ch; (ch = fgetc(p)) != EOF;) {
        if (ch != '\r' && ch != '\n') {
            if (len < sizeof seg - 1) seg[len++] = (char)ch;
            continue;
        }
        seg[len] = '\0';
        len = 0;
        const char *at = strstr(seg, " requests per second");
        if (strncmp(seg, "SET", 3) != 0 || !at) continue;
        const char *num = at;
        while (num > seg && num[-1] != ' ') num--;
        rps = strtod(num, NULL);
        snprintf(line, cap, "%.*s", (int)(cap - 1), seg);
    }
    pclose(p);
    return rps;
}

int main(int argc, char **argv) {
    const char *url = argc > 1 && argv[1][0] ? argv[1] : getenv("SHOPSTREAM_REDIS_URL");
    long rows = argc > 2 ? atol(argv[2]) : 500000;
    long per = argc > 3 ? atol(argv[3]) : 50000;
    char dir[64] = "", started[512] = "", cmd[256], host[128] = "127.0.0.1";
    int port = 6379;
    if (rows <= 0 || per <= 0) {
        fprintf(stderr, "usage: bench_redis [URL] [ROWS] [EPOCH_ROWS]\n");
        return 2;
    }
    if (!url || !*url) {
        snprintf(dir, sizeof dir, "/tmp/ss-bench-redis.XXXXXX");
        if (!mkdtemp(dir)) return 1;
        snprintf(cmd, sizeof cmd, "scripts/redis-test-server start %s/redis", dir);
        FILE *p = popen(cmd, "r");
        if (!p || !fgets(started, sizeof started, p)) {
            fprintf(stderr, "bench_redis: no URL and scripts/redis-test-server could not start a server: skipped\n");
            if (p) pclose(p);
            return 0;
        }
        pclose(p);
        port = atoi(started);
        snprintf(started, sizeof started, "redis://127.0.0.1:%d", port);
        url = started;
    } else if (sscanf(url, "redis://%127[^:/]:%d", host, &port) < 1) {
        fprintf(stderr, "bench_redis: URL must be redis://HOST:PORT (no password)\n");
        return 2;
    }
    char burl[600];
    snprintf(burl, sizeof burl, "%s/15", url);
    int rc = 1;
    redisContext *c = redisConnect(host, port);
    struct ss_sink *sk = NULL;
    struct ss_out o;
    ss_out_init(&o);
    if (!c || c->err) {
        fprintf(stderr, "bench_redis: cannot connect to %s:%d\n", host, port);
        goto out;
    }
    redisReply *r = redisCommand(c, "SELECT 15");
    if (r) freeReplyObject(r);
    r = redisCommand(c, "FLUSHDB");
    if (r) freeReplyObject(r);
    struct ss_err err = {0};
    if (ss_sink_redis.open(&sk, burl, NULL, &err)) {
        fprintf(stderr, "bench_redis: open: %s\n", err.msg);
        goto out;
    }
    uint64_t epoch = 0;
    double t_rec, t_win;
    long long c_rec, c_win;
    if (phase(sk, c, &o, fill_recent, rows, per, &epoch, &t_rec, &c_rec) ||
        phase(sk, c, &o, fill_windows, rows, per, &epoch, &t_win, &c_win))
        goto out;
    r = redisCommand(c, "DBSIZE");
    printf("bench_redis: %ld rows per phase, %ld rows per epoch, server %s:%d; db 15 holds %lld keys after them\n",
           rows, per, host, port, r ? r->integer : -1LL);
    if (r) freeReplyObject(r);
    char line[512], line2[512];
    double prps = peer(host, port, 1000000, "-t set", line, sizeof line);
    /* the shape of one recently-viewed row at its simplest: a distinct key, ~120 bytes,
     * a TTL; this is the server's ceiling for any sink that writes one key per user */
    r = redisCommand(c, "FLUSHDB");
    if (r) freeReplyObject(r);
    char what[256];
    snprintf(what, sizeof what, "-r 1000000 SET key:__rand_int__ %0120d PX 86400000", 0);
    double prps2 = peer(host, port, 1000000, what, line2, sizeof line2);

    printf("  sink recently_viewed       %9.0f commands/s  %9.0f rows/s  (%lld commands, %.2f per row, %.2f s)\n",
           (double)c_rec / t_rec, (double)rows / t_rec, c_rec, (double)c_rec / (double)rows, t_rec);
    printf("  sink category_revenue      %9.0f commands/s  %9.0f rows/s  (%lld commands, %.2f per row, %.2f s)\n",
           (double)c_win / t_win, (double)rows / t_win, c_win, (double)c_win / (double)rows, t_win);
    printf("  peer redis-benchmark -t set -n 1000000 -P 64 -q: %s\n", line[0] ? line : "(not available)");
    printf("  peer redis-benchmark -r 1000000 -n 1000000 -P 64 SET key:<random> <120 bytes> PX 86400000: %.0f "
           "requests per second (distinct keys with a TTL: the ceiling of one write per user)\n",
           prps2);
    if (prps > 0)
        printf("  sink / peer SET/s: commands %.2f, rows %.2f (recent); commands %.2f, rows %.2f (windows); "
               "target >= 500000 commands/s\n",
               (double)c_rec / t_rec / prps, (double)rows / t_rec / prps, (double)c_win / t_win / prps,
               (double)rows / t_win / prps);
    rc = 0;
out:
    ss_out_free(&o);
    if (sk) sk->type->close(sk);
    if (c) redisFree(c);
    if (dir[0]) {
        snprintf(cmd, sizeof cmd, "scripts/redis-test-server stop %s/redis && rm -rf %s", dir, dir);
        if (system(cmd) != 0) fprintf(stderr, "bench_redis: could not stop the private server in %s\n", dir);
    }
    return rc;
}
