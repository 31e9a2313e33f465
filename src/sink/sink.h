/* sink.h — the sink interface. A sink receives, once per epoch, the rows the
 * operators produced in it and makes them durable atomically (DESIGN §6).
 *
 * `commit` answers SS_OK, SS_RETRY (transient: server down, disk full; the engine
 * pauses input, backs off and calls commit again with the same epoch and the same
 * rows) or SS_ERROR (fatal). Writes are idempotent upserts or deterministic file
 * names, so a repeated commit of an epoch writes the same rows. A sink never calls
 * back into operators. The rows are only valid during the call.
 *
 * A sink with SS_SINK_HOLDS may keep rows of committed epochs in files it has not
 * closed yet; it says how far it is durable in durable_epoch, and closes everything
 * when an epoch is sealed (ep->seal).
 *
 * Threads: open and close run on the engine's thread, commit on the committer's
 * (engine/committer.c), one epoch at a time and in order, while the engine computes the
 * next epoch; a sink touches nothing of the engine's but the epoch it is given. */
#ifndef SS_SINK_H
#define SS_SINK_H

#include <stdint.h>

#include "../core/config.h"
#include "../core/event.h"
#include "../core/err.h"
#include "../core/table.h"

/* Where the inputs stand after an epoch: the next offset to read per partition. */
struct ss_position {
    const char *source;   /* topic or file path */
    int32_t partition;
    int64_t next_offset;
    int64_t lag;          /* messages behind the partition's end (Kafka), -1 unknown */
    int64_t max_ts;       /* largest valid event time seen on the partition, INT64_MIN none */
};

#define SS_STATS_SINKS 16 /* as many as a run may have */
#define SS_STATS_STATE 20 /* dedup, the interner and every operator */

/* How long one sink's commit of the previous epoch took, retries included. */
struct ss_sink_time {
    char sink[24];          /* its type ("postgresql"), "#2" added for a second of a type */
    int64_t commit_ms;      /* -1: no epoch committed yet */
};

/* One operator's state as an epoch ended. */
struct ss_state_size {
    const char *op;         /* "sessions", "dedup", "intern" ... (static) */
    int64_t bytes, keys;    /* memory held; live keys (sessions, ids, windows) */
};

/* Run totals, for sinks that report progress (console, metrics). */
struct ss_run_stats {
    int64_t records, valid, invalid, late, duplicates;
    int64_t invalid_by_reason[SS_REASON_COUNT]; /* enum ss_reason */
    int64_t records_by_stream[SS_STREAM_COUNT];
    int64_t started_ms;     /* processing time the run started */
    int64_t last_commit_ms; /* how long the previous epoch's commit took (all sinks) */
    uint64_t durable_epoch; /* the newest epoch every sink had made durable by then: input
                               positions are committed up to it (ss_committer_durable) */
    int nsinks;
    struct ss_sink_time sinks[SS_STATS_SINKS];
    int nstate;
    struct ss_state_size state[SS_STATS_STATE];
    int64_t savepoint_bytes; /* the last savepoint written (engine.c), 0: none */
    int64_t savepoint_ms;    /* how long writing it took */
    int64_t savepoint_pause_ms; /* how long the engine stopped for it: the fork (bgsave.h), or all of it */
};

struct ss_epoch {
    uint64_t epoch;                 /* 1, 2, ... */
    const struct ss_out *rows;
    const struct ss_position *positions;
    int npositions;
    int64_t watermark;
    int final;                      /* the last epoch of a bounded run */
    int seal;                       /* make everything durable now, held rows too: partitions are
                                       leaving the process, or the run ends (SS_SINK_HOLDS) */
    const struct ss_run_stats *stats;
};

enum ss_sink_flags {
    SS_SINK_PROVISIONAL = 1, /* wants provisional window rows (final = false) */
    SS_SINK_EVENTS = 2,      /* wants the events table (the lake) */
    SS_SINK_HOLDS = 4,       /* may hold rows past their epoch's commit: reports durable_epoch */
};

struct ss_sink;

struct ss_sink_type {
    const char *name;    /* "jsonl" */
    const char *scheme;  /* URL prefix it serves: "jsonl:" */
    unsigned flags;
    int (*open)(struct ss_sink **out, const char *url, const struct ss_config *cfg, struct ss_err *err);
    /* Optional: whether open would accept url's syntax and options, by the parsing code
     * open uses, with open's message when not; opens, connects, creates and writes
     * nothing (--print-config). A server that is down or a directory that cannot be
     * written is found by open only. */
    int (*check)(const char *url, const struct ss_config *cfg, struct ss_err *err);
    int (*commit)(struct ss_sink *sk, const struct ss_epoch *ep, struct ss_err *err);
    void (*close)(struct ss_sink *sk);
};

/* Every sink's private struct starts with this. */
struct ss_sink {
    const struct ss_sink_type *type;
    /* Filled by open for sinks that fence on the epoch (SQL, Redis): the last epoch
     * the destination already holds. A new run numbers its epochs after it, so the
     * fence never mistakes fresh output for a replay. */
    uint64_t committed_epoch;
    /* Set by each commit of a sink with SS_SINK_HOLDS (the lake keeps files open
     * across epochs so that they grow): every epoch up to this one is durable, later
     * ones not yet. The engine commits input positions only up to the smallest such
     * epoch of all sinks, so a crash replays what a held file had not made durable. */
    uint64_t durable_epoch;
};

/* Finds the type serving url (by scheme) and opens it. SS_EUSAGE for an unknown scheme. */
int ss_sink_open_url(struct ss_sink **out, const char *url, const struct ss_config *cfg, struct ss_err *err);
/* Whether s begins with the scheme of a sink shopstream knows ("jsonl:", "kafka://" ...). */
bool ss_sink_url_begins(const char *s);
/* Checks url as ss_sink_open_url would open it (the type's check), opening nothing:
 * SS_OK, or the error open would give for that syntax, worded the same. */
int ss_sink_check_url(const char *url, const struct ss_config *cfg, struct ss_err *err);

extern const struct ss_sink_type ss_sink_jsonl;
/* Whether the jsonl sink writes table t: DIR/<table>.jsonl, created or truncated at open. */
bool ss_jsonl_writes(enum ss_table_id t);
extern const struct ss_sink_type ss_sink_console;

#endif
