/* test_dedup.c — exact duplicate detection (src/ops/dedup.c): duplicates found,
 * generations forgotten at the watermark, no false positives over millions of ids,
 * and the memory bound of <= 24 bytes per remembered id in steady state. */
#include "core/timefmt.h"
#include "harness.h"
#include "ops/dedup.h"

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return rng_state;
}

static bool check(struct ss_dedup *d, const char *id, int64_t ts) { return ss_dedup_check(d, ss_str_c(id), ts); }

TEST(basic_and_generations) {
    struct ss_dedup *d = ss_dedup_new(60000);
    CHECK(!check(d, "a", 1000));
    CHECK(check(d, "a", 1000));
    CHECK(!check(d, "b", 1000));
    CHECK(!check(d, "", 1000)); /* the empty id is an id like any other */
    CHECK(check(d, "", 1000));
    CHECK(!check(d, "c", 61000));
    CHECK(!check(d, "neg", -1)); /* generation -1: [-60000, 0) */
    CHECK_EQ_INT(ss_dedup_count(d), 5);
    ss_dedup_evict(d, SS_TS_MIN);
    CHECK_EQ_INT(ss_dedup_count(d), 5);
    ss_dedup_evict(d, 0); /* generation -1 ends at 0 <= W */
    CHECK_EQ_INT(ss_dedup_count(d), 4);
    ss_dedup_evict(d, 59999);
    CHECK_EQ_INT(ss_dedup_count(d), 4);
    CHECK(check(d, "a", 1000));
    ss_dedup_evict(d, 60000); /* generation 0 ends at 60000 <= W */
    CHECK_EQ_INT(ss_dedup_count(d), 1);
    CHECK(check(d, "c", 61000));
    CHECK(!check(d, "a", 1000)); /* forgotten (such an event is late in the engine) */
    ss_dedup_evict(d, SS_TS_MAX);
    CHECK_EQ_INT(ss_dedup_count(d), 0);
    CHECK(!check(d, "c", 61000));
    ss_dedup_free(d);
}

/* 1M distinct random ids in one generation (grown from the smallest table): none is
 * reported as seen, each is found again, and 1M other ids are still new. */
TEST(no_false_positives) {
    struct ss_dedup *d = ss_dedup_new(3600000);
    char id[40];
    int fp = 0, miss = 0;
    uint64_t seed0 = rng_state;
    for (int i = 0; i < 1000000; i++) {
        snprintf(id, sizeof id, "%016llx-%d", (unsigned long long)rnd(), i);
        if (check(d, id, (int64_t)(rnd() % 7200000))) fp++;
    }
    CHECK_EQ_INT(fp, 0);
    CHECK_EQ_INT(ss_dedup_count(d), 1000000);
    rng_state = seed0;
    for (int i = 0; i < 1000000; i++) {
        snprintf(id, sizeof id, "%016llx-%d", (unsigned long long)rnd(), i);
        if (!check(d, id, (int64_t)(rnd() % 7200000))) miss++;
    }
    CHECK_EQ_INT(miss, 0);
    for (int i = 0; i < 1000000; i++) {
        snprintf(id, sizeof id, "other-%016llx-%d", (unsigned long long)rnd(), i);
        if (check(d, id, (int64_t)(rnd() % 7200000))) fp++;
    }
    CHECK_EQ_INT(fp, 0);
    CHECK_EQ_INT(ss_dedup_count(d), 2000000);
    ss_dedup_free(d);
}

/* The engine's configuration: a generation per minute, W = max ts - 15 min, 1000 ids per
 * second of event time, out of order as real streams are (90% within 1 s, 9% within
 * 1 min, 1% up to 10 min), 5% duplicates. */
TEST(steady_state_bytes) {
    struct ss_dedup *d = ss_dedup_new(60000);
    char id[32];
    int64_t max_ts = SS_TS_MIN, w = SS_TS_MIN;
    double worst = 0;
    int wrong = 0, n = 0, dups = 0;
    static struct seen { int64_t i, ts; } ring[4096];
    for (int64_t i = 0; i < 2400000; i++) { /* 40 minutes */
        uint64_t r = rnd() % 100;
        int64_t back = r < 90 ? 1000 : r < 99 ? 60000 : 600000;
        int64_t ts = i - (int64_t)(rnd() % (uint64_t)back);
        if (ts < w) continue;
        snprintf(id, sizeof id, "id-%lld", (long long)i);
        if (check(d, id, ts)) wrong++;
        n++;
        ring[i % 4096] = (struct seen){i, ts};
        if (i >= 4096 && rnd() % 20 == 0) { /* 5%: replay an earlier id with its original ts */
            struct seen s = ring[(i - 1 - (int64_t)(rnd() % 4000)) % 4096];
            if (s.ts >= w) {
                snprintf(id, sizeof id, "id-%lld", (long long)s.i);
                if (!check(d, id, s.ts)) wrong++;
                dups++;
            }
        }
        if (ts > max_ts) max_ts = ts;
        if (max_ts - 900000 > w) {
            w = max_ts - 900000;
            ss_dedup_evict(d, w);
        }
        if (i >= 1200000 && i % 10000 == 0) {
            double b = (double)ss_dedup_bytes(d) / (double)ss_dedup_count(d);
            if (b > worst) worst = b;
        }
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK(dups > 50000);
    CHECK_EQ_INT(ss_dedup_count(d) > 0, 1);
    fprintf(stderr, "dedup: worst %.2f bytes per id in steady state, %zu ids live\n", worst, ss_dedup_count(d));
    CHECK(worst > 0 && worst <= 24.0);
    ss_dedup_evict(d, SS_TS_MAX);
    CHECK_EQ_INT(ss_dedup_count(d), 0);
    ss_dedup_free(d);
}

int main(void) {
    RUN(basic_and_generations);
    RUN(no_false_positives);
    RUN(steady_state_bytes);
    return ss_t_report("dedup");
}
