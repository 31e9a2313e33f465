/* test_pqread.c — the lake reader (src/report/pqread.c) against the lake writer
 * (src/sink/parquet/writer.c): files written through ss_pq_open / ss_pq_write /
 * ss_pq_close with every codec, nulls in runs and alone, dictionary pages that fall
 * back to PLAIN mid-chunk, many pages and row groups, are read back and every value
 * is compared with what was written; then files the reader must refuse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "report/pqread.h"
#include "sink/parquet/thrift.h"
#include "sink/parquet/writer.h"
#include "harness.h"

static char dir[64];

static uint64_t rng_state;
static uint64_t rnd(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* Fills n rows of table t with deterministic values exercising nulls, repeats,
 * distinct strings (for the dictionary limit), empty and long strings. */
static struct ss_val *make_rows(enum ss_table_id t, size_t n, struct ss_arena *a) {
    const struct ss_table *tb = &ss_tables[t];
    size_t nc = (size_t)tb->ncols;
    struct ss_val *rows = ss_calloc(n * nc, sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < nc; j++) {
            const struct ss_column *cd = &tb->cols[j];
            struct ss_val *v = &rows[i * nc + j];
            /* nulls: a run of 20 every 500 rows (RLE levels), and every 7th row (bit-packed) */
            if (cd->nullable && ((i % 500) < 20 || (i + j) % 7 == 0)) {
                v->null = 1;
                continue;
            }
            switch (cd->type) {
            case SS_COL_STR:
            case SS_COL_JSON: {
                char buf[400];
                int len;
                uint64_t r = rnd();
                if (j % 3 == 0) len = snprintf(buf, sizeof buf, "id-%zu-%zu", j, i);  /* all distinct */
                else if (r % 50 == 0) len = 0;                                          /* empty */
                else if (r % 97 == 0) {                                                 /* long */
                    len = 300;
                    for (int k = 0; k < len; k++) buf[k] = (char)('a' + (k + (int)i) % 26);
                } else len = snprintf(buf, sizeof buf, "cat-%u", (unsigned)(r % 40));   /* repeats */
                v->s = ss_arena_strndup(a, buf, (size_t)len);
                v->len = (uint32_t)len;
                break;
            }
            case SS_COL_BOOL: v->i = (int64_t)(rnd() & 1); break;
            case SS_COL_MONEY:
                /* mostly whole cents; some with sub-cent digits to check the rounding
                 * (half away from zero), some negative */
                v->i = (int64_t)(rnd() % 100000000) * ((i % 11) ? 100 : 1) * ((i % 13) ? 1 : -1);
                if (i % 17 == 0) v->i = 50 + 100 * (int64_t)i;
                if (i % 19 == 0) v->i = -50 - 100 * (int64_t)i;
                break;
            case SS_COL_RATIO: v->i = (int64_t)(rnd() % 10001); break;
            case SS_COL_TS: v->i = 1790000000000LL + (int64_t)(rnd() % 86400000) - (i % 5 == 0 ? 2000000000000LL : 0); break;
            default: v->i = (int64_t)(rnd() % 1000) - 500 + (i % 23 == 0 ? INT64_MAX / 2 : 0); break;
            }
        }
    }
    return rows;
}

static int64_t expected_int(const struct ss_column *cd, int64_t v) {
    if (cd->type == SS_COL_MONEY) return ss_pq_money_cents(v) * 100;
    if (cd->type == SS_COL_BOOL) return v != 0;
    return v;
}

static int write_file(const char *path, enum ss_table_id t, const struct ss_val *rows, size_t n,
                      const struct ss_pq_opts *o) {
    struct ss_pq_writer *w;
    struct ss_err err = {0};
    int rc = ss_pq_open(&w, path, &ss_tables[t], o, &err);
    if (!rc) {
        /* in uneven slices, as the sink does per epoch */
        size_t done = 0, step = 1;
        while (!rc && done < n) {
            size_t k = n - done < step ? n - done : step;
            rc = ss_pq_write(w, rows + done * (size_t)ss_tables[t].ncols, NULL, k, &err);
            done += k;
            step = step * 3 + 1;
        }
        if (!rc) rc = ss_pq_close(w, &err);
        else ss_pq_abort(w);
    }
    if (rc) fprintf(stderr, "write %s: %s\n", path, err.msg);
    return rc;
}

