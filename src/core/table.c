/* table.c — the column descriptors of the output tables (DESIGN §5) and the row buffer. */
#include "table.h"

#include <string.h>

#include "alloc.h"
#include "err.h"

#define K 1 /* key */
#define N 1 /* nullable */

static const struct ss_column category_revenue[] = {
    {"window_start", SS_COL_TS, 0, K}, {"category", SS_COL_STR, 0, K}, {"window_end", SS_COL_TS, 0, 0},
    {"revenue", SS_COL_MONEY, 0, 0},  {"orders", SS_COL_INT, 0, 0},   {"units", SS_COL_INT, 0, 0},
    {"views", SS_COL_INT, 0, 0},      {"cart_adds", SS_COL_INT, 0, 0}, {"buyers", SS_COL_INT, 0, 0},
    {"final", SS_COL_BOOL, 0, 0},
};
static const struct ss_column hourly_sales[] = {
    {"window_start", SS_COL_TS, 0, K}, {"category", SS_COL_STR, 0, K}, {"window_end", SS_COL_TS, 0, 0},
    {"revenue", SS_COL_MONEY, 0, 0},  {"orders", SS_COL_INT, 0, 0},   {"units", SS_COL_INT, 0, 0},
    {"buyers", SS_COL_INT, 0, 0},     {"final", SS_COL_BOOL, 0, 0},
};
static const struct ss_column trending_products[] = {
    {"window_start", SS_COL_TS, 0, K}, {"product_id", SS_COL_STR, 0, K}, {"window_end", SS_COL_TS, 0, 0},
    {"rank", SS_COL_INT, 0, 0},       {"views", SS_COL_INT, 0, 0},      {"cart_adds", SS_COL_INT, 0, 0},
    {"purchases", SS_COL_INT, 0, 0},  {"revenue", SS_COL_MONEY, 0, 0},  {"final", SS_COL_BOOL, 0, 0},
};
static const struct ss_column funnel[] = {
    {"window_start", SS_COL_TS, 0, K},    {"window_end", SS_COL_TS, 0, 0},
    {"viewers", SS_COL_INT, 0, 0},       {"carters", SS_COL_INT, 0, 0},
    {"buyers", SS_COL_INT, 0, 0},        {"view_to_cart", SS_COL_RATIO, N, 0},
    {"cart_to_purchase", SS_COL_RATIO, N, 0}, {"final", SS_COL_BOOL, 0, 0},
};
static const struct ss_column sessions[] = {
    {"user_id", SS_COL_STR, 0, K},     {"session_start", SS_COL_TS, 0, K}, {"session_end", SS_COL_TS, 0, 0},
    {"duration_s", SS_COL_INT, 0, 0},  {"events", SS_COL_INT, 0, 0},       {"views", SS_COL_INT, 0, 0},
    {"cart_adds", SS_COL_INT, 0, 0},   {"purchases", SS_COL_INT, 0, 0},    {"revenue", SS_COL_MONEY, 0, 0},
    {"converted", SS_COL_BOOL, 0, 0},
};
static const struct ss_column promo_matches[] = {
    {"event_id", SS_COL_STR, 0, K},   {"promo_id", SS_COL_STR, 0, K},        {"user_id", SS_COL_STR, 0, 0},
    {"product_id", SS_COL_STR, 0, 0}, {"discount_pct", SS_COL_MONEY, 0, 0}, {"click_ts", SS_COL_TS, 0, 0},
};
static const struct ss_column alerts[] = {
    {"alert_id", SS_COL_STR, 0, K}, {"kind", SS_COL_STR, 0, 0},    {"user_id", SS_COL_STR, 0, 0},
    {"order_id", SS_COL_STR, N, 0}, {"amount", SS_COL_MONEY, 0, 0}, {"ts", SS_COL_TS, 0, 0},
    {"detail", SS_COL_JSON, 0, 0},
};
static const struct ss_column data_quality[] = {
    {"minute_start", SS_COL_TS, 0, K}, {"total", SS_COL_INT, 0, 0},     {"valid", SS_COL_INT, 0, 0},
    {"malformed", SS_COL_INT, 0, 0},   {"missing_field", SS_COL_INT, 0, 0}, {"unknown_type", SS_COL_INT, 0, 0},
    {"bad_ts", SS_COL_INT, 0, 0},      {"bad_amount", SS_COL_INT, 0, 0}, {"late", SS_COL_INT, 0, 0},
    {"duplicates", SS_COL_INT, 0, 0},  {"quality_score", SS_COL_RATIO, 0, 0},
};
static const struct ss_column events[] = {
    {"event_id", SS_COL_STR, 0, K},   {"ts", SS_COL_TS, 0, 0},          {"event_type", SS_COL_STR, 0, 0},
    {"user_id", SS_COL_STR, 0, 0},    {"session_id", SS_COL_STR, N, 0}, {"product_id", SS_COL_STR, 0, 0},
    {"category", SS_COL_STR, 0, 0},   {"price", SS_COL_MONEY, N, 0},    {"quantity", SS_COL_INT, 0, 0},
    {"order_id", SS_COL_STR, N, 0},
};
static const struct ss_column recently_viewed[] = {
    {"user_id", SS_COL_STR, 0, K}, {"products", SS_COL_JSON, 0, 0}, {"last_view_ts", SS_COL_TS, 0, 0},
};
static const struct ss_column dlq[] = {
    {"reason", SS_COL_STR, 0, 0}, {"stream", SS_COL_STR, 0, 0}, {"source", SS_COL_STR, 0, 0},
    {"partition", SS_COL_INT, 0, 0}, {"offset", SS_COL_INT, 0, 0}, {"record", SS_COL_STR, 0, 0},
};
static const struct ss_column late[] = {
    {"stream", SS_COL_STR, 0, 0},   {"source", SS_COL_STR, 0, 0}, {"partition", SS_COL_INT, 0, 0},
    {"offset", SS_COL_INT, 0, 0},   {"ts", SS_COL_TS, 0, 0},      {"watermark", SS_COL_TS, 0, 0},
    {"record", SS_COL_STR, 0, 0},
};

