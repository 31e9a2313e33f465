/* fence_driver.c — two shopstream writers on one destination, for the end-to-end tests
 * of the sinks that fence on the epoch (PostgreSQL, Redis; SQLite has a unit test).
 *
 *   fence_driver two-writers URL
 *       opens the sink twice on URL, as two processes started one after the other
 *       would; A commits the next epoch (recently viewed row of user "fence-a"), then B
 *       commits the same epoch number (user "fence-b"), then A goes on with the next.
 *       B must fail with SS_ERROR naming another process; A must not notice anything.
 *       The calling script checks that fence-a is stored and fence-b is not.
 * Exit status 0 when every commit answered as expected. */
#include <stdio.h>
#include <string.h>

#include "core/table.h"
#include "sink/sink.h"

#include "../../sink_rows.h"

static int failures;

static void expect(int cond, const char *what, const struct ss_err *err) {
    if (cond) return;
    failures++;
    fprintf(stderr, "fence_driver: FAIL %s (%s)\n", what, err->msg);
}

static int commit(struct ss_sink *sk, uint64_t epoch, const char *user, struct ss_err *err) {
    struct ss_out o;
    ss_out_init(&o);
    rv_row(&o, user, "[\"p1\"]", T0 + (int64_t)epoch);
    struct ss_position pos = {.source = "clicks", .partition = 0, .next_offset = (int64_t)epoch, .lag = -1,
                              .max_ts = INT64_MIN};
    struct ss_epoch ep = {.epoch = epoch, .rows = &o, .positions = &pos, .npositions = 1};
    *err = (struct ss_err){0};
    int rc = sk->type->commit(sk, &ep, err);
    ss_out_free(&o);
    return rc;
}

static int two_writers(const char *url) {
    struct ss_err err = {0};
    struct ss_sink *a = NULL, *b = NULL;
    if (ss_sink_open_url(&a, url, NULL, &err) || ss_sink_open_url(&b, url, NULL, &err)) {
        fprintf(stderr, "fence_driver: open %s: %s\n", url, err.msg);
        if (a) a->type->close(a);
        return 1;
    }
    uint64_t next = (a->committed_epoch > b->committed_epoch ? a->committed_epoch : b->committed_epoch) + 1;
    expect(commit(a, next, "fence-a", &err) == SS_OK, "A commits its first epoch", &err);
    int rc = commit(b, next, "fence-b", &err);
    expect(rc == SS_ERROR, "B, at the same epoch, is refused", &err);
    expect(strstr(err.msg, "another shopstream process") != NULL, "the refusal names another process", &err);
    printf("B: %s\n", err.msg);
    expect(commit(a, next + 1, "fence-a", &err) == SS_OK, "A goes on", &err);
    a->type->close(a);
    b->type->close(b);
    return failures ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "two-writers") == 0) return two_writers(argv[2]);
    fprintf(stderr, "usage: fence_driver two-writers URL\n");
    return 2;
}
