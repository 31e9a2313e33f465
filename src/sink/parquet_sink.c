/* parquet_sink.c — the `parquet:DIR` lake sink (DESIGN §5, §6): every epoch's final
 * rows become Parquet files under
 *
 *     DIR/<table>/dt=YYYY-MM-DD/hour=HH/part-<epoch:08d>-<seq:04d>-<run:8 hex>.parquet
 *
 * partitioned by the hour (UTC) of each row's time column. Append-only: provisional
 * window rows (final = false) are skipped; recently_viewed (a state stream whose
 * latest row per key wins) is not written; dlq and late are written as tables.
 *
 * <epoch> is the epoch of a file's first rows and <seq> counts the files of one
 * (table, hour) begun in that epoch. <run> is drawn at random when the sink opens: epoch numbers start again
 * in every process (nothing in the lake fences them, unlike the SQL sinks), and
 * without it a second run into the same lake, or two processes writing one lake,
 * would overwrite each other's files for the same hours and lose their rows. A
 * process that crashed leaves its renamed files in place; the input it had not
 * committed is read again and lands in new files (at-least-once, DESIGN §6; a
 * checkpoint that restores the epoch will carry <run> with it for exactly once).
 * Each file is written to a temp file under DIR/.tmp/<run>/ (readers skip the hidden
 * directory), fsynced and renamed
 * (writer.c), then the directories are fsynced before commit returns SS_OK. A full
 * or failing disk answers SS_RETRY: the engine calls commit again with the same
 * epoch, which overwrites whatever the failed attempt had already renamed.
 *
 * Rolling: a (table, hour) whose file passes file_rows rows or about file_bytes bytes
 * continues in the next file (the size is checked every ROLL_CHECK rows, so a file can
 * exceed file_bytes by that many rows' worth). By time: without roll_interval every
 * file is closed when its epoch commits, so files roll every epoch.interval; with
 * roll_interval=D a file stays open across epochs until it is D old (wall clock), and
 * the lake gets fewer, larger files while the other sinks keep their epoch latency.
 * Rows in an open file are not durable: the sink reports how far it is in
 * durable_epoch (SS_SINK_HOLDS), and the engine commits input positions only that far,
 * so a crash loses nothing (the temp files are never renamed; the input is read again).
 * A sealed epoch (partitions leaving, the end of the run) closes every file.
 *
 * Temp files: each process writes its open files under DIR/.tmp/<run>/, with an "owner"
 * file (host and pid) and the directory's mtime refreshed at every commit; a clean close
 * removes it. A process that died leaves its directory behind (its rows were never
 * committed as input positions, so they are read again); the next sink to open the lake
 * removes it, at once when the owner was on this host and its pid is gone, else once it
 * has not been refreshed for STALE_MS.
 *
 * Retries: rows of an epoch are counted per (table, hour) as they are written, and a
 * commit that failed part way and is called again writes only the rest. A failed file
 * that held rows of earlier epochs cannot be written again from this epoch's rows, so
 * that is a fatal error: the run stops, and the next one reads those rows again from
 * the input positions, which were committed only up to before them.
 *
 * URL: parquet:DIR[?compression=zstd|snappy|none&row_group_rows=N&file_rows=N&file_bytes=N
 *      &roll_interval=DURATION] */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/hash.h"
#include "../core/log.h"
#include "../core/timefmt.h"
#include "parquet/parquet.h"
#include "parquet/writer.h"
#include "sink.h"

#define HOUR_MS 3600000LL
#define ROLL_CHECK 4096         /* rows written between two looks at a file's size */
#define DEFAULT_FILE_BYTES (128u << 20)
#define UNKNOWN_HOUR INT64_MIN  /* no hour: the null partition (part_dir) */
#define STALE_MS (24 * HOUR_MS) /* a temp directory not refreshed this long belongs to a dead process */

struct part {
    int64_t hour;            /* hours since the epoch, or UNKNOWN_HOUR */
    size_t count, start;
};

