/* postgres.c — the PostgreSQL sink (`--sink postgresql://USER@HOST:PORT/DB`, libpq), the
 * last stage of the pipeline for the shared analytics database.
 *
 * Schema, upsert text and the epoch fence come from sql_schema.c, so this sink and
 * the SQLite one cannot drift apart. Each epoch is one transaction:
 *   BEGIN; fence (the stored epoch, read FOR UPDATE; fence.c tells a replay, which
 *   rolls back, from another process writing here, which stops us); per table: COPY the rows (binary format) into a session TEMP staging
 *   table (ON COMMIT DELETE ROWS), INSERT INTO t SELECT ... FROM staging ON CONFLICT (key)
 *   DO UPDATE; the shopstream_offsets rows; COMMIT.
 * COPY carries the values, statements carry parameters: no SQL is built from data.
 *
 * Within one epoch a key can repeat (a window's provisional row, then its final row);
 * ON CONFLICT cannot touch one row twice in a statement, so only the last row per key
 * is copied (an open-addressing table over the key columns, reused across epochs).
 *
 * Failures: a lost connection (or a transient SQLSTATE: 08, 40, 53, 57P, 55P03, 58)
 * rolls back, drops the connection and answers SS_RETRY; the engine pauses input and
 * calls commit again with the same epoch, which reconnects and recreates the staging
 * tables. A COMMIT whose answer was lost is harmless: the retry meets the fence.
 *
 * One writer per database: every connection takes a session advisory lock (take_lock).
 * Without it a second run on the database (a backfill started into the production one by
 * mistake) was only found by the epoch fence at its first commit, and whichever process
 * committed second stopped: often the one that had been writing all along. Now the
 * newcomer waits at open, for sink.connect_timeout, and the running process is never
 * disturbed. A session whose client died holds the lock until the server notices, so
 * the connection asks the server for TCP keepalives of its own (~25 s to notice a dead
 * peer; the OS default is two hours), and a reconnect ends this process's own previous
 * session when the server still has it. The fence stays, for a writer past the lock. */
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/hash.h"
#include "../core/log.h"
#include "../core/utf8.h"
#include "../core/timefmt.h"
#include "fence.h"
#include "sql_schema.h"
#include "sql_sinks.h"

#define COMP "sink.postgres"
#define MAX_COLS 64
#define COPY_CHUNK (1u << 20) /* bytes handed to libpq at a time */
#define WHERE_LEN 256

/* The key of this sink's row in shopstream_epoch. */
static const char SINK_NAME[] = "postgresql";

struct pg_sink {
    struct ss_sink base;
    PGconn *conn;            /* NULL while disconnected */
    bool staged;             /* the TEMP staging tables exist on conn */
    char *url;
    char where[WHERE_LEN];   /* user@host:port/db for messages: never the password */
    char *stage_ddl[SS_T_COUNT], *copy_sql[SS_T_COUNT], *upsert_sql[SS_T_COUNT];
    char *stale_sql[SS_T_COUNT]; /* windowed tables: drop provisional rows of finished windows */
    char *offsets_sql, *fence_sql;
    struct ss_fence epochs;
    struct ss_buf buf;       /* COPY data */
    struct ss_buf scratch;   /* a sanitised string value */
    uint32_t *slots;         /* dedup: row + 1 per slot, 0 = empty */
    size_t nslots;
    uint8_t *dead;           /* dedup: 1 = a later row of this epoch has the same key */
    size_t dead_cap;
    int lock_pid;            /* the backend that holds our writer lock; 0 before the first */
    char lock_since[64];     /* its backend_start: a pid alone may have been reused */
};

/* The advisory lock key of shopstream's writer ("shop"); advisory locks are per
 * database, so it says "a shopstream process writes this database". In pg_locks a
 * bigint key shows as classid (high half), objid (low half), objsubid 1. */
#define WRITER_LOCK "1936224112"

static void quiet_notice(void *arg, const char *msg) {
    (void)arg;
    ss_debug(COMP, "msg=\"server notice\" notice=\"%.*s\"", (int)strcspn(msg, "\n"), msg);
}

/* libpq messages span lines ("...failed: Connection refused\n\tIs the server..."). */
static void one_line(char *dst, size_t cap, const char *src) {
    size_t n = 0;
    for (; *src && n + 1 < cap; src++) {
        char c = *src;
        if (c == '\n' || c == '\t' || c == '\r') {
            if (n && dst[n - 1] != ' ' && src[1]) dst[n++] = ' ';
            continue;
        }
        dst[n++] = c;
    }
    while (n && dst[n - 1] == ' ') n--;
    dst[n] = '\0';
}

