/* predecode.c — see predecode.h. */
#include "predecode.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/shutdown.h"

struct ss_predecode_impl {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    bool has_job, quit;
    ss_predecode_fn fn;
    void *ctx;
    int n;
};

static void *run(void *arg) {
    struct ss_predecode *p = arg;
    struct ss_predecode_impl *w = p->impl;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->quit && !w->has_job) pthread_cond_wait(&w->cv, &w->mu);
        if (!w->has_job) break;
        ss_predecode_fn fn = w->fn;
        void *ctx = w->ctx;
        int n = w->n;
        w->has_job = false;
        pthread_mutex_unlock(&w->mu);
        for (int k = 0; k < n; k++) {
            fn(ctx, k);
            /* seq_cst, like the engine's side: either it sees this record, or we see it asleep */
            atomic_store(&p->ready, k + 1);
            if (atomic_load(&p->asleep)) {
                pthread_mutex_lock(&w->mu);
                pthread_cond_broadcast(&w->cv);
                pthread_mutex_unlock(&w->mu);
            }
        }
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int ss_predecode_start(struct ss_predecode **out, struct ss_err *err) {
    struct ss_predecode *p = ss_calloc(1, sizeof *p);
    p->impl = ss_calloc(1, sizeof *p->impl);
    atomic_init(&p->ready, 0);
    atomic_init(&p->asleep, 0);
    pthread_mutex_init(&p->impl->mu, NULL);
    pthread_cond_init(&p->impl->cv, NULL);
    int e = ss_shutdown_thread_create(&p->impl->thread, run, p);
    if (e) {
        pthread_cond_destroy(&p->impl->cv);
        pthread_mutex_destroy(&p->impl->mu);
        ss_free(p->impl);
        ss_free(p);
        return ss_err_set(err, SS_ERROR, "cannot start the decoding thread: %s", strerror(e));
    }
    *out = p;
    return SS_OK;
}

void ss_predecode_submit(struct ss_predecode *p, ss_predecode_fn fn, void *ctx, int n) {
    struct ss_predecode_impl *w = p->impl;
    atomic_store_explicit(&p->ready, 0, memory_order_relaxed);
    pthread_mutex_lock(&w->mu);
    w->fn = fn;
    w->ctx = ctx;
    w->n = n;
    w->has_job = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

void ss_predecode_wait_slow(struct ss_predecode *p, int k) {
    /* a short spin (the worker is usually a record or two away), then sleep: on two
     * cores shared with a broker the worker may not be running at all, and spinning or
     * yielding in a loop only burns the core it needs */
    for (int spins = 0; spins < 200; spins++) {
        if (atomic_load_explicit(&p->ready, memory_order_acquire) > k) return;
        cpu_relax();
    }
    struct ss_predecode_impl *w = p->impl;
    pthread_mutex_lock(&w->mu);
    atomic_store(&p->asleep, 1);
    while (atomic_load(&p->ready) <= k) pthread_cond_wait(&w->cv, &w->mu);
    atomic_store(&p->asleep, 0);
    pthread_mutex_unlock(&w->mu);
}

void ss_predecode_free(struct ss_predecode *p) {
    if (!p) return;
    struct ss_predecode_impl *w = p->impl;
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    ss_free(w);
    ss_free(p);
}
