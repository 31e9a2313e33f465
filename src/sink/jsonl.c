/* jsonl.c — the `jsonl:DIR[?mode=truncate|append]` sink: DIR/<table>.jsonl, one JSON
 * object per final row (docs/SEMANTICS.md §11), plus dlq.jsonl and late.jsonl.
 * Append-only: provisional window rows are skipped. Every file is created at open, so
 * a table with no rows is an empty file and an unwritable directory is reported
 * before any input is read. Each epoch is written with one write() per table and
 * fsynced before commit returns.
 *
 * Start of a run: a run over files is complete in itself, so it truncates the files
 * it owns; a run that reads Kafka resumes at the group's committed offsets, so the
 * rows earlier runs wrote are part of its output and it appends (dropping a line an
 * earlier run left unfinished: its epoch was not committed, so its offsets were not
 * either and its rows come again). `mode=` overrides that choice. An input that is one
 * of these files is refused before the sink opens (overlap.c).
 *
 * Retries: a commit that failed part way (a full disk) cuts its files back to where
 * that epoch began, and is called again with the same epoch, which cuts them back
 * again first: the retry writes its rows once and never after a torn line, and a run
 * that ends during the retries leaves whole epochs only.
 *
 * A file removed under the sink (its directory deleted mid-run) fails the commit,
 * naming it (check_linked): the rows written to it are gone, so the run must not end
 * as if it had delivered them. A file moved away (logrotate's rename, with or without a
 * new empty file created in its place) keeps its rows: the next epoch goes to a file at
 * the path again (follow_rotation), as a service's log files are rotated without a
 * restart. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/dirs.h"
#include "../core/buf.h"
#include "../core/fdio.h"
#include "../core/log.h"
#include "rowjson.h"
#include "sink.h"

struct jsonl_sink {
    struct ss_sink base;
    char *dir;
    int fd[SS_T_COUNT];     /* -1: table not written by this sink */
    int lock_fd;             /* the directory, flock()ed while this sink writes it */
    off_t start[SS_T_COUNT]; /* each file's size when the epoch being committed began */
    uint64_t attempt;        /* that epoch (0: none yet) */
    struct ss_buf buf;
};

bool ss_jsonl_writes(enum ss_table_id t) { return !(ss_tables[t].flags & SS_TBL_LAKE); }

static void jsonl_close(struct ss_sink *sk) {
    struct jsonl_sink *js = (struct jsonl_sink *)sk;
    for (int t = 0; t < SS_T_COUNT; t++)
        if (js->fd[t] >= 0) close(js->fd[t]);
    if (js->lock_fd >= 0) close(js->lock_fd);
    ss_buf_free(&js->buf);
    ss_free(js->dir);
    ss_free(js);
}

/* Appending after an earlier run: cuts the file back to its last complete line. */
static int drop_torn_tail(int fd, const char *path, struct ss_err *err) {
    off_t end = lseek(fd, 0, SEEK_END), keep = end;
    char chunk[4096];
    while (keep > 0) {
        off_t from = keep > (off_t)sizeof chunk ? keep - (off_t)sizeof chunk : 0;
        ssize_t n = pread(fd, chunk, (size_t)(keep - from), from);
        if (n != keep - from) return ss_err_set(err, SS_EIO, "cannot read %s: %s", path, strerror(errno));
        ssize_t i = n;
        while (i > 0 && chunk[i - 1] != '\n') i--;
        if (i > 0) {
            keep = from + i;
            break;
        }
        keep = from;
    }
    if (keep == end) return SS_OK;
    if (ftruncate(fd, keep) != 0) return ss_err_set(err, SS_EIO, "cannot truncate %s: %s", path, strerror(errno));
    ss_warn("sink.jsonl", "msg=\"dropped an unfinished last line left by an earlier run\" file=\"%s\" bytes=%lld",
            path, (long long)(end - keep));
    return SS_OK;
}

