/* test_live_windows.c — the newest windows per windowed table for /api/windows
 * (server/live_windows.c): a window's rows are replaced by each later epoch that has
 * any (a product that left the top N goes with them), final rows mark it final, the
 * three newest window starts are kept and an older window's rows are ignored, but the
 * newest final window stays listed (last) when it is older than those three. */
#include <stdio.h>
#include <string.h>

#include "core/table.h"
#include "server/live_windows.h"
#include "harness.h"

static void tp_row(struct ss_out *o, int64_t ws, const char *product, int rank, int final) {
    struct ss_val *v = ss_out_row(o, SS_T_TRENDING_PRODUCTS);
    v[SS_TP_WINDOW_START].i = ws;
    ss_out_str(o, &v[SS_TP_PRODUCT_ID], ss_str_c(product));
    v[SS_TP_WINDOW_END].i = ws + 600000;
    v[SS_TP_RANK].i = rank;
    v[SS_TP_FINAL].i = final;
}

static struct ss_buf page;
static const char *render(const struct ss_live_windows *lw) {
    page.len = 0;
    ss_live_windows_render(lw, &page);
    ss_buf_addc(&page, '\0');
    return page.p;
}

/* the trending part of the page, with each row shortened to its product id */
static const char *trending(const struct ss_live_windows *lw) {
    static char out[512];
    const char *s = strstr(render(lw), "\"trending_products\":[");
    size_t n = 0;
    out[0] = '\0';
    for (const char *p = s; p && *p && n + 40 < sizeof out; p++) {
        /* a window is {"window_start":"<24 chars>","final":..; a row has its product next */
        if (!strncmp(p, "\"window_start\":\"1970-01-01T00:", 30) && !strncmp(p + 16 + 24, "\",\"final\"", 9)) {
            n += (size_t)snprintf(out + n, sizeof out - n, "%s%.5s", n ? " " : "", p + 30); /* window, mm:ss */
        } else if (!strncmp(p, "\"final\":true,\"rows\"", 19)) {
            n += (size_t)snprintf(out + n, sizeof out - n, "F");
        } else if (!strncmp(p, "\"product_id\":\"", 14)) {
            n += (size_t)snprintf(out + n, sizeof out - n, ",%.2s", p + 14);
        } else if (*p == ']' && p[1] == '}' && p[2] == ']') {
            break; /* the end of the trending list */
        }
    }
    return out;
}

TEST(newest_windows_replaced_by_epoch) {
    struct ss_live_windows lw;
    ss_live_windows_init(&lw);
    CHECK_EQ_STR(render(&lw), "{\"category_revenue\":[],\"hourly_sales\":[],\"trending_products\":[],\"funnel\":[]}");
    struct ss_out o;
    ss_out_init(&o);
    /* epoch 1: four open windows, oldest first as the operator emits them */
    for (int w = 0; w < 4; w++) {
        tp_row(&o, w * 60000, "pa", 1, 0);
        tp_row(&o, w * 60000, "pb", 2, 0);
    }
    ss_live_windows_apply(&lw, &o, 1);
    CHECK_EQ_STR(trending(&lw), "03:00,pa,pb 02:00,pa,pb 01:00,pa,pb");
    /* epoch 2: window 1 final (pb left the top), window 3 provisional with a new product */
    ss_out_clear(&o);
    tp_row(&o, 60000, "pa", 1, 1);
    tp_row(&o, 180000, "pc", 1, 0);
    tp_row(&o, 180000, "pa", 2, 0);
    ss_live_windows_apply(&lw, &o, 2);
    CHECK_EQ_STR(trending(&lw), "03:00,pc,pa 02:00,pa,pb 01:00F,pa");
    /* epoch 3: window 0, older than all kept and than the last final one, is ignored;
     * window 4 pushes out window 1, which stays listed last as the newest final one */
    ss_out_clear(&o);
    tp_row(&o, 0, "pz", 1, 1);
    tp_row(&o, 240000, "pd", 1, 0);
    ss_live_windows_apply(&lw, &o, 3);
    CHECK_EQ_STR(trending(&lw), "04:00,pd 03:00,pc,pa 02:00,pa,pb 01:00F,pa");
    /* epoch 4: window 2 closes (pb left): the newest final one is kept, listed once */
    ss_out_clear(&o);
    tp_row(&o, 120000, "pa", 1, 1);
    ss_live_windows_apply(&lw, &o, 4);
    CHECK_EQ_STR(trending(&lw), "04:00,pd 03:00,pc,pa 02:00F,pa");
    /* epoch 5: window 5 pushes out window 2, still the newest final one; window 1's
     * rows again (a replay) do not bring it back */
    ss_out_clear(&o);
    tp_row(&o, 300000, "pe", 1, 0);
    tp_row(&o, 60000, "pb", 1, 1);
    ss_live_windows_apply(&lw, &o, 5);
    CHECK_EQ_STR(trending(&lw), "05:00,pe 04:00,pd 03:00,pc,pa 02:00F,pa");
    CHECK(strstr(render(&lw), "\"category_revenue\":[],") != NULL);
    ss_out_free(&o);
    ss_live_windows_free(&lw);
}

int main(void) {
    RUN(newest_windows_replaced_by_epoch);
    ss_buf_free(&page);
    return ss_t_report("live_windows");
}
