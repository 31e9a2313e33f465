/* demo.c — `shopstream demo`: the whole system in one process with nothing to
 * install. librdkafka's mock cluster (3 brokers, 3 partitions per topic) stands in
 * for Kafka; a producer thread feeds it realistic traffic at --rate; the engine
 * consumes the three topics and writes SQLite, the Parquet lake, JSONL and the
 * Kafka output topics under --data, with a console line every few seconds.
 *
 * Stopping: after --seconds (or the first Ctrl-C) the producer stops and the
 * sources drain to the offsets produced so far, so every window and session closes
 * and is written; a second Ctrl-C stops at once (the current epoch is committed). */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/config.h"
#include "../core/dirs.h"
#include "../core/log.h"
#include "../core/thread.h"
#include "../core/timefmt.h"
#include "../engine/engine.h"
#include "../source/generator.h"
#include "../source/kafka_producer.h"
#include "cmd.h"

extern char **environ;

static const char *const input_topics[SS_STREAM_COUNT] = {"clicks", "promotions", "orders"};
static const char *const output_topics[] = {"alerts", "promo_matches", "shopstream_dlq", "shopstream_late"};

struct demo {
    struct ss_gen *gen;
    struct ss_kafka_produce_opts kopts;
    struct ss_source *sources[SS_STREAM_COUNT];
    struct ss_engine *engine;
    atomic_bool stop_producing;
    atomic_int signals;
    int produce_rc;
    struct ss_kafka_produce_stats pstats;
    struct ss_err perr;
};

/* The one demo a signal handler may reach (lock-free atomic, as a handler may read). */
static struct demo *_Atomic running_demo;

static void on_signal(int sig) {
    (void)sig;
    struct demo *d = running_demo;
    if (!d) return;
    if (atomic_fetch_add(&d->signals, 1) == 0) atomic_store(&d->stop_producing, true);
    else ss_engine_stop(d->engine);
}

static int next_record(void *ctx, const char **key, size_t *klen, const char **val, size_t *vlen, int *stream) {
    struct demo *d = ctx;
    if (atomic_load(&d->stop_producing)) return SS_EOF;
    struct ss_gen_record rec;
    int rc = ss_gen_next(d->gen, &rec);
    if (rc != SS_OK) return rc;
    *key = rec.key;
    *klen = rec.key_len;
    *val = rec.data;
    *vlen = rec.len;
    *stream = (int)rec.stream;
    return SS_OK;
}

static void *producer_main(void *arg) {
    struct demo *d = arg;
    d->produce_rc = ss_kafka_produce(&d->kopts, next_record, d, &d->pstats, &d->perr);
    if (d->produce_rc != SS_OK) ss_error("demo", "msg=\"producer stopped\" err=\"%s\"", d->perr.msg);
    /* everything produced is in the topics: let the engine read up to here and finish */
    for (int s = 0; s < SS_STREAM_COUNT; s++) ss_source_kafka_drain(d->sources[s]);
    return NULL;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: shopstream demo [--rate R] [--seconds N] [--data DIR] [options]\n"
            "\n"
            "Runs the whole pipeline in one process on an embedded Kafka (librdkafka's mock cluster: 3 brokers,\n"
            "3 partitions per topic): a producer thread generates realistic traffic, the engine consumes it and\n"
            "writes every output under DIR:\n"
            "  DIR/shopstream.db    SQLite, every table of the README (provisional windows updated live)\n"
            "  DIR/lake/            the Parquet lake (DIR/lake/<table>/dt=YYYY-MM-DD/hour=HH/*.parquet)\n"
            "  DIR/out/             JSONL, one file per table, final rows\n"
            "and the Kafka output topics (alerts, promo_matches, shopstream_dlq, shopstream_late) in the mock cluster.\n"
            "The live dashboard: http://127.0.0.1:9464/ (--set http.listen=H:P); metrics and health at /metrics,\n"
            "/healthz, /readyz; the JSON API at /api/stats, /api/windows, /api/users/{user_id}/recently-viewed.\n"
            "\n"
            "  --rate R          events per second, produced in real time (default 20000)\n"
            "  --seconds N       produce for N seconds, then drain and close every window (default: until Ctrl-C)\n"
            "  --speedup X       event time runs X times faster than the wall clock (default 60: a minute a second)\n"
            "  --data DIR        where outputs go (default ./data)\n"
            "  --seed N          generator seed (default 1)\n"
            "  --duplicates P, --late P, --invalid P   injected defects (defaults 0.01, 0.005, 0.005)\n"
            "  -c FILE, --set KEY=VALUE                engine configuration, also SHOPSTREAM_KEY=VALUE (shopstream run --help-config);\n"
            "                                          idle_timeout is 2s here (30s in run): event time runs fast\n"
            "  -h, --help        this help\n"
            "\n"
            "Ctrl-C once: stop producing, finish (every window closes). Twice: stop now.\n");
}

