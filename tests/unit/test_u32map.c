/* test_u32map.c — the compact id map (state/u32map.c) against a plain array: random
 * sets, overwrites and removals (backward shifts across the wrap-around included),
 * every key read back after each round; the load bound that keeps it at <= 32 bytes a key
 * while it grows. */
#include <stdint.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "harness.h"
#include "state/u32map.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint32_t next_rand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void random_run(uint32_t nkeys, int rounds, int del_pct) {
    struct ss_u32map m = {0};
    uint32_t *model = calloc(nkeys + 1, sizeof *model);
    size_t live = 0;
    int wrong = 0, too_big = 0;
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 1000; k++) {
            uint32_t key = 1 + next_rand() % nkeys;
            uint32_t val = (int)(next_rand() % 100) < del_pct ? 0 : 1 + next_rand() % 1000000;
            live += (model[key] == 0 && val != 0) - (model[key] != 0 && val == 0);
            model[key] = val;
            ss_u32map_set(&m, key, val);
        }
        for (uint32_t key = 1; key <= nkeys; key++) wrong += ss_u32map_get(&m, key) != model[key];
        wrong += m.n != live;
        too_big += del_pct == 0 && live > 32 && ss_u32map_bytes(&m) > 32 * live;
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(too_big, 0);
    /* empty it: every removal shifts the runs back */
    for (uint32_t key = 1; key <= nkeys; key++) ss_u32map_set(&m, key, 0);
    CHECK_EQ_INT(m.n, 0);
    for (size_t i = 0; i <= m.mask && m.slots; i++) wrong += m.slots[i].key != 0;
    CHECK_EQ_INT(wrong, 0);
    ss_u32map_free(&m);
    free(model);
}

TEST(absent_keys_and_empty_map) {
    struct ss_u32map m = {0};
    CHECK_EQ_INT(ss_u32map_get(&m, 7), 0);
    ss_u32map_set(&m, 7, 0); /* removing from an empty map allocates nothing */
    CHECK(m.slots == NULL);
    ss_u32map_set(&m, 7, 42);
    CHECK_EQ_INT(ss_u32map_get(&m, 7), 42);
    CHECK_EQ_INT(ss_u32map_get(&m, 8), 0);
    CHECK_EQ_INT(ss_u32map_bytes(&m), 64 * 8);
    ss_u32map_free(&m);
    CHECK_EQ_INT(ss_u32map_bytes(&m), 0);
}

int main(void) {
    RUN(absent_keys_and_empty_map);
    random_run(50, 200, 30);     /* a tiny table: long runs, wrap-around */
    random_run(5000, 100, 0);    /* growth only */
    random_run(5000, 100, 10);   /* growth with removals */
    random_run(20000, 60, 50);   /* churn at a steady size */
    CHECK_EQ_INT(ss_alloc_live_bytes(), 0);
    return ss_t_report("u32map");
}
