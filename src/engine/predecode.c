/* predecode.c — see predecode.h. */
#include "predecode.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/thread.h"

struct ss_predecode_impl {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    bool has_job, quit;
    ss_predecode_fn fn;
    void *ctx;
    int n;
    uint32_t job;
    void (*after)(void *);
    void *actx;
};

/* The after task's states, in the low half of p->after (the job in the high half). */
enum { AFTER_NONE, AFTER_PENDING, AFTER_RUNNING };

/* The next unclaimed record of job `job` below n, or -1 (all claimed, or a newer job). */
static int claim_next(struct ss_predecode *p, uint32_t job, int n) {
    uint64_t v = atomic_load(&p->claim);
    for (;;) {
        if ((uint32_t)(v >> 32) != job || (int)(uint32_t)v >= n) return -1;
        if (atomic_compare_exchange_weak(&p->claim, &v, v + 1)) return (int)(uint32_t)v;
    }
}

static void wake_engine(struct ss_predecode *p) {
    if (!atomic_load(&p->asleep)) return;
    pthread_mutex_lock(&p->impl->mu);
    pthread_cond_broadcast(&p->impl->cv);
    pthread_mutex_unlock(&p->impl->mu);
}

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
        uint32_t job = w->job;
        void (*after)(void *) = w->after;
        void *actx = w->actx;
        w->has_job = false;
        pthread_mutex_unlock(&w->mu);
        for (int k; (k = claim_next(p, job, n)) >= 0;) {
            fn(ctx, k);
            /* seq_cst, like the engine's side: either it sees this record, or we see it asleep */
            atomic_store(&p->done[k], job);
            wake_engine(p);
        }
        /* the job in the word: a newer job's task is not ours to run */
        uint64_t pending = (uint64_t)job << 32 | AFTER_PENDING;
        if (after && atomic_compare_exchange_strong(&p->after, &pending, (uint64_t)job << 32 | AFTER_RUNNING)) {
            after(actx);
            atomic_store(&p->after, (uint64_t)job << 32 | AFTER_NONE);
            wake_engine(p);
        }
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int ss_predecode_start(struct ss_predecode **out, int max, struct ss_err *err) {
    struct ss_predecode *p = ss_calloc(1, sizeof *p);
    p->impl = ss_calloc(1, sizeof *p->impl);
    p->done = ss_calloc((size_t)max, sizeof *p->done);
    for (int k = 0; k < max; k++) atomic_init(&p->done[k], 0);
    p->max = max;
    atomic_init(&p->claim, 0);
    atomic_init(&p->asleep, 0);
    atomic_init(&p->after, 0);
    pthread_mutex_init(&p->impl->mu, NULL);
    pthread_cond_init(&p->impl->cv, NULL);
    int e = ss_thread_create(&p->impl->thread, "ss-decode", run, p);
    if (e) {
        pthread_cond_destroy(&p->impl->cv);
        pthread_mutex_destroy(&p->impl->mu);
        ss_free((void *)p->done);
        ss_free(p->impl);
        ss_free(p);
        return ss_err_set(err, SS_ERROR, "cannot start the decoding thread: %s", strerror(e));
    }
    *out = p;
    return SS_OK;
}

void ss_predecode_submit(struct ss_predecode *p, ss_predecode_fn fn, void *ctx, int n, void (*after)(void *),
                         void *actx) {
    struct ss_predecode_impl *w = p->impl;
    ss_assert(n <= p->max);
    ss_predecode_settle(p); /* the last job's task, if any, is over: it may share state with this one's */
    /* 0 is what done[] starts as, so it is never a job's number; when the numbers wrap,
     * done[] starts over, or a record done 2^32 jobs ago would pass for done now */
    if (++p->job == 0) {
        for (int k = 0; k < p->max; k++) atomic_store(&p->done[k], 0);
        p->job = 1;
    }
    atomic_store(&p->claim, (uint64_t)p->job << 32);
    atomic_store(&p->after, (uint64_t)p->job << 32 | (after ? AFTER_PENDING : AFTER_NONE));
    pthread_mutex_lock(&w->mu);
    w->fn = fn;
    w->ctx = ctx;
    w->n = n;
    w->job = p->job;
    w->after = after;
    w->actx = actx;
    w->has_job = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

bool ss_predecode_take(struct ss_predecode *p, int k) {
    uint64_t want = (uint64_t)p->job << 32 | (uint32_t)k;
    /* the records before k are all claimed, so the word is either k (ours to take)
     * or past it (the worker has k) */
    return atomic_compare_exchange_strong(&p->claim, &want, want + 1);
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

void ss_predecode_settle(struct ss_predecode *p) {
    uint64_t pending = (uint64_t)p->job << 32 | AFTER_PENDING;
    if (atomic_compare_exchange_strong(&p->after, &pending, (uint64_t)p->job << 32 | AFTER_NONE)) return;
    /* NONE, or RUNNING: the worker is on it (a short task), so spin, then sleep */
    uint64_t running = (uint64_t)p->job << 32 | AFTER_RUNNING;
    for (int spins = 0; spins < 2000; spins++) {
        if (atomic_load(&p->after) != running) return;
        cpu_relax();
    }
    pthread_mutex_lock(&p->impl->mu);
    atomic_store(&p->asleep, 1);
    while (atomic_load(&p->after) == running) pthread_cond_wait(&p->impl->cv, &p->impl->mu);
    atomic_store(&p->asleep, 0);
    pthread_mutex_unlock(&p->impl->mu);
}

void ss_predecode_wait_slow(struct ss_predecode *p, int k) {
    /* the worker is on this record: a short spin, then sleep (it may have lost its
     * core to the broker meanwhile, and spinning only burns the core it needs) */
    for (int spins = 0; spins < 200; spins++) {
        if (ss_predecode_done(p, k)) return;
        cpu_relax();
    }
    struct ss_predecode_impl *w = p->impl;
    pthread_mutex_lock(&w->mu);
    atomic_store(&p->asleep, 1);
    while (atomic_load(&p->done[k]) != p->job) pthread_cond_wait(&w->cv, &w->mu);
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
    ss_free((void *)p->done);
    ss_free(p);
}