static int parse_fraction(const char *flag, const char *v, double *out) {
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || x < 0 || x > 1) {
        fprintf(stderr, "shopstream demo: %s expects a fraction in [0,1], got \"%s\"\n", flag, v);
        return -1;
    }
    *out = x;
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* The outputs a demo writes under --data, all removed before the next demo: each tour starts
 * from the same fixed date, so a lake (which appends) or a database (which upserts) holding an
 * earlier tour would no longer agree with each other or with `report --lake`. */
static const char *const demo_outputs[] = {"lake", "out", "shopstream.db", "shopstream.db-wal", "shopstream.db-shm"};
#define DEMO_MARK ".shopstream-demo" /* written into --data: its outputs are a demo's, safe to remove */

/* Clears an earlier demo's outputs from data; leaves outputs of anything else alone (with a
 * warning), since --data may point at a directory the user cares about. */
static int fresh_data_dir(const char *data, struct ss_err *err) {
    char mark[4096], p[4096];
    snprintf(mark, sizeof mark, "%s/" DEMO_MARK, data);
    bool ours = access(mark, F_OK) == 0, others = false;
    for (size_t i = 0; i < sizeof demo_outputs / sizeof demo_outputs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", data, demo_outputs[i]);
        if (access(p, F_OK) != 0) continue;
        if (!ours) {
            others = true;
            continue;
        }
        if (nftw(p, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
            return ss_err_set(err, SS_EIO, "cannot remove the previous demo's %s: %s", p, strerror(errno));
    }
    if (ours) ss_info("demo", "msg=\"removed the previous demo's outputs\" data=%s", data);
    if (others)
        ss_warn("demo",
                "msg=\"the data directory holds outputs that no demo wrote; the demo adds to them, so the lake and "
                "the database may not agree with each other (use an empty --data)\" data=%s",
                data);
    else {
        FILE *f = fopen(mark, "w");
        if (!f) return ss_err_set(err, SS_EIO, "cannot write %s: %s", mark, strerror(errno));
        fputs("outputs of `shopstream demo`: the next demo removes them\n", f);
        fclose(f);
    }
    return SS_OK;
}

int ss_cmd_demo(int argc, char **argv) {
    enum { O_RATE = 256, O_SECONDS, O_DATA, O_SEED, O_DUP, O_LATE, O_INVALID, O_SET, O_SPEEDUP };
    static const struct option opts[] = {
        {"rate", required_argument, 0, O_RATE},       {"seconds", required_argument, 0, O_SECONDS},
        {"data", required_argument, 0, O_DATA},       {"seed", required_argument, 0, O_SEED},
        {"duplicates", required_argument, 0, O_DUP},  {"late", required_argument, 0, O_LATE},
        {"invalid", required_argument, 0, O_INVALID}, {"set", required_argument, 0, O_SET},
        {"config", required_argument, 0, 'c'},        {"help", no_argument, 0, 'h'},
        {"speedup", required_argument, 0, O_SPEEDUP},
        {0, 0, 0, 0},
    };
    struct demo d = {0};
    struct ss_config cfg;
    struct ss_err err = {0};
    ss_config_init(&cfg);
    /* The demo's own default, under every layer (file, environment, --set): promotions
     * come every few minutes of event time, so at --speedup 60 a promotions partition is
     * quiet for long stretches, and the default 30 s held the watermark for a 30 s demo's
     * whole run: no window closed before the end. */
    cfg.idle_timeout_ms = 2000;
    double rate = 20000, seconds = 0;
    const char *data = "data";
    struct ss_gen_opts go;
    ss_gen_opts_init(&go);
    go.p_duplicate = 0.01;
    go.p_late = 0.005;
    go.p_invalid = 0.005;
    int code = SS_EXIT_USAGE, c;
    rd_kafka_t *mock_rk = NULL;
    rd_kafka_mock_cluster_t *mc = NULL;
    double speedup = 60;
    pthread_t producer;
    bool producer_started = false;
    int data_lock = -1; /* --data, flock()ed for the demo's life */

    /* as run: defaults < the -c file < SHOPSTREAM_* < flags, whatever the flags' order */
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hc:", opts, NULL)) != -1)
        if (c == 'c' && ss_config_load_yaml(&cfg, optarg, &err)) goto fail;
    if (ss_config_load_env(&cfg, environ, ss_sink_url_begins, &err)) goto fail;
    opterr = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hc:", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case O_RATE:
            rate = strtod(optarg, &end);
            if (end == optarg || *end || rate <= 0 || rate > 1e6) {
                fprintf(stderr, "shopstream demo: --rate expects events per second in (0, 1000000], got \"%s\"\n",
                        optarg);
                goto out;
            }
            break;
        case O_SECONDS:
            seconds = strtod(optarg, &end);
            if (end == optarg || *end || seconds < 0) {
                fprintf(stderr, "shopstream demo: --seconds expects a number >= 0, got \"%s\"\n", optarg);
                goto out;
            }
            break;
        case O_SPEEDUP:
            speedup = strtod(optarg, &end);
            if (end == optarg || *end || speedup <= 0) {
                fprintf(stderr, "shopstream demo: --speedup expects a number > 0, got \"%s\"\n", optarg);
                goto out;
            }
            break;
        case O_DATA: data = optarg; break;
        case O_SEED: go.seed = strtoull(optarg, NULL, 10); break;
        case O_DUP:
            if (parse_fraction("--duplicates", optarg, &go.p_duplicate)) goto out;
            break;
        case O_LATE:
            if (parse_fraction("--late", optarg, &go.p_late)) goto out;
            break;
        case O_INVALID:
            if (parse_fraction("--invalid", optarg, &go.p_invalid)) goto out;
            break;
        case 'c': break; /* loaded above */
        case O_SET:
            if (ss_config_set_kv(&cfg, optarg, &err)) goto fail;
            break;
        case 'h':
            usage(stdout);
            code = SS_EXIT_OK;
            goto out;
        default:
            fprintf(stderr, "shopstream demo: see `shopstream demo --help`\n");
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "shopstream demo: unexpected argument \"%s\"\n", argv[optind]);
        goto out;
    }
    code = SS_EXIT_FAIL;
    ss_log_set_level_named(cfg.log_level);
    ss_config_warn_env(environ);

    /* the embedded Kafka */
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    ss_kafka_conf_log(conf);
    /* This handle only hosts the mock cluster and never connects: its notice that it
     * has no bootstrap.servers ("will not be able to connect") reads as a fault in the
     * demo. Warnings and errors still show. */
    rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof errstr);
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!mock_rk) {
        ss_err_set(&err, SS_ERROR, "cannot start the embedded Kafka: %s", errstr);
        goto fail;
    }
    mc = rd_kafka_mock_cluster_new(mock_rk, 3);
    if (!mc) {
        ss_err_set(&err, SS_ERROR, "cannot start the embedded Kafka (librdkafka mock cluster)");
        goto fail;
    }
    const char *brokers = rd_kafka_mock_cluster_bootstraps(mc);
    for (int s = 0; s < SS_STREAM_COUNT; s++) rd_kafka_mock_topic_create(mc, input_topics[s], 3, 1);
    for (size_t i = 0; i < sizeof output_topics / sizeof output_topics[0]; i++)
        rd_kafka_mock_topic_create(mc, output_topics[i], 3, 1);
    ss_info("demo", "msg=\"embedded Kafka up\" brokers=%s topics=clicks,promotions,orders partitions=3", brokers);

    /* the engine: three Kafka inputs, local sinks under --data */
    if (ss_mkdirs(data, &err) != SS_OK) goto fail;
    /* One demo per --data: a second one removed the running one's database, lake and
     * JSONL files as "the previous demo's outputs" and wrote its own in their place, and
     * the first then failed (exit 1). The directory's lock is the demo's own: its sinks
     * lock the database file and out/, not --data. */
    if (ss_lock_exclusive(data, true, "data directory",
                          "a demo is running there; stop it, or give this one another --data", &data_lock, &err))
        goto fail;
    if (fresh_data_dir(data, &err)) goto fail;
    if (ss_engine_open(&d.engine, &cfg, &err)) goto fail;
    for (int s = 0; s < SS_STREAM_COUNT; s++) {
        char url[512];
        snprintf(url, sizeof url, "kafka://%s/%s", brokers, input_topics[s]);
        struct ss_input_spec spec = {.stream = (enum ss_stream)s, .url = url, .format = 0 /* JSON */};
        if (ss_source_kafka.open(&d.sources[s], &spec, &cfg, &err)) goto fail;
        if (ss_engine_add_source(d.engine, d.sources[s], &spec, &err)) {
            ss_source_kafka.close(d.sources[s]);
            d.sources[s] = NULL;
            goto fail;
        }
    }
    char sink[4096];
    const char *sinks[] = {"sqlite:%s/shopstream.db", "parquet:%s/lake", "jsonl:%s/out"};
    for (size_t i = 0; i < sizeof sinks / sizeof sinks[0]; i++) {
        snprintf(sink, sizeof sink, sinks[i], data);
        if (ss_engine_add_sink(d.engine, sink, &err)) goto fail;
    }
    snprintf(sink, sizeof sink, "kafka://%s", brokers);
    if (ss_engine_add_sink(d.engine, sink, &err) || ss_engine_add_sink(d.engine, "console:", &err)) goto fail;
    /* the operations endpoint: http.listen, 127.0.0.1:9464 unless set; a busy port
     * costs the demo its metrics, not its run */
    const char *listen = cfg.http_listen && *cfg.http_listen ? cfg.http_listen : "127.0.0.1:9464";
    snprintf(sink, sizeof sink, "metrics:%s%crecently_viewed=on", listen, strchr(listen, '?') ? '&' : '?');
    if (ss_engine_add_sink(d.engine, sink, &err)) {
        ss_warn("demo", "msg=\"no metrics endpoint\" err=\"%s\"", err.msg);
        ss_err_clear(&err);
    }

    /* the producer thread */
    /* event time runs `speedup` times faster than the wall clock, so that windows and
     * sessions open and close while one watches */
    go.rate = rate / speedup;
    go.events = seconds > 0 ? (int64_t)(rate * seconds) : ss_gen_events_limit(go.rate);
    for (int s = 0; s < SS_STREAM_COUNT; s++) go.format[s] = 0; /* JSON: Kafka messages are self-contained */
    if (ss_gen_new(&d.gen, &go, &err)) goto fail;
    ss_kafka_produce_opts_init(&d.kopts);
    d.kopts.brokers = brokers;
    d.kopts.topic = "clicks";
    for (int s = 0; s < SS_STREAM_COUNT; s++) d.kopts.topics[s] = input_topics[s];
    d.kopts.rate = rate;
    d.kopts.linger_ms = 20;
    d.kopts.progress = NULL; /* the console sink reports progress */
    if (ss_thread_create(&producer, "ss-demo-produce", producer_main, &d) != 0) {
        ss_err_set(&err, SS_ERROR, "cannot start the producer thread");
        goto fail;
    }
    producer_started = true;
    char secs[32];
    snprintf(secs, sizeof secs, seconds > 0 ? "%g" : "until Ctrl-C", seconds);
    ss_info("demo", "msg=\"producing\" rate=%.0f seconds=\"%s\" data=%s", rate, secs, data);

    running_demo = &d;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct sigaction hup; /* a closed terminal ends the tour as Ctrl-C does, unless nohup'd (shutdown.c) */
    if (sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler != SIG_IGN) sigaction(SIGHUP, &sa, NULL);
    int rc = ss_engine_run(d.engine, &err);
    atomic_store(&d.stop_producing, true);
    pthread_join(producer, NULL);
    producer_started = false;
    running_demo = NULL;
    if (rc) goto fail;

    const struct ss_run_stats *st = ss_engine_stats(d.engine);
    printf("\nshopstream demo: %" PRId64 " events produced, %" PRId64 " processed (%" PRId64 " invalid -> dlq, %" PRId64
           " late, %" PRId64 " duplicates)\n",
           d.pstats.delivered, st->records, st->invalid, st->late, st->duplicates);
    printf("  SQLite       %s/shopstream.db   (sqlite3 %s/shopstream.db 'select * from category_revenue limit 5')\n",
           data, data);
    printf("  Parquet lake %s/lake/           (shopstream report --lake %s/lake)\n", data, data);
    printf("  JSONL        %s/out/*.jsonl\n", data);
    printf("  Kafka        alerts, promo_matches, shopstream_dlq, shopstream_late (embedded, gone with the demo)\n");
    code = SS_EXIT_OK;
    goto out;
fail:
    fprintf(stderr, "shopstream demo: %s\n", err.msg);
    code = err.code == SS_EUSAGE ? SS_EXIT_USAGE : SS_EXIT_FAIL;
out:
    if (producer_started) {
        atomic_store(&d.stop_producing, true);
        pthread_join(producer, NULL);
    }
    running_demo = NULL;
    ss_engine_close(d.engine); /* closes the sources it was given */
    if (d.gen) ss_gen_free(d.gen);
    if (mc) rd_kafka_mock_cluster_destroy(mc);
    if (mock_rk) rd_kafka_destroy(mock_rk);
    ss_config_free(&cfg);
    if (data_lock >= 0) close(data_lock);
    return code;
}
