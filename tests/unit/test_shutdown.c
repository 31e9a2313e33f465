/* test_shutdown.c — the stop request (core/shutdown.c): the first SIGINT or SIGTERM
 * (or SIGHUP, unless it was ignored at start, as under nohup) requests it and calls the
 * hook once, the next takes the default action (test_thread.c: our threads never take
 * them); and ss_engine_stop from another thread ends a run (under SANITIZE=thread: without a race). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/shutdown.h"
#include "core/thread.h"
#include "decode/decode.h"
#include "engine/engine.h"
#include "fake_source.h"
#include "harness.h"

static atomic_int hook_calls;
static void hook(void) { atomic_fetch_add(&hook_calls, 1); }

static bool is_default(int sig) {
    struct sigaction cur;
    sigaction(sig, NULL, &cur);
    return cur.sa_handler == SIG_DFL;
}

/* Another thread sees the request (shutdown.h: "visible everywhere"). */
static void *await_request(void *arg) {
    (void)arg;
    while (!ss_shutdown_requested()) usleep(100);
    return NULL;
}

TEST(first_signal_requests_then_default_action) {
    CHECK(!ss_shutdown_requested());
    ss_shutdown_catch_signals(hook);
    CHECK(!is_default(SIGINT));
    CHECK(!is_default(SIGTERM));
    CHECK(!is_default(SIGHUP)); /* a closed terminal stops as gracefully */
    CHECK(!ss_shutdown_requested()); /* installing requests nothing */
    pthread_t watcher;
    CHECK_EQ_INT(ss_thread_create(&watcher, "ss-test-watch", await_request, NULL), 0);
    usleep(2000); /* it is polling */
    raise(SIGTERM);
    CHECK(ss_shutdown_requested());
    pthread_join(watcher, NULL);
    CHECK_EQ_INT(atomic_load(&hook_calls), 1);
    /* the signals now end the process: a second stop does not wait */
    CHECK(is_default(SIGINT));
    CHECK(is_default(SIGTERM));
    CHECK(is_default(SIGHUP));
}

/* Started under nohup (SIGHUP ignored), SIGHUP stays ignored, also after a stop. */
TEST(hup_ignored_stays_ignored) {
    struct sigaction ign = {.sa_handler = SIG_IGN}, cur;
    sigaction(SIGHUP, &ign, NULL);
    ss_shutdown_catch_signals(NULL);
    sigaction(SIGHUP, NULL, &cur);
    CHECK(cur.sa_handler == SIG_IGN);
    CHECK(!is_default(SIGTERM));
    raise(SIGHUP); /* ignored: the process goes on, and the handler did not reset it */
    sigaction(SIGHUP, NULL, &cur);
    CHECK(cur.sa_handler == SIG_IGN);
    /* back to how the other tests expect the process */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGHUP, &dfl, NULL);
    sigaction(SIGINT, &dfl, NULL);
    sigaction(SIGTERM, &dfl, NULL);
}

/* A quiet input: never a record, never the end (a topic no one writes to). */
static int quiet_poll(struct ss_source *src, struct ss_record *recs, int max, int timeout_ms, struct ss_err *err) {
    (void)src, (void)recs, (void)max, (void)err;
    usleep((useconds_t)(timeout_ms > 0 ? timeout_ms : 1) * 1000);
    return 0;
}
static const struct ss_source_type quiet_type = FAKE_SOURCE_TYPE(quiet_poll);

static void *stop_later(void *arg) {
    usleep(50 * 1000);
    ss_engine_stop(arg);
    return NULL;
}

/* engine.h allows ss_engine_stop from another thread than the one in ss_engine_run */
TEST(engine_stop_from_another_thread) {
    char dir[] = "/tmp/ss_stop_XXXXXX", url[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(url, sizeof url, "jsonl:%s", dir);
    struct ss_config cfg;
    ss_config_init(&cfg);
    struct ss_err err = {0};
    struct ss_engine *e = NULL;
    CHECK_EQ_INT(ss_engine_open(&e, &cfg, &err), SS_OK);
    CHECK_EQ_INT(ss_engine_add_sink(e, url, &err), SS_OK);
    struct fake_source src = {.base.type = &quiet_type, .committed = {-1, -1}};
    struct ss_input_spec spec = {.stream = SS_STREAM_CLICKS, .url = "quiet", .format = SS_FMT_JSON};
    CHECK_EQ_INT(ss_engine_add_source(e, &src.base, &spec, &err), SS_OK);
    CHECK(!ss_engine_stopped(e));
    pthread_t t;
    CHECK_EQ_INT(pthread_create(&t, NULL, stop_later, e), 0);
    CHECK_EQ_INT(ss_engine_run(e, &err), SS_OK); /* returns: the stop was seen */
    pthread_join(t, NULL);
    CHECK(ss_engine_stopped(e));
    ss_engine_close(e);
    ss_config_free(&cfg);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void) {
    RUN(engine_stop_from_another_thread);
    RUN(first_signal_requests_then_default_action);
    RUN(hup_ignored_stays_ignored);
    return ss_t_report("shutdown");
}
