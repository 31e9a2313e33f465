/* kafka_producer.c — `shopstream produce --brokers HOST:PORT --topic T`: records
 * from an iterator (the generator) into Kafka, keyed by user_id so each user's
 * events stay in one partition and keep their order. Throughput comes from
 * librdkafka's batching (batch.size, linger.ms, compression); a full local queue
 * is waited out (rd_kafka_poll, then the same record again), never dropped.
 * Also the librdkafka plumbing shared with the Kafka source and sink. */
#include "kafka_producer.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "../core/alloc.h"
#include "../core/hash.h"
#include "../core/log.h"
#include "../core/shutdown.h"
#include "../core/timefmt.h"
#include "kafka_scope.h"

static const char *comp = "kafka";

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- shared plumbing ---------------------------------------------------------- */

int ss_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, struct ss_err *err) {
    char why[256];
    if (rd_kafka_conf_set(conf, key, value, why, sizeof why) != RD_KAFKA_CONF_OK)
        return ss_err_set(err, SS_EUSAGE, "Kafka property %s=%s: %s", key, value, why);
    return SS_OK;
}

int ss_kafka_conf_apply(rd_kafka_conf_t *conf, char *const *props, int n, char skip, struct ss_err *err) {
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(props[i], '=');
        if (!eq || eq == props[i])
            return ss_err_set(err, SS_EUSAGE, "Kafka property \"%s\" is not key=value", props[i]);
        char *key = ss_strndup(props[i], (size_t)(eq - props[i]));
        if (skip && ss_kafka_prop_scope(key) == skip) {
            ss_debug(comp, "msg=\"a %s property, not given to this %s\" property=%s", skip == 'C' ? "consumer" : "producer",
                     skip == 'C' ? "producer" : "consumer", key);
            ss_free(key);
            continue;
        }
        int rc = ss_kafka_conf_set(conf, key, eq + 1, err);
        ss_free(key);
        if (rc) return rc;
    }
    return SS_OK;
}

/* librdkafka's own warning and error lines, each once per SS_KAFKA_ERROR_REPEAT_MS (as
 * error_cb's are), known by their text up to the first '(' ("... Connect to ipv4#H:P
 * failed: Connection refused (after 0ms in state CONNECT)"): with a cluster's group
 * coordinator dead, its reconnects logged one every ~300 ms past librdkafka's own
 * "identical error(s) suppressed", 37 lines in a 10 s outage. Every client's threads
 * log here, hence the lock. */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ss_kafka_errs log_seen;

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    char line[512];
    size_t k = 0;
    for (const char *p = buf; *p && k + 1 < sizeof line; p++) line[k++] = *p == '"' ? '\'' : *p;
    line[k] = '\0';
    enum ss_log_level lvl = level <= 3 ? SS_LOG_ERROR : level == 4 ? SS_LOG_WARN : level <= 6 ? SS_LOG_INFO : SS_LOG_DEBUG;
    int64_t repeats = 0;
    if (lvl >= SS_LOG_WARN) {
        int key = (int)(ss_hash(line, strcspn(line, "(")) | 1); /* 0 is an empty slot */
        pthread_mutex_lock(&log_mu);
        bool due = ss_kafka_errs_due(&log_seen, key, &repeats);
        pthread_mutex_unlock(&log_mu);
        if (!due) return;
    }
    if (repeats) ss_log(lvl, comp, "msg=\"%s\" fac=%s repeats_not_logged=%lld", line, fac, (long long)repeats);
    else ss_log(lvl, comp, "msg=\"%s\" fac=%s", line, fac);
}

int ss_kafka_topic_check(const char *name, const char *what, struct ss_err *err) {
    size_t n = strlen(name);
    bool ok = n >= 1 && n <= 249 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
    for (size_t i = 0; ok && i < n; i++) {
        char c = name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
             c == '-';
    }
    if (ok) return SS_OK;
    return ss_err_set(err, SS_EUSAGE,
                      "%s: \"%s\" is not a Kafka topic name (1 to 249 letters, digits, '.', '_' or '-')", what, name);
}

