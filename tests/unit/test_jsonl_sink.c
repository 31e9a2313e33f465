/* test_jsonl_sink.c — the jsonl sink's file handling: a run over files truncates, a run
 * that reads Kafka appends to what earlier runs wrote (dropping a torn last line), `mode=`
 * overrides that, and a retried epoch is written once. Rows are built by hand; the
 * expected lines come from the row formatter (rowjson.c) the sink uses. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "harness.h"
#include "sink/rowjson.h"
#include "sink/sink.h"

#include "../sink_rows.h"
#include "sink_check.h"

static char tmpdir[256];

/* The whole file as a string ("" when missing). */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    char *p = ss_calloc(1, 1);
    size_t n = 0;
    if (!f) return p;
    char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
        p = ss_realloc(p, n + k + 1);
        memcpy(p + n, chunk, k);
        n += k;
        p[n] = '\0';
    }
    fclose(f);
    return p;
}

/* One final category_revenue row with this revenue, as the epoch's only row. */
static void one_row(struct ss_out *o, int64_t revenue) {
    ss_out_free(o);
    ss_out_init(o);
    cr_row(o, T0, "books", revenue, 1, 1);
}

/* The line the sink writes for one_row(revenue). */
static void line_of(struct ss_buf *want, int64_t revenue) {
    struct ss_out o;
    ss_out_init(&o);
    one_row(&o, revenue);
    ss_row_to_json(&ss_tables[SS_T_CATEGORY_REVENUE], ss_out_get(&o, SS_T_CATEGORY_REVENUE, 0), want);
    ss_buf_addc(want, '\n');
    ss_out_free(&o);
}

static void expect_file(const char *dir, const int64_t *revenues, int n) {
    struct ss_buf want = {0};
    for (int i = 0; i < n; i++) line_of(&want, revenues[i]);
    ss_buf_addc(&want, '\0');
    char path[512];
    snprintf(path, sizeof path, "%s/category_revenue.jsonl", dir);
    char *got = slurp(path);
    CHECK_EQ_STR(got, want.p);
    ss_free(got);
    ss_buf_free(&want);
}

/* Opens url, commits one row per revenue (epochs from `epoch`), closes. */
static void run_once(const char *url, const struct ss_config *cfg, uint64_t epoch, const int64_t *revenues, int n) {
    struct ss_err err = {0};
    struct ss_sink *sk = NULL;
    CHECK_EQ_INT(ss_sink_jsonl.open(&sk, url, cfg, &err), SS_OK);
    if (!sk) return;
    struct ss_out o;
    ss_out_init(&o);
    for (int i = 0; i < n; i++) {
        one_row(&o, revenues[i]);
        struct ss_epoch ep = {.epoch = epoch + (uint64_t)i, .rows = &o};
        CHECK_EQ_INT(ss_sink_jsonl.commit(sk, &ep, &err), SS_OK);
    }
    ss_out_free(&o);
    ss_sink_jsonl.close(sk);
}

static void append_bytes(const char *dir, const char *bytes) {
    char path[512];
    snprintf(path, sizeof path, "%s/category_revenue.jsonl", dir);
    FILE *f = fopen(path, "ab");
    CHECK(f != NULL);
    if (!f) return;
    fputs(bytes, f);
    fclose(f);
}

static char *kafka_inputs[] = {"promotions=p.jsonl", "clicks=kafka://127.0.0.1:9092/clicks"};
static char *file_inputs[] = {"clicks=c.jsonl"};

TEST(file_runs_truncate) {
    char dir[300], url[320];
    snprintf(dir, sizeof dir, "%s/files", tmpdir);
    snprintf(url, sizeof url, "jsonl:%s", dir);
    struct ss_config cfg = {.inputs = file_inputs, .ninputs = 1};
    static const int64_t first[] = {100, 200}, second[] = {300};
    run_once(url, &cfg, 1, first, 2);
    expect_file(dir, first, 2);
    run_once(url, &cfg, 1, second, 1);
    expect_file(dir, second, 1);
    run_once(url, NULL, 1, first, 1); /* no config at all: as files */
    expect_file(dir, first, 1);
}

TEST(kafka_runs_append_and_drop_a_torn_line) {
    char dir[300], url[320];
    snprintf(dir, sizeof dir, "%s/kafka", tmpdir);
    snprintf(url, sizeof url, "jsonl:%s", dir);
    struct ss_config cfg = {.inputs = kafka_inputs, .ninputs = 2};
    static const int64_t first[] = {100, 200}, second[] = {300, 400}, all[] = {100, 200, 300, 400};
    run_once(url, &cfg, 1, first, 2);
    expect_file(dir, first, 2);
    /* a run killed in the middle of writing an epoch */
    append_bytes(dir, "{\"window_start\":\"2026-11-27T10:3");
    run_once(url, &cfg, 1, second, 2);
    expect_file(dir, all, 4);
    /* a file that is nothing but a torn line */
    char path[512];
    snprintf(path, sizeof path, "%s/category_revenue.jsonl", dir);
    CHECK_EQ_INT(truncate(path, 0), 0);
    append_bytes(dir, "{\"window_st");
    run_once(url, &cfg, 1, first, 1);
    expect_file(dir, first, 1);
}