/* jsonl:DIR[?mode=truncate|append]: the directory (allocated) and whether to append. */
static int parse_url(const char *url, const struct ss_config *cfg, char **dir, bool *append, struct ss_err *err) {
    const char *spec = url + strlen("jsonl:");
    const char *q = strchr(spec, '?');
    *append = ss_config_reads_kafka(cfg); /* the default (see the top) */
    if (q) {
        if (strcmp(q, "?mode=append") == 0) *append = true;
        else if (strcmp(q, "?mode=truncate") == 0) *append = false;
        else return ss_err_set(err, SS_EUSAGE, "jsonl sink: unknown option \"%s\" (known: mode=truncate, mode=append)",
                               q + 1);
    }
    if (spec == q || !*spec) return ss_err_set(err, SS_EUSAGE, "jsonl sink needs a directory: jsonl:DIR");
    *dir = ss_strndup(spec, q ? (size_t)(q - spec) : strlen(spec));
    return SS_OK;
}

static int jsonl_check(const char *url, const struct ss_config *cfg, struct ss_err *err) {
    char *dir = NULL;
    bool append;
    int rc = parse_url(url, cfg, &dir, &append, err);
    ss_free(dir);
    return rc;
}

/* One process writes a directory at a time. A second run into it truncated the first's
 * files at open, and their rows interleaved, or a failed epoch cut the other's rows off:
 * both runs ended with exit 0. The lock is the directory's own (flock), so nothing is
 * left behind, and the kernel drops it when the process dies. */
static int lock_dir(struct jsonl_sink *js, struct ss_err *err) {
    return ss_lock_exclusive(js->dir, true, "directory", "give each run its own directory", &js->lock_fd, err);
}

static int jsonl_open(struct ss_sink **out, const char *url, const struct ss_config *cfg, struct ss_err *err) {
    char *dir = NULL;
    bool append;
    int rc = parse_url(url, cfg, &dir, &append, err);
    if (rc) return rc;
    struct jsonl_sink *js = ss_calloc(1, sizeof *js);
    js->base.type = &ss_sink_jsonl;
    js->dir = dir;
    for (int t = 0; t < SS_T_COUNT; t++) js->fd[t] = -1;
    js->lock_fd = -1;
    rc = ss_mkdirs(js->dir, err);
    if (!rc) rc = lock_dir(js, err);
    for (int t = 0; !rc && t < SS_T_COUNT; t++) {
        if (!ss_jsonl_writes((enum ss_table_id)t)) continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s.jsonl", js->dir, ss_tables[t].name);
        js->fd[t] = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | (append ? 0 : O_TRUNC), 0644);
        if (js->fd[t] < 0) rc = ss_err_set(err, SS_EIO, "cannot write %s: %s", path, strerror(errno));
        else if (append) rc = drop_torn_tail(js->fd[t], path, err);
    }
    if (rc) {
        jsonl_close(&js->base);
        return rc;
    }
    *out = &js->base;
    return SS_OK;
}

/* Every file is still in its directory. A file removed while the run writes it (the
 * directory deleted by a clean-up job, `rm -rf` of an old output) takes the rows of
 * every committed epoch with it, and writes to the open descriptor keep succeeding into
 * the unlinked inode: without this check the run ended with exit 0 and no output at all.
 * Checked after the epoch's sync, so the last epoch of a bounded run is covered too.
 * Fatal, not SS_RETRY: what the earlier epochs wrote cannot be written again. */
static int check_linked(struct jsonl_sink *js, struct ss_err *err) {
    for (int t = 0; t < SS_T_COUNT; t++) {
        struct stat st;
        if (js->fd[t] < 0) continue;
        if (fstat(js->fd[t], &st) != 0)
            return ss_err_set(err, SS_RETRY, "cannot stat %s/%s.jsonl: %s", js->dir, ss_tables[t].name,
                              strerror(errno));
        if (st.st_nlink == 0)
            return ss_err_set(err, SS_ERROR,
                              "%s/%s.jsonl was removed while the run was writing it: the rows of the epochs "
                              "committed so far went with it; run again into a directory that is left alone",
                              js->dir, ss_tables[t].name);
    }
    return SS_OK;
}