/* Reads path back in batches of at most `max` rows; counts mismatches. */
static size_t read_compare(const char *path, enum ss_table_id t, const struct ss_val *rows, size_t n, size_t max) {
    const struct ss_table *tb = &ss_tables[t];
    size_t nc = (size_t)tb->ncols, bad = 0, got = 0;
    struct ss_pqr *r;
    struct ss_err err = {0};
    if (ss_pqr_open(&r, path, tb, &err)) {
        fprintf(stderr, "open %s: %s\n", path, err.msg);
        return n + 1;
    }
    CHECK_EQ_INT(ss_pqr_num_rows(r), n);
    for (;;) {
        const struct ss_val *v;
        size_t k;
        int rc = ss_pqr_next(r, &v, &k, max, &err);
        if (rc == SS_EOF) break;
        if (rc) {
            fprintf(stderr, "read %s: %s\n", path, err.msg);
            bad++;
            break;
        }
        if (k == 0 || k > (max ? max : 4096)) bad++;
        for (size_t i = 0; i < k && got + i < n; i++) {
            for (size_t j = 0; j < nc; j++) {
                const struct ss_column *cd = &tb->cols[j];
                const struct ss_val *a = &rows[(got + i) * nc + j], *b = &v[i * nc + j];
                int ok;
                if (a->null || b->null) ok = a->null == b->null;
                else if (cd->type == SS_COL_STR || cd->type == SS_COL_JSON)
                    ok = a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
                else ok = expected_int(cd, a->i) == b->i;
                if (!ok && bad++ < 5)
                    fprintf(stderr, "%s row %zu column %s: wrote %lld/%.*s, read %lld/%.*s (null %d/%d)\n", path,
                            got + i, cd->name, (long long)a->i, (int)a->len, a->s ? a->s : "", (long long)b->i,
                            (int)b->len, b->s ? b->s : "", a->null, b->null);
            }
        }
        got += k;
    }
    CHECK_EQ_INT(got, n);
    ss_pqr_close(r);
    return bad;
}

TEST(test_roundtrip_all_codecs) {
    static const enum ss_pq_codec codecs[] = {SS_PQ_UNCOMPRESSED, SS_PQ_SNAPPY, SS_PQ_ZSTD};
    static const enum ss_table_id tables[] = {SS_T_EVENTS, SS_T_FUNNEL, SS_T_SESSIONS, SS_T_ALERTS,
                                              SS_T_DATA_QUALITY, SS_T_DLQ};
    for (size_t ti = 0; ti < sizeof tables / sizeof tables[0]; ti++) {
        for (size_t ci = 0; ci < 3; ci++) {
            struct ss_arena a;
            ss_arena_init(&a, 1 << 16);
            rng_state = 0x9e3779b97f4a7c15ULL + ti * 7 + ci;
            size_t n = 5003;
            struct ss_val *rows = make_rows(tables[ti], n, &a);
            struct ss_pq_opts o;
            ss_pq_opts_default(&o);
            o.codec = codecs[ci];
            o.page_rows = 97;            /* many pages, partial last ones */
            o.row_group_rows = 1777;     /* several row groups */
            o.dict_max_bytes = 3000;     /* dictionaries fall back to PLAIN mid-chunk */
            char path[128];
            snprintf(path, sizeof path, "%s/%s-%d.parquet", dir, ss_tables[tables[ti]].name, (int)codecs[ci]);
            CHECK_EQ_INT(write_file(path, tables[ti], rows, n, &o), SS_OK);
            CHECK_EQ_INT(read_compare(path, tables[ti], rows, n, 0), 0);
            CHECK_EQ_INT(read_compare(path, tables[ti], rows, n, 7), 0);
            ss_free(rows);
            ss_arena_free(&a);
        }
    }
}

