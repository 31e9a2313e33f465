/* bgsave.h — a periodic savepoint written by a forked child while the engine goes on,
 * as Redis's BGSAVE writes its snapshot.
 *
 * Serialising the state and writing it takes the engine's thread 0.25-0.7 s per 73 MB of
 * savepoint (docs/PERFORMANCE.md), every savepoint.interval, and grows with the state:
 * input waits meanwhile. fork() gives a child a copy-on-write image of the state as the
 * epoch ends; the child serialises it, writes and fsyncs PATH.tmp (savepoint.h) and
 * exits, while the engine waits only for the fork (its page tables: milliseconds per GB).
 * The price is memory: a page the engine changes while the child runs is copied, so
 * under a write-heavy load the process may need up to twice its resident size for the
 * child's lifetime.
 *
 * The child only reads the engine thread's own data, allocates, writes one file and
 * calls _exit: no other thread of the process is in it, and it flushes no stdio buffer
 * and runs no atexit handler of the parent's. */
#ifndef SS_BGSAVE_H
#define SS_BGSAVE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../core/buf.h"
#include "../core/err.h"

/* Whether a child may allocate: GCC 12's AddressSanitizer allocator takes no lock around
 * fork(), so a child can inherit it held by another thread and hang in its first malloc.
 * Those builds write every savepoint on the engine's thread. */
#if defined(__SANITIZE_ADDRESS__)
#define SS_BGSAVE_FORKS 0
#else
#define SS_BGSAVE_FORKS 1
#endif

/* Serialises the state into body (an empty buffer); runs in the child. */
typedef void (*ss_bgsave_fill)(const void *ctx, struct ss_buf *body);

struct ss_bgsave {
    pid_t pid;          /* the child, 0: none running */
    int fd;             /* read end of the pipe its result comes back on */
    int64_t started_ms; /* processing time of the fork */
};

struct ss_bgsave_result {
    int rc;        /* SS_OK once PATH.tmp is fsynced; else msg says why */
    int64_t bytes; /* body size */
    int64_t ms;    /* the child's time, fork to fsync */
    char msg[sizeof(((struct ss_err *)0)->msg)];
};

/* Forks a child that fills the body and stages it to PATH.tmp (ss_savepoint_stage).
 * SS_EIO with the reason when the fork or its pipe fails (too little memory for the
 * copy, say): the caller can write in place instead. */
int ss_bgsave_start(struct ss_bgsave *b, const char *path, ss_bgsave_fill fill, const void *ctx, struct ss_err *err);
/* Without waiting: *done is false while the child runs; once it has exited, *done is true,
 * *res says how it went and b has no child any more. */
void ss_bgsave_poll(struct ss_bgsave *b, bool *done, struct ss_bgsave_result *res);
/* Kills and reaps a running child (its PATH.tmp is then incomplete: the next stage
 * truncates it). Nothing when none runs. */
void ss_bgsave_cancel(struct ss_bgsave *b);

#endif
