/* writer.c — the Parquet file writer behind the lake sink (see writer.h for the
 * schema mapping and the atomicity contract).
 *
 * Layout of a file: "PAR1", then per row group one column chunk per column
 * (an optional dictionary page, then data pages v1), then the FileMetaData footer
 * in the Thrift compact protocol, its 4-byte length and "PAR1".
 *
 * Values are appended column by column; each column encodes and compresses its own
 * data pages as they fill, so a buffered row group holds compressed bytes. The
 * dictionary page must come first in a chunk but is known only at its end, so the
 * chunk's data pages stay in memory until the row group is flushed. */
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../core/alloc.h"
#include "../../core/dirs.h"
#include "../../core/fdio.h"
#include "../../core/hash.h"
#include "../../core/utf8.h"
#include "thrift.h"

/* parquet.thrift enums */
enum { PT_BOOLEAN = 0, PT_INT64 = 2, PT_BYTE_ARRAY = 6 };
enum { CT_UTF8 = 0, CT_DECIMAL = 5, CT_TIMESTAMP_MILLIS = 9 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1 };
enum { ENC_PLAIN = 0, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };

enum kind { K_I64, K_BOOL, K_BYTES };

#define DECIMAL18_MAX 999999999999999999LL

struct dict_slot {
    uint32_t hash;
    uint32_t id1; /* entry index + 1; 0 = empty */
};

struct col {
    const struct ss_column *c;
    enum kind kind;
    int optional;
    /* the data page being filled */
    uint32_t *defs;          /* page_rows definition levels (optional columns) */
    size_t page_n;           /* values in the page, nulls included */
    struct ss_pq_buf vals;   /* PLAIN values; one byte per value for booleans */
    uint32_t *idx;           /* dictionary indices of the page */
    size_t idx_n;
    /* the dictionary of the chunk (byte-array columns) */
    int dict_on;             /* still dictionary-encoding this chunk */
    struct dict_slot *slots;
    size_t nslots;           /* power of two */
    uint32_t *offs;          /* entry -> offset of its PLAIN encoding in dict */
    size_t offs_cap;
    uint32_t ndict;
    struct ss_pq_buf dict;   /* the dictionary page body: PLAIN entries */
    /* the chunk */
    struct ss_pq_buf chunk;  /* data pages, each header + compressed payload */
    int64_t num_values, nulls, unc, comp;
    unsigned encodings;      /* bit per Encoding */
    /* statistics of the chunk */
    int has_minmax;
    int64_t imin, imax;
    struct ss_pq_buf smin, smax;
};

struct chunk_meta {
    int64_t num_values, nulls, unc, comp, data_off, dict_off; /* dict_off -1: none */
    unsigned encodings;
    int has_minmax;
    uint8_t *min, *max;      /* PLAIN statistics bytes, owned */
    uint32_t minlen, maxlen;
};

struct rg_meta {
    int64_t rows, unc, comp, file_offset;
    struct chunk_meta *cols;
};

struct ss_pq_writer {
    char *path, *tmp;
    int fd;
    int dead;
    const struct ss_table *tbl;
    struct ss_pq_opts o;
    struct col *cols;
    int64_t off;             /* bytes written to the file */
    int64_t rg_rows, total_rows;
    struct rg_meta *rgs;
    size_t nrg, rg_cap;
    struct ss_pq_compressor *comp;
    struct ss_pq_buf page, cbuf;  /* scratch: raw page, compressed page */
    struct ss_buf utf8;           /* scratch: a STRING value repaired (utf8.h) */
    struct ss_tc tc;
};

void ss_pq_opts_default(struct ss_pq_opts *o) {
    memset(o, 0, sizeof *o);
    o->codec = SS_PQ_ZSTD;
    o->zstd_level = 1;
    o->row_group_rows = 1000000;
    o->row_group_bytes = 128u << 20;
    o->page_rows = 20000;
    o->page_bytes = 1u << 20;
    o->dict_max_bytes = 1u << 20;
}

static int errno_retriable(int e) {
    return e == ENOSPC || e == EDQUOT || e == EIO || e == EAGAIN || e == EBUSY || e == ENFILE ||
           e == EMFILE || e == ENOMEM || e == EINTR;
}

