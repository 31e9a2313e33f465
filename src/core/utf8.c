/* utf8.c — see utf8.h. */
#include "utf8.h"

size_t ss_utf8_seq(const char *p, size_t n, size_t *sub) {
    const unsigned char *s = (const unsigned char *)p;
    unsigned c = s[0];
    *sub = 1;
    if (c < 0x80) return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0; /* overlong */
        if (c == 0xED) hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90; /* overlong */
        if (c == 0xF4) hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0; /* a continuation byte, C0, C1 or F5..FF: never a lead */
    }
    for (size_t k = 1; k < len; k++) {
        if (k >= n) return 0;
        unsigned b = s[k];
        if (k == 1 ? b < lo || b > hi : b < 0x80 || b > 0xBF) return 0;
        *sub = k + 1;
    }
    return len;
}

size_t ss_utf8_valid_prefix(const char *s, size_t n, bool allow_nul) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            if (!u[i] && !allow_nul) return i;
            i++;
            continue;
        }
        size_t sub, k = ss_utf8_seq(s + i, n - i, &sub);
        if (!k) return i;
        i += k;
    }
    return n;
}

void ss_utf8_repair(struct ss_buf *b, const char *s, size_t n, bool allow_nul) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t ok = ss_utf8_valid_prefix(s + i, n - i, allow_nul);
        ss_buf_add(b, s + i, ok);
        i += ok;
        if (i == n) break;
        size_t sub = 1;
        if (u[i]) ss_utf8_seq(s + i, n - i, &sub);
        ss_buf_add(b, "\xEF\xBF\xBD", 3);
        i += sub;
    }
}