static void disconnect(struct pg_sink *ps) {
    if (ps->conn) PQfinish(ps->conn);
    ps->conn = NULL;
    ps->staged = false;
}

static bool transient_state(const char *st) {
    if (!st) return false;
    return strncmp(st, "08", 2) == 0 || strncmp(st, "40", 2) == 0 || strncmp(st, "53", 2) == 0 ||
           strncmp(st, "57P", 3) == 0 || strncmp(st, "58", 2) == 0 || strcmp(st, "55P03") == 0;
}

/* Classifies a failure (res may be NULL: a libpq call failed), fills err, clears res,
 * and leaves the connection either idle outside a transaction or dropped. */
static int fail(struct pg_sink *ps, PGresult *res, const char *what, const char *table, struct ss_err *err) {
    const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char state[8] = "";
    if (sqlstate) snprintf(state, sizeof state, "%s", sqlstate);
    const char *raw = res && *PQresultErrorMessage(res) ? PQresultErrorMessage(res) : PQerrorMessage(ps->conn);
    char msg[384];
    one_line(msg, sizeof msg, raw);
    PQclear(res);
    bool lost = PQstatus(ps->conn) == CONNECTION_BAD;
    if (!lost && PQtransactionStatus(ps->conn) != PQTRANS_IDLE) {
        /* drain a COPY that failed, then end the transaction */
        PGresult *r;
        while ((r = PQgetResult(ps->conn))) {
            bool copying = PQresultStatus(r) == PGRES_COPY_IN;
            PQclear(r);
            if (copying && PQputCopyEnd(ps->conn, "shopstream: epoch aborted") != 1) break;
        }
        r = PQexec(ps->conn, "ROLLBACK");
        PQclear(r);
        lost = PQstatus(ps->conn) == CONNECTION_BAD || PQtransactionStatus(ps->conn) != PQTRANS_IDLE;
    }
    /* classified after the clean-up: a server that died mid-COPY can first surface as a
     * failed result ("server closed the connection unexpectedly") on a connection libpq
     * still calls good, and only the ROLLBACK shows it lost. That is a retry, not a
     * fatal error (e2e 0101's crash driver met it once in a CI run). */
    int code = lost || transient_state(*state ? state : NULL) ? SS_RETRY : SS_ERROR;
    ss_err_set(err, code, "PostgreSQL %s: %s%s%s: %s%s%s%s", ps->where, what, table ? " " : "", table ? table : "",
               *state ? "SQLSTATE " : "", state, *state ? ": " : "", msg);
    if (code == SS_RETRY) ss_err_wrap(err, "%s", lost ? "connection lost, will reconnect and retry the epoch" :
                                                        "transient error, will retry the epoch");
    if (lost) disconnect(ps);
    return code;
}

/* Runs a statement without parameters (extended protocol: one statement only). */
static int run(struct pg_sink *ps, const char *sql, ExecStatusType want, const char *what, const char *table,
               struct ss_err *err) {
    PGresult *res = PQexecParams(ps->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != want) return fail(ps, res, what, table, err);
    PQclear(res);
    return SS_OK;
}

/* Takes the writer lock on a new connection (see the top of the file). Held by another
 * session: this process's own previous one, still open on the server after a connection
 * loss, is ended and the commit retried; at open, another process's is waited for
 * (SS_RETRY: the engine retries for sink.connect_timeout); after a reconnect, another
 * process has taken the database while this one was away, which stops this one. */
