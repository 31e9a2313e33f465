/* test_redis_payload.c — the Redis sink's DUMP payloads (RESTORE ... REPLACE of a row:
 * listpack, RDB framing, CRC-64) against payloads DUMPed by redis-server 7.0.15, and
 * its JSON array parser (src/sink/redis_sink.c). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "harness.h"
#include "sink/redis_payload.h"
#include "sink/redis_sink.h"

static size_t unhex(const char *h, unsigned char *out) {
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (unsigned char)v;
    }
    return n;
}

static bool same_bytes(const struct ss_buf *b, const char *hex) {
    unsigned char want[512];
    size_t n = unhex(hex, want);
    if (b->len != n || memcmp(b->p, want, n) != 0) {
        fprintf(stderr, "  got  ");
        for (size_t i = 0; i < b->len; i++) fprintf(stderr, "%02x", (unsigned char)b->p[i]);
        fprintf(stderr, "\n  want %s\n", hex);
        return false;
    }
    return true;
}

TEST(crc64_check_value) {
    /* Redis' crc64.c test vector */
    CHECK(ss_redis_crc64("123456789", 9) == 0xe9c6d914c4b8d9caULL);
    CHECK(ss_redis_crc64("", 0) == 0);
}

TEST(list_payload_as_redis_dumps_it) {
    /* RPUSH L3 a bc "x\0\xc3\xbf\"" (a NUL, UTF-8); DUMP L3 (strings that are not integers) */
    struct ss_buf lp = {0}, out = {0};
    ss_redis_lp_begin(&lp);
    ss_redis_lp_str(&lp, "a", 1);
    ss_redis_lp_str(&lp, "bc", 2);
    ss_redis_lp_str(&lp, "x\0\xc3\xbf\"", 5);
    ss_redis_lp_end(&lp, 3);
    ss_buf_adds(&out, "prefix"); /* appended after what out holds; the CRC covers the payload only */
    out.len = 0;
    ss_redis_dump_payload(&out, false, &lp);
    CHECK(same_bytes(&out, "1201021515000000030081610282626303857800c3bf2206ff0a0021eb260d0191ac78"));
    ss_buf_free(&lp);
    ss_buf_free(&out);
}

TEST(hash_payload_as_redis_dumps_it) {
    /* HSET H2 window_end 2026-11-27T10:31:00.000Z final false; DUMP H2 */
    struct ss_buf lp = {0}, out = {0};
    ss_redis_lp_begin(&lp);
    ss_redis_lp_str(&lp, "window_end", 10);
    ss_redis_lp_str(&lp, "2026-11-27T10:31:00.000Z", 24);
    ss_redis_lp_str(&lp, "final", 5);
    ss_redis_lp_str(&lp, "false", 5);
    ss_redis_lp_end(&lp, 4);
    ss_buf_adds(&out, "xy"); /* a payload appended to an argument being built */
    ss_redis_dump_payload(&out, true, &lp);
    struct ss_buf tail = {0};
    ss_buf_add(&tail, out.p + 2, out.len - 2);
    CHECK(memcmp(out.p, "xy", 2) == 0);
    CHECK(same_bytes(&tail, "103b3b00000004008a77696e646f775f656e640b98323032362d31312d32375431303a33313a30302e3030305a"
                            "198566696e616c068566616c736506ff0a00557f113390562725"));
    ss_buf_free(&lp);
    ss_buf_free(&out);
    ss_buf_free(&tail);
}

/* Longer entries: 12-bit and 32-bit string lengths, 1- to 3-byte backlens (listpack.c). */
TEST(listpack_long_entries) {
    static char s[20000];
    memset(s, 'z', sizeof s);
    struct {
        size_t n;
        const char *head, *back;
    } cases[] = {
        {63, "bf", "40"},                 /* 6-bit length, entry 64 bytes */
        {64, "e040", "42"},               /* 12-bit length */
        {125, "e07d", "7f"},              /* entry 127 bytes: 1-byte backlen */
        {126, "e07e", "0180"},            /* entry 128 bytes: 2 bytes (128 >> 7, 128 & 127 | 128) */
        {200, "e0c8", "01ca"},            /* as redis-server 7.0.15 wrote it */
        {4095, "efff", "2081"},           /* the longest 12-bit length */
        {4096, "f000100000", "2085"},     /* 32-bit length, entry 4101 bytes */
        {5000, "f088130000", "278d"},     /* as redis-server 7.0.15 wrote it */
        {16380, "f0fc3f0000", "018081"},  /* entry 16385 bytes: 3-byte backlen */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ss_buf lp = {0}, want = {0};
        ss_redis_lp_begin(&lp);
        ss_redis_lp_str(&lp, s, cases[i].n);
        ss_redis_lp_end(&lp, 1);
        unsigned char h[8], bk[8];
        size_t hn = unhex(cases[i].head, h), bn = unhex(cases[i].back, bk);
        size_t total = 6 + hn + cases[i].n + bn + 1;
        CHECK_EQ_INT(lp.len, total);
        unsigned char hdr[6] = {(unsigned char)(total & 0xFF), (unsigned char)(total >> 8 & 0xFF),
                                (unsigned char)(total >> 16 & 0xFF), (unsigned char)(total >> 24), 1, 0};
        ss_buf_add(&want, hdr, 6);
        ss_buf_add(&want, h, hn);
        ss_buf_add(&want, s, cases[i].n);
        ss_buf_add(&want, bk, bn);
        ss_buf_addc(&want, (char)0xFF);
        if (lp.len != want.len || memcmp(lp.p, want.p, want.len) != 0) {
            fprintf(stderr, "  listpack entry of %zu bytes differs\n", cases[i].n);
            CHECK(false);
        } else {
            CHECK(true);
        }
        ss_buf_free(&lp);
        ss_buf_free(&want);
    }
}

