/* test_parquet.c — the Parquet writer and the parquet: lake sink.
 *
 * Encoders are checked against byte sequences worked out by hand from the Thrift
 * compact protocol and parquet-format Encodings.md, and the RLE hybrid against a
 * decoder written here. Files are checked by reading them back with pyarrow AND
 * duckdb (tests/e2e/parquet_check.py, which fails unless both agree) and comparing
 * every value with the JSON the test builds from the rows it wrote; column
 * statistics are compared with min / max / null_count recomputed by brute force. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/money.h"
#include "core/table.h"
#include "core/timefmt.h"
#include "harness.h"
#include "sink/parquet/encode.h"
#include "sink/parquet/parquet.h"
#include "sink/parquet/thrift.h"
#include "sink/parquet/writer.h"
#include "sink_check.h"

static char tmpdir[256];
static const char *checker = "tests/e2e/parquet_check.py";

/* ---- helpers ---------------------------------------------------------------- */

static int bytes_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    return an == bn && memcmp(a, b, an) == 0;
}

static int file_exists(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0;
}

/* Runs a command and returns its stdout (malloc'd, NUL-terminated) and exit status. */
static char *run(const char *cmd, int *status) {
    FILE *f = popen(cmd, "r");
    if (!f) {
        *status = -1;
        return strdup("");
    }
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    size_t got;
    while ((got = fread(out + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 4096) out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    *status = pclose(f);
    return out;
}

static char *check_file(const char *mode, const char *path, int *status) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "python3 %s %s '%s'", checker, mode, path);
    return run(cmd, status);
}

/* JSON text as Python's json.dumps(ensure_ascii=False) writes it. */
static void json_str(struct ss_buf *b, const char *s, size_t n) {
    ss_buf_addc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': ss_buf_adds(b, "\\\""); break;
        case '\\': ss_buf_adds(b, "\\\\"); break;
        case '\n': ss_buf_adds(b, "\\n"); break;
        case '\r': ss_buf_adds(b, "\\r"); break;
        case '\t': ss_buf_adds(b, "\\t"); break;
        case '\b': ss_buf_adds(b, "\\b"); break;
        case '\f': ss_buf_adds(b, "\\f"); break;
        default:
            if (c < 0x20) {
                char e[8];
                snprintf(e, sizeof e, "\\u%04x", c);
                ss_buf_adds(b, e);
            } else {
                ss_buf_addc(b, (char)c);
            }
        }
    }
    ss_buf_addc(b, '"');
}

static void json_i64(struct ss_buf *b, int64_t v) {
    char t[32];
    snprintf(t, sizeof t, "%" PRId64, v);
    ss_buf_adds(b, t);
}

/* The canonical value parquet_check.py prints for v. */
static void json_val(struct ss_buf *b, const struct ss_column *c, const struct ss_val *v) {
    char t[40];
    if (v->null) {
        ss_buf_adds(b, "null");
        return;
    }
    switch (c->type) {
    case SS_COL_STR:
    case SS_COL_JSON: json_str(b, v->s, v->len); break;
    case SS_COL_INT:
    case SS_COL_TS: json_i64(b, v->i); break;
    case SS_COL_BOOL: ss_buf_adds(b, v->i ? "true" : "false"); break;
    case SS_COL_MONEY:
    case SS_COL_RATIO:
        ss_buf_addc(b, '"');
        ss_money_format(v->i, c->type == SS_COL_MONEY ? 2 : 4, t);
        ss_buf_adds(b, t);
        ss_buf_addc(b, '"');
        break;
    }
}

static void json_row(struct ss_buf *b, const struct ss_table *tb, const struct ss_val *v) {
    ss_buf_addc(b, '{');
    for (int j = 0; j < tb->ncols; j++) {
        if (j) ss_buf_addc(b, ',');
        json_str(b, tb->cols[j].name, strlen(tb->cols[j].name));
        ss_buf_addc(b, ':');
        json_val(b, &tb->cols[j], &v[j]);
    }
    ss_buf_adds(b, "}\n");
}

/* Checks that `path` reads back (pyarrow == duckdb) as exactly rows idx[0..n). */
static void check_rows(const char *path, enum ss_table_id t, const struct ss_out *o, const uint32_t *idx,
                       size_t n) {
    const struct ss_table *tb = &ss_tables[t];
    struct ss_buf want = {0};
    for (size_t k = 0; k < n; k++) json_row(&want, tb, ss_out_get(o, t, idx ? idx[k] : k));
    ss_buf_addc(&want, '\0');
    int st;
    char *got = check_file("", path, &st);
    CHECK_EQ_INT(st, 0);
    if (strcmp(got, want.p) != 0) {
        /* report the first differing line */
        const char *g = got, *w = want.p;
        int line = 1;
        while (*g && *g == *w) {
            if (*g == '\n') line++;
            g++;
            w++;
        }
        fprintf(stderr, "FAIL %s: %s differs at line %d\n  got:  %.200s\n  want: %.200s\n", __FILE__, path, line,
                g, w);
        ss_t_failed++;
    } else {
        ss_t_passed++;
    }
    free(got);
    ss_buf_free(&want);
}

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn) {
    size_t n = an < bn ? an : bn;
    int r = n ? memcmp(a, b, n) : 0;
    if (r) return r;
    return an < bn ? -1 : an > bn;
}

/* Brute-force statistics of column j over rows [from, to): the tail of the line
 * parquet_check.py --stats prints, from "null_count" on. */
static void want_stats(struct ss_buf *b, enum ss_table_id t, const struct ss_out *o, int j, size_t from,
                       size_t to) {
    const struct ss_column *c = &ss_tables[t].cols[j];
    int64_t nulls = 0, imin = 0, imax = 0;
    const struct ss_val *smin = NULL, *smax = NULL;
    int have = 0;
    for (size_t r = from; r < to; r++) {
        const struct ss_val *v = &ss_out_get(o, t, r)[j];
        if (v->null) {
            nulls++;
            continue;
        }
        if (c->type == SS_COL_STR || c->type == SS_COL_JSON) {
            if (!have || bytes_cmp(v->s, v->len, smin->s, smin->len) < 0) smin = v;
            if (!have || bytes_cmp(v->s, v->len, smax->s, smax->len) > 0) smax = v;
        } else {
            int64_t x = c->type == SS_COL_MONEY ? ss_pq_money_cents(v->i) : c->type == SS_COL_BOOL ? !!v->i : v->i;
            /* the cents conversion is checked separately against ss_money_format */
            if (!have || x < imin) imin = x;
            if (!have || x > imax) imax = x;
        }
        have = 1;
    }
    /* no min/max for a string chunk whose min or max is over 4096 bytes */
    if (have && (c->type == SS_COL_STR || c->type == SS_COL_JSON) && (smin->len > 4096 || smax->len > 4096)) have = 0;
    ss_buf_adds(b, "\"null_count\":");
    json_i64(b, nulls);
    ss_buf_adds(b, have ? ",\"has_min_max\":true,\"min\":" : ",\"has_min_max\":false}");
    if (!have) return;
    if (c->type == SS_COL_STR || c->type == SS_COL_JSON) {
        json_str(b, smin->s, smin->len);
        ss_buf_adds(b, ",\"max\":");
        json_str(b, smax->s, smax->len);
    } else if (c->type == SS_COL_BOOL) {
        ss_buf_adds(b, imin ? "true" : "false");
        ss_buf_adds(b, ",\"max\":");
        ss_buf_adds(b, imax ? "true" : "false");
    } else {
        json_i64(b, imin);
        ss_buf_adds(b, ",\"max\":");
        json_i64(b, imax);
    }
    ss_buf_addc(b, '}');
}