/* Default options (one row group, big pages, dictionary within its limit). */
TEST(test_roundtrip_defaults_and_empty) {
    struct ss_arena a;
    ss_arena_init(&a, 1 << 16);
    rng_state = 12345;
    size_t n = 70000;
    struct ss_val *rows = make_rows(SS_T_EVENTS, n, &a);
    struct ss_pq_opts o;
    ss_pq_opts_default(&o);
    char path[128];
    snprintf(path, sizeof path, "%s/events-default.parquet", dir);
    CHECK_EQ_INT(write_file(path, SS_T_EVENTS, rows, n, &o), SS_OK);
    CHECK_EQ_INT(read_compare(path, SS_T_EVENTS, rows, n, 1000000), 0);
    CHECK_EQ_INT(read_compare(path, SS_T_EVENTS, rows, n, 1), 0);
    /* a file with no rows */
    snprintf(path, sizeof path, "%s/events-empty.parquet", dir);
    CHECK_EQ_INT(write_file(path, SS_T_EVENTS, rows, 0, &o), SS_OK);
    CHECK_EQ_INT(read_compare(path, SS_T_EVENTS, rows, 0, 0), 0);
    /* every optional value null in a whole chunk */
    for (size_t i = 0; i < 100; i++) {
        rows[i * SS_EV_NCOLS + SS_EV_SESSION_ID] = (struct ss_val){.null = 1};
        rows[i * SS_EV_NCOLS + SS_EV_PRICE] = (struct ss_val){.null = 1};
    }
    snprintf(path, sizeof path, "%s/events-nulls.parquet", dir);
    CHECK_EQ_INT(write_file(path, SS_T_EVENTS, rows, 100, &o), SS_OK);
    CHECK_EQ_INT(read_compare(path, SS_T_EVENTS, rows, 100, 0), 0);
    ss_free(rows);
    ss_arena_free(&a);
}

/* A hand-checked file: values known without the writer's help. */
TEST(test_known_values) {
    struct ss_val row[SS_SE_NCOLS] = {
        [SS_SE_USER_ID] = {.s = "u1", .len = 2},
        [SS_SE_SESSION_START] = {.i = 1000},
        [SS_SE_SESSION_END] = {.i = 61000},
        [SS_SE_DURATION_S] = {.i = 60},
        [SS_SE_EVENTS] = {.i = 3},
        [SS_SE_VIEWS] = {.i = 2},
        [SS_SE_PURCHASES] = {.i = 1},
        [SS_SE_REVENUE] = {.i = 123455},  /* 12.3455 -> 12.35 stored -> 123500 */
        [SS_SE_CONVERTED] = {.i = 1},
    };
    struct ss_pq_opts o;
    ss_pq_opts_default(&o);
    char path[128];
    snprintf(path, sizeof path, "%s/sessions-one.parquet", dir);
    CHECK_EQ_INT(write_file(path, SS_T_SESSIONS, row, 1, &o), SS_OK);
    struct ss_pqr *r;
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_pqr_open(&r, path, &ss_tables[SS_T_SESSIONS], &err), SS_OK);
    const struct ss_val *v;
    size_t n;
    CHECK_EQ_INT(ss_pqr_next(r, &v, &n, 0, &err), SS_OK);
    CHECK_EQ_INT(n, 1);
    CHECK(v[SS_SE_USER_ID].len == 2 && memcmp(v[SS_SE_USER_ID].s, "u1", 2) == 0);
    CHECK_EQ_INT(v[SS_SE_SESSION_END].i, 61000);
    CHECK_EQ_INT(v[SS_SE_REVENUE].i, 123500);
    CHECK_EQ_INT(v[SS_SE_CONVERTED].i, 1);
    CHECK_EQ_INT(v[SS_SE_CART_ADDS].i, 0);
    CHECK_EQ_INT(ss_pqr_next(r, &v, &n, 0, &err), SS_EOF);
    CHECK_EQ_INT(n, 0);
    ss_pqr_close(r);
}

static size_t slurp(const char *path, uint8_t **out) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = malloc((size_t)n);
    size_t got = fread(*out, 1, (size_t)n, f);
    fclose(f);
    return got;
}

static void spit(const char *path, const uint8_t *p, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, n, f);
    fclose(f);
}

/* Opens and reads everything; returns the first error code and its message. */
static int read_all(const char *path, enum ss_table_id t, struct ss_err *err) {
    struct ss_pqr *r;
    int rc = ss_pqr_open(&r, path, &ss_tables[t], err);
    if (rc) return rc;
    const struct ss_val *v;
    size_t n;
    while ((rc = ss_pqr_next(r, &v, &n, 0, err)) == SS_OK) {}
    ss_pqr_close(r);
    return rc == SS_EOF ? SS_OK : rc;
}