/* Any failure: the temp file goes away at once and the writer is dead. Idempotent. */
static void die(struct ss_pq_writer *w) {
    if (w->fd >= 0) close(w->fd);
    w->fd = -1;
    if (!w->dead) unlink(w->tmp);
    w->dead = 1;
}

static int fail_io(struct ss_pq_writer *w, const char *what, const char *path, int e, struct ss_err *err) {
    die(w);
    ss_err_set(err, SS_EIO, "parquet: %s %s: %s", what, path, strerror(e));
    if (err) err->retriable = errno_retriable(e);
    return SS_EIO;
}

static int wr(struct ss_pq_writer *w, const void *p, size_t n, struct ss_err *err) {
    const uint8_t *b = p;
    if (w->o.fail_after_bytes > 0 && w->off + (int64_t)n > w->o.fail_after_bytes)
        return fail_io(w, "write", w->tmp, ENOSPC, err);
    if (ss_write_all(w->fd, b, n) != 0) return fail_io(w, "write", w->tmp, errno, err);
    w->off += (int64_t)n;
    return SS_OK;
}

/* ---- dictionary ---------------------------------------------------------- */

static void dict_reset(struct col *c) {
    if (c->slots) memset(c->slots, 0, c->nslots * sizeof *c->slots);
    c->ndict = 0;
    c->dict.len = 0;
}

static void dict_grow(struct col *c) {
    size_t n = c->nslots ? c->nslots * 2 : 1024;
    struct dict_slot *s = ss_calloc(n, sizeof *s);
    for (size_t i = 0; i < c->nslots; i++) {
        if (!c->slots[i].id1) continue;
        size_t k = c->slots[i].hash & (n - 1);
        while (s[k].id1) k = (k + 1) & (n - 1);
        s[k] = c->slots[i];
    }
    ss_free(c->slots);
    c->slots = s;
    c->nslots = n;
}

/* ---- pages --------------------------------------------------------------- */

static void put_stat_str(struct ss_pq_buf *b, const char *s, uint32_t len) {
    b->len = 0;
    ss_pq_buf_put(b, s, len);
}

static int bytes_cmp(const void *a, size_t an, const void *b, size_t bn) {
    size_t n = an < bn ? an : bn;
    int r = n ? memcmp(a, b, n) : 0;
    if (r) return r;
    return an < bn ? -1 : an > bn;
}

static void stat_str(struct col *c, const char *s, uint32_t len) {
    if (!c->has_minmax) {
        put_stat_str(&c->smin, s, len);
        put_stat_str(&c->smax, s, len);
        c->has_minmax = 1;
        return;
    }
    if (bytes_cmp(s, len, c->smin.p, c->smin.len) < 0) put_stat_str(&c->smin, s, len);
    else if (bytes_cmp(s, len, c->smax.p, c->smax.len) > 0) put_stat_str(&c->smax, s, len);
}

static void page_header(struct ss_pq_writer *w, int type, size_t unc, size_t comp, int32_t nvalues,
                        int encoding) {
    struct ss_tc *tc = &w->tc;
    ss_tc_reset(tc);
    ss_tc_i32(tc, 1, type);
    ss_tc_i32(tc, 2, (int32_t)unc);
    ss_tc_i32(tc, 3, (int32_t)comp);
    if (type == PAGE_DATA) {
        ss_tc_struct_begin(tc, 5);
        ss_tc_i32(tc, 1, nvalues);
        ss_tc_i32(tc, 2, encoding);
        ss_tc_i32(tc, 3, ENC_RLE);
        ss_tc_i32(tc, 4, ENC_RLE);
        ss_tc_struct_end(tc);
    } else {
        ss_tc_struct_begin(tc, 7);
        ss_tc_i32(tc, 1, nvalues);
        ss_tc_i32(tc, 2, encoding);
        ss_tc_struct_end(tc);
    }
    ss_tc_end(tc);
}