/* The file being written for one (table, hour), and what the current epoch wrote there. */
struct lake_file {
    enum ss_table_id table;
    int64_t hour;
    char *dir;               /* DIR/<table>/dt=.../hour=.. */
    struct ss_pq_writer *w;  /* NULL: no file open */
    uint64_t first_epoch;    /* of the open file's first rows (its name) */
    unsigned seq;            /* of the last file begun, in epoch name_epoch */
    uint64_t name_epoch;
    size_t rows;             /* in the open file */
    int64_t opened_ms;       /* wall clock, for roll_interval */
    size_t done;             /* rows of the current epoch written (open or closed files) */
    size_t done_at_open;     /* done when the open file was begun */
    bool dir_unsynced;       /* a file was renamed into dir since its last fsync */
};

struct pq_sink {
    struct ss_sink base;
    char *dir;
    char run[9];             /* this process's file name token, 8 hex digits */
    char *tmpdir;            /* DIR/.tmp/<run>: the temp files of this process */
    struct ss_pq_opts opts;
    size_t file_rows;        /* roll to the next seq past this many rows */
    size_t file_bytes;       /* or past about this many bytes */
    int64_t roll_interval_ms; /* 0: close every file when its epoch commits */
    struct lake_file *files;   /* open or recently used (table, hour) files */
    size_t nfiles, files_cap;
    uint64_t epoch_now;      /* the epoch the done counts belong to */
    /* per-commit scratch, kept for its capacity */
    uint32_t *rowpart;       /* row -> part index, UINT32_MAX: skipped */
    size_t rowpart_cap;
    uint32_t *order;         /* row indices grouped by part, input order inside */
    size_t order_cap;
    struct part *parts;
    size_t nparts, parts_cap;
    uint32_t *slots;         /* hour -> part index + 1, open addressing */
    size_t nslots;
};

/* The column whose hour partitions a table's rows; -1 for dlq (see hour_of). */
static int part_col(enum ss_table_id t) {
    switch (t) {
    case SS_T_CATEGORY_REVENUE: return SS_CR_WINDOW_START;
    case SS_T_HOURLY_SALES: return SS_HS_WINDOW_START;
    case SS_T_TRENDING_PRODUCTS: return SS_TP_WINDOW_START;
    case SS_T_FUNNEL: return SS_FN_WINDOW_START;
    case SS_T_SESSIONS: return SS_SE_SESSION_START;
    case SS_T_PROMO_MATCHES: return SS_PM_CLICK_TS;
    case SS_T_ALERTS: return SS_AL_TS;
    case SS_T_DATA_QUALITY: return SS_DQ_MINUTE_START;
    case SS_T_EVENTS: return SS_EV_TS;
    case SS_T_LATE: return SS_LT_TS;
    default: return -1;
    }
}

static int writes_table(enum ss_table_id t) { return !(ss_tables[t].flags & SS_TBL_STATE); }

static int64_t hour_of_ts(int64_t ts) {
    if (ts == SS_TS_MIN || ts == SS_TS_MAX) return UNKNOWN_HOUR;
    return ss_ts_floor(ts, HOUR_MS) / HOUR_MS;
}

/* A row's partition hour. dlq rows carry no trustworthy event time (the record may
 * not even parse), and wall-clock time would differ on a replay, so they go under
 * the hour of the epoch's watermark: part of the checkpointed epoch, hence the same
 * on every replay of it. Where W is infinite (before every input has a valid event,
 * W = -inf, and in the final epoch of a bounded run, W = +inf), under the hour of the
 * newest valid event time the epoch's positions hold, as much a part of the epoch.
 * Only an epoch without any valid event before it leaves the null partition
 * (part_dir): a bounded run commits its last records in a final epoch of W = +inf, and
 * a small run in that one epoch, whose dead letters would otherwise all lie under it,
 * where no reader can give dt and hour a type. */
static int64_t dlq_hour(const struct ss_epoch *ep) {
    if (ep->watermark != SS_TS_MIN && ep->watermark != SS_TS_MAX) return hour_of_ts(ep->watermark);
    int64_t newest = SS_TS_MIN;
    for (int i = 0; i < ep->npositions; i++)
        if (ep->positions[i].max_ts != INT64_MIN && ep->positions[i].max_ts > newest) newest = ep->positions[i].max_ts;
    return hour_of_ts(newest);
}

