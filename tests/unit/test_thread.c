/* test_thread.c — our threads (core/thread.c): they never take the stop signals while
 * their creator still does, and they carry their name from their first instruction on
 * (a long one cut to the kernel's 15 bytes). The alternate signal stack each gets is
 * test_crash.c's: a stack overflow on one is reported. */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "core/thread.h"
#include "harness.h"

static bool blocks(int sig) {
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, sig) == 1;
}

struct seen {
    bool intr, term;
    char name[16];
};

/* what the thread is at its start: its mask and its name */
static void *look(void *arg) {
    struct seen *s = arg;
    s->intr = blocks(SIGINT);
    s->term = blocks(SIGTERM);
    pthread_getname_np(pthread_self(), s->name, sizeof s->name);
    return NULL;
}

TEST(threads_do_not_take_the_signals) {
    CHECK(!blocks(SIGINT));
    CHECK(!blocks(SIGTERM));
    struct seen s = {0};
    pthread_t t;
    CHECK_EQ_INT(ss_thread_create(&t, "ss-test-mask", look, &s), 0);
    pthread_join(t, NULL);
    CHECK(s.intr);
    CHECK(s.term);
    /* the creator still takes them */
    CHECK(!blocks(SIGINT));
    CHECK(!blocks(SIGTERM));
    /* a plain thread would not block them: the test can tell the difference */
    struct seen plain = {true, true, ""};
    CHECK_EQ_INT(pthread_create(&t, NULL, look, &plain), 0);
    pthread_join(t, NULL);
    CHECK(!plain.intr);
    CHECK(!plain.term);
}

/* `top -H`, gdb and the crash report tell the threads apart by their names */
TEST(threads_are_named_from_their_start) {
    char mine[16] = "";
    CHECK_EQ_INT(pthread_getname_np(pthread_self(), mine, sizeof mine), 0);
    struct seen s = {0};
    pthread_t t;
    CHECK_EQ_INT(ss_thread_create(&t, "ss-test-named", look, &s), 0);
    pthread_join(t, NULL);
    CHECK_EQ_STR(s.name, "ss-test-named");
    char after[16] = "";
    CHECK_EQ_INT(pthread_getname_np(pthread_self(), after, sizeof after), 0);
    CHECK_EQ_STR(after, mine); /* the creator keeps its own */
    /* a name too long for the kernel is cut, not refused */
    CHECK_EQ_INT(ss_thread_create(&t, "ss-a-name-longer-than-fifteen", look, &s), 0);
    pthread_join(t, NULL);
    CHECK_EQ_STR(s.name, "ss-a-name-longe");
}

int main(void) {
    RUN(threads_do_not_take_the_signals);
    RUN(threads_are_named_from_their_start);
    return ss_t_report("thread");
}