void ss_kafka_conf_log(rd_kafka_conf_t *conf) { rd_kafka_conf_set_log_cb(conf, log_cb); }

static void copy_reason(char *dst, size_t size, const char *reason) {
    size_t k = 0;
    for (const char *p = reason ? reason : ""; *p && k + 1 < size; p++) dst[k++] = *p == '"' ? '\'' : *p;
    dst[k] = '\0';
}

void ss_kafka_errs_note(struct ss_kafka_errs *e, int err, const char *reason) {
    /* "1/1 brokers are down" follows the error that took the last one down: keep that */
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && e->last) return;
    e->last = err;
    copy_reason(e->last_reason, sizeof e->last_reason, reason);
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
        e->auth_failed = true;
        copy_reason(e->auth_reason, sizeof e->auth_reason, reason);
    }
}

/* Serves rk's callbacks (error_cb) without taking a record: a consumer has neither
 * subscribed nor been assigned partitions yet, a producer has produced nothing. */
static void serve_callbacks(rd_kafka_t *rk) {
    if (rd_kafka_type(rk) == RD_KAFKA_CONSUMER) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 0);
        if (m) rd_kafka_message_destroy(m);
    } else {
        rd_kafka_poll(rk, 0);
    }
}

bool ss_kafka_errs_due(struct ss_kafka_errs *e, int err, int64_t *repeats) {
    int64_t now = ss_now_ms();
    size_t n = sizeof e->logged / sizeof e->logged[0], k = 0, oldest = 0;
    for (; k < n && e->logged[k].err != err; k++)
        if (e->logged[k].logged_ms < e->logged[oldest].logged_ms) oldest = k;
    if (k == n) { /* not seen lately: takes the slot logged longest ago */
        k = oldest;
        e->logged[k].err = err;
        e->logged[k].logged_ms = INT64_MIN;
        e->logged[k].repeats = 0;
    } else if (now - e->logged[k].logged_ms < SS_KAFKA_ERROR_REPEAT_MS) {
        e->logged[k].repeats++;
        return false;
    }
    *repeats = e->logged[k].repeats;
    e->logged[k].logged_ms = now;
    e->logged[k].repeats = 0;
    return true;
}

void ss_kafka_errs_log(struct ss_kafka_errs *e, rd_kafka_t *rk, int err, const char *reason) {
    ss_kafka_errs_note(e, err, reason);
    char why[256];
    if (err == RD_KAFKA_RESP_ERR__FATAL && rd_kafka_fatal_error(rk, why, sizeof why) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* every undelivered record also fails with it in its delivery report */
        ss_error(comp, "msg=\"Kafka producer failed\" err=\"%s\"", why);
        return;
    }
    /* transient (a broker down, a leader moving): librdkafka reconnects and retries */
    int64_t repeats;
    if (ss_kafka_errs_due(e, err, &repeats))
        ss_warn(comp, "msg=\"Kafka producer error, retrying\" err=\"%s\" reason=\"%s\" repeats_not_logged=%lld",
                rd_kafka_err2str((rd_kafka_resp_err_t)err), reason, (long long)repeats);
}

