/* fence.h — the epoch fence's bookkeeping, shared by the sinks that record the epoch
 * number with the data (SQLite, PostgreSQL, Redis; DESIGN §6).
 *
 * The destination stores the last committed epoch. Before writing epoch N a sink reads
 * that stored value and asks ss_fence_decide what to do. Two situations look alike in
 * the stored number and must not be confused:
 *   - a replay: this process sent epoch N's commit, the answer was lost (connection
 *     dropped), and the retry finds N already stored. Nothing to write.
 *   - another writer: a second shopstream process (same database, same Redis db, same
 *     SQLite file) advanced the number. Skipping our epoch as "already committed" would
 *     silently drop its rows, and the two processes would overwrite each other's
 *     aggregates anyway, so this is an error that names the cause.
 * The fence tells them apart by remembering what this process knows: the epoch stored
 * when it opened the destination, every epoch it saw acknowledged since, and the one
 * epoch whose commit it sent without seeing the answer. */
#ifndef SS_FENCE_H
#define SS_FENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/err.h"

struct ss_fence {
    uint64_t confirmed; /* the destination holds every epoch up to this one (as far as we know) */
    uint64_t unsure;    /* an epoch whose commit was sent but not answered; 0: none */
    bool warned_lost;   /* the "destination lost epochs" warning was logged */
};

enum ss_fence_verdict {
    SS_FENCE_WRITE,  /* write the epoch */
    SS_FENCE_REPLAY, /* the destination already has it: write nothing, report success */
};

/* At open: the epoch the destination holds (0: none). */
void ss_fence_init(struct ss_fence *f, uint64_t stored);

/* Decides what committing `epoch` does, given the destination's stored epoch (0: none).
 * Fills *verdict, or answers SS_ERROR naming `where` when another writer moved the
 * fence. A stored epoch below what was confirmed (a database restored from a backup,
 * a Redis without AOF restarted) is logged once and written over. */
int ss_fence_decide(struct ss_fence *f, uint64_t stored, uint64_t epoch, const char *where,
                    enum ss_fence_verdict *verdict, struct ss_err *err);

/* The commit of `epoch` is being sent: until an answer arrives its outcome is unknown. */
void ss_fence_sending(struct ss_fence *f, uint64_t epoch);
/* The destination answered: committed (true) or definitely not applied (false). */
void ss_fence_answered(struct ss_fence *f, uint64_t epoch, bool committed);

#endif
