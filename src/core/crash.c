/* crash.c — see crash.h. The handler uses only async-signal-safe calls (write, getpid,
 * the gettid syscall, prctl, sigaction, raise) plus backtrace(), whose one unsafe step,
 * loading libgcc's unwinder, is done at install time. Numbers are formatted by hand:
 * printf may take locks the crashed thread held. */
#include "crash.h"

#include <execinfo.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "version.h"

#if defined(__SANITIZE_ADDRESS__)
#define SS_CRASH_HANDLER 0
#else
#define SS_CRASH_HANDLER 1
#endif

#define MAX_FRAMES 64
#define ALT_STACK (64 * 1024) /* the handler's frames plus backtrace()'s unwinder */

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

static void put(const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0) return; /* EINTR included: a crash report is best effort */
        s += w;
        n -= (size_t)w;
    }
}

static void put_uint(uint64_t v, unsigned base) {
    char b[24];
    int i = (int)sizeof b;
    b[--i] = '\0';
    do {
        b[--i] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (base == 16) {
        b[--i] = 'x';
        b[--i] = '0';
    }
    put(b + i);
}

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    default: return "signal";
    }
}

static void on_fatal(int sig, siginfo_t *si, void *uctx) {
    (void)uctx;
    char thread[17] = "?";
    prctl(PR_GET_NAME, thread, 0, 0, 0);
    put("level=error comp=crash msg=\"shopstream crashed: this is a bug, please report it with the lines below\" "
        "signal=");
    put(signal_name(sig));
    /* si_code <= 0: sent by a process (kill, raise, abort), not raised by an instruction */
    if (si && si->si_code <= 0) {
        put(" sent_by_pid=");
        put_uint((uint64_t)si->si_pid, 10);
    } else if (si && sig != SIGABRT) {
        put(" addr=");
        put_uint((uint64_t)(uintptr_t)si->si_addr, 16);
    }
    put(" pid=");
    put_uint((uint64_t)getpid(), 10);
    put(" thread=\"");
    put(thread);
    put("\" tid=");
    put_uint((uint64_t)syscall(SYS_gettid), 10);
    put(" version=" SS_VERSION "\n");
    void *frames[MAX_FRAMES];
    int n = backtrace(frames, MAX_FRAMES);
    put("level=error comp=crash msg=\"stack, innermost first\" hint=\"addr2line -f -i -e BINARY 0xOFFSET names a "
        "frame BINARY(+0xOFFSET)\"\n");
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
    /* die of the same signal: the default action, at once for a sent signal, and on
     * the faulting instruction's re-execution for one it raised */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    if (!si || si->si_code <= 0 || sig == SIGABRT) raise(sig);
}

bool ss_crash_report_install(void) {
    if (!SS_CRASH_HANDLER) return false;
    /* the first backtrace() loads libgcc_s (malloc, dlopen): never inside the handler */
    void *warm[2];
    backtrace(warm, 2);
    static char alt[ALT_STACK];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
    sigaltstack(&ss, NULL);
    struct sigaction sa = {.sa_sigaction = on_fatal, .sa_flags = SA_SIGINFO | SA_ONSTACK};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) sigaction(fatal_signals[i], &sa, NULL);
    return true;
}

void *ss_crash_thread_stack_on(void) {
    if (!SS_CRASH_HANDLER) return NULL;
    long min = sysconf(_SC_SIGSTKSZ); /* glibc 2.34+: what this CPU's signal frames need */
    size_t size = min > ALT_STACK ? (size_t)min : ALT_STACK;
    void *p = malloc(size);
    if (!p) return NULL; /* the thread runs; only a report on its overflow is lost */
    stack_t ss = {.ss_sp = p, .ss_size = size};
    if (sigaltstack(&ss, NULL) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

void ss_crash_thread_stack_off(void *stack) {
    if (!stack) return;
    stack_t off = {.ss_flags = SS_DISABLE};
    sigaltstack(&off, NULL);
    free(stack);
}
