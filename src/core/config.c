/* config.c — the declarative table of every setting (config.h) and the loaders
 * that fill struct ss_config from defaults, YAML, the environment and --set.
 *
 * One table drives everything a key needs: its type, where it lives in the struct,
 * its default, its help text (printed by `--help-config` and pasted in the README).
 * Adding a setting is one line here. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "alloc.h"
#include "envsubst.h"
#include "log.h"
#include "money.h"
#include "timefmt.h"
#include "utf8.h"

enum cfg_type { T_DURATION, T_INT, T_MONEY, T_RATIO, T_STRING, T_BOOL, T_LIST };

struct cfg_key {
    const char *key;
    enum cfg_type type;
    size_t off;        /* offset of the field in struct ss_config */
    size_t count_off;  /* T_LIST: offset of the int count */
    const char *def;   /* default as text (NULL: none) */
    int64_t min;       /* inclusive lower bound for numbers; T_STRING: 1 when it must not be empty */
    const char *help;
};

#define O(f) offsetof(struct ss_config, f)
#define FIELD(stream, s, f, fname, def)                                                             \
    {"fields." stream "." fname, T_STRING, O(field_names[s][f]), 0, def, 1,                          \
     "input name of `" fname "` in the " stream " stream"}

static const struct cfg_key keys[] = {
    {"lateness", T_DURATION, O(lateness_ms), 0, "15m", 0, "watermark delay: W = min(max_ts per partition) - lateness"},
    {"idle_timeout", T_DURATION, O(idle_timeout_ms), 0, "30s", 1, "a Kafka partition without events this long (processing time) stops holding the watermark back"},
    {"epoch.interval", T_DURATION, O(epoch_interval_ms), 0, "2s", 1, "flush and commit outputs at least this often"},
    {"epoch.events", T_INT, O(epoch_events), 0, "200000", 1, "... or after this many input records"},
    {"windows.category_revenue", T_DURATION, O(category_revenue_ms), 0, "1m", 1, "tumbling window size of category_revenue"},
    {"windows.hourly_sales", T_DURATION, O(hourly_sales_ms), 0, "1h", 1, "tumbling window size of hourly_sales"},
    {"windows.trending.size", T_DURATION, O(trending_size_ms), 0, "10m", 1, "sliding window size of trending_products"},
    {"windows.trending.slide", T_DURATION, O(trending_slide_ms), 0, "1m", 1, "slide of trending_products (must divide the size, into at most 10080 windows per event)"},
    {"windows.trending.top", T_INT, O(trending_top), 0, "20", 1, "products per trending window"},
    {"windows.funnel", T_DURATION, O(funnel_ms), 0, "1h", 1, "tumbling window size of funnel"},
    {"sessions.gap", T_DURATION, O(session_gap_ms), 0, "30m", 1, "inactivity gap that ends a user session"},
    {"join.grace", T_DURATION, O(join_grace_ms), 0, "2m", 0, "how long a click waits (event time) for a promotion that arrives after it"},
    {"alerts.high_value.threshold", T_MONEY, O(high_value_threshold), 0, "1000.00", 0, "order amount (price x quantity) that raises high_value_order"},
    {"alerts.velocity.count", T_INT, O(velocity_count), 0, "5", 1, "purchases by one user within alerts.velocity.range that raise a velocity alert"},
    {"alerts.velocity.range", T_DURATION, O(velocity_range_ms), 0, "10m", 1, "event-time range of the velocity alert"},
    {"alerts.quality.threshold", T_RATIO, O(quality_alert_threshold), 0, "0.95", 0, "quality score below which a minute counts as bad"},
    {"alerts.quality.minutes", T_INT, O(quality_alert_minutes), 0, "3", 1, "bad minutes in a row that raise a quality alert"},
    {"recent.size", T_INT, O(recent_size), 0, "20", 1, "products kept per user in recently viewed"},
    {"recent.ttl", T_DURATION, O(recent_ttl_ms), 0, "24h", 1, "event time a user's recently-viewed list is kept after the last view"},
    {"input.max_record_bytes", T_INT, O(max_record_bytes), 0, "16777216", 1, "a file or stdin line, or a Kafka message, longer than this (bytes, 1024 to 67108864: every sink takes a record of 64 MiB) is a malformed dead letter holding its first input.max_record_bytes bytes (logged as a warning); the rest of the line is skipped, so a file without line breaks cannot exhaust memory"},
    {"format", T_STRING, O(format), 0, "auto", 0, "input format: auto (by extension: .csv is CSV), json, csv"},
    {"inputs", T_LIST, O(inputs), O(ninputs), NULL, 0, "inputs, each STREAM=PATH|-|kafka://HOST:PORT/TOPIC (same as --input)"},
    {"sinks", T_LIST, O(sinks), O(nsinks), NULL, 0, "sink URLs: jsonl:DIR, console:, sqlite:PATH, postgresql://..., redis://..., parquet:DIR, kafka://HOST:PORT, metrics:HOST:PORT (same as --sink)"},
    {"sink.connect_timeout", T_DURATION, O(sink_connect_timeout_ms), 0, "60s", 0, "how long start-up retries a sink whose server is down (PostgreSQL, Redis, Kafka) before exiting with an error"},
    {"console.interval", T_DURATION, O(console_interval_ms), 0, "5s", 1, "how often the console sink prints its summary line (at an epoch commit, so at least epoch.interval apart)"},
    {"exit_at_end", T_BOOL, O(exit_at_end), 0, "false", 0, "treat Kafka inputs as bounded: stop at the end offsets seen at start"},
    {"kafka.group_id", T_STRING, O(kafka_group), 0, "shopstream", 1, "consumer group prefix of the Kafka inputs: clicks and orders consume in group <kafka.group_id>.<stream>; promotions are read whole by every process"},
    {"kafka.connect_timeout", T_DURATION, O(kafka_connect_timeout_ms), 0, "30s", 1, "how long start-up retries unreachable Kafka brokers before exiting with an error"},
    {"savepoint.path", T_STRING, O(savepoint_path), 0, "", 0, "file of the operators' state and input positions (README \"Savepoints\"): written on a graceful stop and every savepoint.interval, loaded at start, so windows and sessions open at a restart keep what came before it (empty: off)"},
    {"savepoint.interval", T_DURATION, O(savepoint_interval_ms), 0, "1m", 1, "how often a savepoint is written while running (a crash replays at most this much input)"},
    {"savepoint.fork", T_BOOL, O(savepoint_fork), 0, "true", 0, "a forked child writes the periodic savepoint while the engine goes on (it pauses for the fork only; pages the engine changes meanwhile are copied, up to twice the resident size); false: the engine writes it itself, as under a tight memory limit"},
    {"http.listen", T_STRING, O(http_listen), 0, "", 0, "HOST:PORT of the metrics/health endpoint (empty: off)"},
    {"log.level", T_STRING, O(log_level), 0, "info", 0, "debug, info, warn or error"},
    FIELD("clicks", SS_STREAM_CLICKS, SS_F_EVENT_ID, "event_id", "event_id"),
    FIELD("clicks", SS_STREAM_CLICKS, SS_F_EVENT_TYPE, "event_type", "event_type"),
    FIELD("clicks", SS_STREAM_CLICKS, SS_F_USER_ID, "user_id", "user_id"),
    FIELD("clicks", SS_STREAM_CLICKS, SS_F_SESSION_ID, "session_id", "session_id"),
    FIELD("clicks", SS_STREAM_CLICKS, SS_F_PRODUCT_ID, "product_id", "product_id"),
    FIELD("clicks", SS_STREAM_CLICKS, SS_F_CATEGORY, "category", "category"),
    FIELD("clicks", SS_STREAM_CLICKS, SS_F_PRICE, "price", "price"),
    FIELD("clicks", SS_STREAM_CLICKS, SS_F_QUANTITY, "quantity", "quantity"),
    FIELD("clicks", SS_STREAM_CLICKS, SS_F_ORDER_ID, "order_id", "order_id"),
    FIELD("clicks", SS_STREAM_CLICKS, SS_F_TS, "ts", "ts"),
    FIELD("orders", SS_STREAM_ORDERS, SS_F_ORDER_ID, "order_id", "order_id"),
    FIELD("orders", SS_STREAM_ORDERS, SS_F_USER_ID, "user_id", "customer_id"),
    FIELD("orders", SS_STREAM_ORDERS, SS_F_PRODUCT_ID, "product_id", "product_id"),
    FIELD("orders", SS_STREAM_ORDERS, SS_F_CATEGORY, "category", "category"),
    FIELD("orders", SS_STREAM_ORDERS, SS_F_PRICE, "price", "price"),
    FIELD("orders", SS_STREAM_ORDERS, SS_F_QUANTITY, "quantity", "quantity"),
    FIELD("orders", SS_STREAM_ORDERS, SS_F_TS, "ts", "order_ts"),
    FIELD("promotions", SS_STREAM_PROMOTIONS, SS_F_PROMO_ID, "promo_id", "promo_id"),
    FIELD("promotions", SS_STREAM_PROMOTIONS, SS_F_PRODUCT_ID, "product_id", "product_id"),
    FIELD("promotions", SS_STREAM_PROMOTIONS, SS_F_DISCOUNT_PCT, "discount_pct", "discount_pct"),
    FIELD("promotions", SS_STREAM_PROMOTIONS, SS_F_STARTS_AT, "starts_at", "starts_at"),
    FIELD("promotions", SS_STREAM_PROMOTIONS, SS_F_ENDS_AT, "ends_at", "ends_at"),
    FIELD("promotions", SS_STREAM_PROMOTIONS, SS_F_TS, "ts", "ts"),
};
#define NKEYS (sizeof keys / sizeof keys[0])

