/* decode_internal.h — what decoder.c shares with the two format scanners (json.c,
 * csv.c). A scanner only checks syntax and finds the raw text of each known field;
 * decoder.c turns those texts into a validated canonical event, so both formats
 * give the same reasons in the same order (docs/SEMANTICS.md §2). Private to
 * src/decode/. */
#ifndef SS_DECODE_INTERNAL_H
#define SS_DECODE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "decode.h"

#define SS_DEC_SLOTS 64      /* open-addressing slots for the <= SS_F_COUNT input names */
#define SS_DEC_NAME_MAX 255  /* longest input field name */
#define SS_DEC_KEY_POSITIONS 32 /* key positions remembered per record (key_at) */
#define SS_JSON_MAX_DEPTH 512 /* deeper nesting in an unknown field is `malformed` */

#define SS_JSON_TPLS 4         /* record layouts remembered per decoder (json_template.c) */
#define SS_JSON_TPL_VALUES 24  /* values of a record that can be a template */
#define SS_JSON_TPL_BYTES 512  /* literal bytes of a template, each segment padded to 16 */

/* One remembered record layout: the literal bytes before each value (from the end of
 * the previous value, its closing quote included, to the start of this one, its
 * opening quote included), then the bytes after the last value. */
struct ss_json_tpl_value {
    uint16_t seg_at, seg_len; /* its segment in text */
    uint16_t seg_mask;        /* segments of up to 16 bytes: the bits of their bytes */
    uint8_t field;            /* the field the value fills, or SS_F_COUNT */
    uint8_t string;           /* the value is a string */
};

struct ss_json_tpl {
    uint8_t nvals;   /* 0: an empty slot */
    uint16_t absent; /* bit f: the layout has no value for field f */
    uint32_t hits;
    struct ss_json_tpl_value v[SS_JSON_TPL_VALUES];
    uint16_t last_at, last_len; /* the bytes after the last value */
    /* the last segment (when at most 16 bytes) right-aligned in 16, for a record
     * whose last 16 bytes are loaded at once, and the bits of its bytes */
    char tail[16];
    uint16_t tail_mask;
    char text[SS_JSON_TPL_BYTES]; /* segments, each from a 16-byte boundary, zero padded */
};

struct ss_decoder {
    enum ss_stream stream;
    enum ss_format fmt;
    /* input names of the fields this stream reads (NULL: not read); owned copies */
    const char *name[SS_F_COUNT];
    uint32_t name_len[SS_F_COUNT];
    /* the name's first and last 8 bytes (zero padded) for compares without memcmp */
    uint64_t name_head[SS_F_COUNT], name_tail[SS_F_COUNT];
    int8_t slot[SS_DEC_SLOTS]; /* field index, or -1 for an empty slot */
    /* the field read at each key position of the last plain JSON record (-1: none):
     * records of one producer repeat their keys in the same order, so the next
     * record's key is checked against it before any hashing (json.c) */
    int8_t key_at[SS_DEC_KEY_POSITIONS];
    /* JSON record layouts seen, most used first (json_template.c); learning stops
     * for good once it keeps replacing layouts that never matched again */
    struct ss_json_tpl tpl[SS_JSON_TPLS];
    int ntpl;
    int tpl_wasted;
    /* the date ("YYYY-MM-DDT") of the last canonical UTC timestamp parsed, as its
     * first 8 bytes and the 3 after them in a word, and its day number: consecutive
     * events mostly share it (decoder.c, parse_ts) */
    bool ts_cached;
    uint64_t ts_w0, ts_w1;
    int64_t ts_day;
    /* CSV: column -> field (-1: ignored), set by the header record */
    bool have_header;
    int ncols;
    int8_t *col_field;
};

/* The values of a record, one per field, and one more where the template path puts
 * the values of keys no field is named by (no test for them in its loop). */
#define SS_DEC_VALS (SS_F_COUNT + 1)

/* The text of one field as found by a scanner: p == NULL when absent or null
 * (then the other members are not read).
 * `esc` means p/len is still raw and needs unescaping (JSON \-escapes, CSV "") —
 * done by the scanner's resolve step into the arena, only for fields that matter. */
