/* fuzz_decode.c — libFuzzer target for the decode stage (src/decode/) and the
 * exact-number / time primitives it calls (core/money.c, core/timefmt.c).
 *
 * Every input goes, line by line, through the JSON and the CSV decoder of each
 * stream (for CSV the first non-blank line is the header), each line in its own
 * exactly sized heap block so AddressSanitizer sees any read past a record. The
 * whole input is also tried as a single JSON record and as a money / timestamp
 * text. Beyond "no crash", it checks what the engine relies on: an invalid record
 * always has a reason, a valid event satisfies the validation rules, decoding is
 * deterministic, and parse/format round-trips.
 *
 * Build: see tests/fuzz/README.md. Define SS_FUZZ_MAIN to get a plain main() that
 * replays files (works with gcc, no libFuzzer needed). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/money.h"
#include "core/timefmt.h"
#include "core/utf8.h"
#include "decode/decode.h"

#define FUZZ_NAME "fuzz_decode"
#include "fuzz.h"

static int nonempty(struct ss_str s) { return s.p != NULL && s.len > 0; }
/* absent (NULL) or UTF-8 without NUL: every sink writes these bytes as text, and
 * PostgreSQL's text cannot hold NUL */
static int text(struct ss_str s) { return s.p == NULL || (ss_utf8_valid(s.p, s.len) && !memchr(s.p, 0, s.len)); }

static void check_result(enum ss_decode_status st, const struct ss_event *ev,
                         const struct ss_decode_result *res, enum ss_stream stream,
                         const char *buf, size_t len) {
    FUZZ_CHECK(st == SS_DEC_EVENT || st == SS_DEC_INVALID || st == SS_DEC_SKIP);
    FUZZ_CHECK(ev->raw.p == buf && ev->raw.len <= len);
    if (st == SS_DEC_INVALID) {
        FUZZ_CHECK(res->reason != SS_VALID && res->reason < SS_REASON_COUNT);
        FUZZ_CHECK(res->reason_text[0] != '\0');
        FUZZ_CHECK(memchr(res->reason_text, '\0', sizeof res->reason_text) != NULL);
        return;
    }
    if (st != SS_DEC_EVENT) return;
    FUZZ_CHECK(res->reason == SS_VALID);
    /* a record that is not UTF-8 is malformed, so what a valid one yields is text */
    FUZZ_CHECK(ss_utf8_valid(ev->raw.p, ev->raw.len));
    FUZZ_CHECK(text(ev->event_id) && text(ev->user_id) && text(ev->session_id) && text(ev->product_id) &&
               text(ev->category) && text(ev->order_id) && text(ev->promo_id));
    FUZZ_CHECK(ev->stream == stream);
    FUZZ_CHECK(ev->ts >= SS_TS_EVENT_MIN && ev->ts <= SS_TS_EVENT_MAX); /* the years 0000-9999 */
    FUZZ_CHECK(ev->category.p != NULL);
    FUZZ_CHECK(nonempty(ev->product_id));
    if (stream == SS_STREAM_PROMOTIONS) {
        FUZZ_CHECK(ev->type == SS_EV_PROMOTION);
        FUZZ_CHECK(nonempty(ev->promo_id));
        FUZZ_CHECK(ev->starts_at >= SS_TS_EVENT_MIN && ev->ends_at <= SS_TS_EVENT_MAX);
        FUZZ_CHECK(ev->discount_pct >= 0 && ev->discount_pct <= 100 * SS_MONEY_SCALE);
        return;
    }
    FUZZ_CHECK(nonempty(ev->event_id) && nonempty(ev->user_id));
    FUZZ_CHECK(ev->type <= SS_EV_PURCHASE);
    if (stream == SS_STREAM_ORDERS) {
        FUZZ_CHECK(ev->type == SS_EV_PURCHASE);
        FUZZ_CHECK(ev->order_id.p == ev->event_id.p && ev->order_id.len == ev->event_id.len);
    }
    if (ev->type == SS_EV_PURCHASE) {
        FUZZ_CHECK(ev->has_price && ev->price >= 0 && ev->quantity > 0);
        int64_t amount; /* price x quantity must fit, or every sum over it would be capped */
        FUZZ_CHECK(!__builtin_mul_overflow(ev->price, ev->quantity, &amount));
    }
    if (!ev->has_price) FUZZ_CHECK(ev->price == 0);
}

