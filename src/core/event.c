/* event.c — names of the enums in event.h, as they appear in inputs and outputs. */
#include "event.h"

#include <string.h>

#include "err.h"

const char *ss_stream_name(enum ss_stream s) {
    static const char *n[] = {"clicks", "promotions", "orders"};
    return (unsigned)s < SS_STREAM_COUNT ? n[s] : "?";
}

int ss_stream_parse(const char *name, enum ss_stream *out) {
    for (int s = 0; s < SS_STREAM_COUNT; s++)
        if (strcmp(name, ss_stream_name((enum ss_stream)s)) == 0) {
            *out = (enum ss_stream)s;
            return SS_OK;
        }
    return SS_ERROR;
}

const char *ss_event_type_name(enum ss_event_type t) {
    static const char *n[] = {"view", "cart_add", "cart_remove", "purchase", "promotion"};
    return (unsigned)t < SS_EV_TYPE_COUNT ? n[t] : "?";
}

const char *ss_reason_name(enum ss_reason r) {
    static const char *n[] = {"valid", "malformed", "missing_field", "unknown_type", "bad_ts", "bad_amount"};
    return (unsigned)r < SS_REASON_COUNT ? n[r] : "?";
}
