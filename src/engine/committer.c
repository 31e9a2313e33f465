/* committer.c — see committer.h. */
#include "committer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "../core/alloc.h"
#include "../core/log.h"
#include "../core/thread.h"
#include "../core/timefmt.h"

#define MAX_SINKS 16

static const char *comp = "engine";

struct ss_committer {
    struct ss_sink *sinks[MAX_SINKS];
    int nsinks;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    bool has_job, done, quit;
    struct ss_epoch ep;
    struct ss_run_stats stats;
    int rc;
    struct ss_err err;
    double secs;
    int64_t sink_ms[MAX_SINKS]; /* each sink's share of secs */
    uint64_t durable;     /* see ss_committer_durable */
    /* read without mu */
    atomic_bool retrying, stopping;
    atomic_int active;             /* the sink whose commit call is running, -1: none */
    atomic_llong active_since_ms;  /* when that call began (monotonic) */
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long mono_ms(void) { return (long long)(now_s() * 1000); }

/* Every sink commits the epoch; a sink that answers SS_RETRY is retried with backoff
 * until it succeeds (or, once the run is stopping, for a while): outputs are never
 * dropped. */
static int commit_all(struct ss_committer *c, const struct ss_epoch *ep, int64_t *sink_ms, struct ss_err *err) {
    int rc = SS_OK;
    for (int i = 0; i < c->nsinks && rc == SS_OK; i++) {
        struct ss_sink *sk = c->sinks[i];
        long long t0 = mono_ms();
        int64_t backoff = 100;
        bool retried = false;
        for (int attempt = 1;; attempt++) {
            struct ss_err serr = {0};
            atomic_store(&c->active_since_ms, mono_ms());
            atomic_store(&c->active, i);
            rc = sk->type->commit(sk, ep, &serr);
            atomic_store(&c->active, -1);
            if (rc == SS_OK) break;
            if (rc != SS_RETRY || (atomic_load(&c->stopping) && attempt > 50)) {
                ss_err_set(err, rc == SS_RETRY ? SS_ERROR : rc, "sink %s: %s", sk->type->name, serr.msg);
                rc = rc == SS_RETRY ? SS_ERROR : rc;
                break;
            }
            retried = true;
            atomic_store(&c->retrying, true);
            if (attempt == 1 || attempt % 10 == 0)
                ss_warn(comp, "msg=\"sink unavailable, input paused, retrying\" sink=%s attempt=%d err=\"%s\"",
                        sk->type->name, attempt, serr.msg);
            ss_sleep_ms(backoff);
            backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
        }
        sink_ms[i] = mono_ms() - t0;
        if (retried) {
            atomic_store(&c->retrying, false);
            if (rc == SS_OK) ss_info(comp, "msg=\"sink recovered, input resumed\" sink=%s", sk->type->name);
        }
    }
    return rc;
}

static void *run(void *arg) {
    struct ss_committer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->quit && !(c->has_job && !c->done)) pthread_cond_wait(&c->cv, &c->mu);
        if (!(c->has_job && !c->done)) break; /* quit, nothing pending */
        struct ss_epoch ep = c->ep;
        pthread_mutex_unlock(&c->mu);
        double t0 = now_s();
        struct ss_err err = {0};
        int64_t sink_ms[MAX_SINKS] = {0};
        int rc = commit_all(c, &ep, sink_ms, &err);
        double secs = now_s() - t0;
        uint64_t durable = ep.epoch;
        for (int i = 0; rc == SS_OK && i < c->nsinks; i++)
            if ((c->sinks[i]->type->flags & SS_SINK_HOLDS) && c->sinks[i]->durable_epoch < durable)
                durable = c->sinks[i]->durable_epoch;
        pthread_mutex_lock(&c->mu);
        if (rc == SS_OK) c->durable = durable;
        c->rc = rc;
        c->err = err;
        c->secs = secs;
        memcpy(c->sink_ms, sink_ms, sizeof sink_ms);
        c->done = true;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

uint64_t ss_committer_durable(struct ss_committer *c) {
    pthread_mutex_lock(&c->mu);
    uint64_t d = c->durable;
    pthread_mutex_unlock(&c->mu);
    return d;
}

int ss_committer_add_sink(struct ss_committer *c, struct ss_sink *sk, struct ss_err *err) {
    if (c->nsinks == MAX_SINKS) return ss_err_set(err, SS_EUSAGE, "too many sinks (at most %d)", MAX_SINKS);
    pthread_mutex_lock(&c->mu);
    c->sinks[c->nsinks++] = sk;
    pthread_mutex_unlock(&c->mu);
    return SS_OK;
}

int ss_committer_start(struct ss_committer **out, struct ss_err *err) {
    struct ss_committer *c = ss_calloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    atomic_init(&c->retrying, false);
    atomic_init(&c->stopping, false);
    atomic_init(&c->active, -1);
    atomic_init(&c->active_since_ms, 0);
    int e = ss_thread_create(&c->thread, "ss-commit", run, c);
    if (e) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        ss_free(c);
        return ss_err_set(err, SS_ERROR, "cannot start the commit thread: %s", strerror(e));
    }
    *out = c;
    return SS_OK;
}

