/* test_dedup.c — exact duplicate detection (src/ops/dedup.c): an id is a duplicate iff
 * its first accepted occurrence's ts >= W, whatever ts the repeat carries; W = -inf
 * forgets nothing; memory stays flat over a long stream; no false positives over
 * millions of ids; <= 24 bytes per remembered id in steady state; and a randomized
 * comparison with a brute-force reference (a plain map id -> first ts). */
#include <stdlib.h>
#include <time.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/snap.h"
#include "core/timefmt.h"
#include "harness.h"
#include "ops/dedup.h"

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return rng_state;
}

static bool check(struct ss_dedup *d, const char *id, int64_t ts) { return ss_dedup_check(d, ss_str_c(id), ts); }

#define MIN_MS 60000LL
#define DAY_MS 86400000LL

TEST(exact_duplicates) {
    struct ss_dedup *d = ss_dedup_new();
    CHECK(!check(d, "a", 1000));
    CHECK(check(d, "a", 1000));
    CHECK(!check(d, "b", 1000));
    CHECK(!check(d, "", 1000)); /* the empty id is an id like any other */
    CHECK(check(d, "", 1000));
    CHECK(!check(d, "ab", 1000));
    CHECK(check(d, "b", 1000));
    CHECK(!check(d, "neg", -5));
    CHECK(check(d, "neg", -5));
    CHECK_EQ_INT(ss_dedup_count(d), 5);
    ss_dedup_free(d);
}

/* E60 first at 11:40, repeated with ts 12:30 (DESIGN §4: the first occurrence decides). */
TEST(repeat_with_other_ts) {
    struct ss_dedup *d = ss_dedup_new();
    int64_t t1 = 11 * 60 * MIN_MS + 40 * MIN_MS, t2 = 12 * 60 * MIN_MS + 30 * MIN_MS;
    CHECK(!check(d, "E60", t1));
    CHECK(check(d, "E60", t2));       /* another minute, another ts: still a duplicate */
    CHECK(check(d, "E60", t1 + 1));
    ss_dedup_evict(d, t1 - 1);
    CHECK(check(d, "E60", t2));
    ss_dedup_evict(d, t1);            /* ts == W: still remembered */
    CHECK(check(d, "E60", t2));
    for (int i = 0; i < 1000; i++) ss_dedup_evict(d, t1); /* sweeps run, nothing expires */
    CHECK(check(d, "E60", t2));
    CHECK_EQ_INT(ss_dedup_count(d), 1);
    ss_dedup_evict(d, t1 + 1);        /* the first occurrence's ts < W: forgotten */
    CHECK(!check(d, "E60", t2));      /* accepted: the new first occurrence, ts t2 */
    CHECK(check(d, "E60", t1 + 1));
    CHECK_EQ_INT(ss_dedup_count(d), 1); /* reused in place, not stored twice */
    ss_dedup_evict(d, t2);
    CHECK(check(d, "E60", t2 + 5));
    ss_dedup_evict(d, t2 + 1);
    CHECK(!check(d, "E60", t2 + 5));
    /* a check below W (never made by the engine) remembers nothing */
    CHECK(!check(d, "old", t2));
    CHECK(!check(d, "old", t2 + 10));
    CHECK(check(d, "old", t2 + 10));
    ss_dedup_evict(d, t1);            /* W never moves back */
    CHECK(!check(d, "old2", t2));
    CHECK(!check(d, "old2", t2 + 1));
    ss_dedup_evict(d, SS_TS_MAX);
    CHECK_EQ_INT(ss_dedup_count(d), 0);
    CHECK(!check(d, "E60", t2 + 5));
    CHECK(!check(d, "E60", SS_TS_MAX - 1));
    CHECK_EQ_INT(ss_dedup_count(d), 0);
    ss_dedup_free(d);
}

/* W = -inf forgets nothing, whatever the ts: extreme ones, and a spread far beyond the
 * 2^32 ms a narrow slot holds (the wide mode). Then W moves and forgets exactly. */