static int64_t hour_of(enum ss_table_id t, const struct ss_val *v, const struct ss_epoch *ep) {
    int c = part_col(t);
    if (c < 0) return dlq_hour(ep);
    if (v[c].null) return UNKNOWN_HOUR;
    return hour_of_ts(v[c].i);
}

/* A row without an hour goes under Hive's null partition value, which Spark, pyarrow
 * datasets and DuckDB read as NULL: any other word (it was "unknown") turns dt into a
 * string column and hour into another type than in every other table, for the whole
 * table once a reader merges the partitions, and a filter on dt as a date fails. */
#define NULL_PART "__HIVE_DEFAULT_PARTITION__"

static int part_dir(char *buf, size_t cap, const char *dir, const char *table, int64_t hour) {
    if (hour == UNKNOWN_HOUR) return snprintf(buf, cap, "%s/%s/dt=" NULL_PART "/hour=" NULL_PART, dir, table);
    int64_t days = hour >= 0 ? hour / 24 : -((-hour + 23) / 24);
    int h = (int)(hour - days * 24);
    int64_t y;
    unsigned m, d;
    ss_civil_from_days(days, &y, &m, &d);
    return snprintf(buf, cap, "%s/%s/dt=%04" PRId64 "-%02u-%02u/hour=%02d", dir, table, y, m, d, h);
}

static int retry_errno(int e) { return e == ENOSPC || e == EDQUOT || e == EIO || e == EAGAIN || e == EINTR; }

static int fsync_dir(const char *dir, struct ss_err *err) {
    int rc = ss_pq_fsync_dir(dir, err);
    if (rc) return err && err->retriable ? SS_RETRY : SS_ERROR;
    return SS_OK;
}

/* mkdir -p; every directory it creates is made durable by fsyncing its parent. */
static int make_dirs(const char *path, struct ss_err *err) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return ss_err_set(err, SS_ERROR, "parquet: path too long: %s", path);
    size_t n = strlen(tmp);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0') continue;
        char save = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0755) == 0) {
            char parent[PATH_MAX];
            memcpy(parent, tmp, i + 1);
            char *slash = strrchr(parent, '/');
            if (slash == parent) slash[1] = '\0';
            else if (slash) *slash = '\0';
            else strcpy(parent, ".");
            int rc = fsync_dir(parent, err);
            if (rc) return rc;
        } else if (errno != EEXIST) {
            int e = errno;
            return ss_err_set(err, retry_errno(e) ? SS_RETRY : SS_ERROR, "parquet: cannot create directory %s: %s",
                              tmp, strerror(e));
        }
        tmp[i] = save;
    }
    return SS_OK;
}

/* ---- grouping rows by partition hour --------------------------------------- */

static uint32_t part_index(struct pq_sink *ps, int64_t hour) {
    if (ps->nparts * 2 >= ps->nslots) {
        size_t n = ps->nslots ? ps->nslots * 2 : 64;
        ss_free(ps->slots);
        ps->slots = ss_calloc(n, sizeof *ps->slots);
        ps->nslots = n;
        for (size_t p = 0; p < ps->nparts; p++) {
            size_t k = ss_hash_u64((uint64_t)ps->parts[p].hour) & (n - 1);
            while (ps->slots[k]) k = (k + 1) & (n - 1);
            ps->slots[k] = (uint32_t)p + 1;
        }
    }
    size_t mask = ps->nslots - 1, k = ss_hash_u64((uint64_t)hour) & mask;
    while (ps->slots[k]) {
        uint32_t p = ps->slots[k] - 1;
        if (ps->parts[p].hour == hour) return p;
        k = (k + 1) & mask;
    }
    SS_GROW(ps->parts, ps->parts_cap, ps->nparts + 1);
    ps->parts[ps->nparts] = (struct part){hour, 0, 0};
    ps->slots[k] = (uint32_t)ps->nparts + 1;
    return (uint32_t)ps->nparts++;
}

static int part_cmp(const void *a, const void *b) {
    const struct part *x = a, *y = b;
    return x->hour < y->hour ? -1 : x->hour > y->hour;
}