/* The T_STRING keys that take one of a fixed set of values: in any case, stored as
 * spelled here (what the code that reads them compares against). */
static const struct {
    const char *key;
    const char *values[5];
} choices[] = {
    {"format", {"auto", "json", "csv"}},
    {"log.level", {"debug", "info", "warn", "error"}},
};

static void *field_at(struct ss_config *cfg, const struct cfg_key *k) { return (char *)cfg + k->off; }

static void list_free(char ***items, int *n) {
    for (int i = 0; i < *n; i++) ss_free((*items)[i]);
    ss_free(*items);
    *items = NULL;
    *n = 0;
}

static void list_push(char ***items, int *n, const char *v) {
    *items = ss_realloc(*items, (size_t)(*n + 1) * sizeof **items);
    (*items)[(*n)++] = ss_strdup(v);
}

static int parse_int(const char *v, int64_t *out) {
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end) return -1;
    *out = x;
    return 0;
}

static int parse_bool(const char *v, bool *out) {
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1")) *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0")) *out = false;
    else return -1;
    return 0;
}

/* A T_STRING value checked against the key's choices and emptiness: the text to store
 * (a choice as the table spells it), or NULL with err set. */
static const char *string_value(const struct cfg_key *k, const char *value, struct ss_err *err) {
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
        if (strcmp(choices[i].key, k->key)) continue;
        char list[128] = "";
        for (size_t j = 0; j < sizeof choices[i].values / sizeof *choices[i].values && choices[i].values[j]; j++) {
            const char *c = choices[i].values[j];
            if (!strcasecmp(value, c)) return c;
            size_t n = strlen(list);
            snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", c);
        }
        ss_err_set(err, SS_EUSAGE, "config key %s: \"%s\" is not one of %s", k->key, value, list);
        return NULL;
    }
    if (k->min > 0 && !*value) {
        ss_err_set(err, SS_EUSAGE, "config key %s: the value must not be empty", k->key);
        return NULL;
    }
    return value;
}