static int take_lock(struct pg_sink *ps, struct ss_err *err) {
    PGresult *res = PQexecParams(ps->conn,
                                 "SELECT pg_try_advisory_lock(" WRITER_LOCK "), pg_backend_pid(), "
                                 "(SELECT backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid())",
                                 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) return fail(ps, res, "taking shopstream's writer lock", NULL, err);
    if (PQgetvalue(res, 0, 0)[0] == 't') {
        ps->lock_pid = atoi(PQgetvalue(res, 0, 1));
        snprintf(ps->lock_since, sizeof ps->lock_since, "%s", PQgetvalue(res, 0, 2));
        PQclear(res);
        return SS_OK;
    }
    PQclear(res);
    res = PQexecParams(ps->conn,
                       "SELECT a.pid, a.backend_start::text, coalesce(host(a.client_addr), 'a local socket or an address not shown to this role'), "
                       "a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                       "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = " WRITER_LOCK
                       " AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                       0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) return fail(ps, res, "finding the holder of shopstream's writer lock", NULL, err);
    int pid = 0;
    char since[64] = "", from[80] = "", app[80] = "";
    if (PQntuples(res) == 1) {
        pid = atoi(PQgetvalue(res, 0, 0));
        snprintf(since, sizeof since, "%s", PQgetvalue(res, 0, 1));
        snprintf(from, sizeof from, "%s", PQgetvalue(res, 0, 2));
        snprintf(app, sizeof app, "%s", PQgetvalue(res, 0, 3));
    }
    PQclear(res);
    if (pid && pid == ps->lock_pid && strcmp(since, ps->lock_since) == 0) {
        char p[16];
        snprintf(p, sizeof p, "%d", pid);
        const char *params[1] = {p};
        PQclear(PQexecParams(ps->conn, "SELECT pg_terminate_backend($1::int)", 1, NULL, params, NULL, NULL, 0));
        disconnect(ps);
        /* logged here: the engine logs only some of its retries */
        ss_warn(COMP, "msg=\"ended this process's previous session, which still held the writer lock after the "
                      "connection was lost\" db=\"%s\" backend=%d",
                ps->where, pid);
        return ss_err_set(err, SS_RETRY,
                          "PostgreSQL %s: this process's previous session (backend %d) still held the writer lock "
                          "after the connection was lost; ended it, will retry",
                          ps->where, pid);
    }
    disconnect(ps);
    if (ps->lock_pid)
        return ss_err_set(err, SS_ERROR,
                          "PostgreSQL %s: while this process was disconnected, another shopstream process took the "
                          "database (backend %d from %s, application_name \"%s\", since %s); stopping: give each run "
                          "its own database",
                          ps->where, pid, from, app, since);
    return ss_err_set(err, SS_RETRY,
                      "PostgreSQL %s: another shopstream process is writing this database (backend %d from %s, "
                      "application_name \"%s\", since %s, holds shopstream's writer lock); give each run its own "
                      "database. Waiting for it to end: a session whose process died ends when the server notices, "
                      "within ~30 s",
                      ps->where, pid, from, app, since);
}

static int connect_db(struct pg_sink *ps, struct ss_err *err) {
    /* defaults first: values in the URL override them (expand_dbname) */
    /* temp_buffers: the staging tables of one epoch stay in memory (the 8MB default
     * spills an epoch of 100K rows to disk); it can only be set before they exist. */
    const char *const keys[] = {"connect_timeout", "application_name", "client_encoding", "keepalives",
                                "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                                "options", "dbname", NULL};
    /* the server's keepalives: a session whose client died releases the writer lock in
     * ~25 s instead of the OS default of two hours (take_lock) */
    const char *const vals[] = {"10", "shopstream", "UTF8", "1", "10", "5", "3", "30000",
                                "-c temp_buffers=64MB -c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 "
                                "-c tcp_keepalives_count=3",
                                ps->url, NULL};
    disconnect(ps);
    ps->conn = PQconnectdbParams(keys, vals, 1);
    if (!ps->conn) return ss_err_set(err, SS_RETRY, "PostgreSQL %s: libpq could not allocate a connection", ps->where);
    if (PQstatus(ps->conn) != CONNECTION_OK) {
        char msg[384];
        one_line(msg, sizeof msg, PQerrorMessage(ps->conn));
        disconnect(ps);
        return ss_err_set(err, SS_RETRY, "cannot connect to PostgreSQL %s: %s", ps->where, msg);
    }
    PQsetNoticeProcessor(ps->conn, quiet_notice, NULL);
    return take_lock(ps, err);
}

/* Creates tb when absent, checks it against the contract when present. */
static int ensure_table(struct pg_sink *ps, const struct ss_table *tb, struct ss_err *err) {
    static const char q[] =
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
        "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary "
        "AND a.attnum = ANY (i.indkey)) "
        "FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum";
    char quoted[80];
    snprintf(quoted, sizeof quoted, "\"%s\"", tb->name);
    const char *params[1] = {quoted};
    PGresult *res = PQexecParams(ps->conn, q, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) return fail(ps, res, "reading the schema of", tb->name, err);
    struct ss_sql_have have[MAX_COLS];
    int n = PQntuples(res) < MAX_COLS ? PQntuples(res) : MAX_COLS;
    for (int r = 0; r < n; r++) {
        snprintf(have[r].name, sizeof have[r].name, "%s", PQgetvalue(res, r, 0));
        snprintf(have[r].type, sizeof have[r].type, "%s", PQgetvalue(res, r, 1));
        have[r].pk = PQgetvalue(res, r, 2)[0] == 't';
    }
    PQclear(res);
    /* Ratio columns were numeric(9,4) before, too narrow for cart_to_purchase (buyers
     * need not have carted: 1 carter and 100000 buyers is 100000), and one such row
     * stopped the run with a numeric overflow. A table of that version is widened in
     * place: every value it holds fits the new type. */
    for (int r = 0; r < n; r++)
        for (int c = 0; c < tb->ncols; c++) {
            if (tb->cols[c].type != SS_COL_RATIO || strcmp(have[r].name, tb->cols[c].name) != 0 ||
                strcmp(have[r].type, "numeric(9,4)") != 0)
                continue;
            char alter[200];
            const char *want = ss_sql_type(SS_SQL_PG, SS_COL_RATIO);
            snprintf(alter, sizeof alter, "ALTER TABLE \"%s\" ALTER COLUMN \"%s\" TYPE %s", tb->name, have[r].name, want);
            int code = run(ps, alter, PGRES_COMMAND_OK, "widening a ratio column of", tb->name, err);
            if (code) return code;
            ss_info(COMP, "msg=\"widened a ratio column\" table=%s column=%s type=\"%s\"", tb->name, have[r].name, want);
            snprintf(have[r].type, sizeof have[r].type, "%s", want);
        }
    if (n > 0) return ss_sql_check(SS_SQL_PG, tb, have, n, err);
    char *ddl = ss_sql_create(SS_SQL_PG, tb);
    int code = run(ps, ddl, PGRES_COMMAND_OK, "creating table", tb->name, err);
    ss_free(ddl);
    return code;
}

static void log_resume(struct pg_sink *ps) {
    const char *params[1] = {SINK_NAME};
    PGresult *res = PQexecParams(ps->conn, "SELECT \"epoch\" FROM \"shopstream_epoch\" WHERE \"sink\" = $1", 1,
                                 NULL, params, NULL, NULL, 0);
    bool have = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    if (have) ps->base.committed_epoch = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    ss_fence_init(&ps->epochs, ps->base.committed_epoch);
    ss_info(COMP, "msg=\"connected\" db=\"%s\" committed_epoch=%s", ps->where, have ? PQgetvalue(res, 0, 0) : "none");
    PQclear(res);
}

static void pg_close(struct ss_sink *sk) {
    struct pg_sink *ps = (struct pg_sink *)sk;
    if (!ps) return;
    disconnect(ps);
    for (int t = 0; t < SS_T_COUNT; t++) {
        ss_free(ps->stage_ddl[t]);
        ss_free(ps->copy_sql[t]);
        ss_free(ps->upsert_sql[t]);
        ss_free(ps->stale_sql[t]);
    }
    ss_free(ps->offsets_sql);
    ss_free(ps->fence_sql);
    ss_buf_free(&ps->buf);
    ss_buf_free(&ps->scratch);
    ss_free(ps->slots);
    ss_free(ps->dead);
    ss_free(ps->url);
    ss_free(ps);
}

/* user@host:port/db from the parsed URL, for messages. */
static void describe(PQconninfoOption *opts, char *where, size_t cap) {
    const char *user = "", *host = "", *port = "", *db = "";
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val) continue;
        if (strcmp(o->keyword, "user") == 0) user = o->val;
        else if (strcmp(o->keyword, "host") == 0 || (strcmp(o->keyword, "hostaddr") == 0 && !*host)) host = o->val;
        else if (strcmp(o->keyword, "port") == 0) port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0) db = o->val;
    }
    snprintf(where, cap, "%s%s%s%s%s/%s", user, *user ? "@" : "", *host ? host : "localhost", *port ? ":" : "",
             port, db);
}

