/* test_predecode.c — the decoding worker's claim protocol (engine/predecode.c): over
 * thousands of jobs of random sizes, with the engine taking records whenever the worker
 * has not reached them, every record is decoded exactly once, by one side, the
 * worker never touches a job after the engine has moved on from it, and a job's after
 * task runs at most once and never after the engine settled it. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "engine/predecode.h"
#include "harness.h"

#define MAX 512
#define JOBS 3000

struct job {
    int n;
    _Atomic int calls[MAX]; /* times record k was decoded, by either side */
    _Atomic bool over;      /* the engine is done with this job */
    _Atomic int after_runs; /* times its after task ran */
};

static _Atomic int late_calls; /* worker calls on a job the engine had finished */
static _Atomic bool engine_owns; /* between a settle and the next submit */
static _Atomic int after_violations;

/* The after task: runs at most once per job, never once the engine settled it. */
static void task(void *ctx) {
    struct job *j = ctx;
    if (atomic_load(&engine_owns)) atomic_fetch_add(&after_violations, 1);
    atomic_fetch_add(&j->after_runs, 1);
}

static void work(void *ctx, int k) {
    struct job *j = ctx;
    if (atomic_load(&j->over)) atomic_fetch_add(&late_calls, 1);
    atomic_fetch_add(&j->calls[k], 1);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void pause_us(long us) {
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

/* Jobs past njobs, run only until both sides have decoded a record: which side gets a
 * record is up to the scheduler, and on a loaded machine (the sanitizer build on two
 * cores) 40 jobs went by with the worker ahead of the engine at every record. */
#define EXTRA_JOBS 4000

/* jobs of max_n records at most, the engine greedy in a share of them (in 8ths);
 * wrap: the job numbers wrap at the first job */
static void run_jobs(int njobs, int max_n, int greedy_8ths, bool wrap) {
    struct ss_err err = {0};
    struct ss_predecode *p = NULL;
    CHECK_EQ_INT(ss_predecode_start(&p, MAX, &err), SS_OK);
    if (wrap) {
        /* as if every record had been done by job 1, 2^32 jobs back */
        for (int k = 0; k < MAX; k++) atomic_store(&p->done[k], 1);
        p->job = UINT32_MAX;
    }
    struct job *jobs = calloc((size_t)njobs + EXTRA_JOBS, sizeof *jobs);
    long taken = 0, waited = 0, bad = 0;
    int i = 0;
    for (; i < njobs || (i < njobs + EXTRA_JOBS && (taken == 0 || waited == 0)); i++) {
        struct job *j = &jobs[i];
        j->n = 1 + (int)(rnd() % (uint64_t)max_n);
        ss_predecode_submit(p, work, j, j->n, task, j);
        /* some jobs give the worker a head start, some race it from record 0 */
        if (rnd() % 3 == 0) pause_us((long)(rnd() % 200));
        bool greedy = (int)(rnd() % 8) < greedy_8ths;
        for (int k = 0; k < j->n; k++) {
            if (!ss_predecode_done(p, k) && greedy && ss_predecode_take(p, k)) {
                work(j, k);
                taken++;
            } else {
                ss_predecode_wait(p, k);
                waited++;
            }
            if (atomic_load(&j->calls[k]) != 1) bad++; /* decoded now, and only once */
        }
        atomic_store(&j->over, true);
        /* as the engine before a poll: from here the task's state is the engine's */
        ss_predecode_settle(p);
        atomic_store(&engine_owns, true);
        if (rnd() % 4 == 0) pause_us((long)(rnd() % 50));
        atomic_store(&engine_owns, false);
    }
    ss_predecode_free(p); /* joins the worker: no call can come after this */
    njobs = i;
    for (i = 0; i < njobs; i++)
        for (int k = 0; k < jobs[i].n; k++)
            if (atomic_load(&jobs[i].calls[k]) != 1) bad++;
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(atomic_load(&late_calls), 0);
    long ran = 0, twice = 0;
    for (i = 0; i < njobs; i++) {
        int r = atomic_load(&jobs[i].after_runs);
        ran += r;
        twice += r > 1;
    }
    CHECK_EQ_INT(twice, 0);
    CHECK_EQ_INT(atomic_load(&after_violations), 0);
    printf("  after tasks: %ld run, %ld cancelled\n", ran, (long)njobs - ran);
    /* both sides did work, or the test proved nothing about the race */
    CHECK(taken > 0);
    CHECK(waited > 0);
    printf("  %ld records taken by the engine, %ld by the worker, in %d jobs\n", taken, waited, njobs);
    free(jobs);
}

TEST(every_record_once) { run_jobs(JOBS, MAX, 4, false); }

/* Tiny jobs the engine mostly takes whole: the worker is often still on its way out
 * of one job (its last claim) when the next is submitted. */
TEST(tiny_jobs_back_to_back) { run_jobs(30000, 3, 7, false); }

/* Across the wrap of the job numbers, no stale done[] entry passes for a new one. */
TEST(job_numbers_wrap) { run_jobs(40, MAX, 4, true); }

int main(void) {
    RUN(every_record_once);
    RUN(tiny_jobs_back_to_back);
    RUN(job_numbers_wrap);
    return ss_t_report("predecode");
}