/* Statistics of every row group and column (row groups of rg_rows rows). */
static void check_stats(const char *path, enum ss_table_id t, const struct ss_out *o, size_t rg_rows) {
    const struct ss_table *tb = &ss_tables[t];
    size_t n = o->t[t].n;
    int st;
    char *got = check_file("--stats", path, &st);
    CHECK_EQ_INT(st, 0);
    size_t nrg = (n + rg_rows - 1) / rg_rows;
    char *line = got;
    for (size_t rg = 0; rg < nrg; rg++) {
        size_t from = rg * rg_rows, to = from + rg_rows < n ? from + rg_rows : n;
        for (int j = 0; j < tb->ncols; j++) {
            char *nl = line ? strchr(line, '\n') : NULL;
            if (!nl) {
                CHECK(!"stats: missing line");
                free(got);
                return;
            }
            *nl = '\0';
            char head[256];
            snprintf(head, sizeof head, "{\"rg\":%zu,\"col\":\"%s\",\"rows\":%zu,\"num_values\":%zu,", rg,
                     tb->cols[j].name, to - from, to - from);
            CHECK(strncmp(line, head, strlen(head)) == 0);
            struct ss_buf want = {0};
            want_stats(&want, t, o, j, from, to);
            ss_buf_addc(&want, '\0');
            const char *tail = strstr(line, "\"null_count\":");
            if (!tail || strcmp(tail, want.p) != 0) {
                fprintf(stderr, "FAIL stats %s rg %zu col %s:\n  got:  %s\n  want: %s\n", path, rg, tb->cols[j].name,
                        tail ? tail : line, want.p);
                ss_t_failed++;
            } else {
                ss_t_passed++;
            }
            ss_buf_free(&want);
            line = nl + 1;
        }
    }
    CHECK_EQ_INT(*line, '\0'); /* no extra row groups */
    free(got);
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void put_str(struct ss_out *o, struct ss_val *v, const char *s) { ss_out_str(o, v, ss_str_c(s)); }

/* ---- encoders ------------------------------------------------------------------- */

TEST(thrift_bytes) {
    struct ss_tc tc;
    ss_tc_init(&tc);
    ss_tc_i32(&tc, 1, 1);            /* 0x15 (delta 1, i32), zigzag(1) = 2 */
    ss_tc_i64(&tc, 2, -1);           /* 0x16, zigzag(-1) = 1 */
    ss_tc_i32(&tc, 20, 150);         /* delta 18 > 15: 0x05, zigzag id 40, zigzag(150)=300 = ac 02 */
    ss_tc_bool(&tc, 21, 1);          /* 0x11 */
    ss_tc_bool(&tc, 22, 0);          /* 0x12 */
    ss_tc_binary(&tc, 23, "ab", 2);  /* 0x18 02 'a' 'b' */
    ss_tc_struct_begin(&tc, 24);     /* 0x1c, nested ids restart at 0 */
    ss_tc_i32(&tc, 1, -3);           /* 0x15, zigzag(-3) = 5 */
    ss_tc_struct_end(&tc);           /* 00 */
    ss_tc_list_begin(&tc, 25, SS_TC_I32, 3); /* 0x19, 0x35 */
    ss_tc_elem_i32(&tc, 0);
    ss_tc_elem_i32(&tc, 1);
    ss_tc_elem_i32(&tc, -1);         /* 00 02 01 */
    ss_tc_list_begin(&tc, 26, SS_TC_STRUCT, 20); /* 0x19, 0xfc, 0x14 */
    ss_tc_i16(&tc, 10, 7);           /* an id lower than the last: long form 04 14, zigzag(7)=0e */
    ss_tc_end(&tc);                  /* 00 */
    static const uint8_t want[] = {0x15, 0x02, 0x16, 0x01, 0x05, 0x28, 0xac, 0x02, 0x11, 0x12, 0x18, 0x02,
                                   'a',  'b',  0x1c, 0x15, 0x05, 0x00, 0x19, 0x35, 0x00, 0x02, 0x01, 0x19,
                                   0xfc, 0x14, 0x04, 0x14, 0x0e, 0x00};
    CHECK(bytes_eq(tc.buf, tc.len, want, sizeof want));
    uint8_t v[10];
    CHECK_EQ_INT(ss_tc_put_uvarint(v, 0), 1);
    CHECK_EQ_INT(ss_tc_put_uvarint(v, UINT64_MAX), 10);
    CHECK_EQ_INT(v[9], 0x01);
    CHECK_EQ_INT(ss_tc_zigzag64(INT64_MIN), UINT64_MAX);
    CHECK_EQ_INT(ss_tc_zigzag64(INT64_MAX), UINT64_MAX - 1);
    ss_tc_free(&tc);
}

/* An independent decoder of the RLE / bit-packed hybrid. */
static size_t rle_decode(const uint8_t *p, size_t n, int width, uint32_t *out, size_t want) {
    size_t i = 0, got = 0, vb = ((size_t)width + 7) / 8;
    while (i < n && got < want) {
        uint64_t h = 0;
        int sh = 0;
        while (p[i] & 0x80) h |= (uint64_t)(p[i++] & 0x7f) << sh, sh += 7;
        h |= (uint64_t)p[i++] << sh;
        if (h & 1) {
            size_t cnt = (size_t)(h >> 1) * 8;
            for (size_t k = 0; k < cnt; k++) {
                uint32_t x = 0;
                for (int b = 0; b < width; b++) {
                    size_t bit = k * (size_t)width + (size_t)b;
                    x |= (uint32_t)((p[i + bit / 8] >> (bit % 8)) & 1) << b;
                }
                if (got < want) out[got++] = x;
            }
            i += (size_t)(h >> 1) * (size_t)width;
        } else {
            uint32_t x = 0;
            for (size_t b = 0; b < vb; b++) x |= (uint32_t)p[i + b] << (8 * b);
            i += vb;
            for (size_t k = 0; k < (h >> 1) && got < want; k++) out[got++] = x;
        }
    }
    return got;
}

TEST(rle_hybrid) {
    struct ss_pq_buf b = {0};
    uint32_t ten[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    ss_pq_rle_encode(&b, ten, 10, 1); /* RLE run: header 10<<1 = 0x14, value 01 */
    static const uint8_t w1[] = {0x14, 0x01};
    CHECK(bytes_eq(b.p, b.len, w1, sizeof w1));
    b.len = 0;
    uint32_t three[3] = {1, 0, 1};
    ss_pq_rle_encode(&b, three, 3, 1); /* one bit-packed group: header 0x03, bits 101 = 0x05 */
    static const uint8_t w2[] = {0x03, 0x05};
    CHECK(bytes_eq(b.p, b.len, w2, sizeof w2));
    b.len = 0;
    uint32_t mix[12] = {0, 1, 2, 3, 4, 5, 6, 7, 300, 300, 300, 300};
    /* 8 values of width 9 packed, then 4 x 300 (fewer than 8: padded second group) */
    ss_pq_rle_encode(&b, mix, 12, 9);
    CHECK_EQ_INT(b.p[0], 0x05); /* two groups */
    CHECK_EQ_INT(b.len, 1 + 2 * 9);
    uint32_t back[12];
    CHECK_EQ_INT(rle_decode(b.p, b.len, 9, back, 12), 12);
    CHECK(memcmp(back, mix, sizeof mix) == 0);
    /* random sequences with runs, every width, against the decoder above */
    int bad = 0;
    for (int width = 1; width <= 20; width++) {
        size_t n = 1 + rnd() % 3000;
        uint32_t *v = malloc(n * sizeof *v), *d = malloc(n * sizeof *d);
        for (size_t i = 0; i < n;) {
            uint32_t x = (uint32_t)(rnd() & ((1u << width) - 1));
            size_t run = rnd() % 4 == 0 ? 1 + rnd() % 40 : 1;
            for (size_t k = 0; k < run && i < n; k++) v[i++] = x;
        }
        b.len = 0;
        ss_pq_rle_encode(&b, v, n, width);
        if (rle_decode(b.p, b.len, width, d, n) != n || memcmp(v, d, n * sizeof *v) != 0) bad++;
        free(v);
        free(d);
    }
    CHECK_EQ_INT(bad, 0);
    b.len = 0;
    uint8_t bools[10] = {1, 0, 0, 1, 0, 0, 0, 1, 1, 1};
    ss_pq_bool_pack(&b, bools, 10); /* 0b10001001 = 0x89, then 0b11 */
    static const uint8_t w3[] = {0x89, 0x03};
    CHECK(bytes_eq(b.p, b.len, w3, sizeof w3));
    CHECK_EQ_INT(ss_pq_bit_width(0), 1);
    CHECK_EQ_INT(ss_pq_bit_width(1), 1);
    CHECK_EQ_INT(ss_pq_bit_width(2), 2);
    CHECK_EQ_INT(ss_pq_bit_width(255), 8);
    CHECK_EQ_INT(ss_pq_bit_width(256), 9);
    ss_pq_buf_free(&b);
}

TEST(money_cents) {
    CHECK_EQ_INT(ss_pq_money_cents(12345), 123);   /* 1.2345 -> 1.23 */
    CHECK_EQ_INT(ss_pq_money_cents(12350), 124);   /* 1.2350 -> 1.24 */
    CHECK_EQ_INT(ss_pq_money_cents(-12350), -124); /* half away from zero */
    CHECK_EQ_INT(ss_pq_money_cents(-12349), -123);
    CHECK_EQ_INT(ss_pq_money_cents(49), 0);
    CHECK_EQ_INT(ss_pq_money_cents(-50), -1);
    CHECK_EQ_INT(ss_pq_money_cents(INT64_MAX), 92233720368547758LL);
    CHECK_EQ_INT(ss_pq_money_cents(INT64_MIN), -92233720368547758LL);
    /* the same rounding as ss_money_format with 2 places, on random values */
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        int64_t v = (int64_t)rnd() >> (rnd() % 60);
        char a[40], b[40];
        ss_money_format(v, 2, a);
        int64_t c = ss_pq_money_cents(v);
        uint64_t m = c < 0 ? (uint64_t)0 - (uint64_t)c : (uint64_t)c;
        snprintf(b, sizeof b, "%s%" PRIu64 ".%02" PRIu64, c < 0 ? "-" : "", m / 100, m % 100);
        if (strcmp(a, b) != 0) bad++;
    }
    CHECK_EQ_INT(bad, 0);
}

/* ---- files ---------------------------------------------------------------------- */

static const char *const weird[] = {
    "", "plain", "Électronique", "家居", "🛒 cart", "quote\"back\\slash", "line\nbreak\ttab\r", "ctl\x01\x1f",
    "zzz", "\x7f",
};
#define NWEIRD (sizeof weird / sizeof weird[0])

static void fill_events(struct ss_out *o, size_t n, int distinct_users) {
    for (size_t i = 0; i < n; i++) {
        struct ss_val *v = ss_out_row(o, SS_T_EVENTS);
        char b[64];
        snprintf(b, sizeof b, "evt-%07zu", i);
        put_str(o, &v[SS_EV_EVENT_ID], b);
        v[SS_EV_TS].i = 1764239400000LL + (int64_t)i * 997 - (i % 11 == 3 ? 1800000000000LL : 0);
        static const char *const types[] = {"view", "cart_add", "cart_remove", "purchase"};
        put_str(o, &v[SS_EV_EVENT_TYPE], types[rnd() % 4]);
        snprintf(b, sizeof b, "%s%d", i % 13 == 0 ? "用户" : "u", (int)(rnd() % (uint64_t)distinct_users));
        put_str(o, &v[SS_EV_USER_ID], b);
        if (i % 5 == 0) v[SS_EV_SESSION_ID].null = 1;
        else put_str(o, &v[SS_EV_SESSION_ID], i % 7 == 0 ? "" : weird[rnd() % NWEIRD]);
        snprintf(b, sizeof b, "p%d", (int)(rnd() % 100));
        put_str(o, &v[SS_EV_PRODUCT_ID], i % 17 == 0 ? weird[i % NWEIRD] : b);
        put_str(o, &v[SS_EV_CATEGORY], weird[rnd() % NWEIRD]);
        switch (i % 9) {
        case 0: v[SS_EV_PRICE].null = 1; break;
        case 1: v[SS_EV_PRICE].i = -(int64_t)(rnd() % 100000000); break;
        case 2: v[SS_EV_PRICE].i = INT64_MAX - (int64_t)(rnd() % 1000); break;
        case 3: v[SS_EV_PRICE].i = -INT64_MAX + (int64_t)(rnd() % 1000); break;
        case 4: v[SS_EV_PRICE].i = (int64_t)(rnd() % 1000) * 100 + 50; break;  /* ties */
        case 5: v[SS_EV_PRICE].i = -(int64_t)(rnd() % 1000) * 100 - 50; break;
        default: v[SS_EV_PRICE].i = (int64_t)(rnd() % 100000000); break;
        }
        v[SS_EV_QUANTITY].i = i % 101 == 0 ? INT64_MIN : i % 103 == 0 ? INT64_MAX : (int64_t)(rnd() % 10) - 2;
        if (i % 3 == 0) {
            snprintf(b, sizeof b, "o%zu", i);
            put_str(o, &v[SS_EV_ORDER_ID], b);
        } else {
            v[SS_EV_ORDER_ID].null = 1;
        }
    }
}

static int write_table(const char *path, enum ss_table_id t, const struct ss_out *o, const struct ss_pq_opts *op) {
    struct ss_err err = {0};
    struct ss_pq_writer *w;
    int rc = ss_pq_open(&w, path, &ss_tables[t], op, &err);
    if (rc) {
        fprintf(stderr, "open: %s\n", err.msg);
        return rc;
    }
    /* in uneven slices, to cross the internal batch and page boundaries */
    size_t n = o->t[t].n, done = 0, step = 1;
    while (done < n) {
        size_t k = n - done < step ? n - done : step;
        rc = ss_pq_write(w, ss_out_get(o, t, done), NULL, k, &err);
        if (rc) {
            fprintf(stderr, "write: %s\n", err.msg);
            ss_pq_abort(w);
            return rc;
        }
        done += k;
        step = step * 3 + 1;
    }
    CHECK_EQ_INT(ss_pq_rows(w), (int64_t)n);
    rc = ss_pq_close(w, &err);
    if (rc) fprintf(stderr, "close: %s\n", err.msg);
    return rc;
}

static void path_of(char *buf, size_t cap, const char *name) { snprintf(buf, cap, "%s/%s", tmpdir, name); }

TEST(events_codecs) {
    static const enum ss_pq_codec codecs[] = {SS_PQ_UNCOMPRESSED, SS_PQ_SNAPPY, SS_PQ_ZSTD};
    static const char *const cname[] = {"\"UNCOMPRESSED\"", "\"SNAPPY\"", "\"ZSTD\""};
    for (int k = 0; k < 3; k++) {
        struct ss_out o;
        ss_out_init(&o);
        fill_events(&o, 9000, 300);
        struct ss_pq_opts op;
        ss_pq_opts_default(&op);
        op.codec = codecs[k];
        op.row_group_rows = 4000; /* three row groups: 4000, 4000, 1000 */
        op.page_rows = 700;
        char path[512], tmp[520];
        snprintf(path, sizeof path, "%s/events-%d.parquet", tmpdir, k);
        CHECK_EQ_INT(write_table(path, SS_T_EVENTS, &o, &op), SS_OK);
        { char *t_ = ss_pq_temp_path(path); snprintf(tmp, sizeof tmp, "%s", t_); ss_free(t_); }
        CHECK(!file_exists(tmp));
        check_rows(path, SS_T_EVENTS, &o, NULL, o.t[SS_T_EVENTS].n);
        check_stats(path, SS_T_EVENTS, &o, 4000);
        int st;
        char *s = check_file("--stats", path, &st);
        CHECK(strstr(s, cname[k]) != NULL);
        /* low-cardinality strings are dictionary-encoded */
        CHECK(strstr(s, "\"col\":\"event_type\",\"rows\":4000,\"num_values\":4000,") != NULL);
        char *et = strstr(s, "\"col\":\"event_type\"");
        char *et_end = et ? strchr(et, '\n') : NULL, *et_dict = et ? strstr(et, "RLE_DICTIONARY") : NULL;
        CHECK(et_end && et_dict && et_dict < et_end);
        free(s);
        ss_out_free(&o);
    }
}

TEST(schema_annotations) {
    char path[512];
    path_of(path, sizeof path, "events-2.parquet");
    int st;
    char *s = check_file("--schema", path, &st);
    CHECK_EQ_INT(st, 0);
    CHECK(strstr(s, "\"created_by\":\"shopstream version 0.1.0 (build ") == s + 1);
    CHECK(strstr(s, "\"rows\":9000,\"row_groups\":3,") != NULL);
    CHECK(strstr(s, "{\"name\":\"event_id\",\"physical\":\"BYTE_ARRAY\",\"logical\":\"String\",\"converted\":\"UTF8\","
                    "\"max_def\":0}") != NULL);
    CHECK(strstr(s, "{\"name\":\"ts\",\"physical\":\"INT64\",\"logical\":\"Timestamp(isAdjustedToUTC=true, "
                    "timeUnit=milliseconds") != NULL);
    CHECK(strstr(s, "\"converted\":\"TIMESTAMP_MILLIS\"") != NULL);
    CHECK(strstr(s, "{\"name\":\"price\",\"physical\":\"INT64\",\"logical\":\"Decimal(precision=18, scale=2)\","
                    "\"converted\":\"DECIMAL\",\"max_def\":1}") != NULL);
    CHECK(strstr(s, "{\"name\":\"session_id\",\"physical\":\"BYTE_ARRAY\",\"logical\":\"String\",\"converted\":"
                    "\"UTF8\",\"max_def\":1}") != NULL);
    free(s);
}

/* A dictionary past its limit: the chunk continues in PLAIN, values intact. */
TEST(dictionary_fallback) {
    struct ss_out o;
    ss_out_init(&o);
    fill_events(&o, 5000, 4000);
    struct ss_pq_opts op;
    ss_pq_opts_default(&op);
    op.codec = SS_PQ_UNCOMPRESSED;
    op.dict_max_bytes = 256;
    op.row_group_rows = 2000;
    op.page_rows = 300;
    char path[512];
    path_of(path, sizeof path, "fallback.parquet");
    CHECK_EQ_INT(write_table(path, SS_T_EVENTS, &o, &op), SS_OK);
    check_rows(path, SS_T_EVENTS, &o, NULL, 5000);
    check_stats(path, SS_T_EVENTS, &o, 2000);
    int st;
    char *s = check_file("--stats", path, &st);
    /* event_id: the dictionary page holds at most 256 bytes of entries */
    char *ev = strstr(s, "\"col\":\"event_id\"");
    CHECK(ev != NULL);
    char *db = ev ? strstr(ev, "\"dict_page_bytes\":") : NULL;
    CHECK(db && atoi(db + 18) > 0 && atoi(db + 18) < 256 + 64);
    free(s);
    ss_out_free(&o);

    /* a first value bigger than the whole dictionary budget: no dictionary page */
    ss_out_init(&o);
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < 3; i++) {
        struct ss_val *v = ss_out_row(&o, SS_T_PROMO_MATCHES);
        put_str(&o, &v[SS_PM_EVENT_ID], i == 0 ? big : "e");
        put_str(&o, &v[SS_PM_PROMO_ID], "p");
        put_str(&o, &v[SS_PM_USER_ID], "u");
        put_str(&o, &v[SS_PM_PRODUCT_ID], "x");
        v[SS_PM_DISCOUNT_PCT].i = 125000 * i;
        v[SS_PM_CLICK_TS].i = 1764239400000LL;
    }
    path_of(path, sizeof path, "bigvalue.parquet");
    CHECK_EQ_INT(write_table(path, SS_T_PROMO_MATCHES, &o, &op), SS_OK);
    check_rows(path, SS_T_PROMO_MATCHES, &o, NULL, 3);
    check_stats(path, SS_T_PROMO_MATCHES, &o, 2000);
    s = check_file("--stats", path, &st);
    CHECK(strstr(s, "\"col\":\"event_id\",\"rows\":3,\"num_values\":3,\"compression\":\"UNCOMPRESSED\","
                    "\"encodings\":[\"PLAIN\",\"RLE\"],\"has_dictionary_page\":false") != NULL);
    free(s);
    ss_out_free(&o);
}

