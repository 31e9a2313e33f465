/* test_sqlite_sink.c — the SQLite sink (and the SQL text it shares with the PostgreSQL
 * sink) against a real SQLite file: schema, provisional -> final upserts, the epoch
 * fence (replays; a second writer on the same file stopped), idempotent side outputs, UTF-8 sanitising, incompatible schemas. Rows are
 * built by hand and read back through the sqlite3 API. */
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/alloc.h"
#include "harness.h"
#include "sink/sql_schema.h"
#include "sink/sql_sinks.h"

#include "../sink_rows.h"
#include "sink_check.h"

/* First column of the first row of sql as text ("(none)" without a row, "NULL"). */
static const char *q1(sqlite3 *db, const char *sql, char *buf, size_t cap) {
    sqlite3_stmt *st = NULL;
    snprintf(buf, cap, "(none)");
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(buf, cap, "(error: %s)", sqlite3_errmsg(db));
        return buf;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(buf, cap, "%s", t ? (const char *)t : "NULL");
    }
    sqlite3_finalize(st);
    return buf;
}

static long long qi(sqlite3 *db, const char *sql) {
    char b[64];
    return atoll(q1(db, sql, b, sizeof b));
}

static void dlq_row(struct ss_out *o, const char *reason, int64_t offset, const char *rec, uint32_t reclen) {
    struct ss_val *v = ss_out_row(o, SS_T_DLQ);
    v[SS_DL_PARTITION].i = 0;
    v[SS_DL_OFFSET].i = offset;
    ss_out_str(o, &v[SS_DL_REASON], ss_str_c(reason));
    ss_out_str(o, &v[SS_DL_STREAM], ss_str_c("clicks"));
    ss_out_str(o, &v[SS_DL_SOURCE], ss_str_c("c.jsonl"));
    ss_out_str(o, &v[SS_DL_RECORD], (struct ss_str){rec, reclen});
}

static int commit(struct ss_sink *sk, uint64_t epoch, struct ss_out *o, int64_t next_offset, struct ss_err *err) {
    struct ss_position pos = {.source = "c.jsonl", .partition = 0, .next_offset = next_offset, .lag = -1, .max_ts = INT64_MIN};
    struct ss_epoch ep = {.epoch = epoch, .rows = o, .positions = &pos, .npositions = 1};
    return sk->type->commit(sk, &ep, err);
}

