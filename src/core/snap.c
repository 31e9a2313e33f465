/* snap.c — savepoint bytes (snap.h). */
#include "snap.h"

#include <string.h>

static void put_le(struct ss_buf *b, uint64_t v, int n) {
    unsigned char x[8];
    for (int i = 0; i < n; i++) x[i] = (unsigned char)(v >> (8 * i));
    ss_buf_add(b, x, (size_t)n);
}

void ss_snap_u8(struct ss_buf *b, uint8_t v) { put_le(b, v, 1); }
void ss_snap_u32(struct ss_buf *b, uint32_t v) { put_le(b, v, 4); }
void ss_snap_i64(struct ss_buf *b, int64_t v) { put_le(b, (uint64_t)v, 8); }

void ss_snap_str(struct ss_buf *b, struct ss_str s) {
    ss_snap_u32(b, s.len);
    ss_buf_add(b, s.p, s.len);
}

void ss_snap_tag(struct ss_buf *b, const char *tag) { ss_snap_str(b, ss_str_c(tag)); }

/* The next n bytes, or NULL (and bad) when fewer are left. */
static const unsigned char *take(struct ss_snap_r *r, size_t n) {
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    const unsigned char *p = r->p;
    r->p += n;
    return p;
}

static uint64_t get_le(struct ss_snap_r *r, int n) {
    const unsigned char *p = take(r, (size_t)n);
    uint64_t v = 0;
    if (p)
        for (int i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint8_t ss_snap_get_u8(struct ss_snap_r *r) { return (uint8_t)get_le(r, 1); }
uint32_t ss_snap_get_u32(struct ss_snap_r *r) { return (uint32_t)get_le(r, 4); }
int64_t ss_snap_get_i64(struct ss_snap_r *r) { return (int64_t)get_le(r, 8); }

struct ss_str ss_snap_get_str(struct ss_snap_r *r) {
    uint32_t len = ss_snap_get_u32(r);
    const unsigned char *p = take(r, len);
    return p ? (struct ss_str){(const char *)p, len} : SS_STR_NULL;
}

size_t ss_snap_get_count(struct ss_snap_r *r, size_t min_bytes) {
    uint64_t n = get_le(r, 8);
    if (r->bad) return 0;
    if (min_bytes == 0) min_bytes = 1;
    if (n > (uint64_t)(r->end - r->p) / min_bytes) {
        r->bad = true;
        return 0;
    }
    return (size_t)n;
}

bool ss_snap_expect(struct ss_snap_r *r, const char *tag) {
    struct ss_str s = ss_snap_get_str(r);
    if (!r->bad && !ss_str_eqc(s, tag)) r->bad = true;
    return !r->bad;
}
