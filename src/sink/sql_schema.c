/* sql_schema.c — SQL text, value formatting and schema checks shared by the SQLite and
 * PostgreSQL sinks (see sql_schema.h). Everything a statement names comes from the
 * descriptor tables (table.c and the two meta tables below), never from row data. */
#include "sql_schema.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../core/money.h"
#include "../core/timefmt.h"

static const struct ss_column offsets_cols[] = {
    {"source", SS_COL_STR, 0, 1},
    {"partition", SS_COL_INT, 0, 1},
    {"next_offset", SS_COL_INT, 0, 0},
    {"epoch", SS_COL_INT, 0, 0},
};
static const struct ss_column epoch_cols[] = {
    {"sink", SS_COL_STR, 0, 1},
    {"epoch", SS_COL_INT, 0, 0},
};
const struct ss_table ss_sql_offsets_table = {"shopstream_offsets", SS_OFF_NCOLS, offsets_cols, -1, 0};
const struct ss_table ss_sql_epoch_table = {"shopstream_epoch", SS_EPO_NCOLS, epoch_cols, -1, 0};

bool ss_sql_writes(enum ss_table_id t) { return !(ss_tables[t].flags & SS_TBL_LAKE); }

bool ss_sql_is_key(const struct ss_table *tb, int c) {
    const char *n = tb->cols[c].name;
    if (tb->flags & SS_TBL_SIDE)
        return strcmp(n, "source") == 0 || strcmp(n, "partition") == 0 || strcmp(n, "offset") == 0;
    return tb->cols[c].key != 0;
}

const char *ss_sql_type(enum ss_sql_dialect d, uint8_t coltype) {
    static const char *const pg[] = {
        [SS_COL_STR] = "text",         [SS_COL_INT] = "bigint",
        [SS_COL_MONEY] = "numeric(18,2)", [SS_COL_TS] = "timestamp with time zone",
        [SS_COL_BOOL] = "boolean",     [SS_COL_RATIO] = "numeric(18,4)",
        [SS_COL_JSON] = "jsonb",
    };
    static const char *const lite[] = {
        [SS_COL_STR] = "TEXT",  [SS_COL_INT] = "INTEGER",  [SS_COL_MONEY] = "TEXT", [SS_COL_TS] = "TEXT",
        [SS_COL_BOOL] = "BOOLEAN", [SS_COL_RATIO] = "TEXT", [SS_COL_JSON] = "TEXT",
    };
    ss_assert(coltype <= SS_COL_JSON);
    return d == SS_SQL_PG ? pg[coltype] : lite[coltype];
}

const char *ss_sql_staging_name(const struct ss_table *tb, char *buf) {
    snprintf(buf, 64, "ss_stage_%s", tb->name);
    return buf;
}

/* Identifiers are always quoted: `offset` and `partition` are keywords. */
static void ident(struct ss_buf *b, const char *name) {
    ss_buf_addc(b, '"');
    ss_buf_adds(b, name);
    ss_buf_addc(b, '"');
}

static void col_list(struct ss_buf *b, const struct ss_table *tb, const char *prefix) {
    for (int c = 0; c < tb->ncols; c++) {
        if (c) ss_buf_adds(b, ", ");
        if (prefix) ss_buf_adds(b, prefix);
        ident(b, tb->cols[c].name);
    }
}

static void key_list(struct ss_buf *b, const struct ss_table *tb) {
    int k = 0;
    for (int c = 0; c < tb->ncols; c++)
        if (ss_sql_is_key(tb, c)) {
            if (k++) ss_buf_adds(b, ", ");
            ident(b, tb->cols[c].name);
        }
}

static char *finish(struct ss_buf *b) {
    ss_buf_addc(b, '\0');
    return b->p;
}

static void column_defs(struct ss_buf *b, enum ss_sql_dialect d, const struct ss_table *tb, bool constraints) {
    for (int c = 0; c < tb->ncols; c++) {
        if (c) ss_buf_adds(b, ", ");
        ident(b, tb->cols[c].name);
        ss_buf_addc(b, ' ');
        ss_buf_adds(b, ss_sql_type(d, tb->cols[c].type));
        /* byte order, as the engine ranks ids (SEMANTICS §5), and cheap index
         * comparisons whatever the database's locale */
        if (constraints && d == SS_SQL_PG && tb->cols[c].type == SS_COL_STR && ss_sql_is_key(tb, c))
            ss_buf_adds(b, " COLLATE \"C\"");
        if (constraints && !tb->cols[c].nullable) ss_buf_adds(b, " NOT NULL");
    }
}

