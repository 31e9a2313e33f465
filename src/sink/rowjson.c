/* rowjson.c — see rowjson.h. */
#include "rowjson.h"

#include <string.h>

#include "../core/money.h"
#include "../core/timefmt.h"

void ss_row_to_json(const struct ss_table *t, const struct ss_val *v, struct ss_buf *b) {
    char tmp[40];
    ss_buf_addc(b, '{');
    for (int c = 0; c < t->ncols; c++) {
        const struct ss_column *col = &t->cols[c];
        /* column names are plain identifiers (table.c): no escaping needed */
        size_t nl = strlen(col->name);
        ss_buf_reserve(b, nl + 4);
        char *o = b->p + b->len;
        if (c) *o++ = ',';
        *o++ = '"';
        memcpy(o, col->name, nl);
        o += nl;
        *o++ = '"';
        *o++ = ':';
        b->len = (size_t)(o - b->p);
        if (v[c].null) {
            ss_buf_adds(b, "null");
            continue;
        }
        switch (col->type) {
        case SS_COL_STR:
        case SS_COL_JSON:
            ss_buf_add_json_str(b, v[c].s ? v[c].s : "", v[c].len);
            break;
        case SS_COL_INT:
            ss_buf_add_i64(b, v[c].i);
            break;
        case SS_COL_MONEY: {
            int n = ss_money_format(v[c].i, 2, tmp);
            ss_buf_addc(b, '"');
            ss_buf_add(b, tmp, (size_t)n);
            ss_buf_addc(b, '"');
            break;
        }
        case SS_COL_RATIO: {
            int n = ss_money_format(v[c].i, 4, tmp);
            ss_buf_add(b, tmp, (size_t)n);
            break;
        }
        case SS_COL_TS: {
            int n = ss_ts_format(v[c].i, tmp);
            ss_buf_addc(b, '"');
            ss_buf_add(b, tmp, (size_t)n);
            ss_buf_addc(b, '"');
            break;
        }
        case SS_COL_BOOL:
            ss_buf_adds(b, v[c].i ? "true" : "false");
            break;
        }
    }
    ss_buf_addc(b, '}');
}