static bool same_event(const struct ss_event *a, const struct ss_event *b) {
    return a->ts == b->ts && a->price == b->price && a->quantity == b->quantity && a->type == b->type &&
           a->has_price == b->has_price && a->discount_pct == b->discount_pct && a->starts_at == b->starts_at &&
           a->ends_at == b->ends_at && ss_str_eq(a->event_id, b->event_id) && ss_str_eq(a->user_id, b->user_id) &&
           ss_str_eq(a->session_id, b->session_id) && ss_str_eq(a->product_id, b->product_id) &&
           ss_str_eq(a->category, b->category) && ss_str_eq(a->order_id, b->order_id) &&
           ss_str_eq(a->promo_id, b->promo_id);
}

static void run_decoder(enum ss_stream stream, enum ss_format fmt, const uint8_t *data, size_t size,
                        struct ss_arena *arena) {
    struct ss_decoder *d = NULL, *d2 = NULL;
    struct ss_err err;
    FUZZ_CHECK(ss_decoder_open(&d, stream, fmt, NULL, &err) == SS_OK);
    FUZZ_CHECK(ss_decoder_open(&d2, stream, fmt, NULL, &err) == SS_OK);
    struct ss_event ev, ev2;
    struct ss_decode_result res, res2;
    size_t start = 0;
    while (start <= size) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size;
        size_t len = end - start;
        char *line = ss_malloc(len ? len : 1);
        if (len) memcpy(line, data + start, len);
        enum ss_decode_status st = ss_decoder_decode(d, line, len, arena, &ev, &res);
        check_result(st, &ev, &res, stream, line, len);
        /* a second decoder must agree: for CSV one fed the same lines (it needs the
         * header), for JSON a new one per line, which has learnt no record layout, so
         * the first decoder's template path is checked against the plain path */
        if (fmt == SS_FMT_JSON) {
            ss_decoder_close(d2);
            FUZZ_CHECK(ss_decoder_open(&d2, stream, fmt, NULL, &err) == SS_OK);
        }
        enum ss_decode_status st2 = ss_decoder_decode(d2, line, len, arena, &ev2, &res2);
        FUZZ_CHECK(st == st2);
        if (st == SS_DEC_INVALID) FUZZ_CHECK(strcmp(res.reason_text, res2.reason_text) == 0);
        if (st == SS_DEC_EVENT) FUZZ_CHECK(same_event(&ev, &ev2));
        ss_free(line);
        if (!nl) break;
        start = end + 1;
    }
    ss_decoder_close(d);
    ss_decoder_close(d2);
}

static void check_primitives(const uint8_t *data, size_t size) {
    char *s = ss_malloc(size ? size : 1);
    if (size) memcpy(s, data, size);
    int64_t v, w;
    char buf[32];
    if (ss_money_parse(s, size, &v) == 0) {
        int n = ss_money_format(v, 4, buf);
        FUZZ_CHECK(n > 0 && n < 32);
        FUZZ_CHECK(ss_money_parse(buf, (size_t)n, &w) == 0 && w == v);
    }
    if (ss_ts_parse(s, size, &v) == 0) {
        int n = ss_ts_format(v, buf);
        FUZZ_CHECK(n > 0 && n < 32);
        /* outside years 0000-9999 the formatted text is not ISO-8601 any more */
        if (v >= -62167219200000LL && v <= 253402300799999LL)
            FUZZ_CHECK(ss_ts_parse(buf, (size_t)n, &w) == 0 && w == v);
    }
    ss_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ss_log_set_level(SS_LOG_ERROR); /* a CSV header without the required columns warns, on most inputs */
    struct ss_arena arena;
    ss_arena_init(&arena, 4096);
    for (int s = 0; s < SS_STREAM_COUNT; s++) {
        run_decoder((enum ss_stream)s, SS_FMT_JSON, data, size, &arena);
        run_decoder((enum ss_stream)s, SS_FMT_CSV, data, size, &arena);
        /* the whole input as one record, newlines and all */
        struct ss_decoder *d = NULL;
        struct ss_err err;
        FUZZ_CHECK(ss_decoder_open(&d, (enum ss_stream)s, SS_FMT_JSON, NULL, &err) == SS_OK);
        char *rec = ss_malloc(size ? size : 1);
        if (size) memcpy(rec, data, size);
        struct ss_event ev;
        struct ss_decode_result res;
        check_result(ss_decoder_decode(d, rec, size, &arena, &ev, &res), &ev, &res, (enum ss_stream)s, rec, size);
        ss_free(rec);
        ss_decoder_close(d);
        ss_arena_reset(&arena);
    }
    check_primitives(data, size);
    ss_arena_free(&arena);
    return 0;
}