TEST(other_tables) {
    struct ss_out o;
    ss_out_init(&o);
    /* funnel: nullable ratios */
    for (int i = 0; i < 50; i++) {
        struct ss_val *v = ss_out_row(&o, SS_T_FUNNEL);
        v[SS_FN_WINDOW_START].i = 1764237600000LL + i * 3600000LL;
        v[SS_FN_WINDOW_END].i = v[SS_FN_WINDOW_START].i + 3600000LL;
        v[SS_FN_VIEWERS].i = i;
        v[SS_FN_CARTERS].i = i / 2;
        v[SS_FN_BUYERS].i = i / 4;
        if (i == 0) v[SS_FN_VIEW_TO_CART].null = 1;
        else v[SS_FN_VIEW_TO_CART].i = (i / 2) * 10000 / i;
        if (i < 2) v[SS_FN_CART_TO_PURCHASE].null = 1;
        else v[SS_FN_CART_TO_PURCHASE].i = i % 7 == 0 ? 10000 : (i / 4) * 10000 / (i / 2);
        v[SS_FN_FINAL].i = 1;
    }
    /* sessions: a boolean that changes */
    for (int i = 0; i < 40; i++) {
        struct ss_val *v = ss_out_row(&o, SS_T_SESSIONS);
        char b[32];
        snprintf(b, sizeof b, "user-%d", 40 - i);
        put_str(&o, &v[SS_SE_USER_ID], b);
        v[SS_SE_SESSION_START].i = -86400000LL + i * 60000LL; /* before 1970 too */
        v[SS_SE_SESSION_END].i = v[SS_SE_SESSION_START].i + i * 1000;
        v[SS_SE_DURATION_S].i = i;
        v[SS_SE_EVENTS].i = i + 1;
        v[SS_SE_PURCHASES].i = i % 3 == 0;
        v[SS_SE_REVENUE].i = (i % 3 == 0) ? 999999 * i : 0;
        v[SS_SE_CONVERTED].i = i % 3 == 0;
    }
    /* alerts: JSON text and a nullable order id */
    for (int i = 0; i < 30; i++) {
        struct ss_val *v = ss_out_row(&o, SS_T_ALERTS);
        char b[64];
        snprintf(b, sizeof b, "high_value_order:e%d", i);
        put_str(&o, &v[SS_AL_ALERT_ID], b);
        put_str(&o, &v[SS_AL_KIND], i % 2 ? "velocity" : "high_value_order");
        put_str(&o, &v[SS_AL_USER_ID], "ü");
        if (i % 4) v[SS_AL_ORDER_ID].null = 1;
        else put_str(&o, &v[SS_AL_ORDER_ID], "o\"1");
        v[SS_AL_AMOUNT].i = 10000000 + i * 55;
        v[SS_AL_TS].i = 1764239400000LL + i;
        put_str(&o, &v[SS_AL_DETAIL], "{\"threshold\":\"1000.00\"}");
    }
    /* category_revenue, all required */
    for (int i = 0; i < 20; i++) {
        struct ss_val *v = ss_out_row(&o, SS_T_CATEGORY_REVENUE);
        v[SS_CR_WINDOW_START].i = 1764239400000LL + i * 60000LL;
        put_str(&o, &v[SS_CR_CATEGORY], weird[i % NWEIRD]);
        v[SS_CR_WINDOW_END].i = v[SS_CR_WINDOW_START].i + 60000;
        v[SS_CR_REVENUE].i = 123456789 * (int64_t)i;
        v[SS_CR_ORDERS].i = i;
        v[SS_CR_FINAL].i = 1;
    }
    /* dlq: records around the 4096-byte limit of string statistics, the longest the
     * min in one row group and the max in another */
    static char rec[6000];
    for (int i = 0; i < 48; i++) {
        struct ss_val *v = ss_out_row(&o, SS_T_DLQ);
        size_t len = i == 3 ? 5000 : i == 20 ? 4097 : i == 21 ? 4096 : (size_t)(10 + i * 37);
        memset(rec, i == 3 ? ' ' : i == 20 ? '~' : 'a' + i % 26, len);
        rec[len] = '\0';
        put_str(&o, &v[SS_DL_REASON], "malformed");
        put_str(&o, &v[SS_DL_STREAM], "clicks");
        put_str(&o, &v[SS_DL_SOURCE], "in.jsonl");
        v[SS_DL_OFFSET].i = i + 1;
        put_str(&o, &v[SS_DL_RECORD], rec);
    }
    static const struct {
        enum ss_table_id t;
        enum ss_pq_codec codec;
    } cases[] = {{SS_T_FUNNEL, SS_PQ_UNCOMPRESSED}, {SS_T_SESSIONS, SS_PQ_ZSTD},
                 {SS_T_ALERTS, SS_PQ_SNAPPY}, {SS_T_CATEGORY_REVENUE, SS_PQ_ZSTD}, {SS_T_DLQ, SS_PQ_ZSTD}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct ss_pq_opts op;
        ss_pq_opts_default(&op);
        op.codec = cases[k].codec;
        op.row_group_rows = 16;
        op.page_rows = 5;
        char path[512];
        snprintf(path, sizeof path, "%s/%s.parquet", tmpdir, ss_tables[cases[k].t].name);
        CHECK_EQ_INT(write_table(path, cases[k].t, &o, &op), SS_OK);
        check_rows(path, cases[k].t, &o, NULL, o.t[cases[k].t].n);
        check_stats(path, cases[k].t, &o, 16);
    }
    int st;
    char path[512];
    path_of(path, sizeof path, "funnel.parquet");
    char *s = check_file("--schema", path, &st);
    CHECK(strstr(s, "{\"name\":\"view_to_cart\",\"physical\":\"INT64\",\"logical\":\"Decimal(precision=18, scale=4)\","
                    "\"converted\":\"DECIMAL\",\"max_def\":1}") != NULL);
    CHECK(strstr(s, "{\"name\":\"final\",\"physical\":\"BOOLEAN\"") != NULL);
    free(s);
    ss_out_free(&o);
}

