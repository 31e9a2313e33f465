/* crash.h — a crash report on stderr before the process dies of a fatal signal, as
 * Redis prints its bug report: the signal, the faulting address (or the process that
 * sent it), the thread, the version and the stack. A crash seen once in a CI log or in
 * production then says where it happened without a core file, which is usually off
 * (ulimit -c 0). The process still dies of the same signal afterwards, so its exit
 * status, a core dump where enabled and systemd's restart policy are unchanged. */
#ifndef SS_CRASH_H
#define SS_CRASH_H

#include <stdbool.h>

/* Installs the handler for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT, with an
 * alternate stack for the calling thread (a stack overflow still gets its report).
 * False, and nothing installed, in an AddressSanitizer build: its own report is the
 * better one. */
bool ss_crash_report_install(void);

/* An alternate signal stack for the calling thread, so that a stack overflow on a
 * thread other than the main one gets its report too (each thread needs its own: the
 * kernel keeps it per thread, and a new thread starts without one). Call at the start
 * of the thread, and ss_crash_thread_stack_off with the result before it returns. NULL
 * when there is nothing to undo (an AddressSanitizer build, or no memory). */
void *ss_crash_thread_stack_on(void);
void ss_crash_thread_stack_off(void *stack);

#endif