/* Fills ps->parts (ascending hour, with start offsets) and ps->order. */
static void group_rows(struct pq_sink *ps, enum ss_table_id t, const struct ss_epoch *ep) {
    const struct ss_rows *r = &ep->rows->t[t];
    const struct ss_table *tb = &ss_tables[t];
    ps->nparts = 0;
    if (ps->slots) memset(ps->slots, 0, ps->nslots * sizeof *ps->slots);
    SS_GROW(ps->rowpart, ps->rowpart_cap, r->n);
    SS_GROW(ps->order, ps->order_cap, r->n);
    int64_t last_hour = 0;
    uint32_t last_part = UINT32_MAX;
    for (size_t i = 0; i < r->n; i++) {
        const struct ss_val *v = ss_out_get(ep->rows, t, i);
        if (tb->final_col >= 0 && !v[tb->final_col].i) {
            ps->rowpart[i] = UINT32_MAX;
            continue;
        }
        int64_t h = hour_of(t, v, ep);
        if (last_part == UINT32_MAX || h != last_hour) {
            last_part = part_index(ps, h);
            last_hour = h;
        }
        ps->rowpart[i] = last_part;
        ps->parts[last_part].count++;
    }
    /* sort the parts by hour, remembering where each old index went */
    for (size_t p = 0; p < ps->nparts; p++) ps->parts[p].start = p;
    if (ps->nparts > 1) qsort(ps->parts, ps->nparts, sizeof *ps->parts, part_cmp); /* parts is NULL before any */
    uint32_t *remap = ss_malloc((ps->nparts ? ps->nparts : 1) * sizeof *remap);
    size_t off = 0;
    for (size_t p = 0; p < ps->nparts; p++) {
        remap[ps->parts[p].start] = (uint32_t)p;
        ps->parts[p].start = off;
        off += ps->parts[p].count;
    }
    size_t *fill = ss_calloc(ps->nparts ? ps->nparts : 1, sizeof *fill);
    for (size_t i = 0; i < r->n; i++) {
        if (ps->rowpart[i] == UINT32_MAX) continue;
        uint32_t p = remap[ps->rowpart[i]];
        ps->order[ps->parts[p].start + fill[p]++] = (uint32_t)i;
    }
    ss_free(fill);
    ss_free(remap);
}

/* ---- the sink -------------------------------------------------------------- */

static struct lake_file *file_for(struct pq_sink *ps, enum ss_table_id t, int64_t hour, struct ss_err *err, int *rc) {
    for (size_t i = 0; i < ps->nfiles; i++)
        if (ps->files[i].table == t && ps->files[i].hour == hour) return &ps->files[i];
    char dir[PATH_MAX];
    if (part_dir(dir, sizeof dir, ps->dir, ss_tables[t].name, hour) >= (int)sizeof dir) {
        *rc = ss_err_set(err, SS_ERROR, "parquet: path too long under %s", ps->dir);
        return NULL;
    }
    SS_GROW(ps->files, ps->files_cap, ps->nfiles + 1);
    struct lake_file *sl = &ps->files[ps->nfiles++];
    *sl = (struct lake_file){.table = t, .hour = hour, .dir = ss_strdup(dir)};
    return sl;
}

/* The open file of sl failed (and is gone): SS_RETRY or SS_ERROR by err, after which
 * a retry of the epoch writes its rows again, from the file's seq; or fatal when the
 * file held rows of earlier epochs. */
static int lost_file(struct lake_file *sl, const struct ss_epoch *ep, unsigned seq, struct ss_err *err) {
    sl->w = NULL;
    if (sl->first_epoch < ep->epoch) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return ss_err_set(err, SS_ERROR,
                          "parquet: %s; the file also held rows of epochs %llu to %llu, which only a restart can "
                          "write again (their input positions were not committed, so the next run reads them)",
                          why, (unsigned long long)sl->first_epoch, (unsigned long long)ep->epoch - 1);
    }
    sl->done = sl->done_at_open;
    if (seq == 0) sl->name_epoch = 0; /* the retry begins the same name again */
    else sl->seq = seq - 1;
    return err->retriable ? SS_RETRY : SS_ERROR;
}

