/* test_money.c — exact decimal parsing, rounding and multiplication (core/money.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "harness.h"

static int64_t P(const char *s, int *rc) {
    int64_t v = 77777;
    *rc = ss_money_parse(s, strlen(s), &v);
    return v;
}

#define PARSE_OK(s, want)                                                                          \
    do {                                                                                           \
        int rc_;                                                                                   \
        int64_t v_ = P(s, &rc_);                                                                   \
        CHECK_EQ_INT(rc_, 0);                                                                      \
        CHECK_EQ_INT(v_, want);                                                                    \
    } while (0)
#define PARSE_BAD(s)                                                                               \
    do {                                                                                           \
        int rc_;                                                                                   \
        int64_t v_ = P(s, &rc_);                                                                   \
        CHECK_EQ_INT(rc_, -1);                                                                     \
        CHECK_EQ_INT(v_, 77777); /* *out untouched on error */                                     \
    } while (0)

TEST(parse_plain) {
    PARSE_OK("12.34", 123400);
    PARSE_OK("-12.34", -123400);
    PARSE_OK("0", 0);
    PARSE_OK("-0", 0);
    PARSE_OK("-0.0", 0);
    PARSE_OK("7", 70000);
    PARSE_OK("0.0001", 1);
    PARSE_OK("-0.0001", -1);
    PARSE_OK("1.2345", 12345);
    PARSE_OK("1.23450", 12345);          /* extra digits that are zero are fine */
    PARSE_OK("1.234500000000000000000", 12345);
    PARSE_OK("00012.5", 125000);         /* a decimal string may have leading zeros */
    PARSE_OK("1000.00", 10000000);
    PARSE_OK("10.05", 100500);
    PARSE_OK("100", 1000000);
    PARSE_OK("922337203685477.5807", INT64_MAX);
    PARSE_OK("-922337203685477.5807", -INT64_MAX);
}

TEST(parse_exponent) {
    PARSE_OK("1.5e2", 1500000);
    PARSE_OK("12E-2", 1200);
    PARSE_OK("1E+2", 1000000);
    PARSE_OK("1e0", 10000);
    PARSE_OK("1e-4", 1);
    PARSE_OK("10e-5", 1);
    PARSE_OK("-2.5e-3", -25);
    PARSE_OK("150.0000e0", 1500000);
    PARSE_OK("0e999999999", 0);
    PARSE_OK("0.000000000000000000001e21", 10000);
    PARSE_OK("100000000000000000000000e-23", 10000);
}

TEST(parse_bad) {
    PARSE_BAD("");
    PARSE_BAD("-");
    PARSE_BAD("1.");
    PARSE_BAD(".5");
    PARSE_BAD("-.5");
    PARSE_BAD("+1");
    PARSE_BAD("1e");
    PARSE_BAD("1e+");
    PARSE_BAD("1e-");
    PARSE_BAD("1,5");
    PARSE_BAD(" 1");
    PARSE_BAD("1 ");
    PARSE_BAD("0x10");
    PARSE_BAD("1.2.3");
    PARSE_BAD("1..2");
    PARSE_BAD("abc");
    PARSE_BAD("NaN");
    PARSE_BAD("Infinity");
    PARSE_BAD("--1");
    PARSE_BAD("1-");
    PARSE_BAD("1e2.5");
    PARSE_BAD("0.00001");                /* a fifth significant decimal: never rounded */
    PARSE_BAD("0.000010");
    PARSE_BAD("1.23456");
    PARSE_BAD("1e-5");
    PARSE_BAD("12345e-8");
    PARSE_BAD("1e19");                   /* overflow */
    PARSE_BAD("922337203685477.5808");
    PARSE_BAD("-922337203685477.5809");
    PARSE_BAD("99999999999999999999999999");
    PARSE_BAD("1e999999999999");
}

/* An exponent far below 1/10000 fails; far above overflows (both saturate, no UB). */
TEST(parse_huge_exponents) {
    PARSE_BAD("1234e-10000000000000000000000000");
    PARSE_BAD("1234e+10000000000000000000000000");
    PARSE_OK("0e-10000000000000000000000000", 0);
}

/* Every value in a range, written long-hand and with an exponent, reads back exactly. */
TEST(parse_brute) {
    int bad = 0;
    for (int64_t v = -300000; v <= 300000; v += 7) {
        char s[64], e[64];
        int64_t a = v < 0 ? -v : v;
        snprintf(s, sizeof s, "%s%lld.%04lld", v < 0 ? "-" : "", (long long)(a / 10000), (long long)(a % 10000));
        snprintf(e, sizeof e, "%lldE-4", (long long)v);
        int64_t x = 0, y = 0;
        if (ss_money_parse(s, strlen(s), &x) != 0 || x != v) bad++;
        if (ss_money_parse(e, strlen(e), &y) != 0 || y != v) bad++;
    }
    CHECK_EQ_INT(bad, 0);
}