TEST(test_rejects) {
    struct ss_arena a;
    ss_arena_init(&a, 1 << 16);
    rng_state = 777;
    size_t n = 300;
    struct ss_val *rows = make_rows(SS_T_DATA_QUALITY, n, &a);
    struct ss_pq_opts o;
    ss_pq_opts_default(&o);
    o.codec = SS_PQ_UNCOMPRESSED;
    char path[128], bad[160];
    snprintf(path, sizeof path, "%s/dq.parquet", dir);
    CHECK_EQ_INT(write_file(path, SS_T_DATA_QUALITY, rows, n, &o), SS_OK);
    struct ss_err err = {0};
    CHECK_EQ_INT(read_all(path, SS_T_DATA_QUALITY, &err), SS_OK);

    /* another table's schema: names the file and the column */
    CHECK_EQ_INT(read_all(path, SS_T_SESSIONS, &err), SS_ERROR);
    CHECK(strstr(err.msg, path) != NULL);
    CHECK(strstr(err.msg, "columns") != NULL || strstr(err.msg, "column") != NULL);

    uint8_t *p;
    size_t sz = slurp(path, &p);
    CHECK(sz > 100);

    /* not Parquet */
    snprintf(bad, sizeof bad, "%s/notpq.parquet", dir);
    spit(bad, (const uint8_t *)"hello, world, not parquet", 25);
    CHECK_EQ_INT(read_all(bad, SS_T_DATA_QUALITY, &err), SS_ERROR);
    CHECK(strstr(err.msg, bad) != NULL && strstr(err.msg, "PAR1") != NULL);

    /* truncated: the footer is gone */
    snprintf(bad, sizeof bad, "%s/trunc.parquet", dir);
    spit(bad, p, sz / 2);
    CHECK_EQ_INT(read_all(bad, SS_T_DATA_QUALITY, &err), SS_ERROR);
    CHECK(strstr(err.msg, bad) != NULL);

    /* missing file */
    snprintf(bad, sizeof bad, "%s/none.parquet", dir);
    CHECK_EQ_INT(read_all(bad, SS_T_DATA_QUALITY, &err), SS_EIO);
    CHECK(strstr(err.msg, bad) != NULL);

    /* The first page (minute_start, INT64, no dictionary) starts at offset 4 with
     * field 1 (type, i32): 0x15 then zigzag(0) = 0x00. Type 3 is DATA_PAGE_V2. */
    CHECK(p[4] == 0x15 && p[5] == 0x00);
    uint8_t *q = malloc(sz);
    memcpy(q, p, sz);
    q[5] = 0x06;
    snprintf(bad, sizeof bad, "%s/v2.parquet", dir);
    spit(bad, q, sz);
    CHECK_EQ_INT(read_all(bad, SS_T_DATA_QUALITY, &err), SS_ERROR);
    CHECK(strstr(err.msg, "v2") != NULL && strstr(err.msg, "minute_start") != NULL && strstr(err.msg, bad) != NULL);

    /* The same page's encoding: fields 1..3 (0x15 varint each), then 0x2c (field 5,
     * DataPageHeader), 0x15 num_values varint, 0x15 encoding. Make it 2
     * (PLAIN_DICTIONARY, zigzag 4): refused by name. */
    memcpy(q, p, sz);
    size_t at = 4;
    for (int f = 0; f < 3; f++) {
        CHECK(q[at] == 0x15);
        at++;
        while (q[at] & 0x80) at++;
        at++;
    }
    CHECK(q[at] == 0x2c);
    at++;
    CHECK(q[at] == 0x15);
    at++;
    while (q[at] & 0x80) at++;
    at++;
    CHECK(q[at] == 0x15 && q[at + 1] == 0x00);
    q[at + 1] = 0x04;
    snprintf(bad, sizeof bad, "%s/enc.parquet", dir);
    spit(bad, q, sz);
    CHECK_EQ_INT(read_all(bad, SS_T_DATA_QUALITY, &err), SS_ERROR);
    CHECK(strstr(err.msg, "encoding 2") != NULL && strstr(err.msg, "minute_start") != NULL);

    /* a codec we do not read: LZ4_RAW (7). Rewrite the file with snappy, then patch
     * every ColumnMetaData codec field (field 4: 0x15, zigzag(1) = 0x02, right after
     * the path_in_schema list of field 3) — found by its column name. */
    o.codec = SS_PQ_SNAPPY;
    snprintf(bad, sizeof bad, "%s/codec.parquet", dir);
    CHECK_EQ_INT(write_file(bad, SS_T_DATA_QUALITY, rows, n, &o), SS_OK);
    uint8_t *c;
    size_t csz = slurp(bad, &c);
    uint32_t flen;
    memcpy(&flen, c + csz - 8, 4);
    int patched = 0;
    /* list<binary> of 1: 0x19 0x18 len name, then 0x15 0x02 */
    for (size_t k = csz - 8 - flen; k + 20 < csz; k++) {
        if (c[k] == 0x19 && c[k + 1] == 0x18 && c[k + 2] == 12 && memcmp(c + k + 3, "minute_start", 12) == 0 &&
            c[k + 15] == 0x15 && c[k + 16] == 0x02) {
            c[k + 16] = 0x0e;
            patched++;
        }
    }
    CHECK_EQ_INT(patched, 1);
    spit(bad, c, csz);
    CHECK_EQ_INT(read_all(bad, SS_T_DATA_QUALITY, &err), SS_ERROR);
    CHECK(strstr(err.msg, "codec 7") != NULL && strstr(err.msg, bad) != NULL);
    free(c);
    free(q);
    free(p);
    ss_free(rows);
    ss_arena_free(&a);
}