static int close_file(struct lake_file *sl, const struct ss_epoch *ep, struct ss_err *err) {
    unsigned seq = sl->seq;
    int rc = ss_pq_close(sl->w, err);
    if (rc) return lost_file(sl, ep, seq, err);
    sl->w = NULL;
    sl->dir_unsynced = true;
    return SS_OK;
}

/* The temp file of final (a path under ps->dir): tmpdir/<final's path below dir, '/' -> '+'>.tmp */
static int temp_of(const struct pq_sink *ps, const char *final, char *out, size_t cap) {
    size_t dn = strlen(ps->dir);
    const char *rel = strncmp(final, ps->dir, dn) == 0 && final[dn] == '/' ? final + dn + 1 : final;
    int n = snprintf(out, cap, "%s/%s.tmp", ps->tmpdir, rel);
    if (n < 0 || (size_t)n >= cap) return -1;
    for (char *c = out + strlen(ps->tmpdir) + 1; *c; c++)
        if (*c == '/') *c = '+';
    return 0;
}

char *ss_pq_sink_temp_path(const struct ss_sink *sk, const char *final) {
    char t[PATH_MAX];
    if (temp_of((const struct pq_sink *)sk, final, t, sizeof t)) return NULL;
    return ss_strdup(t);
}

static int open_file(struct pq_sink *ps, struct lake_file *sl, const struct ss_epoch *ep, struct ss_err *err) {
    int rc = make_dirs(sl->dir, err);
    if (rc) return rc;
    unsigned seq = sl->name_epoch == ep->epoch ? sl->seq + 1 : 0;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/part-%08" PRIu64 "-%04u-%s.parquet", sl->dir, ep->epoch, seq, ps->run) >=
        (int)sizeof path)
        return ss_err_set(err, SS_ERROR, "parquet: path too long under %s", sl->dir);
    char tmp[PATH_MAX];
    if (temp_of(ps, path, tmp, sizeof tmp)) return ss_err_set(err, SS_ERROR, "parquet: path too long under %s", ps->tmpdir);
    rc = ss_pq_open_at(&sl->w, path, tmp, &ss_tables[sl->table], &ps->opts, err);
    if (rc) {
        sl->w = NULL;
        return err && err->retriable ? SS_RETRY : SS_ERROR;
    }
    sl->name_epoch = ep->epoch;
    sl->seq = seq;
    sl->first_epoch = ep->epoch;
    sl->rows = 0;
    sl->opened_ms = ss_now_ms();
    sl->done_at_open = sl->done;
    return SS_OK;
}

/* Writes rows idx[0..n) of one (table, hour), rolling as described at the top. */
static int write_part(struct pq_sink *ps, struct lake_file *sl, const struct ss_epoch *ep, const uint32_t *idx, size_t n,
                      struct ss_err *err) {
    const struct ss_val *rows = ep->rows->t[sl->table].v;
    for (size_t k = 0; k < n;) {
        int rc;
        if (!sl->w && (rc = open_file(ps, sl, ep, err))) return rc;
        size_t take = n - k;
        if (take > ps->file_rows - sl->rows) take = ps->file_rows - sl->rows;
        if (take > ROLL_CHECK) take = ROLL_CHECK;
        unsigned seq = sl->seq;
        if ((rc = ss_pq_write(sl->w, rows, idx + k, take, err))) {
            ss_pq_abort(sl->w);
            return lost_file(sl, ep, seq, err);
        }
        k += take;
        sl->done += take;
        sl->rows += take;
        if ((sl->rows >= ps->file_rows || ss_pq_bytes(sl->w) >= (int64_t)ps->file_bytes) &&
            (rc = close_file(sl, ep, err)))
            return rc;
    }
    return SS_OK;
}

static int commit_table(struct pq_sink *ps, enum ss_table_id t, const struct ss_epoch *ep, struct ss_err *err) {
    group_rows(ps, t, ep);
    for (size_t p = 0; p < ps->nparts; p++) {
        const struct part *pt = &ps->parts[p];
        if (pt->count == 0) continue;
        int rc = SS_OK;
        struct lake_file *sl = file_for(ps, t, pt->hour, err, &rc);
        if (!sl) return rc;
        if (sl->done < pt->count && (rc = write_part(ps, sl, ep, ps->order + pt->start + sl->done,
                                                       pt->count - sl->done, err)))
            return rc;
    }
    return SS_OK;
}

