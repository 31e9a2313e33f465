/* funnel.c — the conversion funnel: distinct viewers, carters and buyers per tumbling
 * window of windows.funnel (default 1 h, no key) and the ratios between them,
 * DESIGN §4 / SEMANTICS §5. A spec over the tumbling core (tumbling.h): one
 * aggregate per window, all three distinct-user counts kept. */
#include "tumbling.h"

/* num/den in ten-thousandths, rounded half up; null when den is 0. Counts are
 * distinct users (< 2^32), so num * 20000 cannot overflow. */
static void ratio(struct ss_val *v, int64_t num, int64_t den) {
    if (den == 0) {
        v->null = 1;
        return;
    }
    v->i = (num * 2 * 10000 + den) / (2 * den);
}

static void row(struct ss_out *out, const struct ss_intern *intern, int64_t start, int64_t end,
                const struct ss_tumble_agg *a, bool final) {
    (void)intern;
    struct ss_val *v = ss_out_row(out, SS_T_FUNNEL);
    int64_t viewers = a->distinct[SS_TUMBLE_VIEWERS], carters = a->distinct[SS_TUMBLE_CARTERS],
            buyers = a->distinct[SS_TUMBLE_BUYERS];
    v[SS_FN_WINDOW_START].i = start;
    v[SS_FN_WINDOW_END].i = end;
    v[SS_FN_VIEWERS].i = viewers;
    v[SS_FN_CARTERS].i = carters;
    v[SS_FN_BUYERS].i = buyers;
    ratio(&v[SS_FN_VIEW_TO_CART], carters, viewers);
    ratio(&v[SS_FN_CART_TO_PURCHASE], buyers, carters);
    v[SS_FN_FINAL].i = final;
}

static const struct ss_tumble_spec spec = {
    .cfg_key = "windows.funnel",
    .keyed = false,
    .distinct_mask = 1u << SS_TUMBLE_VIEWERS | 1u << SS_TUMBLE_CARTERS | 1u << SS_TUMBLE_BUYERS,
    .row = row,
};

static int open_op(struct ss_op **out, const struct ss_op_env *env, struct ss_err *err) {
    return ss_tumble_open(out, &ss_op_funnel, &spec, env->cfg->funnel_ms, env, err);
}

const struct ss_op_type ss_op_funnel = {
    .name = "funnel",
    .open = open_op,
    SS_TUMBLE_HOOKS,
    .prefetch = ss_tumble_prefetch,
    .prefetch_stages = 1u << 0,
};
