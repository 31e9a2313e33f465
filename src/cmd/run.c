/* run.c — `shopstream run`: configuration (defaults < YAML < environment < flags),
 * inputs and sinks into an engine, signals to a graceful stop, exit codes. */
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/shutdown.h"
#include "../engine/engine.h"
#include "../sink/overlap.h"
#include "../sink/sink.h"
#include "../source/source.h"
#include "cmd.h"

extern char **environ;

/* The one engine a signal may stop; a signal handler can reach nothing else. A lock-free
 * atomic: a handler may read no other object (C11 7.14.1.1), not a volatile pointer. */
static struct ss_engine *_Atomic running_engine;

static void stop_engine(void) {
    struct ss_engine *e = running_engine;
    if (e) ss_engine_stop(e);
}

static void run_usage(FILE *f) {
    fprintf(f,
            "usage: shopstream run [-c FILE.yml] [--input STREAM=PATH]... [--sink URL]... [options]\n"
            "\n"
            "Runs the pipeline. Files (and stdin, \"-\") are bounded: they are read one after another in the\n"
            "order given; when all are done every window and session closes, outputs are flushed, exit 0.\n"
            "\n"
            "  -c, --config FILE     YAML configuration (keys below; inputs: and sinks: take lists;\n"
            "                        a value may name ${ENV_VAR} or ${ENV_VAR:-default}, $$ is one $)\n"
            "  -i, --input S=PATH    an input: S is clicks, promotions or orders; PATH a file (plain,\n"
            "                        gzip or zstd), a directory or a quoted glob ('data/*.jsonl.gz': its\n"
            "                        files in name order), - (stdin) or kafka://HOST:PORT/TOPIC.\n"
            "                        Repeatable (up to 64); replaces the config's inputs\n"
            "  -o, --sink URL        jsonl:DIR, console:, sqlite:PATH, postgresql://..., redis://...,\n"
            "                        parquet:DIR, kafka://HOST:PORT, metrics:HOST:PORT (the dashboard /,\n"
            "                        Prometheus /metrics, /healthz, /readyz, /api/*; README: Operations).\n"
            "                        Repeatable; replaces the config's sinks.\n"
            "                        Default: sqlite:data/shopstream.db plus console:\n"
            "      --format F        input format: auto (.csv is CSV), json, csv\n"
            "  -s, --set KEY=VALUE   set any configuration key (also SHOPSTREAM_KEY=VALUE in the environment)\n"
            "  -X PROP=VALUE         a librdkafka property (same as --set kafka.PROP=VALUE)\n"
            "      --exit-at-end     Kafka inputs: stop at the end offsets seen at start\n"
            "      --help-config     print every configuration key with its default\n"
            "      --print-config    check the configuration (file, SHOPSTREAM_*, flags), print the\n"
            "                        effective one as YAML (-c reads it back) and exit without running\n"
            "  -h, --help            this help\n"
            "\n"
            "Exit status: 0 done, 1 runtime failure, 2 bad usage or configuration.\n");
}

/* The metrics sink that http.listen asks for (metrics:<http.listen>), added to e, or
 * only checked when e is NULL; nothing when the key is empty. Its errors name the key
 * the user set, not a URL they never wrote. */
static int http_listen_sink(struct ss_engine *e, const struct ss_config *cfg, struct ss_err *err) {
    if (!cfg->http_listen || !*cfg->http_listen) return SS_OK;
    size_t n = strlen(cfg->http_listen);
    char *url = ss_malloc(sizeof "metrics:" + n);
    memcpy(url, "metrics:", sizeof "metrics:" - 1);
    memcpy(url + sizeof "metrics:" - 1, cfg->http_listen, n + 1);
    int rc = e ? ss_engine_add_sink(e, url, err) : ss_sink_check_url(url, cfg, err);
    ss_free(url);
    if (rc) ss_err_wrap(err, "http.listen \"%s\"", cfg->http_listen);
    return rc;
}

/* What --print-config checks beyond each key's own value, without opening anything:
 * the inputs' and the sinks' syntax and options (http.listen's too), and the rules
 * between keys (the operators check those when they are built, which opens no input
 * or sink). */
