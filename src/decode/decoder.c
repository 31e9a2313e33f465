/* decoder.c — the decode stage: one decoder per input turns each record (bytes from
 * a source) into a canonical event for the engine, or into exactly one rejection
 * reason for the dead-letter output. The format scanners (json.c, csv.c) find the
 * raw text of each field; this file owns everything both formats share: the input
 * field names of each stream, and validation in the documented order
 * (decode.h, docs/SEMANTICS.md §2), so JSON and CSV inputs reject alike. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/log.h"
#include "../core/money.h"
#include "../core/timefmt.h"
#include "../core/utf8.h"
#include "decode_internal.h"

const char *ss_field_name(enum ss_field f) {
    static const char *const n[SS_F_COUNT] = {
        "event_id", "event_type", "user_id",  "session_id", "product_id",   "category",  "price",
        "quantity", "order_id",   "ts",       "promo_id",   "discount_pct", "starts_at", "ends_at",
    };
    return (unsigned)f < SS_F_COUNT ? n[f] : "?";
}

/* The fields each stream reads (an orders line's order_id is also its event_id). */
static const uint8_t reads_clicks[] = {SS_F_EVENT_ID, SS_F_EVENT_TYPE, SS_F_USER_ID, SS_F_SESSION_ID,
                                       SS_F_PRODUCT_ID, SS_F_CATEGORY, SS_F_PRICE, SS_F_QUANTITY,
                                       SS_F_ORDER_ID, SS_F_TS};
static const uint8_t reads_orders[] = {SS_F_ORDER_ID, SS_F_USER_ID, SS_F_PRODUCT_ID, SS_F_CATEGORY,
                                       SS_F_PRICE, SS_F_QUANTITY, SS_F_TS};
static const uint8_t reads_promos[] = {SS_F_PROMO_ID, SS_F_PRODUCT_ID, SS_F_DISCOUNT_PCT,
                                       SS_F_STARTS_AT, SS_F_ENDS_AT, SS_F_TS};

/* Required fields in the order their absence is reported (SEMANTICS §2 step 2). */
static const uint8_t req_clicks[] = {SS_F_EVENT_ID, SS_F_EVENT_TYPE, SS_F_USER_ID, SS_F_PRODUCT_ID,
                                     SS_F_TS};
static const uint8_t req_orders[] = {SS_F_ORDER_ID, SS_F_USER_ID, SS_F_PRODUCT_ID, SS_F_PRICE, SS_F_TS};
static const uint8_t req_promos[] = {SS_F_PROMO_ID, SS_F_PRODUCT_ID, SS_F_DISCOUNT_PCT,
                                     SS_F_STARTS_AT, SS_F_ENDS_AT, SS_F_TS};

struct stream_spec {
    const uint8_t *reads, *req;
    int nreads, nreq;
};
#define SPEC(r, q) {r, q, (int)sizeof r, (int)sizeof q}
static const struct stream_spec specs[SS_STREAM_COUNT] = {
    [SS_STREAM_CLICKS] = SPEC(reads_clicks, req_clicks),
    [SS_STREAM_PROMOTIONS] = SPEC(reads_promos, req_promos),
    [SS_STREAM_ORDERS] = SPEC(reads_orders, req_orders),
};

void ss_dec_warn_missing_columns(const struct ss_decoder *d) {
    const struct stream_spec *sp = &specs[d->stream];
    char list[512];
    size_t len = 0;
    list[0] = '\0';
    for (int i = 0; i < sp->nreq; i++) {
        int f = sp->req[i], c = 0;
        while (c < d->ncols && d->col_field[c] != f) c++;
        if (c < d->ncols || len >= sizeof list - 1) continue;
        int k = snprintf(list + len, sizeof list - len, "%s%s (fields.%s.%s)", len ? ", " : "", d->name[f],
                         ss_stream_name(d->stream), ss_field_name((enum ss_field)f));
        len = k < 0 ? sizeof list - 1 : len + (size_t)k;
        if (len > sizeof list - 1) len = sizeof list - 1;
    }
    if (len)
        ss_warn("decode", "msg=\"the CSV header has no column for a required field: every row will be a dead "
                          "letter\" stream=%s missing=\"%s\"",
                ss_stream_name(d->stream), list);
}

