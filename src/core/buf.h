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
/* Appends s as a JSON string literal, quotes included (control chars, quotes and
 * backslashes escaped; bytes >= 0x80 copied as they are). */
void ss_buf_add_json_str(struct ss_buf *b, const char *s, size_t n);
static inline void ss_buf_free(struct ss_buf *b) {
    ss_free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

#endif
