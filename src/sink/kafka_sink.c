/* kafka_sink.c — the Kafka outputs: `--sink kafka://HOST:PORT[?alerts=T&promo_matches=T&dlq=T&late=T]`.
 * At each epoch commit the rows of alerts, promo_matches, the dead-letter table and
 * the late table are produced (JSON values of docs/SEMANTICS.md §11 keyed by
 * user_id; a dead letter or late record by the user_id it holds, null when it has none
 * or cannot be read; dead letters carry the original record bytes verbatim with reason,
 * stream, source, partition and offset headers) and flushed before commit returns,
 * so the engine commits input offsets only for delivered outputs. Idempotent
 * producer: librdkafka's own retries never duplicate; a failed or timed-out epoch
 * answers SS_RETRY and is produced again (at-least-once until transactions). */
#include "kafka_sink.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/log.h"
#include "../source/kafka_producer.h"
#include "rowjson.h"

#define FLUSH_TIMEOUT_MS 30000
/* Room left in a message for what is not the value: the key (a user id), the headers and
 * the record's framing in its batch. */
#define MSG_OVERHEAD 4096
/* A limit found below this is not a message size anyone sets: refuse rather than cut
 * records to nothing. */
#define MSG_LIMIT_FLOOR 16384

enum { OUT_ALERTS, OUT_PROMO, OUT_DLQ, OUT_LATE, OUT_COUNT };

static const struct {
    enum ss_table_id table;
    const char *param;   /* URL query key */
    const char *topic;   /* default topic */
    int key_col;         /* message key column; -1: the row's user (ss_out_user) */
} outs[OUT_COUNT] = {
    [OUT_ALERTS] = {SS_T_ALERTS, "alerts", "alerts", SS_AL_USER_ID},
    [OUT_PROMO] = {SS_T_PROMO_MATCHES, "promo_matches", "promo_matches", SS_PM_USER_ID},
    [OUT_DLQ] = {SS_T_DLQ, "dlq", "shopstream_dlq", -1},
    [OUT_LATE] = {SS_T_LATE, "late", "shopstream_late", -1},
};

struct kafka_sink {
    struct ss_sink base;
    struct ss_kafka_errs errs; /* error_cb's, for ss_kafka_wait_topics at start */
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt[OUT_COUNT];
    char *brokers;
    char *topic[OUT_COUNT];
    struct ss_buf buf;
    uintptr_t gen;           /* the commit attempt the delivery reports count for */
    int64_t failed;
    char first_error[256];
    /* Largest value each topic takes. Starts at the producer's message.max.bytes less
     * MSG_OVERHEAD, and is lowered when the broker refuses a message as too large (the
     * topic's max.message.bytes may be lower). A dead letter or late record over it is
     * cut to fit, with a `truncated` header giving its size: one oversized record must
     * not stop the pipeline, and the whole record stays in its source topic at the
     * partition and offset the message names. */
    size_t limit[OUT_COUNT];
    /* The largest message of this commit attempt the broker refused as too large. The
     * broker refuses a whole batch, so small messages batched with a big one are refused
     * too: the limit is halved from the largest. */
    size_t refused[OUT_COUNT];
    size_t refused_last[OUT_COUNT]; /* the last nonzero refused[], for the error */
    int64_t cut;                    /* records cut to fit in this commit attempt */
};

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    ss_kafka_errs_log(&((struct kafka_sink *)opaque)->errs, rk, err, reason);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    struct kafka_sink *ks = opaque;
    if (!m->err || (uintptr_t)m->_private != ks->gen) return;
    if (m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
        for (int o = 0; o < OUT_COUNT; o++)
            if (m->rkt == ks->rkt[o] && m->len > ks->refused[o]) ks->refused[o] = m->len;
    if (!ks->failed)
        snprintf(ks->first_error, sizeof ks->first_error, "%s [%d]: %s", rd_kafka_topic_name(m->rkt),
                 (int)m->partition, rd_kafka_err2str(m->err));
    ks->failed++;
}

