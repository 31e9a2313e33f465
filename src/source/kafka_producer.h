/* kafka_producer.h — the Kafka side of `shopstream produce` (records from a
 * caller's iterator, normally the generator, to a topic, keyed by user_id), plus
 * the librdkafka plumbing the Kafka source and sink share: verbatim property
 * pass-through, logs routed to ss_log, and the start-up wait for brokers/topics. */
#ifndef SS_KAFKA_PRODUCER_H
#define SS_KAFKA_PRODUCER_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/err.h"
#include "../core/event.h"
#include "source.h"

/* How long start-up waits for unreachable brokers before giving up. */
#define SS_KAFKA_CONNECT_TIMEOUT_MS 30000
/* Keyed records go where the Java client's default partitioner puts them (murmur2 of
 * the key), not librdkafka's default (CRC32): a user's events then share a partition
 * with the same user's events from Java producers and Kafka Streams, which co-partition
 * by murmur2. Records without a key still spread at random. -X partitioner= overrides. */
#define SS_KAFKA_PARTITIONER "murmur2_random"

struct ss_kafka_produce_opts {
    const char *brokers;                  /* "host:port[,host:port]" */
    const char *topic;                    /* every stream's topic unless topics[] names one */
    const char *topics[SS_STREAM_COUNT];  /* optional per-stream topic (NULL: topic) */
    int64_t batch_bytes;                  /* batch.size; <= 0: 16384 */
    int64_t linger_ms;                    /* linger.ms; < 0: librdkafka's default (5) */
    const char *compression;              /* NULL, "none", "gzip", "snappy", "lz4", "zstd" */
    double rate;                          /* records per second, paced evenly; <= 0: as fast as possible */
    double duration_s;                    /* stop after this long; <= 0: until the iterator ends */
    char *const *props;                   /* "key=value" librdkafka properties, applied last */
    int nprops;
    FILE *progress;                       /* a progress line every second; NULL: none */
    int connect_timeout_ms;               /* <= 0: SS_KAFKA_CONNECT_TIMEOUT_MS */
};

struct ss_kafka_produce_stats {
    int64_t sent;       /* accepted by librdkafka */
    int64_t delivered;  /* acknowledged by the broker */
    int64_t failed;     /* delivery reports with an error */
    int64_t elapsed_ms;
};

/* The record iterator: fills key/val (valid until the next call) and the stream,
 * returns SS_OK, SS_EOF at the end, or another code to stop with that error. */
typedef int (*ss_kafka_next_fn)(void *ctx, const char **key, size_t *klen, const char **val, size_t *vlen,
                                int *stream);

void ss_kafka_produce_opts_init(struct ss_kafka_produce_opts *o);
/* Produces every record next gives (or until duration), waits for every delivery
 * report and prints the totals to o->progress. SS_OK only when every record was
 * delivered; never drops a record on a full local queue (it waits instead). */
int ss_kafka_produce(const struct ss_kafka_produce_opts *o, ss_kafka_next_fn next, void *ctx,
                     struct ss_kafka_produce_stats *stats, struct ss_err *err);

/* ---- shared by the Kafka source and sink -------------------------------------- */

/* rd_kafka_conf_set, with SS_EUSAGE naming the property on failure. */
int ss_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, struct ss_err *err);
/* Applies "key=value" entries verbatim (the -X / kafka.<property> pass-through). With
 * skip 'C' or 'P', the properties librdkafka has for that kind of client only are left
 * out (logged at debug): they are there for the run's other kind of client (kafka_scope.h). */
int ss_kafka_conf_apply(rd_kafka_conf_t *conf, char *const *props, int n, char skip, struct ss_err *err);
/* Routes librdkafka's log lines to ss_log (comp=kafka) instead of its own stderr format. */
void ss_kafka_conf_log(rd_kafka_conf_t *conf);
/* A librdkafka error (error_cb) of the same code is logged once per this long; the
 * repeats in between are counted (repeats_not_logged=N on the next line). */
#define SS_KAFKA_ERROR_REPEAT_MS 30000
/* SS_OK when name is a legal Kafka topic name (1..249 of [A-Za-z0-9._-], not "." or
 * ".."), else SS_EUSAGE saying so, with `what` (e.g. the URL) in front: the broker's
 * own answer to a bad name is only "unknown topic", after a metadata timeout. */
int ss_kafka_topic_check(const char *name, const char *what, struct ss_err *err);
/* The errors librdkafka reported through a client's error_cb, for ss_kafka_wait_topics:
 * the last one (but "all brokers are down", which follows the cause), and the last
 * authentication failure (a wrong password, user or SASL mechanism: the brokers
 * answer, and refuse). */
struct ss_kafka_errs {
    int last; /* rd_kafka_resp_err_t; 0: none */
    char last_reason[400];
    bool auth_failed;
    char auth_reason[400];
    /* errors by code, for ss_kafka_errs_due */
    struct {
        int err;
        int64_t logged_ms;
        int64_t repeats;
    } logged[8];
};
/* Called from the client's error_cb. */
void ss_kafka_errs_note(struct ss_kafka_errs *e, int err, const char *reason);
/* Whether error err is to be logged now: once per SS_KAFKA_ERROR_REPEAT_MS per code (a
 * deleted topic gave one a second per partition, a broker down one per reconnect). The
 * repeats in between are counted, and *repeats gets those since it was last logged. */
bool ss_kafka_errs_due(struct ss_kafka_errs *e, int err, int64_t *repeats);
/* For a producer's error_cb (produce, the Kafka sink): notes the error, and logs a
 * transient one as one warning per code per SS_KAFKA_ERROR_REPEAT_MS (repeats counted),
 * a fatal one (idempotence) as an error. */
void ss_kafka_errs_log(struct ss_kafka_errs *e, rd_kafka_t *rk, int err, const char *reason);
/* Waits until the brokers answer (retrying with a warning until timeout_ms) and
 * checks that every topic exists; fills the partition count of each (may be NULL).
 * Serves rk's callbacks meanwhile, so that its error_cb fills errs (may be NULL).
 * SS_EIO naming the brokers after the timeout (and the last error librdkafka gave,
 * such as a failed TLS handshake), SS_EUSAGE naming a missing topic, or at once when
 * the brokers refused authentication (with librdkafka's reason). */
int ss_kafka_wait_topics(rd_kafka_t *rk, const char *brokers, const char *const *topics, int ntopics,
                         int *partitions, int timeout_ms, struct ss_kafka_errs *errs, struct ss_err *err);

/* ss_source_kafka's open with another start-up timeout (tests use a short one). */
int ss_source_kafka_open_ex(struct ss_source **out, const struct ss_input_spec *spec, const struct ss_config *cfg,
                            int connect_timeout_ms, struct ss_err *err);

/* Makes a running Kafka source bounded at the partitions' current end offsets: it
 * answers SS_EOF once it has read up to them. Safe to call from any thread (the
 * demo's producer thread calls it when it has finished producing). */
void ss_source_kafka_drain(struct ss_source *src);

#endif