TEST(mode_overrides) {
    char dir[300], url[340];
    snprintf(dir, sizeof dir, "%s/modes", tmpdir);
    struct ss_config kafka = {.inputs = kafka_inputs, .ninputs = 2};
    static const int64_t a[] = {1}, b[] = {2}, ab[] = {1, 2};
    snprintf(url, sizeof url, "jsonl:%s?mode=append", dir);
    run_once(url, NULL, 1, a, 1);
    run_once(url, NULL, 1, b, 1);
    expect_file(dir, ab, 2);
    snprintf(url, sizeof url, "jsonl:%s?mode=truncate", dir);
    run_once(url, &kafka, 1, b, 1);
    expect_file(dir, b, 1);

    struct ss_err err = {0};
    struct ss_sink *sk = NULL;
    snprintf(url, sizeof url, "jsonl:%s?mode=overwrite", dir);
    CHECK_EQ_INT(ss_sink_jsonl.open(&sk, url, NULL, &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "mode=overwrite") != NULL);
    CHECK_EQ_INT(ss_sink_jsonl.open(&sk, "jsonl:?mode=append", NULL, &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "needs a directory") != NULL);
}

/* --print-config's check: open's verdict on the URL, and no directory or file made. */
TEST(check_agrees_with_open) {
    char dir[300], url[340];
    snprintf(dir, sizeof dir, "%s/checked", tmpdir);
    expect_refused_alike(&ss_sink_jsonl, "jsonl:", NULL, "needs a directory");
    expect_refused_alike(&ss_sink_jsonl, "jsonl:?mode=append", NULL, "needs a directory");
    snprintf(url, sizeof url, "jsonl:%s?mode=overwrite", dir);
    expect_refused_alike(&ss_sink_jsonl, url, NULL, "mode=overwrite");
    snprintf(url, sizeof url, "jsonl:%s/sub?mode=append", dir);
    expect_checked_ok(&ss_sink_jsonl, url, NULL, dir);
}

/* Opens jsonl:<tmpdir>/<sub> (the directory into dir); NULL after a failed check. */
static struct ss_sink *open_in(const char *sub, char *dir, size_t cap) {
    char url[400];
    snprintf(dir, cap, "%s/%s", tmpdir, sub);
    snprintf(url, sizeof url, "jsonl:%s", dir);
    struct ss_err err = {0};
    struct ss_sink *sk = NULL;
    CHECK_EQ_INT(ss_sink_jsonl.open(&sk, url, NULL, &err), SS_OK);
    return sk;
}

/* Commits epoch `epoch` with one_row(revenue) as its only row. */
static int commit_one(struct ss_sink *sk, struct ss_out *o, uint64_t epoch, int64_t revenue, struct ss_err *err) {
    one_row(o, revenue);
    struct ss_epoch ep = {.epoch = epoch, .rows = o};
    return ss_sink_jsonl.commit(sk, &ep, err);
}

/* A commit that failed part way is called again with the same epoch: its rows appear
 * once, and nothing of the failed attempt stays. */
TEST(retried_epoch_is_written_once) {
    char dir[300];
    struct ss_sink *sk = open_in("retry", dir, sizeof dir);
    if (!sk) return;
    struct ss_err err = {0};
    struct ss_out o;
    ss_out_init(&o);
    CHECK_EQ_INT(commit_one(sk, &o, 1, 100, &err), SS_OK);
    CHECK_EQ_INT(commit_one(sk, &o, 2, 200, &err), SS_OK);
    append_bytes(dir, "{\"window_start\":\"2026"); /* what a failed attempt of epoch 2 left */
    CHECK_EQ_INT(commit_one(sk, &o, 2, 200, &err), SS_OK);
    static const int64_t want[] = {100, 200};
    expect_file(dir, want, 2);
    CHECK_EQ_INT(commit_one(sk, &o, 3, 300, &err), SS_OK);
    static const int64_t want3[] = {100, 200, 300};
    expect_file(dir, want3, 3);
    ss_out_free(&o);
    ss_sink_jsonl.close(sk);
}