/* ---- failures ------------------------------------------------------------------- */

TEST(write_failures) {
    struct ss_out o;
    ss_out_init(&o);
    fill_events(&o, 20000, 1000);
    struct ss_pq_opts op;
    ss_pq_opts_default(&op);
    op.row_group_rows = 5000;
    op.fail_after_bytes = 100000; /* the disk fills up after the first row group or so */
    char path[512], tmp[520];
    path_of(path, sizeof path, "full.parquet");
    { char *t_ = ss_pq_temp_path(path); snprintf(tmp, sizeof tmp, "%s", t_); ss_free(t_); }
    struct ss_err err = {0};
    struct ss_pq_writer *w;
    CHECK_EQ_INT(ss_pq_open(&w, path, &ss_tables[SS_T_EVENTS], &op, &err), SS_OK);
    int rc = ss_pq_write(w, o.t[SS_T_EVENTS].v, NULL, o.t[SS_T_EVENTS].n, &err);
    if (rc == SS_OK) rc = ss_pq_close(w, &err);
    else ss_pq_abort(w);
    CHECK_EQ_INT(rc, SS_EIO);
    CHECK(err.retriable);
    CHECK(strstr(err.msg, tmp) != NULL);
    CHECK(strstr(err.msg, strerror(ENOSPC)) != NULL);
    CHECK(!file_exists(path));
    CHECK(!file_exists(tmp));

    /* a real full device: the temp name is a symlink to /dev/full */
    op.fail_after_bytes = 0;
    path_of(path, sizeof path, "devfull.parquet");
    { char *t_ = ss_pq_temp_path(path); snprintf(tmp, sizeof tmp, "%s", t_); ss_free(t_); }
    CHECK_EQ_INT(symlink("/dev/full", tmp), 0);
    memset(&err, 0, sizeof err);
    rc = ss_pq_open(&w, path, &ss_tables[SS_T_EVENTS], &op, &err);
    if (rc == SS_OK) {
        rc = ss_pq_write(w, o.t[SS_T_EVENTS].v, NULL, 100, &err);
        if (rc == SS_OK) rc = ss_pq_close(w, &err);
        else ss_pq_abort(w);
    }
    CHECK_EQ_INT(rc, SS_EIO);
    CHECK(err.retriable);
    CHECK(strstr(err.msg, strerror(ENOSPC)) != NULL);
    CHECK(!file_exists(path));
    CHECK(!file_exists(tmp));

    /* a null in a non-nullable column is refused, and leaves nothing behind */
    path_of(path, sizeof path, "badnull.parquet");
    { char *t_ = ss_pq_temp_path(path); snprintf(tmp, sizeof tmp, "%s", t_); ss_free(t_); }
    struct ss_val *v = ss_out_get(&o, SS_T_EVENTS, 5);
    v[SS_EV_USER_ID].null = 1;
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(ss_pq_open(&w, path, &ss_tables[SS_T_EVENTS], &op, &err), SS_OK);
    rc = ss_pq_write(w, o.t[SS_T_EVENTS].v, NULL, 10, &err);
    ss_pq_abort(w);
    CHECK_EQ_INT(rc, SS_ERROR);
    CHECK(strstr(err.msg, "events.user_id") != NULL);
    CHECK(!file_exists(path));
    CHECK(!file_exists(tmp));

    /* a directory that does not exist: the error names the path */
    snprintf(path, sizeof path, "%s/no/such/dir/x.parquet", tmpdir);
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(ss_pq_open(&w, path, &ss_tables[SS_T_EVENTS], &op, &err), SS_EIO);
    CHECK(!err.retriable);
    CHECK(strstr(err.msg, "no/such/dir/.x.parquet.tmp") != NULL);
    ss_out_free(&o);
}

