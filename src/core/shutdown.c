/* shutdown.c — the process-wide stop request (see shutdown.h). */
#include "shutdown.h"

#include <signal.h>
#include <stdatomic.h>

/* Set in the handler (the main thread: ours block the signals), read on any thread (the
 * demo's producer, Kafka waits): a volatile sig_atomic_t is safe for the handler only,
 * so a lock-free atomic, relaxed (it publishes nothing but itself). */
_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2, "the signal handler stores the request");
static atomic_bool requested;
static void (*_Atomic on_request)(void); /* read in the handler: lock-free atomic */

bool ss_shutdown_requested(void) { return atomic_load_explicit(&requested, memory_order_relaxed); }

/* SIGHUP stops gracefully too, as the JVM's shutdown hooks do for Flink and Kafka
 * Streams: its default action ended the process as a crash does (nothing committed) when
 * the terminal of an interactive run closed. There is no configuration to reload. A
 * SIGHUP the process was started with ignored (`nohup`) stays ignored: that was asked for. */
static bool hup_ignored;

static void stop_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
}

static void set_action(void (*handler)(int)) {
    struct sigaction sa = {.sa_handler = handler};
    stop_signals(&sa.sa_mask); /* one at a time */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (!hup_ignored) sigaction(SIGHUP, &sa, NULL);
}

static void on_signal(int sig) {
    (void)sig;
    atomic_store_explicit(&requested, true, memory_order_relaxed);
    set_action(SIG_DFL); /* sigaction is async-signal-safe: the next signal ends the process */
    void (*hook)(void) = on_request;
    if (hook) hook();
}

void ss_shutdown_catch_signals(void (*hook)(void)) {
    struct sigaction hup;
    hup_ignored = sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler == SIG_IGN;
    on_request = hook;
    set_action(on_signal);
}

void ss_shutdown_mask(sigset_t *saved) {
    sigset_t block;
    stop_signals(&block);
    pthread_sigmask(SIG_BLOCK, &block, saved);
}

void ss_shutdown_unmask(const sigset_t *saved) { pthread_sigmask(SIG_SETMASK, saved, NULL); }