void ss_committer_submit(struct ss_committer *c, const struct ss_epoch *ep) {
    pthread_mutex_lock(&c->mu);
    c->ep = *ep;
    if (ep->stats) {
        c->stats = *ep->stats;
        c->ep.stats = &c->stats;
    }
    c->has_job = true;
    c->done = false;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

bool ss_committer_busy(struct ss_committer *c) {
    pthread_mutex_lock(&c->mu);
    bool busy = c->has_job && !c->done;
    pthread_mutex_unlock(&c->mu);
    return busy;
}

bool ss_committer_retrying(struct ss_committer *c) { return atomic_load(&c->retrying); }

const char *ss_committer_stalled(struct ss_committer *c, int64_t *ms) {
    int i = atomic_load(&c->active);
    if (i < 0) return NULL;
    long long since = atomic_load(&c->active_since_ms);
    if (atomic_load(&c->active) != i) return NULL; /* the call ended meanwhile */
    *ms = (int64_t)(mono_ms() - since);
    return c->sinks[i]->type->name; /* sinks are only added before the first submit */
}

bool ss_committer_wait(struct ss_committer *c, int timeout_ms) {
    struct timespec until = ss_deadline_in_ms(timeout_ms);
    pthread_mutex_lock(&c->mu);
    while (c->has_job && !c->done)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &until) != 0) break;
    bool finished = !(c->has_job && !c->done);
    pthread_mutex_unlock(&c->mu);
    return finished;
}

int ss_committer_collect(struct ss_committer *c, struct ss_epoch *ep, bool *had, double *secs, struct ss_err *err) {
    pthread_mutex_lock(&c->mu);
    while (c->has_job && !c->done) pthread_cond_wait(&c->cv, &c->mu);
    *had = c->has_job;
    int rc = SS_OK;
    if (c->has_job) {
        *ep = c->ep;
        ep->stats = NULL; /* the snapshot stays here */
        *secs = c->secs;
        rc = c->rc;
        if (rc) *err = c->err;
        c->has_job = c->done = false;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int ss_committer_sink_ms(struct ss_committer *c, int64_t *ms, int max) {
    pthread_mutex_lock(&c->mu);
    int n = c->nsinks < max ? c->nsinks : max;
    memcpy(ms, c->sink_ms, (size_t)n * sizeof *ms);
    pthread_mutex_unlock(&c->mu);
    return n;
}

void ss_committer_stopping(struct ss_committer *c) { atomic_store(&c->stopping, true); }

void ss_committer_free(struct ss_committer *c) {
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    c->quit = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    ss_free(c);
}
