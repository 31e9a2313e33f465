/* table.h — the output tables of DESIGN §5 as data, and the row buffer operators
 * write into and sinks read from.
 *
 * Every sink writes every table generically by walking its column descriptors, so
 * the contract (names, order, types, keys) lives in exactly one place: table.c.
 * Column order: primary key columns first, then the others, as in DESIGN §5.
 *
 * Lifetime: string values in a struct ss_out point into out->arena (ss_out_str copies
 * them there) and stay valid until ss_out_clear. */
#ifndef SS_TABLE_H
#define SS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "str.h"

enum ss_table_id {
    SS_T_CATEGORY_REVENUE,
    SS_T_HOURLY_SALES,
    SS_T_TRENDING_PRODUCTS,
    SS_T_FUNNEL,
    SS_T_SESSIONS,
    SS_T_PROMO_MATCHES,
    SS_T_ALERTS,
    SS_T_DATA_QUALITY,
    SS_T_EVENTS,          /* valid, on-time, deduplicated events (the lake's raw table) */
    SS_T_RECENTLY_VIEWED, /* one row per user whose list changed: the latest list */
    SS_T_DLQ,             /* invalid records with their reason */
    SS_T_LATE,            /* late records */
    SS_T_COUNT
};

enum ss_coltype {
    SS_COL_STR,   /* UTF-8 text */
    SS_COL_INT,   /* int64 */
    SS_COL_MONEY, /* int64 ten-thousandths; written with 2 decimals (NUMERIC(18,2)) */
    SS_COL_TS,    /* int64 ms UTC */
    SS_COL_BOOL,  /* 0 / 1 */
    SS_COL_RATIO, /* int64 ten-thousandths of 1, e.g. 0.8123 is 8123; written with 4 decimals */
    SS_COL_JSON,  /* JSON text */
};

struct ss_column {
    const char *name;
    uint8_t type;     /* enum ss_coltype */
    uint8_t nullable;
    uint8_t key;      /* part of the primary key */
};

enum ss_table_flags {
    SS_TBL_WINDOWED = 1, /* has a `final` column; provisional rows exist */
    SS_TBL_SIDE = 2,     /* dlq / late: side outputs, not result tables */
    SS_TBL_LAKE = 4,     /* written only by sinks that ask for it (events) */
    SS_TBL_STATE = 8,    /* a state change stream (recently_viewed): latest row per key wins */
};

struct ss_table {
    const char *name;
    int ncols;
    const struct ss_column *cols;
    int final_col;       /* index of `final`, or -1 */
    unsigned flags;
};

extern const struct ss_table ss_tables[SS_T_COUNT];

/* Column indices, one enum per table, in descriptor order. */
enum { SS_CR_WINDOW_START, SS_CR_CATEGORY, SS_CR_WINDOW_END, SS_CR_REVENUE, SS_CR_ORDERS, SS_CR_UNITS,
       SS_CR_VIEWS, SS_CR_CART_ADDS, SS_CR_BUYERS, SS_CR_FINAL, SS_CR_NCOLS };
enum { SS_HS_WINDOW_START, SS_HS_CATEGORY, SS_HS_WINDOW_END, SS_HS_REVENUE, SS_HS_ORDERS, SS_HS_UNITS,
       SS_HS_BUYERS, SS_HS_FINAL, SS_HS_NCOLS };
enum { SS_TP_WINDOW_START, SS_TP_PRODUCT_ID, SS_TP_WINDOW_END, SS_TP_RANK, SS_TP_VIEWS, SS_TP_CART_ADDS,
       SS_TP_PURCHASES, SS_TP_REVENUE, SS_TP_FINAL, SS_TP_NCOLS };
enum { SS_FN_WINDOW_START, SS_FN_WINDOW_END, SS_FN_VIEWERS, SS_FN_CARTERS, SS_FN_BUYERS, SS_FN_VIEW_TO_CART,
       SS_FN_CART_TO_PURCHASE, SS_FN_FINAL, SS_FN_NCOLS };