/* A file moved away since the last epoch (rotated: it still has a name, but the path
 * names another file or none): writes go to a file at the path from this epoch on,
 * created if the rotation did not. Checked before an epoch's first attempt only: a
 * retry cuts back the file its failed attempt wrote. A removed file is check_linked's. */
static int follow_rotation(struct jsonl_sink *js, int t, struct ss_err *err) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.jsonl", js->dir, ss_tables[t].name);
    struct stat held, named;
    if (fstat(js->fd[t], &held) != 0)
        return ss_err_set(err, SS_RETRY, "cannot stat %s: %s", path, strerror(errno));
    if (held.st_nlink == 0) return SS_OK;
    if (stat(path, &named) == 0) {
        if (named.st_ino == held.st_ino && named.st_dev == held.st_dev) return SS_OK;
    } else if (errno != ENOENT) {
        return ss_err_set(err, SS_RETRY, "cannot stat %s: %s", path, strerror(errno));
    }
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return ss_err_set(err, SS_RETRY, "cannot open %s again after it was moved away: %s", path, strerror(errno));
    close(js->fd[t]);
    js->fd[t] = fd;
    ss_info("sink.jsonl", "msg=\"file moved away (rotated): writing a file at its path again\" file=\"%s\"", path);
    return SS_OK;
}

static int jsonl_commit(struct ss_sink *sk, const struct ss_epoch *ep, struct ss_err *err) {
    struct jsonl_sink *js = (struct jsonl_sink *)sk;
    bool retry = js->attempt == ep->epoch;
    for (int t = 0; t < SS_T_COUNT; t++) {
        if (js->fd[t] < 0) continue;
        int rc = retry ? SS_OK : follow_rotation(js, t, err);
        if (rc) return rc;
        if (retry ? ftruncate(js->fd[t], js->start[t]) != 0 : (js->start[t] = lseek(js->fd[t], 0, SEEK_END)) < 0)
            return ss_err_set(err, SS_RETRY, "cannot %s %s/%s.jsonl: %s", retry ? "truncate" : "seek in", js->dir,
                              ss_tables[t].name, strerror(errno));
    }
    js->attempt = ep->epoch;
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
        if (ss_write_all(js->fd[t], js->buf.p, js->buf.len) != 0) {
            int e = errno;
            /* Every file back to where the epoch began, at once: the retry would do it,
             * but a run that ends before one succeeds (stopped during a full disk, or
             * killed during the backoff) must not leave a torn last line and part of an
             * epoch behind. Best effort: the retry cuts again. */
            for (int u = 0; u <= t; u++)
                if (js->fd[u] >= 0 && ftruncate(js->fd[u], js->start[u]) != 0)
                    ss_debug("sink.jsonl", "msg=\"cannot cut back a failed epoch\" file=\"%s/%s.jsonl\" err=\"%s\"",
                             js->dir, ss_tables[u].name, strerror(errno));
            /* ENOSPC and friends can pass; the engine retries the epoch */
            return ss_err_set(err, (e == ENOSPC || e == EDQUOT || e == EIO) ? SS_RETRY : SS_ERROR,
                              "cannot write %s/%s.jsonl: %s", js->dir, tb->name, strerror(e));
        }
    }
    for (int t = 0; t < SS_T_COUNT; t++)
        if (js->fd[t] >= 0 && ep->rows->t[t].n && fdatasync(js->fd[t]) != 0)
            return ss_err_set(err, SS_RETRY, "cannot sync %s/%s.jsonl: %s", js->dir, ss_tables[t].name,
                              strerror(errno));
    return check_linked(js, err);
}

const struct ss_sink_type ss_sink_jsonl = {
    .name = "jsonl",
    .scheme = "jsonl:",
    .flags = 0,
    .open = jsonl_open,
    .check = jsonl_check,
    .commit = jsonl_commit,
    .close = jsonl_close,
};
