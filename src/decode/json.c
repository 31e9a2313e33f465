/* json.c — the JSON record scanner: one object per record (one line, one Kafka
 * message), first stage of the pipeline after a source. It validates the syntax of
 * the whole record (RFC 8259, strictly: no trailing commas, no leading zeros, no
 * lone surrogates) and notes where the value of each field this stream reads
 * starts and ends; everything else is skipped without being stored. Nothing is
 * copied here: string values stay views into the input, and only the few that
 * contain backslash escapes are unescaped later (ss_json_unescape) into the
 * batch arena. decoder.c turns the texts into a validated event. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "decode_internal.h"
#include "json_shared.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static inline const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static inline int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Four hex digits at p (bounds checked by the caller). */
static inline int hex4(const char *p) {
    int a = hexval(p[0]), b = hexval(p[1]), c = hexval(p[2]), d = hexval(p[3]);
    if ((a | b | c | d) < 0) return -1;
    return a << 12 | b << 8 | c << 4 | d;
}

/* Validates the escape at p (just after the backslash). Returns the position after
 * it, or NULL. A \u high surrogate must be followed by a \u low surrogate: a lone
 * surrogate has no UTF-8 form, so the record could not be passed on faithfully; \u0000
 * is refused too (below). */
static const char *check_escape(const char *p, const char *end) {
    if (p >= end) return NULL;
    switch (*p) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return p + 1;
    case 'u': {
        if (end - p < 5) return NULL;
        int u = hex4(p + 1);
        if (u < 0) return NULL;
        p += 5;
        /* NUL: PostgreSQL's text (and jsonb) cannot hold it, so the sinks could not agree
         * on the value; as a raw byte it is a control character JSON does not allow */
        if (u == 0) return NULL;
        if (u >= 0xDC00 && u <= 0xDFFF) return NULL;
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return NULL;
            int lo = hex4(p + 2);
            if (lo < 0xDC00 || lo > 0xDFFF) return NULL;
            p += 6;
        }
        return p;
    }
    default:
        return NULL;
    }
}

/* Bytes of x (8 loaded bytes) that are '"', '\\' or a control character, as the high
 * bit of each byte. The lowest flagged byte is exact (borrows only run upwards),
 * which is all the scanner uses. */
static inline uint64_t special_bytes(uint64_t x) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t zq = (q - ones) & ~q, zb = (b - ones) & ~b, lt = (x - ones * 0x20) & ~x;
    return (zq | zb | lt) & highs;
}

/* Scans a string body starting after its opening quote. Returns the position after
 * the closing quote, or NULL when the string is unterminated or invalid; *esc is set
 * when it contains escapes. */
static const char *scan_string(const char *p, const char *end, uint8_t *esc) {
    for (;;) {
#ifdef __SSE2__
        /* sixteen bytes at a time (every x86-64 has SSE2): most ids and keys end
         * within the first block */
        while (end - p >= 16) {
            unsigned m = ss_json_specials(_mm_loadu_si128((const __m128i *)(const void *)p));
            if (m) {
                p += __builtin_ctz(m);
                goto special;
            }
            p += 16;
        }
#endif
        /* eight bytes at a time through the plain part (little-endian: the first
         * byte in memory is the lowest) */
        if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
            while (end - p >= 8) {
                uint64_t x;
                memcpy(&x, p, 8);
                uint64_t m = special_bytes(x);
                if (m) {
                    p += __builtin_ctzll(m) >> 3;
                    goto special;
                }
                p += 8;
            }
        }
        while (p < end && (uint8_t)*p >= 0x20 && *p != '"' && *p != '\\') p++;
        if (p >= end) return NULL;
    special:
        if (*p == '"') return p + 1;
        if (*p != '\\') return NULL; /* a raw control character */
        *esc = 1;
        p = check_escape(p + 1, end);
        if (!p) return NULL;
    }
}

/* Validates and skips any value (of a field this stream does not read). */
static const char *skip_value(const char *p, const char *end, int depth) {
    uint8_t esc = 0;
    if (p >= end) return NULL;
    switch (*p) {
    case '"':
        return scan_string(p + 1, end, &esc);
    case 't':
        return scan_literal(p, end, "true", 4);
    case 'f':
        return scan_literal(p, end, "false", 5);
    case 'n':
        return scan_literal(p, end, "null", 4);
    case '{':
    case '[': {
        if (depth >= SS_JSON_MAX_DEPTH) return NULL;
        const char close = *p == '{' ? '}' : ']';
        const bool obj = close == '}';
        p = skip_ws(p + 1, end);
        if (p < end && *p == close) return p + 1;
        for (;;) {
            if (obj) {
                if (p >= end || *p != '"') return NULL;
                p = scan_string(p + 1, end, &esc);
                if (!p) return NULL;
                p = skip_ws(p, end);
                if (p >= end || *p != ':') return NULL;
                p = skip_ws(p + 1, end);
            }
            p = skip_value(p, end, depth + 1);
            if (!p) return NULL;
            p = skip_ws(p, end);
            if (p >= end) return NULL;
            if (*p == close) return p + 1;
            if (*p != ',') return NULL;
            p = skip_ws(p + 1, end);
        }
    }
    default:
        return scan_number(p, end);
    }
}