/* -X and kafka.* reach librdkafka through a Kafka input or sink only: without one they did
 * nothing and said nothing, a misspelt property (which librdkafka refuses) included. The
 * property is named, its value not (it may be a password). */
static void warn_unused_kafka_props(const struct ss_config *cfg) {
    if (!cfg->nkafka_props || ss_config_reads_kafka(cfg) || ss_config_writes_kafka(cfg)) return;
    const char *kv = cfg->kafka_props[0], *eq = strchr(kv, '=');
    ss_warn("run",
            "msg=\"Kafka properties given (-X, kafka.*), but no input or sink is Kafka: they are not used\" "
            "properties=%d first=\"%.*s\"",
            cfg->nkafka_props, eq ? (int)(eq - kv) : (int)strlen(kv), kv);
}

static int check_config(const struct ss_config *cfg, struct ss_err *err) {
    if (ss_overlap_check(cfg, err) != SS_OK) return err->code;
    for (int i = 0; i < cfg->ninputs; i++) {
        struct ss_input_spec spec;
        if (ss_input_spec_parse(&spec, cfg->inputs[i], cfg->format, err) != SS_OK) return err->code;
        const struct ss_source_type *type = ss_source_type_of(&spec);
        int rc = ss_engine_check_input(cfg, type, spec.url, err);
        if (!rc && type->check) rc = type->check(&spec, cfg, err);
        ss_input_spec_free(&spec);
        if (rc) return rc;
    }
    struct ss_engine *e = NULL;
    int rc = ss_engine_open(&e, cfg, err);
    ss_engine_close(e);
    for (int i = 0; rc == SS_OK && i < cfg->nsinks; i++) rc = ss_sink_check_url(cfg->sinks[i], cfg, err);
    if (rc == SS_OK) rc = http_listen_sink(NULL, cfg, err);
    return rc;
}

