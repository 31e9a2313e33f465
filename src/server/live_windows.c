/* live_windows.c — the newest windows of each windowed table (see live_windows.h). */
#include "live_windows.h"

#include <string.h>

#include "../core/timefmt.h"
#include "../sink/rowjson.h"

void ss_live_windows_init(struct ss_live_windows *lw) {
    memset(lw, 0, sizeof *lw);
    for (int t = 0; t < SS_T_COUNT; t++) {
        for (int k = 0; k < SS_LIVE_WINDOWS_KEPT; k++) lw->w[t][k].start = INT64_MIN;
        lw->last_final[t].start = INT64_MIN;
    }
}

void ss_live_windows_free(struct ss_live_windows *lw) {
    for (int t = 0; t < SS_T_COUNT; t++) {
        for (int k = 0; k < SS_LIVE_WINDOWS_KEPT; k++) ss_buf_free(&lw->w[t][k].rows);
        ss_buf_free(&lw->last_final[t].rows);
    }
}

/* The slot of window start in table t's: its own, else an empty one or the oldest's
 * (reset) when start is newer than it; NULL when start is older than all kept. */
static struct ss_live_window *slot_for(struct ss_live_windows *lw, int t, int64_t start) {
    struct ss_live_window *oldest = NULL;
    for (int k = 0; k < SS_LIVE_WINDOWS_KEPT; k++) {
        struct ss_live_window *w = &lw->w[t][k];
        if (w->start == start) return w;
        if (!oldest || w->start < oldest->start) oldest = w;
    }
    if (oldest->start != INT64_MIN && start < oldest->start) return NULL;
    oldest->start = start;
    oldest->epoch = 0;
    oldest->rows.len = 0;
    return oldest;
}

static void add_row(struct ss_live_window *w, const struct ss_table *tb, const struct ss_val *row, uint64_t epoch) {
    if (w->epoch != epoch) { /* this epoch's rows replace an earlier one's */
        w->epoch = epoch;
        w->rows.len = 0;
    }
    if (w->rows.len) ss_buf_addc(&w->rows, ',');
    ss_row_to_json(tb, row, &w->rows);
    w->final = row[tb->final_col].i != 0;
}

void ss_live_windows_apply(struct ss_live_windows *lw, const struct ss_out *o, uint64_t epoch) {
    for (int t = 0; t < SS_T_COUNT; t++) {
        const struct ss_table *tb = &ss_tables[t];
        if (tb->final_col < 0) continue;
        for (size_t i = 0; i < o->t[t].n; i++) {
            const struct ss_val *row = ss_out_get(o, (enum ss_table_id)t, i);
            int64_t start = row[0].i; /* column 0: window_start */
            struct ss_live_window *w = slot_for(lw, t, start);
            if (w) add_row(w, tb, row, epoch);
            struct ss_live_window *f = &lw->last_final[t];
            if (row[tb->final_col].i && start >= f->start) {
                if (start > f->start) { /* a newer window closed: it replaces the last one */
                    f->start = start;
                    f->epoch = 0;
                }
                add_row(f, tb, row, epoch);
            }
        }
    }
}

static void add_window(struct ss_buf *b, const struct ss_live_window *w) {
    ss_buf_adds(b, "{\"window_start\":");
    char iso[40];
    int n = ss_ts_format(w->start, iso);
    ss_buf_addc(b, '"');
    ss_buf_add(b, iso, (size_t)n);
    ss_buf_addc(b, '"');
    ss_buf_adds(b, w->final ? ",\"final\":true,\"rows\":[" : ",\"final\":false,\"rows\":[");
    ss_buf_add(b, w->rows.p, w->rows.len);
    ss_buf_adds(b, "]}");
}

void ss_live_windows_render(const struct ss_live_windows *lw, struct ss_buf *b) {
    ss_buf_addc(b, '{');
    bool first_table = true;
    for (int t = 0; t < SS_T_COUNT; t++) {
        const struct ss_table *tb = &ss_tables[t];
        if (tb->final_col < 0) continue;
        if (!first_table) ss_buf_addc(b, ',');
        first_table = false;
        ss_buf_add_json_str(b, tb->name, strlen(tb->name));
        ss_buf_adds(b, ":[");
        /* newest first: a selection over the few kept */
        int64_t below = INT64_MAX;
        bool first = true, final_shown = false;
        for (;;) {
            const struct ss_live_window *next = NULL;
            for (int k = 0; k < SS_LIVE_WINDOWS_KEPT; k++) {
                const struct ss_live_window *w = &lw->w[t][k];
                if (w->start != INT64_MIN && w->start < below && (!next || w->start > next->start)) next = w;
            }
            if (!next) break;
            below = next->start;
            if (!first) ss_buf_addc(b, ',');
            first = false;
            add_window(b, next);
            if (next->start == lw->last_final[t].start) final_shown = true;
        }
        /* a kept window is newer than any that is not, so the list stays newest first */
        if (lw->last_final[t].start != INT64_MIN && !final_shown) {
            if (!first) ss_buf_addc(b, ',');
            add_window(b, &lw->last_final[t]);
        }
        ss_buf_addc(b, ']');
    }
    ss_buf_addc(b, '}');
}