/* Built-in input names, used when the caller passes names == NULL (tests, tools);
 * the engine passes config's fields.<stream>.<field>, whose defaults are the same. */
static const char *default_name(enum ss_stream s, int f) {
    if (s == SS_STREAM_ORDERS) {
        if (f == SS_F_USER_ID) return "customer_id";
        if (f == SS_F_TS) return "order_ts";
    }
    return ss_field_name((enum ss_field)f);
}

int ss_decoder_open(struct ss_decoder **out, enum ss_stream stream, enum ss_format fmt,
                    char *const names[SS_F_COUNT], struct ss_err *err) {
    *out = NULL;
    if ((unsigned)stream >= SS_STREAM_COUNT)
        return ss_err_set(err, SS_EUSAGE, "decoder: unknown stream %d", (int)stream);
    if (fmt != SS_FMT_JSON && fmt != SS_FMT_CSV)
        return ss_err_set(err, SS_EUSAGE, "decoder: unknown format %d (json or csv)", (int)fmt);
    struct ss_decoder *d = ss_calloc(1, sizeof *d);
    d->stream = stream;
    d->fmt = fmt;
    memset(d->slot, -1, sizeof d->slot);
    memset(d->key_at, -1, sizeof d->key_at);
    const struct stream_spec *sp = &specs[stream];
    int rc = SS_OK;
    for (int i = 0; i < sp->nreads; i++) {
        int f = sp->reads[i];
        const char *nm = names ? names[f] : default_name(stream, f);
        if (!nm || !*nm) continue; /* not read: a required field is then always missing */
        size_t n = strlen(nm);
        if (n > SS_DEC_NAME_MAX) {
            rc = ss_err_set(err, SS_EUSAGE, "fields.%s.%s: input name longer than %d bytes",
                            ss_stream_name(stream), ss_field_name((enum ss_field)f), SS_DEC_NAME_MAX);
            goto fail;
        }
        int other = ss_dec_lookup(d, nm, n);
        if (other >= 0) {
            rc = ss_err_set(err, SS_EUSAGE,
                            "fields.%s.%s and fields.%s.%s both read the input field \"%s\"; "
                            "give each its own name",
                            ss_stream_name(stream), ss_field_name((enum ss_field)other),
                            ss_stream_name(stream), ss_field_name((enum ss_field)f), nm);
            goto fail;
        }
        d->name[f] = ss_strndup(nm, n);
        d->name_len[f] = (uint32_t)n;
        memcpy(&d->name_head[f], nm, n < 8 ? n : 8);
        if (n > 8) memcpy(&d->name_tail[f], nm + n - 8, 8);
        unsigned h = ss_dec_hash(nm, n);
        while (d->slot[h] >= 0) h = (h + 1) & (SS_DEC_SLOTS - 1);
        d->slot[h] = (int8_t)f;
    }
    *out = d;
    return SS_OK;
fail:
    ss_decoder_close(d);
    return rc;
}

void ss_decoder_close(struct ss_decoder *d) {
    if (!d) return;
    for (int f = 0; f < SS_F_COUNT; f++) ss_free((void *)d->name[f]);
    ss_free(d->col_field);
    ss_free(d);
}

static inline bool missing(const struct ss_dec_val *v) { return v->p == NULL || v->len == 0; }

static enum ss_decode_status reject(struct ss_decode_result *res, enum ss_reason r, const char *text) {
    res->reason = r;
    size_t n = strlen(text);
    if (n >= sizeof res->reason_text) n = sizeof res->reason_text - 1;
    memcpy(res->reason_text, text, n);
    res->reason_text[n] = '\0';
    return SS_DEC_INVALID;
}

static enum ss_decode_status reject_missing(struct ss_decode_result *res, enum ss_field f) {
    res->missing = f;
    res->reason = SS_BAD_MISSING;
    const char *nm = ss_field_name(f);
    size_t n = strlen(nm);
    memcpy(res->reason_text, "missing_", 8);
    memcpy(res->reason_text + 8, nm, n + 1); /* longest: missing_discount_pct */
    return SS_DEC_INVALID;
}