static int set_key(struct ss_config *cfg, const struct cfg_key *k, const char *value, struct ss_err *err) {
    void *f = field_at(cfg, k);
    int64_t n = 0;
    switch (k->type) {
    case T_DURATION:
        if (ss_duration_parse(value, &n) != 0)
            return ss_err_set(err, SS_EUSAGE, "config key %s: \"%s\" is not a duration of at most 36500d (examples: 500ms, 30s, 15m, 2h)",
                              k->key, value);
        break;
    case T_INT:
        if (parse_int(value, &n) != 0)
            return ss_err_set(err, SS_EUSAGE, "config key %s: \"%s\" is not an integer", k->key, value);
        break;
    case T_MONEY:
        if (ss_money_parse(value, strlen(value), &n) != 0)
            return ss_err_set(err, SS_EUSAGE, "config key %s: \"%s\" is not an exact decimal amount (example: 1000.00)",
                              k->key, value);
        break;
    case T_RATIO:
        if (ss_money_parse(value, strlen(value), &n) != 0 || n < 0 || n > SS_MONEY_SCALE)
            return ss_err_set(err, SS_EUSAGE, "config key %s: \"%s\" is not a ratio between 0 and 1", k->key, value);
        break;
    case T_STRING: {
        const char *v = string_value(k, value, err);
        if (!v) return SS_EUSAGE;
        ss_free(*(char **)f);
        *(char **)f = ss_strdup(v);
        return SS_OK;
    }
    case T_BOOL:
        if (parse_bool(value, (bool *)f) != 0)
            return ss_err_set(err, SS_EUSAGE, "config key %s: \"%s\" is not a boolean (true/false)", k->key, value);
        return SS_OK;
    case T_LIST:
        list_push((char ***)f, (int *)((char *)cfg + k->count_off), value);
        return SS_OK;
    }
    if (n < k->min) /* durations are held in ms: say so, "(1)" reads as one second */
        return ss_err_set(err, SS_EUSAGE, "config key %s: %s is below the minimum (%lld%s)", k->key, value,
                          (long long)k->min, k->type == T_DURATION ? "ms" : "");
    *(int64_t *)f = n;
    return SS_OK;
}

void ss_config_init(struct ss_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NKEYS; i++) {
        if (!keys[i].def) continue;
        int rc = set_key(cfg, &keys[i], keys[i].def, NULL);
        ss_assert(rc == SS_OK);
    }
}

