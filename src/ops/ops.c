/* ops.c — the registered operators, in processing order. Adding one is one line. */
#include "op.h"

const struct ss_op_type *const ss_op_types[] = {
    &ss_op_category_revenue, &ss_op_hourly_sales, &ss_op_trending, &ss_op_funnel,
    &ss_op_sessions,         &ss_op_promo_join,   &ss_op_alerts,   &ss_op_recent,
};
const int ss_op_ntypes = (int)(sizeof ss_op_types / sizeof ss_op_types[0]);