/* ---- the sink ------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)len + 1);
    *n = fread(p, 1, (size_t)len, f);
    fclose(f);
    return p;
}

/* Opens parquet:<tmpdir>/<name>?<query>; dir receives the lake's path. */
static struct ss_sink *open_lake(char *dir, size_t cap, const char *name, const char *query) {
    char url[700];
    snprintf(dir, cap, "%s/%s", tmpdir, name);
    snprintf(url, sizeof url, "parquet:%s%s%s", dir, *query ? "?" : "", query);
    struct ss_err err = {0};
    struct ss_sink *sk = NULL;
    CHECK_EQ_INT(ss_sink_parquet.open(&sk, url, NULL, &err), SS_OK);
    return sk;
}

/* sink_partitions: an epoch's hour-10 events, rolled every 3 rows into exactly two files. */
static void check_hour10(const char *dir, unsigned epoch, const char *run_token, const struct ss_out *o,
                         const uint32_t *first, const uint32_t *second) {
    char p[1024];
    const char *fmt = "%s/events/dt=2026-11-27/hour=10/part-%08u-%04u-%s.parquet";
    snprintf(p, sizeof p, fmt, dir, epoch, 0u, run_token);
    check_rows(p, SS_T_EVENTS, o, first, 3);
    snprintf(p, sizeof p, fmt, dir, epoch, 1u, run_token);
    check_rows(p, SS_T_EVENTS, o, second, 2);
    snprintf(p, sizeof p, fmt, dir, epoch, 2u, run_token);
    CHECK(!file_exists(p));
}

