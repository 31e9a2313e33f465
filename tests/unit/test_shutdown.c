/* test_shutdown.c — the stop request (core/shutdown.c): the first SIGINT or SIGTERM
 * requests it and calls the hook once, the next takes the default action; threads made
 * by ss_shutdown_thread_create block both while their creator's mask is unchanged. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/shutdown.h"
#include "harness.h"

static atomic_int hook_calls;
static void hook(void) { atomic_fetch_add(&hook_calls, 1); }

static bool is_default(int sig) {
    struct sigaction cur;
    sigaction(sig, NULL, &cur);
    return cur.sa_handler == SIG_DFL;
}

static bool blocks(int sig) {
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, sig) == 1;
}

TEST(first_signal_requests_then_default_action) {
    CHECK(!ss_shutdown_requested());
    ss_shutdown_catch_signals(hook);
    CHECK(!is_default(SIGINT));
    CHECK(!is_default(SIGTERM));
    CHECK(!ss_shutdown_requested()); /* installing requests nothing */
    raise(SIGTERM);
    CHECK(ss_shutdown_requested());
    CHECK_EQ_INT(atomic_load(&hook_calls), 1);
    /* both signals now end the process: a second stop does not wait */
    CHECK(is_default(SIGINT));
    CHECK(is_default(SIGTERM));
}

struct seen {
    bool intr, term;
};

static void *report_mask(void *arg) {
    struct seen *s = arg;
    s->intr = blocks(SIGINT);
    s->term = blocks(SIGTERM);
    return NULL;
}

TEST(threads_do_not_take_the_signals) {
    CHECK(!blocks(SIGINT));
    CHECK(!blocks(SIGTERM));
    struct seen s = {false, false};
    pthread_t t;
    CHECK_EQ_INT(ss_shutdown_thread_create(&t, report_mask, &s), 0);
    pthread_join(t, NULL);
    CHECK(s.intr);
    CHECK(s.term);
    /* the creator still takes them */
    CHECK(!blocks(SIGINT));
    CHECK(!blocks(SIGTERM));
    /* a plain thread would not block them: the test can tell the difference */
    struct seen plain = {true, true};
    CHECK_EQ_INT(pthread_create(&t, NULL, report_mask, &plain), 0);
    pthread_join(t, NULL);
    CHECK(!plain.intr);
    CHECK(!plain.term);
}

int main(void) {
    RUN(threads_do_not_take_the_signals);
    RUN(first_signal_requests_then_default_action);
    return ss_t_report("shutdown");
}