static int flush_page(struct ss_pq_writer *w, struct col *c, struct ss_err *err) {
    struct ss_pq_buf *pg = &w->page;
    pg->len = 0;
    if (c->optional) {
        size_t at = pg->len;
        ss_pq_buf_u32(pg, 0);
        ss_pq_rle_encode(pg, c->defs, c->page_n, 1);
        uint32_t dlen = (uint32_t)(pg->len - at - 4);
        memcpy(pg->p + at, &dlen, 4);
    }
    int enc = ENC_PLAIN;
    if (c->kind == K_BYTES && c->dict_on && c->ndict > 0) {
        /* A page of only nulls before any entry exists falls through to PLAIN
         * (it has no values), so a dictionary page is never empty. */
        enc = ENC_RLE_DICTIONARY;
        int width = ss_pq_bit_width(c->ndict - 1);
        uint8_t wb = (uint8_t)width;
        ss_pq_buf_put(pg, &wb, 1);
        ss_pq_rle_encode(pg, c->idx, c->idx_n, width);
    } else if (c->kind == K_BOOL) {
        ss_pq_bool_pack(pg, c->vals.p, c->vals.len);
    } else {
        ss_pq_buf_put(pg, c->vals.p, c->vals.len);
    }
    int rc = ss_pq_compress(w->comp, pg->p, pg->len, &w->cbuf, err);
    if (rc) return rc;
    page_header(w, PAGE_DATA, pg->len, w->cbuf.len, (int32_t)c->page_n, enc);
    ss_pq_buf_put(&c->chunk, w->tc.buf, w->tc.len);
    ss_pq_buf_put(&c->chunk, w->cbuf.p, w->cbuf.len);
    c->unc += (int64_t)(w->tc.len + pg->len);
    c->comp += (int64_t)(w->tc.len + w->cbuf.len);
    c->encodings |= 1u << enc | 1u << ENC_RLE;
    c->num_values += (int64_t)c->page_n;
    c->page_n = 0;
    c->vals.len = 0;
    c->idx_n = 0;
    return SS_OK;
}

static int page_full(const struct ss_pq_writer *w, const struct col *c) {
    return c->page_n >= w->o.page_rows || c->vals.len >= w->o.page_bytes;
}

/* Byte arrays: dictionary index while the dictionary stays under its limit; past it,
 * the page so far is flushed and the rest of the chunk is PLAIN. */
static int put_bytes(struct ss_pq_writer *w, struct col *c, const char *s, uint32_t len, struct ss_err *err) {
    if (c->dict_on) {
        uint64_t h = ss_hash(s, len);
        uint32_t h32 = (uint32_t)h;
        size_t mask = c->nslots - 1, k = h32 & mask;
        for (;;) {
            struct dict_slot *sl = &c->slots[k];
            if (!sl->id1) break;
            if (sl->hash == h32) {
                const uint8_t *e = c->dict.p + c->offs[sl->id1 - 1];
                uint32_t elen;
                memcpy(&elen, e, 4);
                if (elen == len && (len == 0 || memcmp(e + 4, s, len) == 0)) {
                    c->idx[c->idx_n++] = sl->id1 - 1;
                    return SS_OK;
                }
            }
            k = (k + 1) & mask;
        }
        if (c->dict.len + 4 + (size_t)len <= w->o.dict_max_bytes) {
            SS_GROW(c->offs, c->offs_cap, (size_t)c->ndict + 1);
            c->offs[c->ndict] = (uint32_t)c->dict.len;
            ss_pq_buf_bytes(&c->dict, s, len);
            c->slots[k].hash = h32;
            c->slots[k].id1 = ++c->ndict;
            c->idx[c->idx_n++] = c->ndict - 1;
            stat_str(c, s, len);
            if ((size_t)c->ndict * 2 > c->nslots) dict_grow(c);
            return SS_OK;
        }
        /* fallback: this value starts the PLAIN part of the chunk */
        if (c->page_n > 0) {
            int rc = flush_page(w, c, err);
            if (rc) return rc;
        }
        c->dict_on = 0;
    }
    ss_pq_buf_bytes(&c->vals, s, len);
    stat_str(c, s, len);
    return SS_OK;
}

static int64_t to_i64(const struct ss_column *cd, int64_t v) {
    if (cd->type == SS_COL_MONEY) return ss_pq_money_cents(v);
    return v;
}