TEST(sink_partitions) {
    char dir[512], url[600];
    struct ss_err err = {0};
    struct ss_sink *sk = open_lake(dir, sizeof dir, "lake", "compression=snappy&file_rows=3");
    CHECK(ss_sink_parquet.flags & SS_SINK_EVENTS);

    struct ss_out o;
    ss_out_init(&o);
    /* 2026-11-27T10:xx and 11:xx UTC (1795773600000 is 10:00:00) */
    const int64_t h10 = 1795773600000LL, h11 = h10 + 3600000LL;
    static const int64_t ev_ts[] = {h11 + 5, h10 + 1, h10 + 2, h11 + 1, h10 + 3, h10 + 4, h10 + 5};
    for (size_t i = 0; i < sizeof ev_ts / sizeof ev_ts[0]; i++) {
        struct ss_val *v = ss_out_row(&o, SS_T_EVENTS);
        char b[16];
        snprintf(b, sizeof b, "e%zu", i);
        put_str(&o, &v[SS_EV_EVENT_ID], b);
        v[SS_EV_TS].i = ev_ts[i];
        put_str(&o, &v[SS_EV_EVENT_TYPE], "view");
        put_str(&o, &v[SS_EV_USER_ID], "u");
        v[SS_EV_SESSION_ID].null = 1;
        put_str(&o, &v[SS_EV_PRODUCT_ID], "p");
        put_str(&o, &v[SS_EV_CATEGORY], "c");
        v[SS_EV_PRICE].null = 1;
        v[SS_EV_QUANTITY].i = 1;
        v[SS_EV_ORDER_ID].null = 1;
    }
    for (int i = 0; i < 4; i++) { /* rows 1 and 3 are provisional: skipped */
        struct ss_val *v = ss_out_row(&o, SS_T_CATEGORY_REVENUE);
        v[SS_CR_WINDOW_START].i = h10 - 60000 + i * 60000LL; /* 09:59 for row 0 */
        put_str(&o, &v[SS_CR_CATEGORY], "books");
        v[SS_CR_WINDOW_END].i = v[SS_CR_WINDOW_START].i + 60000;
        v[SS_CR_REVENUE].i = 1000 * i;
        v[SS_CR_FINAL].i = i % 2 == 0;
    }
    struct ss_val *v = ss_out_row(&o, SS_T_RECENTLY_VIEWED);
    put_str(&o, &v[SS_RV_USER_ID], "u");
    put_str(&o, &v[SS_RV_PRODUCTS], "[\"p\"]");
    v[SS_RV_LAST_VIEW_TS].i = h10;
    v = ss_out_row(&o, SS_T_DLQ);
    put_str(&o, &v[SS_DL_REASON], "malformed");
    put_str(&o, &v[SS_DL_STREAM], "clicks");
    put_str(&o, &v[SS_DL_SOURCE], "c.jsonl");
    v[SS_DL_PARTITION].i = 0;
    v[SS_DL_OFFSET].i = 3;
    put_str(&o, &v[SS_DL_RECORD], "{nope");
    v = ss_out_row(&o, SS_T_LATE);
    put_str(&o, &v[SS_LT_STREAM], "clicks");
    put_str(&o, &v[SS_LT_SOURCE], "c.jsonl");
    v[SS_LT_OFFSET].i = 9;
    v[SS_LT_TS].i = h10 - 7200000LL; /* 08:00 */
    v[SS_LT_WATERMARK].i = h11;
    put_str(&o, &v[SS_LT_RECORD], "{}");

    struct ss_epoch ep = {.epoch = 42, .rows = &o, .watermark = h11 + 1};
    CHECK_EQ_INT(ss_sink_parquet.commit(sk, &ep, &err), SS_OK);

    char p[1024];
    /* events, hour 10: rows 1,2,4,5,6 in input order, rolled every 3 rows */
    static const uint32_t e10a[] = {1, 2, 4}, e10b[] = {5, 6}, e11[] = {0, 3};
    check_hour10(dir, 42, ss_pq_sink_run(sk), &o, e10a, e10b);
    snprintf(p, sizeof p, "%s/events/dt=2026-11-27/hour=11/part-00000042-0000-%s.parquet", dir, ss_pq_sink_run(sk));
    check_rows(p, SS_T_EVENTS, &o, e11, 2);
    static const uint32_t c09[] = {0}, c10[] = {2};
    snprintf(p, sizeof p, "%s/category_revenue/dt=2026-11-27/hour=09/part-00000042-0000-%s.parquet", dir, ss_pq_sink_run(sk));
    check_rows(p, SS_T_CATEGORY_REVENUE, &o, c09, 1);
    snprintf(p, sizeof p, "%s/category_revenue/dt=2026-11-27/hour=10/part-00000042-0000-%s.parquet", dir, ss_pq_sink_run(sk));
    check_rows(p, SS_T_CATEGORY_REVENUE, &o, c10, 1);
    snprintf(p, sizeof p, "%s/dlq/dt=2026-11-27/hour=11/part-00000042-0000-%s.parquet", dir, ss_pq_sink_run(sk));
    check_rows(p, SS_T_DLQ, &o, NULL, 1);
    snprintf(p, sizeof p, "%s/late/dt=2026-11-27/hour=08/part-00000042-0000-%s.parquet", dir, ss_pq_sink_run(sk));
    check_rows(p, SS_T_LATE, &o, NULL, 1);
    snprintf(p, sizeof p, "%s/recently_viewed", dir);
    CHECK(!file_exists(p));

    /* a replay of the epoch rewrites identical files */
    snprintf(p, sizeof p, "%s/events/dt=2026-11-27/hour=10/part-00000042-0000-%s.parquet", dir, ss_pq_sink_run(sk));
    size_t n1, n2;
    char *before = slurp(p, &n1);
    CHECK_EQ_INT(ss_sink_parquet.commit(sk, &ep, &err), SS_OK);
    char *after = slurp(p, &n2);
    CHECK(before && after && n1 == n2 && memcmp(before, after, n1) == 0);
    free(before);
    free(after);

    /* a full disk: SS_RETRY, nothing under the final name; the retry succeeds */
    ep.epoch = 43;
    ep.watermark = SS_TS_MIN; /* dlq goes to the null partition */
    char tmpf[1100];
    snprintf(p, sizeof p, "%s/events/dt=2026-11-27/hour=11/part-00000043-0000-%s.parquet", dir, ss_pq_sink_run(sk));
    { char *t_ = ss_pq_sink_temp_path(sk, p); snprintf(tmpf, sizeof tmpf, "%s", t_ ? t_ : "?"); ss_free(t_); }
    CHECK_EQ_INT(symlink("/dev/full", tmpf), 0);
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(ss_sink_parquet.commit(sk, &ep, &err), SS_RETRY);
    CHECK(strstr(err.msg, tmpf) != NULL);
    CHECK(!file_exists(p));
    CHECK(!file_exists(tmpf));
    CHECK_EQ_INT(ss_sink_parquet.commit(sk, &ep, &err), SS_OK);
    check_rows(p, SS_T_EVENTS, &o, e11, 2);
    snprintf(p, sizeof p, "%s/dlq/dt=__HIVE_DEFAULT_PARTITION__/hour=__HIVE_DEFAULT_PARTITION__/part-00000043-0000-%s.parquet", dir, ss_pq_sink_run(sk));
    check_rows(p, SS_T_DLQ, &o, NULL, 1);
    /* hour 10 was written before hour 11 failed: the retry did not write it again */
    check_hour10(dir, 43, ss_pq_sink_run(sk), &o, e10a, e10b);

    /* the final epoch of a bounded run (W = +inf): dead letters go under the hour of the
     * newest valid event time of the epoch's positions, not the null partition, where a
     * small run's dlq would lie whole and no reader could type dt and hour */
    struct ss_position pos[2] = {{.source = "p.jsonl", .max_ts = INT64_MIN},
                                 {.source = "c.jsonl", .partition = 1, .max_ts = h11 + 5}};
    ep = (struct ss_epoch){.epoch = 44, .rows = &o, .watermark = SS_TS_MAX, .positions = pos, .npositions = 2};
    CHECK_EQ_INT(ss_sink_parquet.commit(sk, &ep, &err), SS_OK);
    snprintf(p, sizeof p, "%s/dlq/dt=2026-11-27/hour=11/part-00000044-0000-%s.parquet", dir, ss_pq_sink_run(sk));
    check_rows(p, SS_T_DLQ, &o, NULL, 1);

    ss_sink_parquet.close(sk);
    ss_out_free(&o);

    /* bad URLs are usage errors */
    CHECK_EQ_INT(ss_sink_parquet.open(&sk, "parquet:", NULL, &err), SS_EUSAGE);
    snprintf(url, sizeof url, "parquet:%s?compression=lz4", dir);
    CHECK_EQ_INT(ss_sink_parquet.open(&sk, url, NULL, &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "lz4") != NULL);
}

/* Appends n view events, one per ms from t0, numbered from id0 (ids, users and
 * products follow from the number); idx (if given) gets 0..n-1. */
static void add_events_from(struct ss_out *o, size_t n, int64_t t0, size_t id0, uint32_t *idx) {
    size_t base = id0;
    for (size_t i = 0; i < n; i++) {
        if (idx) idx[i] = (uint32_t)i;
        struct ss_val *v = ss_out_row(o, SS_T_EVENTS);
        char b[48];
        size_t k = base + i;
        snprintf(b, sizeof b, "event-%06zu-%08zx", k, k * 2654435761u);
        put_str(o, &v[SS_EV_EVENT_ID], b);
        v[SS_EV_TS].i = t0 + (int64_t)i;
        put_str(o, &v[SS_EV_EVENT_TYPE], "view");
        snprintf(b, sizeof b, "u%zu", k * 7919 % 100003);
        put_str(o, &v[SS_EV_USER_ID], b);
        v[SS_EV_SESSION_ID].null = 1;
        snprintf(b, sizeof b, "p%zu", k % 997);
        put_str(o, &v[SS_EV_PRODUCT_ID], b);
        put_str(o, &v[SS_EV_CATEGORY], "books");
        v[SS_EV_PRICE].i = (int64_t)k * 100;
        v[SS_EV_QUANTITY].i = 1;
        v[SS_EV_ORDER_ID].null = 1;
    }
}

/* The same, numbered on from the rows o already holds. */
static void add_events(struct ss_out *o, size_t n, int64_t t0, uint32_t *idx) {
    add_events_from(o, n, t0, o->t[SS_T_EVENTS].n, idx);
}

