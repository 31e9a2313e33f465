/* metrics_sink.c — the `metrics:HOST:PORT` sink: Prometheus /metrics, /healthz,
 * /readyz and a small JSON API over libmicrohttpd (DESIGN §8). See metrics_sink.h.
 *
 * It sits at the end of the pipeline like every sink, so the engine needs no hook for
 * observability: commit (the committer's thread, once per epoch) folds the epoch into a
 * snapshot; the MHD thread renders pages from that snapshot. Both take `mu`; the MHD
 * side holds it only while formatting into memory and queues a copy, so a slow or
 * stuck client never holds up an epoch. */
#include "metrics_sink.h"

#include <errno.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/log.h"
#include "../core/shutdown.h"
#include "../core/timefmt.h"
#include "../core/utf8.h"
#include "../sink/rowjson.h"
#include "dashboard.h"
#include "live_windows.h"
#include "user_lists.h"

#define comp "server.metrics"
#define USERS_PREFIX "/api/users/"
#define USERS_SUFFIX "/recently-viewed"
#define ALERTS_KEPT 100
#define READY_FLOOR_MS 30000

/* Commit-duration histogram bounds (ms; the page prints seconds). Commits are whole
 * epochs against real databases: from sub-millisecond (JSONL) to many seconds. */
static const int64_t bucket_ms[] = {1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000};
#define NBUCKETS ((int)(sizeof bucket_ms / sizeof bucket_ms[0]))

/* A latency histogram: non-cumulative counts per bucket_ms bound; +Inf is count. */
struct hist {
    int64_t b[NBUCKETS];
    int64_t count, sum_ms;
};

static void hist_observe(struct hist *h, int64_t ms) {
    if (ms < 0) ms = 0;
    int i = 0;
    while (i < NBUCKETS && ms > bucket_ms[i]) i++;
    if (i < NBUCKETS) h->b[i]++;
    h->count++;
    h->sum_ms += ms;
}

struct snap_pos {
    char *source;
    int32_t partition;
    int64_t next_offset, lag, max_ts;
};

/* Everything a page shows. Guarded by metrics_sink.mu. */
struct snapshot {
    int committed;                 /* an epoch was committed */
    uint64_t epoch;                /* the last one */
    int64_t epochs;                /* commits this process saw */
    int final;
    int64_t watermark;
    struct ss_run_stats stats;
    int64_t commit_wall_ms;        /* processing time of the last commit */
    int64_t rows_final[SS_T_COUNT], rows_prov[SS_T_COUNT];
    struct snap_pos *pos;
    size_t npos, cappos;
    struct hist commits;           /* every sink and the positions, per epoch */
    struct hist sink_commits[SS_STATS_SINKS]; /* each sink, as stats.sinks[] */
    struct ss_buf quality;         /* JSON of the latest data_quality row; len 0: none */
    struct ss_buf alerts[ALERTS_KEPT]; /* ring of alert rows as JSON */
    int alert_head, nalerts;       /* next slot to write, slots in use */
    int final_scraped;             /* /metrics delivered the final snapshot (ends linger) */
    struct ss_live_windows windows; /* /api/windows */
    struct ss_user_lists *lists;   /* /api/users/{id}/recently-viewed; NULL unless recently_viewed=on */
};

struct metrics_sink {
    struct ss_sink base;
    struct MHD_Daemon *mhd;
    int port;
    int64_t epoch_interval_ms;
    int64_t linger_ms;
    int64_t opened_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv;             /* final_scraped became 1 */
    struct snapshot snap;
};

/* ---- text helpers ------------------------------------------------------------------ */

static void add_i64(struct ss_buf *b, int64_t v) { ss_buf_add_i64(b, v); }

/* ms as seconds with 3 decimals, exactly (no binary fractions). */
static void add_secs(struct ss_buf *b, int64_t ms) {
    char tmp[48];
    if (ms < 0) {
        ss_buf_addc(b, '-');
        ms = -ms;
    }
    snprintf(tmp, sizeof tmp, "%" PRId64 ".%03" PRId64, ms / 1000, ms % 1000);
    ss_buf_adds(b, tmp);
}

/* A histogram bound in seconds as Prometheus clients write it: "0.005", "1", "2.5". */
static void add_le(struct ss_buf *b, int64_t ms) {
    char tmp[48];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64 ".%03" PRId64, ms / 1000, ms % 1000);
    while (tmp[n - 1] == '0') n--;
    if (tmp[n - 1] == '.') n--;
    ss_buf_add(b, tmp, (size_t)n);
}

/* A Prometheus label value: backslash, double quote and newline escaped (format 0.0.4).
 * The page is UTF-8 text too: a file path given as an input source may hold
 * any bytes, and one that is not UTF-8 made the whole page unparsable to Prometheus and
 * its client libraries; each maximal invalid subpart becomes U+FFFD, as /api/stats does. */
static void add_label(struct ss_buf *b, const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t sub, k = ss_utf8_seq(s + i, n - i, &sub);
        if (!k) {
            ss_buf_add(b, "\xEF\xBF\xBD", 3);
            i += sub;
        } else if (s[i] == '\\') {
            ss_buf_adds(b, "\\\\");
        } else if (s[i] == '"') {
            ss_buf_adds(b, "\\\"");
        } else if (s[i] == '\n') {
            ss_buf_adds(b, "\\n");
        } else {
            ss_buf_add(b, s + i, k);
        }
        i += k;
    }
}

