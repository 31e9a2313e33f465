/* harness.h — the unit-test harness: each test binary is one module's tests.
 * CHECK records a failure with file:line and carries on; main prints
 * "N passed, N failed" and exits non-zero when anything failed. */
#ifndef SS_HARNESS_H
#define SS_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int ss_t_passed, ss_t_failed;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (cond) ss_t_passed++;                                                      \
        else { ss_t_failed++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                            \
    do {                                                                              \
        long long ss_a_ = (long long)(a), ss_b_ = (long long)(b);                     \
        if (ss_a_ == ss_b_) ss_t_passed++;                                            \
        else { ss_t_failed++; fprintf(stderr, "FAIL %s:%d: %s == %s (%lld != %lld)\n", \
                                      __FILE__, __LINE__, #a, #b, ss_a_, ss_b_); }     \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                            \
    do {                                                                              \
        const char *ss_a_ = (a), *ss_b_ = (b);                                        \
        if (ss_a_ && ss_b_ && strcmp(ss_a_, ss_b_) == 0) ss_t_passed++;               \
        else { ss_t_failed++; fprintf(stderr, "FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n", \
                                      __FILE__, __LINE__, #a, #b, ss_a_ ? ss_a_ : "(null)", \
                                      ss_b_ ? ss_b_ : "(null)"); }                     \
    } while (0)

#define TEST(name) static void name(void)
#define RUN(name) do { name(); } while (0)

static inline int ss_t_report(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, ss_t_passed, ss_t_failed);
    return ss_t_failed ? 1 : 0;
}

#endif