TEST(empty_and_many_entries_header) {
    struct ss_buf lp = {0};
    ss_redis_lp_begin(&lp);
    ss_redis_lp_end(&lp, 0);
    CHECK(lp.len == 7 && memcmp(lp.p, "\x07\0\0\0\0\0\xff", 7) == 0);
    ss_redis_lp_begin(&lp);
    for (int i = 0; i < 70000; i++) ss_redis_lp_str(&lp, "", 0);
    ss_redis_lp_end(&lp, 70000);
    CHECK((unsigned char)lp.p[4] == 0xFF && (unsigned char)lp.p[5] == 0xFF); /* 65535: unknown, count them */
    CHECK_EQ_INT(lp.len, 6 + 70000 * 2 + 1);
    ss_buf_free(&lp);
}

TEST(rdb_length_of_a_long_listpack) {
    /* the listpack's length in the RDB framing: 6-bit, 14-bit, 32-bit big-endian */
    struct ss_buf lp = {0}, out = {0};
    static char s[20000];
    memset(s, 'q', sizeof s);
    size_t ns[] = {40, 300, 17000};
    const char *want[] = {"\x12\x01\x02", "\x12\x01\x02\x41", "\x12\x01\x02\x80\x00\x00"};
    size_t wn[] = {3, 4, 6};
    for (int k = 0; k < 3; k++) {
        ss_redis_lp_begin(&lp);
        ss_redis_lp_str(&lp, s, ns[k]);
        ss_redis_lp_end(&lp, 1);
        out.len = 0;
        ss_redis_dump_payload(&out, false, &lp);
        CHECK(memcmp(out.p, want[k], wn[k]) == 0);
        CHECK_EQ_INT(out.len, 3 + (lp.len < 64 ? 1 : lp.len < 16384 ? 2 : 5) + lp.len + 10);
        uint64_t crc = ss_redis_crc64(out.p, out.len - 8), got = 0;
        for (int b = 0; b < 8; b++) got |= (uint64_t)(unsigned char)out.p[out.len - 8 + (size_t)b] << 8 * b;
        CHECK(crc == got);
        CHECK(out.p[out.len - 10] == 10 && out.p[out.len - 9] == 0); /* RDB version 10, little-endian */
    }
    ss_buf_free(&lp);
    ss_buf_free(&out);
}

TEST(parse_str_array) {
    struct ss_buf b = {0};
    uint32_t *lens = NULL;
    size_t cap = 0, n = 0, at = 0;
    const char *j = " [\"p1\", \"a\\\"b\", \"\\u00e9\\ud83d\\ude00\", \"t\\tx\\/\"] ";
    CHECK_EQ_INT(ss_redis_parse_str_array(j, strlen(j), &b, &lens, &cap, &n, &at), 0);
    CHECK_EQ_INT(n, 4);
    CHECK(n == 4 && lens[0] == 2 && lens[1] == 3 && lens[2] == 6 && lens[3] == 4);
    CHECK(b.len == 15 && memcmp(b.p, "p1a\"b\xc3\xa9\xf0\x9f\x98\x80t\tx/", 15) == 0);
    b.len = 0;
    CHECK_EQ_INT(ss_redis_parse_str_array("[]", 2, &b, &lens, &cap, &n, &at), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(ss_redis_parse_str_array("[\"a\",1]", 7, &b, &lens, &cap, &n, &at), -1);
    CHECK_EQ_INT(at, 5);
    ss_free(lens);
    ss_buf_free(&b);
}

int main(void) {
    RUN(crc64_check_value);
    RUN(list_payload_as_redis_dumps_it);
    RUN(hash_payload_as_redis_dumps_it);
    RUN(listpack_long_entries);
    RUN(empty_and_many_entries_header);
    RUN(rdb_length_of_a_long_listpack);
    RUN(parse_str_array);
    return ss_t_report("redis_payload");
}