static void help_type(struct ss_buf *b, const char *name, const char *type, const char *help) {
    ss_buf_adds(b, "# HELP ");
    ss_buf_adds(b, name);
    ss_buf_addc(b, ' ');
    ss_buf_adds(b, help);
    ss_buf_adds(b, "\n# TYPE ");
    ss_buf_adds(b, name);
    ss_buf_addc(b, ' ');
    ss_buf_adds(b, type);
    ss_buf_addc(b, '\n');
}

/* name{key="value"} v */
static void sample1(struct ss_buf *b, const char *name, const char *key, const char *val, int64_t v) {
    ss_buf_adds(b, name);
    if (key) {
        ss_buf_addc(b, '{');
        ss_buf_adds(b, key);
        ss_buf_adds(b, "=\"");
        add_label(b, val);
        ss_buf_adds(b, "\"}");
    }
    ss_buf_addc(b, ' ');
    add_i64(b, v);
    ss_buf_addc(b, '\n');
}

static void sample_pos(struct ss_buf *b, const char *name, const struct snap_pos *p, int64_t v) {
    ss_buf_adds(b, name);
    ss_buf_adds(b, "{source=\"");
    add_label(b, p->source);
    ss_buf_adds(b, "\",partition=\"");
    add_i64(b, p->partition);
    ss_buf_adds(b, "\"} ");
    add_i64(b, v);
    ss_buf_addc(b, '\n');
}

static void add_ts_json(struct ss_buf *b, int64_t ts) {
    if (ts == INT64_MIN) {
        ss_buf_adds(b, "\"-inf\"");
    } else if (ts == INT64_MAX) {
        ss_buf_adds(b, "\"+inf\"");
    } else {
        char iso[40];
        int n = ss_ts_format(ts, iso);
        ss_buf_addc(b, '"');
        ss_buf_add(b, iso, (size_t)n);
        ss_buf_addc(b, '"');
    }
}

static bool windowed(int t) { return ss_tables[t].final_col >= 0; }

/* ---- pages (called with mu held) --------------------------------------------------- */

/* name_bucket{[sink="..",]le=".."} ..., name_sum, name_count of h */
static void render_hist(struct ss_buf *b, const char *name, const char *sink, const struct hist *h) {
    int64_t cum = 0;
    for (int i = 0; i <= NBUCKETS; i++) {
        cum = i < NBUCKETS ? cum + h->b[i] : h->count;
        ss_buf_adds(b, name);
        ss_buf_adds(b, "_bucket{");
        if (sink) {
            ss_buf_adds(b, "sink=\"");
            add_label(b, sink);
            ss_buf_adds(b, "\",");
        }
        ss_buf_adds(b, "le=\"");
        if (i < NBUCKETS) add_le(b, bucket_ms[i]);
        else ss_buf_adds(b, "+Inf");
        ss_buf_adds(b, "\"} ");
        add_i64(b, cum);
        ss_buf_addc(b, '\n');
    }
    for (int k = 0; k < 2; k++) {
        ss_buf_adds(b, name);
        ss_buf_adds(b, k ? "_count" : "_sum");
        if (sink) {
            ss_buf_adds(b, "{sink=\"");
            add_label(b, sink);
            ss_buf_adds(b, "\"}");
        }
        ss_buf_addc(b, ' ');
        if (k) add_i64(b, h->count);
        else add_secs(b, h->sum_ms);
        ss_buf_addc(b, '\n');
    }
}

