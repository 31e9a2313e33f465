/* rowjson.h — one output row as a JSON object, in the encoding of docs/SEMANTICS.md
 * §11 (shared by the JSONL sink and the Kafka outputs). */
#ifndef SS_ROWJSON_H
#define SS_ROWJSON_H

#include <stdbool.h>

#include "../core/buf.h"
#include "../core/table.h"

/* Appends {"col":value,...} (no newline) for row v of table t. */
void ss_row_to_json(const struct ss_table *t, const struct ss_val *v, struct ss_buf *b);

/* The same for many rows in a row: timestamps of one run share their date, so the
 * context remembers the last date written, and the keys of the last table, known by
 * its address (so a table must not change while a context is in use: ss_tables never
 * does). Initialise with ss_rowjson_init. */
#define SS_ROWJSON_KEY 32  /* room for one column's `,"name":` */
#define SS_ROWJSON_COLS 16 /* tables with more columns are written without the key cache */
struct ss_rowjson {
    int64_t day;     /* days since the epoch of `date`; INT64_MIN: none */
    char date[12];   /* "YYYY-MM-DDT" */
    /* the keys of the last table written, each `,"name":` (the first `{"name":`) in
     * a slot of its own, so that a row copies each as one fixed-size block;
     * keys_fit false when a table or a name is too large for them */
    const struct ss_table *keyed;
    bool keys_fit;
    uint8_t key_len[SS_ROWJSON_COLS];
    char key[SS_ROWJSON_COLS][SS_ROWJSON_KEY];
};
void ss_rowjson_init(struct ss_rowjson *rj);
void ss_row_to_json_rj(struct ss_rowjson *rj, const struct ss_table *t, const struct ss_val *v, struct ss_buf *b);

#endif
