/* encode.c — Parquet encodings and page compression for the writer (see encode.h). */
#include "encode.h"

#include <snappy-c.h>
#include <zstd.h>

#include "thrift.h"

int ss_pq_bit_width(uint32_t max) {
    int w = 1;
    while (w < 32 && (max >> w) != 0) w++;
    return w;
}

/* True when v[i..i+8) are all equal: worth an RLE run. */
static int run8(const uint32_t *v, size_t i, size_t n) {
    if (n - i < 8) return 0;
    uint32_t x = v[i];
    for (size_t k = 1; k < 8; k++)
        if (v[i + k] != x) return 0;
    return 1;
}

/* One bit-packed run of `groups` groups of 8 values starting at v; values past n
 * (only possible in the last group of the whole sequence) are padded with 0. */
static void bitpack(struct ss_pq_buf *out, const uint32_t *v, size_t avail, size_t groups, int width) {
    uint8_t hdr[10];
    size_t h = ss_tc_put_uvarint(hdr, (uint64_t)groups << 1 | 1);
    ss_pq_buf_put(out, hdr, h);
    uint8_t *d = ss_pq_buf_reserve(out, groups * (size_t)width);
    size_t nb = 0;
    uint64_t acc = 0;
    int bits = 0;
    size_t total = groups * 8;
    for (size_t k = 0; k < total; k++) {
        uint64_t x = k < avail ? v[k] : 0;
        acc |= x << bits;
        bits += width;
        while (bits >= 8) {
            d[nb++] = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
    /* groups of 8 values of width w are exactly w bytes: nothing is left over */
    out->len += nb;
}

void ss_pq_rle_encode(struct ss_pq_buf *out, const uint32_t *v, size_t n, int width) {
    size_t vbytes = ((size_t)width + 7) / 8;
    size_t i = 0;
    while (i < n) {
        if (run8(v, i, n)) {
            size_t j = i + 8;
            while (j < n && v[j] == v[i]) j++;
            uint8_t hdr[10];
            size_t h = ss_tc_put_uvarint(hdr, (uint64_t)(j - i) << 1);
            ss_pq_buf_put(out, hdr, h);
            uint32_t x = v[i];
            ss_pq_buf_put(out, &x, vbytes);
            i = j;
            continue;
        }
        /* Bit-pack group by group until the next group starts a run of 8; at most 63
         * groups so the header stays one byte. */
        size_t start = i, groups = 0;
        do {
            i = n - i < 8 ? n : i + 8;
            groups++;
        } while (i < n && groups < 63 && !run8(v, i, n));
        bitpack(out, v + start, n - start, groups, width);
    }
}

void ss_pq_bool_pack(struct ss_pq_buf *out, const uint8_t *v, size_t n) {
    size_t nb = (n + 7) / 8;
    uint8_t *d = ss_pq_buf_reserve(out, nb);
    memset(d, 0, nb);
    for (size_t k = 0; k < n; k++)
        if (v[k]) d[k >> 3] |= (uint8_t)(1u << (k & 7));
    out->len += nb;
}

struct ss_pq_compressor {
    enum ss_pq_codec codec;
    int level;
    ZSTD_CCtx *zc;
};

struct ss_pq_compressor *ss_pq_compressor_new(enum ss_pq_codec codec, int zstd_level) {
    struct ss_pq_compressor *c = ss_calloc(1, sizeof *c);
    c->codec = codec;
    c->level = zstd_level;
    if (codec == SS_PQ_ZSTD) {
        c->zc = ZSTD_createCCtx();
        ss_assert(c->zc != NULL);
    }
    return c;
}

void ss_pq_compressor_free(struct ss_pq_compressor *c) {
    if (!c) return;
    if (c->zc) ZSTD_freeCCtx(c->zc);
    ss_free(c);
}

int ss_pq_compress(struct ss_pq_compressor *c, const uint8_t *src, size_t n, struct ss_pq_buf *out,
                   struct ss_err *err) {
    out->len = 0;
    switch (c->codec) {
    case SS_PQ_UNCOMPRESSED:
        ss_pq_buf_put(out, src, n);
        return SS_OK;
    case SS_PQ_SNAPPY: {
        size_t cap = snappy_max_compressed_length(n);
        ss_pq_buf_reserve(out, cap);
        size_t got = cap;
        if (snappy_compress((const char *)src, n, (char *)out->p, &got) != SNAPPY_OK)
            return ss_err_set(err, SS_ERROR, "snappy compression of a %zu-byte page failed", n);
        out->len = got;
        return SS_OK;
    }
    case SS_PQ_ZSTD: {
        size_t cap = ZSTD_compressBound(n);
        ss_pq_buf_reserve(out, cap);
        size_t got = ZSTD_compressCCtx(c->zc, out->p, cap, src, n, c->level);
        if (ZSTD_isError(got))
            return ss_err_set(err, SS_ERROR, "zstd compression of a %zu-byte page failed: %s", n,
                              ZSTD_getErrorName(got));
        out->len = got;
        return SS_OK;
    }
    }
    return ss_err_set(err, SS_ERROR, "unknown parquet codec %d", (int)c->codec);
}
