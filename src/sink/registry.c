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

/* The type serving url (by scheme), or SS_EUSAGE listing the known ones. */
static int type_of(const char *url, const struct ss_sink_type **type, struct ss_err *err) {
    for (size_t i = 0; i < sizeof sink_types / sizeof sink_types[0]; i++) {
        const char *scheme = sink_types[i]->scheme;
        if (strncmp(url, scheme, strlen(scheme)) == 0) {
            *type = sink_types[i];
            return SS_OK;
        }
    }
    return ss_err_set(err, SS_EUSAGE,
                      "unknown sink \"%s\" (known: jsonl:DIR, console:, sqlite:PATH, postgresql://USER@HOST:PORT/DB, "
                      "redis://HOST:PORT, parquet:DIR, kafka://HOST:PORT, metrics:HOST:PORT)",
                      url);
}

bool ss_sink_url_begins(const char *s) {
    const struct ss_sink_type *type;
    return type_of(s, &type, NULL) == SS_OK;
}

int ss_sink_open_url(struct ss_sink **out, const char *url, const struct ss_config *cfg, struct ss_err *err) {
    const struct ss_sink_type *type = NULL;
    int rc = type_of(url, &type, err);
    if (rc) return rc;
    rc = type->open(out, url, cfg, err);
    if (rc) ss_err_wrap(err, "sink %s", url);
    return rc;
}

int ss_sink_check_url(const char *url, const struct ss_config *cfg, struct ss_err *err) {
    const struct ss_sink_type *type = NULL;
    int rc = type_of(url, &type, err);
    if (rc || !type->check) return rc;
    rc = type->check(url, cfg, err);
    if (rc) ss_err_wrap(err, "sink %s", url);
    return rc;
}
