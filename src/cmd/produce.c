/* produce.c — `shopstream produce`: synthetic traffic from the generator
 * (src/source/generator.h) to a file, stdout or a directory of three files, as fast
 * as possible or paced in real time. It is the front of a test or demo pipeline:
 * its files are what `shopstream run --input ...` reads. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/dirs.h"
#include "../core/fdio.h"
#include "../core/log.h"
#include "../core/shutdown.h"
#include "../core/timefmt.h"
#include "../source/generator.h"
#include "cmd.h"
#include "produce_kafka.h"

#define OUT_BUF (1 << 20)

static void usage(FILE *f) {
    fprintf(f,
            "usage: shopstream produce [options]\n"
            "\n"
            "Writes realistic synthetic e-commerce traffic (clicks, promotions, orders) as JSON lines or CSV.\n"
            "The same options (and --seed) always give byte-identical output.\n"
            "\n"
            "how much:\n"
            "  --events N        records to write over the chosen streams, as fast as possible (default 100000)\n"
            "  --rate R          records per second of event time; with --duration also the real-time pace (default 100)\n"
            "  --duration S      seconds (or 30s, 15m, 2h): write R*S records paced at R per second in real time\n"
            "                    (not with --events)\n"
            "  --start ISO       event time of the first records (default 2026-11-27T00:00:00Z)\n"
            "  --seed N          random seed (default 1)\n"
            "\n"
            "what:\n"
            "  --users N         user ids u1..uN (default 1000000)\n"
            "  --products N      product ids p1..pN, Zipf-popular (default 10000)\n"
            "  --categories N    number of categories, 1..12 (default 12)\n"
            "  --promotions N    promotions to publish (default 10 + one per 5 min of event time;\n"
            "                    with --stream promotions: --events)\n"
            "  --orders-share P  share of records that are orders (default 0.05)\n"
            "\n"
            "defects (shares of the click and order records, each in [0,1]):\n"
            "  --duplicates P    exact redeliveries of an earlier record, 1 s..2 min later (default 0)\n"
            "  --late P          records 16..30 min behind their stream: late for a 15 min lateness (default 0)\n"
            "  --reorder P       records 1..10 min behind: out of order but on time (default: half of --late, or what the\n"
            "                    other shares leave of 1 when that is less)\n"
            "  --invalid P       records with one problem each: malformed, a missing field, unknown type,\n"
            "                    unreadable ts, bad amount (default 0)\n"
            "\n"
            "where:\n"
            "  --format F        json or csv (default: clicks and promotions json, orders csv)\n"
            "  --stream S        write only stream S: clicks, promotions or orders (default clicks)\n"
            "  --out FILE        file for --stream, - for stdout (default -)\n"
            "  --out-dir DIR     write all three streams: DIR/clicks.jsonl (clicks.csv with --format csv),\n"
            "                    DIR/promotions.jsonl, DIR/orders.csv (orders.jsonl with --format json)\n"
            "\n"
            "to Kafka (JSON values keyed by user_id; promotions by product_id):\n"
            "  --brokers B       bootstrap servers host:port[,host:port]; records go to Kafka instead of files\n"
            "  --topic T         the topic of --stream (default: the stream's name)\n"
            "  --clicks-topic T, --promotions-topic T, --orders-topic T\n"
            "                    topics when all streams are produced (defaults: clicks, promotions, orders)\n"
            "  --csv FILE        replay an orders CSV (header row) as JSON objects instead of generating\n"
            "  --batch-bytes N   librdkafka batch.size (default 16384)\n"
            "  --linger-ms N     librdkafka linger.ms (default 5)\n"
            "  --compression C   none, gzip, snappy, lz4 or zstd (default none)\n"
            "  -X KEY=VALUE      any librdkafka property, verbatim (security.protocol, sasl.*, ssl.*)\n"
            "  -h, --help        this help\n"
            "\n"
            "At the end a summary line goes to stderr (logfmt), and a progress line every second on long runs.\n");
}

static int bad(const char *flag, const char *why, const char *val) {
    fprintf(stderr, "shopstream produce: %s: %s, got \"%s\" (see --help)\n", flag, why, val);
    return SS_EXIT_USAGE;
}

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s == '-') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end) return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* Seconds as a plain (possibly fractional) number, or a duration like 15m. */
static int parse_seconds(const char *s, double *out) {
    if (parse_double(s, 0, 1e9, out) == 0) return *out > 0 ? 0 : -1;
    int64_t ms;
    if (ss_duration_parse(s, &ms) != 0 || ms <= 0) return -1;
    *out = (double)ms / 1000.0;
    return 0;
}

