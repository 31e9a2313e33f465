/* pqread.c — the lake's Parquet reader (see pqread.h for what it accepts). It sits at
 * the input of `shopstream report`: lake files in, struct ss_val rows out.
 *
 * The file is mapped; the footer (Thrift compact FileMetaData) is decoded by a small
 * generic reader that skips every field it does not need, so footers from a newer
 * writer version with extra fields still read. Each column keeps its own cursor into
 * its chunk: pages are decompressed one at a time into buffers that live for the row
 * group, and values are decoded a batch at a time straight into the row-major output,
 * so memory stays bounded by one row group's pages however large the file. */
#include "pqread.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <snappy-c.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "../core/alloc.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Parquet reader loads PLAIN values with memcpy and needs a little-endian host"
#endif

/* parquet.thrift enums */
enum { PT_BOOLEAN = 0, PT_INT64 = 2, PT_BYTE_ARRAY = 6 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1 };
enum { ENC_PLAIN = 0, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };
enum { CODEC_NONE = 0, CODEC_SNAPPY = 1, CODEC_ZSTD = 6 };
/* Thrift compact type codes */
enum { TC_STOP, TC_TRUE, TC_FALSE, TC_I8, TC_I16, TC_I32, TC_I64, TC_DOUBLE, TC_BINARY, TC_LIST, TC_SET,
       TC_MAP, TC_STRUCT };

#define BATCH 4096
#define MAX_NEST 32

enum kind { K_I64, K_BOOL, K_BYTES };

/* ---- Thrift compact protocol, reading ------------------------------------- */

struct tr {
    const uint8_t *p, *end;
    int bad;
};

static uint64_t tr_uvarint(struct tr *t) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && t->p < t->end; shift += 7) {
        uint8_t b = *t->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    t->bad = 1;
    return 0;
}