TEST(test_sql_text) {
    char *s = ss_sql_upsert(SS_SQL_PG, &ss_tables[SS_T_FUNNEL], true);
    CHECK_EQ_STR(s, "INSERT INTO \"funnel\" (\"window_start\", \"window_end\", \"viewers\", \"carters\", \"buyers\", "
                    "\"view_to_cart\", \"cart_to_purchase\", \"final\") SELECT \"window_start\", \"window_end\", "
                    "\"viewers\", \"carters\", \"buyers\", \"view_to_cart\", \"cart_to_purchase\", \"final\" FROM "
                    "\"ss_stage_funnel\" ON CONFLICT (\"window_start\") DO UPDATE SET \"window_end\" = "
                    "EXCLUDED.\"window_end\", \"viewers\" = EXCLUDED.\"viewers\", \"carters\" = EXCLUDED.\"carters\", "
                    "\"buyers\" = EXCLUDED.\"buyers\", \"view_to_cart\" = EXCLUDED.\"view_to_cart\", "
                    "\"cart_to_purchase\" = EXCLUDED.\"cart_to_purchase\", \"final\" = EXCLUDED.\"final\" "
                    "WHERE \"funnel\".\"final\" = false");
    ss_free(s);
    s = ss_sql_upsert(SS_SQL_SQLITE, &ss_tables[SS_T_LATE], false);
    CHECK_EQ_STR(s, "INSERT INTO \"late\" (\"stream\", \"source\", \"partition\", \"offset\", \"ts\", \"watermark\", "
                    "\"record\") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (\"source\", \"partition\", "
                    "\"offset\") DO NOTHING");
    ss_free(s);
    s = ss_sql_upsert(SS_SQL_PG, &ss_sql_epoch_table, false);
    CHECK_EQ_STR(s, "INSERT INTO \"shopstream_epoch\" (\"sink\", \"epoch\") VALUES ($1, $2) ON CONFLICT (\"sink\") "
                    "DO UPDATE SET \"epoch\" = EXCLUDED.\"epoch\" WHERE \"shopstream_epoch\".\"epoch\" < "
                    "EXCLUDED.\"epoch\"");
    ss_free(s);
    s = ss_sql_create(SS_SQL_PG, &ss_tables[SS_T_ALERTS]);
    CHECK_EQ_STR(s, "CREATE TABLE IF NOT EXISTS \"alerts\" (\"alert_id\" text COLLATE \"C\" NOT NULL, \"kind\" text NOT NULL, "
                    "\"user_id\" text NOT NULL, \"order_id\" text, \"amount\" numeric(18,2) NOT NULL, \"ts\" "
                    "timestamp with time zone NOT NULL, \"detail\" jsonb NOT NULL, PRIMARY KEY (\"alert_id\"))");
    ss_free(s);
    s = ss_sql_create_staging(&ss_tables[SS_T_RECENTLY_VIEWED]);
    CHECK_EQ_STR(s, "CREATE TEMP TABLE IF NOT EXISTS \"ss_stage_recently_viewed\" (\"user_id\" text, \"products\" "
                    "jsonb, \"last_view_ts\" timestamp with time zone) ON COMMIT DELETE ROWS");
    ss_free(s);
    s = ss_sql_copy(&ss_tables[SS_T_RECENTLY_VIEWED]);
    CHECK_EQ_STR(s, "COPY \"ss_stage_recently_viewed\" (\"user_id\", \"products\", \"last_view_ts\") FROM STDIN WITH (FORMAT binary)");
    ss_free(s);
    s = ss_sql_create(SS_SQL_PG, &ss_tables[SS_T_RECENTLY_VIEWED]);
    CHECK_EQ_STR(s, "CREATE TABLE IF NOT EXISTS \"recently_viewed\" (\"user_id\" text COLLATE \"C\" NOT NULL, "
                    "\"products\" jsonb NOT NULL, \"last_view_ts\" timestamp with time zone NOT NULL, PRIMARY KEY "
                    "(\"user_id\")) WITH (fillfactor = 50)");
    ss_free(s);
    s = ss_sql_create(SS_SQL_SQLITE, &ss_tables[SS_T_RECENTLY_VIEWED]);
    CHECK_EQ_STR(s, "CREATE TABLE IF NOT EXISTS \"recently_viewed\" (\"user_id\" TEXT NOT NULL, \"products\" TEXT "
                    "NOT NULL, \"last_view_ts\" TEXT NOT NULL, PRIMARY KEY (\"user_id\"))");
    ss_free(s);
    CHECK(ss_sql_writes(SS_T_DLQ));
    CHECK(!ss_sql_writes(SS_T_EVENTS));
}

TEST(test_format) {
    char b[32];
    CHECK_EQ_INT(ss_sql_format(SS_COL_MONEY, -1234550, b), 7);
    CHECK_EQ_STR(b, "-123.46");
    ss_sql_format(SS_COL_MONEY, 49, b); /* 0.0049 rounds to zero: no sign, no digits lost */
    CHECK_EQ_STR(b, "0.00");
    ss_sql_format(SS_COL_RATIO, 8123, b);
    CHECK_EQ_STR(b, "0.8123");
    ss_sql_format(SS_COL_TS, T0 + 123, b);
    CHECK_EQ_STR(b, "2026-11-27T10:30:00.123Z");
    ss_sql_format(SS_COL_INT, INT64_MIN, b);
    CHECK_EQ_STR(b, "-9223372036854775808");
    ss_sql_format(SS_COL_INT, 0, b);
    CHECK_EQ_STR(b, "0");
}

