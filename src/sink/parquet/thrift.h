/* thrift.h — a writer for the Thrift compact protocol, just enough of it for the
 * Parquet footer (FileMetaData) and page headers (parquet.thrift). The Parquet
 * writer (writer.c) builds those structs field by field through these calls.
 *
 * Field ids inside one struct must be written in increasing order (the compact
 * protocol encodes the delta to the previous id). Nested structs, list elements
 * that are structs, and unions each open a new id scope with ss_tc_struct_begin /
 * ss_tc_elem_struct_begin and close it with ss_tc_struct_end, which writes the stop
 * byte. The buffer grows as needed; ss_tc_reset keeps its capacity. */
#ifndef SS_PQ_THRIFT_H
#define SS_PQ_THRIFT_H

#include <stddef.h>
#include <stdint.h>

/* Compact protocol type codes. */
enum {
    SS_TC_STOP = 0,
    SS_TC_TRUE = 1,
    SS_TC_FALSE = 2,
    SS_TC_I8 = 3,
    SS_TC_I16 = 4,
    SS_TC_I32 = 5,
    SS_TC_I64 = 6,
    SS_TC_DOUBLE = 7,
    SS_TC_BINARY = 8,
    SS_TC_LIST = 9,
    SS_TC_SET = 10,
    SS_TC_MAP = 11,
    SS_TC_STRUCT = 12,
};

#define SS_TC_MAX_DEPTH 16

struct ss_tc {
    uint8_t *buf;
    size_t len, cap;
    int depth;                       /* open structs; 0 = the top-level struct */
    int16_t last[SS_TC_MAX_DEPTH];   /* last field id written at each depth */
};

void ss_tc_init(struct ss_tc *tc);
void ss_tc_reset(struct ss_tc *tc);  /* empties the buffer, back to depth 0 */
void ss_tc_free(struct ss_tc *tc);

/* Fields of the struct currently open. */
void ss_tc_i32(struct ss_tc *tc, int16_t id, int32_t v);
void ss_tc_i64(struct ss_tc *tc, int16_t id, int64_t v);
void ss_tc_i16(struct ss_tc *tc, int16_t id, int16_t v);
void ss_tc_i8(struct ss_tc *tc, int16_t id, int8_t v);
void ss_tc_bool(struct ss_tc *tc, int16_t id, int v);
void ss_tc_binary(struct ss_tc *tc, int16_t id, const void *p, size_t n);
void ss_tc_string(struct ss_tc *tc, int16_t id, const char *s);
void ss_tc_struct_begin(struct ss_tc *tc, int16_t id);
void ss_tc_struct_end(struct ss_tc *tc);   /* writes the stop byte, closes the scope */
/* A list field of n elements of type elem; the elements follow with ss_tc_elem_*. */
void ss_tc_list_begin(struct ss_tc *tc, int16_t id, uint8_t elem, uint32_t n);

/* List elements. */
void ss_tc_elem_i32(struct ss_tc *tc, int32_t v);
void ss_tc_elem_i64(struct ss_tc *tc, int64_t v);
void ss_tc_elem_binary(struct ss_tc *tc, const void *p, size_t n);
void ss_tc_elem_struct_begin(struct ss_tc *tc);  /* close with ss_tc_struct_end */

/* The stop byte of the top-level struct: the message is complete. */
void ss_tc_end(struct ss_tc *tc);

/* Primitive encoders, exposed for tests: unsigned LEB128 and zigzag. */
size_t ss_tc_put_uvarint(uint8_t *out, uint64_t v);  /* out needs 10 bytes */
static inline uint64_t ss_tc_zigzag64(int64_t v) {
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

#endif