int ss_kafka_wait_topics(rd_kafka_t *rk, const char *brokers, const char *const *topics, int ntopics,
                         int *partitions, int timeout_ms, struct ss_kafka_errs *errs, struct ss_err *err) {
    int64_t deadline = mono_ms() + timeout_ms;
    int64_t next_warn = 0;
    for (;;) {
        const struct rd_kafka_metadata *md = NULL;
        int64_t left = deadline - mono_ms();
        int attempt_ms = left < 2000 ? (left > 100 ? (int)left : 100) : 2000;
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, attempt_ms);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            int missing = -1, retry = 0;
            for (int t = 0; t < ntopics && missing < 0; t++) {
                int found = -1;
                for (int i = 0; i < md->topic_cnt; i++)
                    if (strcmp(md->topics[i].topic, topics[t]) == 0) found = i;
                if (found < 0 || md->topics[found].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
                    missing = t;
                } else if (md->topics[found].err || md->topics[found].partition_cnt == 0) {
                    retry = 1; /* leader election in progress right after creation */
                } else if (partitions) {
                    partitions[t] = md->topics[found].partition_cnt;
                }
            }
            rd_kafka_metadata_destroy(md);
            if (missing >= 0)
                return ss_err_set(err, SS_EUSAGE, "Kafka topic \"%s\" does not exist on %s (create it first)",
                                  topics[missing], brokers);
            if (!retry) return SS_OK;
            e = RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE;
        }
        serve_callbacks(rk);
        /* A refused login does not heal by retrying (librdkafka would, for ever): the
         * user is told at once, with the broker's reason. */
        if (errs && errs->auth_failed)
            return ss_err_set(err, SS_EUSAGE,
                              "Kafka brokers %s refused authentication (check sasl.mechanisms, sasl.username and "
                              "sasl.password): %s",
                              brokers, errs->auth_reason);
        int64_t now = mono_ms();
        if (ss_shutdown_requested())
            return ss_err_set(err, SS_ESTOPPED, "stopped while waiting for Kafka brokers %s (%s)", brokers,
                              rd_kafka_err2str(e));
        if (now >= deadline) {
            if (errs && errs->last)
                return ss_err_set(err, SS_EIO, "Kafka brokers %s did not answer within %d s (%s; last error: %s: %s)",
                                  brokers, timeout_ms / 1000, rd_kafka_err2str(e),
                                  rd_kafka_err2str((rd_kafka_resp_err_t)errs->last), errs->last_reason);
            return ss_err_set(err, SS_EIO, "Kafka brokers %s did not answer within %d s (%s)", brokers,
                              timeout_ms / 1000, rd_kafka_err2str(e));
        }
        if (now >= next_warn) {
            ss_warn(comp, "msg=\"Kafka brokers not answering, retrying\" brokers=%s err=\"%s\" gives_up_in_s=%lld",
                    brokers, rd_kafka_err2str(e), (long long)((deadline - now + 999) / 1000));
            next_warn = now + 5000;
        }
        if (e != RD_KAFKA_RESP_ERR__TIMED_OUT) {
            struct timespec ts = {0, 200 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
}

/* ---- produce ------------------------------------------------------------------ */

struct producer {
    int64_t delivered, failed;
    char first_error[256];
    struct ss_kafka_errs errs;
};

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    ss_kafka_errs_log(&((struct producer *)opaque)->errs, rk, err, reason);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    struct producer *p = opaque;
    if (m->err) {
        if (!p->failed)
            snprintf(p->first_error, sizeof p->first_error, "%s [%d]: %s", rd_kafka_topic_name(m->rkt),
                     (int)m->partition, rd_kafka_err2str(m->err));
        p->failed++;
    } else {
        p->delivered++;
    }
}

void ss_kafka_produce_opts_init(struct ss_kafka_produce_opts *o) {
    memset(o, 0, sizeof *o);
    o->batch_bytes = 16384;
    o->linger_ms = -1;
    o->progress = stderr;
}

static void progress_line(FILE *f, const char *what, int64_t sent, int64_t dsent, int64_t dms, const struct producer *p,
                          int queue) {
    int64_t rate = dms > 0 ? dsent * 1000 / dms : 0;
    fprintf(f, "produce: %s sent=%lld rate=%lld/s delivered=%lld errors=%lld queue=%d\n", what, (long long)sent,
            (long long)rate, (long long)p->delivered, (long long)p->failed, queue);
    fflush(f);
}