static int write_col(struct ss_pq_writer *w, int j, const struct ss_val *rows, const uint32_t *idx, size_t n,
                     struct ss_err *err) {
    struct col *c = &w->cols[j];
    size_t nc = (size_t)w->tbl->ncols;
    for (size_t k = 0; k < n; k++) {
        const struct ss_val *v = rows + (idx ? idx[k] : k) * nc + (size_t)j;
        if (v->null) {
            if (!c->optional) {
                die(w);
                return ss_err_set(err, SS_ERROR, "parquet: %s: null in non-nullable column %s.%s",
                                  w->path, w->tbl->name, c->c->name);
            }
            c->defs[c->page_n++] = 0;
            c->nulls++;
        } else {
            switch (c->kind) {
            case K_I64: {
                int64_t x = to_i64(c->c, v->i);
                if (c->c->type == SS_COL_RATIO && (x > DECIMAL18_MAX || x < -DECIMAL18_MAX)) {
                    die(w);
                    return ss_err_set(err, SS_ERROR, "parquet: %s: %s.%s value %lld exceeds DECIMAL(18,4)",
                                      w->path, w->tbl->name, c->c->name, (long long)x);
                }
                ss_pq_buf_i64(&c->vals, x);
                if (!c->has_minmax) {
                    c->imin = c->imax = x;
                    c->has_minmax = 1;
                } else if (x < c->imin) {
                    c->imin = x;
                } else if (x > c->imax) {
                    c->imax = x;
                }
                break;
            }
            case K_BOOL: {
                uint8_t b = v->i != 0;
                ss_pq_buf_put(&c->vals, &b, 1);
                if (!c->has_minmax) {
                    c->imin = c->imax = b;
                    c->has_minmax = 1;
                } else if (b < c->imin) {
                    c->imin = b;
                } else if (b > c->imax) {
                    c->imax = b;
                }
                break;
            }
            case K_BYTES: {
                const char *s = v->s ? v->s : "";
                size_t len = v->s ? v->len : 0;
                /* a STRING must be UTF-8 or readers refuse the file; only a dead
                 * letter's record can be anything else */
                if (c->c->type == SS_COL_STR && !ss_utf8_valid(s, len)) {
                    w->utf8.len = 0;
                    ss_utf8_repair(&w->utf8, s, len, true);
                    s = w->utf8.p;
                    len = w->utf8.len;
                }
                int rc = put_bytes(w, c, s, len, err);
                if (rc) {
                    die(w);
                    return rc;
                }
                break;
            }
            }
            if (c->optional) c->defs[c->page_n] = 1;
            c->page_n++;
        }
        if (page_full(w, c)) {
            int rc = flush_page(w, c, err);
            if (rc) {
                die(w);
                return rc;
            }
        }
    }
    return SS_OK;
}

/* ---- row groups ---------------------------------------------------------- */

/* A string chunk whose min or max is longer than this has no min/max, as Arrow's writer
 * does (max_statistics_size): a long dead letter would be copied into the footer, which
 * every reader loads whole, and a cut prefix is no upper bound. */
#define STAT_MAX_BYTES 4096

static void stat_bytes(struct chunk_meta *m, const struct col *c) {
    m->has_minmax = c->has_minmax;
    if (c->kind == K_BYTES && (c->smin.len > STAT_MAX_BYTES || c->smax.len > STAT_MAX_BYTES)) m->has_minmax = 0;
    if (!m->has_minmax) return;
    if (c->kind == K_BYTES) {
        m->min = ss_malloc(c->smin.len ? c->smin.len : 1);
        m->max = ss_malloc(c->smax.len ? c->smax.len : 1);
        if (c->smin.len) memcpy(m->min, c->smin.p, c->smin.len);
        if (c->smax.len) memcpy(m->max, c->smax.p, c->smax.len);
        m->minlen = (uint32_t)c->smin.len;
        m->maxlen = (uint32_t)c->smax.len;
    } else {
        size_t sz = c->kind == K_BOOL ? 1 : 8;
        m->min = ss_malloc(sz);
        m->max = ss_malloc(sz);
        if (c->kind == K_BOOL) {
            m->min[0] = (uint8_t)c->imin;
            m->max[0] = (uint8_t)c->imax;
        } else {
            memcpy(m->min, &c->imin, 8);
            memcpy(m->max, &c->imax, 8);
        }
        m->minlen = m->maxlen = (uint32_t)sz;
    }
}

