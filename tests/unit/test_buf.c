/* test_buf.c — JSON string literals (core/buf.c) against a byte-at-a-time escaper
 * (which also repairs broken UTF-8 from Unicode's table of well-formed sequences):
 * every length across the word-sized fast paths, specials at every position, and
 * strings that end at the edge of an allocation (ASan sees a read past them); and
 * integers against printf. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "harness.h"

/* The well-formed UTF-8 byte sequences, Unicode Table 3-7: per lead byte, the range of
 * each following byte. */
struct seq_form {
    unsigned char lead_lo, lead_hi, n, lo[3], hi[3];
};
static const struct seq_form forms[] = {
    {0xC2, 0xDF, 2, {0x80}, {0xBF}},
    {0xE0, 0xE0, 3, {0xA0, 0x80}, {0xBF, 0xBF}},
    {0xE1, 0xEC, 3, {0x80, 0x80}, {0xBF, 0xBF}},
    {0xED, 0xED, 3, {0x80, 0x80}, {0x9F, 0xBF}},
    {0xEE, 0xEF, 3, {0x80, 0x80}, {0xBF, 0xBF}},
    {0xF0, 0xF0, 4, {0x90, 0x80, 0x80}, {0xBF, 0xBF, 0xBF}},
    {0xF1, 0xF3, 4, {0x80, 0x80, 0x80}, {0xBF, 0xBF, 0xBF}},
    {0xF4, 0xF4, 4, {0x80, 0x80, 0x80}, {0x8F, 0xBF, 0xBF}},
};

/* Bytes from s[i] (>= 0x80) that the model writes as they are (*ok) or replaces with one
 * U+FFFD (the maximal subpart: lead plus the following bytes that still fit its form). */
static size_t model_seq(const unsigned char *s, size_t n, size_t i, bool *ok) {
    *ok = false;
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        if (s[i] < forms[f].lead_lo || s[i] > forms[f].lead_hi) continue;
        size_t k = 1;
        while (k < forms[f].n && i + k < n && s[i + k] >= forms[f].lo[k - 1] && s[i + k] <= forms[f].hi[k - 1]) k++;
        *ok = k == forms[f].n;
        return k;
    }
    return 1;
}

/* RFC 8259 escaping the obvious way, invalid UTF-8 as U+FFFD: the independent model. */
static void model(struct ss_buf *b, const unsigned char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    ss_buf_addc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            bool ok;
            size_t k = model_seq(s, n, i, &ok);
            if (ok) ss_buf_add(b, s + i, k);
            else ss_buf_add(b, "\xEF\xBF\xBD", 3);
            i += k - 1;
            continue;
        }
        char esc[7] = {0};
        if (c == '"') strcpy(esc, "\\\"");
        else if (c == '\\') strcpy(esc, "\\\\");
        else if (c == '\n') strcpy(esc, "\\n");
        else if (c == '\r') strcpy(esc, "\\r");
        else if (c == '\t') strcpy(esc, "\\t");
        else if (c < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
        }
        if (esc[0]) ss_buf_add(b, esc, strlen(esc));
        else ss_buf_addc(b, (char)c);
    }
    ss_buf_addc(b, '"');
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static unsigned char pick(void) {
    /* with leads and continuations enough to form valid and broken UTF-8 by chance, and
     * the bytes one above a quote and a backslash, which a word-wide zero-byte test with
     * a borrow between bytes would take for them */
    static const unsigned char special[] = {'"', '\\', '#', ']', '\n', '\r', '\t', 0, 1, 0x1f, 0x20, 0x7f, 0x80, 0xff,
                                            0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0xED, 0xA0, 0xF4, 0x90, 0xC0};
    return rnd() % 3 == 0 ? special[rnd() % sizeof special] : (unsigned char)('a' + rnd() % 26);
}

/* The string sits at the very end of its own allocation, after some text already in
 * the buffer, and the result must equal the model's byte for byte. */
static bool agrees(const unsigned char *src, size_t n, size_t prefix) {
    unsigned char *s = malloc(n ? n : 1);
    if (n) memcpy(s, src, n);
    struct ss_buf got = {0}, want = {0};
    for (size_t i = 0; i < prefix; i++) {
        ss_buf_addc(&got, 'x');
        ss_buf_addc(&want, 'x');
    }
    ss_buf_add_json_str(&got, (const char *)s, n);
    model(&want, s, n);
    bool ok = got.len == want.len && memcmp(got.p, want.p, got.len) == 0;
    if (!ok) fprintf(stderr, "  n=%zu prefix=%zu got %.*s want %.*s\n", n, prefix, (int)got.len, got.p,
                     (int)want.len, want.p);
    ss_buf_free(&got);
    ss_buf_free(&want);
    free(s);
    return ok;
}

