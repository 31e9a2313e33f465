/* kafka_txn_driver.c — transactional writes and a group's committed offsets, against a
 * real broker: what kcat and `shopstream produce` cannot do, for e2e 0402.
 *
 *   kafka_txn_driver write BROKERS TOPIC PARTITION COMMITTED ABORTED
 *       COMMITTED click records, one committed transaction each, then one aborted
 *       transaction of ABORTED records: the partition ends in offsets that are no
 *       records (commit and abort markers, aborted records). Prints "high=N" once
 *       every marker is in the log.
 *   kafka_txn_driver committed BROKERS GROUP TOPIC PARTITION
 *       Prints "committed=C high=H" for the group's offset of that partition.
 *
 * Exit 0 on success, 1 with a message on stderr. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#define TIMEOUT_MS 30000

static int die(const char *what, const char *why) {
    fprintf(stderr, "kafka_txn_driver: %s: %s\n", what, why);
    return 1;
}

static int txn_fail(rd_kafka_error_t *e, const char *what) {
    int rc = die(what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return rc;
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *brokers, const char *key, const char *value) {
    char why[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, why, sizeof why) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, key, value, why, sizeof why) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        die("config", why);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof why);
    if (!rk) die("client", why);
    return rk;
}

/* One transaction of n records on topic/partition, committed or aborted. */
static int one_txn(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t first, int n, int commit) {
    rd_kafka_error_t *e = rd_kafka_begin_transaction(rk);
    if (e) return txn_fail(e, "begin_transaction");
    for (int i = 0; i < n; i++) {
        char key[32], val[256];
        int64_t k = first + i;
        snprintf(key, sizeof key, "u%" PRId64, k % 7);
        int len = snprintf(val, sizeof val,
                           "{\"event_id\":\"t%" PRId64 "\",\"event_type\":\"view\",\"user_id\":\"%s\","
                           "\"product_id\":\"p%" PRId64 "\",\"category\":\"books\","
                           "\"ts\":\"2026-11-27T10:%02" PRId64 ":00Z\"}",
                           k, key, k % 3, k % 60);
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(val, (size_t)len), RD_KAFKA_V_END);
        if (err) return die("produce", rd_kafka_err2str(err));
    }
    /* records of an aborted transaction reach the log only when sent before the abort:
     * flushed first, so that the partition's offsets are known in advance */
    if (!commit) {
        rd_kafka_resp_err_t ferr = rd_kafka_flush(rk, TIMEOUT_MS);
        if (ferr) return die("flush", rd_kafka_err2str(ferr));
    }
    e = commit ? rd_kafka_commit_transaction(rk, TIMEOUT_MS) : rd_kafka_abort_transaction(rk, TIMEOUT_MS);
    if (e) return txn_fail(e, commit ? "commit_transaction" : "abort_transaction");
    return 0;
}

static int write_txns(const char *brokers, const char *topic, int32_t partition, int committed, int aborted) {
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, brokers, "transactional.id", "shopstream-e2e-txn");
    if (!rk) return 1;
    rd_kafka_error_t *e = rd_kafka_init_transactions(rk, TIMEOUT_MS);
    int rc = e ? txn_fail(e, "init_transactions") : 0;
    for (int i = 0; !rc && i < committed; i++) rc = one_txn(rk, topic, partition, i, 1, 1);
    if (!rc && aborted > 0) rc = one_txn(rk, topic, partition, committed, aborted, 0);
    /* A record and a commit marker per committed transaction; the aborted records and
     * their abort marker. The coordinator writes the markers after the commit or abort
     * call returned: wait until the last one is in the log, so that a reader started
     * next sees the partition as it ends. */
    int64_t want = 2 * (int64_t)committed + (aborted > 0 ? aborted + 1 : 0), lo = 0, hi = -1;
    for (int tries = 0; !rc && hi < want; tries++) {
        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, partition, &lo, &hi, TIMEOUT_MS);
        if (err) rc = die("watermarks", rd_kafka_err2str(err));
        else if (hi < want && tries == 300) rc = die("watermarks", "the transaction markers did not reach the log");
        else if (hi < want) rd_kafka_poll(rk, 100); /* serves callbacks while it waits */
    }
    if (!rc) printf("high=%" PRId64 "\n", hi);
    rd_kafka_destroy(rk);
    return rc;
}

static int show_committed(const char *brokers, const char *group, const char *topic, int32_t partition) {
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, brokers, "group.id", group);
    if (!rk) return 1;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition);
    int rc = 0;
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t err = rd_kafka_committed(rk, l, TIMEOUT_MS);
    if (!err) err = rd_kafka_query_watermark_offsets(rk, topic, partition, &lo, &hi, TIMEOUT_MS);
    if (err) rc = die("committed offsets", rd_kafka_err2str(err));
    else printf("committed=%" PRId64 " high=%" PRId64 "\n", l->elems[0].offset, hi);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 7 && !strcmp(argv[1], "write"))
        return write_txns(argv[2], argv[3], (int32_t)atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
    if (argc == 6 && !strcmp(argv[1], "committed"))
        return show_committed(argv[2], argv[3], argv[4], (int32_t)atoi(argv[5]));
    fprintf(stderr, "usage: kafka_txn_driver write BROKERS TOPIC PARTITION COMMITTED ABORTED\n"
                    "       kafka_txn_driver committed BROKERS GROUP TOPIC PARTITION\n");
    return 2;
}