static int flush_row_group(struct ss_pq_writer *w, struct ss_err *err) {
    int nc = w->tbl->ncols;
    for (int j = 0; j < nc; j++) {
        struct col *c = &w->cols[j];
        if (c->page_n > 0) {
            int rc = flush_page(w, c, err);
            if (rc) {
                die(w);
                return rc;
            }
        }
    }
    SS_GROW(w->rgs, w->rg_cap, w->nrg + 1);
    struct rg_meta *rg = &w->rgs[w->nrg++];
    memset(rg, 0, sizeof *rg);
    rg->rows = w->rg_rows;
    rg->file_offset = w->off;
    rg->cols = ss_calloc((size_t)nc, sizeof *rg->cols);
    for (int j = 0; j < nc; j++) {
        struct col *c = &w->cols[j];
        struct chunk_meta *m = &rg->cols[j];
        m->dict_off = -1;
        if (c->kind == K_BYTES && c->ndict > 0) {
            int rc = ss_pq_compress(w->comp, c->dict.p, c->dict.len, &w->cbuf, err);
            if (rc) {
                die(w);
                return rc;
            }
            page_header(w, PAGE_DICTIONARY, c->dict.len, w->cbuf.len, (int32_t)c->ndict, ENC_PLAIN);
            m->dict_off = w->off;
            if ((rc = wr(w, w->tc.buf, w->tc.len, err)) || (rc = wr(w, w->cbuf.p, w->cbuf.len, err))) return rc;
            c->unc += (int64_t)(w->tc.len + c->dict.len);
            c->comp += (int64_t)(w->tc.len + w->cbuf.len);
            c->encodings |= 1u << ENC_PLAIN;
        }
        m->data_off = w->off;
        int rc = wr(w, c->chunk.p, c->chunk.len, err);
        if (rc) return rc;
        m->num_values = c->num_values;
        m->nulls = c->nulls;
        m->unc = c->unc;
        m->comp = c->comp;
        m->encodings = c->encodings;
        stat_bytes(m, c);
        rg->unc += c->unc;
        rg->comp += c->comp;
        /* the next chunk starts from scratch, dictionary included */
        c->chunk.len = 0;
        c->num_values = c->nulls = c->unc = c->comp = 0;
        c->encodings = 0;
        c->has_minmax = 0;
        if (c->kind == K_BYTES) {
            dict_reset(c);
            c->dict_on = 1;
        }
    }
    w->rg_rows = 0;
    return SS_OK;
}

static size_t buffered_bytes(const struct ss_pq_writer *w) {
    size_t b = 0;
    for (int j = 0; j < w->tbl->ncols; j++) {
        const struct col *c = &w->cols[j];
        b += c->chunk.len + c->vals.len + c->dict.len + c->idx_n / 2;
    }
    return b;
}

/* ---- footer -------------------------------------------------------------- */

static void schema_element(struct ss_tc *tc, const struct ss_column *cd) {
    ss_tc_elem_struct_begin(tc);
    int ptype = PT_INT64;
    if (cd->type == SS_COL_STR || cd->type == SS_COL_JSON) ptype = PT_BYTE_ARRAY;
    else if (cd->type == SS_COL_BOOL) ptype = PT_BOOLEAN;
    ss_tc_i32(tc, 1, ptype);
    ss_tc_i32(tc, 3, cd->nullable ? REP_OPTIONAL : REP_REQUIRED);
    ss_tc_string(tc, 4, cd->name);
    switch (cd->type) {
    case SS_COL_STR:
    case SS_COL_JSON:
        ss_tc_i32(tc, 6, CT_UTF8);
        ss_tc_struct_begin(tc, 10);   /* LogicalType */
        ss_tc_struct_begin(tc, 1);    /* STRING */
        ss_tc_struct_end(tc);
        ss_tc_struct_end(tc);
        break;
    case SS_COL_MONEY:
    case SS_COL_RATIO: {
        int scale = cd->type == SS_COL_MONEY ? 2 : 4;
        ss_tc_i32(tc, 6, CT_DECIMAL);
        ss_tc_i32(tc, 7, scale);
        ss_tc_i32(tc, 8, 18);
        ss_tc_struct_begin(tc, 10);
        ss_tc_struct_begin(tc, 5);    /* DECIMAL */
        ss_tc_i32(tc, 1, scale);
        ss_tc_i32(tc, 2, 18);
        ss_tc_struct_end(tc);
        ss_tc_struct_end(tc);
        break;
    }
    case SS_COL_TS:
        ss_tc_i32(tc, 6, CT_TIMESTAMP_MILLIS);
        ss_tc_struct_begin(tc, 10);
        ss_tc_struct_begin(tc, 8);    /* TIMESTAMP */
        ss_tc_bool(tc, 1, 1);         /* isAdjustedToUTC */
        ss_tc_struct_begin(tc, 2);    /* unit */
        ss_tc_struct_begin(tc, 1);    /* MILLIS */
        ss_tc_struct_end(tc);
        ss_tc_struct_end(tc);
        ss_tc_struct_end(tc);
        ss_tc_struct_end(tc);
        break;
    default:
        break;
    }
    ss_tc_struct_end(tc);
}