/* Records of one topic waiting to go to rd_kafka_produce_batch. Handing librdkafka
 * a few hundred records per call reads the clocks, checks the producer's state and
 * takes the topic's lock once per call instead of once per record, which is most of
 * what the per-record call cost besides the copy (the broker's JVM shares the cores,
 * so every cycle saved here is one it can use). The iterator's records live only
 * until its next call, so they are copied in here first; the messages keep offsets
 * into buf, turned into pointers when the batch goes. */
#define BATCH_RECORDS 256

struct batch {
    rd_kafka_message_t msgs[BATCH_RECORDS];
    size_t n;
    char *buf;
    size_t len, cap;
};

static void batch_add(struct batch *b, const char *key, size_t klen, const char *val, size_t vlen) {
    SS_GROW(b->buf, b->cap, b->len + klen + vlen);
    rd_kafka_message_t *m = &b->msgs[b->n++];
    memset(m, 0, sizeof *m);
    memcpy(b->buf + b->len, key, klen);
    m->key = (void *)(uintptr_t)b->len;
    m->key_len = klen;
    b->len += klen;
    memcpy(b->buf + b->len, val, vlen);
    m->payload = (void *)(uintptr_t)b->len;
    m->len = vlen;
    b->len += vlen;
}

/* Produces the batch in order. A full local queue fails the record it reached and
 * every later one (librdkafka propagates the error), so waiting and producing again
 * from that record keeps each key's order. */
static int batch_send(struct batch *b, rd_kafka_t *rk, rd_kafka_topic_t *rkt, const char *name, struct ss_err *err) {
    for (size_t i = 0; i < b->n; i++) {
        b->msgs[i].key = b->buf + (uintptr_t)b->msgs[i].key;
        b->msgs[i].payload = b->buf + (uintptr_t)b->msgs[i].payload;
    }
    size_t done = 0;
    while (done < b->n) {
        rd_kafka_produce_batch(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, b->msgs + done, (int)(b->n - done));
        while (done < b->n && !b->msgs[done].err) done++;
        if (done == b->n) break;
        rd_kafka_resp_err_t e = b->msgs[done].err;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            b->n = b->len = 0;
            return ss_err_set(err, SS_ERROR, "produce to %s: %s", name, rd_kafka_err2str(e));
        }
        rd_kafka_poll(rk, 10); /* the queue drains as batches are acknowledged */
    }
    b->n = b->len = 0;
    return SS_OK;
}

static int batches_send(struct batch *b, rd_kafka_t *rk, rd_kafka_topic_t *const *rkt, const char *const *names,
                        struct ss_err *err) {
    for (int s = 0; s < SS_STREAM_COUNT; s++) {
        if (!b[s].n) continue;
        int rc = batch_send(&b[s], rk, rkt[s], names[s], err);
        if (rc) return rc;
    }
    return SS_OK;
}

