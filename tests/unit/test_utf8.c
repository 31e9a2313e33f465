/* test_utf8.c — UTF-8 validity and repair (core/utf8.c). The repaired texts are what
 * Python's bytes.decode("utf-8", "replace") gives for the same bytes (computed there,
 * pasted here): U+FFFD per maximal invalid subpart, as Unicode recommends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "harness.h"

#define R "\xEF\xBF\xBD" /* U+FFFD */

static void repaired_n(const char *s, size_t n, bool allow_nul, const char *want, size_t want_n) {
    struct ss_buf b = {0};
    ss_utf8_repair(&b, s, n, allow_nul);
    bool ok = b.len == want_n && memcmp(b.p, want, b.len) == 0;
    if (!ok) fprintf(stderr, "  repair of %zu bytes gave %zu bytes\n", n, b.len);
    CHECK(ok);
    ss_buf_free(&b);
}
/* literals only: their sizes count embedded NULs */
#define repaired(s, allow_nul, want) repaired_n(s, sizeof(s) - 1, allow_nul, want, sizeof(want) - 1)

TEST(valid_prefix) {
    CHECK_EQ_INT(ss_utf8_valid_prefix("a\xC3\xA9z", 4, false), 4);
    CHECK_EQ_INT(ss_utf8_valid_prefix("ab\xC3", 3, false), 2);           /* truncated */
    CHECK_EQ_INT(ss_utf8_valid_prefix("\xED\xA0\x80", 3, false), 0);     /* surrogate */
    CHECK_EQ_INT(ss_utf8_valid_prefix("\xED\x9F\xBF", 3, false), 3);     /* U+D7FF */
    CHECK_EQ_INT(ss_utf8_valid_prefix("\xF4\x90\x80\x80", 4, false), 0); /* > U+10FFFF */
    CHECK_EQ_INT(ss_utf8_valid_prefix("\xF4\x8F\xBF\xBF", 4, false), 4); /* U+10FFFF */
    CHECK_EQ_INT(ss_utf8_valid_prefix("\xE0\x80\x80", 3, false), 0);     /* overlong */
    CHECK_EQ_INT(ss_utf8_valid_prefix("\xC0\xAF", 2, false), 0);         /* overlong '/' */
    CHECK_EQ_INT(ss_utf8_valid_prefix("\xF0\x8F\xBF\xBF", 4, false), 0); /* overlong */
    CHECK_EQ_INT(ss_utf8_valid_prefix("\xF0\x9F\x98\x80!", 5, false), 5);
    CHECK_EQ_INT(ss_utf8_valid_prefix("a\0b", 3, false), 1);
    CHECK_EQ_INT(ss_utf8_valid_prefix("a\0b", 3, true), 3);
    CHECK_EQ_INT(ss_utf8_valid_prefix("", 0, false), 0);
}

TEST(repair) {
    repaired("plain", false, "plain");
    repaired("a\xFF\xC3\xA9\0b\xE2\x82", true, "a" R "\xC3\xA9" "\0b" R);
    /* the same with NUL refused (PostgreSQL text) */
    repaired("a\xFF\xC3\xA9\0b\xE2\x82", false, "a" R "\xC3\xA9" R "b" R);
    repaired("\xE2\x82\xE2\x82\xAC", true, R "\xE2\x82\xAC");
    repaired("\xF0\x9F\x98", true, R);
    repaired("\xED\xA0\x80", true, R R R);
    repaired("\xE0\x80\x80", true, R R R);
    repaired("\xF4\x90\x80\x80", true, R R R R);
    repaired("\xC0\xAF", true, R R);
    repaired("\x80\x80", true, R R);
    repaired("\xE1\x80\xE2\xF0\x91\x92\xF1\xBF" "A", true, R R R R "A");
}

/* The word-at-a-time check against the byte-wise one: a broken or valid non-ASCII
 * sequence at every position of ASCII text of every length up to 40. */
TEST(valid_every_position) {
    static const char *const seqs[] = {"\xFF", "\xC3\xA9", "\xC3", "\xE2\x82\xAC", "\xED\xA0\x80", "\x80"};
    char s[48];
    for (size_t n = 0; n <= 40; n++)
        for (size_t at = 0; at <= n; at++)
            for (size_t k = 0; k < sizeof seqs / sizeof seqs[0]; k++) {
                size_t m = strlen(seqs[k]);
                memset(s, '\xFF', sizeof s); /* what follows the text must not count */
                memset(s, 'q', n);
                memcpy(s + at, seqs[k], m);
                size_t len = at + m > n ? at + m : n;
                bool want = ss_utf8_valid_prefix(s, len, true) == len;
                CHECK(ss_utf8_valid(s, len) == want);
                CHECK(want == (k == 1 || k == 3));
            }
    char ascii[40];
    memset(ascii, 'a', sizeof ascii);
    for (size_t n = 0; n <= sizeof ascii; n++) CHECK(ss_utf8_valid(ascii, n));
}

int main(void) {
    RUN(valid_prefix);
    RUN(repair);
    RUN(valid_every_position);
    return ss_t_report("utf8");
}
