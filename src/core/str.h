/* str.h — a string view: pointer + length, not NUL-terminated. Who owns the bytes
 * is stated wherever a view is stored (event.h: the input buffer or the batch arena). */
#ifndef SS_STR_H
#define SS_STR_H

#include <stdbool.h>
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

#endif
