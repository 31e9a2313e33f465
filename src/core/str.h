/* str.h — a string view: pointer + length, not NUL-terminated. Who owns the bytes
 * is stated wherever a view is stored (event.h: the input buffer or the batch arena). */
#ifndef SS_STR_H
#define SS_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct ss_str {
    const char *p;
    uint32_t len;
};

#define SS_STR_NULL ((struct ss_str){NULL, 0})
#define SS_STR_LIT(s) ((struct ss_str){(s), (uint32_t)(sizeof(s) - 1)})

static inline struct ss_str ss_str_c(const char *s) {
    return (struct ss_str){s, (uint32_t)strlen(s)};
}
static inline bool ss_str_eq(struct ss_str a, struct ss_str b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}
static inline bool ss_str_eqc(struct ss_str a, const char *c) { return ss_str_eq(a, ss_str_c(c)); }
/* Byte-wise order, shorter first on a common prefix (same as Python str order for ASCII). */
static inline int ss_str_cmp(struct ss_str a, struct ss_str b) {
    uint32_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c) return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

/* memcpy for the short ids a record holds (usually 4-16 bytes): loads and stores that
 * overlap instead of a call into the C library, whose dispatch cost more than the copy
 * (the promotion join copies two ids per click). No byte outside [src, src + n) is read
 * nor outside [dst, dst + n) written. */
static inline void ss_copy_short(char *dst, const char *src, size_t n) {
    if (n > 16) {
        memcpy(dst, src, n);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, src, 8);
        memcpy(&b, src + n - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, src, 4);
        memcpy(&b, src + n - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
    } else if (n) {
        char a = src[0], m = src[n / 2], z = src[n - 1];
        dst[0] = a;
        dst[n / 2] = m;
        dst[n - 1] = z;
    }
}

#endif
