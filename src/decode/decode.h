/* decode.h — schema-directed decoders: bytes of one record -> canonical event.
 *
 * One decoder per input (it knows the stream, the format and the input field names;
 * a CSV decoder also remembers the header's column positions). Decoding allocates
 * nothing per field: strings are views into `buf`, except values that needed JSON
 * unescaping or CSV unquoting, which are copied into `arena` (event.h lifetimes).
 *
 * Validation is part of decoding and gives exactly one reason per rejected record,
 * checked in this order (the same order as the README and the test model):
 *   1. malformed      — not a JSON object / bad JSON syntax / a CSV row whose column
 *                       count differs from the header / a field of the wrong JSON kind
 *                       (object or array where a scalar belongs) / bytes that are
 *                       not UTF-8
 *   2. missing_<f>    — the first missing required field, in canonical field order
 *                       (enum ss_field); null or "" counts as missing;
 *                       clicks: event_id, event_type, user_id, product_id, ts;
 *                       orders: order_id, user_id, product_id, price, ts;
 *                       promotions: promo_id, product_id, discount_pct, starts_at, ends_at, ts
 *   3. unknown_type   — clicks: event_type not view|cart_add|cart_remove|purchase
 *   4. missing_price  — a click purchase without price
 *   5. bad_ts         — ts (or starts_at / ends_at) not readable by ss_ts_parse, which
 *                       also refuses instants outside years 0000-9999
 *   6. bad_amount     — price, quantity or discount_pct not an exact number; quantity not
 *                       an integer; a purchase with price < 0 or quantity <= 0, or whose
 *                       price x quantity overflows; a discount_pct outside [0, 100]
 * An orders line becomes a purchase with event_id = order_id = the order's id. */
#ifndef SS_DECODE_H
#define SS_DECODE_H

#include <stddef.h>

#include "../core/arena.h"
#include "../core/config.h"
#include "../core/err.h"
#include "../core/event.h"

enum ss_format { SS_FMT_JSON, SS_FMT_CSV };

enum ss_decode_status {
    SS_DEC_EVENT = 0,   /* ev is a valid event */
    SS_DEC_INVALID = 1, /* res says why; ev->raw is set */
    SS_DEC_SKIP = 2,    /* nothing to emit: the CSV header, a blank line */
};

struct ss_decode_result {
    enum ss_reason reason;
    enum ss_field missing;    /* with SS_BAD_MISSING */
    char reason_text[32];     /* "malformed", "missing_user_id", ... */
};

struct ss_decoder;

/* names[f] is the input name of canonical field f for this stream (NULL: not read). */
int ss_decoder_open(struct ss_decoder **out, enum ss_stream stream, enum ss_format fmt,
                    char *const names[SS_F_COUNT], struct ss_err *err);
/* buf/len is one record without its line terminator. Fills ev (stream, type, fields,
 * raw) on SS_DEC_EVENT, ev->raw and res on SS_DEC_INVALID. Never fails otherwise. */
enum ss_decode_status ss_decoder_decode(struct ss_decoder *d, const char *buf, size_t len,
                                        struct ss_arena *arena, struct ss_event *ev,
                                        struct ss_decode_result *res);
/* The records that follow come from another file of the input: a CSV decoder reads
 * its header again from the first non-blank one. */
void ss_decoder_new_file(struct ss_decoder *d);
/* As ss_decoder_decode for a record known to be malformed without reading it (one the
 * source cut short): SS_DEC_INVALID, reason malformed, ev->raw = buf/len. */
enum ss_decode_status ss_decoder_reject_malformed(struct ss_decoder *d, const char *buf, size_t len,
                                                 struct ss_event *ev, struct ss_decode_result *res);
void ss_decoder_close(struct ss_decoder *d);

#endif
