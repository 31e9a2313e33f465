/* config.h — every setting of the engine, declared once in a table (config.c) that
 * also drives YAML loading, `--set key=value`, SHOPSTREAM_* environment variables,
 * validation and the generated reference (`shopstream run --help-config`).
 *
 * Precedence: built-in defaults < YAML file (-c) < environment < --set / flags.
 * Durations accept "500ms", "30s", "15m", "2h", "1d" or plain milliseconds; money
 * accepts an exact decimal ("1000.00"); ratios a decimal in [0, 1]. */
#ifndef SS_CONFIG_H
#define SS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "event.h"

/* Canonical input fields; their input names are configurable per stream. */
enum ss_field {
    SS_F_EVENT_ID,
    SS_F_EVENT_TYPE,
    SS_F_USER_ID,
    SS_F_SESSION_ID,
    SS_F_PRODUCT_ID,
    SS_F_CATEGORY,
    SS_F_PRICE,
    SS_F_QUANTITY,
    SS_F_ORDER_ID,
    SS_F_TS,
    SS_F_PROMO_ID,
    SS_F_DISCOUNT_PCT,
    SS_F_STARTS_AT,
    SS_F_ENDS_AT,
    SS_F_COUNT
};
const char *ss_field_name(enum ss_field f); /* canonical name: "user_id" */

struct ss_config {
    /* time */
    int64_t lateness_ms;          /* watermark = min(max_ts) - lateness */
    int64_t idle_timeout_ms;      /* a partition without events this long stops holding W back */
    int64_t epoch_interval_ms;    /* flush / commit cadence */
    int64_t epoch_events;         /* ... or after this many events */
    /* windows */
    int64_t category_revenue_ms;
    int64_t hourly_sales_ms;
    int64_t trending_size_ms;
    int64_t trending_slide_ms;
    int64_t trending_top;
    int64_t funnel_ms;
    int64_t session_gap_ms;
    int64_t join_grace_ms;
    /* alerts */
    int64_t high_value_threshold; /* money, ten-thousandths */
    int64_t velocity_count;
    int64_t velocity_range_ms;
    int64_t quality_alert_threshold; /* ratio, ten-thousandths */
    int64_t quality_alert_minutes;
    /* recently viewed */
    int64_t recent_size;
    int64_t recent_ttl_ms;
    int64_t max_record_bytes;     /* a file or stdin line longer than this is cut: a dead letter */
    /* inputs and outputs */
    char *format;                 /* default input format: "auto", "json", "csv" */
    char *field_names[SS_STREAM_COUNT][SS_F_COUNT];
    char **inputs;                /* "STREAM=PATH-or-URL" */
    int ninputs;
    char **sinks;                 /* sink URLs */
    int nsinks;
    int64_t console_interval_ms;
    int64_t sink_connect_timeout_ms; /* how long start-up retries a sink that is down */
    bool exit_at_end;
    /* kafka: librdkafka properties passed through verbatim ("key=value") */
    char **kafka_props;
    int nkafka_props;
    char *kafka_group;
    int64_t kafka_connect_timeout_ms; /* how long start-up waits for unreachable brokers */
    /* savepoints */
    char *savepoint_path;         /* "" disables */
    int64_t savepoint_interval_ms;
    bool savepoint_fork;          /* periodic savepoints by a forked child (engine/bgsave.h) */
    /* operations */
    char *http_listen;            /* "127.0.0.1:9464", "" disables */
    char *log_level;
};

void ss_config_init(struct ss_config *cfg);     /* built-in defaults */
void ss_config_free(struct ss_config *cfg);

/* Sets one key from text; SS_EUSAGE with a message naming the key on an unknown key
 * or a bad value. `kafka.<property>` keys go to kafka_props verbatim. */
int ss_config_set(struct ss_config *cfg, const char *key, const char *value, struct ss_err *err);
/* Empties a list key (inputs, sinks) so that command-line items replace the file's. */
void ss_config_clear(struct ss_config *cfg, const char *key);
/* "key=value" form of ss_config_set (for --set). */
int ss_config_set_kv(struct ss_config *cfg, const char *kv, struct ss_err *err);
/* Loads a YAML file: nested mappings become dotted keys; `inputs:` and `sinks:`
 * take lists. Errors name file:line and the key. */
int ss_config_load_yaml(struct ss_config *cfg, const char *path, struct ss_err *err);
/* Applies SHOPSTREAM_<KEY> variables (dots and dashes as underscores, upper case). A list
 * (inputs, sinks) is comma-separated, but a comma inside an item stays in it: inputs are cut
 * only before STREAM=, sinks only where sink_begins(text after the comma) says a sink URL
 * begins (NULL: at every comma). */
int ss_config_load_env(struct ss_config *cfg, char **envp, bool (*sink_begins)(const char *s),
                       struct ss_err *err);
/* Logs a warning for each SHOPSTREAM_ variable that looks meant for shopstream but is not
 * read: a near miss of a key's name (SHOPSTREAM_SINK), or a librdkafka property
 * (SHOPSTREAM_KAFKA_SASL_PASSWORD). Other SHOPSTREAM_ names are left alone: wrappers use
 * the prefix too. */
void ss_config_warn_env(char **envp);
/* Whether some input is a Kafka topic: a run that resumes at committed offsets rather
 * than one complete in itself. NULL: false. */
bool ss_config_reads_kafka(const struct ss_config *cfg);
/* Whether any of cfg->sinks is a Kafka sink. */
bool ss_config_writes_kafka(const struct ss_config *cfg);
/* Prints the reference of every key: name, default, meaning. */
void ss_config_print_reference(FILE *f, bool markdown);
/* Prints the effective configuration as YAML that -c reads back: every key, flat
 * dotted names, durations in the largest exact unit. Secrets are masked: passwords
 * in URLs as ***, and kafka.* properties named *password* or *secret* as comments. */
void ss_config_print(FILE *f, const struct ss_config *cfg);

#endif