static void render_metrics(struct metrics_sink *ms, int64_t now, struct ss_buf *b) {
    const struct snapshot *sn = &ms->snap;
    const struct ss_run_stats *st = &sn->stats;

    help_type(b, "shopstream_records_total", "counter", "Input records read, by stream (valid or not).");
    for (int s = 0; s < SS_STREAM_COUNT; s++)
        sample1(b, "shopstream_records_total", "stream", ss_stream_name((enum ss_stream)s), st->records_by_stream[s]);
    help_type(b, "shopstream_records_valid_total", "counter", "Input records that passed validation.");
    sample1(b, "shopstream_records_valid_total", NULL, NULL, st->valid);
    help_type(b, "shopstream_records_invalid_total", "counter",
              "Invalid input records (sent to the dead-letter output), by reason.");
    for (int r = 1; r < SS_REASON_COUNT; r++)
        sample1(b, "shopstream_records_invalid_total", "reason", ss_reason_name((enum ss_reason)r),
                st->invalid_by_reason[r]);
    help_type(b, "shopstream_records_late_total", "counter",
              "Valid records older than the watermark on arrival (sent to the late output).");
    sample1(b, "shopstream_records_late_total", NULL, NULL, st->late);
    help_type(b, "shopstream_duplicates_total", "counter", "On-time records whose event_id was already seen.");
    sample1(b, "shopstream_duplicates_total", NULL, NULL, st->duplicates);

    help_type(b, "shopstream_rows_out_total", "counter",
              "Output rows committed to the sinks, by table (windowed tables: final rows only).");
    for (int t = 0; t < SS_T_COUNT; t++)
        sample1(b, "shopstream_rows_out_total", "table", ss_tables[t].name, sn->rows_final[t]);
    help_type(b, "shopstream_rows_provisional_total", "counter",
              "Provisional window rows (final = false) committed, by table; only when a sink asks for them.");
    for (int t = 0; t < SS_T_COUNT; t++)
        if (windowed(t)) sample1(b, "shopstream_rows_provisional_total", "table", ss_tables[t].name, sn->rows_prov[t]);

    help_type(b, "shopstream_epochs_total", "counter", "Epochs committed by this process.");
    sample1(b, "shopstream_epochs_total", NULL, NULL, sn->epochs);
    help_type(b, "shopstream_epoch", "gauge", "Number of the last committed epoch.");
    sample1(b, "shopstream_epoch", NULL, NULL, (int64_t)sn->epoch);
    help_type(b, "shopstream_epoch_durable", "gauge",
              "Newest epoch every sink had made durable when the last epoch was handed to the sinks; input "
              "offsets are committed up to it. Behind shopstream_epoch by more than one while the Parquet "
              "lake holds files open (roll_interval).");
    sample1(b, "shopstream_epoch_durable", NULL, NULL, (int64_t)sn->stats.durable_epoch);
    help_type(b, "shopstream_savepoint_bytes", "gauge",
              "Size of the last savepoint written (savepoint.path), bytes; 0 before the first or with savepoints off.");
    sample1(b, "shopstream_savepoint_bytes", NULL, NULL, sn->stats.savepoint_bytes);
    help_type(b, "shopstream_savepoint_duration_ms", "gauge",
              "How long writing the last savepoint took (the state serialised, written and fsynced), ms. A "
              "periodic one is written by a forked child while the engine goes on.");
    sample1(b, "shopstream_savepoint_duration_ms", NULL, NULL, sn->stats.savepoint_ms);
    help_type(b, "shopstream_savepoint_pause_ms", "gauge",
              "How long the engine stopped for the last savepoint, ms: the fork of the child that writes a "
              "periodic one, or the whole write of one at a stop.");
    sample1(b, "shopstream_savepoint_pause_ms", NULL, NULL, sn->stats.savepoint_pause_ms);
    help_type(b, "shopstream_run_complete", "gauge", "1 once the final epoch of a bounded run was committed.");
    sample1(b, "shopstream_run_complete", NULL, NULL, sn->final ? 1 : 0);
    help_type(b, "shopstream_watermark_ms", "gauge", "Event-time watermark, ms since the Unix epoch (UTC).");
    if (sn->watermark == INT64_MIN || sn->watermark == INT64_MAX)
        ss_buf_adds(b, sn->watermark == INT64_MIN ? "shopstream_watermark_ms -Inf\n"
                                                  : "shopstream_watermark_ms +Inf\n");
    else
        sample1(b, "shopstream_watermark_ms", NULL, NULL, sn->watermark);

    help_type(b, "shopstream_input_next_offset", "gauge",
              "Next offset to read per input partition (files: next line number).");
    for (size_t i = 0; i < sn->npos; i++)
        sample_pos(b, "shopstream_input_next_offset", &sn->pos[i], sn->pos[i].next_offset);
    help_type(b, "shopstream_consumer_lag", "gauge", "Messages behind the end of the partition (Kafka inputs).");
    for (size_t i = 0; i < sn->npos; i++)
        if (sn->pos[i].lag >= 0) sample_pos(b, "shopstream_consumer_lag", &sn->pos[i], sn->pos[i].lag);
    help_type(b, "shopstream_partition_max_ts_ms", "gauge", "Largest valid event time seen per input partition, ms.");
    for (size_t i = 0; i < sn->npos; i++)
        if (sn->pos[i].max_ts != INT64_MIN)
            sample_pos(b, "shopstream_partition_max_ts_ms", &sn->pos[i], sn->pos[i].max_ts);

    help_type(b, "shopstream_commit_duration_seconds", "histogram",
              "Time to commit one epoch to every sink and the input positions.");
    render_hist(b, "shopstream_commit_duration_seconds", NULL, &sn->commits);
    help_type(b, "shopstream_sink_commit_duration_seconds", "histogram",
              "Time each sink took to commit one epoch, retries included (sink: its type, #2 for a second of a type).");
    for (int i = 0; i < st->nsinks; i++) render_hist(b, "shopstream_sink_commit_duration_seconds", st->sinks[i].sink,
                                                     &sn->sink_commits[i]);
    help_type(b, "shopstream_state_bytes", "gauge", "Memory held by each operator's state as the last epoch ended.");
    for (int i = 0; i < st->nstate; i++) sample1(b, "shopstream_state_bytes", "operator", st->state[i].op, st->state[i].bytes);
    help_type(b, "shopstream_state_keys", "gauge",
              "Live keys in each operator's state as the last epoch ended (sessions, event ids, windows, strings).");
    for (int i = 0; i < st->nstate; i++) sample1(b, "shopstream_state_keys", "operator", st->state[i].op, st->state[i].keys);

    help_type(b, "shopstream_last_commit_timestamp_seconds", "gauge", "Processing time of the last epoch commit.");
    if (sn->committed) {
        ss_buf_adds(b, "shopstream_last_commit_timestamp_seconds ");
        add_secs(b, sn->commit_wall_ms);
        ss_buf_addc(b, '\n');
    }
    help_type(b, "shopstream_uptime_seconds", "gauge", "Seconds since the run started.");
    ss_buf_adds(b, "shopstream_uptime_seconds ");
    add_secs(b, now - (sn->committed && st->started_ms ? st->started_ms : ms->opened_ms));
    ss_buf_addc(b, '\n');
    help_type(b, "shopstream_alloc_bytes", "gauge", "Bytes live through the engine's allocator (all state).");
    sample1(b, "shopstream_alloc_bytes", NULL, NULL, ss_alloc_live_bytes());
}