/* Writes code point u as UTF-8 at o; returns the bytes written. */
static inline size_t put_utf8(char *o, uint32_t u) {
    if (u < 0x80) {
        o[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        o[0] = (char)(0xC0 | u >> 6);
        o[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    if (u < 0x10000) {
        o[0] = (char)(0xE0 | u >> 12);
        o[1] = (char)(0x80 | (u >> 6 & 0x3F));
        o[2] = (char)(0x80 | (u & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | u >> 18);
    o[1] = (char)(0x80 | (u >> 12 & 0x3F));
    o[2] = (char)(0x80 | (u >> 6 & 0x3F));
    o[3] = (char)(0x80 | (u & 0x3F));
    return 4;
}

/* Unescapes a validated string body into out (which has room for len bytes: no
 * escape's UTF-8 form is longer than the escape). Returns the length. */
static size_t unescape_into(char *out, const char *p, uint32_t len) {
    const char *end = p + len;
    size_t o = 0;
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t run = (size_t)((bs ? bs : end) - p);
        memcpy(out + o, p, run);
        o += run;
        p += run;
        if (!bs) break;
        p++; /* the backslash */
        char c = *p++;
        switch (c) {
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            uint32_t u = (uint32_t)hex4(p);
            p += 4;
            if (u >= 0xD800 && u <= 0xDBFF) {
                uint32_t lo = (uint32_t)hex4(p + 2);
                p += 6;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            }
            o += put_utf8(out + o, u);
            break;
        }
        default: out[o++] = c; break; /* " \ / */
        }
    }
    return o;
}

/* Looks up a key that contains escapes ("user\u005fid" is user_id). Unescaping
 * only shrinks, and a name is at most SS_DEC_NAME_MAX bytes, each at most a 6-byte
 * escape, so a longer raw key cannot match. */
static int lookup_escaped(const struct ss_decoder *d, const char *k, uint32_t n) {
    char tmp[6 * SS_DEC_NAME_MAX];
    if (n > sizeof tmp) return -1;
    return ss_dec_lookup(d, tmp, unescape_into(tmp, k, n));
}

struct ss_str ss_json_unescape(struct ss_arena *arena, const char *p, uint32_t len) {
    char *out = ss_arena_alloc(arena, len ? len : 1);
    size_t n = unescape_into(out, p, len);
    return (struct ss_str){out, (uint32_t)n};
}

int ss_json_scan_slow(const struct ss_decoder *d, const char *p, const char *end,
                      struct ss_dec_val vals[SS_DEC_VALS]) {
    /* fields whose (last) value is an object or array: malformed, but only if no
     * later duplicate key replaces it, as for every other value */
    uint32_t containers = 0;
    p = skip_ws(p, end);
    if (p >= end || *p != '{') return -1;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
        goto tail;
    }
    for (;;) {
        if (p >= end || *p != '"') return -1;
        const char *k = p + 1;
        uint8_t kesc = 0;
        p = scan_string(k, end, &kesc);
        if (!p) return -1;
        uint32_t kn = (uint32_t)(p - 1 - k);
        int f = kesc ? lookup_escaped(d, k, kn) : ss_dec_lookup_fast(d, k, kn, end);
        p = skip_ws(p, end);
        if (p >= end || *p != ':') return -1;
        p = skip_ws(p + 1, end);
        if (p >= end) return -1;
        if (f < 0) {
            p = skip_value(p, end, 1);
            if (!p) return -1;
        } else {
            struct ss_dec_val *v = &vals[f];
            const char *s = p;
            containers &= ~(1u << f);
            switch (*p) {
            case '"': {
                uint8_t e = 0;
                p = scan_string(s + 1, end, &e);
                if (!p) return -1;
                *v = (struct ss_dec_val){s + 1, (uint32_t)(p - 1 - (s + 1)), e, 1};
                break;
            }
            case '{':
            case '[':
                p = skip_value(p, end, 1);
                if (!p) return -1;
                containers |= 1u << f;
                break;
            default:
                p = scan_scalar(p, end, v);
                if (!p) return -1;
                break;
            }
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') {
            p++;
            break;
        }
        return -1;
    }
tail:
    p = skip_ws(p, end);
    return p == end && containers == 0 ? 0 : -1;
}

#ifdef __SSE2__
/* ---- the fast path ----------------------------------------------------------------
 * Nearly every record is plain: no backslash and no control character anywhere (so
 * no escapes, no raw control bytes in strings, and no white space but spaces). For
 * such a record every '"' is a string delimiter, so the quotes found 64 bytes at a
 * time with SSE2 give each string's bounds without looking at its bytes again. The
 * walk below accepts only what the grammar allows; a record it is unsure of (a
 * backslash or control byte in a block, a nested value, anything unexpected) goes
 * to ss_json_scan_slow from the start, which gives the verdict. So this path never
 * rejects: it accepts exactly what the slow path accepts, with the same values
 * (tests/unit/test_decode.c compares the two on mutated records). */

struct quotes {
    const char *base;  /* start of the current 64-byte block */
    const char *start, *end; /* the record */
    uint64_t mask;     /* quotes of the block not yet consumed */
};

/* Loads the block at q->base: its quotes, or false when it holds a backslash or a
 * control byte. Nothing outside the record is read: a last block shorter than 64
 * bytes is loaded as the record's last 64 bytes with the overlap shifted out, and
 * only a record shorter than 64 bytes is copied. */
static bool load_block(struct quotes *q) {
    const char *p = q->base;
    unsigned skip = 0;
    char tmp[64];
    if (q->end - p < 64) {
        if (q->end - q->start >= 64) {
            skip = (unsigned)(64 - (q->end - p));
            p = q->end - 64;
        } else {
            memset(tmp, ' ', sizeof tmp);
            memcpy(tmp, p, (size_t)(q->end - p));
            p = tmp;
        }
    }
    const __m128i dq = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), c1f = _mm_set1_epi8(0x1f);
    uint64_t quotes = 0, special = 0;
    for (int i = 0; i < 4; i++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
        quotes |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, dq)) << (16 * i);
        __m128i sp = _mm_or_si128(_mm_cmpeq_epi8(x, bs), _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x));
        special |= (uint64_t)(unsigned)_mm_movemask_epi8(sp) << (16 * i);
    }
    q->mask = quotes >> skip;
    return (special >> skip) == 0;
}