static void kafka_sink_close(struct ss_sink *sk) {
    struct kafka_sink *ks = (struct kafka_sink *)sk;
    for (int o = 0; o < OUT_COUNT; o++)
        if (ks->rkt[o]) rd_kafka_topic_destroy(ks->rkt[o]);
    if (ks->rk) {
        rd_kafka_flush(ks->rk, 5000);
        rd_kafka_destroy(ks->rk);
    }
    for (int o = 0; o < OUT_COUNT; o++) ss_free(ks->topic[o]);
    ss_free(ks->brokers);
    ss_buf_free(&ks->buf);
    ss_free(ks);
}

/* "kafka://HOST:PORT[,HOST:PORT][/][?alerts=T&dlq=T...]" */
static int parse_url(struct kafka_sink *ks, const char *url, struct ss_err *err) {
    const char *p = url + strlen("kafka://");
    const char *q = strchr(p, '?');
    size_t n = q ? (size_t)(q - p) : strlen(p);
    while (n && p[n - 1] == '/') n--;
    if (!n) return ss_err_set(err, SS_EUSAGE, "Kafka sink \"%s\": expected kafka://HOST:PORT", url);
    ks->brokers = ss_strndup(p, n);
    for (int o = 0; o < OUT_COUNT; o++) ks->topic[o] = ss_strdup(outs[o].topic);
    while (q && *q) {
        const char *item = q + 1;
        const char *end = strchr(item, '&');
        size_t len = end ? (size_t)(end - item) : strlen(item);
        const char *eq = memchr(item, '=', len);
        int which = -1;
        for (int o = 0; eq && o < OUT_COUNT; o++)
            if ((size_t)(eq - item) == strlen(outs[o].param) && !strncmp(item, outs[o].param, (size_t)(eq - item)))
                which = o;
        if (which < 0 || eq + 1 == item + len)
            return ss_err_set(err, SS_EUSAGE,
                              "Kafka sink \"%s\": unknown or empty parameter \"%.*s\" (known: alerts=TOPIC, "
                              "promo_matches=TOPIC, dlq=TOPIC, late=TOPIC)",
                              url, (int)len, item);
        ss_free(ks->topic[which]);
        ks->topic[which] = ss_strndup(eq + 1, (size_t)(item + len - eq - 1));
        char what[600];
        snprintf(what, sizeof what, "Kafka sink \"%s\": %s", url, outs[which].param);
        int rc = ss_kafka_topic_check(ks->topic[which], what, err);
        if (rc) return rc;
        q = end;
    }
    return SS_OK;
}

/* The producer's configuration: ours, then the -X / kafka.* properties. Builds it in
 * memory only (no client, no connection). */
static int make_conf(const struct kafka_sink *ks, const struct ss_config *cfg, rd_kafka_conf_t **out,
                     struct ss_err *err) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char tmo[16];
    snprintf(tmo, sizeof tmo, "%d", FLUSH_TIMEOUT_MS);
    int rc;
    if ((rc = ss_kafka_conf_set(conf, "bootstrap.servers", ks->brokers, err)) ||
        (rc = ss_kafka_conf_set(conf, "client.id", "shopstream", err)) ||
        (rc = ss_kafka_conf_set(conf, "enable.idempotence", "true", err)) ||
        (rc = ss_kafka_conf_set(conf, "message.timeout.ms", tmo, err)) ||
        (rc = ss_kafka_conf_set(conf, "linger.ms", "5", err)) ||
        (rc = ss_kafka_conf_set(conf, "partitioner", SS_KAFKA_PARTITIONER, err)) ||
        /* consumer-only settings are the inputs' when the run reads Kafka */
        (rc = ss_kafka_conf_apply(conf, cfg->kafka_props, cfg->nkafka_props, ss_config_reads_kafka(cfg) ? 'C' : 0,
                                  err))) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    *out = conf;
    return SS_OK;
}