static void render_stats(struct metrics_sink *ms, int64_t now, struct ss_buf *b) {
    const struct snapshot *sn = &ms->snap;
    const struct ss_run_stats *st = &sn->stats;
    ss_buf_adds(b, "{\"epoch\":");
    add_i64(b, (int64_t)sn->epoch);
    ss_buf_adds(b, ",\"epochs\":");
    add_i64(b, sn->epochs);
    ss_buf_adds(b, sn->final ? ",\"complete\":true" : ",\"complete\":false");
    ss_buf_adds(b, ",\"watermark\":");
    add_ts_json(b, sn->watermark);
    ss_buf_adds(b, ",\"watermark_ms\":");
    if (sn->watermark == INT64_MIN || sn->watermark == INT64_MAX) ss_buf_adds(b, "null");
    else add_i64(b, sn->watermark);
    ss_buf_adds(b, ",\"records\":");
    add_i64(b, st->records);
    ss_buf_adds(b, ",\"records_by_stream\":{");
    for (int s = 0; s < SS_STREAM_COUNT; s++) {
        if (s) ss_buf_addc(b, ',');
        const char *n = ss_stream_name((enum ss_stream)s);
        ss_buf_add_json_str(b, n, strlen(n));
        ss_buf_addc(b, ':');
        add_i64(b, st->records_by_stream[s]);
    }
    ss_buf_adds(b, "},\"valid\":");
    add_i64(b, st->valid);
    ss_buf_adds(b, ",\"invalid\":");
    add_i64(b, st->invalid);
    ss_buf_adds(b, ",\"invalid_by_reason\":{");
    for (int r = 1; r < SS_REASON_COUNT; r++) {
        if (r > 1) ss_buf_addc(b, ',');
        const char *n = ss_reason_name((enum ss_reason)r);
        ss_buf_add_json_str(b, n, strlen(n));
        ss_buf_addc(b, ':');
        add_i64(b, st->invalid_by_reason[r]);
    }
    ss_buf_adds(b, "},\"late\":");
    add_i64(b, st->late);
    ss_buf_adds(b, ",\"duplicates\":");
    add_i64(b, st->duplicates);
    for (int prov = 0; prov < 2; prov++) {
        ss_buf_adds(b, prov ? ",\"rows_provisional\":{" : ",\"rows_out\":{");
        int first = 1;
        for (int t = 0; t < SS_T_COUNT; t++) {
            if (prov && !windowed(t)) continue;
            if (!first) ss_buf_addc(b, ',');
            first = 0;
            ss_buf_add_json_str(b, ss_tables[t].name, strlen(ss_tables[t].name));
            ss_buf_addc(b, ':');
            add_i64(b, prov ? sn->rows_prov[t] : sn->rows_final[t]);
        }
        ss_buf_addc(b, '}');
    }
    int64_t started = sn->committed && st->started_ms ? st->started_ms : ms->opened_ms;
    ss_buf_adds(b, ",\"started\":");
    add_ts_json(b, started);
    ss_buf_adds(b, ",\"uptime_s\":");
    add_secs(b, now - started);
    ss_buf_adds(b, ",\"last_commit\":");
    if (sn->committed) add_ts_json(b, sn->commit_wall_ms);
    else ss_buf_adds(b, "null");
    ss_buf_adds(b, ",\"last_commit_duration_ms\":");
    if (sn->commits.count) add_i64(b, st->last_commit_ms);
    else ss_buf_adds(b, "null");
    ss_buf_adds(b, ",\"sinks\":[");
    for (int i = 0; i < st->nsinks; i++) {
        if (i) ss_buf_addc(b, ',');
        ss_buf_adds(b, "{\"sink\":");
        ss_buf_add_json_str(b, st->sinks[i].sink, strlen(st->sinks[i].sink));
        ss_buf_adds(b, ",\"last_commit_ms\":");
        if (st->sinks[i].commit_ms >= 0) add_i64(b, st->sinks[i].commit_ms);
        else ss_buf_adds(b, "null");
        ss_buf_addc(b, '}');
    }
    ss_buf_adds(b, "],\"state\":[");
    for (int i = 0; i < st->nstate; i++) {
        if (i) ss_buf_addc(b, ',');
        ss_buf_adds(b, "{\"operator\":");
        ss_buf_add_json_str(b, st->state[i].op, strlen(st->state[i].op));
        ss_buf_adds(b, ",\"bytes\":");
        add_i64(b, st->state[i].bytes);
        ss_buf_adds(b, ",\"keys\":");
        add_i64(b, st->state[i].keys);
        ss_buf_addc(b, '}');
    }
    ss_buf_adds(b, "],\"positions\":[");
    for (size_t i = 0; i < sn->npos; i++) {
        const struct snap_pos *p = &sn->pos[i];
        if (i) ss_buf_addc(b, ',');
        ss_buf_adds(b, "{\"source\":");
        ss_buf_add_json_str(b, p->source, strlen(p->source));
        ss_buf_adds(b, ",\"partition\":");
        add_i64(b, p->partition);
        ss_buf_adds(b, ",\"next_offset\":");
        add_i64(b, p->next_offset);
        ss_buf_adds(b, ",\"lag\":");
        if (p->lag >= 0) add_i64(b, p->lag);
        else ss_buf_adds(b, "null");
        ss_buf_adds(b, ",\"max_ts\":");
        if (p->max_ts == INT64_MIN) ss_buf_adds(b, "null");
        else add_ts_json(b, p->max_ts);
        ss_buf_addc(b, '}');
    }
    ss_buf_adds(b, "]}");
}

