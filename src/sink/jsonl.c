/* jsonl.c — the `jsonl:DIR` sink: DIR/<table>.jsonl, one JSON object per final row
 * (docs/SEMANTICS.md §11), plus dlq.jsonl and late.jsonl. Append-only: provisional
 * window rows are skipped. Every file is created (empty) at open, so a table with no
 * rows is an empty file and an unwritable directory is reported before any input is
 * read. A new run truncates the files it owns. Each epoch is written with one
 * write() per table and fsynced before commit returns. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/buf.h"
#include "rowjson.h"
#include "sink.h"

struct jsonl_sink {
    struct ss_sink base;
    char *dir;
    int fd[SS_T_COUNT];     /* -1: table not written by this sink */
    struct ss_buf buf;
};

static bool jsonl_writes(enum ss_table_id t) { return !(ss_tables[t].flags & SS_TBL_LAKE); }

/* mkdir -p */
static int make_dirs(const char *path, struct ss_err *err) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return ss_err_set(err, SS_EUSAGE, "output directory path too long: %s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return ss_err_set(err, SS_EIO, "cannot create output directory %s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return ss_err_set(err, SS_EIO, "cannot create output directory %s: %s", tmp, strerror(errno));
    return SS_OK;
}

static void jsonl_close(struct ss_sink *sk) {
    struct jsonl_sink *js = (struct jsonl_sink *)sk;
    for (int t = 0; t < SS_T_COUNT; t++)
        if (js->fd[t] >= 0) close(js->fd[t]);
    ss_buf_free(&js->buf);
    ss_free(js->dir);
    ss_free(js);
}

static int jsonl_open(struct ss_sink **out, const char *url, const struct ss_config *cfg, struct ss_err *err) {
    (void)cfg;
    const char *dir = url + strlen("jsonl:");
    if (!*dir) return ss_err_set(err, SS_EUSAGE, "jsonl sink needs a directory: jsonl:DIR");
    int rc = make_dirs(dir, err);
    if (rc) return rc;
    struct jsonl_sink *js = ss_calloc(1, sizeof *js);
    js->base.type = &ss_sink_jsonl;
    js->dir = ss_strdup(dir);
    for (int t = 0; t < SS_T_COUNT; t++) js->fd[t] = -1;
    for (int t = 0; t < SS_T_COUNT; t++) {
        if (!jsonl_writes((enum ss_table_id)t)) continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s.jsonl", dir, ss_tables[t].name);
        js->fd[t] = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (js->fd[t] < 0) {
            rc = ss_err_set(err, SS_EIO, "cannot write %s: %s", path, strerror(errno));
            jsonl_close(&js->base);
            return rc;
        }
    }
    *out = &js->base;
    return SS_OK;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int jsonl_commit(struct ss_sink *sk, const struct ss_epoch *ep, struct ss_err *err) {
    struct jsonl_sink *js = (struct jsonl_sink *)sk;
    struct ss_rowjson rj;
    ss_rowjson_init(&rj);
    for (int t = 0; t < SS_T_COUNT; t++) {
        const struct ss_rows *r = &ep->rows->t[t];
        if (js->fd[t] < 0 || r->n == 0) continue;
        const struct ss_table *tb = &ss_tables[t];
        js->buf.len = 0;
        for (size_t i = 0; i < r->n; i++) {
            const struct ss_val *v = ss_out_get(ep->rows, (enum ss_table_id)t, i);
            if (tb->final_col >= 0 && !v[tb->final_col].i) continue;
            ss_row_to_json_rj(&rj, tb, v, &js->buf);
            ss_buf_addc(&js->buf, '\n');
        }
        if (write_all(js->fd[t], js->buf.p, js->buf.len) != 0) {
            int e = errno;
            /* ENOSPC and friends can pass; the engine retries the epoch */
            return ss_err_set(err, (e == ENOSPC || e == EDQUOT || e == EIO) ? SS_RETRY : SS_ERROR,
                              "cannot write %s/%s.jsonl: %s", js->dir, tb->name, strerror(e));
        }
    }
    for (int t = 0; t < SS_T_COUNT; t++)
        if (js->fd[t] >= 0 && ep->rows->t[t].n && fdatasync(js->fd[t]) != 0)
            return ss_err_set(err, SS_RETRY, "cannot sync %s/%s.jsonl: %s", js->dir, ss_tables[t].name,
                              strerror(errno));
    return SS_OK;
}

const struct ss_sink_type ss_sink_jsonl = {
    .name = "jsonl",
    .scheme = "jsonl:",
    .flags = 0,
    .open = jsonl_open,
    .commit = jsonl_commit,
    .close = jsonl_close,
};
