/* thrift.c — Thrift compact protocol encoder for Parquet metadata (see thrift.h).
 * Only the writing half exists: shopstream never reads Parquet back. */
#include "thrift.h"

#include <string.h>

#include "../../core/alloc.h"
#include "../../core/err.h"

void ss_tc_init(struct ss_tc *tc) { memset(tc, 0, sizeof *tc); }

void ss_tc_reset(struct ss_tc *tc) {
    tc->len = 0;
    tc->depth = 0;
    tc->last[0] = 0;
}

void ss_tc_free(struct ss_tc *tc) {
    ss_free(tc->buf);
    memset(tc, 0, sizeof *tc);
}

static uint8_t *reserve(struct ss_tc *tc, size_t n) {
    if (tc->len + n > tc->cap) SS_GROW(tc->buf, tc->cap, tc->len + n);
    return tc->buf + tc->len;
}

size_t ss_tc_put_uvarint(uint8_t *out, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

static void uvarint(struct ss_tc *tc, uint64_t v) {
    uint8_t *p = reserve(tc, 10);
    tc->len += ss_tc_put_uvarint(p, v);
}

static void byte(struct ss_tc *tc, uint8_t b) {
    *reserve(tc, 1) = b;
    tc->len++;
}

/* Short form (delta in the high nibble) when the id grows by 1..15, else the type
 * byte followed by the id as a zigzag i16. */
static void field(struct ss_tc *tc, int16_t id, uint8_t type) {
    int16_t *last = &tc->last[tc->depth];
    int delta = id - *last;
    if (delta > 0 && delta <= 15) {
        byte(tc, (uint8_t)(delta << 4 | type));
    } else {
        byte(tc, type);
        uvarint(tc, ss_tc_zigzag64(id));
    }
    *last = id;
}

void ss_tc_i32(struct ss_tc *tc, int16_t id, int32_t v) {
    field(tc, id, SS_TC_I32);
    uvarint(tc, ss_tc_zigzag64(v));
}

void ss_tc_i64(struct ss_tc *tc, int16_t id, int64_t v) {
    field(tc, id, SS_TC_I64);
    uvarint(tc, ss_tc_zigzag64(v));
}

void ss_tc_i16(struct ss_tc *tc, int16_t id, int16_t v) {
    field(tc, id, SS_TC_I16);
    uvarint(tc, ss_tc_zigzag64(v));
}

void ss_tc_i8(struct ss_tc *tc, int16_t id, int8_t v) {
    field(tc, id, SS_TC_I8);
    byte(tc, (uint8_t)v);
}

/* A bool field carries its value in the type nibble. */
void ss_tc_bool(struct ss_tc *tc, int16_t id, int v) { field(tc, id, v ? SS_TC_TRUE : SS_TC_FALSE); }

void ss_tc_binary(struct ss_tc *tc, int16_t id, const void *p, size_t n) {
    field(tc, id, SS_TC_BINARY);
    ss_tc_elem_binary(tc, p, n);
}

void ss_tc_string(struct ss_tc *tc, int16_t id, const char *s) { ss_tc_binary(tc, id, s, strlen(s)); }

static void push(struct ss_tc *tc) {
    ss_assert(tc->depth + 1 < SS_TC_MAX_DEPTH);
    tc->last[++tc->depth] = 0;
}

void ss_tc_struct_begin(struct ss_tc *tc, int16_t id) {
    field(tc, id, SS_TC_STRUCT);
    push(tc);
}

void ss_tc_struct_end(struct ss_tc *tc) {
    ss_assert(tc->depth > 0);
    byte(tc, SS_TC_STOP);
    tc->depth--;
}

void ss_tc_list_begin(struct ss_tc *tc, int16_t id, uint8_t elem, uint32_t n) {
    field(tc, id, SS_TC_LIST);
    if (n < 15) {
        byte(tc, (uint8_t)(n << 4 | elem));
    } else {
        byte(tc, (uint8_t)(0xF0 | elem));
        uvarint(tc, n);
    }
}

void ss_tc_elem_i32(struct ss_tc *tc, int32_t v) { uvarint(tc, ss_tc_zigzag64(v)); }
void ss_tc_elem_i64(struct ss_tc *tc, int64_t v) { uvarint(tc, ss_tc_zigzag64(v)); }

void ss_tc_elem_binary(struct ss_tc *tc, const void *p, size_t n) {
    uvarint(tc, n);
    if (n) {
        memcpy(reserve(tc, n), p, n);
        tc->len += n;
    }
}

void ss_tc_elem_struct_begin(struct ss_tc *tc) { push(tc); }

void ss_tc_end(struct ss_tc *tc) {
    ss_assert(tc->depth == 0);
    byte(tc, SS_TC_STOP);
}
