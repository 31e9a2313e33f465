/* test_committer.c — the commit thread tells which sink's commit call is still running
 * and for how long (ss_committer_stalled), so that the engine can warn about a commit
 * that hangs (a lock, a hung disk) instead of stalling without a word; nothing is
 * reported once the call has returned. A sink of our own blocks in commit until told. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "core/alloc.h"
#include "engine/committer.h"
#include "harness.h"

static atomic_bool release;

static int slow_commit(struct ss_sink *sk, const struct ss_epoch *ep, struct ss_err *err) {
    (void)sk;
    (void)ep;
    (void)err;
    while (!atomic_load(&release)) nanosleep(&(struct timespec){0, 1000000}, NULL);
    return SS_OK;
}

static const struct ss_sink_type slow_type = {.name = "slow", .scheme = "slow:", .commit = slow_commit};

TEST(a_running_commit_is_reported) {
    struct ss_err err = {0};
    struct ss_committer *c = NULL;
    CHECK_EQ_INT(ss_committer_start(&c, &err), SS_OK);
    struct ss_sink sink = {.type = &slow_type};
    CHECK_EQ_INT(ss_committer_add_sink(c, &sink, &err), SS_OK);
    int64_t ms = -1;
    CHECK(ss_committer_stalled(c, &ms) == NULL); /* nothing submitted */
    ss_committer_submit(c, &(struct ss_epoch){.epoch = 1});
    CHECK(!ss_committer_wait(c, 300));
    const char *name = ss_committer_stalled(c, &ms);
    CHECK(name != NULL);
    CHECK_EQ_STR(name ? name : "", "slow");
    CHECK(ms >= 250 && ms < 60000);
    atomic_store(&release, true);
    CHECK(ss_committer_wait(c, 10000));
    CHECK(ss_committer_stalled(c, &ms) == NULL);
    struct ss_epoch ep;
    bool had = false;
    double secs = 0;
    CHECK_EQ_INT(ss_committer_collect(c, &ep, &had, &secs, &err), SS_OK);
    CHECK(had);
    ss_committer_free(c);
}

int main(void) {
    RUN(a_running_commit_is_reported);
    return ss_t_report("committer");
}