TEST(minus_infinity_and_wide_spread) {
    struct ss_dedup *d = ss_dedup_new();
    ss_dedup_evict(d, SS_TS_MIN);
    int64_t ts[] = {SS_TS_MIN, SS_TS_MIN + 1, -DAY_MS * 365 * 3000, -1, 0, 1, DAY_MS * 30,
                    DAY_MS * 60, DAY_MS * 365 * 5000, SS_TS_MAX - 1};
    int nts = (int)(sizeof ts / sizeof ts[0]);
    char id[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "w%d", i);
        CHECK(!check(d, id, ts[i % nts]) || (fprintf(stderr, "at %d\n", i), 0));
    }
    for (int i = 0; i < 20000; i++) ss_dedup_evict(d, SS_TS_MIN);
    int dup = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "w%d", i);
        dup += check(d, id, 5);
    }
    CHECK_EQ_INT(dup, 20000);
    ss_dedup_evict(d, 1); /* forgets ts < 1: ts[0..4]; ts[5] == W is kept */
    int again = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "w%d", i);
        again += check(d, id, DAY_MS);
    }
    CHECK_EQ_INT(again, 20000 / nts * 5); /* the others are accepted again, ts DAY_MS */
    ss_dedup_evict(d, DAY_MS * 365 * 5000); /* keeps ts[8] (== W) and ts[9] only */
    int left = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "w%d", i);
        left += check(d, id, SS_TS_MAX - 1);
    }
    CHECK_EQ_INT(left, 20000 / nts * 2);
    ss_dedup_free(d);
}

/* 4M distinct random ids with W = -inf: none reported as seen, each found again, and 1M
 * other ids still new. */
TEST(no_false_positives) {
    struct ss_dedup *d = ss_dedup_new();
    char id[48];
    int fp = 0, miss = 0;
    uint64_t seed0 = rng_state;
    for (int i = 0; i < 4000000; i++) {
        snprintf(id, sizeof id, "%016llx-%d", (unsigned long long)rnd(), i);
        if (check(d, id, (int64_t)(rnd() % 7200000))) fp++;
    }
    CHECK_EQ_INT(fp, 0);
    CHECK_EQ_INT(ss_dedup_count(d), 4000000);
    rng_state = seed0;
    for (int i = 0; i < 4000000; i++) {
        snprintf(id, sizeof id, "%016llx-%d", (unsigned long long)rnd(), i);
        if (!check(d, id, (int64_t)(rnd() % 7200000))) miss++;
    }
    CHECK_EQ_INT(miss, 0);
    for (int i = 0; i < 1000000; i++) {
        snprintf(id, sizeof id, "other-%016llx-%d", (unsigned long long)rnd(), i);
        if (check(d, id, (int64_t)(rnd() % 7200000))) fp++;
    }
    CHECK_EQ_INT(fp, 0);
    CHECK_EQ_INT(ss_dedup_count(d), 5000000);
    double b = (double)ss_dedup_bytes(d) / 5e6;
    fprintf(stderr, "dedup: %.2f bytes per id at 5M ids, W = -inf\n", b);
    CHECK(b <= 24.0);
    ss_dedup_free(d);
}

/* The engine's configuration: W = max ts - 15 min, 1000 ids per second of event time,
 * out of order as real streams are (90% within 1 s, 9% within 1 min, 1% up to 10 min),
 * 5% duplicates replayed with their original ts or (half of them) a later one. The
 * number of remembered ids is recomputed exactly (a histogram of first ts), and the
 * memory per remembered id is measured once the stream is in steady state. */
