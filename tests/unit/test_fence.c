/* test_fence.c — the epoch fence's verdicts (sink/fence.c): a replay of our own commit
 * whose answer was lost is told apart from another process moving the fence; an epoch
 * already confirmed is a no-op; a fence that went backwards is written over. */
#include "harness.h"
#include "sink/fence.h"

static enum ss_fence_verdict verdict;
static struct ss_err err;

static int decide(struct ss_fence *f, uint64_t stored, uint64_t epoch) {
    err = (struct ss_err){0};
    verdict = (enum ss_fence_verdict)-1;
    return ss_fence_decide(f, stored, epoch, "test db", &verdict, &err);
}

static void expect_ok(struct ss_fence *f, uint64_t stored, uint64_t epoch, enum ss_fence_verdict want) {
    CHECK_EQ_INT(decide(f, stored, epoch), SS_OK);
    CHECK_EQ_INT(verdict, want);
}

TEST(fresh_destination_and_steady_run) {
    struct ss_fence f;
    ss_fence_init(&f, 0);
    expect_ok(&f, 0, 1, SS_FENCE_WRITE);
    ss_fence_sending(&f, 1);
    ss_fence_answered(&f, 1, true);
    expect_ok(&f, 1, 2, SS_FENCE_WRITE);
    /* a restarted process numbers after the stored epoch */
    ss_fence_init(&f, 40);
    expect_ok(&f, 40, 41, SS_FENCE_WRITE);
}

TEST(lost_answer_is_a_replay) {
    struct ss_fence f;
    ss_fence_init(&f, 7);
    CHECK_EQ_INT(decide(&f, 7, 8), SS_OK);
    ss_fence_sending(&f, 8); /* the connection drops before the answer */
    /* the retry finds 8 stored: ours */
    expect_ok(&f, 8, 8, SS_FENCE_REPLAY);
    CHECK_EQ_INT(f.confirmed, 8);
    expect_ok(&f, 8, 9, SS_FENCE_WRITE);
    /* ... or the commit never arrived: the retry writes it */
    ss_fence_sending(&f, 9);
    expect_ok(&f, 8, 9, SS_FENCE_WRITE);
}

TEST(another_writer_is_an_error) {
    struct ss_fence f;
    ss_fence_init(&f, 7);
    /* another process committed 8 first */
    CHECK_EQ_INT(decide(&f, 8, 8), SS_ERROR);
    CHECK(strstr(err.msg, "test db: its epoch fence holds epoch 8, but this process committed up to epoch 7") != NULL);
    CHECK(strstr(err.msg, "another shopstream process") != NULL);
    /* ... or this process itself, through a second --sink naming the destination otherwise */
    CHECK(strstr(err.msg, "names it in two --sink URLs spelled differently") != NULL);
    /* ... or went further */
    CHECK_EQ_INT(decide(&f, 12, 8), SS_ERROR);
    /* our EXEC was refused (the other writer touched the key): not our commit, even at the same number */
    ss_fence_sending(&f, 8);
    ss_fence_answered(&f, 8, false);
    CHECK_EQ_INT(decide(&f, 8, 8), SS_ERROR);
    /* the other writer is ahead even when we are asked for an old epoch */
    CHECK_EQ_INT(decide(&f, 12, 5), SS_ERROR);
}

TEST(known_epochs_and_lost_destinations) {
    struct ss_fence f;
    ss_fence_init(&f, 10);
    expect_ok(&f, 10, 9, SS_FENCE_REPLAY);
    expect_ok(&f, 10, 10, SS_FENCE_REPLAY);
    /* a Redis without persistence restarted: the fence is gone; write, warn once */
    expect_ok(&f, 0, 11, SS_FENCE_WRITE);
    CHECK(f.warned_lost);
    ss_fence_answered(&f, 11, true);
    expect_ok(&f, 11, 12, SS_FENCE_WRITE);
}

int main(void) {
    RUN(fresh_destination_and_steady_run);
    RUN(lost_answer_is_a_replay);
    RUN(another_writer_is_an_error);
    RUN(known_epochs_and_lost_destinations);
    return ss_t_report("fence");
}