static int parse_format(const char *s, int *out) {
    if (!strcmp(s, "json") || !strcmp(s, "jsonl")) *out = SS_FMT_JSON;
    else if (!strcmp(s, "csv")) *out = SS_FMT_CSV;
    else return -1;
    return 0;
}

/* ---- buffered output: one write(2) per megabyte ---- */

struct out {
    int fd;
    char *path;
    char *buf;
    size_t n;
};

static int out_open(struct out *o, const char *path) {
    o->n = 0;
    o->buf = ss_malloc(OUT_BUF);
    o->path = ss_strdup(path);
    if (!strcmp(path, "-")) {
        o->fd = STDOUT_FILENO;
        return 0;
    }
    struct ss_err err = {0};
    if (ss_mkdirs_for_file(path, &err) != SS_OK) {
        fprintf(stderr, "shopstream produce: %s\n", err.msg);
        return -1;
    }
    o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (o->fd < 0) {
        fprintf(stderr, "shopstream produce: cannot open \"%s\" for writing: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int out_flush(struct out *o) {
    if (ss_write_all(o->fd, o->buf, o->n) != 0) {
        fprintf(stderr, "shopstream produce: writing \"%s\": %s\n", o->path, strerror(errno));
        return -1;
    }
    o->n = 0;
    return 0;
}

static inline int out_line(struct out *o, const char *p, size_t n) {
    if (o->n + n + 1 > OUT_BUF && out_flush(o) != 0) return -1;
    memcpy(o->buf + o->n, p, n);
    o->n += n;
    o->buf[o->n++] = '\n';
    return 0;
}

static int out_close(struct out *o) {
    int rc = 0;
    if (o->buf) rc = out_flush(o);
    if (o->fd > STDOUT_FILENO && close(o->fd) != 0 && rc == 0) {
        fprintf(stderr, "shopstream produce: closing \"%s\": %s\n", o->path, strerror(errno));
        rc = -1;
    }
    ss_free(o->buf);
    ss_free(o->path);
    o->buf = NULL;
    o->path = NULL;
    o->fd = -1;
    return rc;
}

static double mono_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_s(double s) {
    struct timespec t = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

enum {
    O_SEED = 256, O_EVENTS, O_RATE, O_DURATION, O_START, O_USERS, O_PRODUCTS, O_CATEGORIES, O_PROMOTIONS,
    O_ORDERS_SHARE, O_DUPLICATES, O_LATE, O_REORDER, O_INVALID, O_FORMAT, O_STREAM, O_OUT, O_OUT_DIR,
    O_BROKERS, O_TOPIC, O_CLICKS_TOPIC, O_PROMOTIONS_TOPIC, O_ORDERS_TOPIC, O_CSV, O_BATCH_BYTES, O_LINGER_MS,
    O_COMPRESSION,
};

int ss_cmd_produce(int argc, char **argv) {
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, O_SEED},
        {"events", required_argument, NULL, O_EVENTS},
        {"rate", required_argument, NULL, O_RATE},
        {"duration", required_argument, NULL, O_DURATION},
        {"start", required_argument, NULL, O_START},
        {"users", required_argument, NULL, O_USERS},
        {"products", required_argument, NULL, O_PRODUCTS},
        {"categories", required_argument, NULL, O_CATEGORIES},
        {"promotions", required_argument, NULL, O_PROMOTIONS},
        {"orders-share", required_argument, NULL, O_ORDERS_SHARE},
        {"duplicates", required_argument, NULL, O_DUPLICATES},
        {"late", required_argument, NULL, O_LATE},
        {"reorder", required_argument, NULL, O_REORDER},
        {"invalid", required_argument, NULL, O_INVALID},
        {"format", required_argument, NULL, O_FORMAT},
        {"stream", required_argument, NULL, O_STREAM},
        {"out", required_argument, NULL, O_OUT},
        {"out-dir", required_argument, NULL, O_OUT_DIR},
        {"brokers", required_argument, NULL, O_BROKERS},
        {"topic", required_argument, NULL, O_TOPIC},
        {"clicks-topic", required_argument, NULL, O_CLICKS_TOPIC},
        {"promotions-topic", required_argument, NULL, O_PROMOTIONS_TOPIC},
        {"orders-topic", required_argument, NULL, O_ORDERS_TOPIC},
        {"csv", required_argument, NULL, O_CSV},
        {"batch-bytes", required_argument, NULL, O_BATCH_BYTES},
        {"linger-ms", required_argument, NULL, O_LINGER_MS},
        {"compression", required_argument, NULL, O_COMPRESSION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ss_gen_opts go;
    ss_gen_opts_init(&go);
    int have_events = 0, have_reorder = 0, fmt = -1, stream = -1;
    double duration = 0;
    const char *out_path = NULL, *out_dir = NULL, *topic = NULL;
    const char *kafka_only = NULL; /* a producer option given, which needs --brokers */
    const char *stream_topics[SS_STREAM_COUNT] = {NULL, NULL, NULL};
    struct ss_produce_kafka_args ka = {0};
    ss_kafka_produce_opts_init(&ka.kopts);
    char *props[64];
    int nprops = 0;

    optind = 0; /* reset getopt: main may have parsed before, and tests call us repeatedly */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":hX:", longopts, NULL)) != -1) {
        const char *a = optarg;
        switch (c) {
        case O_SEED:
            if (parse_u64(a, &go.seed)) return bad("--seed", "expected a non-negative integer", a);
            break;
        case O_EVENTS:
            if (parse_i64(a, 0, INT64_MAX, &go.events)) return bad("--events", "expected a non-negative integer", a);
            have_events = 1;
            break;
        case O_RATE:
            if (parse_double(a, 1e-6, 1e6, &go.rate) || go.rate <= 0)
                return bad("--rate", "expected records per second in (0, 1000000]", a);
            break;
        case O_DURATION:
            if (parse_seconds(a, &duration)) return bad("--duration", "expected seconds > 0 (or 30s, 15m, 2h)", a);
            break;
        case O_START:
            if (ss_ts_parse(a, strlen(a), &go.start_ms))
                return bad("--start", "expected ISO-8601 with a zone (2026-11-27T00:00:00Z) or epoch ms", a);
            break;
        case O_USERS:
            if (parse_i64(a, 1, 100000000, &go.users)) return bad("--users", "expected an integer in 1..100000000", a);
            break;
        case O_PRODUCTS:
            if (parse_i64(a, 1, 10000000, &go.products))
                return bad("--products", "expected an integer in 1..10000000", a);
            break;
        case O_CATEGORIES: {
            int64_t v;
            if (parse_i64(a, 1, 12, &v)) return bad("--categories", "expected an integer in 1..12", a);
            go.categories = (int)v;
            break;
        }
        case O_PROMOTIONS:
            if (parse_i64(a, 0, 100000000, &go.promotions))
                return bad("--promotions", "expected an integer in 0..100000000", a);
            break;
        case O_ORDERS_SHARE:
            if (parse_double(a, 0, 1, &go.orders_share)) return bad("--orders-share", "expected a fraction in [0,1]", a);
            break;
        case O_DUPLICATES:
            if (parse_double(a, 0, 1, &go.p_duplicate)) return bad("--duplicates", "expected a fraction in [0,1]", a);
            break;
        case O_LATE:
            if (parse_double(a, 0, 1, &go.p_late)) return bad("--late", "expected a fraction in [0,1]", a);
            break;
        case O_REORDER:
            if (parse_double(a, 0, 1, &go.p_reorder)) return bad("--reorder", "expected a fraction in [0,1]", a);
            have_reorder = 1;
            break;
        case O_INVALID:
            if (parse_double(a, 0, 1, &go.p_invalid)) return bad("--invalid", "expected a fraction in [0,1]", a);
            break;
        case O_FORMAT:
            if (parse_format(a, &fmt)) return bad("--format", "expected json or csv", a);
            break;
        case O_STREAM: {
            enum ss_stream s;
            if (ss_stream_parse(a, &s)) return bad("--stream", "expected clicks, promotions or orders", a);
            stream = (int)s;
            break;
        }
        case O_OUT: out_path = a; break;
        case O_OUT_DIR: out_dir = a; break;
        case O_BROKERS: ka.kopts.brokers = a; break;
        case O_TOPIC: topic = a; break;
        case O_CLICKS_TOPIC: stream_topics[SS_STREAM_CLICKS] = a; kafka_only = "--clicks-topic"; break;
        case O_PROMOTIONS_TOPIC: stream_topics[SS_STREAM_PROMOTIONS] = a; kafka_only = "--promotions-topic"; break;
        case O_ORDERS_TOPIC: stream_topics[SS_STREAM_ORDERS] = a; kafka_only = "--orders-topic"; break;
        case O_CSV: ka.csv_path = a; break;
        case O_BATCH_BYTES:
            if (parse_i64(a, 1, 1 << 30, &ka.kopts.batch_bytes)) return bad("--batch-bytes", "expected bytes > 0", a);
            kafka_only = "--batch-bytes";
            break;
        case O_LINGER_MS:
            if (parse_i64(a, 0, 900000, &ka.kopts.linger_ms)) return bad("--linger-ms", "expected 0..900000", a);
            kafka_only = "--linger-ms";
            break;
        case O_COMPRESSION:
            if (strcmp(a, "none") && strcmp(a, "gzip") && strcmp(a, "snappy") && strcmp(a, "lz4") && strcmp(a, "zstd"))
                return bad("--compression", "expected none, gzip, snappy, lz4 or zstd", a);
            ka.kopts.compression = a;
            kafka_only = "--compression";
            break;
        case 'X':
            if (!strchr(a, '=') || nprops == 64) return bad("-X", "expected KEY=VALUE", a);
            props[nprops++] = (char *)a;
            kafka_only = "-X";
            break;
        case 'h': usage(stdout); return SS_EXIT_OK;
        case ':':
            fprintf(stderr, "shopstream produce: %s needs a value (see --help)\n", argv[optind - 1]);
            return SS_EXIT_USAGE;
        default:
            fprintf(stderr, "shopstream produce: unknown option \"%s\" (see --help)\n", argv[optind - 1]);
            return SS_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "shopstream produce: unexpected argument \"%s\" (see --help)\n", argv[optind]);
        return SS_EXIT_USAGE;
    }
    if (have_events && duration > 0) {
        fprintf(stderr, "shopstream produce: --events and --duration cannot be combined: --events writes as fast "
                        "as possible, --rate R --duration S writes R*S records paced in real time\n");
        return SS_EXIT_USAGE;
    }
    if (out_dir && (out_path || stream >= 0)) {
        fprintf(stderr, "shopstream produce: --out-dir writes all streams; it cannot be combined with --out or --stream\n");
        return SS_EXIT_USAGE;
    }
    int paced = duration > 0;
    if (paced) {
        double n = floor(go.rate * duration);
        if (n > 9e18) return bad("--duration", "rate x duration is too many records", "");
        go.events = (int64_t)n;
    }
    /* --reorder defaults to half of --late, but only within the room the other shares
     * leave: --late 1 asks for every record late, and must not fail over a --reorder
     * the user never gave */
    if (!have_reorder) {
        double room = 1.0 - 2 * go.p_duplicate - go.p_late - go.p_invalid;
        go.p_reorder = go.p_late / 2 < room ? go.p_late / 2 : room > 0 ? room : 0;
    }
    if (2 * go.p_duplicate + go.p_late + go.p_reorder + go.p_invalid > 1.0 + 1e-12) {
        fprintf(stderr, "shopstream produce: --duplicates x 2 + --late%s + --invalid add up to more than 1\n",
                have_reorder ? " + --reorder" : "");
        return SS_EXIT_USAGE;
    }
    if (go.p_duplicate >= 1) return bad("--duplicates", "expected a fraction below 1", "1");

    if (ka.csv_path && !ka.kopts.brokers) {
        fprintf(stderr, "shopstream produce: --csv replays a file to Kafka: give --brokers too\n");
        return SS_EXIT_USAGE;
    }
    if (topic && !ka.kopts.brokers) return bad("--topic", "is a Kafka topic: give --brokers too", topic);
    if (kafka_only && !ka.kopts.brokers) {
        fprintf(stderr, "shopstream produce: %s is a Kafka producer option: give --brokers too\n", kafka_only);
        return SS_EXIT_USAGE;
    }
    /* a stop ends the output on a whole record, flushed (a file cut mid-line would give
     * the engine a malformed record), and with Kafka delivers what is queued; a second
     * signal ends the process at once */
    ss_shutdown_catch_signals(NULL);
    if (ka.kopts.brokers) {
        if (out_dir || out_path) {
            fprintf(stderr, "shopstream produce: --brokers sends to Kafka; it cannot be combined with --out or --out-dir\n");
            return SS_EXIT_USAGE;
        }
        ka.kopts.props = props;
        ka.kopts.nprops = nprops;
        ka.kopts.progress = stderr;
        if (paced) ka.kopts.rate = go.rate;
        if (ka.csv_path) {
            ka.kopts.topic = topic ? topic : "orders";
            return ss_produce_kafka_csv(&ka);
        }
        if (topic && stream < 0)
            return bad("--topic", "names the topic of --stream S; without --stream all three streams are produced, "
                                  "to --clicks-topic, --promotions-topic and --orders-topic", topic);
        /* Kafka messages are self-contained: JSON for every stream (a CSV row needs its header) */
        for (int s = 0; s < SS_STREAM_COUNT; s++) go.format[s] = SS_FMT_JSON;
        if (stream >= 0) {
            go.streams = 1u << stream;
            if (go.promotions < 0 && stream == SS_STREAM_PROMOTIONS) go.promotions = go.events;
            ka.kopts.topic = topic ? topic : ss_stream_name((enum ss_stream)stream);
        } else {
            ka.kopts.topic = "clicks";
            for (int s = 0; s < SS_STREAM_COUNT; s++)
                ka.kopts.topics[s] = stream_topics[s] ? stream_topics[s] : ss_stream_name((enum ss_stream)s);
        }
        struct ss_err kerr = {0};
        struct ss_gen *kg = NULL;
        if (ss_gen_new(&kg, &go, &kerr) != SS_OK) {
            fprintf(stderr, "shopstream produce: %s\n", kerr.msg);
            return kerr.code == SS_EUSAGE ? SS_EXIT_USAGE : SS_EXIT_FAIL;
        }
        int krc = ss_produce_kafka_gen(kg, &ka);
        ss_gen_free(kg);
        return krc;
    }

    struct out outs[SS_STREAM_COUNT];
    for (int s = 0; s < SS_STREAM_COUNT; s++) outs[s] = (struct out){.fd = -1};
    if (out_dir) {
        if (fmt == SS_FMT_JSON) go.format[SS_STREAM_ORDERS] = SS_FMT_JSON;
        if (fmt == SS_FMT_CSV) go.format[SS_STREAM_CLICKS] = SS_FMT_CSV;
    } else {
        if (stream < 0) stream = SS_STREAM_CLICKS;
        go.streams = 1u << stream;
        if (fmt >= 0) go.format[stream] = fmt;
        if (go.promotions < 0 && stream == SS_STREAM_PROMOTIONS) go.promotions = go.events;
    }

    struct ss_err err = {0};
    struct ss_gen *g = NULL;
    if (ss_gen_new(&g, &go, &err) != SS_OK) {
        fprintf(stderr, "shopstream produce: %s\n", err.msg);
        return err.code == SS_EUSAGE ? SS_EXIT_USAGE : SS_EXIT_FAIL;
    }

    int rc = SS_EXIT_OK;
    if (out_dir) {
        struct ss_err derr = {0};
        if (ss_mkdirs(out_dir, &derr) != SS_OK) {
            fprintf(stderr, "shopstream produce: %s\n", derr.msg);
            rc = derr.code == SS_EUSAGE ? SS_EXIT_USAGE : SS_EXIT_FAIL;
            goto done;
        }
        for (int s = 0; s < SS_STREAM_COUNT; s++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.%s", out_dir, ss_stream_name((enum ss_stream)s),
                     go.format[s] == SS_FMT_CSV ? "csv" : "jsonl");
            if (out_open(&outs[s], path) != 0) {
                rc = SS_EXIT_FAIL;
                goto done;
            }
        }
    } else if (out_open(&outs[stream], out_path ? out_path : "-") != 0) {
        rc = SS_EXIT_FAIL;
        goto done;
    }
    for (int s = 0; s < SS_STREAM_COUNT; s++) {
        const char *h = outs[s].buf ? ss_gen_header(g, (enum ss_stream)s, go.format[s]) : NULL;
        if (h && out_line(&outs[s], h, strlen(h)) != 0) {
            rc = SS_EXIT_FAIL;
            goto done;
        }
    }

    double t0 = mono_s(), next_progress = t0 + 1, last_t = t0;
    int64_t sent = 0, last_sent = 0;
    struct ss_gen_record rec;
    /* a stop (SIGINT, SIGTERM) ends the output after a whole record */
    while (!ss_shutdown_requested() && ss_gen_next(g, &rec) == SS_OK) {
        if (out_line(&outs[rec.stream], rec.data, rec.len) != 0) {
            rc = SS_EXIT_FAIL;
            goto done;
        }
        sent++;
        if (paced || (sent & 0xffff) == 0) {
            double now = mono_s();
            if (paced) {
                double due = t0 + (double)sent / go.rate;
                if (due > now + 0.002) { /* ahead of the pace: hand out what we have, then wait */
                    for (int s = 0; s < SS_STREAM_COUNT; s++)
                        if (outs[s].buf && out_flush(&outs[s]) != 0) {
                            rc = SS_EXIT_FAIL;
                            goto done;
                        }
                    sleep_s(due - now);
                    now = mono_s();
                }
            }
            if (now >= next_progress) {
                ss_info("produce", "msg=\"progress\" sent=%lld of=%lld rate=%.0f", (long long)sent,
                        (long long)go.events, (double)(sent - last_sent) / (now - last_t));
                last_sent = sent;
                last_t = now;
                next_progress = now + 1;
            }
        }
    }
    for (int s = 0; s < SS_STREAM_COUNT; s++)
        if (outs[s].buf && out_close(&outs[s]) != 0) rc = SS_EXIT_FAIL;
    if (rc == SS_EXIT_OK) {
        struct ss_gen_stats st;
        ss_gen_stats(g, &st);
        double secs = mono_s() - t0;
        ss_info("produce",
                "msg=\"%s\" events=%lld clicks=%lld promotions=%lld orders=%lld duplicates=%lld late=%lld "
                "reordered=%lld invalid=%lld sessions=%lld high_value=%lld seconds=%.3f rate=%.0f",
                ss_shutdown_requested() ? "stopped" : "done", (long long)st.records, (long long)st.streams[SS_STREAM_CLICKS],
                (long long)st.streams[SS_STREAM_PROMOTIONS], (long long)st.streams[SS_STREAM_ORDERS],
                (long long)st.defects[SS_GEN_DUPLICATE], (long long)st.defects[SS_GEN_LATE],
                (long long)st.defects[SS_GEN_REORDERED], (long long)st.defects[SS_GEN_INVALID],
                (long long)st.sessions, (long long)st.high_value, secs, secs > 0 ? (double)st.records / secs : 0.0);
    }
done:
    for (int s = 0; s < SS_STREAM_COUNT; s++)
        if (outs[s].buf) {
            outs[s].n = 0; /* after a failure: release, do not retry the write */
            out_close(&outs[s]);
        }
    ss_gen_free(g);
    return rc;
}