static int kafka_sink_check(const char *url, const struct ss_config *cfg, struct ss_err *err) {
    struct kafka_sink *ks = ss_calloc(1, sizeof *ks);
    rd_kafka_conf_t *conf = NULL;
    int rc = parse_url(ks, url, err);
    if (!rc) rc = make_conf(ks, cfg, &conf, err);
    if (conf) rd_kafka_conf_destroy(conf);
    kafka_sink_close(&ks->base);
    return rc;
}

static int kafka_sink_open(struct ss_sink **out, const char *url, const struct ss_config *cfg, struct ss_err *err) {
    struct kafka_sink *ks = ss_calloc(1, sizeof *ks);
    ks->base.type = &ss_sink_kafka;
    rd_kafka_conf_t *conf = NULL;
    int rc = parse_url(ks, url, err);
    if (!rc) rc = make_conf(ks, cfg, &conf, err);
    if (rc) goto fail;
    ss_kafka_conf_log(conf);
    char maxb[32];
    size_t maxb_len = sizeof maxb;
    size_t max_bytes = 1000000; /* librdkafka's default */
    if (rd_kafka_conf_get(conf, "message.max.bytes", maxb, &maxb_len) == RD_KAFKA_CONF_OK)
        max_bytes = (size_t)strtoull(maxb, NULL, 10);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_opaque(conf, ks);
    char why[512];
    ks->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!ks->rk) {
        rd_kafka_conf_destroy(conf);
        rc = ss_err_set(err, SS_EUSAGE, "cannot create Kafka producer for %s: %s", url, why);
        goto fail;
    }
    const char *names[OUT_COUNT];
    for (int o = 0; o < OUT_COUNT; o++) names[o] = ks->topic[o];
    /* sink.connect_timeout, as for the other sinks whose server may be down at start */
    int64_t wait = cfg->sink_connect_timeout_ms;
    rc = ss_kafka_wait_topics(ks->rk, ks->brokers, names, OUT_COUNT, NULL,
                              wait > 0 && wait < INT32_MAX ? (int)wait : SS_KAFKA_CONNECT_TIMEOUT_MS, &ks->errs, err);
    if (rc) goto fail;
    for (int o = 0; o < OUT_COUNT; o++) ks->rkt[o] = rd_kafka_topic_new(ks->rk, ks->topic[o], NULL);
    for (int o = 0; o < OUT_COUNT; o++) ks->limit[o] = max_bytes > 2 * MSG_OVERHEAD ? max_bytes - MSG_OVERHEAD : max_bytes / 2;
    *out = &ks->base;
    return SS_OK;
fail:
    kafka_sink_close(&ks->base);
    return rc;
}

static void add_header_str(rd_kafka_headers_t *h, const char *name, const struct ss_val *v) {
    rd_kafka_header_add(h, name, -1, v->null ? "" : v->s, v->null ? 0 : (ssize_t)v->len);
}

static void add_header_int(rd_kafka_headers_t *h, const char *name, int64_t i) {
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, i);
    rd_kafka_header_add(h, name, -1, num, n);
}

/* Produces one message, waiting out a full local queue. */
static int produce_one(struct kafka_sink *ks, int o, const struct ss_val *key, const void *val, size_t vlen,
                       rd_kafka_headers_t *hdrs, int64_t deadline_ms, struct ss_err *err) {
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            ks->rk, RD_KAFKA_V_RKT(ks->rkt[o]), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE((void *)val, vlen),
            RD_KAFKA_V_KEY(key && !key->null ? key->s : NULL, key && !key->null ? key->len : 0),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE((void *)ks->gen), RD_KAFKA_V_END);
        if (!e) return SS_OK; /* the headers now belong to the message */
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && mono_ms() < deadline_ms) {
            rd_kafka_poll(ks->rk, 50);
            continue;
        }
        if (hdrs) rd_kafka_headers_destroy(hdrs);
        if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) /* would fail again: the key is what is big */
            return ss_err_set(err, SS_ERROR,
                              "cannot produce to Kafka topic %s on %s: a message of %zu bytes with a key of %u bytes "
                              "is over message.max.bytes (raise it with -X message.max.bytes=N)",
                              ks->topic[o], ks->brokers, vlen, key && !key->null ? key->len : 0);
        return ss_err_set(err, SS_RETRY, "cannot produce to Kafka topic %s on %s: %s", ks->topic[o], ks->brokers,
                          rd_kafka_err2str(e));
    }
}

