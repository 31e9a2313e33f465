/* test_bgsave.c — a savepoint written by a forked child (engine/bgsave.h): what it
 * writes reads back, its failures come back with their reason, and a child cancelled,
 * killed or orphaned leaves no process behind. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/timefmt.h"
#include "engine/bgsave.h"
#include "engine/savepoint.h"
#include "harness.h"

static char *tmpdir(void) {
    char tpl[] = "/tmp/ss_bgsave_XXXXXX";
    char *d = mkdtemp(tpl);
    CHECK(d != NULL);
    return ss_strndup(d, strlen(d));
}

/* The fill callbacks: ctx is what they do. */
static void fill_bytes(const void *ctx, struct ss_buf *body) {
    size_t n = *(const size_t *)ctx;
    for (size_t i = 0; i < n; i++) {
        char c = (char)(i * 31 + 7);
        ss_buf_add(body, &c, 1);
    }
}

static void fill_slowly(const void *ctx, struct ss_buf *body) {
    (void)ctx;
    (void)body;
    sleep(30);
}

/* the child's process name, as `ps` shows it */
static void fill_name(const void *ctx, struct ss_buf *body) {
    (void)ctx;
    char name[16] = "";
    prctl(PR_GET_NAME, name, 0, 0, 0);
    ss_buf_add(body, name, strlen(name));
}

static void fill_dies(const void *ctx, struct ss_buf *body) {
    (void)ctx;
    (void)body;
    raise(SIGKILL);
}

/* Polls until the child is done (at most 20 s). */
static bool wait_done(struct ss_bgsave *b, struct ss_bgsave_result *res) {
    for (int i = 0; i < 20000; i++) {
        bool done;
        ss_bgsave_poll(b, &done, res);
        if (done) return true;
        usleep(1000);
    }
    return false;
}

/* Whether pid is gone or a zombie nobody reaped yet (an orphan's new parent may not). */
static bool gone(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return true;
    bool zombie = fgets(line, sizeof line, f) && strstr(line, ") Z ") != NULL;
    fclose(f);
    return zombie;
}

TEST(the_child_writes_what_reads_back) {
    char *dir = tmpdir(), sub[600], path[700];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    snprintf(path, sizeof path, "%s/savepoint", sub); /* made by the child */
    size_t n = 3 << 20;
    struct ss_bgsave b = {0};
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_bgsave_start(&b, path, fill_bytes, &n, &err), SS_OK);
    CHECK(b.pid > 0);
    struct ss_bgsave_result res;
    CHECK(wait_done(&b, &res));
    CHECK_EQ_INT(res.rc, SS_OK);
    CHECK_EQ_INT(res.bytes, n);
    CHECK(res.ms >= 0 && res.ms < 20000);
    CHECK_EQ_INT(b.pid, 0);
    /* staged, not published: PATH appears only with the rename */
    bool found = true;
    struct ss_buf body;
    CHECK_EQ_INT(ss_savepoint_read(path, &body, &found, &err), SS_OK);
    CHECK(!found);
    CHECK_EQ_INT(ss_savepoint_publish(path, &err), SS_OK);
    CHECK_EQ_INT(ss_savepoint_read(path, &body, &found, &err), SS_OK);
    CHECK(found);
    struct ss_buf want = {0};
    fill_bytes(&n, &want);
    CHECK(body.len == want.len && memcmp(body.p, want.p, want.len) == 0);
    ss_free(body.p);
    ss_free(want.p);
    CHECK_EQ_INT(ss_savepoint_remove(path, &err), SS_OK);
    CHECK_EQ_INT(rmdir(sub), 0);
    rmdir(dir);
    ss_free(dir);
}

/* `ps` and `top` say what the second shopstream process is */
TEST(the_child_is_named) {
    char *dir = tmpdir(), path[700];
    snprintf(path, sizeof path, "%s/savepoint", dir);
    struct ss_bgsave b = {0};
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_bgsave_start(&b, path, fill_name, NULL, &err), SS_OK);
    struct ss_bgsave_result res;
    CHECK(wait_done(&b, &res));
    CHECK_EQ_INT(res.rc, SS_OK);
    CHECK_EQ_INT(ss_savepoint_publish(path, &err), SS_OK);
    bool found = false;
    struct ss_buf body = {0};
    CHECK_EQ_INT(ss_savepoint_read(path, &body, &found, &err), SS_OK);
    CHECK(found);
    CHECK(body.len == 9 && memcmp(body.p, "ss-bgsave", 9) == 0);
    char mine[16] = "";
    prctl(PR_GET_NAME, mine, 0, 0, 0);
    CHECK(strcmp(mine, "ss-bgsave") != 0); /* the parent keeps its own */
    ss_free(body.p);
    CHECK_EQ_INT(ss_savepoint_remove(path, &err), SS_OK);
    rmdir(dir);
    ss_free(dir);
}