/* A port, or ports for several hosts ("5432,5433"; an empty one means the default):
 * libpq accepts any text here and fails only when it connects, which would be retried
 * for sink.connect_timeout as if the server were down. */
static bool ports_ok(const char *v) {
    for (const char *p = v;;) {
        long n = 0;
        const char *d = p;
        while (*p >= '0' && *p <= '9' && n <= 65535) n = n * 10 + (*p++ - '0');
        if ((p > d && (n < 1 || n > 65535)) || (*p && *p != ',')) return false;
        if (!*p) return true;
        p++;
    }
}

/* Parses url as libpq will (PQconninfoParse: offline, no connection) and fills where
 * with user@host:port/db for messages. */
static int parse_url(const char *url, char *where, size_t cap, struct ss_err *err) {
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (!opts) {
        char msg[256];
        one_line(msg, sizeof msg, perr ? perr : "out of memory");
        PQfreemem(perr);
        return ss_err_set(err, SS_EUSAGE, "bad PostgreSQL URL (expected postgresql://USER@HOST:PORT/DB): %s", msg);
    }
    describe(opts, where, cap);
    int rc = SS_OK;
    for (PQconninfoOption *o = opts; o->keyword && rc == SS_OK; o++)
        if (o->val && strcmp(o->keyword, "port") == 0 && !ports_ok(o->val))
            rc = ss_err_set(err, SS_EUSAGE, "bad PostgreSQL URL: port \"%s\" is not a number in 1..65535", o->val);
    PQconninfoFree(opts);
    return rc;
}