/* A fresh directory dir (a "/tmp/ss_sqlite_XXXXXX" template) with path and url of shop.db in it. */
static void temp_db(char *dir, char path[128], char url[160]) {
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, 128, "%s/shop.db", dir);
    snprintf(url, 160, "sqlite:%s", path);
}

TEST(test_epochs) {
    char dir[] = "/tmp/ss_sqlite_XXXXXX", path[128], url[160], b[256];
    temp_db(dir, path, url);
    struct ss_err err = {0};
    struct ss_sink *sk = NULL;
    CHECK_EQ_INT(ss_sink_sqlite.open(&sk, url, NULL, &err), SS_OK);
    if (!sk) {
        fprintf(stderr, "open: %s\n", err.msg);
        return;
    }
    sqlite3 *db = NULL;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_STR(q1(db, "PRAGMA journal_mode", b, sizeof b), "wal");
    CHECK_EQ_STR(q1(db, "SELECT group_concat(name || ':' || type || ':' || pk, ',') FROM pragma_table_info('dlq')",
                    b, sizeof b),
                 "reason:TEXT:0,stream:TEXT:0,source:TEXT:1,partition:INTEGER:2,offset:INTEGER:3,record:TEXT:0");
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"), 13); /* 11 + 2 meta */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM sqlite_master WHERE name = 'events'"), 0);

    struct ss_out o;
    ss_out_init(&o);
    /* epoch 1: two provisional rows for one window key (the last wins), another key,
     * a funnel with a null ratio, a dlq record with invalid UTF-8 and separators */
    cr_row(&o, T0, "books", 1234500, 1, 0);
    cr_row(&o, T0, "toys", 10000, 1, 0);
    cr_row(&o, T0, "books", 2469000, 2, 0);
    struct ss_val *f = ss_out_row(&o, SS_T_FUNNEL);
    f[SS_FN_WINDOW_START].i = T0 - 30 * MIN;
    f[SS_FN_WINDOW_END].i = T0 + 30 * MIN;
    f[SS_FN_VIEWERS].i = 0;
    f[SS_FN_VIEW_TO_CART].null = 1;
    f[SS_FN_CART_TO_PURCHASE].null = 1;
    dlq_row(&o, "malformed", 7, "{\"a\":\t\"\xFF\"}\\n", 12);
    rv_row(&o, "u1", "[\"p1\"]", T0 + 5);
    CHECK_EQ_INT(commit(sk, 1, &o, 11, &err), SS_OK);

    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM category_revenue"), 2);
    CHECK_EQ_STR(q1(db, "SELECT window_start || '|' || window_end || '|' || revenue || '|' || orders || '|' || units "
                        "|| '|' || final FROM category_revenue WHERE category = 'books'", b, sizeof b),
                 "2026-11-27T10:30:00.000Z|2026-11-27T10:31:00.000Z|246.90|2|4|0");
    CHECK_EQ_STR(q1(db, "SELECT revenue FROM category_revenue WHERE category = 'toys'", b, sizeof b), "1.00");
    CHECK_EQ_STR(q1(db, "SELECT quote(view_to_cart) || quote(cart_to_purchase) FROM funnel", b, sizeof b), "NULLNULL");
    CHECK_EQ_STR(q1(db, "SELECT hex(record) FROM dlq", b, sizeof b), "7B2261223A0922EFBFBD227D5C6E");
    CHECK_EQ_STR(q1(db, "SELECT source || ':' || partition || ':' || next_offset || ':' || epoch FROM "
                        "shopstream_offsets", b, sizeof b),
                 "c.jsonl:0:11:1");
    CHECK_EQ_STR(q1(db, "SELECT sink || ':' || epoch FROM shopstream_epoch", b, sizeof b), "sqlite:1");

    /* epoch 2: the final row replaces the provisional one; a state row replaces the list */
    ss_out_clear(&o);
    cr_row(&o, T0, "books", 3703500, 3, 1);
    rv_row(&o, "u1", "[\"p2\",\"p1\"]", T0 + 9);
    dlq_row(&o, "bad_ts", 9, "x", 1);
    CHECK_EQ_INT(commit(sk, 2, &o, 20, &err), SS_OK);
    CHECK_EQ_STR(q1(db, "SELECT revenue || '|' || orders || '|' || final FROM category_revenue WHERE category = "
                        "'books'", b, sizeof b),
                 "370.35|3|1");
    CHECK_EQ_STR(q1(db, "SELECT products || '|' || last_view_ts FROM recently_viewed", b, sizeof b),
                 "[\"p2\",\"p1\"]|2026-11-27T10:30:00.009Z");
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM recently_viewed"), 1);

    /* epoch 3: a provisional row must never overwrite a final one; the dlq record of
     * epoch 2 again (same source/partition/offset) stays one row */
    ss_out_clear(&o);
    cr_row(&o, T0, "books", 1, 1, 0);
    dlq_row(&o, "bad_ts", 9, "x", 1);
    CHECK_EQ_INT(commit(sk, 3, &o, 30, &err), SS_OK);
    CHECK_EQ_STR(q1(db, "SELECT revenue || '|' || final FROM category_revenue WHERE category = 'books'", b, sizeof b),
                 "370.35|1");
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM dlq"), 2);

    /* a replay of epoch 2 with other rows is a no-op: nothing written, positions kept */
    ss_out_clear(&o);
    cr_row(&o, T0, "garden", 5000, 1, 1);
    CHECK_EQ_INT(commit(sk, 2, &o, 999, &err), SS_OK);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM category_revenue WHERE category = 'garden'"), 0);
    CHECK_EQ_STR(q1(db, "SELECT next_offset || ':' || epoch FROM shopstream_offsets", b, sizeof b), "30:3");
    CHECK_EQ_STR(q1(db, "SELECT epoch FROM shopstream_epoch", b, sizeof b), "3");

    /* an epoch without rows or positions still advances the fence */
    CHECK_EQ_INT(sk->type->commit(sk, &(struct ss_epoch){.epoch = 4}, &err), SS_OK);
    CHECK_EQ_STR(q1(db, "SELECT epoch FROM shopstream_epoch", b, sizeof b), "4");
    ss_sink_sqlite.close(sk);

    /* reopening the same database accepts its schema and keeps the rows and the fence */
    sk = NULL;
    CHECK_EQ_INT(ss_sink_sqlite.open(&sk, url, NULL, &err), SS_OK);
    if (sk) {
        CHECK_EQ_INT(commit(sk, 4, &o, 1000, &err), SS_OK);
        CHECK_EQ_INT(qi(db, "SELECT count(*) FROM category_revenue WHERE category = 'garden'"), 0);
        CHECK_EQ_INT(commit(sk, 5, &o, 1000, &err), SS_OK);
        CHECK_EQ_STR(q1(db, "SELECT revenue || '|' || final FROM category_revenue WHERE category = 'garden'", b,
                        sizeof b),
                     "0.50|1");
        ss_sink_sqlite.close(sk);
    }
    sqlite3_close(db);
    ss_out_free(&o);
    snprintf(b, sizeof b, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(b), 0);
}