/* The text of a field, unescaped/unquoted into the arena when the scanner said so. */
static inline struct ss_str text_of(const struct ss_decoder *d, struct ss_arena *arena,
                                    const struct ss_dec_val *v) {
    if (!v->p) return SS_STR_NULL;
    if (!v->esc) return (struct ss_str){v->p, v->len};
    return d->fmt == SS_FMT_JSON ? ss_json_unescape(arena, v->p, v->len)
                                 : ss_csv_unquote(arena, v->p, v->len);
}

/* Quantity: a JSON integer (-?digits) or a string of digits, that fits an int32. */
static int parse_quantity(struct ss_str s, bool from_string, int32_t *out) {
    const char *p = s.p, *end = s.p + s.len;
    bool neg = !from_string && p < end && *p == '-';
    if (neg) p++;
    if (p == end) return -1;
    int64_t v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
        if (v > (int64_t)INT32_MAX + 1) return -1;
    }
    if (neg) v = -v;
    if (v > INT32_MAX || v < INT32_MIN) return -1;
    *out = (int32_t)v;
    return 0;
}

static int event_type_of(struct ss_str s) {
    switch (s.len) {
    case 4:
        return memcmp(s.p, "view", 4) == 0 ? SS_EV_VIEW : -1;
    case 8:
        if (memcmp(s.p, "cart_add", 8) == 0) return SS_EV_CART_ADD;
        return memcmp(s.p, "purchase", 8) == 0 ? SS_EV_PURCHASE : -1;
    case 11:
        return memcmp(s.p, "cart_remove", 11) == 0 ? SS_EV_CART_REMOVE : -1;
    default:
        return -1;
    }
}


static inline bool dig(char c) { return c >= '0' && c <= '9'; }

static inline uint64_t load8(const char *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}
#define BYTE_AT(w, k) ((unsigned)((w) >> (8 * (k))) & 0xFFu)

/* ss_ts_parse, with a fast path for the canonical form "YYYY-MM-DDTHH:MM:SS.mmmZ" of a
 * date seen last time (validated then by ss_ts_parse): only the time of day is read,
 * as three words "YYYY-MM-" "DDTHH:MM" ":SS.mmmZ" checked all at once (the byte-wise
 * checks and the call to compare the date were a fifth of the decoder's finish).
 * Anything else takes the full parser, so results and rejections are the same. */
static int parse_ts(struct ss_decoder *d, struct ss_str s, int64_t *out) {
    const char *p = s.p;
    if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && s.len == 24 && d->ts_cached) {
        const uint64_t zeros = 0x3030303030303030ULL, nibbles = 0xF0F0F0F0F0F0F0F0ULL;
        const uint64_t sixes = 0x0606060606060606ULL, tens = 0x1010101010101010ULL;
        const uint64_t dig1 = 0xFFFF00FFFF000000ULL;  /* DDTHH:MM: H H M M */
        const uint64_t dig2 = 0x00FFFFFF00FFFF00ULL;  /* :SS.mmmZ: S S m m m */
        const uint64_t sep1 = (uint64_t)':' << 40;
        const uint64_t sep2 = (uint64_t)':' | (uint64_t)'.' << 24 | (uint64_t)'Z' << 56;
        uint64_t w1 = load8(p + 8), w2 = load8(p + 16);
        uint64_t t1 = (w1 ^ zeros) & dig1, t2 = (w2 ^ zeros) & dig2; /* a digit: 0..9 */
        if (load8(p) == d->ts_w0 && (w1 & 0xFFFFFFu) == d->ts_w1 && (w1 & 0x0000FF0000000000ULL) == sep1 &&
            (w2 & ~dig2) == sep2 && ((t1 | t2) & nibbles) == 0 &&
            (((t1 + (sixes & dig1)) | (t2 + (sixes & dig2))) & tens) == 0) {
            unsigned h = BYTE_AT(t1, 3) * 10 + BYTE_AT(t1, 4), mi = BYTE_AT(t1, 6) * 10 + BYTE_AT(t1, 7);
            unsigned se = BYTE_AT(t2, 1) * 10 + BYTE_AT(t2, 2);
            if (h <= 23 && mi <= 59 && se <= 59) {
                unsigned ms = BYTE_AT(t2, 4) * 100 + BYTE_AT(t2, 5) * 10 + BYTE_AT(t2, 6);
                *out = d->ts_day * SS_MS_PER_DAY + ((int64_t)h * 3600 + mi * 60 + se) * 1000 + ms;
                return SS_OK;
            }
        }
    }
    int rc = ss_ts_parse(s.p, s.len, out);
    if (rc == SS_OK && s.len == 24 && p[13] == ':' && p[16] == ':' && p[19] == '.' && p[23] == 'Z') {
        /* UTC and a time of day within the day: the day is the floor of ts / day */
        int64_t day = *out / SS_MS_PER_DAY - (*out % SS_MS_PER_DAY < 0);
        d->ts_w0 = load8(p);
        d->ts_w1 = load8(p + 8) & 0xFFFFFFu;
        d->ts_day = day;
        d->ts_cached = true;
    }
    return rc;
}

