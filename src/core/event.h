/* event.h — the canonical event every decoder produces and every operator reads.
 *
 * Lifetime: string views in struct ss_event point either into the input buffer
 * the decoder was given (the Kafka message / the file read buffer) or into the
 * batch arena passed to the decoder (for values that needed JSON unescaping or CSV
 * unquoting). Both stay valid until the engine finishes the batch; an operator that
 * keeps a string past that must intern it (intern.h) or copy it.
 * The interned ids (user, product, category, promo) are filled by the engine after
 * decoding and hold no reference: an operator that keeps one calls ss_intern_hold. */
#ifndef SS_EVENT_H
#define SS_EVENT_H

#include <stdint.h>

#include "str.h"

enum ss_stream {
    SS_STREAM_CLICKS = 0,
    SS_STREAM_PROMOTIONS = 1,
    SS_STREAM_ORDERS = 2,
    SS_STREAM_COUNT
};

enum ss_event_type {
    SS_EV_VIEW = 0,
    SS_EV_CART_ADD = 1,
    SS_EV_CART_REMOVE = 2,
    SS_EV_PURCHASE = 3,
    SS_EV_PROMOTION = 4, /* every event of the promotions stream */
    SS_EV_TYPE_COUNT
};

/* Why a record was rejected (DESIGN §3). missing_<field> is SS_BAD_MISSING plus the
 * field name in ss_decode_result.missing_field. */
enum ss_reason {
    SS_VALID = 0,
    SS_BAD_MALFORMED,
    SS_BAD_MISSING,
    SS_BAD_UNKNOWN_TYPE,
    SS_BAD_TS,
    SS_BAD_AMOUNT,
    SS_REASON_COUNT
};

/* Where a record came from: enough to find it again (dead-letter rows carry it). */
struct ss_origin {
    struct ss_str source;  /* topic name or file path */
    int32_t partition;     /* Kafka partition; for files, the input's index */
    int64_t offset;        /* Kafka offset; for files, the 1-based line number */
};

struct ss_event {
    int64_t ts;          /* event time, ms UTC */
    int64_t price;       /* fixed-point ten-thousandths (money.h); 0 when absent */
    int32_t quantity;    /* default 1 */
    uint8_t stream;      /* enum ss_stream */
    uint8_t type;        /* enum ss_event_type */
    uint8_t has_price;

    struct ss_str event_id;   /* orders: the order_id */
    struct ss_str user_id;
    struct ss_str session_id; /* optional: .p == NULL when absent */
    struct ss_str product_id;
    struct ss_str category;   /* "" when absent */
    struct ss_str order_id;   /* optional: .p == NULL when absent */

    /* promotions only */
    struct ss_str promo_id;
    int64_t discount_pct;     /* fixed-point ten-thousandths: 12.5% is 125000 */
    int64_t starts_at, ends_at;

    /* interned by the engine (0 = none): dense ids for keyed state */
    uint32_t user, product, cat, promo;

    struct ss_origin origin;
    uint32_t slot;            /* the engine's dense index of (source, partition) */
    struct ss_str raw;        /* the record's original bytes (for DLQ / late outputs) */
};

const char *ss_stream_name(enum ss_stream s);       /* "clicks", "promotions", "orders" */
int ss_stream_parse(const char *name, enum ss_stream *out);
const char *ss_event_type_name(enum ss_event_type t); /* "view", "cart_add", ... */
const char *ss_reason_name(enum ss_reason r);        /* "malformed", "missing_field", ... */

#endif
