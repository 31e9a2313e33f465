/* test_crash.c — the crash report (core/crash.h): a child that faults, or is sent a
 * fatal signal, prints the signal, the address or sender, its thread and a stack that
 * names the function it crashed in, and still dies of that signal. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/crash.h"
#include "core/thread.h"
#include "harness.h"

/* a frame of its own, in this binary, under the handler's */
__attribute__((noinline)) void ss_test_crash_fault_here(uintptr_t at) {
    *(volatile int *)at = 1;
}

/* Recurses until the thread's stack is gone; the limit is never reached (a volatile
 * the compiler cannot see through keeps it from proving the recursion endless). */
static volatile long overflow_limit = -1;
__attribute__((noinline)) static long ss_test_crash_overflow(long depth) {
    volatile char frame[512];
    frame[0] = (char)depth;
    if (depth == overflow_limit) return 0;
    return ss_test_crash_overflow(depth + 1) + frame[0];
}

static void *overflow_main(void *arg) {
    (void)arg;
    return (void *)(intptr_t)ss_test_crash_overflow(0);
}

enum how { FAULT, SENT, ABORT, THREAD_OVERFLOW };

/* Runs `how` in a child whose stderr is captured into out; returns its wait status. */
static int crash_child(enum how how, char *out, size_t size) {
    int fd[2];
    CHECK(pipe(fd) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], STDERR_FILENO);
        close(fd[0]);
        prctl(PR_SET_NAME, "crash-test", 0, 0, 0);
        if (!ss_crash_report_install()) _exit(77);
        if (how == FAULT) ss_test_crash_fault_here(0x10);
        if (how == SENT) kill(getpid(), SIGSEGV);
        if (how == ABORT) abort();
        if (how == THREAD_OVERFLOW) {
            pthread_t t;
            if (ss_thread_create(&t, "ss-overflow", overflow_main, NULL) != 0) _exit(78);
            pthread_join(t, NULL);
        }
        _exit(0);
    }
    close(fd[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < size && (r = read(fd[0], out + n, size - 1 - n)) > 0) n += (size_t)r;
    out[n] = '\0';
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
}

TEST(a_fault_is_reported_with_its_address_and_stack_and_still_kills) {
    char out[16384];
    int st = crash_child(FAULT, out, sizeof out);
    CHECK(WIFSIGNALED(st));
    if (!WIFSIGNALED(st)) return;
    CHECK_EQ_INT(WTERMSIG(st), SIGSEGV);
    CHECK(strstr(out, "comp=crash msg=\"shopstream crashed") != NULL);
    CHECK(strstr(out, "signal=SIGSEGV addr=0x10 ") != NULL);
    CHECK(strstr(out, "thread=\"crash-test\"") != NULL);
    CHECK(strstr(out, "version=") != NULL);
    /* frames: the handler's caller chain reaches back into this binary's code */
    CHECK(strstr(out, "test_crash(") != NULL);
    CHECK(strstr(out, "sent_by_pid") == NULL);
}

TEST(a_signal_sent_by_a_process_names_the_sender) {
    char out[16384];
    int st = crash_child(SENT, out, sizeof out);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    CHECK(strstr(out, "signal=SIGSEGV sent_by_pid=") != NULL);
    CHECK(strstr(out, " addr=") == NULL);
}

TEST(an_abort_is_reported_and_still_aborts) {
    char out[16384];
    int st = crash_child(ABORT, out, sizeof out);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    CHECK(strstr(out, "signal=SIGABRT") != NULL);
    CHECK(strstr(out, "test_crash(") != NULL);
}

/* Without a signal stack of its own the thread's report would need the very stack that
 * ran out: the kernel could not deliver the signal and the process would die silently. */
TEST(a_stack_overflow_on_our_thread_is_reported) {
    char out[16384];
    int st = crash_child(THREAD_OVERFLOW, out, sizeof out);
    CHECK(WIFSIGNALED(st));
    if (!WIFSIGNALED(st)) return;
    CHECK_EQ_INT(WTERMSIG(st), SIGSEGV);
    CHECK(strstr(out, "signal=SIGSEGV addr=0x") != NULL);
    CHECK(strstr(out, "thread=\"ss-overflow\"") != NULL);
    CHECK(strstr(out, "test_crash(") != NULL);
}

int main(void) {
    if (!ss_crash_report_install()) {
        /* an AddressSanitizer build: its own report takes these signals */
        CHECK(!ss_crash_report_install());
        return ss_t_report("test_crash");
    }
    RUN(a_fault_is_reported_with_its_address_and_stack_and_still_kills);
    RUN(a_signal_sent_by_a_process_names_the_sender);
    RUN(an_abort_is_reported_and_still_aborts);
    RUN(a_stack_overflow_on_our_thread_is_reported);
    return ss_t_report("test_crash");
}