struct ss_dec_val {
    const char *p;
    uint32_t len;
    uint8_t esc;
    uint8_t str; /* a JSON string or a CSV cell (not a JSON number or literal) */
};

static inline unsigned ss_dec_hash(const char *k, size_t n) {
    return ((unsigned)n * 31u + (unsigned)(uint8_t)k[0] * 7u + (unsigned)(uint8_t)k[n - 1]) &
           (SS_DEC_SLOTS - 1);
}

static inline uint64_t ss_dec_load8(const char *p) {
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

/* Whether k[0..n) (in a buffer that ends at end) is the input name of field f: keys
 * of up to 16 bytes are compared as one or two 8-byte words (little-endian only;
 * elsewhere, and near the end of the buffer, with memcmp). */
static inline bool ss_dec_name_is(const struct ss_decoder *d, int f, const char *k, size_t n,
                                  const char *end) {
    if (d->name_len[f] != n) return false;
    if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ || n > 16 || end - k < 8 || n == 0)
        return memcmp(d->name[f], k, n) == 0;
    uint64_t head = ss_dec_load8(k);
    if (n < 8) head &= ((uint64_t)1 << (8 * n)) - 1;
    return d->name_head[f] == head && (n <= 8 || d->name_tail[f] == ss_dec_load8(k + n - 8));
}

/* After a CSV header: warns (once, naming them) about required fields that no column
 * holds, since every row will then be a dead letter for the same reason. */
void ss_dec_warn_missing_columns(const struct ss_decoder *d);

/* Field index of input name k, or -1 when this stream does not read it. k[0..n)
 * lies in a buffer that ends at end (bytes up to end may be read in words). */
static inline int ss_dec_lookup_fast(const struct ss_decoder *d, const char *k, size_t n,
                                     const char *end) {
    if (n == 0 || n > SS_DEC_NAME_MAX) return -1;
    unsigned h = ss_dec_hash(k, n);
    for (;;) {
        int f = d->slot[h];
        if (f < 0) return -1;
        if (ss_dec_name_is(d, f, k, n, end)) return f;
        h = (h + 1) & (SS_DEC_SLOTS - 1);
    }
}

/* The same for a name nothing may be read past. */
static inline int ss_dec_lookup(const struct ss_decoder *d, const char *k, size_t n) {
    return ss_dec_lookup_fast(d, k, n, k + n);
}

/* JSON: checks the syntax of the whole record and fills vals (every entry: p is NULL
 * for a field the record lacks); -1 when malformed. Plain records take a fast path
 * (json.c), records of a layout seen before a faster one (json_template.c). */
int ss_json_scan(struct ss_decoder *d, const char *p, const char *end,
                 struct ss_dec_val vals[SS_DEC_VALS]);
/* The same without the fast paths, and vals[f].p must be NULL on entry: what the
 * fast paths are tested against. */
int ss_json_scan_slow(const struct ss_decoder *d, const char *p, const char *end,
                      struct ss_dec_val vals[SS_DEC_VALS]);
/* Template path (json_template.c). ss_json_tpl_scan: 0 when the record repeats a
 * remembered layout (every entry of vals filled as ss_json_scan would), 1 otherwise
 * (vals then hold garbage). ss_json_tpl_learn: remembers the layout of a record the plain path just
 * accepted, when it has one a template can hold. */
int ss_json_tpl_scan(struct ss_decoder *d, const char *p, const char *end,
                     struct ss_dec_val vals[SS_DEC_VALS]);
void ss_json_tpl_learn(struct ss_decoder *d, const char *p, const char *end);
/* Unescapes a JSON string body that ss_json_scan accepted, into the arena. */
struct ss_str ss_json_unescape(struct ss_arena *arena, const char *p, uint32_t len);

/* CSV: reads the header (SS_DEC_SKIP), or one row into vals (SS_DEC_EVENT), or
 * reports malformed quoting / a column count that differs from the header
 * (SS_DEC_INVALID). */
enum ss_decode_status ss_csv_scan(struct ss_decoder *d, const char *p, const char *end,
                                  struct ss_dec_val vals[SS_DEC_VALS]);
/* Turns a quoted CSV cell body with "" pairs into its text, in the arena. */
struct ss_str ss_csv_unquote(struct ss_arena *arena, const char *p, uint32_t len);

#endif
