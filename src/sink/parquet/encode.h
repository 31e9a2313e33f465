/* encode.h — Parquet value and level encodings (apache/parquet-format Encodings.md)
 * used by the writer (writer.c): a growable byte buffer, PLAIN for INT64 / BOOLEAN /
 * BYTE_ARRAY, the RLE / bit-packed hybrid for definition levels and dictionary
 * indices, and page compression (none, snappy, zstd).
 *
 * All multi-byte values are written little-endian as the format requires. */
#ifndef SS_PQ_ENCODE_H
#define SS_PQ_ENCODE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../core/alloc.h"
#include "../../core/err.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Parquet writer stores PLAIN values with memcpy and needs a little-endian host"
#endif

/* Growable bytes. Lifetime: owned; ss_pq_buf_free releases, len = 0 reuses. */
struct ss_pq_buf {
    uint8_t *p;
    size_t len, cap;
};

static inline uint8_t *ss_pq_buf_reserve(struct ss_pq_buf *b, size_t n) {
    if (b->len + n > b->cap) SS_GROW(b->p, b->cap, b->len + n);
    return b->p + b->len;
}
static inline void ss_pq_buf_put(struct ss_pq_buf *b, const void *p, size_t n) {
    if (n) memcpy(ss_pq_buf_reserve(b, n), p, n);
    b->len += n;
}
static inline void ss_pq_buf_u32(struct ss_pq_buf *b, uint32_t v) { ss_pq_buf_put(b, &v, 4); }
static inline void ss_pq_buf_i64(struct ss_pq_buf *b, int64_t v) { ss_pq_buf_put(b, &v, 8); }
/* PLAIN BYTE_ARRAY: 4-byte length, then the bytes. */
static inline void ss_pq_buf_bytes(struct ss_pq_buf *b, const void *p, uint32_t n) {
    uint8_t *d = ss_pq_buf_reserve(b, 4 + (size_t)n);
    memcpy(d, &n, 4);
    if (n) memcpy(d + 4, p, n);
    b->len += 4 + (size_t)n;
}
static inline void ss_pq_buf_free(struct ss_pq_buf *b) {
    ss_free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Bits needed for values 0..max (at least 1: some readers mishandle width 0). */
int ss_pq_bit_width(uint32_t max);

/* Appends v[0..n) in the RLE / bit-packed hybrid encoding with the given bit width
 * (no length prefix; callers add the 4-byte length for levels, the width byte for
 * dictionary indices). Runs of 8 or more equal values become RLE runs. */
void ss_pq_rle_encode(struct ss_pq_buf *out, const uint32_t *v, size_t n, int width);

/* PLAIN booleans: one bit per value, least significant bit first. */
void ss_pq_bool_pack(struct ss_pq_buf *out, const uint8_t *v, size_t n);

/* Compression codecs, numbered as parquet.thrift's CompressionCodec. */
enum ss_pq_codec { SS_PQ_UNCOMPRESSED = 0, SS_PQ_SNAPPY = 1, SS_PQ_ZSTD = 6 };

struct ss_pq_compressor;  /* holds a reusable zstd context */
struct ss_pq_compressor *ss_pq_compressor_new(enum ss_pq_codec codec, int zstd_level);
void ss_pq_compressor_free(struct ss_pq_compressor *c);
/* Replaces out's contents with src compressed. SS_ERROR (with a message) only when
 * the compression library fails, which is a bug or memory exhaustion. */
int ss_pq_compress(struct ss_pq_compressor *c, const uint8_t *src, size_t n, struct ss_pq_buf *out,
                   struct ss_err *err);

#endif