static int64_t tr_zigzag(struct tr *t) {
    uint64_t u = tr_uvarint(t);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* The next field header of the current struct: 0 at its stop byte (or on error). */
static int tr_field(struct tr *t, int16_t *last, int16_t *id, int *type) {
    if (t->p >= t->end) {
        t->bad = 1;
        return 0;
    }
    uint8_t b = *t->p++;
    if (b == TC_STOP) return 0;
    *type = b & 0x0f;
    int delta = b >> 4;
    *id = delta ? (int16_t)(*last + delta) : (int16_t)tr_zigzag(t);
    *last = *id;
    return !t->bad;
}

static uint32_t tr_list(struct tr *t, int *elem) {
    if (t->p >= t->end) {
        t->bad = 1;
        return 0;
    }
    uint8_t b = *t->p++;
    *elem = b & 0x0f;
    uint64_t n = b >> 4;
    if (n == 15) n = tr_uvarint(t);
    if (n > (uint64_t)(t->end - t->p)) t->bad = 1;  /* every element takes >= 1 byte... */
    return t->bad ? 0 : (uint32_t)n;
}

static void tr_skip(struct tr *t, int type, int depth);

static void tr_skip_struct(struct tr *t, int depth) {
    int16_t last = 0, id;
    int type;
    while (!t->bad && tr_field(t, &last, &id, &type)) tr_skip(t, type, depth + 1);
}

/* Skips one value; `type` as found in a field header (booleans there carry no byte). */
static void tr_skip(struct tr *t, int type, int depth) {
    if (depth > MAX_NEST) {
        t->bad = 1;
        return;
    }
    switch (type) {
    case TC_TRUE:
    case TC_FALSE: break;
    case TC_I8:
        if (t->p >= t->end) t->bad = 1;
        else t->p++;
        break;
    case TC_I16:
    case TC_I32:
    case TC_I64: tr_uvarint(t); break;
    case TC_DOUBLE:
        if (t->end - t->p < 8) t->bad = 1;
        else t->p += 8;
        break;
    case TC_BINARY: {
        uint64_t n = tr_uvarint(t);
        if (t->bad || n > (uint64_t)(t->end - t->p)) t->bad = 1;
        else t->p += n;
        break;
    }
    case TC_LIST:
    case TC_SET: {
        int elem;
        uint32_t n = tr_list(t, &elem);
        for (uint32_t i = 0; i < n && !t->bad; i++) {
            /* a boolean list element is one byte */
            if (elem == TC_TRUE || elem == TC_FALSE) tr_skip(t, TC_I8, depth + 1);
            else tr_skip(t, elem, depth + 1);
        }
        break;
    }
    case TC_MAP: {
        uint64_t n = tr_uvarint(t);
        if (t->bad || n == 0) break;
        if (t->p >= t->end || n > (uint64_t)(t->end - t->p)) {
            t->bad = 1;
            break;
        }
        uint8_t kv = *t->p++;
        int kt = kv >> 4, vt = kv & 0x0f;
        if (kt == TC_TRUE || kt == TC_FALSE) kt = TC_I8;
        if (vt == TC_TRUE || vt == TC_FALSE) vt = TC_I8;
        for (uint64_t i = 0; i < n && !t->bad; i++) {
            tr_skip(t, kt, depth + 1);
            tr_skip(t, vt, depth + 1);
        }
        break;
    }
    case TC_STRUCT: tr_skip_struct(t, depth); break;
    default: t->bad = 1; break;
    }
}

/* Integer field values; a field of an unexpected type makes the message bad. */
static int64_t tr_int(struct tr *t, int type) {
    if (type != TC_I8 && type != TC_I16 && type != TC_I32 && type != TC_I64) {
        t->bad = 1;
        return 0;
    }
    if (type == TC_I8) {
        if (t->p >= t->end) {
            t->bad = 1;
            return 0;
        }
        return (int8_t)*t->p++;
    }
    return tr_zigzag(t);
}

static const uint8_t *tr_binary(struct tr *t, int type, uint32_t *len) {
    if (type != TC_BINARY) {
        t->bad = 1;
        return NULL;
    }
    uint64_t n = tr_uvarint(t);
    if (t->bad || n > (uint64_t)(t->end - t->p)) {
        t->bad = 1;
        return NULL;
    }
    const uint8_t *s = t->p;
    t->p += n;
    *len = (uint32_t)n;
    return s;
}

/* ---- file structures ------------------------------------------------------ */

struct chunk {
    int64_t num_values, data_off, dict_off, comp_size;
    int codec, ptype;
};

struct rowgroup {
    int64_t rows;
    struct chunk *cols;
};

/* The RLE / bit-packed hybrid decoder (definition levels, dictionary indices). */
struct hyb {
    const uint8_t *p, *end;
    int width;
    uint32_t rle_left, rle_val;
    uint32_t bp_left;            /* values left in the current bit-packed run */
    const uint8_t *bp, *bp_end;  /* its bytes */
    uint64_t bitpos;
};

struct col {
    const struct ss_column *cd;
    enum kind kind;
    int optional;
    int64_t mul;                 /* DECIMAL(18,2) cents -> ten-thousandths: 100 */
    const uint8_t *cp, *cend;    /* the chunk's pages not yet read */
    int64_t chunk_left;          /* values of the chunk not yet decoded */
    uint32_t page_left;          /* values (nulls included) left in the current page */
    int enc;
    int data_seen;               /* a data page was read: no dictionary page may follow */
    struct hyb def, idx;
    const uint8_t *vp, *vend;    /* PLAIN values */
    uint64_t bitpos;             /* PLAIN booleans */
    const char **ds;             /* the chunk's dictionary */
    uint32_t *dl;
    uint32_t nd, dcap;
};

struct buf {
    uint8_t *p;
    size_t cap;
};

struct ss_pqr {
    char *path;
    const struct ss_table *tbl;
    const uint8_t *map;
    size_t size;
    int mapped;                  /* map is our mmap of the file (not the caller's memory) */
    int64_t num_rows;
    struct rowgroup *rgs;
    size_t nrg, cur;             /* cur: index of the row group being read + 1 */
    int64_t rg_left;
    struct col *cols;
    struct ss_val *rows;         /* BATCH * ncols */
    uint32_t *defs, *ix;         /* BATCH each */
    struct buf *pool;            /* decompressed pages of the current row group */
    size_t npool, used;
    ZSTD_DCtx *dz;
};

static int corrupt(struct ss_pqr *r, struct ss_err *err, const char *what) {
    return ss_err_set(err, SS_ERROR, "%s: corrupt or unsupported Parquet: %s", r->path, what);
}

static int phys_type(const struct ss_column *cd) {
    if (cd->type == SS_COL_STR || cd->type == SS_COL_JSON) return PT_BYTE_ARRAY;
    if (cd->type == SS_COL_BOOL) return PT_BOOLEAN;
    return PT_INT64;
}

static const char *ptype_name(int t) {
    switch (t) {
    case PT_BOOLEAN: return "BOOLEAN";
    case 1: return "INT32";
    case PT_INT64: return "INT64";
    case 3: return "INT96";
    case 4: return "FLOAT";
    case 5: return "DOUBLE";
    case PT_BYTE_ARRAY: return "BYTE_ARRAY";
    case 7: return "FIXED_LEN_BYTE_ARRAY";
    default: return "unknown";
    }
}

/* ---- footer ----------------------------------------------------------------- */

struct schema_el {
    int type, rep, nchildren, scale;
    const uint8_t *name;
    uint32_t namelen;
};

static void parse_schema_el(struct tr *t, struct schema_el *e) {
    memset(e, 0, sizeof *e);
    e->type = e->rep = e->scale = -1;
    int16_t last = 0, id;
    int type;
    while (tr_field(t, &last, &id, &type)) {
        switch (id) {
        case 1: e->type = (int)tr_int(t, type); break;
        case 3: e->rep = (int)tr_int(t, type); break;
        case 4: e->name = tr_binary(t, type, &e->namelen); break;
        case 5: e->nchildren = (int)tr_int(t, type); break;
        case 7: e->scale = (int)tr_int(t, type); break;
        default: tr_skip(t, type, 1); break;
        }
        if (t->bad) return;
    }
}

static int check_schema(struct ss_pqr *r, struct tr *t, struct ss_err *err) {
    const struct ss_table *tb = r->tbl;
    int elem;
    uint32_t n = tr_list(t, &elem);
    if (t->bad || elem != TC_STRUCT) return corrupt(r, err, "bad schema list in the footer");
    if (n != (uint32_t)tb->ncols + 1)
        return ss_err_set(err, SS_ERROR, "%s: %u columns, but table %s has %d (not a %s file of this version)",
                          r->path, n ? n - 1 : 0, tb->name, tb->ncols, tb->name);
    for (uint32_t k = 0; k < n; k++) {
        struct schema_el e;
        parse_schema_el(t, &e);
        if (t->bad) return corrupt(r, err, "bad schema element in the footer");
        if (k == 0) {
            if (e.nchildren != tb->ncols) return corrupt(r, err, "nested schema (the root is not flat)");
            continue;
        }
        const struct ss_column *cd = &tb->cols[k - 1];
        if (e.namelen != strlen(cd->name) || memcmp(e.name, cd->name, e.namelen) != 0)
            return ss_err_set(err, SS_ERROR, "%s: column %u is \"%.*s\", table %s expects \"%s\"", r->path, k,
                              (int)e.namelen, e.name ? (const char *)e.name : "", tb->name, cd->name);
        if (e.nchildren > 0) return ss_err_set(err, SS_ERROR, "%s: column %s is nested (unsupported)", r->path, cd->name);
        if (e.type != phys_type(cd))
            return ss_err_set(err, SS_ERROR, "%s: column %s has physical type %s, expected %s", r->path, cd->name,
                              ptype_name(e.type), ptype_name(phys_type(cd)));
        int want_rep = cd->nullable ? REP_OPTIONAL : REP_REQUIRED;
        if (e.rep != want_rep)
            return ss_err_set(err, SS_ERROR, "%s: column %s is %s, expected %s", r->path, cd->name,
                              e.rep == 2 ? "REPEATED (unsupported)" : e.rep == REP_OPTIONAL ? "OPTIONAL" : "REQUIRED",
                              want_rep == REP_OPTIONAL ? "OPTIONAL" : "REQUIRED");
        int want_scale = cd->type == SS_COL_MONEY ? 2 : cd->type == SS_COL_RATIO ? 4 : -1;
        if (want_scale >= 0 && e.scale != want_scale)
            return ss_err_set(err, SS_ERROR, "%s: column %s has DECIMAL scale %d, expected %d", r->path, cd->name,
                              e.scale, want_scale);
    }
    return SS_OK;
}

static int parse_col_meta(struct ss_pqr *r, struct tr *t, struct chunk *c, struct ss_err *err) {
    int16_t last = 0, id;
    int type;
    c->codec = c->ptype = -1;
    c->num_values = c->data_off = c->comp_size = -1;
    c->dict_off = -1;
    while (tr_field(t, &last, &id, &type)) {
        switch (id) {
        case 1: c->ptype = (int)tr_int(t, type); break;
        case 4: c->codec = (int)tr_int(t, type); break;
        case 5: c->num_values = tr_int(t, type); break;
        case 7: c->comp_size = tr_int(t, type); break;
        case 9: c->data_off = tr_int(t, type); break;
        case 11: c->dict_off = tr_int(t, type); break;
        default: tr_skip(t, type, 2); break;
        }
        if (t->bad) break;
    }
    if (t->bad) return corrupt(r, err, "bad ColumnMetaData in the footer");
    return SS_OK;
}

static int parse_row_group(struct ss_pqr *r, struct tr *t, struct rowgroup *rg, size_t gi, struct ss_err *err) {
    int nc = r->tbl->ncols;
    int16_t last = 0, id;
    int type;
    int ncols_seen = -1;
    rg->rows = -1;
    rg->cols = ss_calloc((size_t)nc, sizeof *rg->cols);
    while (tr_field(t, &last, &id, &type)) {
        if (id == 1 && type == TC_LIST) {
            int elem;
            uint32_t n = tr_list(t, &elem);
            if (t->bad || elem != TC_STRUCT || n != (uint32_t)nc)
                return corrupt(r, err, "row group column list does not match the schema");
            for (uint32_t j = 0; j < n; j++) {
                int16_t l2 = 0, id2;
                int ty2, have_meta = 0;
                while (tr_field(t, &l2, &id2, &ty2)) {
                    if (id2 == 1) {
                        return ss_err_set(err, SS_ERROR,
                                          "%s: column %s of row group %zu lives in another file (unsupported)",
                                          r->path, r->tbl->cols[j].name, gi);
                    } else if (id2 == 3 && ty2 == TC_STRUCT) {
                        int rc = parse_col_meta(r, t, &rg->cols[j], err);
                        if (rc) return rc;
                        have_meta = 1;
                    } else {
                        tr_skip(t, ty2, 2);
                    }
                    if (t->bad) break;
                }
                if (t->bad) return corrupt(r, err, "bad ColumnChunk in the footer");
                if (!have_meta) return corrupt(r, err, "a column chunk without metadata");
            }
            ncols_seen = (int)n;
        } else if (id == 3) {
            rg->rows = tr_int(t, type);
        } else {
            tr_skip(t, type, 1);
        }
        if (t->bad) break;
    }
    if (t->bad || ncols_seen != nc || rg->rows < 0) return corrupt(r, err, "bad RowGroup in the footer");
    for (int j = 0; j < nc; j++) {
        struct chunk *c = &rg->cols[j];
        const char *name = r->tbl->cols[j].name;
        if (c->codec != CODEC_NONE && c->codec != CODEC_SNAPPY && c->codec != CODEC_ZSTD)
            return ss_err_set(err, SS_ERROR,
                              "%s: column %s uses compression codec %d (supported: none, snappy, zstd)", r->path,
                              name, c->codec);
        if (c->ptype != phys_type(&r->tbl->cols[j]))
            return corrupt(r, err, "column chunk type differs from the schema");
        if (c->num_values != rg->rows)
            return ss_err_set(err, SS_ERROR, "%s: column %s of row group %zu has %lld values for %lld rows",
                              r->path, name, gi, (long long)c->num_values, (long long)rg->rows);
        int64_t start = c->dict_off >= 0 ? c->dict_off : c->data_off;
        if (c->data_off < 4 || start < 4 || c->comp_size < 0 || start > (int64_t)r->size ||
            c->comp_size > (int64_t)r->size - start)
            return ss_err_set(err, SS_ERROR, "%s: column %s of row group %zu points outside the file", r->path,
                              name, gi);
    }
    return SS_OK;
}

static int parse_footer(struct ss_pqr *r, struct ss_err *err) {
    if (r->size < 12 || memcmp(r->map, "PAR1", 4) != 0 || memcmp(r->map + r->size - 4, "PAR1", 4) != 0)
        return ss_err_set(err, SS_ERROR, "%s: not a Parquet file (no PAR1 magic)", r->path);
    uint32_t flen;
    memcpy(&flen, r->map + r->size - 8, 4);
    if ((uint64_t)flen > r->size - 12) return corrupt(r, err, "footer length exceeds the file");
    struct tr t = {r->map + r->size - 8 - flen, r->map + r->size - 8, 0};
    int16_t last = 0, id;
    int type, have_schema = 0;
    r->num_rows = -1;
    while (tr_field(&t, &last, &id, &type)) {
        if (id == 2 && type == TC_LIST) {
            int rc = check_schema(r, &t, err);
            if (rc) return rc;
            have_schema = 1;
        } else if (id == 3) {
            r->num_rows = tr_int(&t, type);
        } else if (id == 4 && type == TC_LIST) {
            int elem;
            uint32_t n = tr_list(&t, &elem);
            if (t.bad || elem != TC_STRUCT) return corrupt(r, err, "bad row group list");
            /* a second list would replace the first's block under the first's count */
            if (r->rgs) return corrupt(r, err, "row group list given more than once");
            r->rgs = ss_calloc(n ? n : 1, sizeof *r->rgs);
            for (uint32_t g = 0; g < n; g++) {
                r->nrg = g + 1;  /* so close frees what was allocated */
                int rc = parse_row_group(r, &t, &r->rgs[g], g, err);
                if (rc) return rc;
            }
        } else {
            tr_skip(&t, type, 1);
        }
        if (t.bad) break;
    }
    if (t.bad) return corrupt(r, err, "undecodable footer");
    if (!have_schema || r->num_rows < 0) return corrupt(r, err, "footer without schema or row count");
    int64_t sum = 0;
    for (size_t g = 0; g < r->nrg; g++)
        if (__builtin_add_overflow(sum, r->rgs[g].rows, &sum))
            return ss_err_set(err, SS_ERROR, "%s: row groups hold more than 2^63 rows together, the footer says %lld",
                              r->path, (long long)r->num_rows);
    if (sum != r->num_rows)
        return ss_err_set(err, SS_ERROR, "%s: row groups hold %lld rows, the footer says %lld", r->path,
                          (long long)sum, (long long)r->num_rows);
    return SS_OK;
}

/* ---- pages -------------------------------------------------------------------- */

static uint8_t *pool_get(struct ss_pqr *r, size_t n) {
    if (r->used == r->npool) {
        SS_GROW(r->pool, r->npool, r->used + 1);
        for (size_t i = r->used; i < r->npool; i++) r->pool[i] = (struct buf){NULL, 0};
    }
    struct buf *b = &r->pool[r->used++];
    if (b->cap < n) {
        ss_free(b->p);
        b->cap = n < 4096 ? 4096 : n;
        b->p = ss_malloc(b->cap);
    }
    return b->p;
}

static int hyb_init(struct hyb *h, const uint8_t *p, const uint8_t *end, int width) {
    memset(h, 0, sizeof *h);
    h->p = p;
    h->end = end;
    h->width = width;
    return width >= 0 && width <= 32 ? 0 : -1;
}

/* Reads n values; -1 when the encoded data ends early or is malformed. */
static int hyb_get(struct hyb *h, uint32_t *out, size_t n) {
    const int w = h->width;
    const uint64_t mask = w == 32 ? 0xffffffffu : ((1ull << w) - 1);
    while (n) {
        if (h->rle_left) {
            size_t k = n < h->rle_left ? n : h->rle_left;
            uint32_t v = h->rle_val;
            for (size_t i = 0; i < k; i++) out[i] = v;
            out += k;
            n -= k;
            h->rle_left -= (uint32_t)k;
            continue;
        }
        if (h->bp_left) {
            size_t k = n < h->bp_left ? n : h->bp_left;
            const uint8_t *b = h->bp;
            size_t avail = (size_t)(h->bp_end - b);
            uint64_t pos = h->bitpos;
            for (size_t i = 0; i < k; i++, pos += (uint64_t)w) {
                size_t at = (size_t)(pos >> 3);
                uint64_t x;
                if (at + 8 <= avail) {
                    memcpy(&x, b + at, 8);
                } else {
                    x = 0;
                    for (size_t q = 0; at + q < avail && q < 8; q++) x |= (uint64_t)b[at + q] << (8 * q);
                }
                out[i] = (uint32_t)((x >> (pos & 7)) & mask);
            }
            h->bitpos = pos;
            out += k;
            n -= k;
            h->bp_left -= (uint32_t)k;
            continue;
        }
        struct tr t = {h->p, h->end, 0};
        uint64_t hdr = tr_uvarint(&t);
        if (t.bad) return -1;
        h->p = t.p;
        if (hdr & 1) {
            uint64_t groups = hdr >> 1;
            uint64_t bytes = groups * (uint64_t)w;
            if (groups == 0 || groups > (1u << 28) || bytes > (uint64_t)(h->end - h->p)) return -1;
            h->bp = h->p;
            h->bp_end = h->p + bytes;
            h->bitpos = 0;
            h->bp_left = (uint32_t)(groups * 8);
            h->p += bytes;
        } else {
            uint64_t cnt = hdr >> 1;
            size_t vb = ((size_t)w + 7) / 8;
            if (cnt == 0 || cnt > UINT32_MAX || (size_t)(h->end - h->p) < vb) return -1;
            uint32_t v = 0;
            for (size_t q = 0; q < vb; q++) v |= (uint32_t)h->p[q] << (8 * q);
            if (v > mask) return -1;
            h->p += vb;
            h->rle_left = (uint32_t)cnt;
            h->rle_val = v;
        }
    }
    return 0;
}

struct page_hdr {
    int type, unc, comp, nvalues, enc, def_enc;
};

static int parse_page_header(struct tr *t, struct page_hdr *ph) {
    memset(ph, 0, sizeof *ph);
    ph->type = ph->unc = ph->comp = ph->nvalues = ph->enc = ph->def_enc = -1;
    int16_t last = 0, id;
    int type;
    while (tr_field(t, &last, &id, &type)) {
        if (id == 1) ph->type = (int)tr_int(t, type);
        else if (id == 2) ph->unc = (int)tr_int(t, type);
        else if (id == 3) ph->comp = (int)tr_int(t, type);
        else if ((id == 5 || id == 7) && type == TC_STRUCT) {
            int16_t l2 = 0, id2;
            int ty2;
            while (tr_field(t, &l2, &id2, &ty2)) {
                if (id2 == 1) ph->nvalues = (int)tr_int(t, ty2);
                else if (id2 == 2) ph->enc = (int)tr_int(t, ty2);
                else if (id2 == 3 && id == 5) ph->def_enc = (int)tr_int(t, ty2);
                else tr_skip(t, ty2, 2);
                if (t->bad) return -1;
            }
        } else {
            tr_skip(t, type, 1);
        }
        if (t->bad) return -1;
    }
    return t->bad ? -1 : 0;
}

static int col_err(struct ss_pqr *r, struct col *c, struct ss_err *err, const char *fmt, long long a) {
    char what[200];
    snprintf(what, sizeof what, fmt, a);
    return ss_err_set(err, SS_ERROR, "%s: column %s, row group %zu: %s", r->path, c->cd->name, r->cur - 1, what);
}

static int decompress(struct ss_pqr *r, struct col *c, int codec, const uint8_t *src, size_t n, size_t unc,
                      const uint8_t **out, struct ss_err *err) {
    if (codec == CODEC_NONE) {
        if (n != unc) return col_err(r, c, err, "uncompressed page of %lld bytes declares another size", (long long)n);
        *out = src;
        return SS_OK;
    }
    /* The declared size is only a claim until the page decompresses: bound it by what n
     * bytes can expand to before allocating it (a few corrupt bytes declaring 2 GiB).
     * Snappy's densest element copies 64 bytes for 3; a zstd block of up to 128 KiB
     * takes at least 4 bytes (a 3-byte header and one RLE byte). */
    const uint64_t most = codec == CODEC_SNAPPY ? (uint64_t)n * 32 : ((uint64_t)n / 4) * 128 * 1024;
    if (unc > most)
        return col_err(r, c, err, codec == CODEC_SNAPPY ? "snappy page of %lld bytes cannot hold its declared size"
                                                        : "zstd page of %lld bytes cannot hold its declared size",
                       (long long)n);
    if (codec == CODEC_SNAPPY) {
        size_t got = 0;
        if (snappy_uncompressed_length((const char *)src, n, &got) != SNAPPY_OK || got != unc)
            return col_err(r, c, err, "snappy page does not decompress to its declared %lld bytes", (long long)unc);
    }
    uint8_t *dst = pool_get(r, unc ? unc : 1);
    if (codec == CODEC_SNAPPY) {
        size_t got = unc;
        if (snappy_uncompress((const char *)src, n, (char *)dst, &got) != SNAPPY_OK || got != unc)
            return col_err(r, c, err, "snappy page does not decompress (%lld bytes)", (long long)n);
    } else {
        if (!r->dz) r->dz = ZSTD_createDCtx();
        ss_assert(r->dz != NULL);
        size_t got = ZSTD_decompressDCtx(r->dz, dst, unc, src, n);
        if (ZSTD_isError(got) || got != unc)
            return col_err(r, c, err, "zstd page does not decompress to its declared %lld bytes", (long long)unc);
    }
    *out = dst;
    return SS_OK;
}

static int read_dict(struct ss_pqr *r, struct col *c, const uint8_t *p, const uint8_t *end, int n,
                     struct ss_err *err) {
    /* every entry takes at least its 4-byte length: a count the page cannot hold is
     * refused before it sizes the arrays below */
    if ((uint64_t)n > (uint64_t)(end - p) / 4)
        return col_err(r, c, err, "dictionary page declares %lld entries, more than its bytes hold", n);
    if ((uint32_t)n > c->dcap) {
        ss_free(c->ds);
        ss_free(c->dl);
        c->dcap = (uint32_t)n;
        c->ds = ss_malloc((size_t)n * sizeof *c->ds);
        c->dl = ss_malloc((size_t)n * sizeof *c->dl);
    }
    for (int k = 0; k < n; k++) {
        uint32_t len;
        if (end - p < 4) return col_err(r, c, err, "dictionary page ends at entry %lld", k);
        memcpy(&len, p, 4);
        p += 4;
        if ((size_t)(end - p) < len) return col_err(r, c, err, "dictionary entry %lld runs past its page", k);
        c->ds[k] = (const char *)p;
        c->dl[k] = len;
        p += len;
    }
    c->nd = (uint32_t)n;
    return SS_OK;
}

/* Moves c to its next data page (reading a dictionary page first if one comes). */
static int next_page(struct ss_pqr *r, struct col *c, int codec, struct ss_err *err) {
    for (;;) {
        if (c->cp >= c->cend) return col_err(r, c, err, "the chunk ends with %lld values still due", c->chunk_left);
        struct tr t = {c->cp, c->cend, 0};
        struct page_hdr ph;
        if (parse_page_header(&t, &ph) || ph.unc < 0 || ph.comp < 0 || ph.comp > c->cend - t.p)
            return col_err(r, c, err, "undecodable page header at offset %lld", (long long)(c->cp - r->map));
        const uint8_t *payload = t.p;
        c->cp = t.p + ph.comp;
        if (ph.type != PAGE_DATA && ph.type != PAGE_DICTIONARY)
            return col_err(r, c, err,
                           ph.type == 3 ? "data page v2 (type %lld) is not supported: only data page v1"
                                        : "unsupported page type %lld",
                           ph.type);
        const uint8_t *data = NULL;
        int rc = decompress(r, c, codec, payload, (size_t)ph.comp, (size_t)ph.unc, &data, err);
        if (rc) return rc;
        const uint8_t *end = data + ph.unc;
        if (ph.type == PAGE_DICTIONARY) {
            if (c->kind != K_BYTES || c->data_seen || c->nd)
                return col_err(r, c, err, "unexpected dictionary page (%lld entries)", ph.nvalues);
            if (ph.enc != ENC_PLAIN)
                return col_err(r, c, err, "dictionary page encoding %lld (only PLAIN)", ph.enc);
            if (ph.nvalues < 0) return col_err(r, c, err, "dictionary of %lld entries", ph.nvalues);
            rc = read_dict(r, c, data, end, ph.nvalues, err);
            if (rc) return rc;
            continue;
        }
        c->data_seen = 1;
        if (ph.nvalues < 0 || ph.nvalues > c->chunk_left)
            return col_err(r, c, err, "data page of %lld values overruns the chunk", ph.nvalues);
        if (ph.enc != ENC_PLAIN && ph.enc != ENC_RLE_DICTIONARY)
            return col_err(r, c, err, "value encoding %lld is not supported (only PLAIN and RLE_DICTIONARY)", ph.enc);
        if (ph.enc == ENC_RLE_DICTIONARY && (c->kind != K_BYTES || c->nd == 0))
            return col_err(r, c, err, "dictionary-encoded page without a dictionary (%lld values)", ph.nvalues);
        const uint8_t *p = data;
        if (c->optional) {
            if (ph.def_enc != ENC_RLE)
                return col_err(r, c, err, "definition level encoding %lld (only RLE)", ph.def_enc);
            uint32_t dlen;
            if (end - p < 4) return col_err(r, c, err, "page of %lld bytes too short for its levels", ph.unc);
            memcpy(&dlen, p, 4);
            p += 4;
            if ((size_t)(end - p) < dlen) return col_err(r, c, err, "definition levels overrun the page (%lld)", dlen);
            hyb_init(&c->def, p, p + dlen, 1);
            p += dlen;
        }
        c->enc = ph.enc;
        if (ph.enc == ENC_RLE_DICTIONARY) {
            if (p >= end && ph.nvalues > 0) {
                /* only nulls: no width byte is needed, but our writer never does this */
                hyb_init(&c->idx, p, p, 0);
            } else if (p < end) {
                int w = *p++;
                if (hyb_init(&c->idx, p, end, w)) return col_err(r, c, err, "dictionary index width %lld", w);
            }
        } else {
            c->vp = p;
            c->vend = end;
            c->bitpos = 0;
        }
        c->page_left = (uint32_t)ph.nvalues;
        if (ph.nvalues > 0) return SS_OK;
    }
}

/* Decodes n values of column j into rows[0..n) (stride ncols). */
static int fill_col(struct ss_pqr *r, int j, struct ss_val *rows, size_t n, struct ss_err *err) {
    struct col *c = &r->cols[j];
    const struct chunk *ch = &r->rgs[r->cur - 1].cols[j];
    const size_t nc = (size_t)r->tbl->ncols;
    struct ss_val *v = rows + j;
    while (n) {
        if (!c->page_left) {
            int rc = next_page(r, c, ch->codec, err);
            if (rc) return rc;
        }
        size_t k = n < c->page_left ? n : c->page_left;
        size_t nn = k;
        const uint32_t *defs = NULL;
        if (c->optional) {
            if (hyb_get(&c->def, r->defs, k)) return col_err(r, c, err, "bad definition levels (%lld)", (long long)k);
            nn = 0;
            for (size_t i = 0; i < k; i++) {
                if (r->defs[i] > 1) return col_err(r, c, err, "definition level %lld > 1", r->defs[i]);
                nn += r->defs[i];
            }
            defs = r->defs;
        }
        if (c->kind == K_BYTES && c->enc == ENC_RLE_DICTIONARY) {
            if (hyb_get(&c->idx, r->ix, nn)) return col_err(r, c, err, "bad dictionary indices (%lld)", (long long)nn);
            size_t q = 0;
            for (size_t i = 0; i < k; i++, v += nc) {
                if (defs && !defs[i]) {
                    *v = (struct ss_val){.null = 1};
                    continue;
                }
                uint32_t x = r->ix[q++];
                if (x >= c->nd) return col_err(r, c, err, "dictionary index %lld out of range", x);
                *v = (struct ss_val){.i = (int64_t)x + 1, .s = c->ds[x], .len = c->dl[x]};
            }
        } else if (c->kind == K_BYTES) {
            const uint8_t *p = c->vp, *end = c->vend;
            for (size_t i = 0; i < k; i++, v += nc) {
                if (defs && !defs[i]) {
                    *v = (struct ss_val){.null = 1};
                    continue;
                }
                uint32_t len;
                if (end - p < 4) return col_err(r, c, err, "PLAIN strings end early (%lld left)", (long long)(k - i));
                memcpy(&len, p, 4);
                p += 4;
                if ((size_t)(end - p) < len) return col_err(r, c, err, "PLAIN string of %lld bytes overruns its page", len);
                *v = (struct ss_val){.s = (const char *)p, .len = len};
                p += len;
            }
            c->vp = p;
        } else if (c->kind == K_I64) {
            if ((size_t)(c->vend - c->vp) < nn * 8)
                return col_err(r, c, err, "PLAIN INT64 values end early (%lld due)", (long long)nn);
            const uint8_t *p = c->vp;
            const int64_t mul = c->mul, lim = INT64_MAX / c->mul;
            for (size_t i = 0; i < k; i++, v += nc) {
                if (defs && !defs[i]) {
                    *v = (struct ss_val){.null = 1};
                    continue;
                }
                int64_t x;
                memcpy(&x, p, 8);
                p += 8;
                if (mul != 1 && (x > lim || x < -lim)) return col_err(r, c, err, "decimal %lld out of range", x);
                *v = (struct ss_val){.i = x * mul};
            }
            c->vp = p;
        } else {
            uint64_t pos = c->bitpos;
            if ((uint64_t)(c->vend - c->vp) * 8 < pos + nn)
                return col_err(r, c, err, "PLAIN booleans end early (%lld due)", (long long)nn);
            for (size_t i = 0; i < k; i++, v += nc) {
                if (defs && !defs[i]) {
                    *v = (struct ss_val){.null = 1};
                    continue;
                }
                *v = (struct ss_val){.i = (c->vp[pos >> 3] >> (pos & 7)) & 1};
                pos++;
            }
            c->bitpos = pos;
        }
        c->page_left -= (uint32_t)k;
        c->chunk_left -= (int64_t)k;
        n -= k;
    }
    return SS_OK;
}

static void start_row_group(struct ss_pqr *r) {
    const struct rowgroup *rg = &r->rgs[r->cur++];
    r->used = 0;
    r->rg_left = rg->rows;
    for (int j = 0; j < r->tbl->ncols; j++) {
        struct col *c = &r->cols[j];
        const struct chunk *ch = &rg->cols[j];
        int64_t start = ch->dict_off >= 0 ? ch->dict_off : ch->data_off;
        c->cp = r->map + start;
        c->cend = c->cp + ch->comp_size;
        c->chunk_left = ch->num_values;
        c->page_left = 0;
        c->data_seen = 0;
        c->nd = 0;
    }
}

/* ---- API ---------------------------------------------------------------------- */

/* The reader of r->map[0..r->size), once it is there: the columns, the footer, the buffers. */
static int open_common(struct ss_pqr *r, struct ss_err *err) {
    const struct ss_table *tbl = r->tbl;
    r->cols = ss_calloc((size_t)tbl->ncols, sizeof *r->cols);
    for (int j = 0; j < tbl->ncols; j++) {
        struct col *c = &r->cols[j];
        c->cd = &tbl->cols[j];
        c->optional = c->cd->nullable != 0;
        int pt = phys_type(c->cd);
        c->kind = pt == PT_BYTE_ARRAY ? K_BYTES : pt == PT_BOOLEAN ? K_BOOL : K_I64;
        c->mul = c->cd->type == SS_COL_MONEY ? 100 : 1;
    }
    int rc = parse_footer(r, err);
    if (rc) return rc;
    r->rows = ss_malloc((size_t)BATCH * (size_t)tbl->ncols * sizeof *r->rows);
    r->defs = ss_malloc(BATCH * sizeof *r->defs);
    r->ix = ss_malloc(BATCH * sizeof *r->ix);
    return SS_OK;
}

int ss_pqr_open(struct ss_pqr **out, const char *path, const struct ss_table *tbl, struct ss_err *err) {
    *out = NULL;
    struct ss_pqr *r = ss_calloc(1, sizeof *r);
    r->path = ss_strdup(path);
    r->tbl = tbl;
    int rc = SS_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = ss_err_set(err, SS_EIO, "cannot open %s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = ss_err_set(err, SS_EIO, "%s is not a regular file", path);
        goto fail;
    }
    r->size = (size_t)st.st_size;
    if (r->size < 12) {
        rc = ss_err_set(err, SS_ERROR, "%s: not a Parquet file (%zu bytes)", path, r->size);
        goto fail;
    }
    void *m = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        rc = ss_err_set(err, SS_EIO, "cannot map %s: %s", path, strerror(errno));
        goto fail;
    }
    r->map = m;
    r->mapped = 1;
    close(fd);
    fd = -1;
    if ((rc = open_common(r, err))) goto fail;
    *out = r;
    return SS_OK;
fail:
    if (fd >= 0) close(fd);
    ss_pqr_close(r);
    return rc;
}