/* ---- crafted files: what no writer of ours produces, byte by byte ------------------- */

/* One REQUIRED string column: the smallest table a crafted file needs. */
static const struct ss_column one_col[] = {{"s", SS_COL_STR, 0, 0}};
static const struct ss_table one_tbl = {"one", 1, one_col, -1, 0};

/* A page header (data page v1 when type is 0, dictionary page when 2). */
static void craft_page(struct ss_tc *tc, int type, int32_t unc, int32_t comp, int32_t nvalues, int32_t enc) {
    ss_tc_i32(tc, 1, type);
    ss_tc_i32(tc, 2, unc);
    ss_tc_i32(tc, 3, comp);
    ss_tc_struct_begin(tc, type == 0 ? 5 : 7);
    ss_tc_i32(tc, 1, nvalues);
    ss_tc_i32(tc, 2, enc);
    if (type == 0) {
        ss_tc_i32(tc, 3, 3);
        ss_tc_i32(tc, 4, 3);
    }
    ss_tc_struct_end(tc);
    ss_tc_end(tc);
}

/* The footer's fields up to and including num_rows (field 3) for one_tbl. */
static void craft_footer_head(struct ss_tc *tc, int64_t num_rows) {
    ss_tc_i32(tc, 1, 1);
    ss_tc_list_begin(tc, 2, SS_TC_STRUCT, 2);
    ss_tc_elem_struct_begin(tc);
    ss_tc_string(tc, 4, "schema");
    ss_tc_i32(tc, 5, 1);
    ss_tc_struct_end(tc);
    ss_tc_elem_struct_begin(tc);
    ss_tc_i32(tc, 1, 6);  /* BYTE_ARRAY */
    ss_tc_i32(tc, 3, 0);  /* REQUIRED */
    ss_tc_string(tc, 4, "s");
    ss_tc_struct_end(tc);
    ss_tc_i64(tc, 3, num_rows);
}

/* One RowGroup list element: rows rows, its chunk of `comp` bytes at data_off
 * (dictionary page at dict_off when >= 0). */
static void craft_row_group(struct ss_tc *tc, int64_t rows, int codec, int64_t comp, int64_t data_off,
                            int64_t dict_off) {
    ss_tc_elem_struct_begin(tc);
    ss_tc_list_begin(tc, 1, SS_TC_STRUCT, 1);
    ss_tc_elem_struct_begin(tc);
    ss_tc_struct_begin(tc, 3);
    ss_tc_i32(tc, 1, 6);
    ss_tc_i32(tc, 4, codec);
    ss_tc_i64(tc, 5, rows);
    ss_tc_i64(tc, 7, comp);
    ss_tc_i64(tc, 9, data_off);
    if (dict_off >= 0) ss_tc_i64(tc, 11, dict_off);
    ss_tc_struct_end(tc);
    ss_tc_struct_end(tc);
    ss_tc_i64(tc, 3, rows);
    ss_tc_struct_end(tc);
}

