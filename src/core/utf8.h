/* utf8.h — UTF-8 validity and repair.
 *
 * Input records must be UTF-8 (JSON requires it, and every sink writes text: JSONL,
 * Parquet strings, SQL text), so the decoders reject a record that is not (malformed).
 * A dead letter keeps its original bytes, and the text sinks repair those with U+FFFD
 * per maximal invalid subpart, as Unicode recommends (§3.9, "U+FFFD substitution of
 * maximal subparts") and Python's "replace" and WHATWG decoders do. */
#ifndef SS_UTF8_H
#define SS_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The length (1..4) of the valid sequence at s (n >= 1); 0 when it is invalid, and then
 * *sub is the length of its maximal subpart: the lead and the continuation bytes that
 * were still possible, at least 1. */
size_t ss_utf8_seq(const char *s, size_t n, size_t *sub);

/* Length of the longest prefix of s that is valid UTF-8 (n when all of it is). With
 * allow_nul false a NUL byte ends the prefix too (PostgreSQL text cannot hold one). */
size_t ss_utf8_valid_prefix(const char *s, size_t n, bool allow_nul);

/* Appends s to b with each maximal invalid subpart (and, unless allow_nul, each NUL)
 * replaced by U+FFFD. */
void ss_utf8_repair(struct ss_buf *b, const char *s, size_t n, bool allow_nul);

/* True when s is valid UTF-8 (NUL allowed). Records are nearly always ASCII: sixteen
 * bytes at a time are tested for a high bit before any sequence is decoded (SSE2 is in
 * every x86-64; elsewhere eight at a time). */
static inline bool ss_utf8_valid(const char *s, size_t n) {
    size_t i = 0;
    uint64_t hi = 0;
#if defined(__SSE2__)
    __m128i acc = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16) acc = _mm_or_si128(acc, _mm_loadu_si128((const __m128i *)(const void *)(s + i)));
    /* the rest as the last sixteen bytes, again in part, rather than byte by byte */
    if (i < n && n >= 16) {
        acc = _mm_or_si128(acc, _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16)));
        i = n;
    }
    if (_mm_movemask_epi8(acc)) return ss_utf8_valid_prefix(s, n, true) == n;
#endif
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        hi |= x;
    }
    for (; i < n; i++) hi |= (unsigned char)s[i];
    if (!(hi & 0x8080808080808080ULL)) return true;
    return ss_utf8_valid_prefix(s, n, true) == n;
}

#endif