/* Files roll past file_bytes: the size is looked at every 4096 rows (ROLL_CHECK), so
 * with a limit below 4096 rows' worth every file but the last holds exactly 4096 rows,
 * and the rows keep their order across the files. */
TEST(sink_rolls_by_bytes) {
    char dir[512], url[600];
    struct ss_err err = {0};
    struct ss_sink *sk = open_lake(dir, sizeof dir, "lake-bytes", "compression=none&file_bytes=65536");
    struct ss_out o;
    ss_out_init(&o);
    const int64_t h10 = 1795773600000LL;
    enum { N = 10000 };
    static uint32_t idx[N];
    add_events(&o, N, h10, idx);
    struct ss_epoch ep = {.epoch = 7, .rows = &o, .watermark = h10 + N};
    CHECK_EQ_INT(ss_sink_parquet.commit(sk, &ep, &err), SS_OK);
    static const size_t want[] = {4096, 4096, N - 8192};
    char p[1024];
    size_t from = 0;
    for (unsigned seq = 0; seq < 3; seq++) {
        snprintf(p, sizeof p, "%s/events/dt=2026-11-27/hour=10/part-00000007-%04u-%s.parquet", dir, seq, ss_pq_sink_run(sk));
        check_rows(p, SS_T_EVENTS, &o, idx + from, want[seq]);
        struct stat st;
        CHECK(stat(p, &st) == 0 && (seq == 2 || st.st_size >= 65536));
        from += want[seq];
    }
    snprintf(p, sizeof p, "%s/events/dt=2026-11-27/hour=10/part-00000007-0003-%s.parquet", dir, ss_pq_sink_run(sk));
    CHECK(!file_exists(p));
    ss_sink_parquet.close(sk);

    /* the default (128 MiB): one file */
    sk = open_lake(dir, sizeof dir, "lake-bytes-default", "");
    CHECK_EQ_INT(ss_sink_parquet.commit(sk, &ep, &err), SS_OK);
    snprintf(p, sizeof p, "%s/events/dt=2026-11-27/hour=10/part-00000007-0000-%s.parquet", dir, ss_pq_sink_run(sk));
    check_rows(p, SS_T_EVENTS, &o, NULL, N);
    snprintf(p, sizeof p, "%s/events/dt=2026-11-27/hour=10/part-00000007-0001-%s.parquet", dir, ss_pq_sink_run(sk));
    CHECK(!file_exists(p));
    ss_sink_parquet.close(sk);
    ss_out_free(&o);

    snprintf(url, sizeof url, "parquet:%s?file_bytes=0", dir);
    CHECK_EQ_INT(ss_sink_parquet.open(&sk, url, NULL, &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "file_bytes") != NULL);
}

/* Every process draws its own file name token: a second run into the same lake, or a
 * second process writing it, numbers its epochs from 1 again and must not overwrite
 * the first one's files (that lost the first run's rows). */
TEST(sink_runs_never_overwrite) {
    char dir[512];
    struct ss_err err = {0};
    const int64_t h10 = 1795773600000LL;
    struct ss_sink *a = open_lake(dir, sizeof dir, "lake-runs", "");
    struct ss_sink *b = open_lake(dir, sizeof dir, "lake-runs", "");
    const char *ra = ss_pq_sink_run(a), *rb = ss_pq_sink_run(b);
    CHECK(strlen(ra) == 8 && strspn(ra, "0123456789abcdef") == 8);
    CHECK(strcmp(ra, rb) != 0);
    struct ss_out oa, ob;
    ss_out_init(&oa);
    ss_out_init(&ob);
    add_events(&oa, 5, h10, NULL);
    add_events(&ob, 3, h10 + 1000, NULL);
    struct ss_epoch ea = {.epoch = 1, .rows = &oa, .watermark = h10 + 5};
    struct ss_epoch eb = {.epoch = 1, .rows = &ob, .watermark = h10 + 2000};
    CHECK_EQ_INT(ss_sink_parquet.commit(a, &ea, &err), SS_OK);
    CHECK_EQ_INT(ss_sink_parquet.commit(b, &eb, &err), SS_OK);
    char p[1024];
    snprintf(p, sizeof p, "%s/events/dt=2026-11-27/hour=10/part-00000001-0000-%s.parquet", dir, ra);
    check_rows(p, SS_T_EVENTS, &oa, NULL, 5);
    snprintf(p, sizeof p, "%s/events/dt=2026-11-27/hour=10/part-00000001-0000-%s.parquet", dir, rb);
    check_rows(p, SS_T_EVENTS, &ob, NULL, 3);
    ss_sink_parquet.close(a);
    ss_sink_parquet.close(b);
    ss_out_free(&oa);
    ss_out_free(&ob);
}

/* Files of the lake's hour directory dir/events/dt=2026-11-27/hour=HH ending in suffix. */
static int count_files(const char *dir, int hour, const char *suffix) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls -A %s/events/dt=2026-11-27/hour=%02d 2>/dev/null | grep -c '%s$'", dir, hour, suffix);
    int st;
    char *out = run(cmd, &st);
    int n = out ? atoi(out) : -1;
    free(out);
    return n;
}

/* Temp files of the lake's open files (DIR/.tmp/<run>/). */
static int count_temp(const char *dir, const char *run_token) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls -A %s/.tmp/%s 2>/dev/null | grep -c '[.]tmp$'", dir, run_token);
    int st;
    char *out = run(cmd, &st);
    int n = out ? atoi(out) : -1;
    free(out);
    return n;
}

/* A lake opened with query that committed rows o as epoch 1. */
static struct ss_sink *lake_after_epoch1(char *dir, size_t cap, const char *name, const char *query, struct ss_out *o,
                                         int64_t watermark) {
    struct ss_sink *sk = open_lake(dir, cap, name, query);
    struct ss_epoch ep = {.epoch = 1, .rows = o, .watermark = watermark};
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_sink_parquet.commit(sk, &ep, &err), SS_OK);
    return sk;
}

/* roll_interval: a file stays open across epochs (only its temp file exists), the
 * sink reports the epochs before its first rows as durable, and a sealed epoch closes
 * it with every epoch's rows in order. */