static void column_chunk(struct ss_tc *tc, const struct ss_pq_writer *w, const struct ss_column *cd,
                         const struct chunk_meta *m) {
    int ptype = PT_INT64;
    if (cd->type == SS_COL_STR || cd->type == SS_COL_JSON) ptype = PT_BYTE_ARRAY;
    else if (cd->type == SS_COL_BOOL) ptype = PT_BOOLEAN;
    ss_tc_elem_struct_begin(tc);
    ss_tc_i64(tc, 2, 0);              /* file_offset: no metadata outside the footer */
    ss_tc_struct_begin(tc, 3);        /* ColumnMetaData */
    ss_tc_i32(tc, 1, ptype);
    uint32_t nenc = (uint32_t)__builtin_popcount(m->encodings);
    ss_tc_list_begin(tc, 2, SS_TC_I32, nenc);
    for (int e = 0; e < 32; e++)
        if (m->encodings & (1u << e)) ss_tc_elem_i32(tc, e);
    ss_tc_list_begin(tc, 3, SS_TC_BINARY, 1);
    ss_tc_elem_binary(tc, cd->name, strlen(cd->name));
    ss_tc_i32(tc, 4, (int32_t)w->o.codec);
    ss_tc_i64(tc, 5, m->num_values);
    ss_tc_i64(tc, 6, m->unc);
    ss_tc_i64(tc, 7, m->comp);
    ss_tc_i64(tc, 9, m->data_off);
    if (m->dict_off >= 0) ss_tc_i64(tc, 11, m->dict_off);
    ss_tc_struct_begin(tc, 12);       /* Statistics */
    /* The deprecated min/max use signed order: right for integers and booleans,
     * wrong for strings, so strings carry only min_value/max_value. */
    if (m->has_minmax && ptype != PT_BYTE_ARRAY) {
        ss_tc_binary(tc, 1, m->max, m->maxlen);
        ss_tc_binary(tc, 2, m->min, m->minlen);
    }
    ss_tc_i64(tc, 3, m->nulls);
    if (m->has_minmax) {
        ss_tc_binary(tc, 5, m->max, m->maxlen);
        ss_tc_binary(tc, 6, m->min, m->minlen);
        ss_tc_bool(tc, 7, 1);
        ss_tc_bool(tc, 8, 1);
    }
    ss_tc_struct_end(tc);
    ss_tc_struct_end(tc);             /* ColumnMetaData */
    ss_tc_struct_end(tc);             /* ColumnChunk */
}

