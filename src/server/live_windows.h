/* live_windows.h — the newest windows of each windowed table (category_revenue,
 * hourly_sales, trending_products, funnel), provisional or final, as the operations
 * endpoint serves them (`/api/windows`, the dashboard; DESIGN §8).
 *
 * Folded from committed epochs: each epoch carries every open window's rows again
 * (provisional, when a sink asks for them) and a window's final rows once, each time
 * the whole set for that window (a product that left the top N is simply absent), so a
 * window's rows are replaced by the newest epoch that has any. The LIVE_WINDOWS_KEPT
 * newest window starts per table are kept; older ones are dropped. The newest final
 * window is kept too, even when it is older: under the default 15 min lateness a 1 min
 * table has ~16 windows open, so the kept ones are all provisional (the newest only
 * seconds old) and the last window that will not change any more would be missing. */
#ifndef SS_LIVE_WINDOWS_H
#define SS_LIVE_WINDOWS_H

#include <stdint.h>

#include "../core/buf.h"
#include "../core/table.h"

#define SS_LIVE_WINDOWS_KEPT 3

struct ss_live_window {
    int64_t start;       /* INT64_MIN: empty slot */
    uint64_t epoch;      /* of the rows held */
    int final;
    struct ss_buf rows;  /* the rows' JSON objects, comma-separated */
};

struct ss_live_windows {
    struct ss_live_window w[SS_T_COUNT][SS_LIVE_WINDOWS_KEPT]; /* windowed tables only */
    struct ss_live_window last_final[SS_T_COUNT];              /* the newest final window */
};

void ss_live_windows_init(struct ss_live_windows *lw);
void ss_live_windows_free(struct ss_live_windows *lw);
/* Takes in the windowed tables' rows of epoch (whose number grows by commit). */
void ss_live_windows_apply(struct ss_live_windows *lw, const struct ss_out *o, uint64_t epoch);
/* Appends {"category_revenue":[{"window_start":..,"final":..,"rows":[..]},..],..},
 * newest window first: the kept windows, then the newest final one when it is not
 * among them. */
void ss_live_windows_render(const struct ss_live_windows *lw, struct ss_buf *b);

#endif
