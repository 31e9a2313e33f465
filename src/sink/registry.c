/* registry.c — the sinks shopstream knows, by URL scheme. Adding a sink is one line. */
#include <string.h>

#include "../server/metrics_sink.h"
#include "kafka_sink.h"
#include "parquet/parquet.h"
#include "redis_sink.h"
#include "sink.h"
#include "sql_sinks.h"

static const struct ss_sink_type *const sink_types[] = {
    &ss_sink_jsonl,
    &ss_sink_console,
    &ss_sink_sqlite,
    &ss_sink_postgres,
    &ss_sink_postgres_alias,
    &ss_sink_redis,
    &ss_sink_parquet,
    &ss_sink_kafka,
    &ss_sink_metrics,
};

/* The sink type of url (its scheme), or NULL with err set (SS_EUSAGE). */
static const struct ss_sink_type *type_of(const char *url, struct ss_err *err) {
    for (size_t i = 0; i < sizeof sink_types / sizeof sink_types[0]; i++) {
        const char *scheme = sink_types[i]->scheme;
        if (strncmp(url, scheme, strlen(scheme)) == 0) return sink_types[i];
    }
    ss_err_set(err, SS_EUSAGE,
               "unknown sink \"%s\" (known: jsonl:DIR, console:, sqlite:PATH, postgresql://USER@HOST:PORT/DB, "
               "redis://HOST:PORT, parquet:DIR, kafka://HOST:PORT, metrics:HOST:PORT)",
               url);
    return NULL;
}

bool ss_sink_url_begins(const char *s) { return type_of(s, NULL) != NULL; }

int ss_sink_open_url(struct ss_sink **out, const char *url, const struct ss_config *cfg, struct ss_err *err) {
    const struct ss_sink_type *type = type_of(url, err);
    if (!type) return SS_EUSAGE;
    int rc = type->open(out, url, cfg, err);
    if (rc) ss_err_wrap(err, "sink %s", url);
    return rc;
}

int ss_sink_check_url(const char *url, const struct ss_config *cfg, struct ss_err *err) {
    const struct ss_sink_type *type = type_of(url, err);
    if (!type) return SS_EUSAGE;
    if (!type->check) return SS_OK;
    int rc = type->check(url, cfg, err);
    if (rc) ss_err_wrap(err, "sink %s", url);
    return rc;
}
