/* sink_check.h — what every sink's check hook must do, for the sink unit tests: refuse
 * what open refuses, in open's words, and accept a good URL while creating nothing
 * (`run --print-config` relies on both). Header-only: each test includes it once. */
#ifndef SS_TEST_SINK_CHECK_H
#define SS_TEST_SINK_CHECK_H

#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sink/sink.h"

/* check and open both refuse url as bad usage with the same message, which names want. */
static inline void expect_refused_alike(const struct ss_sink_type *type, const char *url,
                                        const struct ss_config *cfg, const char *want) {
    struct ss_err cerr = {0}, oerr = {0};
    struct ss_sink *sk = NULL;
    CHECK_EQ_INT(type->check(url, cfg, &cerr), SS_EUSAGE);
    CHECK_EQ_INT(type->open(&sk, url, cfg, &oerr), SS_EUSAGE);
    CHECK(sk == NULL);
    if (sk) type->close(sk);
    CHECK_EQ_STR(cerr.msg, oerr.msg);
    if (!strstr(cerr.msg, want)) fprintf(stderr, "  (%s: the message \"%s\" lacks \"%s\")\n", url, cerr.msg, want);
    CHECK(strstr(cerr.msg, want) != NULL);
}

/* check accepts url and leaves path (a file or directory open would create; NULL: none)
 * not there. */
static inline void expect_checked_ok(const struct ss_sink_type *type, const char *url, const struct ss_config *cfg,
                                     const char *path) {
    struct ss_err err = {0};
    CHECK_EQ_INT(type->check(url, cfg, &err), SS_OK);
    if (err.msg[0]) fprintf(stderr, "  (%s: %s)\n", url, err.msg);
    if (path) CHECK(access(path, F_OK) != 0);
}

#endif
