/* buf.c — see buf.h. */
#include "buf.h"

#include <string.h>

#include "utf8.h"

/* Two digits at a time from a table, right-aligned in a scratch block, then one
 * fixed-size copy: rows are mostly small counts and durations. */
void ss_buf_add_i64(struct ss_buf *b, int64_t v) {
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    ss_buf_reserve(b, 24);
    char *o = b->p + b->len;
    if (v < 0) *o++ = '-';
    if (u < 10) {
        *o++ = (char)('0' + u);
        b->len = (size_t)(o - b->p);
        return;
    }
    char tmp[40]; /* digits end at tmp + 20; the copy reads 20 bytes from the first */
    char *end = tmp + 20, *q = end;
    while (u >= 100) {
        q -= 2;
        memcpy(q, pairs + 2 * (u % 100), 2);
        u /= 100;
    }
    if (u >= 10) {
        q -= 2;
        memcpy(q, pairs + 2 * u, 2);
    } else {
        *--q = (char)('0' + u);
    }
    memcpy(o, q, 20);
    b->len = (size_t)(o + (end - q) - b->p);
}

#define ONES 0x0101010101010101ULL
#define LOWS 0x7F7F7F7F7F7F7F7FULL
#define HIGHS 0x8080808080808080ULL

/* The high bit of each zero byte of v, and of no other (no borrow runs between bytes). */
static inline uint64_t exact_zero_bytes(uint64_t v) { return ~(((v & LOWS) + LOWS) | v | LOWS); }

/* One reservation for the worst case (every byte a 6-byte \u escape, plus a word of
 * slack for the whole-word stores), then plain runs are copied eight bytes at a time:
 * rows are mostly ids and timestamps. */
void ss_buf_add_json_str_any(struct ss_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    ss_buf_reserve(b, 6 * n + 2 + 8);
    char *o = b->p + b->len;
    *o++ = '"';
    size_t i = 0;
    for (;;) {
        if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
            while (n - i >= 8) {
                uint64_t x;
                memcpy(&x, s + i, 8);
                uint64_t m = ss_json_special_bytes(x);
                memcpy(o, &x, 8); /* room for 6n: the surplus is overwritten */
                if (m) {
                    /* Quotes and backslashes get their backslash here, all of them in
                     * the word, rather than one at a time at `special`: JSON text held
                     * in a column (recently_viewed's products) has one every few bytes.
                     * m is exact only at its lowest byte, hence the exact masks. */
                    uint64_t qb = exact_zero_bytes(x ^ (ONES * '"')) | exact_zero_bytes(x ^ (ONES * '\\'));
                    uint64_t other = (~((x & LOWS) + ONES * 0x60) | x) & HIGHS;
                    size_t stop = other ? (size_t)__builtin_ctzll(other) >> 3 : 8, from = 0;
                    if (stop < 8) qb &= ((uint64_t)1 << (8 * stop)) - 1;
                    while (qb) {
                        size_t k = (size_t)__builtin_ctzll(qb) >> 3;
                        qb &= qb - 1;
                        o += k - from;
                        *o++ = '\\';
                        uint64_t rest = x >> (8 * k); /* the quote and what follows it */
                        memcpy(o, &rest, 8);
                        from = k;
                    }
                    o += stop - from;
                    i += stop;
                    if (stop < 8) goto special;
                    continue;
                }
                o += 8;
                i += 8;
            }
        }
        while (i < n) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
            *o++ = (char)c;
            i++;
        }
        if (i >= n) break;
    special: {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t sub, k = ss_utf8_seq(s + i, n - i, &sub);
            if (k) {
                memcpy(o, s + i, k);
                o += k;
                i += k;
            } else {
                memcpy(o, "\xEF\xBF\xBD", 3);
                o += 3;
                i += sub;
            }
            continue;
        }
        i++;
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->p);
}