static void render_alerts(struct metrics_sink *ms, struct ss_buf *b) {
    const struct snapshot *sn = &ms->snap;
    ss_buf_addc(b, '[');
    int oldest = (sn->alert_head - sn->nalerts + ALERTS_KEPT) % ALERTS_KEPT;
    for (int k = 0; k < sn->nalerts; k++) {
        const struct ss_buf *a = &sn->alerts[(oldest + k) % ALERTS_KEPT];
        if (k) ss_buf_addc(b, ',');
        ss_buf_add(b, a->p, a->len);
    }
    ss_buf_addc(b, ']');
}

static int ready_locked(struct metrics_sink *ms, int64_t now, char *why, size_t whylen) {
    const struct snapshot *sn = &ms->snap;
    if (!sn->committed) {
        snprintf(why, whylen, "not ready: no epoch committed yet");
        return 0;
    }
    if (sn->final) {
        snprintf(why, whylen, "ok: run complete (epoch %" PRIu64 ")", sn->epoch);
        return 1;
    }
    int64_t limit = 3 * ms->epoch_interval_ms;
    if (limit < READY_FLOOR_MS) limit = READY_FLOOR_MS;
    int64_t age = now - sn->commit_wall_ms;
    if (age > limit) {
        snprintf(why, whylen,
                 "not ready: last epoch (%" PRIu64 ") committed %" PRId64 " ms ago, limit %" PRId64
                 " ms (a sink or input may be stuck; see the log)",
                 sn->epoch, age, limit);
        return 0;
    }
    snprintf(why, whylen, "ok");
    return 1;
}

/* ---- HTTP ------------------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *ctype, struct ss_buf *b) {
    struct MHD_Response *r = MHD_create_response_from_buffer(b->len, b->p ? b->p : (void *)"", MHD_RESPMEM_MUST_COPY);
    ss_buf_free(b);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result reply_json_error(struct MHD_Connection *c, unsigned status, const char *msg, const char *path) {
    struct ss_buf b = {0};
    ss_buf_adds(&b, "{\"error\":");
    ss_buf_add_json_str(&b, msg, strlen(msg));
    if (path) {
        ss_buf_adds(&b, ",\"path\":");
        ss_buf_add_json_str(&b, path, strlen(path));
    }
    ss_buf_adds(&b, "}\n");
    return reply(c, status, "application/json", &b);
}

/* A distinct address to mark a request that delivered the final snapshot. */
static const char final_scrape_mark;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls) {
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    struct metrics_sink *ms = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_json_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: use GET", NULL);

    struct ss_buf b = {0};
    unsigned status = MHD_HTTP_OK;
    const char *ctype = "application/json";
    int64_t now = ss_now_ms();
    if (!strcmp(url, "/healthz")) {
        ss_buf_adds(&b, "ok\n");
        ctype = "text/plain; charset=utf-8";
        return reply(c, status, ctype, &b);
    }
    if (!strcmp(url, "/") || !strcmp(url, "/dashboard")) {
        ss_buf_adds(&b, ss_dashboard_html);
        return reply(c, status, "text/html; charset=utf-8", &b);
    }
    const char *user = NULL;
    size_t user_len = 0;
    if (!strncmp(url, USERS_PREFIX, strlen(USERS_PREFIX))) {
        /* everything between the prefix and the suffix, so that an id may hold a '/'
         * (MHD has decoded the %XX escapes by now) */
        size_t ul = strlen(url), pl = strlen(USERS_PREFIX), sl = strlen(USERS_SUFFIX);
        if (ul <= pl + sl || strcmp(url + ul - sl, USERS_SUFFIX) != 0)
            return reply_json_error(c, MHD_HTTP_NOT_FOUND, "not found: expected /api/users/{user_id}/recently-viewed",
                                    url);
        user = url + pl;
        user_len = ul - pl - sl;
    }
    pthread_mutex_lock(&ms->mu);
    if (user) {
        bool found = ms->snap.lists && ss_user_lists_get(ms->snap.lists, (struct ss_str){user, user_len}, &b);
        pthread_mutex_unlock(&ms->mu);
        if (!found)
            return reply_json_error(c, MHD_HTTP_NOT_FOUND,
                                    ms->snap.lists ? "no recently viewed list for this user (no view, or none within "
                                                     "recent.ttl of the watermark)"
                                                   : "recently viewed lists are not kept: add ?recently_viewed=on "
                                                     "to the metrics: URL (about 250 bytes per user with a live list)",
                                    url);
        ss_buf_addc(&b, '\n');
        return reply(c, status, ctype, &b);
    }
    if (!strcmp(url, "/metrics")) {
        render_metrics(ms, now, &b);
        ctype = "text/plain; version=0.0.4; charset=utf-8";
        if (ms->snap.final) *req_cls = (void *)&final_scrape_mark;
    } else if (!strcmp(url, "/readyz")) {
        char why[256];
        if (!ready_locked(ms, now, why, sizeof why)) status = MHD_HTTP_SERVICE_UNAVAILABLE;
        ss_buf_adds(&b, why);
        ss_buf_addc(&b, '\n');
        ctype = "text/plain; charset=utf-8";
    } else if (!strcmp(url, "/api/stats")) {
        render_stats(ms, now, &b);
        ss_buf_addc(&b, '\n');
    } else if (!strcmp(url, "/api/quality")) {
        if (ms->snap.quality.len) {
            ss_buf_add(&b, ms->snap.quality.p, ms->snap.quality.len);
            ss_buf_addc(&b, '\n');
        } else {
            pthread_mutex_unlock(&ms->mu);
            return reply_json_error(c, MHD_HTTP_NOT_FOUND, "no data_quality row yet", NULL);
        }
    } else if (!strcmp(url, "/api/alerts")) {
        render_alerts(ms, &b);
        ss_buf_addc(&b, '\n');
    } else if (!strcmp(url, "/api/windows")) {
        ss_live_windows_render(&ms->snap.windows, &b);
        ss_buf_addc(&b, '\n');
    } else {
        pthread_mutex_unlock(&ms->mu);
        return reply_json_error(c, MHD_HTTP_NOT_FOUND,
                                "not found (endpoints: / (the dashboard) /metrics /healthz /readyz /api/stats /api/quality "
                                "/api/alerts /api/windows /api/users/{user_id}/recently-viewed)",
                                url);
    }
    pthread_mutex_unlock(&ms->mu);
    return reply(c, status, ctype, &b);
}

