/* json_template.c — the JSON scanner's fastest path. Records of one producer repeat
 * more than their keys: every byte between two values (`","user_id":"`) is the same
 * from one record to the next. A template is that sequence of literal segments,
 * learnt from a record the plain path (json.c) accepted. A record that repeats every
 * segment byte for byte, whose string values hold no quote, backslash or control byte,
 * and whose other values are valid scalars, has the same structure as the record the
 * template came from, so it scans to the values the slow path would give, without a
 * key being looked at. Anything else (another key order, a space, a nested value, an
 * escape) misses, and the plain path decides; it may learn a new template.
 * tests/unit/test_decode.c compares this path with the slow one on mutated records. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "decode_internal.h"
#include "json_shared.h"

#ifdef __SSE2__
#include <emmintrin.h>

_Static_assert(SS_F_COUNT <= 16, "struct ss_json_tpl.absent has a bit per field");

/* A failed learning attempt that replaced a layout which never matched again: after
 * this many, the record layouts vary too much for templates to pay. */
#define WASTED_MAX 8

static inline __m128i load16(const char *p) { return _mm_loadu_si128((const __m128i *)(const void *)p); }

/* Whether the record at p (which ends at end) starts with the n literal bytes at seg;
 * seg is padded to a multiple of 16 bytes, so it can always be loaded whole. */
static inline bool segment_matches(const char *p, const char *end, const char *seg, unsigned n) {
    if ((size_t)(end - p) < n) return false;
    for (; n >= 16; n -= 16, p += 16, seg += 16)
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(load16(p), load16(seg))) != 0xFFFF) return false;
    if (n == 0) return true;
    if (end - p >= 16) {
        unsigned want = (1u << n) - 1;
        return ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(load16(p), load16(seg))) & want) == want;
    }
    return memcmp(p, seg, n) == 0;
}

/* The closing quote of a string body that starts at p, or NULL when the body holds a
 * backslash or a control byte first (or is unterminated). Nothing before start or at
 * end or beyond is read: the last bytes are loaded as the record's last 16, shifted. */
static inline const char *string_end(const char *p, const char *start, const char *end) {
    for (;;) {
        unsigned m;
        if (end - p >= 16) {
            m = ss_json_specials(load16(p));
            if (!m) {
                p += 16;
                continue;
            }
        } else if (end - start >= 16) {
            m = ss_json_specials(load16(end - 16)) >> (16 - (end - p));
            if (!m) return NULL;
        } else {
            while (p < end && (uint8_t)*p >= 0x20 && *p != '\\' && *p != '"') p++;
            return p < end && *p == '"' ? p : NULL;
        }
        p += __builtin_ctz(m);
        return *p == '"' ? p : NULL;
    }
}

static inline bool digit(char c) { return c >= '0' && c <= '9'; }

/* scan_scalar, with the commonest case first: one digit (a quantity). A '.' or an 'e'
 * after it would make a longer number, but the next segment (which starts with ','
 * or '}') then fails to match and the plain path takes the record. */
static inline const char *scalar(const char *p, const char *end, struct ss_dec_val *v) {
    if (end - p >= 2 && digit(p[0]) && !digit(p[1])) {
        *v = (struct ss_dec_val){p, 1, 0, 0};
        return p + 1;
    }
    return scan_scalar(p, end, v);
}

/* 0 when the record has template t's layout. */
static int match(const struct ss_json_tpl *t, const char *p, const char *end,
                 struct ss_dec_val vals[SS_DEC_VALS]) {
    const char *start = p;
    for (int i = 0; i < t->nvals; i++) {
        const struct ss_json_tpl_value *tv = &t->v[i];
        unsigned n = tv->seg_len;
        if (n <= 16 && end - p >= 16) {
            unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(load16(p), load16(t->text + tv->seg_at)));
            if (~eq & tv->seg_mask) return 1;
        } else if (!segment_matches(p, end, t->text + tv->seg_at, n)) {
            return 1;
        }
        p += n;
        struct ss_dec_val *v = &vals[tv->field];
        if (tv->string) {
            const char *close = string_end(p, start, end);
            if (!close) return 1;
            v->p = p;
            v->len = (uint32_t)(close - p);
            v->esc = 0;
            v->str = 1;
            p = close; /* the closing quote begins the next segment */
        } else {
            if (p >= end || !(p = scalar(p, end, v))) return 1;
        }
    }
    unsigned n = t->last_len;
    if (p + n != end) return 1;
    if (n <= 16 && end - start >= 16) {
        unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(load16(end - 16), load16(t->tail)));
        return ~eq & t->tail_mask ? 1 : 0;
    }
    return segment_matches(p, end, t->text + t->last_at, n) ? 0 : 1;
}