#define T(name, flags, fin) {#name, (int)(sizeof name / sizeof name[0]), name, fin, flags}
const struct ss_table ss_tables[SS_T_COUNT] = {
    [SS_T_CATEGORY_REVENUE] = T(category_revenue, SS_TBL_WINDOWED, SS_CR_FINAL),
    [SS_T_HOURLY_SALES] = T(hourly_sales, SS_TBL_WINDOWED, SS_HS_FINAL),
    [SS_T_TRENDING_PRODUCTS] = T(trending_products, SS_TBL_WINDOWED, SS_TP_FINAL),
    [SS_T_FUNNEL] = T(funnel, SS_TBL_WINDOWED, SS_FN_FINAL),
    [SS_T_SESSIONS] = T(sessions, 0, -1),
    [SS_T_PROMO_MATCHES] = T(promo_matches, 0, -1),
    [SS_T_ALERTS] = T(alerts, 0, -1),
    [SS_T_DATA_QUALITY] = T(data_quality, 0, -1),
    [SS_T_EVENTS] = T(events, SS_TBL_LAKE, -1),
    [SS_T_RECENTLY_VIEWED] = T(recently_viewed, SS_TBL_STATE, -1),
    [SS_T_DLQ] = T(dlq, SS_TBL_SIDE, -1),
    [SS_T_LATE] = T(late, SS_TBL_SIDE, -1),
};
#undef T

void ss_out_init(struct ss_out *o) {
    memset(o, 0, sizeof *o);
    ss_arena_init(&o->arena, 256 * 1024);
}

/* Rows a table's buffer keeps whatever its epochs hold (a few hundred KiB for all). */
#define OUT_KEEP_ROWS 1024

void ss_out_clear(struct ss_out *o) {
    for (int t = 0; t < SS_T_COUNT; t++) {
        struct ss_rows *r = &o->t[t];
        size_t nc = (size_t)ss_tables[t].ncols, rows = r->cap / nc;
        /* A buffer that an epoch used less than a quarter of goes back to twice that
         * epoch's rows. One epoch that closes a burst's sessions at once (2.4M session
         * rows) grew the engine's two rows buffers, which take turns, and one of them
         * then kept 1 GB for the rest of the run while the epochs after it held a few
         * thousand rows. Doubling leaves a steady epoch size using over a quarter,
         * so only a drop to under a quarter reallocates. */
        if (rows > OUT_KEEP_ROWS && r->n * 4 < rows) {
            size_t keep = r->n * 2 > OUT_KEEP_ROWS ? r->n * 2 : OUT_KEEP_ROWS;
            r->v = ss_realloc(r->v, keep * nc * sizeof *r->v);
            if (ss_tables[t].flags & SS_TBL_SIDE) r->user = ss_realloc(r->user, keep * sizeof *r->user);
            r->cap = keep * nc;
        }
        r->n = 0;
    }
    ss_arena_reset(&o->arena);
}

void ss_out_free(struct ss_out *o) {
    for (int t = 0; t < SS_T_COUNT; t++) {
        ss_free(o->t[t].v);
        ss_free(o->t[t].user);
    }
    ss_arena_free(&o->arena);
    memset(o->t, 0, sizeof o->t);
}

struct ss_val *ss_out_row(struct ss_out *o, enum ss_table_id t) {
    struct ss_rows *r = &o->t[t];
    size_t nc = (size_t)ss_tables[t].ncols;
    size_t need = (r->n + 1) * nc;
    if (need > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64 * nc;
        r->v = ss_realloc(r->v, cap * sizeof *r->v);
        if (ss_tables[t].flags & SS_TBL_SIDE) r->user = ss_realloc(r->user, cap / nc * sizeof *r->user);
        r->cap = cap;
    }
    struct ss_val *v = r->v + r->n * nc;
    memset(v, 0, nc * sizeof *v);
    if (r->user) r->user[r->n] = (struct ss_val){.null = 1};
    r->n++;
    return v;
}

void ss_out_str(struct ss_out *o, struct ss_val *v, struct ss_str s) {
    if (!s.p) {
        v->null = 1;
        v->s = NULL;
        v->len = 0;
        return;
    }
    v->s = ss_arena_strndup(&o->arena, s.p, s.len);
    v->len = s.len;
    v->null = 0;
}

size_t ss_out_rows(const struct ss_out *o) {
    size_t n = 0;
    for (int t = 0; t < SS_T_COUNT; t++) n += o->t[t].n;
    return n;
}

int ss_table_find(const char *name, enum ss_table_id *out) {
    for (int t = 0; t < SS_T_COUNT; t++)
        if (strcmp(ss_tables[t].name, name) == 0) {
            *out = (enum ss_table_id)t;
            return SS_OK;
        }
    return SS_ERROR;
}