int ss_cmd_run(int argc, char **argv) {
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'}, {"input", required_argument, 0, 'i'},
        {"sink", required_argument, 0, 'o'},   {"format", required_argument, 0, 'F'},
        {"set", required_argument, 0, 's'},    {"exit-at-end", no_argument, 0, 'E'},
        {"help-config", no_argument, 0, 'H'},  {"help", no_argument, 0, 'h'},
        {"help-config-markdown", no_argument, 0, 'M'}, {"print-config", no_argument, 0, 'P'},
        {0, 0, 0, 0},
    };
    const char *shortopts = "c:i:o:s:X:h";
    struct ss_config cfg;
    struct ss_err err = {0};
    struct ss_engine *e = NULL;
    int exit_code = SS_EXIT_USAGE;
    ss_config_init(&cfg);

    /* pass 1: the config file, so that flags override it whatever their order */
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        if (c == 'h') {
            run_usage(stdout);
            exit_code = SS_EXIT_OK;
            goto out;
        }
        if (c == 'H' || c == 'M') {
            ss_config_print_reference(stdout, c == 'M');
            exit_code = SS_EXIT_OK;
            goto out;
        }
        if (c == 'c' && ss_config_load_yaml(&cfg, optarg, &err) != SS_OK) goto fail;
    }
    if (ss_config_load_env(&cfg, environ, ss_sink_url_begins, &err) != SS_OK) goto fail;

    /* pass 2: every other flag, in order */
    bool cli_inputs = false, cli_sinks = false, print_config = false;
    opterr = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        int rc = SS_OK;
        switch (c) {
        case 'c':
        case 'H':
        case 'M': break;
        case 'P': print_config = true; break;
        case 'i':
            if (!cli_inputs) {
                ss_config_clear(&cfg, "inputs");
                cli_inputs = true;
            }
            rc = ss_config_set(&cfg, "inputs", optarg, &err);
            break;
        case 'o':
            if (!cli_sinks) {
                ss_config_clear(&cfg, "sinks");
                cli_sinks = true;
            }
            rc = ss_config_set(&cfg, "sinks", optarg, &err);
            break;
        case 'F': rc = ss_config_set(&cfg, "format", optarg, &err); break;
        case 's': rc = ss_config_set_kv(&cfg, optarg, &err); break;
        case 'X': {
            char key[512];
            if (!strchr(optarg, '=') || *optarg == '=') {
                rc = ss_err_set(&err, SS_EUSAGE, "-X expects PROP=VALUE (a librdkafka property), got \"%s\"", optarg);
                break;
            }
            snprintf(key, sizeof key, "kafka.%s", optarg);
            rc = ss_config_set_kv(&cfg, key, &err);
            break;
        }
        case 'E': cfg.exit_at_end = true; break;
        default:
            fprintf(stderr, "shopstream run: see `shopstream run --help`\n");
            goto out;
        }
        if (rc) goto fail;
    }
    if (optind < argc) {
        ss_err_set(&err, SS_EUSAGE, "unexpected argument \"%s\"", argv[optind]);
        goto fail;
    }
    ss_log_set_level_named(cfg.log_level);
    ss_config_warn_env(environ);
    warn_unused_kafka_props(&cfg);
    if (print_config) {
        if (check_config(&cfg, &err) != SS_OK) goto fail;
        ss_config_print(stdout, &cfg);
        exit_code = SS_EXIT_OK;
        goto out;
    }
    if (cfg.ninputs == 0) {
        ss_err_set(&err, SS_EUSAGE, "no input: give --input STREAM=PATH (or inputs: in the config file)");
        goto fail;
    }

    if (cfg.nsinks == 0) {
        /* the embedded default: an SQLite database anyone can query, plus progress */
        if (ss_config_set(&cfg, "sinks", "sqlite:data/shopstream.db", &err) != SS_OK ||
            ss_config_set(&cfg, "sinks", "console:", &err) != SS_OK)
            goto fail;
    }
    if (ss_overlap_check(&cfg, &err) != SS_OK) goto fail;
    /* from here on a signal stops gracefully, also while start-up still waits for a
     * sink or for Kafka brokers (their timeouts can be minutes); a second one at once */
    ss_shutdown_catch_signals(stop_engine);
    if (ss_engine_open(&e, &cfg, &err) != SS_OK) goto fail;
    running_engine = e;
    if (ss_shutdown_requested()) ss_engine_stop(e);
    for (int i = 0; i < cfg.ninputs; i++)
        if (ss_engine_add_input(e, cfg.inputs[i], &err) != SS_OK) goto fail;
    for (int i = 0; i < cfg.nsinks; i++)
        if (ss_engine_add_sink(e, cfg.sinks[i], &err) != SS_OK) goto fail;
    if (http_listen_sink(e, &cfg, &err) != SS_OK) goto fail;

    int rc = ss_engine_run(e, &err);
    if (rc != SS_OK) goto fail;
    const struct ss_run_stats *st = ss_engine_stats(e);
    /* a stop keeps what is open: the next run over the same Kafka group resumes after
     * the committed positions, and those windows and sessions go on from the savepoint,
     * or without one start again from there */
    bool stopped = ss_engine_stopped(e);
    bool kept = cfg.savepoint_path && *cfg.savepoint_path;
    ss_info("run", "msg=\"%s\" records=%lld valid=%lld invalid=%lld late=%lld duplicates=%lld%s%s",
            stopped ? "stopped" : "done", (long long)st->records, (long long)st->valid, (long long)st->invalid,
            (long long)st->late, (long long)st->duplicates,
            stopped ? " committed=\"every output so far and the input positions they cover\"" : "",
            !stopped ? "" : kept ? " savepoint=\"windows and sessions still open, for the next run\""
                                 : " not_emitted=\"windows and sessions still open\"");
    exit_code = SS_EXIT_OK;
    goto out;
fail:
    if (err.code == SS_ESTOPPED) {
        /* asked to stop before any input was read: nothing to keep, a clean exit */
        ss_info("run", "msg=\"stopped during start-up\" records=0 why=\"%s\"", err.msg);
        exit_code = SS_EXIT_OK;
        goto out;
    }
    fprintf(stderr, "shopstream run: %s\n", err.msg);
    exit_code = err.code == SS_EUSAGE ? SS_EXIT_USAGE : SS_EXIT_FAIL;
out:
    running_engine = NULL;
    ss_engine_close(e);
    ss_config_free(&cfg);
    return exit_code;
}