void ss_config_free(struct ss_config *cfg) {
    for (size_t i = 0; i < NKEYS; i++) {
        void *f = field_at(cfg, &keys[i]);
        if (keys[i].type == T_STRING) {
            ss_free(*(char **)f);
            *(char **)f = NULL;
        } else if (keys[i].type == T_LIST) {
            list_free((char ***)f, (int *)((char *)cfg + keys[i].count_off));
        }
    }
    list_free(&cfg->kafka_props, &cfg->nkafka_props);
}

static const struct cfg_key *find_key(const char *key) {
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].key, key)) return &keys[i];
    return NULL;
}

/* kafka.group_id and kafka.connect_timeout are ours; every other kafka.* key is a
 * librdkafka property. */
static bool is_kafka_prop(const char *key) { return !strncmp(key, "kafka.", 6) && !find_key(key); }

/* Edit distance (insertions, deletions, substitutions), capped: names longer than 63
 * bytes are compared by their first 63. */
static size_t edit_distance(const char *a, const char *b) {
    size_t la = strnlen(a, 63), lb = strnlen(b, 63), row[64];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static void env_name(const char *key, char *out, size_t cap);

/* The key that name is likely a typo of (at most 2 edits, and fewer than half of name),
 * comparing with the keys' names as written in the environment when env, else NULL. */
static const struct cfg_key *closest_key(const char *name, bool env) {
    const struct cfg_key *near = NULL;
    size_t best = 3;
    for (size_t i = 0; i < NKEYS; i++) {
        char buf[128];
        if (env) env_name(keys[i].key, buf, sizeof buf);
        size_t d = edit_distance(name, env ? buf : keys[i].key);
        if (d < best && 2 * d < strlen(name)) {
            best = d;
            near = &keys[i];
        }
    }
    return near;
}

int ss_config_set(struct ss_config *cfg, const char *key, const char *value, struct ss_err *err) {
    if (is_kafka_prop(key)) {
        if (!key[6]) return ss_err_set(err, SS_EUSAGE, "config key \"kafka.\" names no librdkafka property");
        /* librdkafka's names are letters, digits, '.' and '_'; any other byte (a control
         * character, ':', a space) is a typo, and --print-config could not write it as a
         * YAML key that reads back */
        size_t ok = strspn(key + 6, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
        if (key[6 + ok])
            return ss_err_set(err, SS_EUSAGE,
                              "config key \"%.*s...\": byte 0x%02x is not in a librdkafka property name "
                              "(letters, digits, '.', '_', '-')",
                              (int)(6 + ok), key, (unsigned)(unsigned char)key[6 + ok]);
        size_t n = strlen(key + 6) + strlen(value) + 2;
        char *kv = ss_malloc(n);
        snprintf(kv, n, "%s=%s", key + 6, value);
        list_push(&cfg->kafka_props, &cfg->nkafka_props, kv);
        ss_free(kv);
        return SS_OK;
    }
    const struct cfg_key *k = find_key(key);
    if (!k) {
        const struct cfg_key *near = closest_key(key, false);
        return ss_err_set(err, SS_EUSAGE, "unknown config key \"%s\" (%s%s%ssee `shopstream run --help-config`)", key,
                          near ? "did you mean " : "", near ? near->key : "", near ? "? " : "");
    }
    return set_key(cfg, k, value, err);
}

void ss_config_clear(struct ss_config *cfg, const char *key) {
    const struct cfg_key *k = find_key(key);
    ss_assert(k && k->type == T_LIST);
    list_free((char ***)field_at(cfg, k), (int *)((char *)cfg + k->count_off));
}

int ss_config_set_kv(struct ss_config *cfg, const char *kv, struct ss_err *err) {
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) return ss_err_set(err, SS_EUSAGE, "--set expects key=value, got \"%s\"", kv);
    char *key = ss_strndup(kv, (size_t)(eq - kv));
    int rc = ss_config_set(cfg, key, eq + 1, err);
    ss_free(key);
    return rc;
}

/* ---- YAML ------------------------------------------------------------------ */

/* One file being applied: its document, and each dotted key it has set with the line
 * of its YAML key. A file sets a key once: given twice (`lateness:` on two lines, or
 * `windows.funnel:` and `windows: {funnel: }`) the last would silently win. */
struct yaml_load {
    struct ss_config *cfg;
    yaml_document_t *doc;
    const char *path;
    struct ss_err *err;
    struct {
        char *key;
        int line;
    } *set;
    size_t nset;
    size_t nodes;   /* walked so far, aliases counted each time they are reached */
};

/* A config file has a few hundred keys and values at most. An alias repeats the node it
 * names, so aliases of aliases repeat a mapping 2^n times in n lines (a 1 KB file under
 * kafka:, where every key is taken, walked for ever): the walk stops at this many. */
#define YAML_MAX_NODES 10000

static int given_twice(const struct yaml_load *y, const char *key, int first, int second) {
    return ss_err_set(y->err, SS_EUSAGE, "%s:%d: key \"%s\" is given twice (lines %d and %d)", y->path, second, key,
                      first, second);
}

static int note_set(struct yaml_load *y, const char *key, int line) {
    for (size_t i = 0; i < y->nset; i++)
        if (!strcmp(y->set[i].key, key)) return given_twice(y, key, y->set[i].line, line);
    y->set = ss_realloc(y->set, (y->nset + 1) * sizeof *y->set);
    y->set[y->nset].key = ss_strdup(key);
    y->set[y->nset++].line = line;
    return SS_OK;
}

static int node_line(const yaml_node_t *n) { return (int)n->start_mark.line + 1; }

/* Walks a YAML node reached through the dotted key `prefix` (written on line kline):
 * mappings extend the key; sequences are lists (only for list keys); scalars are set. */
static int yaml_walk(struct yaml_load *y, yaml_node_t *node, char *prefix, size_t plen, int kline) {
    const char *path = y->path;
    struct ss_err *err = y->err;
    int line = node_line(node);
    if (++y->nodes > YAML_MAX_NODES)
        return ss_err_set(err, SS_EUSAGE, "%s:%d: more than %d keys and values (aliases repeating a mapping?)", path,
                          line, YAML_MAX_NODES);
    switch (node->type) {
    case YAML_MAPPING_NODE:
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
            yaml_node_t *v = yaml_document_get_node(y->doc, p->value);
            if (!k || k->type != YAML_SCALAR_NODE)
                return ss_err_set(err, SS_EUSAGE, "%s:%d: mapping keys must be plain names", path, line);
            size_t n = plen + (plen ? 1 : 0) + k->data.scalar.length;
            if (n >= 256) return ss_err_set(err, SS_EUSAGE, "%s:%d: key too long", path, line);
            char key[256];
            memcpy(key, prefix, plen);
            size_t at = plen;
            if (plen) key[at++] = '.';
            memcpy(key + at, k->data.scalar.value, k->data.scalar.length);
            key[n] = '\0';
            /* the same key twice in one mapping, a section (`windows:`) too */
            for (yaml_node_pair_t *q = node->data.mapping.pairs.start; q < p; q++) {
                yaml_node_t *kq = yaml_document_get_node(y->doc, q->key);
                if (kq->data.scalar.length == k->data.scalar.length &&
                    !memcmp(kq->data.scalar.value, k->data.scalar.value, k->data.scalar.length))
                    return given_twice(y, key, node_line(kq), node_line(k));
            }
            /* a mapping under kafka.* or a known prefix recurses; anything else is a leaf */
            int rc = yaml_walk(y, v, key, n, node_line(k));
            if (rc) return rc;
        }
        return SS_OK;
    case YAML_SEQUENCE_NODE: {
        const struct cfg_key *k = find_key(prefix);
        if (!k || k->type != T_LIST)
            return ss_err_set(err, SS_EUSAGE, "%s:%d: config key \"%s\" does not take a list", path, line, prefix);
        if (note_set(y, prefix, kline)) return SS_EUSAGE;
        for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
            yaml_node_t *v = yaml_document_get_node(y->doc, *it);
            if (!v || v->type != YAML_SCALAR_NODE)
                return ss_err_set(err, SS_EUSAGE, "%s:%d: items of \"%s\" must be plain values", path, line, prefix);
            struct ss_buf value = {0};
            int rc = ss_envsubst((const char *)v->data.scalar.value, &value, err);
            if (rc) {
                ss_buf_free(&value);
                return ss_err_wrap(err, "%s:%d: %s", path, node_line(v), prefix);
            }
            rc = set_key(y->cfg, k, value.p, err);
            ss_buf_free(&value);
            if (rc) return ss_err_wrap(err, "%s:%d", path, node_line(v));
        }
        return SS_OK;
    }
    case YAML_SCALAR_NODE: {
        if (note_set(y, prefix, kline)) return SS_EUSAGE;
        struct ss_buf value = {0};
        int rc = ss_envsubst((const char *)node->data.scalar.value, &value, err);
        if (rc) {
            ss_buf_free(&value);
            return ss_err_wrap(err, "%s:%d: %s", path, line, prefix);
        }
        rc = ss_config_set(y->cfg, prefix, value.p, err);
        ss_buf_free(&value);
        if (rc) return ss_err_wrap(err, "%s:%d", path, line);
        return SS_OK;
    }
    default:
        return SS_OK;
    }
}