char *ss_sql_create(enum ss_sql_dialect d, const struct ss_table *tb) {
    struct ss_buf b = {0};
    ss_buf_adds(&b, "CREATE TABLE IF NOT EXISTS ");
    ident(&b, tb->name);
    ss_buf_adds(&b, " (");
    column_defs(&b, d, tb, true);
    ss_buf_adds(&b, ", PRIMARY KEY (");
    key_list(&b, tb);
    ss_buf_adds(&b, "))");
    /* Provisional window rows and state rows are rewritten in place every epoch: free
     * space on each page lets PostgreSQL update them as heap-only tuples, without a
     * new index entry, which roughly halves the cost of the update path (measured: bench/bench_pg.c). */
    if (d == SS_SQL_PG && (tb->flags & (SS_TBL_WINDOWED | SS_TBL_STATE))) ss_buf_adds(&b, " WITH (fillfactor = 50)");
    return finish(&b);
}

char *ss_sql_create_staging(const struct ss_table *tb) {
    char name[64];
    struct ss_buf b = {0};
    ss_buf_adds(&b, "CREATE TEMP TABLE IF NOT EXISTS ");
    ident(&b, ss_sql_staging_name(tb, name));
    ss_buf_adds(&b, " (");
    column_defs(&b, SS_SQL_PG, tb, false);
    ss_buf_adds(&b, ") ON COMMIT DELETE ROWS");
    return finish(&b);
}

char *ss_sql_copy(const struct ss_table *tb) {
    char name[64];
    struct ss_buf b = {0};
    ss_buf_adds(&b, "COPY ");
    ident(&b, ss_sql_staging_name(tb, name));
    ss_buf_adds(&b, " (");
    col_list(&b, tb, NULL);
    ss_buf_adds(&b, ") FROM STDIN WITH (FORMAT binary)");
    return finish(&b);
}

char *ss_sql_delete_stale(enum ss_sql_dialect d, const struct ss_table *tb) {
    if (tb->final_col < 0) return NULL;
    struct ss_buf b = {0};
    const char *ws = tb->cols[0].name; /* window_start: the first key column of every windowed table */
    const char *fin = tb->cols[tb->final_col].name;
    ss_buf_adds(&b, "DELETE FROM ");
    ident(&b, tb->name);
    if (d == SS_SQL_PG) {
        char name[64];
        ss_buf_adds(&b, " t USING (SELECT DISTINCT ");
        ident(&b, ws);
        ss_buf_adds(&b, " FROM ");
        ident(&b, ss_sql_staging_name(tb, name));
        ss_buf_adds(&b, " WHERE ");
        ident(&b, fin);
        ss_buf_adds(&b, ") f WHERE t.");
        ident(&b, ws);
        ss_buf_adds(&b, " = f.");
        ident(&b, ws);
        ss_buf_adds(&b, " AND NOT t.");
        ident(&b, fin);
    } else {
        ss_buf_adds(&b, " WHERE ");
        ident(&b, ws);
        ss_buf_adds(&b, " = ?1 AND ");
        ident(&b, fin);
        ss_buf_adds(&b, " = 0");
    }
    return finish(&b);
}

