/* sqlite.c — the SQLite sink (`--sink sqlite:PATH`), the last stage of the pipeline
 * for a single-file database: `make demo` writes here, analysts query it directly.
 *
 * The schema, upserts and epoch fence are those of the PostgreSQL sink, derived in
 * sql_schema.c (types: see sql_schema.h). The database runs in WAL mode with
 * synchronous=FULL: one fsync per epoch is cheap, and an epoch the engine believes
 * committed must survive a power cut. Each epoch is one BEGIN IMMEDIATE transaction:
 * the epoch fence first (fence.c: a replayed epoch changes nothing and ends there;
 * another process writing to the same file stops this one), then one
 * prepared upsert per row, then the input positions. Rows of one epoch that share a
 * key (a provisional then the final row of a window) simply upsert in order. A
 * database file deleted or replaced under the run fails the commit (check_in_place).
 * One process writes a file at a time (its flock, as the JSONL sink's directory): a second
 * run on it is refused at open, before its first commit would fence out the first run. */
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/dirs.h"
#include "../core/log.h"
#include "../core/utf8.h"
#include "fence.h"
#include "sql_schema.h"
#include "sql_sinks.h"

#define COMP "sink.sqlite"
#define MAX_COLS 64

/* The key of this sink's row in shopstream_epoch. */
static const char SINK_NAME[] = "sqlite";

struct lite_sink {
    struct ss_sink base;
    sqlite3 *db;
    char *path;
    int lock_fd; /* the database file, flock()ed while this sink writes it (-1: none) */
    sqlite3_stmt *upsert[SS_T_COUNT];
    sqlite3_stmt *stale[SS_T_COUNT]; /* windowed tables: drop provisional rows of finished windows */
    sqlite3_stmt *offsets, *fence, *stored; /* stored: the epoch the file holds */
    struct ss_fence epochs;
    struct ss_buf scratch; /* a sanitised string value */
};

/* Errors that can go away on their own: a lock held by a reader or another writer,
 * a full disk, an I/O error. */
static bool transient(int rc) {
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_NOMEM:
        return true;
    default:
        return false;
    }
}

/* Fills err from the connection's last error (read before anything else runs), rolls
 * back an open transaction and classifies. */
static int fail(struct lite_sink *ls, int rc, const char *what, const char *table, struct ss_err *err) {
    int code = transient(rc) ? SS_RETRY : SS_ERROR;
    ss_err_set(err, code, "SQLite %s: %s%s%s: %s (code %d)%s", ls->path, what, table ? " " : "",
               table ? table : "", ls->db ? sqlite3_errmsg(ls->db) : sqlite3_errstr(rc), rc,
               code == SS_RETRY ? "; will retry" : "");
    if (ls->db && !sqlite3_get_autocommit(ls->db)) sqlite3_exec(ls->db, "ROLLBACK", NULL, NULL, NULL);
    return code;
}