/* The line holding byte `off` of the file (0 when it cannot be read again: a pipe). */
static int line_of_offset(FILE *f, size_t off) {
    if (fseek(f, 0, SEEK_SET) != 0) return 0;
    int line = 1, c;
    for (size_t i = 0; i < off && (c = getc(f)) != EOF; i++)
        if (c == '\n') line++;
    return line;
}

/* libyaml reads UTF-16 when the file starts with its byte order mark (FF FE or FE FF).
 * A file that does and yet does not parse into a mapping is other bytes that happen to
 * start so: text in a single-byte encoding, say. */
static bool read_as_utf16(const yaml_parser_t *parser) {
    return parser->encoding == YAML_UTF16LE_ENCODING || parser->encoding == YAML_UTF16BE_ENCODING;
}

static int not_utf16(const char *path, struct ss_err *err) {
    return ss_err_set(err, SS_EUSAGE, "%s: the file is not valid UTF-8, nor the UTF-16 its first two bytes announce",
                      path);
}

/* What yaml_parser_load found wrong. Reader errors (undecodable bytes, control
 * characters, a failed read) carry a byte offset rather than a line. */
static int yaml_error(yaml_parser_t *parser, FILE *f, const char *path, int read_errno, struct ss_err *err) {
    const char *problem = parser->problem ? parser->problem : "parse error";
    if (parser->error != YAML_READER_ERROR)
        return ss_err_set(err, SS_EUSAGE, "%s:%d: invalid YAML: %s", path, (int)parser->problem_mark.line + 1, problem);
    if (ferror(f))
        return ss_err_set(err, SS_EUSAGE, "cannot read config file %s: %s", path, strerror(read_errno));
    if (read_as_utf16(parser)) return not_utf16(path, err);
    size_t off = parser->problem_offset;
    char where[64] = "";
    int line = line_of_offset(f, off);
    if (line) snprintf(where, sizeof where, ":%d", line);
    if (strstr(problem, "UTF-8") || strstr(problem, "Unicode"))
        return ss_err_set(err, SS_EUSAGE, "%s%s: the file is not valid UTF-8 (%s at byte offset %zu)", path, where,
                          problem, off);
    if (strstr(problem, "control character"))
        return ss_err_set(err, SS_EUSAGE, "%s%s: control character 0x%02x at byte offset %zu (YAML does not allow it)",
                          path, where, (unsigned)parser->problem_value, off);
    return ss_err_set(err, SS_EUSAGE, "%s%s: invalid YAML: %s at byte offset %zu", path, where, problem, off);
}

