/* sql_sinks.h — the SQL sinks: SQLite (sqlite.c) and PostgreSQL (postgres.c). Both
 * write every result table plus dlq and late with the schema of DESIGN §5 (derived
 * in sql_schema.c), upsert provisional window rows in place until the final row, and
 * commit each epoch in one transaction fenced by shopstream_epoch (DESIGN §6). */
#ifndef SS_SQL_SINKS_H
#define SS_SQL_SINKS_H

#include "sink.h"

extern const struct ss_sink_type ss_sink_sqlite;     /* sqlite:PATH */
extern const struct ss_sink_type ss_sink_postgres;   /* postgresql://USER@HOST:PORT/DB */
extern const struct ss_sink_type ss_sink_postgres_alias; /* the same sink under postgres:// */

#endif