static int pg_check(const char *url, const struct ss_config *cfg, struct ss_err *err) {
    (void)cfg;
    char where[WHERE_LEN];
    return parse_url(url, where, sizeof where, err);
}

static int pg_open_as(const struct ss_sink_type *type, struct ss_sink **out, const char *url,
                      struct ss_err *err) {
    *out = NULL;
    struct pg_sink *ps = ss_calloc(1, sizeof *ps);
    ps->base.type = type;
    int code = parse_url(url, ps->where, sizeof ps->where, err);
    if (code) {
        pg_close(&ps->base);
        return code;
    }
    ps->url = ss_strdup(url);
    for (int t = 0; t < SS_T_COUNT; t++) {
        if (!ss_sql_writes((enum ss_table_id)t)) continue;
        ps->stage_ddl[t] = ss_sql_create_staging(&ss_tables[t]);
        ps->copy_sql[t] = ss_sql_copy(&ss_tables[t]);
        ps->upsert_sql[t] = ss_sql_upsert(SS_SQL_PG, &ss_tables[t], true);
        ps->stale_sql[t] = ss_sql_delete_stale(SS_SQL_PG, &ss_tables[t]);
    }
    ps->offsets_sql = ss_sql_upsert(SS_SQL_PG, &ss_sql_offsets_table, false);
    ps->fence_sql = ss_sql_upsert(SS_SQL_PG, &ss_sql_epoch_table, false);
    code = connect_db(ps, err);
    for (int t = 0; !code && t < SS_T_COUNT; t++)
        if (ss_sql_writes((enum ss_table_id)t)) code = ensure_table(ps, &ss_tables[t], err);
    if (!code) code = ensure_table(ps, &ss_sql_offsets_table, err);
    if (!code) code = ensure_table(ps, &ss_sql_epoch_table, err);
    if (code) {
        pg_close(&ps->base);
        return code;
    }
    log_resume(ps);
    *out = &ps->base;
    return SS_OK;
}

static int pg_open(struct ss_sink **out, const char *url, const struct ss_config *cfg, struct ss_err *err) {
    (void)cfg;
    return pg_open_as(&ss_sink_postgres, out, url, err);
}

static int pg_open_alias(struct ss_sink **out, const char *url, const struct ss_config *cfg, struct ss_err *err) {
    (void)cfg;
    return pg_open_as(&ss_sink_postgres_alias, out, url, err);
}

/* ---- one epoch ---- */

static uint64_t key_hash(const struct ss_table *tb, const struct ss_val *row) {
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int c = 0; c < tb->ncols; c++) {
        if (!ss_sql_is_key(tb, c)) continue;
        const struct ss_val *v = &row[c];
        uint64_t x;
        if (v->null) x = 0x5bd1e995ULL;
        else if (tb->cols[c].type == SS_COL_STR || tb->cols[c].type == SS_COL_JSON) x = ss_hash(v->s, v->len);
        else x = ss_hash_u64((uint64_t)v->i);
        h = ss_hash_u64(h ^ x) + (uint64_t)c;
    }
    return h;
}

static bool key_eq(const struct ss_table *tb, const struct ss_val *a, const struct ss_val *b) {
    for (int c = 0; c < tb->ncols; c++) {
        if (!ss_sql_is_key(tb, c)) continue;
        if (a[c].null != b[c].null) return false;
        if (a[c].null) continue;
        if (tb->cols[c].type == SS_COL_STR || tb->cols[c].type == SS_COL_JSON) {
            if (a[c].len != b[c].len || (a[c].len && memcmp(a[c].s, b[c].s, a[c].len) != 0)) return false;
        } else if (a[c].i != b[c].i) {
            return false;
        }
    }
    return true;
}