/* A write that fails part way (here: past RLIMIT_FSIZE, as a full disk would) cuts the
 * files back at once: a run that ends before a retry succeeds leaves whole epochs, not
 * part of one ending in a torn line. */
TEST(failed_write_leaves_whole_epochs) {
    char dir[300], path[400];
    struct ss_sink *sk = open_in("cut", dir, sizeof dir);
    if (!sk) return;
    struct ss_err err = {0};
    struct ss_out o;
    ss_out_init(&o);
    CHECK_EQ_INT(commit_one(sk, &o, 1, 100, &err), SS_OK);
    snprintf(path, sizeof path, "%s/category_revenue.jsonl", dir);
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails with EFBIG instead */
    struct rlimit small = {(rlim_t)st.st_size + 10, RLIM_INFINITY}, big = {RLIM_INFINITY, RLIM_INFINITY};
    CHECK_EQ_INT(setrlimit(RLIMIT_FSIZE, &small), 0);
    CHECK(commit_one(sk, &o, 2, 200, &err) != SS_OK); /* 10 bytes of the line written, then EFBIG */
    CHECK_EQ_INT(setrlimit(RLIMIT_FSIZE, &big), 0);
    static const int64_t want[] = {100};
    expect_file(dir, want, 1);
    ss_out_free(&o);
    ss_sink_jsonl.close(sk);
}

/* An output directory deleted mid-run: writes to the open files still succeed (into
 * unlinked inodes), so the commit must fail, naming the file, instead of the run
 * ending with exit 0 and no output anywhere. */
TEST(removed_file_fails_the_commit) {
    char dir[300], path[400];
    struct ss_sink *sk = open_in("removed", dir, sizeof dir);
    if (!sk) return;
    struct ss_err err = {0};
    struct ss_out o;
    ss_out_init(&o);
    CHECK_EQ_INT(commit_one(sk, &o, 1, 100, &err), SS_OK);
    snprintf(path, sizeof path, "%s/late.jsonl", dir); /* a table without rows this epoch */
    CHECK_EQ_INT(unlink(path), 0);
    CHECK_EQ_INT(commit_one(sk, &o, 2, 200, &err), SS_ERROR);
    CHECK(strstr(err.msg, "late.jsonl was removed while the run was writing it") != NULL);
    ss_out_free(&o);
    ss_sink_jsonl.close(sk);
}

/* A file rotated between epochs (renamed away, a new empty one created in its place or
 * not) keeps its rows, and the next epochs go to a file at the path: as logrotate does
 * to a service's files without restarting it. */
TEST(rotated_file_is_followed) {
    char dir[300], path[400], old1[420], old2[420];
    struct ss_sink *sk = open_in("rotated", dir, sizeof dir);
    if (!sk) return;
    struct ss_err err = {0};
    struct ss_out o;
    ss_out_init(&o);
    snprintf(path, sizeof path, "%s/category_revenue.jsonl", dir);
    snprintf(old1, sizeof old1, "%s.1", path);
    snprintf(old2, sizeof old2, "%s.2", path);
    CHECK_EQ_INT(commit_one(sk, &o, 1, 100, &err), SS_OK);
    CHECK_EQ_INT(rename(path, old1), 0); /* logrotate nocreate */
    CHECK_EQ_INT(commit_one(sk, &o, 2, 200, &err), SS_OK);
    CHECK_EQ_INT(commit_one(sk, &o, 3, 300, &err), SS_OK);
    CHECK_EQ_INT(rename(old1, old2), 0); /* the older one moved on: still the same file */
    CHECK_EQ_INT(rename(path, old1), 0); /* logrotate create */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK_EQ_INT(commit_one(sk, &o, 4, 400, &err), SS_OK);
    static const int64_t first[] = {100}, second[] = {200, 300}, third[] = {400};
    char d2[440], d1[440];
    /* expect_file reads DIR/category_revenue.jsonl: point it at each rotated copy */
    snprintf(d2, sizeof d2, "%s/r2", dir);
    snprintf(d1, sizeof d1, "%s/r1", dir);
    CHECK_EQ_INT(mkdir(d2, 0755), 0);
    CHECK_EQ_INT(mkdir(d1, 0755), 0);
    char p2[480], p1[480];
    snprintf(p2, sizeof p2, "%s/category_revenue.jsonl", d2);
    snprintf(p1, sizeof p1, "%s/category_revenue.jsonl", d1);
    CHECK_EQ_INT(rename(old2, p2), 0);
    CHECK_EQ_INT(rename(old1, p1), 0);
    expect_file(d2, first, 1);
    expect_file(d1, second, 2);
    expect_file(dir, third, 1);
    CHECK_EQ_INT(commit_one(sk, &o, 5, 500, &err), SS_OK); /* the moves above were not rotations of it */
    static const int64_t third5[] = {400, 500};
    expect_file(dir, third5, 2);
    unlink(p2);
    unlink(p1);
    rmdir(d2);
    rmdir(d1);
    ss_out_free(&o);
    ss_sink_jsonl.close(sk);
}

