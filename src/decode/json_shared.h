/* json_shared.h — what the record scanner (json.c) and its template path
 * (json_template.c) share, since they must accept exactly the same texts: the JSON
 * values that are neither strings nor containers (numbers, true, false, null), and
 * the bytes that end a plain run of string. Private to src/decode/. */
#ifndef SS_JSON_SHARED_H
#define SS_JSON_SHARED_H

#include <string.h>

#include "decode_internal.h"

#ifdef __SSE2__
#include <emmintrin.h>

/* The bytes of x that are '"', '\\' or a control character, one bit each. */
static inline unsigned ss_json_specials(__m128i x) {
    __m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
    __m128i c = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x); /* x <= 0x1f */
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), c));
}
#endif

/* JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static inline const char *scan_number(const char *p, const char *end) {
    if (p < end && *p == '-') p++;
    if (p >= end) return NULL;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9') p++;
    } else {
        return NULL;
    }
    if (p < end && *p == '.') {
        p++;
        const char *s = p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        if (p == s) return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        const char *s = p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        if (p == s) return NULL;
    }
    return p;
}

static inline const char *scan_literal(const char *p, const char *end, const char *lit, size_t n) {
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0 ? p + n : NULL;
}

/* A value that is neither a string nor a container: null (missing), true, false or a
 * number, whose text goes to *v. Returns the position after it, or NULL. */
static inline const char *scan_scalar(const char *p, const char *end, struct ss_dec_val *v) {
    const char *s = p;
    switch (*p) {
    case 'n':
        p = scan_literal(p, end, "null", 4);
        *v = (struct ss_dec_val){NULL, 0, 0, 0}; /* null is missing; the last key wins */
        return p;
    case 't':
        p = scan_literal(p, end, "true", 4);
        break;
    case 'f':
        p = scan_literal(p, end, "false", 5);
        break;
    default:
        p = scan_number(p, end);
        break;
    }
    if (p) *v = (struct ss_dec_val){s, (uint32_t)(p - s), 0, 0};
    return p;
}

#endif
