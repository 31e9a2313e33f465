/* source.h — the source interface: where raw records come from (files, stdin,
 * Kafka, the generator). A source hands out batches of records; it does not decode.
 *
 * Lifetime: the bytes of the records returned by `poll` stay valid until the next
 * `poll` or `close` of the same source (or, with `retire`, until retired). */
#ifndef SS_SOURCE_H
#define SS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/config.h"
#include "../core/err.h"
#include "../core/event.h"

struct ss_record {
    const char *data;
    size_t len;
    int32_t partition;
    bool cut;            /* longer than input.max_record_bytes: data holds its first bytes */
    bool file_start;     /* the first record of a file after the first of its input: a CSV
                            header comes again */
    int64_t offset;      /* next position after this record is offset + 1 */
};

struct ss_input_spec {
    enum ss_stream stream;
    char *url;           /* "path", "-", "kafka://host:port/topic" */
    int format;          /* enum ss_format */
    int index;           /* position among the inputs: a file's partition number */
};

struct ss_source;

/* How a source with dynamic partitions (Kafka consumer group) tells the engine about
 * rebalances. Called from inside poll. On revocation the engine commits the current
 * epoch (flushing the outputs of those partitions and committing their offsets)
 * before returning, so a partition's outputs are durable before it moves. */
struct ss_source_hooks {
    void *ctx;
    void (*assigned)(void *ctx, struct ss_source *src, const int32_t *partitions, int n);
    void (*revoked)(void *ctx, struct ss_source *src, const int32_t *partitions, int n);
};

struct ss_source_type {
    const char *name;
    int (*open)(struct ss_source **out, const struct ss_input_spec *spec, const struct ss_config *cfg,
                struct ss_err *err);
    /* Optional: what open would refuse in spec and cfg (the URL, the client settings),
     * found without opening anything or reaching a server: for --print-config. */
    int (*check)(const struct ss_input_spec *spec, const struct ss_config *cfg, struct ss_err *err);
    /* Fills up to max records. Returns the count (>= 0; 0 = nothing right now),
     * SS_EOF when a bounded source is exhausted, or an error code. */
    int (*poll)(struct ss_source *src, struct ss_record *recs, int max, int timeout_ms, struct ss_err *err);
    /* The name records are known by (topic or path), for origins and positions. */
    const char *(*name_of)(const struct ss_source *src);
    /* Optional: make the given positions durable at the source (Kafka offsets). */
    int (*commit)(struct ss_source *src, const int64_t *next_offsets, const int32_t *partitions, int n,
                  struct ss_err *err);
    /* Optional: install rebalance hooks (before the first poll). */
    void (*set_hooks)(struct ss_source *src, const struct ss_source_hooks *hooks);
    /* Optional: consumer lag per partition, for metrics; returns the count filled. */
    int (*lag)(struct ss_source *src, int32_t *partitions, int64_t *lag, int max);
    /* Optional: frees, off the engine's thread, what the previous batch's records held.
     * After a poll returned n records, retire(src, k, n) may be called once for each k
     * in 0..n-1, by whichever thread decodes record k (two threads at once, for
     * different k); each call frees its own share. poll frees whatever was not retired. */
    void (*retire)(struct ss_source *src, int k, int n);
    /* Optional: gets the records of the next poll ready, on the decoding thread while
     * the engine processes the last batch: never during a poll, nor concurrently with
     * itself; possibly while the engine's thread runs retire, so the two must not share
     * state. */
    void (*prefetch)(struct ss_source *src);
    /* Optional, with savepoint.path: the lineage of the state this run carries (engine.c:
     * the savepoint's, or a new one without a savepoint), as text. A source that commits
     * tags its commits with it (Kafka's commit metadata), so that a later start_at can tell
     * the commits made by this state's runs from another process's. Before the first poll. */
    void (*set_writer)(struct ss_source *src, const char *writer);
    /* Optional: a savepoint's positions (engine.c): each of these partitions, when it is
     * next assigned (by the group, or at the first poll of a whole-topic input), is read
     * from this offset instead of the committed one or the beginning. Once only: a later
     * assignment resumes as usual. Called before the first poll, after set_writer.
     * A committed offset past a position means that someone read the partition on after
     * the savepoint was written. Its own later runs (the commits are tagged with the
     * writer the savepoint carries: `tagged`), before a crash: the partition is read
     * again from the savepoint's position, whose state lacks those records. Another
     * process of the group: it goes on from the committed offset instead, as reading
     * those records again would write their rows twice. A savepoint from before the tags
     * (`tagged` false) tells them apart by `committed` alone: written at a graceful stop,
     * after its positions were committed, only another process can have committed more. */
    void (*start_at)(struct ss_source *src, const int32_t *partitions, const int64_t *next_offsets, int n,
                     bool committed, bool tagged);
    /* Optional: stop / restart delivering (backpressure). */
    void (*pause)(struct ss_source *src);
    void (*resume)(struct ss_source *src);
    void (*close)(struct ss_source *src);
};

struct ss_source {
    const struct ss_source_type *type;
};

extern const struct ss_source_type ss_source_file;
extern const struct ss_source_type ss_source_kafka;

/* Parses "STREAM=PATH" into spec (format from --format / the extension). */
int ss_input_spec_parse(struct ss_input_spec *spec, const char *arg, const char *default_format,
                        struct ss_err *err);
void ss_input_spec_free(struct ss_input_spec *spec);
/* The source type that reads spec: Kafka for kafka:// URLs, else files. */
const struct ss_source_type *ss_source_type_of(const struct ss_input_spec *spec);
/* input.max_record_bytes within its range: a record longer than it is cut (ss_record.cut)
 * by every source, so that no sink is handed more than it takes (64 MiB). */
int ss_record_limit_check(const struct ss_config *cfg, struct ss_err *err);

#endif