int ss_config_load_yaml(struct ss_config *cfg, const char *path, struct ss_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return ss_err_set(err, SS_EUSAGE, "cannot open config file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return ss_err_set(err, SS_EUSAGE, "config file %s is a directory, not a YAML file", path);
    }
    yaml_parser_t parser;
    yaml_document_t doc, next;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    int rc = SS_OK;
    errno = 0;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = yaml_error(&parser, f, path, errno, err);
        goto out_parser;
    }
    /* one document: a second (after ---) would be ignored */
    errno = 0;
    if (!yaml_parser_load(&parser, &next)) {
        rc = yaml_error(&parser, f, path, errno, err);
        goto out_doc;
    }
    bool more = yaml_document_get_root_node(&next) != NULL;
    int next_line = (int)next.start_mark.line + 1;
    yaml_document_delete(&next);
    if (more) {
        rc = ss_err_set(err, SS_EUSAGE,
                        "%s:%d: a second YAML document (a config file holds one; its keys go in the first)", path,
                        next_line);
        goto out_doc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root) {
        if (root->type != YAML_MAPPING_NODE) {
            rc = read_as_utf16(&parser)
                     ? not_utf16(path, err)
                     : ss_err_set(err, SS_EUSAGE, "%s: the top level must be a mapping of keys", path);
        } else {
            struct yaml_load y = {.cfg = cfg, .doc = &doc, .path = path, .err = err};
            char prefix[256] = "";
            rc = yaml_walk(&y, root, prefix, 0, 0);
            for (size_t i = 0; i < y.nset; i++) ss_free(y.set[i].key);
            ss_free(y.set);
        }
    }
out_doc:
    yaml_document_delete(&doc);
out_parser:
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

/* ---- environment ------------------------------------------------------------- */

static void env_name(const char *key, char *out, size_t cap) {
    size_t i = 0;
    const char *pre = "SHOPSTREAM_";
    for (; *pre && i + 1 < cap; pre++) out[i++] = *pre;
    for (; *key && i + 1 < cap; key++) out[i++] = (*key == '.' || *key == '-') ? '_' : (char)toupper((unsigned char)*key);
    out[i] = '\0';
}

/* Whether the text after a comma in a list variable begins a new item. A URL has commas
 * of its own (kafka://k1:9092,k2:9092/clicks, postgresql://h1,h2/db), so a comma ends an
 * item only where a new one begins: STREAM= for inputs, a sink's scheme for sinks. */