static int write_footer(struct ss_pq_writer *w, struct ss_err *err) {
    struct ss_tc *tc = &w->tc;
    int nc = w->tbl->ncols;
    ss_tc_reset(tc);
    ss_tc_i32(tc, 1, 1);              /* version */
    ss_tc_list_begin(tc, 2, SS_TC_STRUCT, (uint32_t)nc + 1);
    ss_tc_elem_struct_begin(tc);      /* root */
    ss_tc_string(tc, 4, "schema");
    ss_tc_i32(tc, 5, nc);
    ss_tc_struct_end(tc);
    for (int j = 0; j < nc; j++) schema_element(tc, &w->tbl->cols[j]);
    ss_tc_i64(tc, 3, w->total_rows);
    ss_tc_list_begin(tc, 4, SS_TC_STRUCT, (uint32_t)w->nrg);
    for (size_t r = 0; r < w->nrg; r++) {
        const struct rg_meta *rg = &w->rgs[r];
        ss_tc_elem_struct_begin(tc);
        ss_tc_list_begin(tc, 1, SS_TC_STRUCT, (uint32_t)nc);
        for (int j = 0; j < nc; j++) column_chunk(tc, w, &w->tbl->cols[j], &rg->cols[j]);
        ss_tc_i64(tc, 2, rg->unc);
        ss_tc_i64(tc, 3, rg->rows);
        ss_tc_i64(tc, 5, rg->file_offset);
        ss_tc_i64(tc, 6, rg->comp);
        if (r <= 32767) ss_tc_i16(tc, 7, (int16_t)r);  /* ordinal (an i16) */
        ss_tc_struct_end(tc);
    }
    ss_tc_string(tc, 6, SS_PQ_CREATED_BY);
    ss_tc_list_begin(tc, 7, SS_TC_STRUCT, (uint32_t)nc);
    for (int j = 0; j < nc; j++) {
        ss_tc_elem_struct_begin(tc);  /* ColumnOrder */
        ss_tc_struct_begin(tc, 1);    /* TYPE_ORDER */
        ss_tc_struct_end(tc);
        ss_tc_struct_end(tc);
    }
    ss_tc_end(tc);
    uint32_t flen = (uint32_t)tc->len;
    int rc;
    if ((rc = wr(w, tc->buf, tc->len, err)) || (rc = wr(w, &flen, 4, err)) || (rc = wr(w, "PAR1", 4, err)))
        return rc;
    return SS_OK;
}

/* ---- API ----------------------------------------------------------------- */

static void writer_free(struct ss_pq_writer *w) {
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    for (int j = 0; w->cols && j < w->tbl->ncols; j++) {
        struct col *c = &w->cols[j];
        ss_free(c->defs);
        ss_free(c->idx);
        ss_free(c->slots);
        ss_free(c->offs);
        ss_pq_buf_free(&c->vals);
        ss_pq_buf_free(&c->dict);
        ss_pq_buf_free(&c->chunk);
        ss_pq_buf_free(&c->smin);
        ss_pq_buf_free(&c->smax);
    }
    ss_free(w->cols);
    ss_buf_free(&w->utf8);
    for (size_t r = 0; r < w->nrg; r++) {
        for (int j = 0; j < w->tbl->ncols; j++) {
            ss_free(w->rgs[r].cols[j].min);
            ss_free(w->rgs[r].cols[j].max);
        }
        ss_free(w->rgs[r].cols);
    }
    ss_free(w->rgs);
    ss_pq_compressor_free(w->comp);
    ss_pq_buf_free(&w->page);
    ss_pq_buf_free(&w->cbuf);
    ss_tc_free(&w->tc);
    ss_free(w->path);
    ss_free(w->tmp);
    ss_free(w);
}

char *ss_pq_temp_path(const char *path) {
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash + 1 - path) : 0, n = strlen(path);
    char *t = ss_malloc(n + 6);
    memcpy(t, path, dir);
    t[dir] = '.';
    memcpy(t + dir + 1, path + dir, n - dir);
    memcpy(t + n + 1, ".tmp", 5);
    return t;
}

int ss_pq_open(struct ss_pq_writer **out, const char *path, const struct ss_table *tbl,
               const struct ss_pq_opts *opts, struct ss_err *err) {
    char *tmp = ss_pq_temp_path(path);
    int rc = ss_pq_open_at(out, path, tmp, tbl, opts, err);
    ss_free(tmp);
    return rc;
}

