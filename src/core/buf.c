/* buf.c — see buf.h. */
#include "buf.h"

void ss_buf_add_i64(struct ss_buf *b, int64_t v) {
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    ss_buf_reserve(b, (size_t)n + 1);
    if (v < 0) b->p[b->len++] = '-';
    while (n) b->p[b->len++] = tmp[--n];
}

void ss_buf_add_json_str(struct ss_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    ss_buf_reserve(b, n + 2);
    b->p[b->len++] = '"';
    size_t run = 0; /* bytes copied in one go when nothing needs escaping */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        ss_buf_add(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': ss_buf_add(b, "\\\"", 2); break;
        case '\\': ss_buf_add(b, "\\\\", 2); break;
        case '\n': ss_buf_add(b, "\\n", 2); break;
        case '\r': ss_buf_add(b, "\\r", 2); break;
        case '\t': ss_buf_add(b, "\\t", 2); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            ss_buf_add(b, u, 6);
        }
        }
    }
    ss_buf_add(b, s + run, n - run);
    ss_buf_addc(b, '"');
}