int ss_kafka_produce(const struct ss_kafka_produce_opts *o, ss_kafka_next_fn next, void *ctx,
                     struct ss_kafka_produce_stats *stats, struct ss_err *err) {
    struct producer p = {0};
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_t *rkt[SS_STREAM_COUNT] = {0};
    struct batch *batches = NULL;
    const char *names[SS_STREAM_COUNT];
    char num[32];
    int rc;
    if (!o->brokers || !*o->brokers) return ss_err_set(err, SS_EUSAGE, "produce needs --brokers HOST:PORT");
    for (int s = 0; s < SS_STREAM_COUNT; s++) {
        names[s] = o->topics[s] ? o->topics[s] : o->topic;
        if (!names[s] || !*names[s]) return ss_err_set(err, SS_EUSAGE, "produce needs --topic T");
        char what[64];
        snprintf(what, sizeof what, o->topics[s] ? "produce --%s-topic" : "produce --topic", ss_stream_name(s));
        if ((rc = ss_kafka_topic_check(names[s], what, err))) return rc;
    }

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int64_t batch_bytes = o->batch_bytes > 0 ? o->batch_bytes : 16384;
    /* The local queue holds eight batches' worth of bytes (at least 1 MB), and the
     * message count never binds first. A deep queue only let the generator run ahead
     * of the broker: at 1 GB it held ~500K records, every one in memory fresh from
     * the kernel (70K page faults per 3M records) and out of cache by the time
     * librdkafka copied it into a batch. Eight batches keep every partition's next
     * batch filling while the last ones are in flight, on recycled, warm memory:
     * 60 % fewer faults, 20-25 % less CPU, +10-20 % records/s (bench/kafka_bench.sh,
     * alternating runs). Fewer than about one batch per partition stalls each batch
     * on linger.ms. -X queue.buffering.max.kbytes overrides. */
    char qkb[32];
    snprintf(num, sizeof num, "%lld", (long long)batch_bytes);
    snprintf(qkb, sizeof qkb, "%lld", (long long)(batch_bytes * 8 / 1024 > 1024 ? batch_bytes * 8 / 1024 : 1024));
    /* Idempotent (acks=all, sequence numbers): a batch whose acknowledgement was lost when
     * a partition leader died is sent again to the new leader, and the broker drops the
     * copy it already has. Without it a leader change duplicated records (77 of 300 000 on
     * a 3-broker cluster with one broker killed: tests/e2e/0412). */
    if ((rc = ss_kafka_conf_set(conf, "bootstrap.servers", o->brokers, err)) ||
        (rc = ss_kafka_conf_set(conf, "enable.idempotence", "true", err)) ||
        (rc = ss_kafka_conf_set(conf, "batch.size", num, err)) ||
        (rc = ss_kafka_conf_set(conf, "partitioner", SS_KAFKA_PARTITIONER, err)) ||
        (rc = ss_kafka_conf_set(conf, "queue.buffering.max.messages", "10000000", err)) ||
        (rc = ss_kafka_conf_set(conf, "queue.buffering.max.kbytes", qkb, err)))
        goto fail_conf;
    if (o->linger_ms >= 0) {
        snprintf(num, sizeof num, "%lld", (long long)o->linger_ms);
        if ((rc = ss_kafka_conf_set(conf, "linger.ms", num, err))) goto fail_conf;
    }
    if (o->compression && *o->compression) {
        static const char *const ok[] = {"none", "gzip", "snappy", "lz4", "zstd"};
        bool known = false;
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) known |= strcmp(o->compression, ok[i]) == 0;
        if (!known) {
            rc = ss_err_set(err, SS_EUSAGE, "--compression %s: expected gzip, snappy, lz4, zstd or none",
                            o->compression);
            goto fail_conf;
        }
        if ((rc = ss_kafka_conf_set(conf, "compression.type", o->compression, err))) goto fail_conf;
    }
    if ((rc = ss_kafka_conf_apply(conf, o->props, o->nprops, 0, err))) goto fail_conf;
    ss_kafka_conf_log(conf);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_opaque(conf, &p);
    char why[512];
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!rk) {
        rc = ss_err_set(err, SS_EUSAGE, "cannot create Kafka producer: %s", why);
        goto fail_conf;
    }
    conf = NULL;
    rc = ss_kafka_wait_topics(rk, o->brokers, names, SS_STREAM_COUNT, NULL,
                              o->connect_timeout_ms > 0 ? o->connect_timeout_ms : SS_KAFKA_CONNECT_TIMEOUT_MS, &p.errs,
                              err);
    if (rc) goto out;
    for (int s = 0; s < SS_STREAM_COUNT; s++) rkt[s] = rd_kafka_topic_new(rk, names[s], NULL);
    batches = ss_calloc(SS_STREAM_COUNT, sizeof *batches);

    int64_t start_ns = mono_ns();
    int64_t end_ns = o->duration_s > 0 ? start_ns + (int64_t)(o->duration_s * 1e9) : INT64_MAX;
    double ns_per_rec = o->rate > 0 ? 1e9 / o->rate : 0;
    int64_t next_progress = start_ns + 1000000000LL, last_ns = start_ns, last_sent = 0;
    int64_t sent = 0;
    for (;;) {
        int64_t now = 0;
        /* the clock is read every 256 records unless pacing needs it for each */
        if (ns_per_rec > 0 || (sent & 255) == 0) {
            now = mono_ns();
            if (now >= end_ns) break;
            if (now >= next_progress) {
                if (o->progress) progress_line(o->progress, "progress", sent, sent - last_sent, (now - last_ns) / 1000000, &p,
                                               rd_kafka_outq_len(rk));
                last_sent = sent;
                last_ns = now;
                next_progress = now + 1000000000LL;
            }
            if (ns_per_rec > 0) {
                int64_t due = start_ns + (int64_t)((double)sent * ns_per_rec);
                if (due > now) { /* ahead of the pace: serve delivery reports while waiting */
                    int64_t wait_ms = (due - now) / 1000000;
                    if (wait_ms > 0) {
                        if ((rc = batches_send(batches, rk, rkt, names, err))) goto drain;
                        rd_kafka_poll(rk, wait_ms > 100 ? 100 : (int)wait_ms);
                        continue;
                    }
                }
            }
        }
        const char *key, *val;
        size_t klen, vlen;
        int stream = 0;
        /* a stop (SIGINT, SIGTERM) ends the records here; what was accepted is still delivered */
        int r = ss_shutdown_requested() ? SS_EOF : next(ctx, &key, &klen, &val, &vlen, &stream);
        if (r == SS_EOF) break;
        if (r != SS_OK) {
            rc = ss_err_set(err, r, "produce: the record source failed (%d)", r);
            break;
        }
        if (stream < 0 || stream >= SS_STREAM_COUNT) stream = 0;
        struct batch *b = &batches[stream];
        batch_add(b, key, klen, val, vlen);
        if (b->n == BATCH_RECORDS && (rc = batch_send(b, rk, rkt[stream], names[stream], err))) goto drain;
        sent++;
        if ((sent & 1023) == 0) rd_kafka_poll(rk, 0);
    }
    if (rc == SS_OK) rc = batches_send(batches, rk, rkt, names, err);