/* A new epoch: nothing of it is written yet; slots without an open file are dropped. */
static void begin_epoch(struct pq_sink *ps, uint64_t epoch) {
    ps->epoch_now = epoch;
    size_t keep = 0;
    for (size_t i = 0; i < ps->nfiles; i++) {
        struct lake_file *sl = &ps->files[i];
        sl->done = 0;
        if (!sl->w && !sl->dir_unsynced) {
            ss_free(sl->dir);
            continue;
        }
        ps->files[keep++] = *sl;
    }
    ps->nfiles = keep;
}

static int pq_commit(struct ss_sink *sk, const struct ss_epoch *ep, struct ss_err *err) {
    struct pq_sink *ps = (struct pq_sink *)sk;
    utimensat(AT_FDCWD, ps->tmpdir, NULL, 0); /* alive, for other processes' sweeps */
    if (ep->epoch != ps->epoch_now) begin_epoch(ps, ep->epoch);
    for (int t = 0; t < SS_T_COUNT; t++) {
        if (!writes_table((enum ss_table_id)t) || ep->rows->t[t].n == 0) continue;
        int rc = commit_table(ps, (enum ss_table_id)t, ep, err);
        if (rc) return rc;
    }
    int64_t now = ss_now_ms();
    uint64_t durable = ep->epoch;
    for (size_t i = 0; i < ps->nfiles; i++) {
        struct lake_file *sl = &ps->files[i];
        int rc;
        if (sl->w && (ep->seal || ps->roll_interval_ms == 0 || now - sl->opened_ms >= ps->roll_interval_ms) &&
            (rc = close_file(sl, ep, err)))
            return rc;
        if (sl->dir_unsynced) {
            if ((rc = fsync_dir(sl->dir, err))) return rc;
            sl->dir_unsynced = false;
        }
        if (sl->w && sl->first_epoch - 1 < durable) durable = sl->first_epoch - 1;
    }
    ps->base.durable_epoch = durable;
    return SS_OK;
}

static void pq_close(struct ss_sink *sk) {
    struct pq_sink *ps = (struct pq_sink *)sk;
    if (!ps) return;
    /* files still open hold rows whose input positions were not committed: the next
     * run reads them again, so their temp files go */
    for (size_t i = 0; i < ps->nfiles; i++) {
        ss_pq_abort(ps->files[i].w);
        ss_free(ps->files[i].dir);
    }
    if (ps->tmpdir) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/owner", ps->tmpdir);
        unlink(p);
        rmdir(ps->tmpdir);
        snprintf(p, sizeof p, "%s/.tmp", ps->dir);
        rmdir(p); /* fails while another process has its directory there */
        ss_free(ps->tmpdir);
    }
    ss_free(ps->files);
    ss_free(ps->rowpart);
    ss_free(ps->order);
    ss_free(ps->parts);
    ss_free(ps->slots);
    ss_free(ps->dir);
    ss_free(ps);
}

static int parse_size(const char *key, const char *val, size_t *out, struct ss_err *err) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(val, &end, 10);
    if (errno || *end || x == 0 || x > UINT32_MAX || *val == '-')
        return ss_err_set(err, SS_EUSAGE, "parquet sink: %s must be a positive integer, got \"%s\"", key, val);
    *out = (size_t)x;
    return SS_OK;
}