int ss_json_tpl_scan(struct ss_decoder *d, const char *p, const char *end,
                     struct ss_dec_val vals[SS_DEC_VALS]) {
    for (int i = 0; i < d->ntpl; i++) {
        struct ss_json_tpl *t = &d->tpl[i];
        if (match(t, p, end, vals) != 0) continue;
        for (unsigned a = t->absent; a; a &= a - 1) vals[__builtin_ctz(a)].p = NULL;
        if (++t->hits == UINT32_MAX)
            for (int j = 0; j < d->ntpl; j++) d->tpl[j].hits >>= 1;
        /* most used first: a layout that overtakes the one before it swaps places */
        if (i > 0 && t->hits > d->tpl[i - 1].hits) {
            struct ss_json_tpl tmp = *t;
            *t = d->tpl[i - 1];
            d->tpl[i - 1] = tmp;
        }
        return 0;
    }
    return 1;
}

/* Appends the literal bytes [s, e) to t's text: false when they do not fit. */
static bool add_segment(struct ss_json_tpl *t, unsigned *used, const char *s, const char *e,
                        uint16_t *at, uint16_t *len) {
    size_t n = (size_t)(e - s), padded = (n + 15) & ~(size_t)15;
    if (padded == 0) padded = 16;
    if (*used + padded > SS_JSON_TPL_BYTES) return false;
    memcpy(t->text + *used, s, n);
    memset(t->text + *used + n, 0, padded - n);
    *at = (uint16_t)*used;
    *len = (uint16_t)n;
    *used += (unsigned)padded;
    return true;
}

/* The record was accepted by the plain path: no backslash or control byte anywhere,
 * so every quote delimits a string. Only a record without white space outside its
 * strings and with at most SS_JSON_TPL_VALUES values becomes a template. */
void ss_json_tpl_learn(struct ss_decoder *d, const char *p, const char *end) {
    if (d->tpl_wasted >= WASTED_MAX) return;
    struct ss_json_tpl t;
    t.nvals = 0;
    t.hits = 0;
    t.absent = (uint16_t)((1u << SS_F_COUNT) - 1);
    unsigned used = 0;
    const char *seg = p;
    if (p >= end || *p++ != '{' || p >= end || *p == '}') return;
    for (int i = 0;; i++) {
        if (i == SS_JSON_TPL_VALUES || p >= end || *p != '"') return;
        const char *k = p + 1, *kend = memchr(k, '"', (size_t)(end - k));
        if (!kend) return;
        int f = ss_dec_lookup(d, k, (size_t)(kend - k));
        p = kend + 1;
        if (p >= end || *p++ != ':' || p >= end) return;
        bool str = *p == '"';
        if (str) p++;
        struct ss_json_tpl_value *tv = &t.v[i];
        if (!add_segment(&t, &used, seg, p, &tv->seg_at, &tv->seg_len)) return;
        tv->seg_mask = tv->seg_len >= 16 ? 0xFFFF : (uint16_t)((1u << tv->seg_len) - 1);
        tv->field = (uint8_t)(f >= 0 ? f : SS_F_COUNT);
        if (f >= 0) t.absent &= (uint16_t)~(1u << f);
        tv->string = str;
        t.nvals = (uint8_t)(i + 1);
        if (str) {
            const char *close = memchr(p, '"', (size_t)(end - p));
            if (!close) return;
            seg = close;
            p = close + 1;
        } else {
            struct ss_dec_val v;
            if (!(p = scan_scalar(p, end, &v))) return; /* a container is no scalar */
            seg = p;
        }
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == '}' && p + 1 == end) break;
        return;
    }
    if (!add_segment(&t, &used, seg, end, &t.last_at, &t.last_len)) return;
    memset(t.tail, 0, sizeof t.tail);
    t.tail_mask = 0;
    if (t.last_len <= 16) {
        memcpy(t.tail + 16 - t.last_len, seg, t.last_len);
        t.tail_mask = (uint16_t)(0xFFFFu << (16 - t.last_len));
    }
    int slot = d->ntpl;
    if (slot == SS_JSON_TPLS) {
        slot = SS_JSON_TPLS - 1; /* the least used: the slots are kept in order of use */
        if (d->tpl[slot].hits == 0) d->tpl_wasted++;
    } else {
        d->ntpl++;
    }
    d->tpl[slot] = t;
}

#else /* without SSE2 the plain path decides every record */

int ss_json_tpl_scan(struct ss_decoder *d, const char *p, const char *end,
                     struct ss_dec_val vals[SS_DEC_VALS]) {
    (void)d, (void)p, (void)end, (void)vals;
    return 1;
}

void ss_json_tpl_learn(struct ss_decoder *d, const char *p, const char *end) { (void)d, (void)p, (void)end; }

#endif