/* The final snapshot counts as scraped only once its response was sent completely. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe) {
    (void)c;
    struct metrics_sink *ms = cls;
    if (*req_cls != &final_scrape_mark) return;
    *req_cls = NULL;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) return;
    pthread_mutex_lock(&ms->mu);
    ms->snap.final_scraped = 1;
    pthread_cond_broadcast(&ms->cv);
    pthread_mutex_unlock(&ms->mu);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
    for (char *p = msg; *p; p++)
        if (*p == '"') *p = '\'';
    ss_warn(comp, "msg=\"http server: %s\"", msg);
}

/* ---- the sink --------------------------------------------------------------------- */

/* The URL's options */
struct metrics_opts {
    int64_t linger;
    bool lists;  /* keep users' recently viewed lists for /api/users/{id}/recently-viewed */
};

/* "HOST:PORT[?linger=DUR&recently_viewed=on|off]" (HOST may be [v6]). Fills host/port;
 * returns SS_OK or SS_EUSAGE. */
static int parse_url(const char *url, char *host, size_t hostlen, char *port, size_t portlen,
                     struct metrics_opts *opts, struct ss_err *err) {
    const char *spec = url + strlen("metrics:");
    const char *q = strchr(spec, '?');
    size_t len = q ? (size_t)(q - spec) : strlen(spec);
    const char *hint = "expected metrics:HOST:PORT, e.g. metrics:127.0.0.1:9464 (port 0 picks a free port)";
    const char *colon = NULL;
    const char *h = spec;
    size_t hl;
    if (len && spec[0] == '[') {
        const char *close = memchr(spec, ']', len);
        if (!close || close + 1 >= spec + len || close[1] != ':')
            return ss_err_set(err, SS_EUSAGE, "bad metrics address \"%s\": %s", url, hint);
        h = spec + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        for (size_t i = len; i-- > 0;)
            if (spec[i] == ':') {
                colon = spec + i;
                break;
            }
        if (!colon) return ss_err_set(err, SS_EUSAGE, "bad metrics address \"%s\": %s", url, hint);
        hl = (size_t)(colon - spec);
    }
    size_t pl = (size_t)(spec + len - colon - 1);
    if (hl == 0 || hl >= hostlen || pl == 0 || pl >= portlen)
        return ss_err_set(err, SS_EUSAGE, "bad metrics address \"%s\": %s", url, hint);
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, colon + 1, pl);
    port[pl] = '\0';
    char *end;
    long pn = strtol(port, &end, 10);
    if (*end || pn < 0 || pn > 65535)
        return ss_err_set(err, SS_EUSAGE, "bad metrics port \"%s\" in \"%s\": a number 0..65535", port, url);
    /* lists are opt-in: ~250 bytes per user with a live list, GBs for a big shop, is too
     * much to add to a process that only wanted its metrics scraped */
    *opts = (struct metrics_opts){.linger = 0, .lists = false};
    while (q && *q) {
        const char *opt = q + 1;
        const char *amp = strchr(opt, '&');
        size_t ol = amp ? (size_t)(amp - opt) : strlen(opt);
        char val[64];
        if (ol > 7 && !strncmp(opt, "linger=", 7) && ol - 7 < sizeof val) {
            memcpy(val, opt + 7, ol - 7);
            val[ol - 7] = '\0';
            if (ss_duration_parse(val, &opts->linger) != 0 || opts->linger < 0)
                return ss_err_set(err, SS_EUSAGE, "bad linger \"%s\" in \"%s\": a duration such as 30s", val, url);
        } else if (ol > 16 && !strncmp(opt, "recently_viewed=", 16)) {
            size_t vl = ol - 16;
            if (vl == 2 && !strncmp(opt + 16, "on", 2)) opts->lists = true;
            else if (vl == 3 && !strncmp(opt + 16, "off", 3)) opts->lists = false;
            else
                return ss_err_set(err, SS_EUSAGE, "bad recently_viewed \"%.*s\" in \"%s\": on or off", (int)vl,
                                  opt + 16, url);
        } else {
            return ss_err_set(err, SS_EUSAGE,
                              "unknown option \"%.*s\" in \"%s\" (known: linger=DURATION, recently_viewed=on|off)",
                              (int)ol, opt, url);
        }
        q = amp;
    }
    return SS_OK;
}