static int parse_query(struct pq_sink *ps, char *q, struct ss_err *err) {
    char *save = NULL;
    for (char *kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) return ss_err_set(err, SS_EUSAGE, "parquet sink: expected key=value, got \"%s\"", kv);
        *eq = '\0';
        const char *val = eq + 1;
        int rc = SS_OK;
        if (strcmp(kv, "compression") == 0) {
            if (strcmp(val, "zstd") == 0) ps->opts.codec = SS_PQ_ZSTD;
            else if (strcmp(val, "snappy") == 0) ps->opts.codec = SS_PQ_SNAPPY;
            else if (strcmp(val, "none") == 0) ps->opts.codec = SS_PQ_UNCOMPRESSED;
            else
                rc = ss_err_set(err, SS_EUSAGE, "parquet sink: compression must be zstd, snappy or none, got \"%s\"",
                                val);
        } else if (strcmp(kv, "row_group_rows") == 0) {
            rc = parse_size(kv, val, &ps->opts.row_group_rows, err);
        } else if (strcmp(kv, "file_rows") == 0) {
            rc = parse_size(kv, val, &ps->file_rows, err);
        } else if (strcmp(kv, "file_bytes") == 0) {
            rc = parse_size(kv, val, &ps->file_bytes, err);
        } else if (strcmp(kv, "roll_interval") == 0) {
            if (ss_duration_parse(val, &ps->roll_interval_ms) != SS_OK || ps->roll_interval_ms < 0)
                rc = ss_err_set(err, SS_EUSAGE, "parquet sink: roll_interval must be a duration such as 5m, got \"%s\"",
                                val);
        } else {
            rc = ss_err_set(err, SS_EUSAGE,
                            "parquet sink: unknown option \"%s\" (known: compression, row_group_rows, file_rows, "
                            "file_bytes, roll_interval)",
                            kv);
        }
        if (rc) return rc;
    }
    return SS_OK;
}

/* A token that no earlier or concurrent writer of the lake used, with overwhelming
 * odds: 32 random bits (falling back to the clock and pid if getrandom fails). */
static void draw_run(char out[9]) {
    uint32_t r;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = (uint32_t)ss_hash_u64((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ (uint32_t)getpid();
    }
    snprintf(out, 9, "%08" PRIx32, r);
}

const char *ss_pq_sink_run(const struct ss_sink *sk) { return ((const struct pq_sink *)sk)->run; }

/* Whether the temp directory d (another run's) belongs to a process that is gone. */
static bool run_is_dead(const char *d, const char *host) {
    char p[PATH_MAX], owner_host[256] = "";
    long pid = 0;
    if (snprintf(p, sizeof p, "%s/owner", d) >= (int)sizeof p) return false;
    FILE *f = fopen(p, "r");
    if (f) {
        if (fscanf(f, "%255s %ld", owner_host, &pid) != 2) pid = 0;
        fclose(f);
    }
    if (pid > 0 && strcmp(owner_host, host) == 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH) return true;
    struct stat st;
    if (stat(d, &st) != 0) return false;
    int64_t mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    return ss_now_ms() - mtime_ms > STALE_MS;
}

/* Removes the temp directories of dead processes under DIR/.tmp (see the top). */
static void sweep_dead_runs(struct pq_sink *ps, const char *host) {
    char base[PATH_MAX];
    snprintf(base, sizeof base, "%s/.tmp", ps->dir);
    DIR *d = opendir(base);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, ps->run) == 0) continue;
        char run[PATH_MAX];
        if (snprintf(run, sizeof run, "%s/%s", base, e->d_name) >= (int)sizeof run || !run_is_dead(run, host)) continue;
        DIR *rd = opendir(run);
        int files = 0;
        if (rd) {
            struct dirent *f;
            while ((f = readdir(rd)) != NULL) {
                char fp[PATH_MAX];
                if (f->d_name[0] == '.' && (!f->d_name[1] || (f->d_name[1] == '.' && !f->d_name[2]))) continue;
                if (snprintf(fp, sizeof fp, "%s/%s", run, f->d_name) < (int)sizeof fp && unlink(fp) == 0 &&
                    strcmp(f->d_name, "owner") != 0)
                    files++;
            }
            closedir(rd);
        }
        if (rmdir(run) == 0)
            ss_warn("sink.parquet",
                    "msg=\"removed the temp files of a process that stopped without closing them (their rows are "
                    "read again from the input)\" dir=\"%s\" files=%d",
                    run, files);
    }
    closedir(d);
}

