/* test_dueheap.c — deadlines (state/dueheap.c): pops come out in order of `at` against
 * a sorted copy, whatever mix of in-order and out-of-order pushes, interleaved pops,
 * ring wrap-around and growth, and interleaved in-order streams; take_all hands over
 * every entry once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "harness.h"
#include "state/dueheap.h"

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static uint64_t next_rand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Pushes and pops at random; every pop must be the minimum of what is queued (a brute
 * force scan of a shadow array), slot and hint must travel with their at. */
static void random_run(int rounds, int late_pct, int pop_pct) {
    struct ss_dueheap h = {0};
    int64_t *shadow = ss_malloc(sizeof *shadow * (size_t)rounds);
    size_t ns = 0;
    int64_t clock = 0;
    int wrong = 0, moved = 0;
    for (int i = 0; i < rounds; i++) {
        if (ns && (int)(next_rand() % 100) < pop_pct) {
            size_t m = 0;
            for (size_t k = 1; k < ns; k++)
                if (shadow[k] < shadow[m]) m = k;
            CHECK(ss_dueheap_due_before(&h, shadow[m] + 1));
            if (ss_dueheap_due_before(&h, shadow[m])) wrong++; /* nothing is earlier */
            struct ss_due d = ss_dueheap_pop(&h);
            if (d.at != shadow[m]) wrong++;
            if (d.slot != (uint32_t)d.at || d.hint != (uint32_t)(d.at * 3)) moved++;
            shadow[m] = shadow[--ns];
        } else {
            clock += (int64_t)(next_rand() % 5);
            int64_t at = (int)(next_rand() % 100) < late_pct ? clock - (int64_t)(next_rand() % 1000) : clock;
            ss_dueheap_push(&h, at, (uint32_t)at, (uint32_t)(at * 3));
            shadow[ns++] = at;
        }
        if (ss_dueheap_size(&h) != ns) wrong++;
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(moved, 0);
    /* take_all: the rest, each once */
    size_t n;
    struct ss_due *all = ss_dueheap_take_all(&h, &n);
    CHECK_EQ_INT(n, ns);
    int64_t *got = ss_malloc(sizeof *got * (n ? n : 1));
    for (size_t k = 0; k < n; k++) got[k] = all[k].at;
    qsort(got, n, sizeof *got, cmp_i64);
    qsort(shadow, ns, sizeof *shadow, cmp_i64);
    CHECK(n == 0 || memcmp(got, shadow, n * sizeof *got) == 0);
    CHECK_EQ_INT(ss_dueheap_size(&h), 0);
    CHECK(!ss_dueheap_due_before(&h, INT64_MAX));
    /* usable again after take_all */
    ss_dueheap_push(&h, 5, 5, 15);
    ss_dueheap_push(&h, 2, 2, 6);
    struct ss_due nx[3];
    CHECK_EQ_INT(ss_dueheap_next(&h, nx, 3), 2);
    CHECK_EQ_INT(ss_dueheap_pop(&h).at, 2);
    CHECK_EQ_INT(ss_dueheap_pop(&h).at, 5);
    ss_free(got);
    ss_free(shadow);
    ss_dueheap_free(&h);
}

/* Interleaved streams, each in order (Kafka partitions, sessions re-queued): pops in
 * order as above, wake right after every step, and with no more streams than runs
 * nothing goes to the heap. Streams start at random offsets and move at random speeds,
 * so a stream can fall behind the others for long stretches. */
static void streams_run(int rounds, int nstreams, int pop_pct) {
    struct ss_dueheap h = {0};
    int64_t *shadow = ss_malloc(sizeof *shadow * (size_t)rounds);
    int64_t clock[8];
    for (int k = 0; k < nstreams; k++) clock[k] = (int64_t)(next_rand() % 100000);
    size_t ns = 0, heaped = 0;
    int wrong = 0;
    for (int i = 0; i < rounds; i++) {
        if (ns && (int)(next_rand() % 100) < pop_pct) {
            size_t m = 0;
            for (size_t k = 1; k < ns; k++)
                if (shadow[k] < shadow[m]) m = k;
            if (ss_dueheap_pop(&h).at != shadow[m]) wrong++;
            shadow[m] = shadow[--ns];
        } else {
            int k = (int)(next_rand() % (uint64_t)nstreams);
            clock[k] += (int64_t)(next_rand() % (uint64_t)(10 * (k + 1)));
            ss_dueheap_push(&h, clock[k], (uint32_t)k, 0);
            shadow[ns++] = clock[k];
        }
        int64_t min = INT64_MAX;
        for (size_t k = 0; k < ns; k++)
            if (shadow[k] < min) min = shadow[k];
        if (ss_dueheap_wake(&h) != (ns ? min + 1 : INT64_MAX)) wrong++;
        if (h.n > heaped) heaped = h.n;
    }
    CHECK_EQ_INT(wrong, 0);
    if (nstreams <= SS_DUE_RUNS) CHECK_EQ_INT(heaped, 0);
    else CHECK(heaped > 0);
    while (ns) { /* drain in order */
        size_t m = 0;
        for (size_t k = 1; k < ns; k++)
            if (shadow[k] < shadow[m]) m = k;
        if (ss_dueheap_pop(&h).at != shadow[m]) wrong++;
        shadow[m] = shadow[--ns];
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(ss_dueheap_size(&h), 0);
    ss_free(shadow);
    ss_dueheap_free(&h);
}

int main(void) {
    random_run(20000, 0, 40);   /* in order only: the run, wrapping around */
    random_run(20000, 10, 45);  /* some late: run and heap together */
    random_run(20000, 100, 30); /* all out of order: mostly the heap */
    random_run(50000, 5, 10);   /* growth while wrapped */
    streams_run(20000, 3, 30);  /* three partitions */
    streams_run(20000, SS_DUE_RUNS, 45);
    streams_run(20000, 7, 35);  /* more streams than runs: the heap takes the rest */
    CHECK_EQ_INT(ss_alloc_live_bytes(), 0);
    return ss_t_report("dueheap");
}