drain:
    /* every accepted record gets its delivery report before we return */
    while (rd_kafka_outq_len(rk) > 0) {
        rd_kafka_flush(rk, 1000);
        int64_t now = mono_ns();
        if (o->progress && now >= next_progress) {
            progress_line(o->progress, "flushing", sent, 0, 1, &p, rd_kafka_outq_len(rk));
            next_progress = now + 1000000000LL;
        }
    }
    int64_t elapsed_ms = (mono_ns() - start_ns) / 1000000;
    if (o->progress)
        progress_line(o->progress, ss_shutdown_requested() ? "stopped" : "done", sent, sent, elapsed_ms, &p,
                      rd_kafka_outq_len(rk));
    if (stats) *stats = (struct ss_kafka_produce_stats){sent, p.delivered, p.failed, elapsed_ms};
    if (rc == SS_OK && p.failed)
        rc = ss_err_set(err, SS_ERROR, "%lld of %lld records were not delivered (first: %s)", (long long)p.failed,
                        (long long)sent, p.first_error);
out:
    for (int s = 0; s < SS_STREAM_COUNT; s++)
        if (rkt[s]) rd_kafka_topic_destroy(rkt[s]);
    rd_kafka_destroy(rk);
    for (int s = 0; batches && s < SS_STREAM_COUNT; s++) ss_free(batches[s].buf);
    ss_free(batches);
    return rc;
fail_conf:
    if (conf) rd_kafka_conf_destroy(conf);
    return rc;
}