/* Binds and listens ourselves (rather than letting MHD do it) to report the exact
 * errno and to learn the port chosen for port 0. */
static int listen_on(const char *host, const char *port, const char *url, int *fd_out, int *port_out, bool *v6,
                     struct ss_err *err) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0)
        return ss_err_set(err, SS_EUSAGE, "metrics address \"%s\": cannot resolve host \"%s\": %s", url, host,
                          gai_strerror(gai));
    int rc = SS_OK, fd = -1, saved = 0;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 64) == 0) {
            *v6 = a->ai_family == AF_INET6;
            break;
        }
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0)
        return ss_err_set(err, SS_EIO, "cannot listen on %s:%s: %s (choose another port in the metrics: URL or http.listen)",
                          host, port, strerror(saved));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        rc = ss_err_set(err, SS_EIO, "cannot read the bound address of %s:%s: %s", host, port, strerror(errno));
        close(fd);
        return rc;
    }
    *port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return SS_OK;
}

static void free_snapshot(struct snapshot *sn) {
    for (size_t i = 0; i < sn->npos; i++) ss_free(sn->pos[i].source);
    ss_free(sn->pos);
    ss_buf_free(&sn->quality);
    for (int i = 0; i < ALERTS_KEPT; i++) ss_buf_free(&sn->alerts[i]);
    ss_live_windows_free(&sn->windows);
    ss_user_lists_free(sn->lists);
}

static void metrics_close(struct ss_sink *sk) {
    struct metrics_sink *ms = (struct metrics_sink *)sk;
    if (ms->mhd && ms->linger_ms > 0) {
        pthread_mutex_lock(&ms->mu);
        if (ms->snap.final && !ms->snap.final_scraped) {
            ss_info(comp, "msg=\"run complete; serving until /metrics is scraped\" port=%d linger_ms=%" PRId64,
                    ms->port, ms->linger_ms);
            struct timespec dl = ss_deadline_in_ms(ms->linger_ms);
            while (!ms->snap.final_scraped)
                if (pthread_cond_timedwait(&ms->cv, &ms->mu, &dl) == ETIMEDOUT) break;
        }
        pthread_mutex_unlock(&ms->mu);
    }
    if (ms->mhd) MHD_stop_daemon(ms->mhd); /* also closes the listening socket */
    pthread_cond_destroy(&ms->cv);
    pthread_mutex_destroy(&ms->mu);
    free_snapshot(&ms->snap);
    ss_free(ms);
}

/* Only the URL: resolving HOST could wait on a name server, and binding would take the port. */
static int metrics_check(const char *url, const struct ss_config *cfg, struct ss_err *err) {
    (void)cfg;
    char host[256], port[16];
    struct metrics_opts opts;
    return parse_url(url, host, sizeof host, port, sizeof port, &opts, err);
}

static int metrics_open(struct ss_sink **out, const char *url, const struct ss_config *cfg, struct ss_err *err) {
    char host[256], port[16];
    struct metrics_opts opts = {0}; /* set by parse_url when it succeeds */
    int rc = parse_url(url, host, sizeof host, port, sizeof port, &opts, err);
    if (rc) return rc;
    int fd = -1, bound = 0;
    bool v6 = false;
    rc = listen_on(host, port, url, &fd, &bound, &v6, err);
    if (rc) return rc;

    struct metrics_sink *ms = ss_calloc(1, sizeof *ms);
    ms->base.type = &ss_sink_metrics;
    ms->port = bound;
    ms->epoch_interval_ms = cfg->epoch_interval_ms > 0 ? cfg->epoch_interval_ms : 2000;
    ms->linger_ms = opts.linger;
    ss_live_windows_init(&ms->snap.windows);
    if (opts.lists) ms->snap.lists = ss_user_lists_new(cfg->recent_ttl_ms);
    ms->opened_ms = ss_now_ms();
    ms->snap.watermark = INT64_MIN;
    pthread_mutex_init(&ms->mu, NULL);
    pthread_cond_init(&ms->cv, NULL);

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (v6) flags |= MHD_USE_IPv6;
    sigset_t saved; /* its threads must not take the user's SIGINT/SIGTERM (shutdown.h) */
    ss_shutdown_mask(&saved);
    ms->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, ms,
                               MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, (void *)NULL,
                               MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                               MHD_OPTION_NOTIFY_COMPLETED, on_completed, (void *)ms,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                               MHD_OPTION_END);
    ss_shutdown_unmask(&saved);
    if (!ms->mhd) {
        close(fd);
        metrics_close(&ms->base);
        return ss_err_set(err, SS_EIO, "cannot start the HTTP server on %s:%s (libmicrohttpd refused; see the log)",
                          host, port);
    }
    const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";
    ss_info(comp, "msg=\"listening\" addr=%s%s%s:%d url=http://%s%s%s:%d/metrics dashboard=http://%s%s%s:%d/", lb, host,
            rb, bound, lb, host, rb, bound, lb, host, rb, bound);
    *out = &ms->base;
    return SS_OK;
}

