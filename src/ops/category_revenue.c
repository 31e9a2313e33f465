/* category_revenue.c — revenue, orders, units, views, cart_adds and distinct buyers
 * per category in tumbling windows of windows.category_revenue (default 1 min),
 * DESIGN §4 / SEMANTICS §5. A spec over the tumbling core (tumbling.h). */
#include "tumbling.h"

static void row(struct ss_out *out, const struct ss_intern *intern, int64_t start, int64_t end,
                const struct ss_tumble_agg *a, bool final) {
    struct ss_val *v = ss_out_row(out, SS_T_CATEGORY_REVENUE);
    v[SS_CR_WINDOW_START].i = start;
    ss_out_str(out, &v[SS_CR_CATEGORY], a->key ? ss_intern_str(intern, a->key) : SS_STR_LIT(""));
    v[SS_CR_WINDOW_END].i = end;
    v[SS_CR_REVENUE].i = a->revenue;
    v[SS_CR_ORDERS].i = a->orders;
    v[SS_CR_UNITS].i = a->units;
    v[SS_CR_VIEWS].i = a->views;
    v[SS_CR_CART_ADDS].i = a->cart_adds;
    v[SS_CR_BUYERS].i = a->distinct[SS_TUMBLE_BUYERS];
    v[SS_CR_FINAL].i = final;
}

static const struct ss_tumble_spec spec = {
    .cfg_key = "windows.category_revenue",
    .keyed = true,
    .distinct_mask = 1u << SS_TUMBLE_BUYERS,
    .row = row,
};

static int open_op(struct ss_op **out, const struct ss_op_env *env, struct ss_err *err) {
    return ss_tumble_open(out, &ss_op_category_revenue, &spec, env->cfg->category_revenue_ms, env, err);
}

const struct ss_op_type ss_op_category_revenue = {
    .name = "category_revenue",
    .open = open_op,
    SS_TUMBLE_HOOKS,
};