/* "PAR1", body, footer, its length, "PAR1" into a new block; *n its size. */
static uint8_t *craft_file(const uint8_t *body, size_t nbody, const struct ss_tc *footer, size_t *n) {
    *n = 4 + nbody + footer->len + 8;
    uint8_t *f = ss_malloc(*n), *p = f;
    memcpy(p, "PAR1", 4);
    memcpy(p += 4, body, nbody);
    memcpy(p += nbody, footer->buf, footer->len);
    p += footer->len;
    uint32_t flen = (uint32_t)footer->len;
    memcpy(p, &flen, 4);
    memcpy(p + 4, "PAR1", 4);
    return f;
}

/* Opens and reads f[0..n) as tbl, from an exactly sized block; the first error. */
static int read_mem(const uint8_t *f, size_t n, const struct ss_table *tbl, struct ss_err *err) {
    struct ss_pqr *r;
    int rc = ss_pqr_open_mem(&r, "crafted.parquet", f, n, tbl, err);
    if (rc) return rc;
    const struct ss_val *v;
    size_t k;
    while ((rc = ss_pqr_next(r, &v, &k, 0, err)) == SS_OK) {}
    ss_pqr_close(r);
    return rc == SS_EOF ? SS_OK : rc;
}

/* The body of the crafted file that reads: one PLAIN data page of the strings "ab" and
 * "c", at offset 4. Returns its size; body has room for 256 bytes. */
static size_t craft_plain_body(uint8_t *body) {
    struct ss_tc pg;
    ss_tc_init(&pg);
    static const uint8_t vals[] = {2, 0, 0, 0, 'a', 'b', 1, 0, 0, 0, 'c'};
    craft_page(&pg, 0, sizeof vals, sizeof vals, 2, 0);
    memcpy(body, pg.buf, pg.len);
    memcpy(body + pg.len, vals, sizeof vals);
    size_t n = pg.len + sizeof vals;
    ss_tc_free(&pg);
    return n;
}

/* That body with a footer of one row group: the file the tests below each change one
 * thing in. */
static uint8_t *craft_good(size_t *n) {
    uint8_t body[256];
    size_t nbody = craft_plain_body(body);
    struct ss_tc ft;
    ss_tc_init(&ft);
    craft_footer_head(&ft, 2);
    ss_tc_list_begin(&ft, 4, SS_TC_STRUCT, 1);
    craft_row_group(&ft, 2, 0, (int64_t)nbody, 4, -1);
    ss_tc_end(&ft);
    uint8_t *f = craft_file(body, nbody, &ft, n);
    ss_tc_free(&ft);
    return f;
}

TEST(test_crafted_good) {
    size_t n;
    uint8_t *f = craft_good(&n);
    struct ss_err err = {0};
    struct ss_pqr *r;
    CHECK_EQ_INT(ss_pqr_open_mem(&r, "crafted.parquet", f, n, &one_tbl, &err), SS_OK);
    const struct ss_val *v;
    size_t k;
    CHECK_EQ_INT(ss_pqr_next(r, &v, &k, 0, &err), SS_OK);
    CHECK_EQ_INT(k, 2);
    CHECK(v[0].len == 2 && memcmp(v[0].s, "ab", 2) == 0 && v[1].len == 1 && v[1].s[0] == 'c');
    CHECK_EQ_INT(ss_pqr_next(r, &v, &k, 0, &err), SS_EOF);
    ss_pqr_close(r);
    ss_free(f);
}

/* A footer that lists its row groups twice (the second time empty): the first list
 * was leaked, and the reader kept the first list's count over the second's one-element
 * block, so closing it read past that block. Refused now. */
