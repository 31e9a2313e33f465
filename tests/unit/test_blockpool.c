/* test_blockpool.c — fixed-size block reuse (state/blockpool.c): blocks are distinct
 * while live, aligned, keep their bytes, and are handed out again after a put. */
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "harness.h"
#include "state/blockpool.h"

#define N 5000

TEST(distinct_aligned_and_intact) {
    struct ss_blockpool p = {0};
    static unsigned char *b[N];
    for (int i = 0; i < N; i++) {
        b[i] = ss_blockpool_get(&p, 48);
        memset(b[i], i & 0xff, 48);
    }
    int misaligned = 0, damaged = 0;
    for (int i = 0; i < N; i++) {
        if ((uintptr_t)b[i] % 16) misaligned++;
        for (int k = 0; k < 48; k++)
            if (b[i][k] != (unsigned char)(i & 0xff)) damaged++;
    }
    CHECK_EQ_INT(misaligned, 0);
    CHECK_EQ_INT(damaged, 0);
    CHECK(p.bytes >= (size_t)N * 48);
    for (int i = 0; i < N; i++) ss_blockpool_put(&p, b[i]);
    ss_blockpool_free(&p);
    CHECK_EQ_INT(p.bytes, 0);
}

TEST(put_blocks_come_back) {
    struct ss_blockpool p = {0};
    void *a = ss_blockpool_get(&p, 3); /* smaller than a pointer: still a usable block */
    void *b = ss_blockpool_get(&p, 3);
    CHECK(a != b);
    size_t held = p.bytes;
    /* churn: a live population of two blocks never needs more memory */
    for (int i = 0; i < 100000; i++) {
        ss_blockpool_put(&p, a);
        a = ss_blockpool_get(&p, 3);
        memset(a, 0x5a, 3);
    }
    CHECK_EQ_INT(p.bytes, held);
    CHECK(a != b);
    ss_blockpool_put(&p, a);
    ss_blockpool_put(&p, b);
    ss_blockpool_put(&p, NULL); /* allowed, like free(NULL) */
    ss_blockpool_free(&p);
    CHECK_EQ_INT(ss_alloc_live_bytes(), 0);
}

int main(void) {
    RUN(distinct_aligned_and_intact);
    RUN(put_blocks_come_back);
    return ss_t_report("blockpool");
}
