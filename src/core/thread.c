/* thread.c — see thread.h. */
#include "thread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "crash.h"
#include "shutdown.h"

struct thread_start {
    void *(*fn)(void *);
    void *arg;
    char name[16]; /* the kernel's limit, NUL included */
};

/* The thread's own first steps: its name, set here rather than by its creator after
 * pthread_create returns (by then the thread may have logged, or crashed, under its
 * creator's name), and an alternate signal stack for a crash report on an overflow. */
static void *thread_main(void *p) {
    struct thread_start st = *(struct thread_start *)p;
    free(p);
    prctl(PR_SET_NAME, st.name, 0, 0, 0);
    void *alt = ss_crash_thread_stack_on();
    void *ret = st.fn(st.arg);
    ss_crash_thread_stack_off(alt);
    return ret;
}

int ss_thread_create(pthread_t *thread, const char *name, void *(*fn)(void *), void *arg) {
    struct thread_start *st = malloc(sizeof *st);
    if (!st) return ENOMEM;
    st->fn = fn;
    st->arg = arg;
    snprintf(st->name, sizeof st->name, "%s", name); /* a longer name is cut, not refused */
    sigset_t saved;
    ss_shutdown_mask(&saved);
    int e = pthread_create(thread, NULL, thread_main, st);
    ss_shutdown_unmask(&saved);
    if (e != 0) free(st);
    return e;
}
