/* csv.c — the CSV record scanner (RFC 4180 quoting), first stage of the pipeline
 * after a file source. The first non-blank record of an input is its header: it
 * maps column positions to the canonical fields this stream reads. Each later
 * record is one row; a quoted cell is a view into the input unless it contains a
 * doubled quote (""), which is resolved later into the batch arena. Records are
 * single lines, so quoted cells never span lines. decoder.c validates the texts. */
#include <stdbool.h>
#include <string.h>

#include "../core/alloc.h"
#include "decode_internal.h"

/* One cell starting at p: sets *cell (body without the quotes), *esc when a quoted
 * body contains "" and returns the position of the ',' or end after it; NULL when a
 * quote is not closed or is followed by something other than ',' or the end. A
 * quote inside an unquoted cell is taken literally. */
static const char *scan_cell(const char *p, const char *end, struct ss_dec_val *cell) {
    if (p < end && *p == '"') {
        const char *s = ++p;
        uint8_t esc = 0;
        for (;;) {
            const char *q = memchr(p, '"', (size_t)(end - p));
            if (!q) return NULL;
            if (q + 1 < end && q[1] == '"') {
                esc = 1;
                p = q + 2;
                continue;
            }
            *cell = (struct ss_dec_val){s, (uint32_t)(q - s), esc, 1};
            p = q + 1;
            if (p < end && *p != ',') return NULL;
            return p;
        }
    }
    const char *c = memchr(p, ',', (size_t)(end - p));
    if (!c) c = end;
    *cell = (struct ss_dec_val){p, (uint32_t)(c - p), 0, 1};
    return c;
}

struct ss_str ss_csv_unquote(struct ss_arena *arena, const char *p, uint32_t len) {
    char *out = ss_arena_alloc(arena, len ? len : 1);
    uint32_t o = 0;
    for (uint32_t i = 0; i < len; i++) {
        out[o++] = p[i];
        if (p[i] == '"') i++; /* the pair "" is one quote */
    }
    return (struct ss_str){out, o};
}

static enum ss_decode_status read_header(struct ss_decoder *d, const char *p, const char *end) {
    /* a UTF-8 byte order mark is common at the start of spreadsheet exports */
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    int n = 0, cap = 8;
    int8_t *cols = ss_malloc((size_t)cap);
    for (;;) {
        struct ss_dec_val cell;
        p = scan_cell(p, end, &cell);
        if (!p) {
            /* An unreadable header is not a record of its own: it leaves no columns,
             * so every row is reported malformed (never silently reinterpreted). */
            n = 0;
            break;
        }
        int f;
        if (cell.esc) {
            char *tmp = ss_malloc(cell.len ? cell.len : 1);
            uint32_t o = 0;
            for (uint32_t i = 0; i < cell.len; i++) {
                tmp[o++] = cell.p[i];
                if (cell.p[i] == '"') i++;
            }
            f = ss_dec_lookup(d, tmp, o);
            ss_free(tmp);
        } else {
            f = ss_dec_lookup(d, cell.p, cell.len);
        }
        if (n == cap) {
            cap *= 2;
            cols = ss_realloc(cols, (size_t)cap);
        }
        cols[n++] = (int8_t)f;
        if (p == end) break;
        p++; /* the comma */
    }
    ss_free(d->col_field);
    d->col_field = cols;
    d->ncols = n;
    d->have_header = true;
    ss_dec_warn_missing_columns(d);
    return SS_DEC_SKIP;
}

enum ss_decode_status ss_csv_scan(struct ss_decoder *d, const char *p, const char *end,
                                  struct ss_dec_val vals[SS_DEC_VALS]) {
    if (!d->have_header) return read_header(d, p, end);
    int col = 0;
    for (;;) {
        struct ss_dec_val cell;
        p = scan_cell(p, end, &cell);
        if (!p || col >= d->ncols) return SS_DEC_INVALID;
        int f = d->col_field[col++];
        /* an empty cell is missing; a later column of the same name wins */
        if (f >= 0) vals[f] = cell.len ? cell : (struct ss_dec_val){NULL, 0, 0, 0};
        if (p == end) break;
        p++;
    }
    return col == d->ncols ? SS_DEC_EVENT : SS_DEC_INVALID;
}