TEST(sink_holds_files_across_epochs) {
    char dir[512];
    struct ss_err err = {0};
    const int64_t h10 = 1795773600000LL, h11 = h10 + 3600000LL;
    CHECK(ss_sink_parquet.flags & SS_SINK_HOLDS);
    struct ss_out o1, o2, o3, all10;
    ss_out_init(&o1);
    ss_out_init(&o2);
    ss_out_init(&o3);
    ss_out_init(&all10);
    struct ss_out all11;
    ss_out_init(&all11);
    add_events_from(&o1, 3, h10, 0, NULL);
    add_events_from(&o2, 2, h10 + 100, 100, NULL);
    add_events_from(&o2, 1, h11, 200, NULL);
    add_events_from(&o3, 1, h10 + 200, 300, NULL);
    /* what hour 10's file must hold, in order: o1's rows, o2's first two, o3's */
    add_events_from(&all10, 3, h10, 0, NULL);
    add_events_from(&all10, 2, h10 + 100, 100, NULL);
    add_events_from(&all10, 1, h10 + 200, 300, NULL);
    add_events_from(&all11, 1, h11, 200, NULL);

    struct ss_sink *sk = lake_after_epoch1(dir, sizeof dir, "lake-hold", "roll_interval=1h", &o1, h10);
    struct ss_epoch ep;
    CHECK_EQ_INT((int)sk->durable_epoch, 0);
    CHECK_EQ_INT(count_files(dir, 10, ".parquet"), 0);
    CHECK_EQ_INT(count_temp(dir, ss_pq_sink_run(sk)), 1);
    ep = (struct ss_epoch){.epoch = 2, .rows = &o2, .watermark = h11};
    CHECK_EQ_INT(ss_sink_parquet.commit(sk, &ep, &err), SS_OK);
    CHECK_EQ_INT((int)sk->durable_epoch, 0);
    CHECK_EQ_INT(count_temp(dir, ss_pq_sink_run(sk)), 2);
    ep = (struct ss_epoch){.epoch = 3, .rows = &o3, .watermark = h11, .seal = 1};
    CHECK_EQ_INT(ss_sink_parquet.commit(sk, &ep, &err), SS_OK);
    CHECK_EQ_INT((int)sk->durable_epoch, 3);
    CHECK_EQ_INT(count_temp(dir, ss_pq_sink_run(sk)), 0);
    CHECK_EQ_INT(count_files(dir, 10, ".parquet"), 1);
    char p[1024];
    snprintf(p, sizeof p, "%s/events/dt=2026-11-27/hour=10/part-00000001-0000-%s.parquet", dir, ss_pq_sink_run(sk));
    check_rows(p, SS_T_EVENTS, &all10, NULL, 6);
    snprintf(p, sizeof p, "%s/events/dt=2026-11-27/hour=11/part-00000002-0000-%s.parquet", dir, ss_pq_sink_run(sk));
    check_rows(p, SS_T_EVENTS, &all11, NULL, 1);
    ss_sink_parquet.close(sk);

    /* by age: a file older than roll_interval closes at the next commit, rows or not */
    sk = lake_after_epoch1(dir, sizeof dir, "lake-hold-age", "roll_interval=20ms", &o1, h10);
    usleep(40000);
    struct ss_out none;
    ss_out_init(&none);
    ep = (struct ss_epoch){.epoch = 2, .rows = &none, .watermark = h10};
    CHECK_EQ_INT(ss_sink_parquet.commit(sk, &ep, &err), SS_OK);
    CHECK_EQ_INT((int)sk->durable_epoch, 2);
    snprintf(p, sizeof p, "%s/events/dt=2026-11-27/hour=10/part-00000001-0000-%s.parquet", dir, ss_pq_sink_run(sk));
    check_rows(p, SS_T_EVENTS, &o1, NULL, 3);
    ss_sink_parquet.close(sk);

    /* closing the sink with a file open (the run failed): its temp file goes, nothing
     * is renamed (its rows' input positions were not committed) */
    sk = lake_after_epoch1(dir, sizeof dir, "lake-hold-abort", "roll_interval=1h", &o1, h10);
    CHECK_EQ_INT(count_temp(dir, ss_pq_sink_run(sk)), 1);
    ss_sink_parquet.close(sk);
    CHECK_EQ_INT(count_files(dir, 10, ".parquet"), 0);
    snprintf(p, sizeof p, "%s/.tmp", dir);
    CHECK(!file_exists(p)); /* the temp directory goes with a clean close */

    /* a held file that fails held rows of an earlier epoch: fatal, naming them */
    sk = lake_after_epoch1(dir, sizeof dir, "lake-hold-fail", "roll_interval=1h", &o1, h10);
    snprintf(p, sizeof p, "%s/events/dt=2026-11-27/hour=10/part-00000001-0000-%s.parquet", dir, ss_pq_sink_run(sk));
    CHECK_EQ_INT(mkdir(p, 0755), 0); /* the rename onto it fails */
    ep = (struct ss_epoch){.epoch = 2, .rows = &none, .watermark = h10, .seal = 1};
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(ss_sink_parquet.commit(sk, &ep, &err), SS_ERROR);
    CHECK(strstr(err.msg, "epochs 1 to 1") != NULL);
    CHECK_EQ_INT(count_temp(dir, ss_pq_sink_run(sk)), 0);
    rmdir(p);
    ss_sink_parquet.close(sk);

    ss_out_free(&o1);
    ss_out_free(&o2);
    ss_out_free(&o3);
    ss_out_free(&all10);
    ss_out_free(&all11);
    ss_out_free(&none);
}

/* Temp directories of processes that died are removed by the next sink that opens the
 * lake: at once when the owner ran on this host and its pid is gone, else when the
 * directory was not refreshed for a day; a live one stays. */
TEST(sink_sweeps_dead_runs) {
    char dir[512], p[2048];
    snprintf(dir, sizeof dir, "%s/lake-sweep", tmpdir);
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, NULL, 0); /* a pid that is gone */
    static const struct {
        const char *run, *owner_fmt;
        int days_old, removed;
    } runs[] = {
        {"0000dead", "%s %ld", 0, 1},             /* this host, pid gone */
        {"0000live", "%s %ld", 0, 0},             /* this host, pid alive (ours) */
        {"00000far", "elsewhere %ld", 0, 0},     /* another host, refreshed just now */
        {"000000old", "elsewhere %ld", 2, 1},    /* another host, silent for two days */
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        snprintf(p, sizeof p, "mkdir -p %s/.tmp/%s && touch %s/.tmp/%s/events+x.parquet.tmp", dir, runs[i].run, dir,
                 runs[i].run);
        int st;
        free(run(p, &st));
        char owner[300];
        long pid = i == 1 ? (long)getpid() : (long)child;
        if (strncmp(runs[i].owner_fmt, "%s", 2) == 0) snprintf(owner, sizeof owner, runs[i].owner_fmt, host, pid);
        else snprintf(owner, sizeof owner, runs[i].owner_fmt, pid);
        snprintf(p, sizeof p, "%s/.tmp/%s/owner", dir, runs[i].run);
        FILE *f = fopen(p, "w");
        CHECK(f != NULL);
        if (f) {
            fprintf(f, "%s\n", owner);
            fclose(f);
        }
        if (runs[i].days_old) {
            snprintf(p, sizeof p, "%s/.tmp/%s", dir, runs[i].run);
            struct timespec old[2] = {{time(NULL) - runs[i].days_old * 86400L, 0}, {time(NULL) - runs[i].days_old * 86400L, 0}};
            CHECK_EQ_INT(utimensat(AT_FDCWD, p, old, 0), 0);
        }
    }
    struct ss_sink *sk = open_lake(dir, sizeof dir, "lake-sweep", "");
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        snprintf(p, sizeof p, "%s/.tmp/%s", dir, runs[i].run);
        CHECK_EQ_INT(file_exists(p), !runs[i].removed);
    }
    snprintf(p, sizeof p, "%s/.tmp/%s/owner", dir, ss_pq_sink_run(sk));
    CHECK(file_exists(p));
    ss_sink_parquet.close(sk);
    CHECK(!file_exists(p));
    snprintf(p, sizeof p, "%s/.tmp", dir);
    CHECK(file_exists(p)); /* the live runs' directories are still there */
}

/* --print-config's check: open's verdict on the URL and its options, and no lake
 * directory (nor its .tmp) made. */
TEST(sink_check) {
    char dir[300], url[400];
    snprintf(dir, sizeof dir, "%s/checked-lake", tmpdir);
    expect_refused_alike(&ss_sink_parquet, "parquet:", NULL, "needs a directory");
    expect_refused_alike(&ss_sink_parquet, "parquet:?compression=zstd", NULL, "needs a directory");
    static const char *const bad[][2] = {
        {"compression=lz4", "compression must be zstd, snappy or none, got \"lz4\""},
        {"bogus=1", "unknown option \"bogus\""},
        {"file_rows=many", "file_rows must be a positive integer"},
        {"file_bytes=0", "file_bytes must be a positive integer"},
        {"roll_interval=soon", "roll_interval must be a duration"},
        {"compression", "expected key=value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(url, sizeof url, "parquet:%s?%s", dir, bad[i][0]);
        expect_refused_alike(&ss_sink_parquet, url, NULL, bad[i][1]);
    }
    snprintf(url, sizeof url, "parquet:%s?compression=snappy&row_group_rows=1000&roll_interval=5m", dir);
    expect_checked_ok(&ss_sink_parquet, url, NULL, dir);
}

int main(void) {
    if (access(checker, R_OK) != 0) {
        const char *env = getenv("SS_PARQUET_CHECK");
        if (env) checker = env;
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ss_test_parquet.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    int st;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "python3 %s 2>/dev/null; test -r %s", checker, checker);
    free(run(cmd, &st));
    if (st != 0) {
        fprintf(stderr, "FAIL: %s not found (run from the repository root or set SS_PARQUET_CHECK)\n", checker);
        return 1;
    }
    RUN(thrift_bytes);
    RUN(rle_hybrid);
    RUN(money_cents);
    RUN(events_codecs);
    RUN(schema_annotations);
    RUN(dictionary_fallback);
    RUN(other_tables);
    RUN(write_failures);
    RUN(sink_partitions);
    RUN(sink_rolls_by_bytes);
    RUN(sink_runs_never_overwrite);
    RUN(sink_holds_files_across_epochs);
    RUN(sink_sweeps_dead_runs);
    RUN(sink_check);
    if (ss_t_failed == 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        free(run(cmd, &st));
    }
    return ss_t_report("parquet");
}
