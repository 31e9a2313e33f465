/* fence.c — see fence.h. */
#include "fence.h"

#include "../core/log.h"

void ss_fence_init(struct ss_fence *f, uint64_t stored) { *f = (struct ss_fence){.confirmed = stored}; }

int ss_fence_decide(struct ss_fence *f, uint64_t stored, uint64_t epoch, const char *where,
                    enum ss_fence_verdict *verdict, struct ss_err *err) {
    *verdict = SS_FENCE_WRITE; /* also on an error, where it means nothing */
    if (stored > f->confirmed) {
        if (stored == epoch && f->unsure == epoch) {
            /* our own commit, whose answer was lost */
            f->confirmed = epoch;
            f->unsure = 0;
            *verdict = SS_FENCE_REPLAY;
            return SS_OK;
        }
        return ss_err_set(err, SS_ERROR,
                          "%s: its epoch fence holds epoch %llu, but this process committed up to epoch %llu and is "
                          "at %llu: another shopstream process is writing to the same destination, or this one "
                          "names it in two --sink URLs spelled differently (localhost and 127.0.0.1, say). Run one "
                          "process per database (Redis database, SQLite file): the processes would overwrite each "
                          "other's aggregate rows; stop the other one, or give this one its own destination; give "
                          "each destination one --sink",
                          where, (unsigned long long)stored, (unsigned long long)f->confirmed,
                          (unsigned long long)epoch);
    }
    if (epoch <= f->confirmed) {
        *verdict = SS_FENCE_REPLAY; /* asked again for an epoch known to be there */
        return SS_OK;
    }
    if (stored < f->confirmed && !f->warned_lost) {
        f->warned_lost = true;
        ss_warn("sink.fence",
                "msg=\"the destination lost committed epochs (restored from a backup, or restarted without "
                "persistence?): their rows are not resent\" sink=\"%s\" stored_epoch=%llu committed_epoch=%llu",
                where, (unsigned long long)stored, (unsigned long long)f->confirmed);
    }
    *verdict = SS_FENCE_WRITE;
    return SS_OK;
}

void ss_fence_sending(struct ss_fence *f, uint64_t epoch) { f->unsure = epoch; }

void ss_fence_answered(struct ss_fence *f, uint64_t epoch, bool committed) {
    if (f->unsure == epoch) f->unsure = 0;
    if (committed && epoch > f->confirmed) f->confirmed = epoch;
}