/* The value of row v for topic o: a dead letter's record bytes, else the row's JSON in
 * ks->buf. A record over the topic's limit is cut to fit (whole UTF-8 characters in a
 * late row's JSON), *cut_from set to its size (else 0). SS_ERROR for a row over the
 * limit with no record to cut, or a limit too low to be meant. */
static int row_value(struct kafka_sink *ks, struct ss_rowjson *rj, int o, const struct ss_val *v, const void **val,
                     size_t *vlen, uint32_t *cut_from, struct ss_err *err) {
    enum ss_table_id t = outs[o].table;
    const struct ss_table *tb = &ss_tables[t];
    size_t limit = ks->limit[o];
    *cut_from = 0;
    if (limit < MSG_LIMIT_FLOOR)
        return ss_err_set(err, SS_ERROR,
                          "Kafka topic %s on %s refused a message of %zu bytes as too large: raise the topic's "
                          "max.message.bytes, or lower -X batch.size below it",
                          ks->topic[o], ks->brokers, ks->refused_last[o]);
    if (t == SS_T_DLQ) {
        const struct ss_val *rec = &v[SS_DL_RECORD];
        *val = rec->null ? "" : rec->s;
        *vlen = rec->null ? 0 : rec->len;
        if (*vlen > limit) {
            *cut_from = (uint32_t)*vlen;
            *vlen = limit;
        }
        return SS_OK;
    }
    ks->buf.len = 0;
    ss_row_to_json_rj(rj, tb, v, &ks->buf);
    if (ks->buf.len > limit && t == SS_T_LATE && !v[SS_LT_RECORD].null) {
        struct ss_val cut[SS_LT_NCOLS];
        memcpy(cut, v, sizeof cut);
        *cut_from = cut[SS_LT_RECORD].len;
        while (ks->buf.len > limit && cut[SS_LT_RECORD].len > 0) {
            /* a byte of the record is at least a byte of its JSON */
            size_t over = ks->buf.len - limit;
            uint32_t n = over >= cut[SS_LT_RECORD].len ? 0 : cut[SS_LT_RECORD].len - (uint32_t)over;
            while (n > 0 && ((unsigned char)cut[SS_LT_RECORD].s[n] & 0xC0) == 0x80) n--;
            cut[SS_LT_RECORD].len = n;
            ks->buf.len = 0;
            ss_row_to_json_rj(rj, tb, cut, &ks->buf);
        }
    }
    if (ks->buf.len > limit)
        return ss_err_set(err, SS_ERROR,
                          "a %s row of %zu bytes is over the %zu bytes Kafka topic %s takes: raise -X "
                          "message.max.bytes and the topic's max.message.bytes",
                          tb->name, ks->buf.len, limit, ks->topic[o]);
    *val = ks->buf.p;
    *vlen = ks->buf.len;
    return SS_OK;
}

