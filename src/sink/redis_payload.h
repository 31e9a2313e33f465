/* redis_payload.h — DUMP payloads for the Redis sink (redis_sink.c).
 *
 * A row's key written with one command instead of three: RESTORE KEY TTL PAYLOAD REPLACE
 * replaces whatever the key held by the value in PAYLOAD and sets its TTL, atomically.
 * PAYLOAD is what DUMP answers for such a value: the value in RDB encoding, the RDB
 * version (2 bytes little-endian), a CRC-64 (Jones, reflected, as Redis' crc64.c; 8 bytes
 * little-endian) of everything before it. The value is one listpack of string entries:
 *   LIST  RDB_TYPE_LIST_QUICKLIST_2 (18): 1 node, container PACKED (2), the listpack
 *   HASH  RDB_TYPE_HASH_LISTPACK (16): the listpack, field value field value ...
 * Both are RDB version 10 (Redis 7.0), loaded by every later version. Binary safe: every
 * entry is length-prefixed. Redis checks the CRC and the listpack's header before it
 * applies anything; the sink probes each new connection (probe_restore) and uses the
 * plain commands where the probe failed (Redis < 7.0, RESTORE denied by an ACL or
 * renamed away). */
#ifndef SS_REDIS_PAYLOAD_H
#define SS_REDIS_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"

/* CRC-64 (Jones, reflected) as Redis' crc64.c computes it. */
uint64_t ss_redis_crc64(const void *p, size_t n);
/* A listpack in b: begin, one string entry per call, end with the entry count. */
void ss_redis_lp_begin(struct ss_buf *b);
void ss_redis_lp_str(struct ss_buf *b, const char *s, size_t n);
void ss_redis_lp_end(struct ss_buf *b, size_t entries);
/* Appends to out the DUMP payload of a LIST (hash = false: lp holds its elements in
 * order) or a HASH (hash = true: lp holds field, value, ...); lp is a finished listpack. */
void ss_redis_dump_payload(struct ss_buf *out, bool hash, const struct ss_buf *lp);

#endif