TEST(test_crafted_row_groups_twice) {
    uint8_t body[256];
    size_t nbody = craft_plain_body(body), n;
    struct ss_tc ft;
    ss_tc_init(&ft);
    craft_footer_head(&ft, 4);
    ss_tc_list_begin(&ft, 4, SS_TC_STRUCT, 2);
    craft_row_group(&ft, 2, 0, (int64_t)nbody, 4, -1);
    craft_row_group(&ft, 2, 0, (int64_t)nbody, 4, -1);
    ss_tc_list_begin(&ft, 4, SS_TC_STRUCT, 0);  /* field 4 again (its id written in full) */
    ss_tc_end(&ft);
    uint8_t *f = craft_file(body, nbody, &ft, &n);
    struct ss_err err = {0};
    CHECK_EQ_INT(read_mem(f, n, &one_tbl, &err), SS_ERROR);
    CHECK(strstr(err.msg, "crafted.parquet") != NULL && strstr(err.msg, "more than once") != NULL);
    ss_free(f);
    ss_tc_free(&ft);
}

/* Row groups whose row counts, each valid, add up past INT64_MAX: the sum checked
 * against the footer's was a signed overflow (UBSan stops there). */
TEST(test_crafted_rows_overflow) {
    uint8_t body[256];
    size_t nbody = craft_plain_body(body), n;
    struct ss_tc ft;
    ss_tc_init(&ft);
    craft_footer_head(&ft, 2);
    ss_tc_list_begin(&ft, 4, SS_TC_STRUCT, 3);
    for (int g = 0; g < 3; g++) craft_row_group(&ft, INT64_MAX / 2, 0, (int64_t)nbody, 4, -1);
    ss_tc_end(&ft);
    uint8_t *f = craft_file(body, nbody, &ft, &n);
    struct ss_err err = {0};
    CHECK_EQ_INT(read_mem(f, n, &one_tbl, &err), SS_ERROR);
    CHECK(strstr(err.msg, "crafted.parquet") != NULL && strstr(err.msg, "2^63") != NULL);
    ss_free(f);
    ss_tc_free(&ft);
}

/* A chunk of one page (header declaring unc / nvalues, then `payload`) and its footer;
 * reads it and returns the error, with the bytes the reader still held at the error
 * in *held: the declared sizes must not be trusted with an allocation. */
static int read_one_page(int type, int codec, int32_t unc, int32_t nvalues, const uint8_t *payload, size_t np,
                         int64_t *held, struct ss_err *err) {
    struct ss_tc pg, ft;
    ss_tc_init(&pg);
    ss_tc_init(&ft);
    craft_page(&pg, type, unc, (int32_t)np, nvalues, 0);
    uint8_t body[512];
    memcpy(body, pg.buf, pg.len);
    memcpy(body + pg.len, payload, np);
    size_t nbody = pg.len + np, n;
    craft_footer_head(&ft, 2);
    ss_tc_list_begin(&ft, 4, SS_TC_STRUCT, 1);
    craft_row_group(&ft, 2, codec, (int64_t)nbody, 4, type == 2 ? 4 : -1);
    ss_tc_end(&ft);
    uint8_t *f = craft_file(body, nbody, &ft, &n);
    int64_t before = ss_alloc_live_bytes();
    struct ss_pqr *r;
    int rc = ss_pqr_open_mem(&r, "crafted.parquet", f, n, &one_tbl, err);
    if (!rc) {
        const struct ss_val *v;
        size_t k;
        rc = ss_pqr_next(r, &v, &k, 0, err);
        *held = ss_alloc_live_bytes() - before;
        ss_pqr_close(r);
    }
    ss_free(f);
    ss_tc_free(&pg);
    ss_tc_free(&ft);
    return rc;
}

/* Page headers declaring sizes their few bytes cannot hold: a dictionary of 2^31-1
 * entries, and snappy and zstd pages declaring 2 GiB. The reader allocated what they
 * declared (16 GiB for the dictionary) before finding out. */
