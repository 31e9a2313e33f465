/* sql_schema.h — what the two SQL sinks (sqlite.c, postgres.c) share: the SQL text
 * derived from the column descriptors of table.h for a dialect (DDL, staging DDL,
 * upserts, the epoch fence), value formatting, UTF-8 sanitising and the check of an
 * existing table against the contract. It sits at the very end of the pipeline,
 * between the epoch's rows (struct ss_out) and the database.
 *
 * No SQL here is ever built from data: the only names spliced into statements are
 * the compile-time table and column names of table.c and this file; values always
 * travel as bound parameters (SQLite, PostgreSQL extended protocol) or COPY data.
 *
 * Types (DESIGN §5):
 *   column type   PostgreSQL                 SQLite
 *   STR           text                       TEXT
 *   INT           bigint                     INTEGER
 *   MONEY         numeric(18,2)              TEXT  "1234.50" (exact, 2 decimals, as JSONL)
 *   TS            timestamp with time zone   TEXT  "2026-11-27T10:30:00.123Z" (ISO-8601 UTC,
 *                                                   sorts in time order, SQLite date functions read it)
 *   BOOL          boolean                    BOOLEAN (0 / 1)
 *   RATIO         numeric(18,4)              TEXT  "0.8123" (as the lake's decimal(18,4): a
 *                                                   ratio is not bounded by 1, cart_to_purchase
 *                                                   of 1 carter and 100000 buyers is 100000)
 *   JSON          jsonb                      TEXT
 * SQLite keeps money as exact decimal text rather than REAL so no float ever holds
 * money; analysts cast for arithmetic (CAST(revenue AS REAL), or sum in the client). */
#ifndef SS_SQL_SCHEMA_H
#define SS_SQL_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../core/table.h"

enum ss_sql_dialect { SS_SQL_SQLITE, SS_SQL_PG };

/* The epoch fence and input positions (DESIGN §6), written in the same transaction
 * as the rows:  shopstream_offsets(source, partition, next_offset, epoch) keyed by
 * (source, partition), and shopstream_epoch(sink, epoch) keyed by sink. */
extern const struct ss_table ss_sql_offsets_table;
extern const struct ss_table ss_sql_epoch_table;
enum { SS_OFF_SOURCE, SS_OFF_PARTITION, SS_OFF_NEXT_OFFSET, SS_OFF_EPOCH, SS_OFF_NCOLS };
enum { SS_EPO_SINK, SS_EPO_EPOCH, SS_EPO_NCOLS };

/* Whether the SQL sinks write table t (every table but the lake-only events). */
bool ss_sql_writes(enum ss_table_id t);
/* Whether column c is in the SQL primary key. dlq and late have no key in table.c:
 * here (source, partition, offset) is, unique per record, so replays are idempotent. */
bool ss_sql_is_key(const struct ss_table *tb, int c);
/* The column type as written in DDL, and as PostgreSQL's format_type() / SQLite's
 * declared type report it back (compared case-insensitively). */
const char *ss_sql_type(enum ss_sql_dialect d, uint8_t coltype);

/* Statement texts, allocated with ss_malloc (the caller ss_frees them).
 * ss_sql_create: CREATE TABLE IF NOT EXISTS with NOT NULL and PRIMARY KEY (PostgreSQL:
 *   text key columns COLLATE "C", updated tables fillfactor 50).
 * ss_sql_create_staging (PostgreSQL): a TEMP table with the same columns, no key,
 *   ON COMMIT DELETE ROWS, named ss_sql_staging_name(tb).
 * ss_sql_copy (PostgreSQL): COPY staging (cols) FROM STDIN, binary format.
 * ss_sql_upsert: INSERT ... ON CONFLICT (key) DO UPDATE SET every other column, or DO
 *   NOTHING for dlq / late. from_staging: PostgreSQL's INSERT ... SELECT from the
 *   staging table; otherwise VALUES with one placeholder per column in column order
 *   ($n or ?n). Windowed tables update only `WHERE final = false`, so a final row
 *   is never overwritten by a provisional one; the epoch table only moves forward
 *   (`WHERE epoch < EXCLUDED.epoch`), which makes its upsert the fence: it changes
 *   0 rows when this epoch was already committed. */
char *ss_sql_create(enum ss_sql_dialect d, const struct ss_table *tb);
char *ss_sql_create_staging(const struct ss_table *tb);
char *ss_sql_copy(const struct ss_table *tb);
char *ss_sql_upsert(enum ss_sql_dialect d, const struct ss_table *tb, bool from_staging);
/* "ss_stage_<table>"; buf needs 64 bytes. */
const char *ss_sql_staging_name(const struct ss_table *tb, char *buf);
/* For windowed tables: deletes the provisional rows left in windows that now have
 * their final rows. A top-N table (trending_products) can drop a key between a
 * provisional list and the final one; without this its provisional row would stay
 * forever. SQLite: one window, bound as ?1. PostgreSQL: every window with a final
 * row in the staging table. NULL for tables without a `final` column. */
char *ss_sql_delete_stale(enum ss_sql_dialect d, const struct ss_table *tb);

/* A column of an existing table as the database describes it. */
struct ss_sql_have {
    char name[64];
    char type[64];
    bool pk;
};
/* Compares an existing table with the contract: every column present with its type,
 * the same primary key. Extra columns are allowed. SS_EUSAGE with a message naming
 * the table and the column otherwise. */
int ss_sql_check(enum ss_sql_dialect d, const struct ss_table *tb, const struct ss_sql_have *have, int nhave,
                 struct ss_err *err);

/* The text of a non-string value: INT decimal, MONEY 2 decimals, RATIO 4 decimals,
 * TS ISO-8601 UTC. buf needs 32 bytes; returns the length. */
int ss_sql_format(uint8_t coltype, int64_t i, char *buf);


#endif