/* The value of a price spelt "D.DD" to "DDDDD.DD" (a word's worth, the commonest
 * form), or -1. The 8 bytes from s.p are loaded only when they lie within the record
 * [rec, rec_end): a price unescaped into the arena never takes this path. Digits are
 * checked and converted all at once (the byte-wise loops were a fifth of finish). */
static inline int64_t cents_word(struct ss_str s, const char *rec, const char *rec_end) {
    uintptr_t p = (uintptr_t)s.p;
    if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ || s.len < 4 || s.len > 8 || p < (uintptr_t)rec ||
        p + 8 > (uintptr_t)rec_end)
        return -1;
    /* the price in the high bytes: "12.50" as 000 '1' '2' '.' '5' '0' */
    uint64_t y = load8(s.p) << (8 * (8 - s.len));
    const uint64_t point = (uint64_t)'.' << 40, digits = (0xFFFFFFFFFFULL << (8 * (8 - s.len)) & 0xFFFFFFFFFFULL) |
                                                        0xFFFF000000000000ULL;
    uint64_t t = (y ^ 0x3030303030303030ULL) & digits; /* a digit byte: 0..9 */
    if ((y & 0x0000FF0000000000ULL) != point || (t & 0xF0F0F0F0F0F0F0F0ULL) != 0 ||
        ((t + (0x0606060606060606ULL & digits)) & 0x1010101010101010ULL) != 0)
        return -1;
    /* drop the point: eight digits "0IIIIIFF", the first the most significant */
    uint64_t v = (t & 0xFFFFFFFFFFULL) << 8 | (t & 0xFFFF000000000000ULL);
    v = (v * 10 + (v >> 8)) & 0x00FF00FF00FF00FFULL;
    v = (v * 100 + (v >> 16)) & 0x0000FFFF0000FFFFULL;
    return (int64_t)((v * 10000 + (v >> 32)) & 0xFFFFFFFFULL);
}

/* ss_money_parse, with fast paths for plain decimals (digits, optionally a point
 * and 1..4 digits) whose value ss_money_parse gives the same way. */
static int parse_money(struct ss_str s, const struct ss_str rec, int64_t *out) {
    int64_t cents = cents_word(s, rec.p, rec.p + rec.len);
    if (cents >= 0) {
        *out = cents * 100;
        return SS_OK;
    }
    const char *p = s.p, *end = s.p + s.len;
    int64_t ip = 0;
    int nint = 0;
    for (; p < end && dig(*p) && nint < 13; p++, nint++) ip = ip * 10 + (*p - '0');
    if (nint == 0 || nint > 12) return ss_money_parse(s.p, s.len, out);
    int64_t fp = 0;
    int nfrac = 0;
    if (p < end && *p == '.') {
        for (p++; p < end && dig(*p) && nfrac < 5; p++, nfrac++) fp = fp * 10 + (*p - '0');
        if (nfrac == 0 || nfrac > 4) return ss_money_parse(s.p, s.len, out);
    }
    if (p != end) return ss_money_parse(s.p, s.len, out);
    static const int64_t scale[5] = {10000, 1000, 100, 10, 1};
    *out = ip * 10000 + fp * scale[nfrac];
    return SS_OK;
}

