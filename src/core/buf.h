/* buf.h — a growable byte buffer for building output text (JSON rows, SQL COPY data). */
#ifndef SS_BUF_H
#define SS_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"

struct ss_buf {
    char *p;
    size_t len, cap;
};

static inline void ss_buf_reserve(struct ss_buf *b, size_t extra) {
    if (b->len + extra > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < b->len + extra) c *= 2;
        b->p = ss_realloc(b->p, c);
        b->cap = c;
    }
}
static inline void ss_buf_add(struct ss_buf *b, const void *p, size_t n) {
    ss_buf_reserve(b, n);
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
}
static inline void ss_buf_addc(struct ss_buf *b, char c) {
    ss_buf_reserve(b, 1);
    b->p[b->len++] = c;
}
static inline void ss_buf_adds(struct ss_buf *b, const char *s) { ss_buf_add(b, s, strlen(s)); }
void ss_buf_add_i64(struct ss_buf *b, int64_t v);
/* Bytes of x (8 loaded bytes) that a JSON string cannot take as they are: '"', '\\',
 * a control character, or a byte >= 0x80 (checked as UTF-8), as the high bit of each
 * byte. The lowest flagged byte is exact (borrows only run upwards), which is all the
 * callers use. */
static inline uint64_t ss_json_special_bytes(uint64_t x) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t zq = (q - ones) & ~q, zb = (b - ones) & ~b, lt = (x - ones * 0x20) & ~x;
    return (zq | zb | lt | x) & highs;
}
/* The n (1..7) bytes at s as one little-endian word, bytes n..7 zero, from loads that
 * stay inside the string (overlapping where n is not a power of two). */
static inline uint64_t ss_load_short(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + n - 4, 4);
        return (uint64_t)lo | (uint64_t)hi << (8 * (n - 4));
    }
    return (uint64_t)u[0] | (uint64_t)u[n / 2] << (8 * (n / 2)) | (uint64_t)u[n - 1] << (8 * (n - 1));
}
/* ss_buf_add_json_str for any string. */
void ss_buf_add_json_str_any(struct ss_buf *b, const char *s, size_t n);
/* Appends s as a JSON string literal, quotes included (control chars, quotes and
 * backslashes escaped; valid UTF-8 copied as it is, each maximal invalid subpart
 * written as U+FFFD: a dead letter's record may hold any bytes, see utf8.h). Most strings written are
 * short ids (products, categories, users) with nothing to escape: those take this
 * inline path, one word loaded and tested, without the call (a recently_viewed row
 * writes ten of them, and the call's own cost was a third of each). */
static inline void ss_buf_add_json_str(struct ss_buf *b, const char *s, size_t n) {
    if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && n - 1 < 7) {
        uint64_t x = ss_load_short(s, n);
        /* the zero bytes above n flag as control characters, hence the mask */
        if ((ss_json_special_bytes(x) & (((uint64_t)1 << (8 * n)) - 1)) == 0) {
            ss_buf_reserve(b, 10);
            char *o = b->p + b->len;
            o[0] = '"';
            memcpy(o + 1, &x, 8);
            o[n + 1] = '"';
            b->len += n + 2;
            return;
        }
    }
    ss_buf_add_json_str_any(b, s, n);
}
static inline void ss_buf_free(struct ss_buf *b) {
    ss_free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

#endif
