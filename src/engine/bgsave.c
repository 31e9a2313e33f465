/* bgsave.c — a savepoint written by a forked child (bgsave.h). */
#include "bgsave.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/fdio.h"
#include "../core/timefmt.h"
#include "savepoint.h"

static _Noreturn void child(int fd, pid_t parent, const char *path, ss_bgsave_fill fill, const void *ctx,
                            int64_t started_ms) {
    /* a child that outlived a crashed engine would go on writing PATH.tmp under the
     * next run's own stage of it */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(3);
    /* `ps` and `top` then say what the second shopstream process is */
    prctl(PR_SET_NAME, "ss-bgsave", 0, 0, 0);
    struct ss_bgsave_result res = {0};
    struct ss_buf body = {0};
    fill(ctx, &body);
    struct ss_err err = {0};
    res.rc = ss_savepoint_stage(path, &body, &err);
    res.bytes = (int64_t)body.len;
    res.ms = ss_now_ms() - started_ms;
    snprintf(res.msg, sizeof res.msg, "%s", err.msg);
    (void)ss_write_all(fd, &res, sizeof res); /* failing: the parent is gone, nobody to tell */
    _exit(res.rc == SS_OK ? 0 : 1);
}

int ss_bgsave_start(struct ss_bgsave *b, const char *path, ss_bgsave_fill fill, const void *ctx,
                    struct ss_err *err) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return ss_err_set(err, SS_EIO, "cannot start the savepoint writer: pipe: %s", strerror(errno));
    pid_t parent = getpid();
    int64_t t0 = ss_now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], parent, path, fill, ctx, t0);
    }
    int e = errno;
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return ss_err_set(err, SS_EIO, "cannot start the savepoint writer: fork: %s", strerror(e));
    }
    *b = (struct ss_bgsave){pid, fds[0], t0};
    return SS_OK;
}

/* What a child that died without its result said, from its wait status. */
static void died(struct ss_bgsave_result *res, int status) {
    memset(res, 0, sizeof *res);
    res->rc = SS_EIO;
    if (WIFSIGNALED(status))
        snprintf(res->msg, sizeof res->msg, "the savepoint writer was killed by signal %d (out of memory?)",
                 WTERMSIG(status));
    else
        snprintf(res->msg, sizeof res->msg, "the savepoint writer exited with status %d and no result",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

void ss_bgsave_poll(struct ss_bgsave *b, bool *done, struct ss_bgsave_result *res) {
    *done = false;
    if (!b->pid) return;
    int status = 0;
    pid_t r;
    while ((r = waitpid(b->pid, &status, WNOHANG)) < 0 && errno == EINTR) {
    }
    if (r == 0) return;
    /* exited (or, with r < 0, not our child any more: SIGCHLD ignored by someone) */
    ssize_t n;
    while ((n = read(b->fd, res, sizeof *res)) < 0 && errno == EINTR) {
    }
    if (n != (ssize_t)sizeof *res) died(res, r < 0 ? 0 : status);
    close(b->fd);
    *b = (struct ss_bgsave){0};
    *done = true;
}

void ss_bgsave_cancel(struct ss_bgsave *b) {
    if (!b->pid) return;
    kill(b->pid, SIGKILL);
    while (waitpid(b->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    close(b->fd);
    *b = (struct ss_bgsave){0};
}