/* Steps 2-6 of the validation order, and the event's fields. */
static enum ss_decode_status finish(struct ss_decoder *d, struct ss_arena *arena,
                                    const struct ss_dec_val vals[SS_DEC_VALS], struct ss_event *ev,
                                    struct ss_decode_result *res) {
    const struct stream_spec *sp = &specs[d->stream];
    /* first, so that a record rejected below still names its user: the Kafka sink keys
     * the dead-letter topic by it (DESIGN §5) */
    if (!missing(&vals[SS_F_USER_ID])) ev->user_id = text_of(d, arena, &vals[SS_F_USER_ID]);
    for (int i = 0; i < sp->nreq; i++)
        if (missing(&vals[sp->req[i]])) return reject_missing(res, (enum ss_field)sp->req[i]);

    bool purchase;
    if (d->stream == SS_STREAM_CLICKS) {
        struct ss_str t = text_of(d, arena, &vals[SS_F_EVENT_TYPE]);
        int type = event_type_of(t);
        if (type < 0) return reject(res, SS_BAD_UNKNOWN_TYPE, "unknown_type");
        ev->type = (uint8_t)type;
        purchase = type == SS_EV_PURCHASE;
        if (purchase && missing(&vals[SS_F_PRICE])) return reject_missing(res, SS_F_PRICE);
    } else {
        ev->type = d->stream == SS_STREAM_ORDERS ? SS_EV_PURCHASE : SS_EV_PROMOTION;
        purchase = d->stream == SS_STREAM_ORDERS;
    }

    struct ss_str ts = text_of(d, arena, &vals[SS_F_TS]);
    if (parse_ts(d, ts, &ev->ts) != 0) return reject(res, SS_BAD_TS, "bad_ts");
    if (d->stream == SS_STREAM_PROMOTIONS) {
        struct ss_str a = text_of(d, arena, &vals[SS_F_STARTS_AT]);
        struct ss_str b = text_of(d, arena, &vals[SS_F_ENDS_AT]);
        if (ss_ts_parse(a.p, a.len, &ev->starts_at) != 0 || ss_ts_parse(b.p, b.len, &ev->ends_at) != 0)
            return reject(res, SS_BAD_TS, "bad_ts");
        struct ss_str dp = text_of(d, arena, &vals[SS_F_DISCOUNT_PCT]);
        if (ss_money_parse(dp.p, dp.len, &ev->discount_pct) != 0 || ev->discount_pct < 0 ||
            ev->discount_pct > 100 * SS_MONEY_SCALE)
            return reject(res, SS_BAD_AMOUNT, "bad_amount");
        ev->promo_id = text_of(d, arena, &vals[SS_F_PROMO_ID]);
        ev->product_id = text_of(d, arena, &vals[SS_F_PRODUCT_ID]);
        ev->category = SS_STR_LIT("");
        return SS_DEC_EVENT;
    }

    ev->quantity = 1;
    if (!missing(&vals[SS_F_PRICE])) {
        struct ss_str s = text_of(d, arena, &vals[SS_F_PRICE]);
        if (parse_money(s, ev->raw, &ev->price) != 0) return reject(res, SS_BAD_AMOUNT, "bad_amount");
        ev->has_price = 1;
    }
    if (!missing(&vals[SS_F_QUANTITY])) {
        struct ss_str s = text_of(d, arena, &vals[SS_F_QUANTITY]);
        if (parse_quantity(s, vals[SS_F_QUANTITY].str, &ev->quantity) != 0) return reject(res, SS_BAD_AMOUNT, "bad_amount");
    }
    int64_t amount;
    if (purchase && (ev->price < 0 || ev->quantity <= 0 || ss_money_mul(ev->price, ev->quantity, &amount) != 0))
        return reject(res, SS_BAD_AMOUNT, "bad_amount"); /* an amount int64 cannot hold would cap every sum */

    ev->product_id = text_of(d, arena, &vals[SS_F_PRODUCT_ID]);
    ev->category = missing(&vals[SS_F_CATEGORY]) ? SS_STR_LIT("") : text_of(d, arena, &vals[SS_F_CATEGORY]);
    if (d->stream == SS_STREAM_ORDERS) {
        ev->event_id = ev->order_id = text_of(d, arena, &vals[SS_F_ORDER_ID]);
    } else {
        ev->event_id = text_of(d, arena, &vals[SS_F_EVENT_ID]);
        if (!missing(&vals[SS_F_SESSION_ID])) ev->session_id = text_of(d, arena, &vals[SS_F_SESSION_ID]);
        if (!missing(&vals[SS_F_ORDER_ID])) ev->order_id = text_of(d, arena, &vals[SS_F_ORDER_ID]);
    }
    return SS_DEC_EVENT;
}