static const char *F(int64_t v, int places, char *buf) {
    int n = ss_money_format(v, places, buf);
    CHECK_EQ_INT(n, (long long)strlen(buf));
    return buf;
}

TEST(format) {
    char b[32];
    CHECK_EQ_STR(F(123450, 2, b), "12.35");
    CHECK_EQ_STR(F(-123450, 2, b), "-12.35");
    CHECK_EQ_STR(F(50, 2, b), "0.01");      /* 0.005 */
    CHECK_EQ_STR(F(-50, 2, b), "-0.01");
    CHECK_EQ_STR(F(49, 2, b), "0.00");
    CHECK_EQ_STR(F(-49, 2, b), "0.00");     /* no negative zero */
    CHECK_EQ_STR(F(0, 4, b), "0.0000");
    CHECK_EQ_STR(F(0, 0, b), "0");
    CHECK_EQ_STR(F(123456, 0, b), "12");
    CHECK_EQ_STR(F(125000, 0, b), "13");
    CHECK_EQ_STR(F(-125000, 0, b), "-13");
    CHECK_EQ_STR(F(124999, 0, b), "12");
    CHECK_EQ_STR(F(123456, 4, b), "12.3456");
    CHECK_EQ_STR(F(123456, 3, b), "12.346");
    CHECK_EQ_STR(F(123455, 3, b), "12.346");
    CHECK_EQ_STR(F(123454, 3, b), "12.345");
    CHECK_EQ_STR(F(123456, 1, b), "12.3");
    CHECK_EQ_STR(F(129500, 1, b), "13.0");
    CHECK_EQ_STR(F(99995000, 2, b), "9999.50");
    CHECK_EQ_STR(F(99999950, 2, b), "10000.00"); /* carry into the integer part */
    CHECK_EQ_STR(F(12345000, 2, b), "1234.50");
    CHECK_EQ_STR(F(INT64_MAX, 4, b), "922337203685477.5807");
    CHECK_EQ_STR(F(INT64_MAX, 2, b), "922337203685477.58");
    CHECK_EQ_STR(F(INT64_MIN, 4, b), "-922337203685477.5808");
    CHECK_EQ_STR(F(INT64_MIN, 0, b), "-922337203685478");
}

/* Rounding against an independent formula: floor(|v| / div + 1/2), sign restored. */
TEST(format_brute) {
    int bad = 0;
    for (int places = 0; places <= 4; places++) {
        long long div = 1;
        for (int i = 0; i < 4 - places; i++) div *= 10;
        long long unit = 10000 / div;
        for (long long v = -100000; v <= 100000; v += 3) {
            long long a = v < 0 ? -v : v;
            long long q = (2 * a + div) / (2 * div);
            char want[64], got[32];
            if (places)
                snprintf(want, sizeof want, "%s%lld.%0*lld", v < 0 && q ? "-" : "", q / unit, places, q % unit);
            else
                snprintf(want, sizeof want, "%s%lld", v < 0 && q ? "-" : "", q);
            ss_money_format(v, places, got);
            if (strcmp(want, got) != 0) {
                if (bad++ < 5) fprintf(stderr, "format %lld/%d: %s != %s\n", v, places, got, want);
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
}

TEST(mul) {
    int64_t r = 0;
    CHECK_EQ_INT(ss_money_mul(123400, 3, &r), 0);
    CHECK_EQ_INT(r, 370200);
    CHECK_EQ_INT(ss_money_mul(-123400, 3, &r), 0);
    CHECK_EQ_INT(r, -370200);
    CHECK_EQ_INT(ss_money_mul(0, 1000000, &r), 0);
    CHECK_EQ_INT(r, 0);
    r = 5;
    CHECK_EQ_INT(ss_money_mul(INT64_MAX, 2, &r), -1);
    CHECK_EQ_INT(r, 5);
    CHECK_EQ_INT(ss_money_mul(INT64_MIN, -1, &r), -1);
    CHECK_EQ_INT(ss_money_mul(INT64_MAX / 2, 2, &r), 0);
    CHECK_EQ_INT(r, INT64_MAX - 1);
    CHECK_EQ_INT(ss_money_mul(4611686018427387904LL, 2, &r), -1); /* 2^62 * 2 */
}

int main(void) {
    RUN(parse_plain);
    RUN(parse_bad);
    RUN(parse_exponent);
    RUN(parse_huge_exponents);
    RUN(parse_brute);
    RUN(format);
    RUN(format_brute);
    RUN(mul);
    return ss_t_report("money");
}
