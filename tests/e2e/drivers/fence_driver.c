/* fence_driver.c — two shopstream writers on one destination, for the end-to-end tests
 * of the sinks that fence on the epoch (PostgreSQL, Redis; SQLite has a unit test).
 *
 *   fence_driver two-writers URL
 *       opens the sink twice on URL, as two processes started one after the other
 *       would; A commits the next epoch (recently viewed row of user "fence-a"), then B
 *       commits the same epoch number (user "fence-b"), then A goes on with the next.
 *       B must fail with SS_ERROR naming another process; A must not notice anything.
 *       The calling script checks that fence-a is stored and fence-b is not.
 *   fence_driver locked URL
 *       for the PostgreSQL sink, which holds a writer lock per database: A opens; B's open
 *       answers SS_RETRY naming another process (the engine retries it for
 *       sink.connect_timeout); A commits; a writer past the lock (psql, standing in for one
 *       the lock cannot see) moves the stored epoch on, and A's next commit is refused by
 *       the fence naming another process; once A is closed, B opens.
 * Exit status 0 when every commit answered as expected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int locked(const char *url) {
    struct ss_err err = {0};
    struct ss_sink *a = NULL, *b = NULL;
    if (ss_sink_open_url(&a, url, NULL, &err)) {
        fprintf(stderr, "fence_driver: open %s: %s\n", url, err.msg);
        return 1;
    }
    int rc = ss_sink_open_url(&b, url, NULL, &err);
    expect(rc == SS_RETRY && b == NULL, "B's open waits (SS_RETRY) while A holds the database", &err);
    expect(strstr(err.msg, "another shopstream process is writing this database") != NULL,
           "the wait names another process", &err);
    printf("B: %s\n", err.msg);
    if (b) b->type->close(b);
    uint64_t next = a->committed_epoch + 1;
    expect(commit(a, next, "fence-a", &err) == SS_OK, "A commits", &err);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "psql -X -q -d '%s' -c \"UPDATE shopstream_epoch SET epoch = epoch + 1 WHERE sink = 'postgresql'\"", url);
    expect(system(cmd) == 0, "a writer past the lock moves the epoch on", &err);
    expect(commit(a, next + 1, "fence-a2", &err) == SS_ERROR, "A's next commit is refused by the fence", &err);
    expect(strstr(err.msg, "another shopstream process") != NULL, "the fence names another process", &err);
    a->type->close(a);
    /* the lock goes with A's session, which the server ends as its Terminate message arrives */
    for (int i = 0; i < 50; i++) {
        rc = ss_sink_open_url(&b, url, NULL, &err);
        if (rc != SS_RETRY) break;
        usleep(100 * 1000);
    }
    expect(rc == SS_OK, "B opens once A is gone", &err);
    if (b) b->type->close(b);
    return failures ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "two-writers") == 0) return two_writers(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "locked") == 0) return locked(argv[2]);
    fprintf(stderr, "usage: fence_driver two-writers|locked URL\n");
    return 2;
}