TEST(test_crafted_declared_sizes) {
    static const uint8_t junk[16] = {0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    struct ss_err err = {0};
    int64_t held = 0;
    CHECK_EQ_INT(read_one_page(2, 0, 16, INT32_MAX, junk, 16, &held, &err), SS_ERROR);
    CHECK(strstr(err.msg, "crafted.parquet") != NULL && strstr(err.msg, "dictionary") != NULL);
    CHECK(held < (1 << 20));
    for (int codec = 1; codec <= 6; codec += 5) {
        held = 0;
        CHECK_EQ_INT(read_one_page(0, codec, INT32_MAX, 2, junk, 16, &held, &err), SS_ERROR);
        CHECK(strstr(err.msg, "crafted.parquet") != NULL && strstr(err.msg, codec == 1 ? "snappy" : "zstd") != NULL);
        CHECK(held < (1 << 20));
    }
}

/* A real file damaged every way a byte string can be, deterministically: cut at every
 * offset (a crash or a full disk mid-write), its pages cut short under an intact footer,
 * and each byte in turn replaced by 0x00, 0xff and itself with the low or high bit
 * flipped. Each copy is exactly sized, so the sanitizer build sees any read past it.
 * A cut file is always refused; a changed one is refused or read, and a refusal
 * always names the file. */
TEST(test_damaged_everywhere) {
    struct ss_arena a;
    ss_arena_init(&a, 1 << 16);
    rng_state = 4242;
    size_t nrows = 60;
    struct ss_val *rows = make_rows(SS_T_EVENTS, nrows, &a);
    struct ss_pq_opts o;
    ss_pq_opts_default(&o);
    o.codec = SS_PQ_SNAPPY;
    o.page_rows = 10;
    o.row_group_rows = 25;
    o.dict_max_bytes = 300;  /* dictionary pages, and PLAIN ones after them */
    char path[128];
    snprintf(path, sizeof path, "%s/damaged.parquet", dir);
    CHECK_EQ_INT(write_file(path, SS_T_EVENTS, rows, nrows, &o), SS_OK);
    uint8_t *p;
    size_t sz = slurp(path, &p);
    CHECK(sz > 1000);
    const struct ss_table *tb = &ss_tables[SS_T_EVENTS];
    struct ss_err err = {0};
    CHECK_EQ_INT(read_mem(p, sz, tb, &err), SS_OK);
    size_t refused = 0, unnamed = 0, read_ok = 0, other = 0;
    for (size_t cut = 0; cut < sz; cut++) {
        uint8_t *q = ss_malloc(cut ? cut : 1);
        memcpy(q, p, cut);
        int rc = read_mem(q, cut, tb, &err);
        refused += rc == SS_ERROR;
        unnamed += rc && !strstr(err.msg, "crafted.parquet");
        ss_free(q);
    }
    CHECK_EQ_INT(refused, sz);
    /* the pages cut at each offset, the footer kept: offsets now point past the pages */
    uint32_t flen;
    memcpy(&flen, p + sz - 8, 4);
    size_t foot = sz - 8 - flen;
    for (size_t cut = 4; cut < foot; cut++) {
        size_t m = cut + (sz - foot);
        uint8_t *q = ss_malloc(m);
        memcpy(q, p, cut);
        memcpy(q + cut, p + foot, sz - foot);
        int rc = read_mem(q, m, tb, &err);
        other += rc != SS_ERROR && rc != SS_OK;
        unnamed += rc && !strstr(err.msg, "crafted.parquet");
        ss_free(q);
    }
    for (size_t at = 0; at < sz; at++) {
        const uint8_t with[4] = {0x00, 0xff, (uint8_t)(p[at] ^ 0x01), (uint8_t)(p[at] ^ 0x80)};
        for (int k = 0; k < 4; k++) {
            uint8_t *q = ss_malloc(sz);
            memcpy(q, p, sz);
            q[at] = with[k];
            int rc = read_mem(q, sz, tb, &err);
            other += rc != SS_ERROR && rc != SS_OK;
            read_ok += rc == SS_OK;
            unnamed += rc && !strstr(err.msg, "crafted.parquet");
            ss_free(q);
        }
    }
    CHECK_EQ_INT(other, 0);
    CHECK_EQ_INT(unnamed, 0);
    CHECK(read_ok > 0);  /* a changed value byte still reads */
    free(p);
    ss_free(rows);
    ss_arena_free(&a);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/test_pqread.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_roundtrip_all_codecs);
    RUN(test_roundtrip_defaults_and_empty);
    RUN(test_known_values);
    RUN(test_rejects);
    RUN(test_crafted_good);
    RUN(test_crafted_row_groups_twice);
    RUN(test_crafted_rows_overflow);
    RUN(test_crafted_declared_sizes);
    RUN(test_damaged_everywhere);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return ss_t_report("pqread");
}