char *ss_sql_upsert(enum ss_sql_dialect d, const struct ss_table *tb, bool from_staging) {
    struct ss_buf b = {0};
    ss_buf_adds(&b, "INSERT INTO ");
    ident(&b, tb->name);
    ss_buf_adds(&b, " (");
    col_list(&b, tb, NULL);
    ss_buf_adds(&b, ") ");
    if (from_staging) {
        char name[64];
        ss_buf_adds(&b, "SELECT ");
        col_list(&b, tb, NULL);
        ss_buf_adds(&b, " FROM ");
        ident(&b, ss_sql_staging_name(tb, name));
    } else {
        ss_buf_adds(&b, "VALUES (");
        for (int c = 0; c < tb->ncols; c++) {
            char ph[16];
            snprintf(ph, sizeof ph, "%s%c%d", c ? ", " : "", d == SS_SQL_PG ? '$' : '?', c + 1);
            ss_buf_adds(&b, ph);
        }
        ss_buf_adds(&b, ")");
    }
    ss_buf_adds(&b, " ON CONFLICT (");
    key_list(&b, tb);
    ss_buf_adds(&b, ") DO ");
    int nset = 0;
    if (!(tb->flags & SS_TBL_SIDE)) {
        for (int c = 0; c < tb->ncols; c++) {
            if (ss_sql_is_key(tb, c)) continue;
            ss_buf_adds(&b, nset++ ? ", " : "UPDATE SET ");
            ident(&b, tb->cols[c].name);
            ss_buf_adds(&b, " = EXCLUDED.");
            ident(&b, tb->cols[c].name);
        }
    }
    if (nset == 0) {
        /* dlq / late: a record's row never changes, a replay writes it again */
        ss_buf_adds(&b, "NOTHING");
    } else if (tb->final_col >= 0) {
        ss_buf_adds(&b, " WHERE ");
        ident(&b, tb->name);
        ss_buf_addc(&b, '.');
        ident(&b, tb->cols[tb->final_col].name);
        ss_buf_adds(&b, d == SS_SQL_PG ? " = false" : " = 0");
    } else if (tb == &ss_sql_epoch_table) {
        ss_buf_adds(&b, " WHERE ");
        ident(&b, tb->name);
        ss_buf_adds(&b, ".\"epoch\" < EXCLUDED.\"epoch\"");
    }
    return finish(&b);
}

static const char *key_names(const struct ss_table *tb, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (int c = 0; c < tb->ncols; c++)
        if (ss_sql_is_key(tb, c) && n < cap)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", tb->cols[c].name);
    return buf;
}

int ss_sql_check(enum ss_sql_dialect d, const struct ss_table *tb, const struct ss_sql_have *have, int nhave,
                 struct ss_err *err) {
    char keys[256];
    for (int c = 0; c < tb->ncols; c++) {
        const struct ss_column *col = &tb->cols[c];
        const char *want = ss_sql_type(d, col->type);
        const struct ss_sql_have *h = NULL;
        for (int i = 0; i < nhave && !h; i++)
            if (strcmp(have[i].name, col->name) == 0) h = &have[i];
        if (!h)
            return ss_err_set(err, SS_EUSAGE,
                              "table \"%s\" exists with an incompatible schema: column \"%s\" is missing "
                              "(expected %s); drop or rename the table, or use another database",
                              tb->name, col->name, want);
        if (strcasecmp(h->type, want) != 0)
            return ss_err_set(err, SS_EUSAGE,
                              "table \"%s\" exists with an incompatible schema: column \"%s\" has type %s, "
                              "expected %s; drop or rename the table, or use another database",
                              tb->name, col->name, h->type, want);
        if (h->pk != ss_sql_is_key(tb, c))
            return ss_err_set(err, SS_EUSAGE,
                              "table \"%s\" exists with an incompatible schema: column \"%s\" is %spart of the "
                              "primary key, expected PRIMARY KEY (%s); drop or rename the table, or use another "
                              "database",
                              tb->name, col->name, h->pk ? "" : "not ", key_names(tb, keys, sizeof keys));
    }
    for (int i = 0; i < nhave; i++)
        if (have[i].pk) {
            bool known = false;
            for (int c = 0; c < tb->ncols && !known; c++) known = strcmp(have[i].name, tb->cols[c].name) == 0;
            if (!known)
                return ss_err_set(err, SS_EUSAGE,
                                  "table \"%s\" exists with an incompatible schema: column \"%s\" is part of its "
                                  "primary key, expected PRIMARY KEY (%s); drop or rename the table, or use "
                                  "another database",
                                  tb->name, have[i].name, key_names(tb, keys, sizeof keys));
        }
    return SS_OK;
}

int ss_sql_format(uint8_t coltype, int64_t i, char *buf) {
    switch (coltype) {
    case SS_COL_MONEY: return ss_money_format(i, 2, buf);
    case SS_COL_RATIO: return ss_money_format(i, 4, buf);
    case SS_COL_TS: return ss_ts_format(i, buf);
    default: {
        char tmp[24];
        int n = 0;
        uint64_t m = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
        do {
            tmp[n++] = (char)('0' + m % 10);
            m /= 10;
        } while (m);
        int len = 0;
        if (i < 0) buf[len++] = '-';
        while (n) buf[len++] = tmp[--n];
        buf[len] = '\0';
        return len;
    }
    }
}

