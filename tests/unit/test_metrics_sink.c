/* test_metrics_sink.c — the metrics: sink (src/server/metrics_sink.c): open on port 0,
 * commit synthetic epochs, fetch every endpoint with a raw HTTP/1.0 socket client and
 * check exact lines; URL errors, port in use, readiness limits, the alerts ring, the
 * replayed-epoch rule, linger, and that close releases the listening socket. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/timefmt.h"
#include "harness.h"
#include "server/dashboard.h"
#include "server/metrics_sink.h"
#include "sink/sink.h"
#include "sink_check.h"

#define TS_20261127 1795737600000LL /* 2026-11-27T00:00:00.000Z */

/* ---- a minimal HTTP client --------------------------------------------------------- */

struct resp {
    int status;
    char *body; /* malloc'd, NUL-terminated */
    char head[2048];
};

static int http(int port, const char *method, const char *path, struct resp *r) {
    memset(r, 0, sizeof *r);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 4096 > cap) buf = realloc(buf, cap *= 2);
        ssize_t k = read(fd, buf + len, cap - len - 1);
        if (k <= 0) break;
        len += (size_t)k;
    }
    close(fd);
    buf[len] = '\0';
    char *sep = strstr(buf, "\r\n\r\n");
    if (!sep || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
        free(buf);
        return -1;
    }
    size_t hl = (size_t)(sep - buf) < sizeof r->head - 1 ? (size_t)(sep - buf) : sizeof r->head - 1;
    memcpy(r->head, buf, hl);
    r->body = strdup(sep + 4);
    free(buf);
    return 0;
}

static bool has_line(const char *text, const char *line) {
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0')) return true;
    return false;
}
#define CHECK_LINE(text, line)                                                              \
    do {                                                                                    \
        if (has_line((text), (line))) ss_t_passed++;                                        \
        else { ss_t_failed++; fprintf(stderr, "FAIL %s:%d: missing line: %s\n", __FILE__, __LINE__, (line)); } \
    } while (0)

static int count_of(const char *text, const char *needle) {
    int c = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle)) c++;
    return c;
}

/* Prometheus text format 0.0.4, as far as we use it: every sample line is
 * `name[{k="v",...}] value`, its family (name minus _bucket/_sum/_count for histograms)
 * was declared by # HELP and # TYPE lines before it, values are numbers or +/-Inf.
 * Returns the number of samples, or -1 (and prints the bad line). */
static int prom_check(const char *text) {
    char fam[64][96];
    char type[64][16];
    int nfam = 0, samples = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (!nl) return -1; /* the page ends with a newline */
        char line[1024];
        size_t n = (size_t)(nl - p);
        if (n >= sizeof line) return -1;
        memcpy(line, p, n);
        line[n] = '\0';
        p = nl + 1;
        if (!strncmp(line, "# HELP ", 7)) continue;
        if (!strncmp(line, "# TYPE ", 7)) {
            if (nfam == 64 || sscanf(line + 7, "%95s %15s", fam[nfam], type[nfam]) != 2) return -1;
            nfam++;
            continue;
        }
        char name[128];
        size_t i = 0;
        while (line[i] && (line[i] == '_' || line[i] == ':' || (line[i] >= 'a' && line[i] <= 'z') ||
                           (line[i] >= 'A' && line[i] <= 'Z') || (i && line[i] >= '0' && line[i] <= '9')))
            i++;
        if (!i || i >= sizeof name) goto bad;
        memcpy(name, line, i);
        name[i] = '\0';
        if (line[i] == '{') {
            i++;
            for (;;) {
                while (line[i] == '_' || (line[i] >= 'a' && line[i] <= 'z')) i++;
                if (line[i++] != '=' || line[i++] != '"') goto bad;
                while (line[i] && line[i] != '"') {
                    if (line[i] == '\\') {
                        if (line[i + 1] != '\\' && line[i + 1] != '"' && line[i + 1] != 'n') goto bad;
                        i++;
                    }
                    i++;
                }
                if (line[i++] != '"') goto bad;
                if (line[i] == ',') { i++; continue; }
                if (line[i++] != '}') goto bad;
                break;
            }
        }
        if (line[i++] != ' ') goto bad;
        const char *v = line + i;
        if (strcmp(v, "+Inf") && strcmp(v, "-Inf")) {
            char *end;
            strtod(v, &end);
            if (end == v || *end) goto bad;
        }
        int found = 0;
        for (int f = 0; f < nfam && !found; f++) {
            size_t fl = strlen(fam[f]);
            if (!strcmp(name, fam[f])) found = 1;
            else if (!strcmp(type[f], "histogram") && !strncmp(name, fam[f], fl) &&
                     (!strcmp(name + fl, "_bucket") || !strcmp(name + fl, "_sum") || !strcmp(name + fl, "_count")))
                found = 1;
        }
        if (!found) goto bad;
        samples++;
        continue;
    bad:
        fprintf(stderr, "bad exposition line: %s\n", line);
        return -1;
    }
    return samples;
}