static void copy_positions(struct snapshot *sn, const struct ss_epoch *ep) {
    size_t n = ep->npositions > 0 ? (size_t)ep->npositions : 0;
    if (n > sn->cappos) {
        size_t old = sn->cappos;
        SS_GROW(sn->pos, sn->cappos, n);
        memset(sn->pos + old, 0, (sn->cappos - old) * sizeof *sn->pos);
    }
    for (size_t i = n; i < sn->npos; i++) {
        ss_free(sn->pos[i].source);
        sn->pos[i].source = NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const struct ss_position *p = &ep->positions[i];
        struct snap_pos *d = &sn->pos[i];
        const char *src = p->source ? p->source : "";
        if (!d->source || strcmp(d->source, src) != 0) {
            ss_free(d->source);
            d->source = ss_strdup(src);
        }
        d->partition = p->partition;
        d->next_offset = p->next_offset;
        d->lag = p->lag;
        d->max_ts = p->max_ts;
    }
    sn->npos = n;
}

static int metrics_commit(struct ss_sink *sk, const struct ss_epoch *ep, struct ss_err *err) {
    (void)err;
    struct metrics_sink *ms = (struct metrics_sink *)sk;
    const struct ss_out *o = ep->rows;
    int64_t now = ss_now_ms();
    pthread_mutex_lock(&ms->mu);
    struct snapshot *sn = &ms->snap;
    /* a repeated commit of an epoch (the engine's replay) carries rows already counted */
    bool fresh = !sn->committed || ep->epoch > sn->epoch;
    if (fresh && o) {
        for (int t = 0; t < SS_T_COUNT; t++) {
            const struct ss_rows *r = &o->t[t];
            int fc = ss_tables[t].final_col;
            if (fc < 0) {
                sn->rows_final[t] += (int64_t)r->n;
                continue;
            }
            int64_t fin = 0;
            for (size_t i = 0; i < r->n; i++) fin += ss_out_get(o, (enum ss_table_id)t, i)[fc].i != 0;
            sn->rows_final[t] += fin;
            sn->rows_prov[t] += (int64_t)r->n - fin;
        }
        size_t nq = o->t[SS_T_DATA_QUALITY].n;
        if (nq) {
            sn->quality.len = 0;
            const struct ss_val *last = ss_out_get(o, SS_T_DATA_QUALITY, nq - 1);
            ss_row_to_json(&ss_tables[SS_T_DATA_QUALITY], last, &sn->quality);
        }
        size_t na = o->t[SS_T_ALERTS].n;
        for (size_t i = na > ALERTS_KEPT ? na - ALERTS_KEPT : 0; i < na; i++) {
            struct ss_buf *a = &sn->alerts[sn->alert_head];
            a->len = 0;
            ss_row_to_json(&ss_tables[SS_T_ALERTS], ss_out_get(o, SS_T_ALERTS, i), a);
            sn->alert_head = (sn->alert_head + 1) % ALERTS_KEPT;
            if (sn->nalerts < ALERTS_KEPT) sn->nalerts++;
        }
        ss_live_windows_apply(&sn->windows, o, ep->epoch);
    }
    if (fresh && sn->lists) ss_user_lists_apply(sn->lists, o, ep->watermark);
    if (ep->stats) {
        /* stats->last_commit_ms is the previous epoch's commit: observe it once there was one */
        if (fresh && sn->committed) {
            hist_observe(&sn->commits, ep->stats->last_commit_ms);
            for (int i = 0; i < ep->stats->nsinks; i++)
                if (ep->stats->sinks[i].commit_ms >= 0) hist_observe(&sn->sink_commits[i], ep->stats->sinks[i].commit_ms);
        }
        sn->stats = *ep->stats;
    }
    copy_positions(sn, ep);
    if (fresh) sn->epochs++;
    sn->epoch = ep->epoch;
    sn->watermark = ep->watermark;
    sn->final = ep->final;
    sn->committed = 1;
    sn->commit_wall_ms = now;
    pthread_mutex_unlock(&ms->mu);
    return SS_OK;
}

int ss_metrics_sink_port(const struct ss_sink *sk) { return ((const struct metrics_sink *)sk)->port; }

int ss_metrics_sink_ready(struct ss_sink *sk, int64_t now_ms, char *why, size_t whylen) {
    struct metrics_sink *ms = (struct metrics_sink *)sk;
    pthread_mutex_lock(&ms->mu);
    int ok = ready_locked(ms, now_ms, why, whylen);
    pthread_mutex_unlock(&ms->mu);
    return ok;
}

void ss_metrics_sink_render(struct ss_sink *sk, int64_t now_ms, struct ss_buf *b) {
    struct metrics_sink *ms = (struct metrics_sink *)sk;
    pthread_mutex_lock(&ms->mu);
    render_metrics(ms, now_ms, b);
    pthread_mutex_unlock(&ms->mu);
}

const struct ss_sink_type ss_sink_metrics = {
    .name = "metrics",
    .scheme = "metrics:",
    .flags = SS_SINK_PROVISIONAL, /* /api/windows shows windows still open */
    .open = metrics_open,
    .check = metrics_check,
    .commit = metrics_commit,
    .close = metrics_close,
};