/* Two processes on one file: the second is refused at open (the file's lock), before it
 * writes anything, and the first goes on. It used to open, and its first commit fenced
 * out the first run. Where the lock is not seen (another host on a network file system),
 * the epoch fence still stops the process that finds another's epoch in the file: a writer
 * that bypasses the lock stands in for it here. */
TEST(test_two_writers) {
    char dir[] = "/tmp/ss_sqlite_XXXXXX", path[128], url[160], b[256];
    temp_db(dir, path, url);
    struct ss_err err = {0};
    struct ss_sink *a = NULL, *w = NULL;
    CHECK_EQ_INT(ss_sink_sqlite.open(&a, url, NULL, &err), SS_OK);
    if (!a) return;
    CHECK_EQ_INT(ss_sink_sqlite.open(&w, url, NULL, &err), SS_EUSAGE);
    CHECK(w == NULL);
    CHECK(strstr(err.msg, "another process is writing") != NULL);
    CHECK(strstr(err.msg, "give each run its own database") != NULL);
    struct ss_out o;
    ss_out_init(&o);
    rv_row(&o, "fence-a", "[\"p1\"]", T0);
    err = (struct ss_err){0};
    CHECK_EQ_INT(commit(a, 1, &o, 1, &err), SS_OK);
    /* the other writer, past the lock: epoch 2 of its own */
    sqlite3 *db = NULL;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "UPDATE shopstream_epoch SET epoch = 2", NULL, NULL, NULL), SQLITE_OK);
    ss_out_clear(&o);
    rv_row(&o, "fence-a", "[\"p2\"]", T0 + 1);
    CHECK_EQ_INT(commit(a, 2, &o, 2, &err), SS_ERROR);
    CHECK(strstr(err.msg, "its epoch fence holds epoch 2, but this process committed up to epoch 1") != NULL);
    CHECK(strstr(err.msg, "another shopstream process") != NULL);
    CHECK_EQ_STR(q1(db, "SELECT group_concat(user_id || '=' || products) FROM recently_viewed", b, sizeof b),
                 "fence-a=[\"p1\"]");
    sqlite3_close(db);
    ss_sink_sqlite.close(a);
    /* the first gone, its lock goes with it: the file takes a new writer */
    err = (struct ss_err){0};
    CHECK_EQ_INT(ss_sink_sqlite.open(&w, url, NULL, &err), SS_OK);
    ss_sink_sqlite.close(w);
    ss_out_free(&o);
    snprintf(b, sizeof b, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(b), 0);
}

