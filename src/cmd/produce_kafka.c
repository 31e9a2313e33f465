/* produce_kafka.c — see produce_kafka.h. The batching, pacing, progress lines and
 * delivery accounting are ss_kafka_produce's; this file only supplies records. */
#include "produce_kafka.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/dirs.h"
#include "../core/log.h"
#include "../core/shutdown.h"
#include "cmd.h"

static int gen_next(void *ctx, const char **key, size_t *klen, const char **val, size_t *vlen, int *stream) {
    struct ss_gen_record rec;
    int rc = ss_gen_next(ctx, &rec);
    if (rc != SS_OK) return rc;
    *key = rec.key;
    *klen = rec.key_len;
    *val = rec.data;
    *vlen = rec.len;
    *stream = (int)rec.stream;
    return SS_OK;
}

static int report(int rc, const struct ss_kafka_produce_stats *st, const struct ss_err *err) {
    if (rc == SS_ESTOPPED) { /* stopped before the brokers answered: nothing was sent */
        ss_info("produce", "msg=\"stopped during start-up\" sent=0 why=\"%s\"", err->msg);
        return SS_EXIT_OK;
    }
    if (rc != SS_OK) {
        fprintf(stderr, "shopstream produce: %s\n", err->msg);
        return rc == SS_EUSAGE ? SS_EXIT_USAGE : SS_EXIT_FAIL;
    }
    ss_info("produce", "msg=\"%s\" sent=%lld delivered=%lld failed=%lld seconds=%.3f rate=%.0f",
            ss_shutdown_requested() ? "stopped" : "done", (long long)st->sent, (long long)st->delivered,
            (long long)st->failed, (double)st->elapsed_ms / 1000.0,
            st->elapsed_ms > 0 ? (double)st->delivered * 1000.0 / (double)st->elapsed_ms : 0.0);
    return st->failed ? SS_EXIT_FAIL : SS_EXIT_OK;
}

int ss_produce_kafka_gen(struct ss_gen *g, const struct ss_produce_kafka_args *a) {
    struct ss_kafka_produce_stats st = {0};
    struct ss_err err = {0};
    int rc = ss_kafka_produce(&a->kopts, gen_next, g, &st, &err);
    return report(rc, &st, &err);
}

/* ---- an orders CSV replayed as JSON objects --------------------------------------- */

struct csv_replay {
    FILE *f;
    char *line;
    size_t cap;
    char **names;      /* header columns */
    int ncols, key_col;
    struct ss_buf json;
    char **cells;
    int64_t lineno;
};

/* Splits one CSV line in place (RFC 4180 quotes, "" escapes); returns the cell count. */
static int split_csv(char *s, char **cells, int max) {
    int n = 0;
    char *w = s;
    while (n < max) {
        cells[n++] = w;
        if (*s == '"') {
            s++;
            for (;;) {
                if (!*s) break;
                if (*s == '"' && s[1] == '"') { *w++ = '"'; s += 2; continue; }
                if (*s == '"') { s++; break; }
                *w++ = *s++;
            }
        }
        while (*s && *s != ',') *w++ = *s++;
        if (!*s) { *w = '\0'; break; }
        *w++ = '\0';
        s++;
    }
    return n;
}

static int csv_next(void *ctx, const char **key, size_t *klen, const char **val, size_t *vlen, int *stream) {
    struct csv_replay *r = ctx;
    for (;;) {
        ssize_t n = getline(&r->line, &r->cap, r->f);
        if (n < 0) return SS_EOF;
        r->lineno++;
        while (n && (r->line[n - 1] == '\n' || r->line[n - 1] == '\r')) r->line[--n] = '\0';
        if (!n) continue;
        int got = split_csv(r->line, r->cells, r->ncols + 1);
        r->json.len = 0;
        ss_buf_addc(&r->json, '{');
        for (int c = 0; c < got && c < r->ncols; c++) {
            if (c) ss_buf_addc(&r->json, ',');
            ss_buf_add_json_str(&r->json, r->names[c], strlen(r->names[c]));
            ss_buf_addc(&r->json, ':');
            ss_buf_add_json_str(&r->json, r->cells[c], strlen(r->cells[c]));
        }
        ss_buf_addc(&r->json, '}');
        *val = r->json.p;
        *vlen = r->json.len;
        *key = r->key_col >= 0 && r->key_col < got ? r->cells[r->key_col] : "";
        *klen = strlen(*key);
        *stream = SS_STREAM_ORDERS;
        return SS_OK;
    }
}

int ss_produce_kafka_csv(const struct ss_produce_kafka_args *a) {
    struct csv_replay r = {.key_col = -1};
    int code = SS_EXIT_FAIL;
    r.f = fopen(a->csv_path, "r");
    if (!r.f) {
        int e = errno;
        fprintf(stderr, "shopstream produce: cannot open %s: %s\n", a->csv_path, strerror(e));
        return ss_path_errno_is_usage(e) ? SS_EXIT_USAGE : SS_EXIT_FAIL;
    }
    ssize_t n = getline(&r.line, &r.cap, r.f);
    if (n <= 0) {
        fprintf(stderr, "shopstream produce: %s has no header line\n", a->csv_path);
        goto out;
    }
    while (n && (r.line[n - 1] == '\n' || r.line[n - 1] == '\r')) r.line[--n] = '\0';
    r.cells = ss_calloc(1024, sizeof *r.cells);
    r.ncols = split_csv(r.line, r.cells, 1023);
    r.names = ss_calloc((size_t)r.ncols, sizeof *r.names);
    for (int c = 0; c < r.ncols; c++) {
        r.names[c] = ss_strdup(r.cells[c]);
        if (!strcmp(r.names[c], "customer_id") || !strcmp(r.names[c], "user_id")) r.key_col = c;
    }
    r.lineno = 1;
    struct ss_kafka_produce_stats st = {0};
    struct ss_err err = {0};
    int rc = ss_kafka_produce(&a->kopts, csv_next, &r, &st, &err);
    code = report(rc, &st, &err);
out:
    for (int c = 0; c < r.ncols; c++) ss_free(r.names[c]);
    ss_free(r.names);
    ss_free(r.cells);
    ss_buf_free(&r.json);
    free(r.line);
    fclose(r.f);
    return code;
}