TEST(a_write_that_fails_comes_back_with_its_reason) {
    char *dir = tmpdir(), file[600], path[700];
    snprintf(file, sizeof file, "%s/a-file", dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    fclose(f);
    snprintf(path, sizeof path, "%s/savepoint", file); /* a directory that is a file */
    size_t n = 10;
    struct ss_bgsave b = {0};
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_bgsave_start(&b, path, fill_bytes, &n, &err), SS_OK);
    struct ss_bgsave_result res;
    CHECK(wait_done(&b, &res));
    CHECK(res.rc != SS_OK);
    CHECK(strstr(res.msg, file) != NULL);
    unlink(file);
    rmdir(dir);
    ss_free(dir);
}

TEST(a_child_that_dies_is_reported) {
    char *dir = tmpdir(), path[600];
    snprintf(path, sizeof path, "%s/savepoint", dir);
    struct ss_bgsave b = {0};
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_bgsave_start(&b, path, fill_dies, NULL, &err), SS_OK);
    struct ss_bgsave_result res;
    CHECK(wait_done(&b, &res));
    CHECK(res.rc != SS_OK);
    CHECK(strstr(res.msg, "killed by signal 9") != NULL);
    rmdir(dir);
    ss_free(dir);
}

TEST(cancel_kills_and_reaps_the_child) {
    char *dir = tmpdir(), path[600];
    snprintf(path, sizeof path, "%s/savepoint", dir);
    struct ss_bgsave b = {0};
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_bgsave_start(&b, path, fill_slowly, NULL, &err), SS_OK);
    pid_t pid = b.pid;
    bool done;
    struct ss_bgsave_result res;
    ss_bgsave_poll(&b, &done, &res);
    CHECK(!done); /* still sleeping */
    int64_t t0 = ss_now_ms();
    ss_bgsave_cancel(&b);
    CHECK(ss_now_ms() - t0 < 5000);
    CHECK_EQ_INT(b.pid, 0);
    CHECK(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD); /* reaped */
    ss_bgsave_cancel(&b);                                       /* none running: nothing */
    rmdir(dir);
    ss_free(dir);
}

/* A child whose engine crashed must not go on writing PATH.tmp under the next run. */
TEST(an_orphaned_child_dies_with_its_parent) {
    char *dir = tmpdir(), path[600];
    snprintf(path, sizeof path, "%s/savepoint", dir);
    int fds[2];
    CHECK_EQ_INT(pipe(fds), 0);
    pid_t engine = fork();
    if (engine == 0) { /* the engine: starts a slow child, tells its pid, dies */
        struct ss_bgsave b = {0};
        struct ss_err err = {0};
        if (ss_bgsave_start(&b, path, fill_slowly, NULL, &err) != SS_OK) _exit(1);
        if (write(fds[1], &b.pid, sizeof b.pid) != (ssize_t)sizeof b.pid) _exit(1);
        usleep(100000); /* the child has set up its death signal by now, or finds its parent gone */
        _exit(0);
    }
    close(fds[1]);
    pid_t writer = 0;
    CHECK_EQ_INT(read(fds[0], &writer, sizeof writer), sizeof writer);
    close(fds[0]);
    int status = 0;
    CHECK_EQ_INT(waitpid(engine, &status, 0), engine);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    bool dead = false;
    for (int i = 0; i < 5000 && !dead; i++) {
        dead = writer > 0 && gone(writer);
        if (!dead) usleep(1000);
    }
    CHECK(dead);
    if (!dead && writer > 0) kill(writer, SIGKILL);
    rmdir(dir);
    ss_free(dir);
}

int main(void) {
    RUN(the_child_writes_what_reads_back);
    RUN(the_child_is_named);
    RUN(a_write_that_fails_comes_back_with_its_reason);
    RUN(a_child_that_dies_is_reported);
    RUN(cancel_kills_and_reaps_the_child);
    RUN(an_orphaned_child_dies_with_its_parent);
    return ss_t_report("bgsave");
}