static bool list_item_begins(const char *key, const char *s, bool (*sink_begins)(const char *s)) {
    if (!*s || *s == ',') return true; /* an empty item, skipped */
    if (strcmp(key, "inputs") == 0) {
        size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
        return n > 0 && s[n] == '=';
    }
    if (strcmp(key, "sinks") == 0 && sink_begins) return sink_begins(s);
    return true;
}

int ss_config_load_env(struct ss_config *cfg, char **envp, bool (*sink_begins)(const char *s),
                       struct ss_err *err) {
    if (!envp) return SS_OK;
    for (size_t i = 0; i < NKEYS; i++) {
        char name[128];
        env_name(keys[i].key, name, sizeof name);
        size_t n = strlen(name);
        for (char **e = envp; *e; e++) {
            if (strncmp(*e, name, n) || (*e)[n] != '=') continue;
            const char *v = *e + n + 1;
            int rc;
            if (keys[i].type == T_LIST) {
                /* a list from the environment is comma-separated and replaces the file's list */
                list_free((char ***)field_at(cfg, &keys[i]), (int *)((char *)cfg + keys[i].count_off));
                char *copy = ss_strdup(v), *item = copy;
                rc = SS_OK;
                for (char *p = copy; !rc; p++) {
                    if (*p && (*p != ',' || !list_item_begins(keys[i].key, p + 1, sink_begins))) continue;
                    bool last = !*p;
                    *p = '\0';
                    if (*item) rc = set_key(cfg, &keys[i], item, err);
                    if (last) break;
                    item = p + 1;
                }
                ss_free(copy);
            } else {
                rc = set_key(cfg, &keys[i], v, err);
            }
            if (rc) return ss_err_wrap(err, "environment variable %s", name);
        }
    }
    return SS_OK;
}

void ss_config_warn_env(char **envp) {
    for (char **e = envp; e && *e; e++) {
        if (strncmp(*e, "SHOPSTREAM_", 11) != 0) continue;
        const char *eq = strchr(*e, '=');
        char name[128];
        snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - *e) : (int)strlen(*e), *e);
        bool known = false;
        for (size_t i = 0; i < NKEYS && !known; i++) {
            char kn[128];
            env_name(keys[i].key, kn, sizeof kn);
            known = strcmp(kn, name) == 0;
        }
        if (known) continue;
        if (strncmp(name, "SHOPSTREAM_KAFKA_", 17) == 0) {
            ss_warn("config", "msg=\"%s is not read: give librdkafka properties with -X key=value or as "
                              "kafka.<property> in the config file, whose value may name this variable as "
                              "\\\"${%s}\\\"\"",
                    name, name);
            continue;
        }
        const struct cfg_key *near = closest_key(name, true);
        if (!near) continue;
        char near_name[128];
        env_name(near->key, near_name, sizeof near_name);
        ss_warn("config", "msg=\"%s names no configuration key and is ignored: did you mean %s?\"", name, near_name);
    }
}

bool ss_config_writes_kafka(const struct ss_config *cfg) {
    for (int i = 0; cfg && i < cfg->nsinks; i++)
        if (strncmp(cfg->sinks[i], "kafka://", 8) == 0) return true;
    return false;
}

bool ss_config_reads_kafka(const struct ss_config *cfg) {
    for (int i = 0; cfg && i < cfg->ninputs; i++) {
        const char *eq = strchr(cfg->inputs[i], '=');
        if (eq && strncmp(eq + 1, "kafka://", 8) == 0) return true;
    }
    return false;
}

void ss_config_print_reference(FILE *f, bool markdown) {
    if (markdown) fprintf(f, "| key | default | meaning |\n|---|---|---|\n");
    for (size_t i = 0; i < NKEYS; i++) {
        const struct cfg_key *k = &keys[i];
        if (markdown)
            fprintf(f, "| `%s` | `%s` | %s |\n", k->key, k->def ? k->def : "", k->help);
        else
            fprintf(f, "  %-32s %-12s %s\n", k->key, k->def ? k->def : "-", k->help);
    }
    if (markdown)
        fprintf(f, "| `kafka.<property>` | | any librdkafka property, passed through verbatim |\n");
    else
        fprintf(f, "  %-32s %-12s %s\n", "kafka.<property>", "-", "any librdkafka property, passed through verbatim");
}

/* ---- the effective configuration ----------------------------------------------- */

/* A YAML double-quoted string that a config file reads back as s: its $ doubled, since
 * the file's values expand ${NAME} (envsubst.h). YAML takes NEL, U+2028 and U+2029 for
 * line breaks (folded into a space inside quotes) and refuses C1 controls and U+FFFE/F
 * in a file: those are escaped, and U+FEFF too (a byte order mark). Bytes that are not
 * UTF-8 (a --set value) are written as they are: no YAML file can hold them. */