/* Marks in ps->dead every row that a later row of the same epoch and key supersedes. */
static void mark_superseded(struct pg_sink *ps, const struct ss_out *o, enum ss_table_id t) {
    const struct ss_table *tb = &ss_tables[t];
    size_t n = o->t[t].n;
    SS_GROW(ps->dead, ps->dead_cap, n);
    memset(ps->dead, 0, n);
    if (n < 2) return;
    size_t want = 16;
    while (want < 2 * n) want *= 2;
    if (want > ps->nslots) {
        ss_free(ps->slots);
        ps->slots = ss_malloc(want * sizeof *ps->slots);
        ps->nslots = want;
    }
    size_t mask = want - 1;
    memset(ps->slots, 0, want * sizeof *ps->slots);
    for (size_t r = 0; r < n; r++) {
        const struct ss_val *row = ss_out_get(o, t, r);
        size_t i = (size_t)key_hash(tb, row) & mask;
        for (;; i = (i + 1) & mask) {
            uint32_t s = ps->slots[i];
            if (s == 0) {
                ps->slots[i] = (uint32_t)(r + 1);
                break;
            }
            if (key_eq(tb, ss_out_get(o, t, s - 1), row)) {
                ps->dead[s - 1] = 1;
                ps->slots[i] = (uint32_t)(r + 1);
                break;
            }
        }
    }
}

/* COPY binary format (network byte order): the server parses no text, and strings
 * need no escaping. Layout: a header, per row an int16 field count then per field an
 * int32 length (-1 = NULL) and the bytes, an int16 -1 trailer. */