TEST(literals) {
    struct ss_buf b = {0};
    ss_buf_add_json_str(&b, "p4287", 5);
    ss_buf_add_json_str(&b, "", 0);
    ss_buf_add_json_str(&b, "a\"b", 3);
    ss_buf_add_json_str(&b, "tab\there", 8);
    ss_buf_addc(&b, 0);
    CHECK_EQ_STR(b.p, "\"p4287\"\"\"\"a\\\"b\"\"tab\\there\"");
    ss_buf_free(&b);
    /* UTF-8 is copied, broken UTF-8 is repaired: the texts Python's "replace" gives */
    struct ss_buf u = {0};
    ss_buf_add_json_str(&u, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 14);
    ss_buf_add_json_str(&u, "a\xFF\xC3\xA9" "b\xE2\x82", 7);
    ss_buf_add_json_str(&u, "\xED\xA0\x80|\xF0\x9F\x98", 7);
    ss_buf_addc(&u, 0);
    CHECK_EQ_STR(u.p, "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\""
                      "\"a\xEF\xBF\xBD\xC3\xA9" "b\xEF\xBF\xBD\""
                      "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\"");
    ss_buf_free(&u);
}

TEST(each_special_at_each_position) {
    static const unsigned char special[] = {'"', '\\', '\n', 0, 0x1f, 0x7f, 0x80, 0xff, 0xC3, 0xF0};
    unsigned char s[24];
    for (size_t n = 1; n <= sizeof s; n++)
        for (size_t at = 0; at < n; at++)
            for (size_t k = 0; k < sizeof special; k++) {
                memset(s, 'q', n);
                s[at] = special[k];
                CHECK(agrees(s, n, at % 3));
            }
}

TEST(random_strings) {
    unsigned char s[48];
    for (int round = 0; round < 20000; round++) {
        size_t n = rnd() % (sizeof s + 1);
        for (size_t i = 0; i < n; i++) s[i] = pick();
        CHECK(agrees(s, n, rnd() % 5));
    }
}

/* Integers against printf: every power of ten and its neighbours (each digit count,
 * both signs), the extremes, and random values of every size; after some text, as
 * rows write them. */
static bool int_agrees(int64_t v, size_t prefix) {
    struct ss_buf got = {0};
    for (size_t i = 0; i < prefix; i++) ss_buf_addc(&got, ',');
    ss_buf_add_i64(&got, v);
    char want[64];
    int n = snprintf(want, sizeof want, "%.*s%" PRId64, (int)prefix, ",,,,,,,,", v);
    bool ok = got.len == (size_t)n && memcmp(got.p, want, (size_t)n) == 0;
    if (!ok) fprintf(stderr, "  %" PRId64 ": got %.*s\n", v, (int)got.len, got.p);
    ss_buf_free(&got);
    return ok;
}

TEST(integers) {
    int64_t p = 1; /* 10^d */
    for (int d = 0; d < 19; d++) {
        for (int64_t k = -1; k <= 1; k++) {
            CHECK(int_agrees(p + k, (size_t)d % 4));
            CHECK(int_agrees(-(p + k), (size_t)d % 3));
        }
        if (d < 18) p *= 10;
    }
    CHECK(int_agrees(INT64_MAX, 0));
    CHECK(int_agrees(INT64_MIN, 1));
    CHECK(int_agrees(INT64_MIN + 1, 2));
    for (int round = 0; round < 20000; round++) {
        int64_t v = (int64_t)(rnd() >> (rnd() % 64));
        CHECK(int_agrees(round % 2 ? v : -v, rnd() % 8));
    }
    struct ss_buf b = {0};
    ss_buf_add_i64(&b, 0);
    ss_buf_add_i64(&b, 7);
    ss_buf_add_i64(&b, -12);
    ss_buf_add_i64(&b, 305);
    ss_buf_addc(&b, 0);
    CHECK_EQ_STR(b.p, "07-12305");
    ss_buf_free(&b);
}

int main(void) {
    RUN(literals);
    RUN(each_special_at_each_position);
    RUN(random_strings);
    RUN(integers);
    return ss_t_report("buf");
}
