/* console.c — the `console:` sink: a one-line summary on stderr every
 * console.interval (records in, rate, invalid, late, duplicates, watermark, rows out),
 * and a last line at the end of the run. For people watching a run, not for data. */
#include <inttypes.h>
#include <stdio.h>

#include <string.h>

#include "../core/alloc.h"
#include "../core/timefmt.h"
#include "sink.h"

struct console_sink {
    struct ss_sink base;
    int64_t interval_ms, last_print_ms, last_records;
    int64_t rows[SS_T_COUNT];
};

static int console_check(const char *url, const struct ss_config *cfg, struct ss_err *err) {
    (void)cfg;
    if (strcmp(url, "console:") != 0)
        return ss_err_set(err, SS_EUSAGE,
                          "console sink takes no options: write console: (its interval is the console.interval "
                          "setting), got \"%s\"",
                          url);
    return SS_OK;
}

static int console_open(struct ss_sink **out, const char *url, const struct ss_config *cfg, struct ss_err *err) {
    int rc = console_check(url, cfg, err);
    if (rc) return rc;
    struct console_sink *cs = ss_calloc(1, sizeof *cs);
    cs->base.type = &ss_sink_console;
    cs->interval_ms = cfg->console_interval_ms;
    cs->last_print_ms = ss_now_ms();
    *out = &cs->base;
    return SS_OK;
}

static void print_line(struct console_sink *cs, const struct ss_epoch *ep, int64_t now) {
    const struct ss_run_stats *st = ep->stats;
    double secs = (double)(now - cs->last_print_ms) / 1000.0;
    double rate = secs > 0 ? (double)(st->records - cs->last_records) / secs : 0;
    char wm[40] = "-inf";
    if (ep->watermark == INT64_MAX) snprintf(wm, sizeof wm, "+inf");
    else if (ep->watermark != INT64_MIN) ss_ts_format(ep->watermark, wm);
    fprintf(stderr,
            "shopstream %s records=%" PRId64 " rate=%.0f/s invalid=%" PRId64 " late=%" PRId64 " duplicates=%" PRId64
            " watermark=%s windows=%" PRId64 " sessions=%" PRId64 " matches=%" PRId64 " alerts=%" PRId64 "\n",
            ep->final ? "done" : "running", st->records, rate, st->invalid, st->late, st->duplicates, wm,
            cs->rows[SS_T_CATEGORY_REVENUE], cs->rows[SS_T_SESSIONS], cs->rows[SS_T_PROMO_MATCHES],
            cs->rows[SS_T_ALERTS]);
    cs->last_print_ms = now;
    cs->last_records = st->records;
}

static int console_commit(struct ss_sink *sk, const struct ss_epoch *ep, struct ss_err *err) {
    (void)err;
    struct console_sink *cs = (struct console_sink *)sk;
    for (int t = 0; t < SS_T_COUNT; t++) {
        const struct ss_table *tb = &ss_tables[t];
        for (size_t i = 0; i < ep->rows->t[t].n; i++) {
            const struct ss_val *v = ss_out_get(ep->rows, (enum ss_table_id)t, i);
            if (tb->final_col < 0 || v[tb->final_col].i) cs->rows[t]++;
        }
    }
    int64_t now = ss_now_ms();
    if (ep->final || now - cs->last_print_ms >= cs->interval_ms) print_line(cs, ep, now);
    return SS_OK;
}

static void console_close(struct ss_sink *sk) { ss_free(sk); }

const struct ss_sink_type ss_sink_console = {
    .name = "console",
    .scheme = "console:",
    .flags = 0,
    .open = console_open,
    .check = console_check,
    .commit = console_commit,
    .close = console_close,
};