int ss_pq_open_at(struct ss_pq_writer **out, const char *path, const char *tmp, const struct ss_table *tbl,
                  const struct ss_pq_opts *opts, struct ss_err *err) {
    *out = NULL;
    if (opts->codec != SS_PQ_UNCOMPRESSED && opts->codec != SS_PQ_SNAPPY && opts->codec != SS_PQ_ZSTD)
        return ss_err_set(err, SS_EUSAGE, "parquet: unknown compression codec %d", (int)opts->codec);
    struct ss_pq_writer *w = ss_calloc(1, sizeof *w);
    w->fd = -1;
    w->tbl = tbl;
    w->o = *opts;
    struct ss_pq_opts d;
    ss_pq_opts_default(&d);
    if (!w->o.zstd_level) w->o.zstd_level = d.zstd_level;
    if (!w->o.row_group_rows) w->o.row_group_rows = d.row_group_rows;
    if (!w->o.row_group_bytes) w->o.row_group_bytes = d.row_group_bytes;
    if (!w->o.page_rows) w->o.page_rows = d.page_rows;
    if (!w->o.page_bytes) w->o.page_bytes = d.page_bytes;
    if (!w->o.dict_max_bytes) w->o.dict_max_bytes = d.dict_max_bytes;
    w->path = ss_strdup(path);
    w->tmp = ss_strdup(tmp);
    w->comp = ss_pq_compressor_new(w->o.codec, w->o.zstd_level);
    ss_tc_init(&w->tc);
    w->cols = ss_calloc((size_t)tbl->ncols, sizeof *w->cols);
    for (int j = 0; j < tbl->ncols; j++) {
        struct col *c = &w->cols[j];
        c->c = &tbl->cols[j];
        c->optional = c->c->nullable != 0;
        switch (c->c->type) {
        case SS_COL_STR:
        case SS_COL_JSON: c->kind = K_BYTES; break;
        case SS_COL_BOOL: c->kind = K_BOOL; break;
        default: c->kind = K_I64; break;
        }
        if (c->optional) c->defs = ss_malloc(w->o.page_rows * sizeof *c->defs);
        if (c->kind == K_BYTES) {
            c->idx = ss_malloc(w->o.page_rows * sizeof *c->idx);
            c->dict_on = 1;
            dict_grow(c);
        }
    }
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int e = errno;
        ss_err_set(err, SS_EIO, "parquet: create %s: %s", w->tmp, strerror(e));
        if (err) err->retriable = errno_retriable(e);
        writer_free(w);
        return SS_EIO;
    }
    int rc = wr(w, "PAR1", 4, err);
    if (rc) {
        writer_free(w);
        return rc;
    }
    *out = w;
    return SS_OK;
}

int ss_pq_write(struct ss_pq_writer *w, const struct ss_val *rows, const uint32_t *idx, size_t n,
                struct ss_err *err) {
    if (w->dead) return ss_err_set(err, SS_ERROR, "parquet: %s: writer already failed", w->path);
    size_t nc = (size_t)w->tbl->ncols;
    while (n > 0) {
        size_t take = w->o.row_group_rows - (size_t)w->rg_rows;
        if (take > 4096) take = 4096;
        if (take > n) take = n;
        for (size_t j = 0; j < nc; j++) {
            int rc = write_col(w, (int)j, rows, idx, take, err);
            if (rc) return rc;
        }
        w->rg_rows += (int64_t)take;
        w->total_rows += (int64_t)take;
        if (idx) idx += take;
        else rows += take * nc;
        n -= take;
        if ((size_t)w->rg_rows >= w->o.row_group_rows || buffered_bytes(w) >= w->o.row_group_bytes) {
            int rc = flush_row_group(w, err);
            if (rc) return rc;
        }
    }
    return SS_OK;
}

int ss_pq_close(struct ss_pq_writer *w, struct ss_err *err) {
    int rc = SS_OK;
    if (w->dead) {
        rc = ss_err_set(err, SS_ERROR, "parquet: %s: writer already failed", w->path);
        goto out;
    }
    if (w->rg_rows > 0 && (rc = flush_row_group(w, err))) goto out;
    if ((rc = write_footer(w, err))) goto out;
    if (fsync(w->fd) != 0) {
        rc = fail_io(w, "fsync", w->tmp, errno, err);
        goto out;
    }
    int fd = w->fd;
    w->fd = -1;
    if (close(fd) != 0) {
        rc = fail_io(w, "close", w->tmp, errno, err);
        goto out;
    }
    if (rename(w->tmp, w->path) != 0) {
        rc = fail_io(w, "rename to", w->path, errno, err);
        goto out;
    }
out:
    if (rc) die(w);
    writer_free(w);
    return rc;
}

void ss_pq_abort(struct ss_pq_writer *w) {
    if (!w) return;
    die(w);
    writer_free(w);
}

int64_t ss_pq_rows(const struct ss_pq_writer *w) { return w->total_rows; }

int64_t ss_pq_bytes(const struct ss_pq_writer *w) { return w->off + (int64_t)buffered_bytes(w); }

int ss_pq_fsync_dir(const char *dir, struct ss_err *err) {
    int rc = ss_fsync_dir(dir, err);
    if (rc) ss_err_wrap(err, "parquet");
    return rc;
}