enum { SS_SE_USER_ID, SS_SE_SESSION_START, SS_SE_SESSION_END, SS_SE_DURATION_S, SS_SE_EVENTS, SS_SE_VIEWS,
       SS_SE_CART_ADDS, SS_SE_PURCHASES, SS_SE_REVENUE, SS_SE_CONVERTED, SS_SE_NCOLS };
enum { SS_PM_EVENT_ID, SS_PM_PROMO_ID, SS_PM_USER_ID, SS_PM_PRODUCT_ID, SS_PM_DISCOUNT_PCT, SS_PM_CLICK_TS,
       SS_PM_NCOLS };
enum { SS_AL_ALERT_ID, SS_AL_KIND, SS_AL_USER_ID, SS_AL_ORDER_ID, SS_AL_AMOUNT, SS_AL_TS, SS_AL_DETAIL,
       SS_AL_NCOLS };
enum { SS_DQ_MINUTE_START, SS_DQ_TOTAL, SS_DQ_VALID, SS_DQ_MALFORMED, SS_DQ_MISSING_FIELD, SS_DQ_UNKNOWN_TYPE,
       SS_DQ_BAD_TS, SS_DQ_BAD_AMOUNT, SS_DQ_LATE, SS_DQ_DUPLICATES, SS_DQ_QUALITY_SCORE, SS_DQ_NCOLS };
enum { SS_EV_EVENT_ID, SS_EV_TS, SS_EV_EVENT_TYPE, SS_EV_USER_ID, SS_EV_SESSION_ID, SS_EV_PRODUCT_ID,
       SS_EV_CATEGORY, SS_EV_PRICE, SS_EV_QUANTITY, SS_EV_ORDER_ID, SS_EV_NCOLS };
enum { SS_RV_USER_ID, SS_RV_PRODUCTS, SS_RV_LAST_VIEW_TS, SS_RV_NCOLS };
enum { SS_DL_REASON, SS_DL_STREAM, SS_DL_SOURCE, SS_DL_PARTITION, SS_DL_OFFSET, SS_DL_RECORD, SS_DL_NCOLS };
enum { SS_LT_STREAM, SS_LT_SOURCE, SS_LT_PARTITION, SS_LT_OFFSET, SS_LT_TS, SS_LT_WATERMARK, SS_LT_RECORD,
       SS_LT_NCOLS };

/* One value. Strings point into the owning ss_out's arena. */
struct ss_val {
    int64_t i;
    const char *s;
    uint32_t len;
    uint8_t null;
};

struct ss_rows {
    size_t n, cap;       /* rows */
    struct ss_val *v;    /* n * ncols values, row-major */
    /* Side tables (dlq, late) only: per row, the user the record belongs to (null when
     * it has none or cannot be read), kept beside the columns rather than in them so
     * that the published schema of every sink stays as it is. The Kafka sink keys the
     * dead-letter and late topics by it (DESIGN §5). */
    struct ss_val *user;
};

struct ss_out {
    struct ss_rows t[SS_T_COUNT];
    struct ss_arena arena;
    bool provisional;    /* operators emit provisional rows only when some sink wants them */
    bool events;         /* the events table is filled only when some sink wants it */
};

void ss_out_init(struct ss_out *o);
void ss_out_clear(struct ss_out *o);  /* drops all rows; keeps capacity unless they used under a quarter of it */
void ss_out_free(struct ss_out *o);
/* Appends a row of ncols values, all zero / not null, and returns it. */
struct ss_val *ss_out_row(struct ss_out *o, enum ss_table_id t);
static inline struct ss_val *ss_out_get(const struct ss_out *o, enum ss_table_id t, size_t row) {
    return o->t[t].v + row * (size_t)ss_tables[t].ncols;
}
/* Copies s into the arena and stores it in v (v->null when s.p == NULL). */
void ss_out_str(struct ss_out *o, struct ss_val *v, struct ss_str s);
/* The user of a side table's (SS_TBL_SIDE) row; null until set with ss_out_str. */
static inline struct ss_val *ss_out_user(const struct ss_out *o, enum ss_table_id t, size_t row) {
    return &o->t[t].user[row];
}
size_t ss_out_rows(const struct ss_out *o); /* all tables */

int ss_table_find(const char *name, enum ss_table_id *out);

#endif