/* Field-by-field rather than memset: for a struct this size compilers emit
 * `rep stos`, whose start-up cost was a tenth of the whole decode. One assignment per
 * field, no chains: `a = b = x` on structs made the compiler read b back right after
 * its narrower stores, a store-forwarding stall on every record. The size check makes
 * a new field in struct ss_event a compile error here until it is reset. */
_Static_assert(sizeof(struct ss_event) == 232, "struct ss_event changed: update ev_reset");
static inline void ev_reset(struct ss_event *ev) {
    const struct ss_str none = SS_STR_NULL;
    ev->ts = 0;
    ev->price = 0;
    ev->quantity = 0;
    ev->stream = 0;
    ev->type = 0;
    ev->has_price = 0;
    ev->event_id = none;
    ev->user_id = none;
    ev->session_id = none;
    ev->product_id = none;
    ev->category = none;
    ev->order_id = none;
    ev->promo_id = none;
    ev->discount_pct = 0;
    ev->starts_at = 0;
    ev->ends_at = 0;
    ev->user = 0;
    ev->product = 0;
    ev->cat = 0;
    ev->promo = 0;
    ev->origin = (struct ss_origin){none, 0, 0};
    ev->slot = 0;
    ev->raw = none;
}

/* ASCII white space as in SEMANTICS §1 (including \v and \f) */
static inline bool blank(char c) {
    /* a record's first byte is nearly always '{' or a letter: one test says "not blank" */
    if ((unsigned char)c > ' ') return false;
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

void ss_decoder_new_file(struct ss_decoder *d) { d->have_header = false; }

enum ss_decode_status ss_decoder_reject_malformed(struct ss_decoder *d, const char *buf, size_t len,
                                                 struct ss_event *ev, struct ss_decode_result *res) {
    ev_reset(ev);
    res->missing = SS_F_COUNT;
    ev->raw = (struct ss_str){buf, (uint32_t)len};
    ev->stream = (uint8_t)d->stream;
    return reject(res, SS_BAD_MALFORMED, "malformed");
}

enum ss_decode_status ss_decoder_decode(struct ss_decoder *d, const char *buf, size_t len,
                                        struct ss_arena *arena, struct ss_event *ev,
                                        struct ss_decode_result *res) {
    ev_reset(ev);
    res->reason = SS_VALID;
    res->missing = SS_F_COUNT;
    res->reason_text[0] = '\0';
    /* a \r\n line ending leaves the \r with the record; it is not part of it */
    if (len && buf[len - 1] == '\r') len--;
    ev->raw = (struct ss_str){buf, (uint32_t)len};
    ev->stream = (uint8_t)d->stream;
    size_t i = 0;
    while (i < len && blank(buf[i])) i++;
    if (i == len) return SS_DEC_SKIP;

    /* a field's len and esc are read only when its p is set */
    struct ss_dec_val vals[SS_DEC_VALS];
    if (d->fmt == SS_FMT_JSON) {
        if (ss_json_scan(d, buf, buf + len, vals) != 0) return reject(res, SS_BAD_MALFORMED, "malformed");
    } else {
        for (int f = 0; f < SS_F_COUNT; f++) vals[f].p = NULL;
        enum ss_decode_status st = ss_csv_scan(d, buf, buf + len, vals);
        if (st == SS_DEC_INVALID) return reject(res, SS_BAD_MALFORMED, "malformed");
        if (st == SS_DEC_SKIP) return SS_DEC_SKIP;
        /* a NUL byte, as JSON's \u0000 (json.c): PostgreSQL's text cannot hold it */
        if (memchr(buf, '\0', len)) return reject(res, SS_BAD_MALFORMED, "malformed");
    }
    /* the whole record, not only the fields read: a late record is written out whole */
    if (!ss_utf8_valid(buf, len)) return reject(res, SS_BAD_MALFORMED, "malformed");
    return finish(d, arena, vals, ev, res);
}