/* The next quote of the record, or NULL (at the end, or at a block the fast path
 * cannot take). */
static inline const char *next_quote(struct quotes *q) {
    while (!q->mask) {
        q->base += 64;
        if (q->base >= q->end || !load_block(q)) return NULL;
    }
    const char *at = q->base + __builtin_ctzll(q->mask);
    q->mask &= q->mask - 1;
    return at;
}

static inline const char *skip_spaces(const char *p, const char *end) {
    while (p < end && *p == ' ') p++;
    return p;
}

/* 0 when the record was scanned; 1 when the slow path must decide. */
static int scan_plain(struct ss_decoder *d, const char *p, const char *end,
                      struct ss_dec_val vals[SS_DEC_VALS]) {
    int pos = 0; /* key position in the record */
    struct quotes q = {p, p, end, 0};
    if (!load_block(&q)) return 1;
    p = skip_spaces(p, end);
    if (p >= end || *p != '{') return 1;
    p = skip_spaces(p + 1, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            if (p >= end || *p != '"' || next_quote(&q) != p) return 1;
            const char *k = p + 1, *kend = next_quote(&q);
            if (!kend) return 1;
            size_t kn = (size_t)(kend - k);
            int f = pos < SS_DEC_KEY_POSITIONS ? d->key_at[pos] : -1;
            if (f < 0 || !ss_dec_name_is(d, f, k, kn, end)) {
                f = ss_dec_lookup_fast(d, k, kn, end);
                if (pos < SS_DEC_KEY_POSITIONS) d->key_at[pos] = (int8_t)f;
            }
            pos++;
            p = skip_spaces(kend + 1, end);
            if (p >= end || *p != ':') return 1;
            p = skip_spaces(p + 1, end);
            if (p >= end) return 1;
            /* written in place: a value built aside and copied as one 16-byte load
             * right after its narrower stores stalled on store forwarding */
            struct ss_dec_val unread, *v = f >= 0 ? &vals[f] : &unread;
            switch (*p) {
            case '"': {
                if (next_quote(&q) != p) return 1;
                const char *close = next_quote(&q);
                if (!close) return 1;
                v->p = p + 1;
                v->len = (uint32_t)(close - (p + 1));
                v->esc = 0;
                v->str = 1;
                p = close + 1;
                break;
            }
            case '{':
            case '[':
                return 1;
            default:
                if (!(p = scan_scalar(p, end, v))) return 1;
                break;
            }
            p = skip_spaces(p, end);
            if (p < end && *p == ',') {
                p = skip_spaces(p + 1, end);
                continue;
            }
            if (p < end && *p == '}') {
                p++;
                break;
            }
            return 1;
        }
    }
    /* nothing but spaces may follow, and no quote may be left unconsumed */
    if (skip_spaces(p, end) != end || next_quote(&q)) return 1;
    return 0;
}
#endif

int ss_json_scan(struct ss_decoder *d, const char *p, const char *end,
                 struct ss_dec_val vals[SS_DEC_VALS]) {
#ifdef __SSE2__
    if (ss_json_tpl_scan(d, p, end, vals) == 0) return 0;
    for (int f = 0; f < SS_F_COUNT; f++) vals[f].p = NULL;
    if (scan_plain(d, p, end, vals) == 0) {
        ss_json_tpl_learn(d, p, end);
        return 0;
    }
#endif
    for (int f = 0; f < SS_F_COUNT; f++) vals[f].p = NULL;
    return ss_json_scan_slow(d, p, end, vals);
}