/* ---- synthetic epochs -------------------------------------------------------------- */

static struct ss_config test_cfg(int64_t interval_ms) {
    struct ss_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.epoch_interval_ms = interval_ms;
    return cfg;
}

static void cr_row(struct ss_out *o, int64_t ws, const char *cat, int final) {
    struct ss_val *v = ss_out_row(o, SS_T_CATEGORY_REVENUE);
    v[SS_CR_WINDOW_START].i = ws;
    ss_out_str(o, &v[SS_CR_CATEGORY], ss_str_c(cat));
    v[SS_CR_WINDOW_END].i = ws + 60000;
    v[SS_CR_FINAL].i = final;
}

static void alert_row(struct ss_out *o, int k) {
    char id[32];
    snprintf(id, sizeof id, "a-%d", k);
    struct ss_val *v = ss_out_row(o, SS_T_ALERTS);
    ss_out_str(o, &v[SS_AL_ALERT_ID], ss_str_c(id));
    ss_out_str(o, &v[SS_AL_KIND], ss_str_c("high_value_order"));
    ss_out_str(o, &v[SS_AL_USER_ID], ss_str_c("u1"));
    v[SS_AL_ORDER_ID].null = 1;
    v[SS_AL_AMOUNT].i = 10000000; /* 1000.00 */
    v[SS_AL_TS].i = TS_20261127 + k;
    ss_out_str(o, &v[SS_AL_DETAIL], ss_str_c("{}"));
}

static void dq_row(struct ss_out *o, int64_t minute, int64_t total, int64_t valid) {
    struct ss_val *v = ss_out_row(o, SS_T_DATA_QUALITY);
    v[SS_DQ_MINUTE_START].i = minute;
    v[SS_DQ_TOTAL].i = total;
    v[SS_DQ_VALID].i = valid;
    v[SS_DQ_MALFORMED].i = total - valid;
    v[SS_DQ_QUALITY_SCORE].i = valid * 10000 / total;
}

static int64_t fd_count(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int64_t n = 0;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

TEST(test_bad_urls) {
    struct ss_config cfg = test_cfg(2000);
    const char *bad[] = {"metrics:", "metrics:127.0.0.1", "metrics::9464", "metrics:127.0.0.1:",
                         "metrics:127.0.0.1:99999", "metrics:127.0.0.1:x1", "metrics:127.0.0.1:0?foo=1",
                         "metrics:127.0.0.1:0?linger=soon", "metrics:[::1]9464",
                         "metrics:127.0.0.1:0?recently_viewed=maybe", "metrics:127.0.0.1:0?recently_viewed="};
    /* open refuses each, and so does the check --print-config makes, in the same words */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused_alike(&ss_sink_metrics, bad[i], &cfg, bad[i]);
    struct ss_sink *sk = NULL;
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_sink_metrics.open(&sk, "metrics:no-such-host.invalid:0", &cfg, &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "no-such-host.invalid") != NULL);
    /* the check neither resolves a name (a name server may be slow or away) nor binds */
    expect_checked_ok(&ss_sink_metrics, "metrics:no-such-host.invalid:0", &cfg, NULL);
    expect_checked_ok(&ss_sink_metrics, "metrics:[::1]:9464?linger=30s", &cfg, NULL);
    expect_checked_ok(&ss_sink_metrics, "metrics:127.0.0.1:0?recently_viewed=off&linger=1s", &cfg, NULL);
}