static int kafka_sink_commit(struct ss_sink *sk, const struct ss_epoch *ep, struct ss_err *err) {
    struct kafka_sink *ks = (struct kafka_sink *)sk;
    char fatal[256];
    if (rd_kafka_fatal_error(ks->rk, fatal, sizeof fatal))
        return ss_err_set(err, SS_ERROR, "Kafka producer to %s failed: %s", ks->brokers, fatal);
    ks->gen++;
    ks->failed = 0;
    ks->cut = 0;
    for (int o = 0; o < OUT_COUNT; o++) {
        if (ks->refused[o] && ks->refused[o] / 2 < ks->limit[o]) ks->limit[o] = ks->refused[o] / 2;
        ks->refused_last[o] = ks->refused[o] ? ks->refused[o] : ks->refused_last[o];
        ks->refused[o] = 0;
    }
    int64_t deadline_ms = mono_ms() + FLUSH_TIMEOUT_MS;
    int rc = SS_OK;
    struct ss_rowjson rj;
    ss_rowjson_init(&rj);
    for (int o = 0; o < OUT_COUNT && rc == SS_OK; o++) {
        enum ss_table_id t = outs[o].table;
        const struct ss_table *tb = &ss_tables[t];
        const struct ss_rows *r = &ep->rows->t[t];
        for (size_t i = 0; i < r->n && rc == SS_OK; i++) {
            const struct ss_val *v = ss_out_get(ep->rows, t, i);
            const struct ss_val *key = outs[o].key_col >= 0 ? &v[outs[o].key_col] : ss_out_user(ep->rows, t, i);
            /* a dead letter's user_id can be anything: one too long for a key (it would
             * not fit the message) leaves the message unkeyed */
            if (outs[o].key_col < 0 && key && !key->null && key->len > MSG_OVERHEAD / 2) key = NULL;
            if (tb->final_col >= 0 && !v[tb->final_col].i) continue;
            const void *val = NULL;
            size_t vlen = 0;
            uint32_t cut_from;
            if ((rc = row_value(ks, &rj, o, v, &val, &vlen, &cut_from, err))) break;
            rd_kafka_headers_t *h = NULL;
            if (t == SS_T_DLQ) {
                h = rd_kafka_headers_new(6);
                add_header_str(h, "reason", &v[SS_DL_REASON]);
                add_header_str(h, "stream", &v[SS_DL_STREAM]);
                add_header_str(h, "source", &v[SS_DL_SOURCE]);
                add_header_int(h, "partition", v[SS_DL_PARTITION].i);
                add_header_int(h, "offset", v[SS_DL_OFFSET].i);
            }
            if (cut_from) {
                if (!h) h = rd_kafka_headers_new(1);
                add_header_int(h, "truncated", cut_from);
                ks->cut++;
            }
            rc = produce_one(ks, o, key, val, vlen, h, deadline_ms, err);
        }
    }
    int64_t left = deadline_ms - mono_ms();
    rd_kafka_flush(ks->rk, left > 0 ? (int)left : 0);
    if (rc) goto undelivered;
    if (rd_kafka_outq_len(ks->rk) > 0) {
        rc = ss_err_set(err, SS_RETRY, "Kafka brokers %s did not acknowledge the outputs within %d s (%d pending)",
                        ks->brokers, FLUSH_TIMEOUT_MS / 1000, rd_kafka_outq_len(ks->rk));
        goto undelivered;
    }
    if (ks->failed)
        rc = ss_err_set(err, SS_RETRY, "%lld Kafka output messages were not delivered (first: %s)",
                        (long long)ks->failed, ks->first_error);
    if (rc == SS_OK) {
        if (ks->cut)
            ss_warn("sink.kafka",
                    "msg=\"records cut to fit Kafka's message size (header truncated: the record's size; the whole "
                    "record stays at the source partition and offset)\" count=%lld epoch=%llu",
                    (long long)ks->cut, (unsigned long long)ep->epoch);
        return SS_OK;
    }
undelivered:
    /* the epoch is produced again: messages still queued locally would only duplicate it */
    rd_kafka_purge(ks->rk, RD_KAFKA_PURGE_F_QUEUE);
    rd_kafka_poll(ks->rk, 0);
    if (rd_kafka_fatal_error(ks->rk, fatal, sizeof fatal))
        return ss_err_set(err, SS_ERROR, "Kafka producer to %s failed: %s", ks->brokers, fatal);
    return rc;
}

const struct ss_sink_type ss_sink_kafka = {
    .name = "kafka",
    .scheme = "kafka://",
    .flags = 0,
    .open = kafka_sink_open,
    .check = kafka_sink_check,
    .commit = kafka_sink_commit,
    .close = kafka_sink_close,
};