/* Rows of different tables through one context, spelt out by hand; then a table too
 * wide for the key cache, with a name too long for it, against printf. */
TEST(row_json_keys) {
    struct ss_rowjson rj;
    ss_rowjson_init(&rj);
    struct ss_buf b = {0};
    struct ss_val se[SS_SE_NCOLS] = {{0}};
    se[SS_SE_USER_ID] = (struct ss_val){.s = "u7", .len = 2};
    se[SS_SE_SESSION_START].i = T0;
    se[SS_SE_SESSION_END].i = T0 + 61500;
    se[SS_SE_DURATION_S].i = 61;
    se[SS_SE_EVENTS].i = 12;
    se[SS_SE_VIEWS].i = -3;
    se[SS_SE_REVENUE].i = 1234500; /* 123.45 */
    se[SS_SE_CONVERTED].i = 1;
    struct ss_val fu[SS_FN_NCOLS] = {{0}};
    fu[SS_FN_WINDOW_START].i = T0;
    fu[SS_FN_WINDOW_END].i = T0 + 3600000;
    fu[SS_FN_VIEWERS].i = 100;
    fu[SS_FN_VIEW_TO_CART].null = 1;
    fu[SS_FN_CART_TO_PURCHASE].i = 2500; /* 0.25 */
    ss_row_to_json_rj(&rj, &ss_tables[SS_T_SESSIONS], se, &b);
    ss_buf_addc(&b, '\n');
    ss_row_to_json_rj(&rj, &ss_tables[SS_T_FUNNEL], fu, &b);
    ss_buf_addc(&b, '\n');
    ss_row_to_json_rj(&rj, &ss_tables[SS_T_SESSIONS], se, &b);
    ss_buf_addc(&b, 0);
    const char *sess = "{\"user_id\":\"u7\",\"session_start\":\"2026-11-27T10:30:00.000Z\","
                       "\"session_end\":\"2026-11-27T10:31:01.500Z\",\"duration_s\":61,\"events\":12,"
                       "\"views\":-3,\"cart_adds\":0,\"purchases\":0,\"revenue\":\"123.45\",\"converted\":true}";
    const char *fun = "{\"window_start\":\"2026-11-27T10:30:00.000Z\",\"window_end\":\"2026-11-27T11:30:00.000Z\","
                      "\"viewers\":100,\"carters\":0,\"buyers\":0,\"view_to_cart\":null,"
                      "\"cart_to_purchase\":0.2500,\"final\":false}";
    char want[1024];
    snprintf(want, sizeof want, "%s\n%s\n%s", sess, fun, sess);
    CHECK_EQ_STR(b.p, want);

    /* a name too long for a key slot, then more columns than the cache has slots */
    static const char long_name[] = "a_column_name_longer_than_the_key_slot_of_32";
    struct ss_column cols[20];
    char names[20][16];
    struct ss_val v[20] = {{0}};
    for (int c = 0; c < 20; c++) {
        snprintf(names[c], sizeof names[c], "c%d", c);
        cols[c] = (struct ss_column){c == 2 ? long_name : names[c], SS_COL_INT, 0, 0};
        v[c].i = c * 1000 - 7;
    }
    const struct ss_table wide[2] = {{"narrow", 3, cols, -1, 0}, {"wide", 20, cols, -1, 0}};
    for (int k = 0; k < 2; k++) {
        char expect[1024];
        int n = 0;
        for (int c = 0; c < wide[k].ncols; c++)
            n += snprintf(expect + n, sizeof expect - (size_t)n, "%c\"%s\":%d", c ? ',' : '{', cols[c].name,
                          c * 1000 - 7);
        snprintf(expect + n, sizeof expect - (size_t)n, "}");
        b.len = 0;
        ss_row_to_json_rj(&rj, &wide[k], v, &b);
        ss_buf_addc(&b, 0);
        CHECK_EQ_STR(b.p, expect);
    }
    ss_buf_free(&b);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ss_test_jsonl.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(file_runs_truncate);
    RUN(kafka_runs_append_and_drop_a_torn_line);
    RUN(mode_overrides);
    RUN(check_agrees_with_open);
    RUN(retried_epoch_is_written_once);
    RUN(removed_file_fails_the_commit);
    RUN(rotated_file_is_followed);
    RUN(failed_write_leaves_whole_epochs);
    RUN(row_json_keys);
    if (ss_t_failed == 0) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    return ss_t_report("jsonl_sink");
}