static const char COPY_HEADER[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

static inline void put16(char *d, uint16_t v) {
    d[0] = (char)(v >> 8);
    d[1] = (char)v;
}
static inline void put32(char *d, uint32_t v) {
    for (int k = 0; k < 4; k++) d[k] = (char)(v >> (24 - 8 * k));
}
static inline void put64(char *d, uint64_t v) {
    for (int k = 0; k < 8; k++) d[k] = (char)(v >> (56 - 8 * k));
}

/* PostgreSQL's numeric wire form for a fixed-point value mag / 10^scale (scale 2 or 4):
 * base-10000 digits, the weight of the first, sign, display scale. */
static void put_numeric(struct ss_buf *b, bool neg, uint64_t mag, int scale) {
    uint16_t digits[8];
    int n = 0;
    uint64_t unit = scale == 2 ? 100 : 10000;
    uint64_t ip = mag / unit, frac = (mag % unit) * (10000 / unit);
    uint16_t ipd[6];
    int ni = 0;
    for (; ip; ip /= 10000) ipd[ni++] = (uint16_t)(ip % 10000);
    for (int k = ni - 1; k >= 0; k--) digits[n++] = ipd[k];
    int16_t weight = (int16_t)(ni - 1);
    if (frac) digits[n++] = (uint16_t)frac;
    else
        while (n > 0 && digits[n - 1] == 0) n--; /* normalised: no trailing zero digits */
    if (n == 0) weight = 0, neg = false;
    ss_buf_reserve(b, 4 + 8 + 2 * (size_t)n);
    char *d = b->p + b->len;
    put32(d, (uint32_t)(8 + 2 * n));
    put16(d + 4, (uint16_t)n);
    put16(d + 6, (uint16_t)weight);
    put16(d + 8, neg ? 0x4000 : 0x0000);
    put16(d + 10, (uint16_t)scale);
    for (int k = 0; k < n; k++) put16(d + 12 + 2 * k, digits[k]);
    b->len += 12 + 2 * (size_t)n;
}

/* Microseconds since 2000-01-01 UTC; the extremes map to -infinity / infinity. */
static int64_t pg_timestamp(int64_t ms) {
    const int64_t pg_epoch_ms = 946684800000LL;
    if (ms == SS_TS_MIN || ms < INT64_MIN / 1000 + pg_epoch_ms) return INT64_MIN;
    if (ms == SS_TS_MAX || ms > INT64_MAX / 1000 + pg_epoch_ms) return INT64_MAX;
    return (ms - pg_epoch_ms) * 1000;
}

static void put_text(struct ss_buf *b, const char *s, size_t n, bool jsonb) {
    size_t len = n + (jsonb ? 1 : 0);
    ss_buf_reserve(b, 4 + len);
    put32(b->p + b->len, (uint32_t)len);
    b->len += 4;
    if (jsonb) b->p[b->len++] = 1; /* jsonb wire format version */
    ss_buf_add(b, s, n);
}

static void copy_row(struct pg_sink *ps, const struct ss_table *tb, const struct ss_val *row) {
    struct ss_buf *b = &ps->buf;
    ss_buf_reserve(b, 2);
    put16(b->p + b->len, (uint16_t)tb->ncols);
    b->len += 2;
    for (int c = 0; c < tb->ncols; c++) {
        const struct ss_val *v = &row[c];
        uint8_t type = tb->cols[c].type;
        ss_buf_reserve(b, 12);
        char *d = b->p + b->len;
        if (v->null) {
            put32(d, UINT32_MAX);
            b->len += 4;
            continue;
        }
        switch (type) {
        case SS_COL_STR:
        case SS_COL_JSON: {
            const char *s = v->s ? v->s : "";
            size_t n = v->s ? v->len : 0;
            if (ss_utf8_valid_prefix(s, n, false) == n) {
                put_text(b, s, n, type == SS_COL_JSON);
            } else {
                ps->scratch.len = 0;
                ss_utf8_repair(&ps->scratch, s, n, false);
                put_text(b, ps->scratch.p, ps->scratch.len, type == SS_COL_JSON);
            }
            break;
        }
        case SS_COL_BOOL:
            put32(d, 1);
            d[4] = v->i ? 1 : 0;
            b->len += 5;
            break;
        case SS_COL_INT:
        case SS_COL_TS:
            put32(d, 8);
            put64(d + 4, (uint64_t)(type == SS_COL_TS ? pg_timestamp(v->i) : v->i));
            b->len += 12;
            break;
        case SS_COL_MONEY: {
            /* rounded to cents half away from zero, as ss_money_format does */
            uint64_t mag = v->i < 0 ? (uint64_t)0 - (uint64_t)v->i : (uint64_t)v->i;
            uint64_t cents = mag / 100 + (mag % 100 >= 50);
            put_numeric(b, v->i < 0, cents, 2);
            break;
        }
        case SS_COL_RATIO: {
            uint64_t mag = v->i < 0 ? (uint64_t)0 - (uint64_t)v->i : (uint64_t)v->i;
            put_numeric(b, v->i < 0, mag, 4);
            break;
        }
        default: ss_assert(!"unknown column type");
        }
    }
}

static int copy_table(struct pg_sink *ps, const struct ss_out *o, enum ss_table_id t, struct ss_err *err) {
    const struct ss_table *tb = &ss_tables[t];
    mark_superseded(ps, o, t);
    PGresult *res = PQexecParams(ps->conn, ps->copy_sql[t], 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COPY_IN) return fail(ps, res, "starting COPY into staging for", tb->name, err);
    PQclear(res);
    ps->buf.len = 0;
    ss_buf_add(&ps->buf, COPY_HEADER, sizeof COPY_HEADER);
    for (size_t r = 0; r < o->t[t].n; r++) {
        if (ps->dead[r]) continue;
        copy_row(ps, tb, ss_out_get(o, t, r));
        if (ps->buf.len >= COPY_CHUNK) {
            if (PQputCopyData(ps->conn, ps->buf.p, (int)ps->buf.len) != 1)
                return fail(ps, NULL, "sending COPY data for", tb->name, err);
            ps->buf.len = 0;
        }
    }
    ss_buf_add(&ps->buf, "\377\377", 2); /* trailer */
    if (PQputCopyData(ps->conn, ps->buf.p, (int)ps->buf.len) != 1)
        return fail(ps, NULL, "sending COPY data for", tb->name, err);
    ps->buf.len = 0;
    if (PQputCopyEnd(ps->conn, NULL) != 1) return fail(ps, NULL, "ending COPY for", tb->name, err);
    res = PQgetResult(ps->conn);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) return fail(ps, res, "COPY into staging for", tb->name, err);
    PQclear(res);
    while ((res = PQgetResult(ps->conn))) PQclear(res);
    int code = run(ps, ps->upsert_sql[t], PGRES_COMMAND_OK, "upserting into", tb->name, err);
    if (code == SS_OK && ps->stale_sql[t])
        code = run(ps, ps->stale_sql[t], PGRES_COMMAND_OK, "removing provisional rows from", tb->name, err);
    return code;
}