static int open_with(const char *dir, const char *name, const char *ddl, struct ss_err *err) {
    char path[160], url[200];
    snprintf(path, sizeof path, "%s/%s.db", dir, name);
    snprintf(url, sizeof url, "sqlite:%s", path);
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    int rc = sqlite3_exec(db, ddl, NULL, NULL, NULL);
    sqlite3_close(db);
    if (rc != SQLITE_OK) return 99;
    struct ss_sink *sk = NULL;
    int code = ss_sink_sqlite.open(&sk, url, NULL, err);
    if (sk) ss_sink_sqlite.close(sk);
    return code;
}

TEST(test_incompatible) {
    char dir[] = "/tmp/ss_sqlite_XXXXXX", b[256];
    CHECK(mkdtemp(dir) != NULL);
    struct ss_err err = {0};
    CHECK_EQ_INT(open_with(dir, "a",
                           "CREATE TABLE hourly_sales (window_start TEXT, category TEXT, window_end TEXT, revenue "
                           "REAL, orders INTEGER, units INTEGER, buyers INTEGER, final BOOLEAN, "
                           "PRIMARY KEY (window_start, category))",
                           &err),
                 SS_EUSAGE);
    CHECK(strstr(err.msg, "\"hourly_sales\"") && strstr(err.msg, "\"revenue\" has type REAL, expected TEXT"));
    CHECK_EQ_INT(open_with(dir, "b", "CREATE TABLE alerts (alert_id TEXT PRIMARY KEY, kind TEXT)", &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "\"alerts\"") && strstr(err.msg, "column \"user_id\" is missing"));
    CHECK_EQ_INT(open_with(dir, "c",
                           "CREATE TABLE recently_viewed (user_id TEXT, products TEXT, last_view_ts TEXT PRIMARY KEY)",
                           &err),
                 SS_EUSAGE);
    CHECK(strstr(err.msg, "\"recently_viewed\"") && strstr(err.msg, "column \"user_id\" is not part of the primary key"));
    /* an extra column is fine */
    CHECK_EQ_INT(open_with(dir, "d",
                           "CREATE TABLE recently_viewed (user_id TEXT PRIMARY KEY, products TEXT, last_view_ts TEXT, "
                           "note TEXT)",
                           &err),
                 SS_OK);
    struct ss_sink *sk = NULL;
    CHECK_EQ_INT(ss_sink_sqlite.open(&sk, "sqlite:", NULL, &err), SS_EUSAGE);
    /* missing directories are created (run's default, data/shopstream.db, relies on it) */
    snprintf(b, sizeof b, "sqlite:%s/missing/dir/x.db", dir);
    CHECK_EQ_INT(ss_sink_sqlite.open(&sk, b, NULL, &err), SS_OK);
    if (sk) sk->type->close(sk);
    sk = NULL;
    snprintf(b, sizeof b, "%s/missing/dir/x.db", dir);
    CHECK(access(b, F_OK) == 0);
    /* one that cannot be: a file stands where a directory must go */
    snprintf(b, sizeof b, "%s/a-file", dir);
    FILE *f = fopen(b, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
    snprintf(b, sizeof b, "sqlite:%s/a-file/sub/x.db", dir);
    CHECK_EQ_INT(ss_sink_sqlite.open(&sk, b, NULL, &err), SS_EUSAGE); /* the user's path to fix: exit 2 */
    CHECK(strstr(err.msg, "a-file is not a directory") != NULL);
    CHECK(sk == NULL);
    snprintf(b, sizeof b, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(b), 0);
}

/* The database deleted mid-run (its directory removed by a clean-up job): in WAL mode
 * SQLite goes on committing into the unlinked file, so the commit must fail, naming
 * it, instead of the run ending with exit 0 and no database anywhere. */
TEST(test_removed_file) {
    char dir[] = "/tmp/ss_sqlite_XXXXXX", path[128], url[160], b[256];
    temp_db(dir, path, url);
    struct ss_err err = {0};
    struct ss_sink *sk = NULL;
    CHECK_EQ_INT(ss_sink_sqlite.open(&sk, url, NULL, &err), SS_OK);
    if (!sk) return;
    struct ss_out o;
    ss_out_init(&o);
    cr_row(&o, T0, "books", 1234500, 1, 1);
    CHECK_EQ_INT(commit(sk, 1, &o, 11, &err), SS_OK);
    snprintf(b, sizeof b, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(b), 0);
    CHECK_EQ_INT(commit(sk, 2, &o, 20, &err), SS_ERROR);
    CHECK(strstr(err.msg, "was removed or replaced while the run was writing it") != NULL);
    ss_sink_sqlite.close(sk);
    ss_out_free(&o);
}

/* --print-config's check: open's verdict on the URL, and neither the file nor its
 * missing directories made. */
TEST(test_check) {
    char dir[] = "/tmp/ss_sqlite_XXXXXX", path[256], url[300];
    CHECK(mkdtemp(dir) != NULL);
    expect_refused_alike(&ss_sink_sqlite, "sqlite:", NULL, "needs a file path");
    snprintf(url, sizeof url, "sqlite:%s/x.db?journal=off", dir);
    expect_refused_alike(&ss_sink_sqlite, url, NULL, "takes no options");
    snprintf(path, sizeof path, "%s/missing", dir);
    snprintf(url, sizeof url, "sqlite:%s/dir/x.db", path);
    expect_checked_ok(&ss_sink_sqlite, url, NULL, path);
    CHECK_EQ_INT(rmdir(dir), 0); /* empty: nothing was made in it */
}

int main(void) {
    RUN(test_sql_text);
    RUN(test_format);
    RUN(test_epochs);
    RUN(test_two_writers);
    RUN(test_incompatible);
    RUN(test_removed_file);
    RUN(test_check);
    return ss_t_report("sqlite_sink");
}