static int exec(struct lite_sink *ls, const char *sql, const char *what, const char *table, struct ss_err *err) {
    int rc = sqlite3_exec(ls->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? SS_OK : fail(ls, rc, what, table, err);
}

/* Creates tb when absent, checks it against the contract when present. */
static int ensure_table(struct lite_sink *ls, const struct ss_table *tb, struct ss_err *err) {
    sqlite3_stmt *st = NULL;
    struct ss_sql_have have[MAX_COLS];
    int n = 0;
    int rc = sqlite3_prepare_v2(ls->db, "SELECT name, type, pk FROM pragma_table_info(?1)", -1, &st, NULL);
    if (rc != SQLITE_OK) return fail(ls, rc, "reading the schema of", tb->name, err);
    sqlite3_bind_text(st, 1, tb->name, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == MAX_COLS) continue;
        const unsigned char *name = sqlite3_column_text(st, 0), *type = sqlite3_column_text(st, 1);
        snprintf(have[n].name, sizeof have[n].name, "%s", name ? (const char *)name : "");
        snprintf(have[n].type, sizeof have[n].type, "%s", type ? (const char *)type : "");
        have[n].pk = sqlite3_column_int(st, 2) != 0;
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return fail(ls, rc, "reading the schema of", tb->name, err);
    if (n > 0) return ss_sql_check(SS_SQL_SQLITE, tb, have, n, err);
    char *ddl = ss_sql_create(SS_SQL_SQLITE, tb);
    rc = exec(ls, ddl, "creating table", tb->name, err);
    ss_free(ddl);
    return rc;
}

static int prepare(struct lite_sink *ls, char *sql, sqlite3_stmt **st, const char *table, struct ss_err *err) {
    int rc = sqlite3_prepare_v3(ls->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    ss_free(sql);
    return rc == SQLITE_OK ? SS_OK : fail(ls, rc, "preparing the upsert for", table, err);
}

static void lite_close(struct ss_sink *sk) {
    struct lite_sink *ls = (struct lite_sink *)sk;
    if (!ls) return;
    for (int t = 0; t < SS_T_COUNT; t++) sqlite3_finalize(ls->upsert[t]);
    for (int t = 0; t < SS_T_COUNT; t++) sqlite3_finalize(ls->stale[t]);
    sqlite3_finalize(ls->offsets);
    sqlite3_finalize(ls->fence);
    sqlite3_finalize(ls->stored);
    if (ls->db) sqlite3_close(ls->db);
    if (ls->lock_fd >= 0) close(ls->lock_fd);
    ss_buf_free(&ls->scratch);
    ss_free(ls->path);
    ss_free(ls);
}

/* The epoch the file holds (0: none yet). */
static int read_stored(struct lite_sink *ls, uint64_t *stored, struct ss_err *err) {
    sqlite3_bind_text(ls->stored, 1, SINK_NAME, -1, SQLITE_STATIC);
    int rc = sqlite3_step(ls->stored);
    *stored = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(ls->stored, 0) : 0;
    sqlite3_reset(ls->stored);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SS_OK : fail(ls, rc, "reading", ss_sql_epoch_table.name, err);
}

static int log_resume(struct lite_sink *ls, struct ss_err *err) {
    uint64_t stored;
    int code = read_stored(ls, &stored, err);
    if (code) return code;
    ls->base.committed_epoch = stored;
    ss_fence_init(&ls->epochs, stored);
    if (stored)
        ss_info(COMP, "msg=\"opened\" path=\"%s\" committed_epoch=%llu", ls->path, (unsigned long long)stored);
    else
        ss_info(COMP, "msg=\"opened\" path=\"%s\" committed_epoch=none", ls->path);
    return SS_OK;
}

/* sqlite:PATH: the path (into url). */
static int parse_url(const char *url, const char **path, struct ss_err *err) {
    *path = url + strlen("sqlite:");
    if (!**path) return ss_err_set(err, SS_EUSAGE, "sqlite: needs a file path, e.g. --sink sqlite:out/shop.db");
    /* every other sink reads options after '?': a "?" here is a mistyped option, not a file name */
    if (strchr(*path, '?'))
        return ss_err_set(err, SS_EUSAGE, "sqlite sink takes no options (got \"%s\"): --sink sqlite:PATH", *path);
    return SS_OK;
}

static int lite_check(const char *url, const struct ss_config *cfg, struct ss_err *err) {
    (void)cfg;
    const char *path;
    return parse_url(url, &path, err);
}

static int lite_open(struct ss_sink **out, const char *url, const struct ss_config *cfg, struct ss_err *err) {
    (void)cfg;
    *out = NULL;
    const char *path;
    int code = parse_url(url, &path, err);
    if (code) return code;
    struct lite_sink *ls = ss_calloc(1, sizeof *ls);
    ls->base.type = &ss_sink_sqlite;
    ls->path = ss_strdup(path);
    ls->lock_fd = -1;
    /* like the other file sinks, a missing directory is created (the default, run without
     * --sink, writes data/shopstream.db); ":memory:" and bare names have none */
    if ((code = ss_mkdirs_for_file(path, err)) != SS_OK) goto fail;
    int rc = sqlite3_open_v2(path, &ls->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        /* a path in a missing directory or without permission: the user must fix it */
        ss_err_set(err, transient(rc) && rc != SQLITE_CANTOPEN ? SS_RETRY : SS_EUSAGE,
                   "cannot open SQLite database %s: %s", path, ls->db ? sqlite3_errmsg(ls->db) : sqlite3_errstr(rc));
        code = err ? err->code : SS_EUSAGE;
        goto fail;
    }
    sqlite3_extended_result_codes(ls->db, 1);
    sqlite3_busy_timeout(ls->db, 5000);
    /* A second writer was caught by the epoch fence only, at its first commit, and that
     * stopped the run that had been writing the file (exit 1), not the newcomer. The lock
     * is taken on the file SQLite opened (created when new); an in-memory database has none.
     * SQLite's own locks are fcntl() byte ranges, which flock() does not touch. */
    const char *file = sqlite3_db_filename(ls->db, "main");
    if (file && *file &&
        (code = ss_lock_exclusive(file, false, "database file",
                                  "give each run its own database (processes on one file overwrite each other's rows)",
                                  &ls->lock_fd, err)))
        goto fail;
    /* journal_mode answers with the mode it chose; an in-memory database stays "memory" */
    if ((code = exec(ls, "PRAGMA journal_mode=WAL", "setting WAL mode", NULL, err)) ||
        (code = exec(ls, "PRAGMA synchronous=FULL", "setting synchronous", NULL, err)) ||
        (code = exec(ls, "BEGIN IMMEDIATE", "starting the schema transaction", NULL, err)))
        goto fail;
    for (int t = 0; t < SS_T_COUNT; t++)
        if (ss_sql_writes((enum ss_table_id)t) && (code = ensure_table(ls, &ss_tables[t], err))) goto fail;
    if ((code = ensure_table(ls, &ss_sql_offsets_table, err)) || (code = ensure_table(ls, &ss_sql_epoch_table, err)) ||
        (code = exec(ls, "COMMIT", "committing the schema", NULL, err)))
        goto fail;
    for (int t = 0; t < SS_T_COUNT; t++)
        if (ss_sql_writes((enum ss_table_id)t) &&
            (code = prepare(ls, ss_sql_upsert(SS_SQL_SQLITE, &ss_tables[t], false), &ls->upsert[t],
                            ss_tables[t].name, err)))
            goto fail;
    for (int t = 0; t < SS_T_COUNT; t++)
        if (ss_sql_writes((enum ss_table_id)t) && ss_tables[t].final_col >= 0 &&
            (code = prepare(ls, ss_sql_delete_stale(SS_SQL_SQLITE, &ss_tables[t]), &ls->stale[t], ss_tables[t].name,
                            err)))
            goto fail;
    if ((code = prepare(ls, ss_sql_upsert(SS_SQL_SQLITE, &ss_sql_offsets_table, false), &ls->offsets,
                        ss_sql_offsets_table.name, err)) ||
        (code = prepare(ls, ss_sql_upsert(SS_SQL_SQLITE, &ss_sql_epoch_table, false), &ls->fence,
                        ss_sql_epoch_table.name, err)) ||
        (code = prepare(ls, ss_strdup("SELECT \"epoch\" FROM \"shopstream_epoch\" WHERE \"sink\" = ?1"), &ls->stored,
                        ss_sql_epoch_table.name, err)) ||
        (code = log_resume(ls, err)))
        goto fail;
    *out = &ls->base;
    return SS_OK;
fail:
    if (ls->db && !sqlite3_get_autocommit(ls->db)) sqlite3_exec(ls->db, "ROLLBACK", NULL, NULL, NULL);
    lite_close(&ls->base);
    return code;
}

static void bind_row(struct lite_sink *ls, sqlite3_stmt *st, const struct ss_table *tb, const struct ss_val *row) {
    for (int c = 0; c < tb->ncols; c++) {
        const struct ss_val *v = &row[c];
        int i = c + 1;
        if (v->null) {
            sqlite3_bind_null(st, i);
            continue;
        }
        switch (tb->cols[c].type) {
        case SS_COL_STR:
        case SS_COL_JSON: {
            const char *s = v->s ? v->s : "";
            size_t n = v->s ? v->len : 0;
            if (ss_utf8_valid_prefix(s, n, false) == n) {
                sqlite3_bind_text(st, i, s, (int)n, SQLITE_STATIC);
            } else {
                ls->scratch.len = 0;
                ss_utf8_repair(&ls->scratch, s, n, false);
                sqlite3_bind_text(st, i, ls->scratch.p, (int)ls->scratch.len, SQLITE_TRANSIENT);
            }
            break;
        }
        case SS_COL_INT: sqlite3_bind_int64(st, i, v->i); break;
        case SS_COL_BOOL: sqlite3_bind_int(st, i, v->i != 0); break;
        default: {
            char buf[32];
            int n = ss_sql_format(tb->cols[c].type, v->i, buf);
            sqlite3_bind_text(st, i, buf, n, SQLITE_TRANSIENT);
        }
        }
    }
}

static int step(struct lite_sink *ls, sqlite3_stmt *st, const char *what, const char *table, struct ss_err *err) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SS_OK : fail(ls, rc, what, table, err);
}

/* The database file is still at its path. A file deleted while the run writes it (its
 * directory removed by a clean-up job) or replaced by another file keeps taking
 * commits in WAL mode, into an inode nobody can open: without this check the run ended
 * with exit 0 and no database. Checked after the COMMIT so that the last epoch of a
 * bounded run is covered. Fatal, not SS_RETRY: the epochs committed to the lost file
 * cannot be written again. */
static int check_in_place(struct lite_sink *ls, struct ss_err *err) {
    int moved = 0;
    if (sqlite3_file_control(ls->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK || !moved) return SS_OK;
    return ss_err_set(err, SS_ERROR,
                      "SQLite %s was removed or replaced while the run was writing it: the epochs committed so far "
                      "went with it; run again with a database that is left alone",
                      ls->path);
}

static int lite_commit(struct ss_sink *sk, const struct ss_epoch *ep, struct ss_err *err) {
    struct lite_sink *ls = (struct lite_sink *)sk;
    int code;
    /* BEGIN IMMEDIATE takes the write lock: the stored epoch cannot move until COMMIT */
    if ((code = exec(ls, "BEGIN IMMEDIATE", "starting the epoch transaction", NULL, err))) return code;
    uint64_t stored;
    enum ss_fence_verdict verdict;
    char where[300];
    snprintf(where, sizeof where, "SQLite %s", ls->path);
    if ((code = read_stored(ls, &stored, err))) return code;
    if ((code = ss_fence_decide(&ls->epochs, stored, ep->epoch, where, &verdict, err))) {
        sqlite3_exec(ls->db, "ROLLBACK", NULL, NULL, NULL);
        return code;
    }
    if (verdict == SS_FENCE_REPLAY) {
        ss_debug(COMP, "msg=\"epoch already committed\" epoch=%llu", (unsigned long long)ep->epoch);
        return exec(ls, "ROLLBACK", "ending a replayed epoch", NULL, err);
    }
    sqlite3_bind_text(ls->fence, SS_EPO_SINK + 1, SINK_NAME, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ls->fence, SS_EPO_EPOCH + 1, (sqlite3_int64)ep->epoch);
    if ((code = step(ls, ls->fence, "fencing the epoch in", ss_sql_epoch_table.name, err))) return code;
    for (int t = 0; ep->rows && t < SS_T_COUNT; t++) {
        if (!ss_sql_writes((enum ss_table_id)t)) continue;
        const struct ss_table *tb = &ss_tables[t];
        int64_t cleaned = INT64_MIN; /* the window whose provisional leftovers were deleted last */
        for (size_t r = 0; r < ep->rows->t[t].n; r++) {
            const struct ss_val *row = ss_out_get(ep->rows, (enum ss_table_id)t, r);
            bind_row(ls, ls->upsert[t], tb, row);
            if ((code = step(ls, ls->upsert[t], "upserting into", tb->name, err))) return code;
            if (ls->stale[t] && row[tb->final_col].i && row[0].i != cleaned) {
                cleaned = row[0].i;
                const struct ss_table first = {tb->name, 1, tb->cols, -1, 0}; /* ?1: window_start */
                bind_row(ls, ls->stale[t], &first, row);
                if ((code = step(ls, ls->stale[t], "removing provisional rows from", tb->name, err))) return code;
            }
        }
    }
    for (int p = 0; p < ep->npositions; p++) {
        const struct ss_position *pos = &ep->positions[p];
        sqlite3_bind_text(ls->offsets, SS_OFF_SOURCE + 1, pos->source, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ls->offsets, SS_OFF_PARTITION + 1, pos->partition);
        sqlite3_bind_int64(ls->offsets, SS_OFF_NEXT_OFFSET + 1, pos->next_offset);
        sqlite3_bind_int64(ls->offsets, SS_OFF_EPOCH + 1, (sqlite3_int64)ep->epoch);
        if ((code = step(ls, ls->offsets, "recording positions in", ss_sql_offsets_table.name, err))) return code;
    }
    /* an SQLite COMMIT answers in-process: its outcome is never unknown */
    code = exec(ls, "COMMIT", "committing epoch", NULL, err);
    ss_fence_answered(&ls->epochs, ep->epoch, code == SS_OK);
    return code ? code : check_in_place(ls, err);
}

const struct ss_sink_type ss_sink_sqlite = {
    .name = "sqlite",
    .scheme = "sqlite:",
    .flags = SS_SINK_PROVISIONAL,
    .open = lite_open,
    .check = lite_check,
    .commit = lite_commit,
    .close = lite_close,
};