TEST(test_endpoints) {
    int64_t fds_before = fd_count();
    struct ss_config cfg = test_cfg(2000);
    struct ss_sink *sk = NULL;
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_sink_metrics.open(&sk, "metrics:127.0.0.1:0", &cfg, &err), SS_OK);
    if (!sk) return;
    int port = ss_metrics_sink_port(sk);
    CHECK(port > 0 && port < 65536);

    /* the same port again: a clear error naming it */
    char url[64];
    snprintf(url, sizeof url, "metrics:127.0.0.1:%d", port);
    struct ss_sink *sk2 = NULL;
    CHECK_EQ_INT(ss_sink_metrics.open(&sk2, url, &cfg, &err), SS_EIO);
    CHECK(strstr(err.msg, "Address already in use") != NULL);
    char portstr[16];
    snprintf(portstr, sizeof portstr, ":%d", port);
    CHECK(strstr(err.msg, portstr) != NULL);

    struct resp r;
    /* before the first epoch */
    CHECK_EQ_INT(http(port, "GET", "/healthz", &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(r.body, "ok\n");
    free(r.body);
    CHECK_EQ_INT(http(port, "GET", "/readyz", &r), 0);
    CHECK_EQ_INT(r.status, 503);
    CHECK_EQ_STR(r.body, "not ready: no epoch committed yet\n");
    free(r.body);
    CHECK_EQ_INT(http(port, "GET", "/api/quality", &r), 0);
    CHECK_EQ_INT(r.status, 404);
    CHECK_EQ_STR(r.body, "{\"error\":\"no data_quality row yet\"}\n");
    free(r.body);
    CHECK_EQ_INT(http(port, "GET", "/api/alerts", &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(r.body, "[]\n");
    free(r.body);
    CHECK_EQ_INT(http(port, "GET", "/metrics", &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(strstr(r.head, "text/plain; version=0.0.4") != NULL);
    CHECK_LINE(r.body, "shopstream_records_total{stream=\"clicks\"} 0");
    CHECK_LINE(r.body, "shopstream_watermark_ms -Inf");
    CHECK_LINE(r.body, "shopstream_epochs_total 0");
    CHECK(prom_check(r.body) > 0);
    free(r.body);
    CHECK_EQ_INT(http(port, "GET", "/no/such\"path", &r), 0);
    CHECK_EQ_INT(r.status, 404);
    CHECK(strstr(r.body, "\"path\":\"/no/such\\\"path\"") != NULL);
    free(r.body);
    CHECK_EQ_INT(http(port, "POST", "/metrics", &r), 0);
    CHECK_EQ_INT(r.status, 405);
    free(r.body);

    /* epoch 1: some rows, two partitions (one with a label needing escapes, no lag) */
    struct ss_out o;
    ss_out_init(&o);
    cr_row(&o, TS_20261127, "books", 1);
    cr_row(&o, TS_20261127, "toys", 1);
    cr_row(&o, TS_20261127 + 60000, "books", 0);
    ss_out_row(&o, SS_T_SESSIONS);
    ss_out_row(&o, SS_T_SESSIONS);
    for (int i = 0; i < 4; i++) ss_out_row(&o, SS_T_DLQ);
    ss_out_row(&o, SS_T_LATE);
    dq_row(&o, TS_20261127, 10, 9);
    dq_row(&o, TS_20261127 + 60000, 8, 6); /* the latest: this one is served */
    for (int k = 0; k < 3; k++) alert_row(&o, k);

    struct ss_run_stats st;
    memset(&st, 0, sizeof st);
    st.records = 120;
    st.records_by_stream[SS_STREAM_CLICKS] = 100;
    st.records_by_stream[SS_STREAM_PROMOTIONS] = 5;
    st.records_by_stream[SS_STREAM_ORDERS] = 15;
    st.valid = 113;
    st.invalid = 7;
    st.invalid_by_reason[SS_BAD_MALFORMED] = 4;
    st.invalid_by_reason[SS_BAD_MISSING] = 3;
    st.late = 1;
    st.duplicates = 2;
    st.started_ms = TS_20261127;
    st.last_commit_ms = 0;
    st.nsinks = 2;
    st.sinks[0] = (struct ss_sink_time){"jsonl", -1};
    st.sinks[1] = (struct ss_sink_time){"jsonl#2", -1};
    st.nstate = 2;
    st.state[0] = (struct ss_state_size){"sessions", 123456, 789};
    st.state[1] = (struct ss_state_size){"intern", 1000, 12};
    struct ss_position pos[2] = {
        {.source = "orders", .partition = 3, .next_offset = 42, .lag = 7, .max_ts = TS_20261127 + 5},
        {.source = "we\"ird\\path\n\xff", .partition = 0, .next_offset = 11, .lag = -1, .max_ts = INT64_MIN},
    };
    struct ss_epoch ep = {.epoch = 1, .rows = &o, .positions = pos, .npositions = 2,
                          .watermark = TS_20261127 - 900000, .final = 0, .stats = &st};
    int64_t t0 = ss_now_ms();
    CHECK_EQ_INT(ss_sink_metrics.commit(sk, &ep, &err), SS_OK);
    int64_t t1 = ss_now_ms();

    char why[256];
    CHECK_EQ_INT(ss_metrics_sink_ready(sk, t0 + 30000, why, sizeof why), 1); /* age <= 30 s */
    CHECK_EQ_STR(why, "ok");
    CHECK_EQ_INT(ss_metrics_sink_ready(sk, t1 + 30001, why, sizeof why), 0); /* 3 x 2 s < 30 s floor */
    CHECK(strstr(why, "not ready: last epoch (1) committed") == why);
    CHECK_EQ_INT(http(port, "GET", "/readyz", &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(r.body, "ok\n");
    free(r.body);

    /* epoch 2: previous commit took 7 ms; 120 alerts (only the last 100 are kept) */
    ss_out_clear(&o);
    cr_row(&o, TS_20261127 + 60000, "books", 1);
    for (int k = 3; k < 123; k++) alert_row(&o, k);
    st.last_commit_ms = 7;
    st.sinks[0].commit_ms = 3;
    st.sinks[1].commit_ms = 4;
    st.records += 10;
    st.records_by_stream[SS_STREAM_CLICKS] += 10;
    st.valid += 10;
    pos[0].next_offset = 52;
    pos[0].lag = 0;
    pos[1].max_ts = TS_20261127 + 1234;
    ep.epoch = 2;
    ep.watermark = TS_20261127 - 800000;
    CHECK_EQ_INT(ss_sink_metrics.commit(sk, &ep, &err), SS_OK);
    /* epoch 3: previous took 1200 ms; 2 more alerts; then the same epoch again (a replay) */
    ss_out_clear(&o);
    alert_row(&o, 123);
    alert_row(&o, 124);
    ss_out_row(&o, SS_T_SESSIONS);
    st.last_commit_ms = 1200;
    st.sinks[0].commit_ms = 1;
    st.sinks[1].commit_ms = 1199;
    st.state[0].keys = 790;
    st.durable_epoch = 1; /* a sink held epoch 2's rows when epoch 3 was submitted */
    st.savepoint_bytes = 73239630;
    st.savepoint_ms = 555;
    st.savepoint_pause_ms = 12;
    ep.epoch = 3;
    CHECK_EQ_INT(ss_sink_metrics.commit(sk, &ep, &err), SS_OK);
    CHECK_EQ_INT(ss_sink_metrics.commit(sk, &ep, &err), SS_OK);

    CHECK_EQ_INT(http(port, "GET", "/metrics", &r), 0);
    CHECK_EQ_INT(r.status, 200);
    const char *m = r.body;
    CHECK(prom_check(m) > 40);
    CHECK_LINE(m, "# TYPE shopstream_records_total counter");
    CHECK_LINE(m, "shopstream_records_total{stream=\"clicks\"} 110");
    CHECK_LINE(m, "shopstream_records_total{stream=\"promotions\"} 5");
    CHECK_LINE(m, "shopstream_records_total{stream=\"orders\"} 15");
    CHECK_LINE(m, "shopstream_records_valid_total 123");
    CHECK_LINE(m, "shopstream_records_invalid_total{reason=\"malformed\"} 4");
    CHECK_LINE(m, "shopstream_records_invalid_total{reason=\"missing_field\"} 3");
    CHECK_LINE(m, "shopstream_records_invalid_total{reason=\"bad_amount\"} 0");
    CHECK(!strstr(m, "reason=\"valid\""));
    CHECK_LINE(m, "shopstream_records_late_total 1");
    CHECK_LINE(m, "shopstream_duplicates_total 2");
    CHECK_LINE(m, "shopstream_rows_out_total{table=\"category_revenue\"} 3");
    CHECK_LINE(m, "shopstream_rows_provisional_total{table=\"category_revenue\"} 1");
    CHECK_LINE(m, "shopstream_rows_out_total{table=\"sessions\"} 3"); /* the replay is not counted twice */
    CHECK_LINE(m, "shopstream_rows_out_total{table=\"dlq\"} 4");
    CHECK_LINE(m, "shopstream_rows_out_total{table=\"late\"} 1");
    CHECK_LINE(m, "shopstream_rows_out_total{table=\"alerts\"} 125");
    CHECK_LINE(m, "shopstream_rows_out_total{table=\"data_quality\"} 2");
    CHECK(!strstr(m, "shopstream_rows_provisional_total{table=\"sessions\"}"));
    CHECK_LINE(m, "shopstream_epochs_total 3");
    CHECK_LINE(m, "shopstream_epoch 3");
    CHECK_LINE(m, "shopstream_epoch_durable 1");
    CHECK_LINE(m, "shopstream_savepoint_bytes 73239630");
    CHECK_LINE(m, "shopstream_savepoint_duration_ms 555");
    CHECK_LINE(m, "shopstream_savepoint_pause_ms 12");
    CHECK_LINE(m, "shopstream_run_complete 0");
    CHECK_LINE(m, "shopstream_watermark_ms 1795736800000"); /* 2026-11-27 minus 800 s */
    CHECK_LINE(m, "shopstream_input_next_offset{source=\"orders\",partition=\"3\"} 52");
    CHECK_LINE(m, "shopstream_input_next_offset{source=\"we\\\"ird\\\\path\\n\xEF\xBF\xBD\",partition=\"0\"} 11");
    CHECK_LINE(m, "shopstream_consumer_lag{source=\"orders\",partition=\"3\"} 0");
    CHECK_EQ_INT(count_of(m, "\nshopstream_consumer_lag{"), 1); /* lag -1: no sample */
    CHECK_LINE(m, "shopstream_partition_max_ts_ms{source=\"orders\",partition=\"3\"} 1795737600005");
    CHECK_LINE(m, "shopstream_partition_max_ts_ms{source=\"we\\\"ird\\\\path\\n\xEF\xBF\xBD\",partition=\"0\"} 1795737601234");
    CHECK_LINE(m, "# TYPE shopstream_commit_duration_seconds histogram");
    CHECK_LINE(m, "shopstream_commit_duration_seconds_bucket{le=\"0.005\"} 0");
    CHECK_LINE(m, "shopstream_commit_duration_seconds_bucket{le=\"0.01\"} 1");
    CHECK_LINE(m, "shopstream_commit_duration_seconds_bucket{le=\"1\"} 1");
    CHECK_LINE(m, "shopstream_commit_duration_seconds_bucket{le=\"2.5\"} 2");
    CHECK_LINE(m, "shopstream_commit_duration_seconds_bucket{le=\"30\"} 2");
    CHECK_LINE(m, "shopstream_commit_duration_seconds_bucket{le=\"+Inf\"} 2");
    CHECK_LINE(m, "shopstream_commit_duration_seconds_sum 1.207");
    CHECK_LINE(m, "shopstream_commit_duration_seconds_count 2");
    /* per sink: the replay of epoch 3 observed nothing more */
    CHECK_LINE(m, "# TYPE shopstream_sink_commit_duration_seconds histogram");
    CHECK_LINE(m, "shopstream_sink_commit_duration_seconds_bucket{sink=\"jsonl\",le=\"0.001\"} 1");
    CHECK_LINE(m, "shopstream_sink_commit_duration_seconds_bucket{sink=\"jsonl\",le=\"0.005\"} 2");
    CHECK_LINE(m, "shopstream_sink_commit_duration_seconds_sum{sink=\"jsonl\"} 0.004");
    CHECK_LINE(m, "shopstream_sink_commit_duration_seconds_count{sink=\"jsonl\"} 2");
    CHECK_LINE(m, "shopstream_sink_commit_duration_seconds_bucket{sink=\"jsonl#2\",le=\"0.005\"} 1");
    CHECK_LINE(m, "shopstream_sink_commit_duration_seconds_bucket{sink=\"jsonl#2\",le=\"1\"} 1");
    CHECK_LINE(m, "shopstream_sink_commit_duration_seconds_bucket{sink=\"jsonl#2\",le=\"2.5\"} 2");
    CHECK_LINE(m, "shopstream_sink_commit_duration_seconds_bucket{sink=\"jsonl#2\",le=\"+Inf\"} 2");
    CHECK_LINE(m, "shopstream_sink_commit_duration_seconds_sum{sink=\"jsonl#2\"} 1.203");
    CHECK_LINE(m, "shopstream_state_bytes{operator=\"sessions\"} 123456");
    CHECK_LINE(m, "shopstream_state_keys{operator=\"sessions\"} 790");
    CHECK_LINE(m, "shopstream_state_keys{operator=\"intern\"} 12");
    CHECK(strstr(m, "\nshopstream_uptime_seconds ") != NULL);
    CHECK(strstr(m, "\nshopstream_alloc_bytes ") != NULL);
    free(r.body);

    /* the same page, rendered directly: uptime is exact given now */
    struct ss_buf b = {0};
    ss_metrics_sink_render(sk, TS_20261127 + 61500, &b);
    ss_buf_addc(&b, '\0');
    CHECK_LINE(b.p, "shopstream_uptime_seconds 61.500");
    ss_buf_free(&b);

    CHECK_EQ_INT(http(port, "GET", "/api/quality", &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(r.body, "{\"minute_start\":\"2026-11-27T00:01:00.000Z\",\"total\":8,\"valid\":6,\"malformed\":2,"
                         "\"missing_field\":0,\"unknown_type\":0,\"bad_ts\":0,\"bad_amount\":0,\"late\":0,"
                         "\"duplicates\":0,\"quality_score\":0.7500}\n");
    free(r.body);

    CHECK_EQ_INT(http(port, "GET", "/api/alerts", &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(count_of(r.body, "\"alert_id\""), 100);
    static const char first2[] = "[{\"alert_id\":\"a-25\",\"kind\":\"high_value_order\",\"user_id\":\"u1\","
                                 "\"order_id\":null,\"amount\":\"1000.00\",\"ts\":\"2026-11-27T00:00:00.025Z\","
                                 "\"detail\":\"{}\"},{\"alert_id\":\"a-26\"";
    CHECK(strncmp(r.body, first2, strlen(first2)) == 0);
    CHECK(strstr(r.body, "{\"alert_id\":\"a-124\"") != NULL);
    CHECK(strstr(r.body, "\"detail\":\"{}\"}]\n") != NULL && strstr(r.body, "a-124") > strstr(r.body, "a-123"));
    free(r.body);

    CHECK_EQ_INT(http(port, "GET", "/api/stats", &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(strstr(r.body, "{\"epoch\":3,\"epochs\":3,\"complete\":false,\"watermark\":\"2026-11-26T23:46:40.000Z\","
                         "\"watermark_ms\":1795736800000,\"records\":130,"
                         "\"records_by_stream\":{\"clicks\":110,\"promotions\":5,\"orders\":15},\"valid\":123,"
                         "\"invalid\":7,\"invalid_by_reason\":{\"malformed\":4,\"missing_field\":3,\"unknown_type\":0,"
                         "\"bad_ts\":0,\"bad_amount\":0},\"late\":1,\"duplicates\":2,") == r.body);
    CHECK(strstr(r.body, "\"started\":\"2026-11-27T00:00:00.000Z\"") != NULL);
    CHECK(strstr(r.body, "\"last_commit_duration_ms\":1200") != NULL);
    CHECK(strstr(r.body, "\"sinks\":[{\"sink\":\"jsonl\",\"last_commit_ms\":1},{\"sink\":\"jsonl#2\","
                         "\"last_commit_ms\":1199}],\"state\":[{\"operator\":\"sessions\",\"bytes\":123456,"
                         "\"keys\":790},{\"operator\":\"intern\",\"bytes\":1000,\"keys\":12}],") != NULL);
    CHECK(strstr(r.body, "\"positions\":[{\"source\":\"orders\",\"partition\":3,\"next_offset\":52,\"lag\":0,"
                         "\"max_ts\":\"2026-11-27T00:00:00.005Z\"},{\"source\":\"we\\\"ird\\\\path\\n\xEF\xBF\xBD\",\"partition\":0,"
                         "\"next_offset\":11,\"lag\":null,\"max_ts\":\"2026-11-27T00:00:01.234Z\"}]}\n") != NULL);
    free(r.body);

    /* fewer partitions in a later epoch (a rebalance): the gone one disappears */
    ss_out_clear(&o);
    ep.npositions = 1;
    ep.epoch = 4;
    ep.watermark = INT64_MAX;
    ep.final = 1;
    CHECK_EQ_INT(ss_sink_metrics.commit(sk, &ep, &err), SS_OK);
    CHECK_EQ_INT(http(port, "GET", "/metrics", &r), 0);
    CHECK_EQ_INT(count_of(r.body, "\nshopstream_input_next_offset{"), 1);
    CHECK_LINE(r.body, "shopstream_watermark_ms +Inf");
    CHECK_LINE(r.body, "shopstream_run_complete 1");
    CHECK(prom_check(r.body) > 0);
    free(r.body);
    CHECK_EQ_INT(ss_metrics_sink_ready(sk, t1 + 3600000, why, sizeof why), 1); /* complete: ready */
    CHECK(strstr(why, "run complete") != NULL);

    ss_sink_metrics.close(sk);
    ss_out_free(&o);
    CHECK_EQ_INT(fd_count(), fds_before); /* the listening socket is closed */
    CHECK(http(port, "GET", "/healthz", &r) != 0);
}


static void rv_row(struct ss_out *o, const char *user, const char *products, int64_t ts) {
    struct ss_val *v = ss_out_row(o, SS_T_RECENTLY_VIEWED);
    ss_out_str(o, &v[SS_RV_USER_ID], ss_str_c(user));
    ss_out_str(o, &v[SS_RV_PRODUCTS], ss_str_c(products));
    v[SS_RV_LAST_VIEW_TS].i = ts;
}

/* The state endpoints: a user's list by its URL-encoded id (a '/' in it too), 404 for
 * an unknown user, for a list past recent.ttl and for every user without
 * recently_viewed=on; /api/windows; the dashboard page at / and /dashboard. */
TEST(test_state_endpoints) {
    struct ss_config cfg = test_cfg(2000);
    cfg.recent_ttl_ms = 3600000;
    struct ss_sink *on = NULL, *off = NULL, *dflt = NULL;
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_sink_metrics.open(&on, "metrics:127.0.0.1:0?recently_viewed=on", &cfg, &err), SS_OK);
    CHECK_EQ_INT(ss_sink_metrics.open(&off, "metrics:127.0.0.1:0?recently_viewed=off", &cfg, &err), SS_OK);
    CHECK_EQ_INT(ss_sink_metrics.open(&dflt, "metrics:127.0.0.1:0", &cfg, &err), SS_OK);
    if (!on || !off || !dflt) return;
    struct ss_out o;
    ss_out_init(&o);
    rv_row(&o, "u/1", "[\"p1\",\"p2\"]", TS_20261127);
    rv_row(&o, "u2", "[\"p3\"]", TS_20261127 - 3600000 - 1);
    cr_row(&o, TS_20261127, "books", 1);
    cr_row(&o, TS_20261127 + 60000, "books", 0);
    struct ss_epoch ep = {.epoch = 1, .rows = &o, .watermark = TS_20261127};
    CHECK_EQ_INT(ss_sink_metrics.commit(on, &ep, &err), SS_OK);
    CHECK_EQ_INT(ss_sink_metrics.commit(off, &ep, &err), SS_OK);
    CHECK_EQ_INT(ss_sink_metrics.commit(dflt, &ep, &err), SS_OK);
    int port = ss_metrics_sink_port(on), port_off = ss_metrics_sink_port(off), port_dflt = ss_metrics_sink_port(dflt);
    struct resp r;
    CHECK_EQ_INT(http(port, "GET", "/api/users/u%2F1/recently-viewed", &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(r.body, "{\"user_id\":\"u/1\",\"products\":\"[\\\"p1\\\",\\\"p2\\\"]\","
                         "\"last_view_ts\":\"2026-11-27T00:00:00.000Z\"}\n");
    free(r.body);
    /* u2's last view + ttl < W: gone, as the operator drops it */
    CHECK_EQ_INT(http(port, "GET", "/api/users/u2/recently-viewed", &r), 0);
    CHECK_EQ_INT(r.status, 404);
    CHECK(strstr(r.body, "no recently viewed list for this user") != NULL);
    free(r.body);
    CHECK_EQ_INT(http(port, "GET", "/api/users/u%2F1", &r), 0);
    CHECK_EQ_INT(r.status, 404);
    CHECK(strstr(r.body, "expected /api/users/{user_id}/recently-viewed") != NULL);
    free(r.body);
    for (int k = 0; k < 2; k++) { /* off, by default too */
        CHECK_EQ_INT(http(k ? port_dflt : port_off, "GET", "/api/users/u%2F1/recently-viewed", &r), 0);
        CHECK_EQ_INT(r.status, 404);
        CHECK(strstr(r.body, "add ?recently_viewed=on to the metrics: URL") != NULL);
        free(r.body);
    }

    CHECK_EQ_INT(http(port, "GET", "/api/windows", &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(strstr(r.body, "{\"category_revenue\":[{\"window_start\":\"2026-11-27T00:01:00.000Z\",\"final\":false,"
                         "\"rows\":[{\"window_start\":\"2026-11-27T00:01:00.000Z\",\"category\":\"books\",") == r.body);
    CHECK(strstr(r.body, "},{\"window_start\":\"2026-11-27T00:00:00.000Z\",\"final\":true,\"rows\":[{") != NULL);
    CHECK(strstr(r.body, "],\"hourly_sales\":[],\"trending_products\":[],\"funnel\":[]}\n") != NULL);
    free(r.body);

    for (int k = 0; k < 2; k++) {
        CHECK_EQ_INT(http(port, "GET", k ? "/dashboard" : "/", &r), 0);
        CHECK_EQ_INT(r.status, 200);
        CHECK(strstr(r.head, "text/html; charset=utf-8") != NULL);
        CHECK_EQ_STR(r.body, ss_dashboard_html);
        free(r.body);
    }
    ss_sink_metrics.close(on);
    ss_sink_metrics.close(off);
    ss_sink_metrics.close(dflt);
    ss_out_free(&o);
}

TEST(test_ready_limit) {
    struct ss_config cfg = test_cfg(20000); /* 3 x 20 s = 60 s > the 30 s floor */
    struct ss_sink *sk = NULL;
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_sink_metrics.open(&sk, "metrics:localhost:0", &cfg, &err), SS_OK);
    if (!sk) return;
    struct ss_out o;
    ss_out_init(&o);
    struct ss_run_stats st;
    memset(&st, 0, sizeof st);
    struct ss_epoch ep = {.epoch = 1, .rows = &o, .watermark = INT64_MIN, .stats = &st};
    int64_t t0 = ss_now_ms();
    CHECK_EQ_INT(ss_sink_metrics.commit(sk, &ep, &err), SS_OK);
    int64_t t1 = ss_now_ms();
    char why[256];
    CHECK_EQ_INT(ss_metrics_sink_ready(sk, t0 + 60000, why, sizeof why), 1);
    CHECK_EQ_INT(ss_metrics_sink_ready(sk, t1 + 60001, why, sizeof why), 0);
    CHECK(strstr(why, "limit 60000 ms") != NULL);
    ss_sink_metrics.close(sk);
    ss_out_free(&o);
}

struct closer {
    struct ss_sink *sk;
    int64_t done_ms;
};
static void *close_thread(void *arg) {
    struct closer *c = arg;
    ss_sink_metrics.close(c->sk);
    c->done_ms = ss_now_ms();
    return NULL;
}

/* linger: close waits for one complete scrape of the final snapshot, or the linger time */
TEST(test_linger) {
    struct ss_config cfg = test_cfg(2000);
    struct ss_err err = {0};
    struct ss_out o;
    ss_out_init(&o);
    struct ss_run_stats st;
    memset(&st, 0, sizeof st);
    st.records = 77;
    struct ss_epoch ep = {.epoch = 9, .rows = &o, .watermark = INT64_MAX, .final = 1, .stats = &st};

    struct ss_sink *sk = NULL;
    CHECK_EQ_INT(ss_sink_metrics.open(&sk, "metrics:127.0.0.1:0?linger=60s", &cfg, &err), SS_OK);
    if (!sk) return;
    int port = ss_metrics_sink_port(sk);
    CHECK_EQ_INT(ss_sink_metrics.commit(sk, &ep, &err), SS_OK);
    struct closer c = {.sk = sk};
    pthread_t th;
    int64_t start = ss_now_ms();
    pthread_create(&th, NULL, close_thread, &c);
    struct resp r;
    /* /api/stats and /readyz do not end the linger; a full /metrics does */
    CHECK_EQ_INT(http(port, "GET", "/api/stats", &r), 0);
    CHECK(strstr(r.body, "\"complete\":true") != NULL);
    free(r.body);
    CHECK_EQ_INT(http(port, "GET", "/metrics", &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_LINE(r.body, "shopstream_records_total{stream=\"clicks\"} 0");
    CHECK_LINE(r.body, "shopstream_run_complete 1");
    free(r.body);
    pthread_join(th, NULL);
    CHECK(c.done_ms - start < 30000); /* ended by the scrape, not the 60 s */

    /* no scrape: the linger time bounds the wait */
    sk = NULL;
    CHECK_EQ_INT(ss_sink_metrics.open(&sk, "metrics:127.0.0.1:0?linger=200ms", &cfg, &err), SS_OK);
    if (!sk) return;
    CHECK_EQ_INT(ss_sink_metrics.commit(sk, &ep, &err), SS_OK);
    start = ss_now_ms();
    ss_sink_metrics.close(sk);
    int64_t waited = ss_now_ms() - start;
    CHECK(waited >= 199 && waited < 30000);

    /* not a final epoch (a stopped run): close does not wait */
    sk = NULL;
    CHECK_EQ_INT(ss_sink_metrics.open(&sk, "metrics:127.0.0.1:0?linger=60s", &cfg, &err), SS_OK);
    if (!sk) return;
    ep.final = 0;
    CHECK_EQ_INT(ss_sink_metrics.commit(sk, &ep, &err), SS_OK);
    start = ss_now_ms();
    ss_sink_metrics.close(sk);
    CHECK(ss_now_ms() - start < 30000);
    ss_out_free(&o);
}

int main(void) {
    int64_t live0 = ss_alloc_live_bytes();
    RUN(test_bad_urls);
    RUN(test_endpoints);
    RUN(test_state_endpoints);
    RUN(test_ready_limit);
    RUN(test_linger);
    CHECK_EQ_INT(ss_alloc_live_bytes(), live0); /* every snapshot byte is freed */
    return ss_t_report("metrics_sink");
}
