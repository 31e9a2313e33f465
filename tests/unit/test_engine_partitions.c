/* test_engine_partitions.c — what the engine makes of a Kafka partition's records
 * beyond valid events (engine.c, process_record and update_watermark).
 *
 * A source of our own stands in for a consumer group's partitions: each poll hands out
 * the records a test scripts for it, then SS_EOF. */
#include <stdlib.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/event.h"
#include "decode/decode.h"
#include "engine/engine.h"
#include "fake_source.h"
#include "harness.h"

#define MAXREC 8

struct fake {
    struct fake_source fs;
    struct ss_engine *e;
    int polls, npolls;
    int sleep_ms;                        /* before each poll: processing time passes */
    void (*script)(struct fake *f, int poll, struct ss_record *recs, int *n);
    int64_t next[2];                     /* next offset per partition */
    int64_t watermark_before_eof;        /* the engine's W at the last poll */
    char bufs[MAXREC][256];
};

static int fake_poll(struct ss_source *src, struct ss_record *recs, int max, int timeout_ms, struct ss_err *err) {
    (void)timeout_ms;
    (void)err;
    struct fake *f = (struct fake *)src;
    if (f->polls == 0 && f->fs.hooks.assigned) f->fs.hooks.assigned(f->fs.hooks.ctx, src, (const int32_t[]){0, 1}, 2);
    if (f->polls == f->npolls) {
        f->watermark_before_eof = ss_engine_watermark(f->e);
        return SS_EOF;
    }
    if (f->sleep_ms) usleep((useconds_t)f->sleep_ms * 1000);
    int n = 0;
    f->script(f, f->polls++, recs, &n);
    CHECK(n <= max);
    return n;
}

/* record i of this poll: bytes on partition p at its next offset */
static void put(struct fake *f, struct ss_record *recs, int *n, int32_t p, const char *data, size_t len) {
    memcpy(f->bufs[*n], data, len);
    recs[*n] = (struct ss_record){.data = f->bufs[*n], .len = len, .partition = p, .offset = f->next[p]++};
    (*n)++;
}

static void put_click(struct fake *f, struct ss_record *recs, int *n, int32_t p, int minute) {
    char line[256];
    int len = snprintf(line, sizeof line,
                       "{\"event_id\":\"e%d-%d\",\"event_type\":\"view\",\"user_id\":\"u1\",\"product_id\":\"p1\","
                       "\"category\":\"beauty\",\"ts\":\"2026-11-27T%02d:%02d:00Z\"}",
                       p, minute, minute / 60, minute % 60);
    put(f, recs, n, p, line, (size_t)len);
}

static const struct ss_source_type fake_type = FAKE_SOURCE_TYPE(fake_poll);

/* Runs the fake source with `sets` (key=value pairs, NULL-ended) into a jsonl sink. */
static void run_fake(struct fake *f, const char *const *sets) {
    char dir[] = "/tmp/ss_parts_XXXXXX", url[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(url, sizeof url, "jsonl:%s", dir);
    struct ss_config cfg;
    ss_config_init(&cfg);
    struct ss_err err = {0};
    for (int i = 0; sets && sets[i]; i += 2) CHECK_EQ_INT(ss_config_set(&cfg, sets[i], sets[i + 1], &err), SS_OK);
    CHECK_EQ_INT(ss_engine_open(&f->e, &cfg, &err), SS_OK);
    CHECK_EQ_INT(ss_engine_add_sink(f->e, url, &err), SS_OK);
    f->fs.base.type = &fake_type;
    f->fs.committed[0] = f->fs.committed[1] = -1;
    struct ss_input_spec spec = {.stream = SS_STREAM_CLICKS, .url = "fake", .format = SS_FMT_JSON};
    CHECK_EQ_INT(ss_engine_add_source(f->e, &f->fs.base, &spec, &err), SS_OK);
    CHECK_EQ_INT(ss_engine_run(f->e, &err), SS_OK);
    ss_engine_close(f->e);
    ss_config_free(&cfg);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

/* Partition 0: an event, then two tombstones (a null value reaches the engine as an
 * empty record) and a blank one; partition 1: a tombstone only. */
static void tombstones(struct fake *f, int poll, struct ss_record *recs, int *n) {
    (void)poll;
    put_click(f, recs, n, 0, 0);
    put(f, recs, n, 0, "", 0);
    put(f, recs, n, 0, "", 0);
    put(f, recs, n, 0, " \r", 2);
    put(f, recs, n, 1, "", 0);
}

/* Skipped records are read all the same: the offsets committed pass them, or the
 * group's offset stays before a partition's trailing tombstones and its lag never
 * reaches 0 (seen with kcat -Z against a real broker). */
TEST(skipped_records_are_committed) {
    struct fake f = {.npolls = 1, .script = tombstones};
    run_fake(&f, NULL);
    CHECK_EQ_INT(f.fs.committed[0], 4);
    CHECK_EQ_INT(f.fs.committed[1], 1);
}

/* Partition 0 delivers events of advancing time; partition 1 one event at the start,
 * then malformed records only, at every poll. */
static void bad_records_only(struct fake *f, int poll, struct ss_record *recs, int *n) {
    put_click(f, recs, n, 0, 60 + poll);
    if (poll == 0) put_click(f, recs, n, 1, 0);
    else put(f, recs, n, 1, "not json", 8);
}

/* A partition that delivers only invalid records has no event for idle_timeout: it
 * stops holding W back (SEMANTICS §4), as a quiet one does. Counting it kept W at its
 * last event's time - lateness for as long as the bad records came (at -inf when it
 * never had an event: no window ever final; seen against a real broker). */
TEST(invalid_records_do_not_keep_a_partition_busy) {
    struct fake f = {.npolls = 12, .sleep_ms = 20, .script = bad_records_only};
    run_fake(&f, (const char *const[]){"idle_timeout", "100", "lateness", "0", NULL});
    /* partition 0's latest event is at 01:11, so W is at 01:11 once partition 1 is idle */
    CHECK_EQ_INT(f.watermark_before_eof, 1795741860000LL);
}

int main(void) {
    RUN(skipped_records_are_committed);
    RUN(invalid_records_do_not_keep_a_partition_busy);
    return ss_t_report("engine_partitions");
}
