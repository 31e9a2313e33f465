/* test_engine_revoke.c — a revocation whose outputs the sinks refuse (engine.c,
 * on_revoked): the run must stop with the error and commit no input position past the
 * lost rows, since a later epoch's positions cover them (positions are absolute) and
 * the records would never be read again.
 *
 * A source of our own stands in for a Kafka consumer group: two partitions of
 * malformed records (each one a dlq row), delivered in batches of BATCH, and no epoch
 * ends on its own (epoch.events and epoch.interval out of reach), so every row read
 * before the revocation is in the epoch the revocation commits. At poll REVOKE_AT it
 * revokes partition 1 while the jsonl sink's files cannot grow (RLIMIT_FSIZE: write
 * fails with EFBIG, a fatal error for the sink), then lets them grow again and goes on
 * with partition 0. (With an epoch per batch, the rows were in an epoch already handed
 * to the committer thread, which sometimes wrote them before the limit was set: the
 * revocation then had nothing to write and succeeded, a failure seen under the
 * sanitizers.) */
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "core/alloc.h"
#include "core/config.h"
#include "decode/decode.h"
#include "engine/engine.h"
#include "fake_source.h"
#include "harness.h"

#define BATCH 10
#define REVOKE_AT 4 /* polls before the revocation */
#define POLLS 8     /* then SS_EOF */

struct fake {
    struct fake_source fs;
    int polls;
    bool revoked;
    int64_t next[2];      /* next offset per partition */
    int64_t read_at_revoke; /* partition 0's next offset when partition 1 was revoked */
    struct ss_record recs[BATCH];
};

static int fake_poll(struct ss_source *src, struct ss_record *recs, int max, int timeout_ms, struct ss_err *err) {
    (void)timeout_ms;
    (void)err;
    struct fake *f = (struct fake *)src;
    if (f->polls == 0 && f->fs.hooks.assigned) f->fs.hooks.assigned(f->fs.hooks.ctx, src, (const int32_t[]){0, 1}, 2);
    if (f->polls == REVOKE_AT && f->fs.hooks.revoked) {
        struct rlimit small = {1, RLIM_INFINITY}, big = {RLIM_INFINITY, RLIM_INFINITY};
        f->read_at_revoke = f->next[0];
        setrlimit(RLIMIT_FSIZE, &small);
        f->fs.hooks.revoked(f->fs.hooks.ctx, src, (const int32_t[]){1}, 1);
        setrlimit(RLIMIT_FSIZE, &big);
        f->revoked = true;
    }
    if (f->polls++ == POLLS) return SS_EOF;
    int n = max < BATCH ? max : BATCH;
    for (int i = 0; i < n; i++) {
        int32_t p = f->revoked ? 0 : i % 2;
        recs[i] = (struct ss_record){.data = "not json", .len = 8, .partition = p, .offset = f->next[p]++};
    }
    return n;
}

static const struct ss_source_type fake_type = FAKE_SOURCE_TYPE(fake_poll);

TEST(failed_revocation_commit_stops_the_run) {
    char dir[] = "/tmp/ss_revoke_XXXXXX", url[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(url, sizeof url, "jsonl:%s", dir);
    signal(SIGXFSZ, SIG_IGN); /* a write past RLIMIT_FSIZE fails with EFBIG instead */
    struct ss_config cfg;
    ss_config_init(&cfg);
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_config_set(&cfg, "epoch.events", "1000000", &err), SS_OK);
    CHECK_EQ_INT(ss_config_set(&cfg, "epoch.interval", "1h", &err), SS_OK);
    struct ss_engine *e = NULL;
    CHECK_EQ_INT(ss_engine_open(&e, &cfg, &err), SS_OK);
    CHECK_EQ_INT(ss_engine_add_sink(e, url, &err), SS_OK);
    struct fake f = {.fs = {.base.type = &fake_type, .committed = {-1, -1}}};
    struct ss_input_spec spec = {.stream = SS_STREAM_CLICKS, .url = "fake", .format = SS_FMT_JSON};
    CHECK_EQ_INT(ss_engine_add_source(e, &f.fs.base, &spec, &err), SS_OK);
    int rc = ss_engine_run(e, &err);
    CHECK(rc != SS_OK);
    CHECK(strstr(err.msg, "committing the outputs of revoked partitions") != NULL);
    CHECK(f.revoked);
    /* nothing read after the lost epoch began may be committed */
    CHECK(f.fs.committed[0] <= f.read_at_revoke);
    CHECK(f.fs.committed[1] <= f.next[1]);
    CHECK(f.polls <= REVOKE_AT + 1);
    ss_engine_close(e);
    ss_config_free(&cfg);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void) {
    RUN(failed_revocation_commit_stops_the_run);
    return ss_t_report("engine_revoke");
}
