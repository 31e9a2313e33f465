/* test_u64map.c — the window operators' keyed table (state/u64map.c) against a plain
 * array: random puts (insertions and updates through the returned slot), removals and
 * clears over keys that span all 64 bits, every key read back after each round; the
 * growth at 3/4 load; put's `inserted` flag exactly when the key was absent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "state/u64map.h"

static uint64_t rng = 0xD1B54A32D192ED03ULL;
static uint64_t next_rand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

/* key k of the run: spread over the whole range, 0 and UINT64_MAX included */
static uint64_t key_of(uint32_t k) { return k == 0 ? 0 : k == 1 ? UINT64_MAX : k * 0x9E3779B97F4A7C15ULL; }

static void random_run(uint32_t nkeys, int rounds, int del_pct) {
    struct ss_u64map m;
    ss_u64map_init(&m);
    uint32_t *model = calloc(nkeys, sizeof *model); /* value + 1; 0: absent */
    size_t live = 0;
    long wrong = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 1000; i++) {
            uint32_t k = (uint32_t)(next_rand() % nkeys);
            if ((int)(next_rand() % 100) < del_pct) {
                wrong += ss_u64map_del(&m, key_of(k)) != (model[k] != 0);
                live -= model[k] != 0;
                model[k] = 0;
                continue;
            }
            bool inserted = false;
            uint32_t *v = ss_u64map_put(&m, key_of(k), &inserted);
            wrong += inserted != (model[k] == 0);
            wrong += inserted ? *v != 0 : *v != model[k] - 1;
            live += model[k] == 0;
            *v = (uint32_t)(next_rand() % 1000000);
            model[k] = *v + 1;
        }
        for (uint32_t k = 0; k < nkeys; k++) {
            const uint32_t *v = ss_u64map_get(&m, key_of(k));
            wrong += model[k] ? !v || *v != model[k] - 1 : v != NULL;
        }
        wrong += m.n != live;
        wrong += m.slots && (m.n * 4 > (m.mask + 1) * 3 || (m.mask + 1) & m.mask); /* load, power of two */
        if (r == rounds / 2) { /* a clear keeps the capacity and forgets every key */
            size_t bytes = ss_u64map_bytes(&m);
            ss_u64map_clear(&m);
            wrong += ss_u64map_bytes(&m) != bytes || m.n != 0;
            for (uint32_t k = 0; k < nkeys; k++) wrong += ss_u64map_get(&m, key_of(k)) != NULL;
            memset(model, 0, nkeys * sizeof *model);
            live = 0;
        }
    }
    CHECK_EQ_INT(wrong, 0);
    ss_u64map_free(&m);
    CHECK_EQ_INT(ss_u64map_bytes(&m), 0);
    free(model);
}

TEST(empty_map) {
    struct ss_u64map m;
    ss_u64map_init(&m);
    CHECK(ss_u64map_get(&m, 0) == NULL);
    CHECK(!ss_u64map_del(&m, 0));
    CHECK_EQ_INT(ss_u64map_bytes(&m), 0);
    bool inserted = false;
    uint32_t *v = ss_u64map_put(&m, 0, &inserted); /* key 0 is a key like any other */
    CHECK(inserted && *v == 0);
    *v = 5;
    CHECK(ss_u64map_get(&m, 0) && *ss_u64map_get(&m, 0) == 5);
    CHECK_EQ_INT(m.n, 1);
    ss_u64map_free(&m);
}

TEST(growth_only) { random_run(5000, 20, 0); }
TEST(churn) { random_run(3000, 40, 30); }
TEST(mostly_removals) { random_run(500, 40, 70); }

int main(void) {
    RUN(empty_map);
    RUN(growth_only);
    RUN(churn);
    RUN(mostly_removals);
    return ss_t_report("u64map");
}