/* DIR/.tmp/<run> with its owner file, after sweeping dead runs' directories. */
static int make_tmpdir(struct pq_sink *ps, struct ss_err *err) {
    char host[256] = "?";
    if (gethostname(host, sizeof host - 1) != 0 || !*host) snprintf(host, sizeof host, "?");
    for (char *c = host; *c; c++)
        if (*c == ' ') *c = '_';
    sweep_dead_runs(ps, host);
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s/.tmp/%s", ps->dir, ps->run) >= (int)sizeof p)
        return ss_err_set(err, SS_EIO, "parquet sink: path too long: %s", ps->dir);
    ps->tmpdir = ss_strdup(p);
    int rc = make_dirs(ps->tmpdir, err);
    if (rc) return SS_EIO;
    snprintf(p, sizeof p, "%s/owner", ps->tmpdir);
    FILE *f = fopen(p, "w");
    bool ok = f && fprintf(f, "%s %ld\n", host, (long)getpid()) >= 0;
    int e = errno;
    if (f && fclose(f) != 0 && ok) { /* closed either way: never twice */
        ok = false;
        e = errno;
    }
    if (!ok) return ss_err_set(err, SS_EIO, "parquet sink: cannot write %s: %s", p, strerror(e));
    return SS_OK;
}

/* parquet:DIR[?OPTIONS] into ps: the directory, and the options over their defaults. */
static int parse_url(struct pq_sink *ps, const char *url, struct ss_err *err) {
    const char *spec = url + strlen("parquet:");
    ss_pq_opts_default(&ps->opts);
    ps->file_rows = 1000000;
    ps->file_bytes = DEFAULT_FILE_BYTES;
    const char *q = strchr(spec, '?');
    ps->dir = ss_strndup(spec, q ? (size_t)(q - spec) : strlen(spec));
    if (!*ps->dir) return ss_err_set(err, SS_EUSAGE, "parquet sink needs a directory: parquet:DIR");
    if (!q) return SS_OK;
    char *qs = ss_strdup(q + 1);
    int rc = parse_query(ps, qs, err);
    ss_free(qs);
    return rc;
}

static int pq_check(const char *url, const struct ss_config *cfg, struct ss_err *err) {
    (void)cfg;
    struct pq_sink *ps = ss_calloc(1, sizeof *ps);
    int rc = parse_url(ps, url, err);
    pq_close(&ps->base);
    return rc;
}

static int pq_open(struct ss_sink **out, const char *url, const struct ss_config *cfg, struct ss_err *err) {
    struct pq_sink *ps = ss_calloc(1, sizeof *ps);
    ps->base.type = &ss_sink_parquet;
    int rc = parse_url(ps, url, err);
    if (rc) goto fail;
    struct stat st;
    if (stat(ps->dir, &st) == 0 ? !S_ISDIR(st.st_mode) : errno == ENOTDIR) { /* the user's path to fix: exit 2 */
        rc = ss_err_set(err, SS_EUSAGE, "parquet sink: %s is not a directory (or a part of its path is not): "
                        "give the path of a directory", ps->dir);
        goto fail;
    }
    if ((rc = make_dirs(ps->dir, err))) {
        rc = SS_EIO;
        goto fail;
    }
    if (access(ps->dir, W_OK) != 0) {
        rc = ss_err_set(err, SS_EIO, "parquet sink: cannot write to %s: %s", ps->dir, strerror(errno));
        goto fail;
    }
    draw_run(ps->run);
    if ((rc = make_tmpdir(ps, err))) goto fail;
    ss_info("sink.parquet", "msg=\"opened\" dir=\"%s\" run=%s", ps->dir, ps->run);
    if (ps->roll_interval_ms == 0 && ss_config_reads_kafka(cfg))
        ss_info("sink.parquet",
                "msg=\"each table writes a file per hour partition every epoch (epoch.interval); "
                "parquet:DIR?roll_interval=5m keeps files open longer and makes them larger\" dir=\"%s\"",
                ps->dir);
    *out = &ps->base;
    return SS_OK;
fail:
    pq_close(&ps->base);
    return rc;
}

const struct ss_sink_type ss_sink_parquet = {
    .name = "parquet",
    .scheme = "parquet:",
    .flags = SS_SINK_EVENTS | SS_SINK_HOLDS,
    .open = pq_open,
    .check = pq_check,
    .commit = pq_commit,
    .close = pq_close,
};
