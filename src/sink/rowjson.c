/* rowjson.c — see rowjson.h. */
#include "rowjson.h"

#include <string.h>

#include "../core/money.h"
#include "../core/timefmt.h"

#define TS_LEN 24 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */

void ss_rowjson_init(struct ss_rowjson *rj) {
    rj->day = INT64_MIN;
    rj->keyed = NULL;
}

static void learn_keys(struct ss_rowjson *rj, const struct ss_table *t) {
    rj->keyed = t;
    rj->keys_fit = t->ncols <= SS_ROWJSON_COLS;
    for (int c = 0; c < t->ncols && rj->keys_fit; c++) {
        /* column names are plain identifiers (table.c): no escaping needed */
        size_t nl = strlen(t->cols[c].name);
        if (nl + 4 > SS_ROWJSON_KEY) {
            rj->keys_fit = false;
            break;
        }
        char *k = rj->key[c];
        memset(k, 0, SS_ROWJSON_KEY);
        k[0] = c ? ',' : '{';
        k[1] = '"';
        memcpy(k + 2, t->cols[c].name, nl);
        k[nl + 2] = '"';
        k[nl + 3] = ':';
        rj->key_len[c] = (uint8_t)(nl + 4);
    }
}

/* Appends column c's key: from the cache, one block copy (the bytes past its end are
 * overwritten by the value), else spelt out. */
static inline void put_key(const struct ss_rowjson *rj, const struct ss_table *t, int c, struct ss_buf *b) {
    if (rj->keys_fit) {
        ss_buf_reserve(b, SS_ROWJSON_KEY);
        memcpy(b->p + b->len, rj->key[c], SS_ROWJSON_KEY);
        b->len += rj->key_len[c];
        return;
    }
    ss_buf_addc(b, c ? ',' : '{');
    ss_buf_addc(b, '"');
    ss_buf_adds(b, t->cols[c].name);
    ss_buf_addc(b, '"');
    ss_buf_addc(b, ':');
}

static inline void put2(char *o, unsigned v) {
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
}

/* ss_ts_format's text, with the date part taken from rj when it is the same day;
 * years outside 0000..9999 (absurd inputs) go through ss_ts_format every time. */
static int ts_text(struct ss_rowjson *rj, int64_t ms, char *out) {
    int64_t days = ms / SS_MS_PER_DAY, rem = ms % SS_MS_PER_DAY;
    if (rem < 0) {
        rem += SS_MS_PER_DAY;
        days--;
    }
    if (days < -719528 || days >= 2932897) return ss_ts_format(ms, out); /* year 0000 .. 9999 */
    if (days != rj->day) {
        char tmp[40];
        if (ss_ts_format(days * SS_MS_PER_DAY, tmp) != TS_LEN) return ss_ts_format(ms, out);
        memcpy(rj->date, tmp, 11);
        rj->day = days;
    }
    unsigned r = (unsigned)rem;
    memcpy(out, rj->date, 11);
    put2(out + 11, r / 3600000);
    out[13] = ':';
    put2(out + 14, r / 60000 % 60);
    out[16] = ':';
    put2(out + 17, r / 1000 % 60);
    out[19] = '.';
    unsigned f = r % 1000;
    out[20] = (char)('0' + f / 100);
    put2(out + 21, f % 100);
    out[23] = 'Z';
    out[24] = '\0';
    return TS_LEN;
}

void ss_row_to_json(const struct ss_table *t, const struct ss_val *v, struct ss_buf *b) {
    struct ss_rowjson rj;
    ss_rowjson_init(&rj);
    ss_row_to_json_rj(&rj, t, v, b);
}

void ss_row_to_json_rj(struct ss_rowjson *rj, const struct ss_table *t, const struct ss_val *v, struct ss_buf *b) {
    char tmp[40];
    if (rj->keyed != t) learn_keys(rj, t);
    if (t->ncols == 0) ss_buf_addc(b, '{');
    for (int c = 0; c < t->ncols; c++) {
        const struct ss_column *col = &t->cols[c];
        put_key(rj, t, c, b);
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
            int n = ts_text(rj, v[c].i, tmp);
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
