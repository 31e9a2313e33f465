/* sink_rows.h — hand-made output rows for the sink tests (the SQLite unit test and the
 * PostgreSQL / Redis drivers), so every sink is fed the same shapes. Header-only: each
 * test includes it once. */
#ifndef SS_TEST_SINK_ROWS_H
#define SS_TEST_SINK_ROWS_H

#include "core/table.h"

#define T0 1795775400000LL /* 2026-11-27T10:30:00Z */
#define MIN 60000LL

/* A category_revenue row of a one-minute window; units, views and so on follow from orders. */
static inline void cr_row(struct ss_out *o, int64_t ws, const char *cat, int64_t rev, int64_t orders, int fin) {
    struct ss_val *v = ss_out_row(o, SS_T_CATEGORY_REVENUE);
    v[SS_CR_WINDOW_START].i = ws;
    v[SS_CR_WINDOW_END].i = ws + MIN;
    v[SS_CR_REVENUE].i = rev;
    v[SS_CR_ORDERS].i = orders;
    v[SS_CR_UNITS].i = orders * 2;
    v[SS_CR_VIEWS].i = 10;
    v[SS_CR_CART_ADDS].i = 3;
    v[SS_CR_BUYERS].i = orders;
    v[SS_CR_FINAL].i = fin;
    ss_out_str(o, &v[SS_CR_CATEGORY], ss_str_c(cat));
}

static inline void rv_row(struct ss_out *o, const char *user, const char *json, int64_t ts) {
    struct ss_val *v = ss_out_row(o, SS_T_RECENTLY_VIEWED);
    v[SS_RV_LAST_VIEW_TS].i = ts;
    ss_out_str(o, &v[SS_RV_USER_ID], ss_str_c(user));
    ss_out_str(o, &v[SS_RV_PRODUCTS], ss_str_c(json));
}

#endif
