/* snap.h — the bytes of a savepoint (engine/savepoint.c): state written as fixed-width
 * little-endian integers and length-prefixed strings. Operators write ids as their
 * strings, never as interned numbers, which another process numbers differently.
 *
 * The reader trusts nothing it reads: every length and count is checked against the
 * bytes left, and the first failure is remembered (`bad`) while later reads return
 * zeros, so a load reads straight through and checks once, at the end. */
#ifndef SS_SNAP_H
#define SS_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "str.h"

struct ss_snap_r {
    const unsigned char *p, *end;
    bool bad;
    uint32_t slots; /* the partition slots the engine loaded: a saved slot number must be
                       below it (UINT32_MAX: not known, as an operator's own tests load) */
};

static inline struct ss_snap_r ss_snap_reader(const void *p, size_t len) {
    return (struct ss_snap_r){(const unsigned char *)p, (const unsigned char *)p + len, false, UINT32_MAX};
}

void ss_snap_u8(struct ss_buf *b, uint8_t v);
void ss_snap_u32(struct ss_buf *b, uint32_t v);
void ss_snap_i64(struct ss_buf *b, int64_t v);
void ss_snap_str(struct ss_buf *b, struct ss_str s);
/* A section's name: a load that expects it finds out at once when it reads another
 * section's bytes. */
void ss_snap_tag(struct ss_buf *b, const char *tag);

uint8_t ss_snap_get_u8(struct ss_snap_r *r);
uint32_t ss_snap_get_u32(struct ss_snap_r *r);
int64_t ss_snap_get_i64(struct ss_snap_r *r);
/* The bytes point into the reader's buffer. */
struct ss_str ss_snap_get_str(struct ss_snap_r *r);
/* A count of items that take at least min_bytes each (>= 1) in what follows: 0 and bad
 * when the bytes left cannot hold that many, so a damaged count never sizes an
 * allocation. */
size_t ss_snap_get_count(struct ss_snap_r *r, size_t min_bytes);
/* Sets bad unless the next bytes are this tag. */
bool ss_snap_expect(struct ss_snap_r *r, const char *tag);

#endif