int ss_pqr_open_mem(struct ss_pqr **out, const char *name, const uint8_t *data, size_t size,
                    const struct ss_table *tbl, struct ss_err *err) {
    *out = NULL;
    struct ss_pqr *r = ss_calloc(1, sizeof *r);
    r->path = ss_strdup(name);
    r->tbl = tbl;
    r->map = data;
    r->size = size;
    int rc = open_common(r, err);
    if (rc) {
        ss_pqr_close(r);
        return rc;
    }
    *out = r;
    return SS_OK;
}

int64_t ss_pqr_num_rows(const struct ss_pqr *r) { return r->num_rows; }

size_t ss_pqr_row_group(const struct ss_pqr *r) { return r->cur ? r->cur - 1 : 0; }

int ss_pqr_next(struct ss_pqr *r, const struct ss_val **rows, size_t *n, size_t max, struct ss_err *err) {
    *n = 0;
    *rows = r->rows;
    while (r->rg_left == 0) {
        if (r->cur == r->nrg) return SS_EOF;
        start_row_group(r);
    }
    size_t take = max && max < BATCH ? max : BATCH;
    if ((int64_t)take > r->rg_left) take = (size_t)r->rg_left;
    for (int j = 0; j < r->tbl->ncols; j++) {
        int rc = fill_col(r, j, r->rows, take, err);
        if (rc) return rc;
    }
    r->rg_left -= (int64_t)take;
    *n = take;
    return SS_OK;
}

void ss_pqr_close(struct ss_pqr *r) {
    if (!r) return;
    if (r->mapped) munmap((void *)r->map, r->size);
    for (size_t g = 0; g < r->nrg; g++) ss_free(r->rgs[g].cols);
    ss_free(r->rgs);
    for (int j = 0; r->cols && j < r->tbl->ncols; j++) {
        ss_free(r->cols[j].ds);
        ss_free(r->cols[j].dl);
    }
    ss_free(r->cols);
    for (size_t i = 0; i < r->npool; i++) ss_free(r->pool[i].p);
    ss_free(r->pool);
    ss_free(r->rows);
    ss_free(r->defs);
    ss_free(r->ix);
    if (r->dz) ZSTD_freeDCtx(r->dz);
    ss_free(r->path);
    ss_free(r);
}
