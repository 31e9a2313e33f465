/* kafka_produce_driver.c — drives ss_kafka_produce (src/source/kafka_producer.c)
 * against a real broker, for the end-to-end tests and the produce-rate figure.
 *
 *   kafka_produce_driver simple BROKERS TOPIC N [COMPRESSION] [LINGER_MS] [BATCH_BYTES] [RATE]
 *       N records "{"user_id":"u<i % 100000>","seq":<i>,...}" keyed by the user id
 *   kafka_produce_driver gen BROKERS TOPIC N [COMPRESSION] [LINGER_MS] [BATCH_BYTES] [RATE]
 *       N records of the generator (clicks, promotions, orders all to TOPIC)
 *
 * Prints "sent=N delivered=N failed=N ms=N rate=N" on stdout; exit 0 when all delivered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/generator.h"
#include "source/kafka_producer.h"

struct simple_ctx {
    int64_t i, n;
    char key[24], val[160];
};

static int next_simple(void *ctx, const char **key, size_t *klen, const char **val, size_t *vlen, int *stream) {
    struct simple_ctx *c = ctx;
    if (c->i == c->n) return SS_EOF;
    *klen = (size_t)snprintf(c->key, sizeof c->key, "u%lld", (long long)(c->i % 100000));
    *vlen = (size_t)snprintf(c->val, sizeof c->val,
                             "{\"event_id\":\"e%lld\",\"user_id\":\"%s\",\"event_type\":\"view\","
                             "\"product_id\":\"p%lld\",\"ts\":\"2026-11-27T00:00:00.000Z\"}",
                             (long long)c->i, c->key, (long long)(c->i % 10000));
    *key = c->key;
    *val = c->val;
    *stream = SS_STREAM_CLICKS;
    c->i++;
    return SS_OK;
}

static int next_gen(void *ctx, const char **key, size_t *klen, const char **val, size_t *vlen, int *stream) {
    struct ss_gen_record rec;
    int rc = ss_gen_next(ctx, &rec);
    if (rc) return rc;
    *key = rec.key;
    *klen = rec.key_len;
    *val = rec.data;
    *vlen = rec.len;
    *stream = (int)rec.stream;
    return SS_OK;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s simple|gen BROKERS TOPIC N [COMPRESSION] [LINGER_MS] [BATCH_BYTES] [RATE]\n", argv[0]);
        return 2;
    }
    struct ss_kafka_produce_opts o;
    ss_kafka_produce_opts_init(&o);
    o.brokers = argv[2];
    o.topic = argv[3];
    int64_t n = atoll(argv[4]);
    if (argc > 5 && strcmp(argv[5], "-")) o.compression = argv[5];
    if (argc > 6) o.linger_ms = atoll(argv[6]);
    if (argc > 7) o.batch_bytes = atoll(argv[7]);
    if (argc > 8) o.rate = atof(argv[8]);
    struct ss_kafka_produce_stats st = {0};
    struct ss_err err = {0};
    int rc;
    if (!strcmp(argv[1], "gen")) {
        struct ss_gen_opts go;
        ss_gen_opts_init(&go);
        go.events = n;
        struct ss_gen *g = NULL;
        rc = ss_gen_new(&g, &go, &err);
        if (rc == SS_OK) rc = ss_kafka_produce(&o, next_gen, g, &st, &err);
        ss_gen_free(g);
    } else {
        struct simple_ctx c = {.n = n};
        rc = ss_kafka_produce(&o, next_simple, &c, &st, &err);
    }
    printf("sent=%lld delivered=%lld failed=%lld ms=%lld rate=%lld\n", (long long)st.sent, (long long)st.delivered,
           (long long)st.failed, (long long)st.elapsed_ms,
           (long long)(st.elapsed_ms > 0 ? st.sent * 1000 / st.elapsed_ms : 0));
    if (rc) fprintf(stderr, "error: %s\n", err.msg);
    return rc ? 1 : 0;
}
