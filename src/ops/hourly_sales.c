/* hourly_sales.c — revenue, orders, units and distinct buyers per category in
 * tumbling windows of windows.hourly_sales (default 1 h), DESIGN §4 / SEMANTICS §5.
 * A spec over the tumbling core (tumbling.h). */
#include "tumbling.h"

static void row(struct ss_out *out, const struct ss_intern *intern, int64_t start, int64_t end,
                const struct ss_tumble_agg *a, bool final) {
    struct ss_val *v = ss_out_row(out, SS_T_HOURLY_SALES);
    v[SS_HS_WINDOW_START].i = start;
    ss_out_str(out, &v[SS_HS_CATEGORY], a->key ? ss_intern_str(intern, a->key) : SS_STR_LIT(""));
    v[SS_HS_WINDOW_END].i = end;
    v[SS_HS_REVENUE].i = a->revenue;
    v[SS_HS_ORDERS].i = a->orders;
    v[SS_HS_UNITS].i = a->units;
    v[SS_HS_BUYERS].i = a->distinct[SS_TUMBLE_BUYERS];
    v[SS_HS_FINAL].i = final;
}

static const struct ss_tumble_spec spec = {
    .cfg_key = "windows.hourly_sales",
    .keyed = true,
    .distinct_mask = 1u << SS_TUMBLE_BUYERS,
    .row = row,
};

static int open_op(struct ss_op **out, const struct ss_op_env *env, struct ss_err *err) {
    return ss_tumble_open(out, &ss_op_hourly_sales, &spec, env->cfg->hourly_sales_ms, env, err);
}

const struct ss_op_type ss_op_hourly_sales = {
    .name = "hourly_sales",
    .open = open_op,
    SS_TUMBLE_HOOKS,
};
