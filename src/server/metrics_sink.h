/* metrics_sink.h — the operations endpoint (DESIGN §8) as a sink: `metrics:HOST:PORT`.
 *
 * The engine hands it every epoch like any other sink; commit copies the run totals,
 * positions, row counts, the latest data_quality row and the last alerts into a
 * snapshot under a mutex, and a libmicrohttpd thread serves that snapshot:
 *
 *   /metrics      Prometheus text format 0.0.4
 *   /healthz      200 "ok" while the process runs
 *   /readyz       200 once an epoch was committed recently, else 503 with the reason
 *   /api/stats    run totals, watermark, epoch, positions and lag (JSON)
 *   /api/quality  the latest data_quality row (JSON, as in data_quality.jsonl)
 *   /api/alerts   the last 100 alerts rows, oldest first (JSON array)
 *   /api/windows  the newest windows of each windowed table (live_windows.h)
 *   /api/users/{id}/recently-viewed   a user's list (user_lists.h)
 *   /             the dashboard page (dashboard.html), polling the JSON API
 *
 * URL: `metrics:HOST:PORT[?linger=DURATION&recently_viewed=on|off]`. HOST is an address or name to bind to
 * (127.0.0.1 keeps it local; [::1] for IPv6); PORT 0 picks a free port, which is
 * logged (msg="listening"). linger (default 0): after the final epoch of a bounded run,
 * close keeps serving until /metrics has been scraped once or DURATION has passed, so
 * that a scraper sees the final totals of a short run. recently_viewed=on keeps every
 * live list for the users endpoint (~250 bytes per user; off by default: a process
 * scraped only for its metrics should not hold GBs for it), which otherwise answers 404.
 *
 * commit never waits for an HTTP client: the server thread holds the mutex only while
 * it formats a response in memory. */
#ifndef SS_METRICS_SINK_H
#define SS_METRICS_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "../sink/sink.h"

extern const struct ss_sink_type ss_sink_metrics;

/* The TCP port the sink listens on (the chosen one when the URL said 0). */
int ss_metrics_sink_port(const struct ss_sink *sk);

/* The /readyz decision at processing time now_ms: 1 ready, 0 not, with the reason in
 * why (NUL-terminated, truncated to whylen). Ready means an epoch was committed and
 * the last commit is at most max(3 x epoch.interval, 30 s) old, or the run is complete. */
int ss_metrics_sink_ready(struct ss_sink *sk, int64_t now_ms, char *why, size_t whylen);

/* Appends the /metrics page as of now_ms to b (what the endpoint serves). */
struct ss_buf;
void ss_metrics_sink_render(struct ss_sink *sk, int64_t now_ms, struct ss_buf *b);

#endif