static int pg_commit(struct ss_sink *sk, const struct ss_epoch *ep, struct ss_err *err) {
    struct pg_sink *ps = (struct pg_sink *)sk;
    int code;
    if (ps->conn && PQstatus(ps->conn) != CONNECTION_OK) disconnect(ps);
    if (!ps->conn) {
        if ((code = connect_db(ps, err))) return code;
        ss_info(COMP, "msg=\"reconnected\" db=\"%s\"", ps->where);
    }
    if (!ps->staged) {
        for (int t = 0; t < SS_T_COUNT; t++)
            if (ps->stage_ddl[t] &&
                (code = run(ps, ps->stage_ddl[t], PGRES_COMMAND_OK, "creating staging for", ss_tables[t].name, err)))
                return code;
        ps->staged = true;
    }
    if ((code = run(ps, "BEGIN", PGRES_COMMAND_OK, "starting the epoch transaction", NULL, err))) return code;

    char epoch[24];
    snprintf(epoch, sizeof epoch, "%llu", (unsigned long long)ep->epoch);
    /* the stored epoch, locked until COMMIT (no row yet: the upsert below decides) */
    const char *me[1] = {SINK_NAME};
    PGresult *res = PQexecParams(ps->conn, "SELECT \"epoch\" FROM \"shopstream_epoch\" WHERE \"sink\" = $1 FOR UPDATE",
                                 1, NULL, me, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) return fail(ps, res, "reading", "shopstream_epoch", err);
    uint64_t stored = PQntuples(res) == 1 ? strtoull(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    PQclear(res);
    char where[300];
    snprintf(where, sizeof where, "PostgreSQL %s", ps->where);
    enum ss_fence_verdict verdict;
    if ((code = ss_fence_decide(&ps->epochs, stored, ep->epoch, where, &verdict, err))) {
        PQclear(PQexec(ps->conn, "ROLLBACK"));
        return code;
    }
    if (verdict == SS_FENCE_REPLAY) {
        ss_debug(COMP, "msg=\"epoch already committed\" epoch=%s", epoch);
        return run(ps, "ROLLBACK", PGRES_COMMAND_OK, "ending a replayed epoch", NULL, err);
    }
    const char *fence[SS_EPO_NCOLS] = {[SS_EPO_SINK] = SINK_NAME, [SS_EPO_EPOCH] = epoch};
    res = PQexecParams(ps->conn, ps->fence_sql, SS_EPO_NCOLS, NULL, fence, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) return fail(ps, res, "fencing the epoch in", "shopstream_epoch", err);
    bool moved = strcmp(PQcmdTuples(res), "0") != 0;
    PQclear(res);
    if (!moved) {
        /* another process inserted the first row between our SELECT and the upsert: the
         * retry's SELECT sees that row, and the fence names the other writer */
        PQclear(PQexec(ps->conn, "ROLLBACK"));
        return ss_err_set(err, SS_RETRY, "%s: shopstream_epoch changed during the commit of epoch %s; will retry",
                          where, epoch);
    }

    for (int t = 0; ep->rows && t < SS_T_COUNT; t++)
        if (ps->copy_sql[t] && ep->rows->t[t].n && (code = copy_table(ps, ep->rows, (enum ss_table_id)t, err)))
            return code;

    for (int p = 0; p < ep->npositions; p++) {
        char part[16], next[24];
        snprintf(part, sizeof part, "%d", (int)ep->positions[p].partition);
        snprintf(next, sizeof next, "%lld", (long long)ep->positions[p].next_offset);
        const char *vals[SS_OFF_NCOLS] = {[SS_OFF_SOURCE] = ep->positions[p].source, [SS_OFF_PARTITION] = part,
                                          [SS_OFF_NEXT_OFFSET] = next, [SS_OFF_EPOCH] = epoch};
        res = PQexecParams(ps->conn, ps->offsets_sql, SS_OFF_NCOLS, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            return fail(ps, res, "recording positions in", "shopstream_offsets", err);
        PQclear(res);
    }
    ss_fence_sending(&ps->epochs, ep->epoch);
    code = run(ps, "COMMIT", PGRES_COMMAND_OK, "committing epoch", NULL, err);
    if (code == SS_OK) ss_fence_answered(&ps->epochs, ep->epoch, true);
    return code;
}

const struct ss_sink_type ss_sink_postgres = {
    .name = "postgresql",
    .scheme = "postgresql://",
    .flags = SS_SINK_PROVISIONAL,
    .open = pg_open,
    .check = pg_check,
    .commit = pg_commit,
    .close = pg_close,
};

const struct ss_sink_type ss_sink_postgres_alias = {
    .name = "postgresql",
    .scheme = "postgres://",
    .flags = SS_SINK_PROVISIONAL,
    .open = pg_open_alias,
    .check = pg_check,
    .commit = pg_commit,
    .close = pg_close,
};