TEST(steady_state_bytes) {
    enum { N = 2400000 }; /* 40 minutes */
    struct ss_dedup *d = ss_dedup_new();
    char id[32];
    int64_t max_ts = SS_TS_MIN, w = SS_TS_MIN, wpos = 0, live = 0;
    double worst = 0;
    int wrong = 0, dups = 0;
    static struct seen { int64_t i, ts; } ring[4096];
    static int32_t hist[N];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int64_t i = 0; i < N; i++) {
        uint64_t r = rnd() % 100;
        int64_t back = r < 90 ? 1000 : r < 99 ? 60000 : 600000;
        int64_t ts = i - (int64_t)(rnd() % (uint64_t)back);
        if (ts < 0) ts = 0;
        if (ts < w) continue;
        snprintf(id, sizeof id, "id-%lld", (long long)i);
        if (check(d, id, ts)) wrong++;
        hist[ts]++;
        live++;
        ring[i % 4096] = (struct seen){i, ts};
        if (i >= 4096 && rnd() % 20 == 0) {
            struct seen s = ring[(i - 1 - (int64_t)(rnd() % 4000)) % 4096];
            int64_t rts = rnd() % 2 ? s.ts : s.ts + 30000; /* a later ts in another minute */
            if (s.ts >= w && s.ts >= ts - 1000000) { /* still remembered: a duplicate */
                snprintf(id, sizeof id, "id-%lld", (long long)s.i);
                if (!check(d, id, rts)) wrong++;
                dups++;
            }
        }
        if (ts > max_ts) max_ts = ts;
        if (max_ts - 900000 > w) {
            w = max_ts - 900000;
            for (; wpos < w; wpos++) live -= hist[wpos];
            ss_dedup_evict(d, w);
        }
        if (i >= 1200000 && i % 10000 == 0) {
            double b = (double)ss_dedup_bytes(d) / (double)live;
            if (b > worst) worst = b;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK_EQ_INT(wrong, 0);
    CHECK(dups > 50000);
    CHECK(ss_dedup_count(d) >= (size_t)live && ss_dedup_count(d) <= (size_t)live + live / 5);
    fprintf(stderr, "dedup: worst %.2f bytes per remembered id in steady state, %lld live, %zu stored, "
                    "%.1f M checks/s (with snprintf)\n", worst, (long long)live, ss_dedup_count(d),
            (N + dups) / secs / 1e6);
    CHECK(worst > 0 && worst <= 24.0);
    ss_dedup_evict(d, SS_TS_MAX);
    CHECK_EQ_INT(ss_dedup_count(d), 0);
    ss_dedup_free(d);
}

/* 10M ids over ~28 h of event time at a varying rate (bursts of 5x) with W = max ts -
 * 15 min: stored ids and bytes stay flat (bounded by the peak rate), and every id
 * expires eventually. */
TEST(long_stream_flat) {
    struct ss_dedup *d = ss_dedup_new();
    char id[32];
    int64_t ts = 0, max_bytes_first = 0, max_bytes_late = 0, max_count = 0;
    for (int64_t i = 0; i < 10000000; i++) {
        int64_t hour = ts / 3600000;
        ts += hour % 4 == 0 ? 2 : 10; /* 500/s one hour in four, else 100/s */
        int64_t t = ts - (int64_t)(rnd() % 5000);
        snprintf(id, sizeof id, "L%lld", (long long)i);
        if (check(d, id, t)) {
            CHECK(0);
            break;
        }
        ss_dedup_evict(d, ts - 900000);
        int64_t b = (int64_t)ss_dedup_bytes(d), c = (int64_t)ss_dedup_count(d);
        if (i < 5000000) { if (b > max_bytes_first) max_bytes_first = b; }
        else if (b > max_bytes_late) max_bytes_late = b;
        if (c > max_count) max_count = c;
    }
    /* peak live: 15 min at 500/s = 450000 ids (+ what the last 5 s of disorder adds) */
    fprintf(stderr, "dedup: long stream: peak stored %lld, peak bytes %lld then %lld\n",
            (long long)max_count, (long long)max_bytes_first, (long long)max_bytes_late);
    CHECK(max_count >= 450000 && max_count <= 450000 * 12 / 10);
    CHECK(max_bytes_late <= max_bytes_first + max_bytes_first / 10); /* flat: no creeping growth */
    CHECK(max_bytes_first <= 450000 * 30);
    ss_dedup_evict(d, ts + 10000);
    for (int i = 0; i < 2000000; i++) ss_dedup_evict(d, ts + 10000); /* sweep passes */
    CHECK_EQ_INT(ss_dedup_count(d), 0);
    CHECK(ss_dedup_bytes(d) < 10000);
    ss_dedup_free(d);
}

/* The reference: a plain map id -> first ts; duplicate iff present and first ts >= W. */
struct ref { int64_t *first; bool *has; };

static bool ref_check(struct ref *r, int k, int64_t ts, int64_t w) {
    if (r->has[k] && r->first[k] >= w) return true;
    if (ts >= w) {
        r->has[k] = true;
        r->first[k] = ts;
    }
    return false;
}

/* Random streams over a pool of ids (so ids repeat with other ts, expire, come back),
 * W moving in small steps and big jumps (beyond 2^32 ms), phases at W = -inf, far-future
 * ts, occasional checks below W: every answer equals the reference's. */
static int randomized(int pool, int steps, int64_t spread, bool jumps) {
    struct ss_dedup *d = ss_dedup_new();
    struct ref r = {calloc((size_t)pool, sizeof(int64_t)), calloc((size_t)pool, sizeof(bool))};
    int64_t w = SS_TS_MIN, base = (int64_t)(rnd() % 1000000) - 500000;
    int wrong = 0;
    char id[32];
    for (int s = 0; s < steps; s++) {
        int k = (int)(rnd() % (uint64_t)pool);
        int64_t anchor = w == SS_TS_MIN ? base : w;
        int64_t ts = anchor + (int64_t)(rnd() % (uint64_t)spread);
        uint64_t x = rnd() % 1000;
        if (jumps && x < 3) ts = anchor + (int64_t)(rnd() % (1ULL << 40)); /* far ahead */
        if (x == 999) ts = anchor - 1 - (int64_t)(rnd() % 1000); /* below W */
        if (jumps && w == SS_TS_MIN && x < 50) ts = base - (int64_t)(rnd() % (1ULL << 36));
        snprintf(id, sizeof id, "k%d", k);
        bool got = check(d, id, ts), want = ref_check(&r, k, ts, w);
        if (got != want) {
            if (wrong < 5) fprintf(stderr, "mismatch step %d id %d ts %lld W %lld: got %d want %d\n", s, k,
                                   (long long)ts, (long long)w, got, want);
            wrong++;
        }
        uint64_t m = rnd() % 100;
        if (m < 30) {
            int64_t nw;
            if (w == SS_TS_MIN) nw = rnd() % 2000 == 0 ? base : SS_TS_MIN;
            else if (jumps && rnd() % 5000 == 0) nw = w + (int64_t)(rnd() % (1ULL << 34)); /* jump */
            else nw = w + (int64_t)(rnd() % (uint64_t)(spread / 50 + 1));
            if (nw > w) w = nw;
            ss_dedup_evict(d, nw);
        }
    }
    size_t live = 0;
    for (int k = 0; k < pool; k++) live += r.has[k] && r.first[k] >= w;
    if (ss_dedup_count(d) < live) wrong++;
    free(r.first);
    free(r.has);
    ss_dedup_free(d);
    return wrong;
}

TEST(randomized_vs_reference) {
    CHECK_EQ_INT(randomized(10, 200000, 1000, false), 0);
    CHECK_EQ_INT(randomized(1000, 1000000, 100000, false), 0);
    CHECK_EQ_INT(randomized(100000, 2000000, 5000000, false), 0);
    CHECK_EQ_INT(randomized(50, 500000, 1000, true), 0);
    CHECK_EQ_INT(randomized(5000, 2000000, 1000000, true), 0);
    CHECK_EQ_INT(randomized(300000, 3000000, 60000000, true), 0);
}

/* ---- savepoints ---------------------------------------------------------------------- */

/* Saves d, frees it and returns a fresh table loaded from the bytes (every byte read). */
static struct ss_dedup *save_restore(struct ss_dedup *d) {
    struct ss_buf b = {0};
    ss_dedup_save(d, &b);
    ss_dedup_free(d);
    struct ss_dedup *n = ss_dedup_new();
    struct ss_snap_r r = ss_snap_reader(b.p, b.len);
    struct ss_err err = {0};
    int rc = ss_dedup_load(n, &r, &err);
    if (rc) fprintf(stderr, "load: %s\n", err.msg);
    CHECK_EQ_INT(rc, SS_OK);
    CHECK(r.p == r.end);
    /* every cut is refused and leaves a table that works and frees */
    for (size_t cut = 0; cut < b.len; cut += 1 + b.len / 64) {
        struct ss_dedup *c = ss_dedup_new();
        struct ss_snap_r cr = ss_snap_reader(b.p, cut);
        CHECK(ss_dedup_load(c, &cr, &err) != SS_OK);
        CHECK(!check(c, "x", 0));
        ss_dedup_free(c);
    }
    ss_free(b.p);
    return n;
}

/* Duplicates stay duplicates, forgotten ids stay forgotten, ts == W is still remembered,
 * W itself is restored (a check below it is not remembered). */
TEST(save_restore_edges) {
    struct ss_dedup *d = ss_dedup_new();
    d = save_restore(d); /* empty at W = -inf */
    CHECK(!check(d, "old", 100));
    CHECK(!check(d, "edge", 1000));
    CHECK(!check(d, "new", 5000));
    CHECK(!check(d, "", 2000));
    ss_dedup_evict(d, 1000);
    d = save_restore(d);
    CHECK(check(d, "edge", 7));   /* first occurrence ts 1000 == W */
    CHECK(check(d, "new", 1));
    CHECK(check(d, "", 9000));
    CHECK(!check(d, "below", 999)); /* below W: not remembered */
    CHECK(!check(d, "below", 1500));
    CHECK(check(d, "below", 999));
    CHECK(!check(d, "old", 3000)); /* forgotten before the save: the new first occurrence */
    CHECK(check(d, "old", 3000));
    ss_dedup_evict(d, 1001);
    d = save_restore(d);
    CHECK(!check(d, "edge", 2000));
    CHECK(check(d, "old", 1));
    ss_dedup_evict(d, SS_TS_MAX);
    d = save_restore(d); /* released at the end: stays so */
    CHECK(!check(d, "new", 5000));
    CHECK_EQ_INT(ss_dedup_count(d), 0);
    ss_dedup_free(d);

    /* a wide table (stored ts spanning more than 2^32 ms) */
    d = ss_dedup_new();
    CHECK(!check(d, "far-past", -(1LL << 40)));
    CHECK(!check(d, "far-future", 1LL << 41));
    CHECK(!check(d, "now", 0));
    d = save_restore(d);
    CHECK(check(d, "far-past", 0));
    CHECK(check(d, "far-future", 0));
    ss_dedup_evict(d, 1);
    d = save_restore(d);
    CHECK(!check(d, "far-past", 5));
    CHECK(!check(d, "now", 5));
    CHECK(check(d, "far-future", 5));
    ss_dedup_free(d);
}

/* The same random checks and evictions through a table that runs straight and one saved
 * and restored at random points: every answer must be the same. */
static int save_randomized(int pool, int steps, int64_t spread, bool jumps, int restores) {
    struct ss_dedup *a = ss_dedup_new(), *b = ss_dedup_new();
    int64_t w = SS_TS_MIN, base = (int64_t)(rnd() % 1000000) - 500000;
    int wrong = 0, done = 0;
    char id[32];
    for (int s = 0; s < steps; s++) {
        int k = (int)(rnd() % (uint64_t)pool);
        int64_t anchor = w == SS_TS_MIN ? base : w;
        int64_t ts = anchor + (int64_t)(rnd() % (uint64_t)spread);
        uint64_t x = rnd() % 1000;
        if (jumps && x < 3) ts = anchor + (int64_t)(rnd() % (1ULL << 40));
        if (x == 999) ts = anchor - 1 - (int64_t)(rnd() % 1000);
        if (jumps && w == SS_TS_MIN && x < 50) ts = base - (int64_t)(rnd() % (1ULL << 36));
        snprintf(id, sizeof id, "k%d", k);
        bool ga = check(a, id, ts), gb = check(b, id, ts);
        if (ga != gb) {
            if (wrong < 5) fprintf(stderr, "save mismatch step %d id %d ts %lld W %lld: %d vs %d\n", s, k,
                                   (long long)ts, (long long)w, ga, gb);
            wrong++;
        }
        if (rnd() % 100 < 30) {
            int64_t nw;
            if (w == SS_TS_MIN) nw = rnd() % 2000 == 0 ? base : SS_TS_MIN;
            else if (jumps && rnd() % 5000 == 0) nw = w + (int64_t)(rnd() % (1ULL << 34));
            else nw = w + (int64_t)(rnd() % (uint64_t)(spread / 50 + 1));
            if (nw > w) w = nw;
            ss_dedup_evict(a, nw);
            ss_dedup_evict(b, nw);
        }
        if (rnd() % (uint64_t)(steps / restores) == 0) {
            b = save_restore(b);
            done++;
        }
    }
    CHECK(done > 0);
    ss_dedup_free(a);
    ss_dedup_free(b);
    return wrong;
}

TEST(randomized_save_restore) {
    CHECK_EQ_INT(save_randomized(10, 20000, 1000, false, 40), 0);
    CHECK_EQ_INT(save_randomized(1000, 200000, 100000, false, 20), 0);
    CHECK_EQ_INT(save_randomized(50, 100000, 1000, true, 40), 0);
    CHECK_EQ_INT(save_randomized(5000, 300000, 1000000, true, 20), 0);
}

struct dentry { uint64_t a; uint32_t b; int64_t ts; };

static int load_entries(uint32_t version, int64_t w, int64_t count, const struct dentry *e, int n) {
    struct ss_buf b = {0};
    ss_snap_tag(&b, "dedup");
    ss_snap_u32(&b, version);
    ss_snap_i64(&b, w);
    ss_snap_i64(&b, count);
    for (int i = 0; i < n; i++) {
        ss_snap_i64(&b, (int64_t)e[i].a);
        ss_snap_u32(&b, e[i].b);
        ss_snap_i64(&b, e[i].ts);
    }
    struct ss_dedup *d = ss_dedup_new();
    struct ss_snap_r r = ss_snap_reader(b.p, b.len);
    struct ss_err err = {0};
    int rc = ss_dedup_load(d, &r, &err);
    if (rc) CHECK(strstr(err.msg, "dedup") != NULL);
    CHECK(!check(d, "x", 100)); /* a refused load leaves a working table */
    ss_dedup_free(d);
    ss_free(b.p);
    return rc;
}

TEST(damaged_savepoints_refused) {
    struct dentry ok[3] = {{5, 1, 10}, {5, 2, 10}, {UINT64_MAX, 0, 1LL << 50}};
    CHECK_EQ_INT(load_entries(1, 10, 3, ok, 3), SS_OK);
    CHECK(load_entries(2, 10, 3, ok, 3) != SS_OK);          /* version */
    CHECK(load_entries(1, 11, 3, ok, 3) != SS_OK);          /* an entry below W */
    CHECK(load_entries(1, 10, 4, ok, 3) != SS_OK);          /* count beyond the bytes */
    CHECK(load_entries(1, 10, -1, ok, 3) != SS_OK);
    CHECK(load_entries(1, 10, INT64_MAX, ok, 3) != SS_OK);
    struct dentry zero[1] = {{0, 1, 10}};
    CHECK(load_entries(1, 10, 1, zero, 1) != SS_OK);        /* a == 0 marks an empty slot */
    struct dentry twice[2] = {{5, 1, 10}, {5, 1, 20}};
    CHECK(load_entries(1, 10, 2, twice, 2) != SS_OK);       /* one entry per id */
    struct dentry unsorted_a[2] = {{6, 1, 10}, {5, 1, 10}};
    CHECK(load_entries(1, 10, 2, unsorted_a, 2) != SS_OK);  /* lookups rely on the order */
    struct dentry unsorted_b[2] = {{5, 2, 10}, {5, 1, 10}};
    CHECK(load_entries(1, 10, 2, unsorted_b, 2) != SS_OK);

    /* a real savepoint with random bytes garbled: refused or loaded, never a crash or leak */
    struct ss_dedup *d = ss_dedup_new();
    char id[16];
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof id, "g%d", i);
        check(d, id, i * 1000);
    }
    ss_dedup_evict(d, 50000);
    struct ss_buf b = {0};
    ss_dedup_save(d, &b);
    ss_dedup_free(d);
    int refused = 0;
    for (int t = 0; t < 3000; t++) {
        unsigned char *copy = ss_malloc(b.len);
        memcpy(copy, b.p, b.len);
        for (int k = 0; k < 1 + (int)(rnd() % 3); k++) copy[rnd() % b.len] ^= (unsigned char)(1 + rnd() % 255);
        struct ss_dedup *x = ss_dedup_new();
        struct ss_snap_r r = ss_snap_reader(copy, b.len);
        struct ss_err err = {0};
        if (ss_dedup_load(x, &r, &err) != SS_OK) refused++;
        for (int i = 0; i < 50; i++) {
            snprintf(id, sizeof id, "g%d", i * 4);
            check(x, id, 60000 + i);
        }
        ss_dedup_evict(x, 70000);
        ss_dedup_free(x);
        ss_free(copy);
    }
    CHECK(refused > 0);
    ss_free(b.p);
}

int main(void) {
    RUN(exact_duplicates);
    RUN(repeat_with_other_ts);
    RUN(minus_infinity_and_wide_spread);
    RUN(randomized_vs_reference);
    RUN(no_false_positives);
    RUN(steady_state_bytes);
    RUN(long_stream_flat);
    RUN(save_restore_edges);
    RUN(randomized_save_restore);
    RUN(damaged_savepoints_refused);
    return ss_t_report("dedup");
}