static void print_quoted(FILE *f, const char *s) {
    fputc('"', f);
    size_t n = s ? strlen(s) : 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t sub, len = c < 0x80 ? 1 : ss_utf8_seq(s + i, n - i, &sub);
        if (len == 0) {
            fwrite(s + i, 1, sub, f);
            i += sub;
            continue;
        }
        uint32_t cp = c;
        if (len == 2) cp = (uint32_t)(c & 0x1f) << 6 | ((unsigned char)s[i + 1] & 0x3f);
        else if (len == 3)
            cp = (uint32_t)(c & 0x0f) << 12 | (uint32_t)((unsigned char)s[i + 1] & 0x3f) << 6 |
                 ((unsigned char)s[i + 2] & 0x3f);
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '$') fputs("$$", f);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) fprintf(f, "\\x%02x", (unsigned)cp);
        else if (cp == 0x2028 || cp == 0x2029 || cp == 0xfeff || cp == 0xfffe || cp == 0xffff)
            fprintf(f, "\\u%04x", (unsigned)cp);
        else fwrite(s + i, 1, len, f);
        i += len;
    }
    fputc('"', f);
}

/* A URL with the password of its user info (scheme://user:PASSWORD@host) masked. */
static void print_url(FILE *f, const char *url) {
    const char *scheme = strstr(url, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
    if (!colon) {
        print_quoted(f, url);
        return;
    }
    char *masked = ss_malloc(strlen(url) + 4);
    size_t head = (size_t)(colon + 1 - url);
    memcpy(masked, url, head);
    strcpy(masked + head, "***");
    strcat(masked, at);
    print_quoted(f, masked);
    ss_free(masked);
}

/* librdkafka's sensitive properties: *.password, *.secret, the PEM private key, and the
 * OAUTHBEARER config string that may carry a client secret */
static bool is_secret(const char *prop) {
    return strstr(prop, "password") || strstr(prop, "secret") || !strcmp(prop, "ssl.key.pem") ||
           !strcmp(prop, "sasl.oauthbearer.config");
}

/* ms in the largest unit that holds it exactly, in the syntax ss_duration_parse reads */
static void print_duration(FILE *f, int64_t ms) {
    static const struct { int64_t ms; const char *unit; } units[] = {
        {SS_MS_PER_DAY, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms != 0 && ms % units[i].ms == 0) {
            fprintf(f, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    fprintf(f, "%lldms", (long long)ms);
}

void ss_config_print(FILE *f, const struct ss_config *cfg) {
    fprintf(f, "# the effective shopstream configuration (shopstream run --print-config)\n");
    for (size_t i = 0; i < NKEYS; i++) {
        const struct cfg_key *k = &keys[i];
        const void *v = (const char *)cfg + k->off;
        char num[32];
        fprintf(f, "%s:", k->key);
        switch (k->type) {
        case T_DURATION: fputc(' ', f); print_duration(f, *(const int64_t *)v); break;
        case T_INT: fprintf(f, " %lld", (long long)*(const int64_t *)v); break;
        case T_MONEY: {
            /* cents as usual, more decimals when set (so that the text reads back as the value) */
            int64_t m = *(const int64_t *)v;
            ss_money_format(m, m % 100 ? (m % 10 ? 4 : 3) : 2, num);
            fprintf(f, " \"%s\"", num);
            break;
        }
        case T_RATIO:
            ss_money_format(*(const int64_t *)v, 4, num);
            fprintf(f, " %s", num);
            break;
        case T_STRING: fputc(' ', f); print_quoted(f, *(char *const *)v); break;
        case T_BOOL: fputs(*(const bool *)v ? " true" : " false", f); break;
        case T_LIST: {
            char *const *items = *(char **const *)v;
            int n = *(const int *)((const char *)cfg + k->count_off);
            if (!n) fputs(strcmp(k->key, "sinks") ? " []" : " []  # none given: run writes sqlite:data/shopstream.db and console:", f);
            for (int j = 0; j < n; j++) {
                fputs("\n  - ", f);
                print_url(f, items[j]);
            }
            break;
        }
        }
        fputc('\n', f);
    }
    for (int i = 0; i < cfg->nkafka_props; i++) {
        const char *kv = cfg->kafka_props[i], *eq = strchr(kv, '=');
        if (!eq) continue;
        int klen = (int)(eq - kv);
        char name[256];
        snprintf(name, sizeof name, "%.*s", klen, kv);
        if (is_secret(name)) {
            fprintf(f, "# kafka.%s: (set, hidden)\n", name);
            continue;
        }
        fprintf(f, "kafka.%s: ", name);
        print_quoted(f, eq + 1);
        fputc('\n', f);
    }
}
