/* test_decode.c — the JSON and CSV decoders (src/decode/): field mapping, values,
 * and the validation order of docs/SEMANTICS.md §2 on nasty input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/err.h"
#include "core/money.h"
#include "decode/decode.h"
#include "decode/decode_internal.h"
#include "harness.h"

/* Test scaffolding (not engine state): the last decoded event and its result. */
static struct ss_arena A;
static struct ss_event EV;
static struct ss_decode_result RES;

static const char *status_text(enum ss_decode_status st) {
    if (st == SS_DEC_EVENT) return "ok";
    if (st == SS_DEC_SKIP) return "skip";
    return RES.reason_text;
}

static struct ss_decoder *open_dec(enum ss_stream s, enum ss_format f) {
    struct ss_decoder *d = NULL;
    struct ss_err err;
    int rc = ss_decoder_open(&d, s, f, NULL, &err);
    CHECK_EQ_INT(rc, SS_OK);
    return d;
}

/* One JSON record of stream s through a fresh decoder: "ok", "skip" or the reason. */
static const char *J(enum ss_stream s, const char *line) {
    struct ss_decoder *d = open_dec(s, SS_FMT_JSON);
    enum ss_decode_status st = ss_decoder_decode(d, line, strlen(line), &A, &EV, &RES);
    ss_decoder_close(d);
    if (st == SS_DEC_INVALID) {
        CHECK(RES.reason != SS_VALID);
        CHECK(EV.raw.p == line);
    }
    return status_text(st);
}

/* A CSV header then one row. */
static const char *C(enum ss_stream s, const char *header, const char *row) {
    struct ss_decoder *d = open_dec(s, SS_FMT_CSV);
    enum ss_decode_status st = ss_decoder_decode(d, header, strlen(header), &A, &EV, &RES);
    CHECK_EQ_INT(st, SS_DEC_SKIP);
    st = ss_decoder_decode(d, row, strlen(row), &A, &EV, &RES);
    ss_decoder_close(d);
    return status_text(st);
}

static int str_is(struct ss_str s, const char *want) {
    return s.p != NULL && s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}
static int in_buf(struct ss_str s, const char *buf) {
    return s.p >= buf && s.p + s.len <= buf + strlen(buf);
}

#define TS_BASE 1795775400000LL /* 2026-11-27T10:30:00Z (date -d ... +%s) */

#define CLICK_OK                                                                                   \
    "{\"event_id\":\"e1\",\"event_type\":\"view\",\"user_id\":\"u1\",\"session_id\":\"s1\","        \
    "\"product_id\":\"p1\",\"category\":\"books\",\"price\":\"12.50\",\"quantity\":1,"             \
    "\"ts\":\"2026-11-27T10:30:00.123Z\"}"

TEST(field_names) {
    const char *want[SS_F_COUNT] = {"event_id", "event_type", "user_id",  "session_id", "product_id",
                                    "category", "price",      "quantity", "order_id",   "ts",
                                    "promo_id", "discount_pct", "starts_at", "ends_at"};
    for (int f = 0; f < SS_F_COUNT; f++) CHECK_EQ_STR(ss_field_name((enum ss_field)f), want[f]);
    CHECK_EQ_STR(ss_field_name(SS_F_COUNT), "?");
}

TEST(clicks_valid) {
    const char *line = CLICK_OK;
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, line), "ok");
    CHECK_EQ_INT(EV.stream, SS_STREAM_CLICKS);
    CHECK_EQ_INT(EV.type, SS_EV_VIEW);
    CHECK(str_is(EV.event_id, "e1"));
    CHECK(str_is(EV.user_id, "u1"));
    CHECK(str_is(EV.session_id, "s1"));
    CHECK(str_is(EV.product_id, "p1"));
    CHECK(str_is(EV.category, "books"));
    CHECK(in_buf(EV.user_id, line)); /* views into the input: no copy */
    CHECK(in_buf(EV.category, line));
    CHECK_EQ_INT(EV.price, 125000);
    CHECK_EQ_INT(EV.has_price, 1);
    CHECK_EQ_INT(EV.quantity, 1);
    CHECK_EQ_INT(EV.ts, TS_BASE + 123);
    CHECK(EV.order_id.p == NULL);
    CHECK(EV.promo_id.p == NULL);
    CHECK(EV.raw.p == line && EV.raw.len == strlen(line));
    CHECK_EQ_INT(EV.user + EV.product + EV.cat + EV.promo + EV.slot, 0);
    CHECK_EQ_INT(EV.origin.offset, 0);
    CHECK_EQ_INT(RES.reason, SS_VALID);

    /* the smallest valid click: defaults */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"event_id\":\"e\",\"event_type\":\"cart_add\",\"user_id\":\"u\","
                                     "\"product_id\":\"p\",\"ts\":0}"),
                 "ok");
    CHECK_EQ_INT(EV.type, SS_EV_CART_ADD);
    CHECK(EV.category.p != NULL && EV.category.len == 0);
    CHECK(EV.session_id.p == NULL);
    CHECK(EV.order_id.p == NULL);
    CHECK_EQ_INT(EV.quantity, 1);
    CHECK_EQ_INT(EV.has_price, 0);
    CHECK_EQ_INT(EV.price, 0);
    CHECK_EQ_INT(EV.ts, 0);

    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"event_id\":\"e\",\"event_type\":\"cart_remove\",\"user_id\":\"u\","
                                     "\"product_id\":\"p\",\"ts\":5,\"order_id\":\"o7\",\"session_id\":null}"),
                 "ok");
    CHECK_EQ_INT(EV.type, SS_EV_CART_REMOVE);
    CHECK(str_is(EV.order_id, "o7"));
    CHECK(EV.session_id.p == NULL);

    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"event_id\":\"e\",\"event_type\":\"purchase\",\"user_id\":\"u\","
                                     "\"product_id\":\"p\",\"ts\":5,\"price\":10,\"quantity\":\"3\"}"),
                 "ok");
    CHECK_EQ_INT(EV.type, SS_EV_PURCHASE);
    CHECK_EQ_INT(EV.price, 100000);
    CHECK_EQ_INT(EV.quantity, 3);
}

#define BASE_NO_TS "\"event_id\":\"e\",\"event_type\":\"view\",\"user_id\":\"u\",\"product_id\":\"p\""
#define BASE BASE_NO_TS ",\"ts\":\"2026-11-27T10:30:00Z\""
#define PURCHASE_NO_PRICE                                                                          \
    "\"event_id\":\"e\",\"event_type\":\"purchase\",\"user_id\":\"u\",\"product_id\":\"p\","        \
    "\"ts\":\"2026-11-27T10:30:00Z\""

/* Each step of the documented order, and a record failing two steps gets the first. */
TEST(reason_order) {
    /* missing fields, one at a time in order */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{}"), "missing_event_id");
    CHECK_EQ_INT(RES.reason, SS_BAD_MISSING);
    CHECK_EQ_INT(RES.missing, SS_F_EVENT_ID);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"event_id\":\"e\"}"), "missing_event_type");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"event_id\":\"e\",\"event_type\":\"view\"}"), "missing_user_id");
    CHECK_EQ_INT(RES.missing, SS_F_USER_ID);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"event_id\":\"e\",\"event_type\":\"view\",\"user_id\":\"u\"}"),
                 "missing_product_id");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS "}"), "missing_ts");
    CHECK_EQ_INT(RES.missing, SS_F_TS);
    /* keys in any order: the canonical order decides, not the record's */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"product_id\":\"p\",\"ts\":1,\"user_id\":\"u\"}"), "missing_event_id");
    /* malformed beats missing */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"event_id\":{\"x\":1}}"), "malformed");
    CHECK_EQ_INT(RES.reason, SS_BAD_MALFORMED);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"event_id\":\"e\""), "malformed");
    /* missing beats unknown_type and bad_ts */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"event_id\":\"e\",\"event_type\":\"click\",\"product_id\":\"p\","
                                     "\"ts\":\"yesterday\"}"),
                 "missing_user_id");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":\"garbage\",\"product_id\":null}"),
                 "missing_product_id");
    /* unknown_type beats bad_ts and bad_amount */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"event_id\":\"e\",\"event_type\":\"click\",\"user_id\":\"u\","
                                     "\"product_id\":\"p\",\"ts\":\"bad\",\"price\":\"x\"}"),
                 "unknown_type");
    CHECK_EQ_INT(RES.reason, SS_BAD_UNKNOWN_TYPE);
    /* missing_price beats bad_ts */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"event_id\":\"e\",\"event_type\":\"purchase\",\"user_id\":\"u\","
                                     "\"product_id\":\"p\",\"ts\":\"bad\"}"),
                 "missing_price");
    CHECK_EQ_INT(RES.reason, SS_BAD_MISSING);
    CHECK_EQ_INT(RES.missing, SS_F_PRICE);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":null}"), "missing_price");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":\"\"}"), "missing_price");
    /* bad_ts beats bad_amount */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":\"2026-11-27T10:30:00\",\"price\":\"x\"}"), "bad_ts");
    CHECK_EQ_INT(RES.reason, SS_BAD_TS);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":\"x\"}"), "bad_amount");
    CHECK_EQ_INT(RES.reason, SS_BAD_AMOUNT);
    /* null and "" are missing, for any field */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"user_id\":null}"), "missing_user_id");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"user_id\":\"\"}"), "missing_user_id");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"event_type\":\"\"}"), "missing_event_type");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"ts\":null}"), "missing_ts");
}

/* A rejected record still names its user when it can be read (the key of its
 * dead-letter message, SEMANTICS §11); a malformed one names none. */
TEST(rejected_records_name_their_user) {
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":\"x\"}"), "bad_amount");
    CHECK(str_is(EV.user_id, "u"));
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"event_id\":\"e\",\"event_type\":\"click\",\"user_id\":\"u\\u00e9\","
                                     "\"product_id\":\"p\",\"ts\":1}"),
                 "unknown_type");
    CHECK(str_is(EV.user_id, "u\xc3\xa9")); /* unescaped, as a valid event's */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"user_id\":42}"), "missing_event_id");
    CHECK(str_is(EV.user_id, "42"));
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"user_id\":\"\"}"), "missing_user_id");
    CHECK(EV.user_id.p == NULL);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"user_id\":\"u\",\"event_id\":{}}"), "malformed");
    CHECK(EV.user_id.p == NULL);
    CHECK_EQ_STR(J(SS_STREAM_ORDERS, "{\"order_id\":\"o\",\"customer_id\":\"c\",\"product_id\":\"p\",\"price\":-1,"
                                     "\"order_ts\":5}"),
                 "bad_amount");
    CHECK(str_is(EV.user_id, "c"));
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, "event_id,event_type,user_id,product_id,ts", "e,view,u7,p,yesterday"), "bad_ts");
    CHECK(str_is(EV.user_id, "u7"));
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, "{\"promo_id\":\"x\",\"user_id\":\"u\"}"), "missing_product_id");
    CHECK(EV.user_id.p == NULL); /* promotions have no user */
}

TEST(event_types) {
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"event_type\":\"VIEW\"}"), "unknown_type");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"event_type\":\"view \"}"), "unknown_type");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"event_type\":\"purchases\"}"), "unknown_type");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"event_type\":1}"), "unknown_type");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"event_type\":true}"), "unknown_type");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"event_type\":\"v\\u0069ew\"}"), "ok");
    CHECK_EQ_INT(EV.type, SS_EV_VIEW);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"event_type\":[\"view\"]}"), "malformed");
}

TEST(escapes) {
    const char *line = "{" BASE ",\"user_id\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00\\u0001z\"}";
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, line), "ok");
    static const char want[] = "a\"b\\c/d\b\f\n\r\t\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\x01z";
    CHECK_EQ_INT(EV.user_id.len, sizeof want - 1);
    CHECK(EV.user_id.len == sizeof want - 1 && memcmp(EV.user_id.p, want, sizeof want - 1) == 0);
    CHECK(!in_buf(EV.user_id, line)); /* unescaped into the arena */
    CHECK(in_buf(EV.product_id, line));
    /* upper-case hex, a surrogate pair at the top of the range */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"user_id\":\"\\uDBFF\\uDFFF\\u00C9\"}"), "ok");
    CHECK(str_is(EV.user_id, "\xF4\x8F\xBF\xBF\xC3\x89"));
    /* an escaped key still names the field */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"user\\u005fid\":\"u9\"}"), "ok");
    CHECK(str_is(EV.user_id, "u9"));
    /* invalid escapes, in known and in unknown fields */
    const char *bad[] = {"\\x", "\\u12G4", "\\u12", "\\ud83d", "\\ude00", "\\ud83d\\u0041", "\\ud83dx",
                         "\\ud83d\\", "\\U0041", "\\'", "\\ud83d\\n",
                         "\\u0000" /* NUL: PostgreSQL's text cannot hold it */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char rec[256];
        snprintf(rec, sizeof rec, "{" BASE ",\"user_id\":\"a%sb\"}", bad[i]);
        CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "malformed");
        snprintf(rec, sizeof rec, "{" BASE ",\"other\":\"a%sb\"}", bad[i]);
        CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "malformed");
        snprintf(rec, sizeof rec, "{" BASE ",\"ot%ser\":1}", bad[i]);
        CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "malformed");
    }
    /* raw control characters are not allowed in strings */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"user_id\":\"a\tb\"}"), "malformed");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"x\":\"a\x01g\"}"), "malformed");
}

TEST(unicode_and_number_ids) {
    const char *line = "{" BASE ",\"user_id\":\"ユーザー\",\"product_id\":\"café-☕\"}";
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, line), "ok");
    CHECK(str_is(EV.user_id, "ユーザー"));
    CHECK(str_is(EV.product_id, "café-☕"));
    CHECK(in_buf(EV.user_id, line));
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"user_id\":123,\"product_id\":-1.5e3,\"event_id\":0}"), "ok");
    CHECK(str_is(EV.user_id, "123"));
    CHECK(str_is(EV.product_id, "-1.5e3"));
    CHECK(str_is(EV.event_id, "0"));
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"user_id\":true,\"product_id\":false}"), "ok");
    CHECK(str_is(EV.user_id, "true"));
    CHECK(str_is(EV.product_id, "false"));
    /* not JSON numbers */
    const char *bad[] = {"01", "1.", ".5", "-", "+1", "1e", "1e+", "--1", "0x1", "1.2.3", "NaN", "tru", "nul", "True"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char rec[256];
        snprintf(rec, sizeof rec, "{" BASE ",\"user_id\":%s}", bad[i]);
        CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "malformed");
        snprintf(rec, sizeof rec, "{" BASE ",\"unknown\":%s}", bad[i]);
        CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "malformed");
    }
    /* bytes that are not UTF-8, in a field read or not, are malformed (JSON is UTF-8) */
    const char *broken[] = {"\xFF", "\xC3", "\xC3(", "\xED\xA0\x80", "\xC0\xAF", "\xF4\x90\x80\x80", "\x80"};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        char rec[256];
        snprintf(rec, sizeof rec, "{" BASE ",\"user_id\":\"u%s\"}", broken[i]);
        CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "malformed");
        snprintf(rec, sizeof rec, "{" BASE ",\"note\":\"%s\"}", broken[i]);
        CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "malformed");
        /* before anything else is wrong with it */
        snprintf(rec, sizeof rec, "{\"event_type\":\"view\",\"note\":\"%s\"}", broken[i]);
        CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "malformed");
        CHECK_EQ_STR(C(SS_STREAM_ORDERS, "order_id,customer_id,product_id,price,order_ts",
                       strcat(strcpy(rec, "O1,C1,P"), broken[i]) ), "malformed");
    }
    CHECK_EQ_STR(C(SS_STREAM_ORDERS, "order_id,customer_id,product_id,price,order_ts",
                   "O1,C\xC3\xA9,P\xF0\x9F\x98\x80,1.00,2026-11-27T10:30:00Z"), "ok");
    CHECK(str_is(EV.user_id, "C\xC3\xA9"));
}

TEST(amounts) {
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":1.5e2}"), "ok");
    CHECK_EQ_INT(EV.price, 1500000);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":\"12E-2\"}"), "ok");
    CHECK_EQ_INT(EV.price, 1200);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":12E-2}"), "ok");
    CHECK_EQ_INT(EV.price, 1200);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":19.990000}"), "ok");
    CHECK_EQ_INT(EV.price, 199900);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":1e-5}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":0.12345}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":\"12,50\"}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":\" 12\"}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":true}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":1e30}"), "bad_amount");
    /* a negative price is fine on a view, not on a purchase */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":-5}"), "ok");
    CHECK_EQ_INT(EV.price, -50000);
    CHECK_EQ_INT(EV.has_price, 1);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":-5}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":\"-0.0001\"}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":0}"), "ok");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":\"-0\"}"), "ok");
    /* quantity */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":1,\"quantity\":0}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":1,\"quantity\":-1}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":1,\"quantity\":\"2\"}"), "ok");
    CHECK_EQ_INT(EV.quantity, 2);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":1,\"quantity\":2.5}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":1,\"quantity\":\"2.5\"}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":1,\"quantity\":2.0}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":1,\"quantity\":2e0}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":1,\"quantity\":\" 2\"}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":1,\"quantity\":true}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":1,\"quantity\":2147483648}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":1,\"quantity\":2147483647}"), "ok");
    CHECK_EQ_INT(EV.quantity, 2147483647);
    /* price x quantity must fit the fixed-point range: 922337203685477.5807 */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":\"922337203685477\",\"quantity\":2}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":\"461168601842738.7903\",\"quantity\":2}"), "ok");
    CHECK_EQ_INT(EV.price * EV.quantity, INT64_MAX - 1);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":\"461168601842738.7904\",\"quantity\":2}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":\"429496.7298\",\"quantity\":2147483647}"), "ok");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":\"429496.7299\",\"quantity\":2147483647}"), "bad_amount");
    /* a view's price x quantity is never summed: not checked */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":\"922337203685477\",\"quantity\":2}"), "ok");
    CHECK_EQ_STR(C(SS_STREAM_ORDERS, "order_id,customer_id,product_id,price,quantity,order_ts",
                   "O1,C1,P1,922337203685477,2,2026-11-27T10:30:00Z"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":1,\"quantity\":null}"), "ok");
    CHECK_EQ_INT(EV.quantity, 1);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" PURCHASE_NO_PRICE ",\"price\":1,\"quantity\":\"\"}"), "ok");
    CHECK_EQ_INT(EV.quantity, 1);
    /* on a view, quantity 0 or negative is kept: only purchases are checked */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"quantity\":0}"), "ok");
    CHECK_EQ_INT(EV.quantity, 0);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"quantity\":-3}"), "ok");
    CHECK_EQ_INT(EV.quantity, -3);
    /* a string quantity is digits only (SEMANTICS §2): no sign */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"quantity\":\"-3\"}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"quantity\":\"+3\"}"), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"quantity\":\"007\"}"), "ok");
    CHECK_EQ_INT(EV.quantity, 7);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"quantity\":1.5}"), "bad_amount");
}

TEST(timestamps) {
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":\"2026-11-27T11:30:00+01:00\"}"), "ok");
    CHECK_EQ_INT(EV.ts, TS_BASE);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":\"2026-11-27T05:00:00-0530\"}"), "ok");
    CHECK_EQ_INT(EV.ts, TS_BASE);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":\"2026-11-27 10:30:00.987654321Z\"}"), "ok");
    CHECK_EQ_INT(EV.ts, TS_BASE + 987);
    const char *fr[] = {"1", "12", "123", "1234", "12345", "123456", "1234567", "12345678", "123456789"};
    const int64_t frms[] = {100, 120, 123, 123, 123, 123, 123, 123, 123};
    for (int i = 0; i < 9; i++) {
        char rec[256];
        snprintf(rec, sizeof rec, "{" BASE_NO_TS ",\"ts\":\"2026-11-27T10:30:00.%sZ\"}", fr[i]);
        CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "ok");
        CHECK_EQ_INT(EV.ts, TS_BASE + frms[i]);
    }
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":\"2024-02-29T00:00:00Z\"}"), "ok");
    CHECK_EQ_INT(EV.ts, 1709164800000LL);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":\"2023-02-29T00:00:00Z\"}"), "bad_ts");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":\"2026-11-27T10:30:00\"}"), "bad_ts");
    /* epoch milliseconds, as a JSON integer or a string of digits */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":1700000000000}"), "ok");
    CHECK_EQ_INT(EV.ts, 1700000000000LL);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":\"1700000000000\"}"), "ok");
    CHECK_EQ_INT(EV.ts, 1700000000000LL);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":-5}"), "ok");
    CHECK_EQ_INT(EV.ts, -5);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":1.7e12}"), "bad_ts");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":1700000000000.0}"), "bad_ts");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":true}"), "bad_ts");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":99999999999999999999}"), "bad_ts");
    /* only years 0000-9999: one absurd ts would move the watermark past every later event */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":-9223372036854775000}"), "bad_ts");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":9223372036854775807}"), "bad_ts");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":\"253402300800000\"}"), "bad_ts");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":253402300799999}"), "ok");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":-62167219200000}"), "ok");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE_NO_TS ",\"ts\":-62167219200001}"), "bad_ts");
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, "{\"promo_id\":\"q\",\"product_id\":\"p\",\"discount_pct\":5,"
                 "\"starts_at\":\"2026-11-27T10:00:00Z\",\"ends_at\":99999999999999999,\"ts\":1}"), "bad_ts");
}

/* A canonical timestamp of the date parsed last takes a fast path (decoder.c,
 * parse_ts). With that date cached, timestamps with one byte changed, and the edges of
 * each time field, must give what a fresh decoder (which parses them in full) gives. */
static int warm_ts_differs(struct ss_decoder *warm, const char *ts) {
    char rec[256], rec0[256];
    snprintf(rec0, sizeof rec0, "{" BASE_NO_TS ",\"ts\":\"2026-11-27T10:30:00.123Z\"}");
    snprintf(rec, sizeof rec, "{" BASE_NO_TS ",\"ts\":\"%s\"}", ts);
    CHECK_EQ_INT(ss_decoder_decode(warm, rec0, strlen(rec0), &A, &EV, &RES), SS_DEC_EVENT);
    enum ss_decode_status st = ss_decoder_decode(warm, rec, strlen(rec), &A, &EV, &RES);
    int64_t got = EV.ts;
    const char *want = J(SS_STREAM_CLICKS, rec);
    if (strcmp(status_text(st), want) == 0 && (st != SS_DEC_EVENT || got == EV.ts)) return 0;
    fprintf(stderr, "  %s: warm %s %lld, fresh %s %lld\n", ts, status_text(st), (long long)got, want,
            (long long)EV.ts);
    return 1;
}

/* A price as decoded from a JSON string, from a JSON number, and as a CSV row's
 * last field (where the bytes after it are not the record's: parse_money's word path
 * must not read them), against ss_money_parse itself. 1 when they differ. */
static int price_differs(const char *price) {
    int64_t want;
    bool want_ok = ss_money_parse(price, strlen(price), &want) == SS_OK;
    char rec[256];
    int bad = 0;
    for (int form = 0; form < 3; form++) {
        const char *got;
        if (form == 0) {
            snprintf(rec, sizeof rec, "{" BASE ",\"price\":\"%s\",\"quantity\":1}", price);
            got = J(SS_STREAM_CLICKS, rec);
        } else if (form == 1) {
            if (strchr(price, ' ')) continue; /* white space around a JSON number is no part of it */
            snprintf(rec, sizeof rec, "{" BASE ",\"price\":%s}", price);
            got = J(SS_STREAM_CLICKS, rec);
            if (strcmp(got, "malformed") == 0) continue; /* not a JSON number */
        } else {
            /* the row in a buffer of its own length: ASan reports a read beyond it */
            char row[96];
            snprintf(row, sizeof row, "O1,C1,P1,2026-11-27T10:30:00Z,%s", price);
            size_t n = strlen(row);
            char *exact = ss_malloc(n);
            memcpy(exact, row, n);
            struct ss_decoder *d = open_dec(SS_STREAM_ORDERS, SS_FMT_CSV);
            const char *hdr = "order_id,customer_id,product_id,order_ts,price";
            CHECK_EQ_INT(ss_decoder_decode(d, hdr, strlen(hdr), &A, &EV, &RES), SS_DEC_SKIP);
            got = status_text(ss_decoder_decode(d, exact, n, &A, &EV, &RES));
            ss_decoder_close(d);
            ss_free(exact);
            /* an order is a purchase: a negative price or zero quantity is its own rejection */
            if (want_ok && want < 0) {
                bad |= strcmp(got, "bad_amount") != 0;
                continue;
            }
        }
        bool ok = strcmp(got, "ok") == 0;
        if (ok != want_ok || (ok && EV.price != want) || (!ok && strcmp(got, "bad_amount") != 0)) {
            fprintf(stderr, "  price %s (form %d): %s %lld, ss_money_parse %d %lld\n", price, form, got,
                    (long long)EV.price, want_ok, (long long)want);
            bad = 1;
        }
    }
    return bad;
}

TEST(price_fast_path) {
    static const char bytes[] = "0123456789.-+eE x/:\x7f";
    const char *bases[] = {"1.00", "12.50", "123.45", "1234.56", "12345.67", "0.01", "00.00", "99999.99",
                           "5", "12.5", "1.234", "123456.78", "1.0000", "-1.50", "10.00e1"};
    int differ = 0;
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        differ += price_differs(bases[b]);
        size_t n = strlen(bases[b]);
        for (size_t pos = 0; pos < n; pos++)
            for (size_t k = 0; k < sizeof bytes - 1; k++) {
                char p[16];
                memcpy(p, bases[b], n + 1);
                p[pos] = bytes[k];
                differ += price_differs(p);
            }
    }
    CHECK_EQ_INT(differ, 0);
    /* and the values themselves, not only agreement */
    static const struct { const char *text; int64_t value; } known[] = {
        {"99999.99", 999999900}, {"0.07", 700}, {"40.30", 403000}, {"1.00", 10000}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        char rec[128];
        snprintf(rec, sizeof rec, "{" BASE ",\"price\":\"%s\",\"quantity\":1}", known[i].text);
        CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "ok");
        CHECK_EQ_INT(EV.price, known[i].value);
    }
}

TEST(timestamp_fast_path) {
    struct ss_decoder *warm = open_dec(SS_STREAM_CLICKS, SS_FMT_JSON);
    static const char bytes[] = "0123456789:;/.-TtZz +\x01\x7f\xff";
    const char *ts0 = "2026-11-27T10:30:00.123Z";
    int differ = 0;
    for (int pos = 0; pos < 24; pos++)
        for (size_t b = 0; b < sizeof bytes - 1; b++) {
            char ts[25];
            memcpy(ts, ts0, 25);
            ts[pos] = bytes[b];
            differ += warm_ts_differs(warm, ts);
        }
    const char *edges[] = {"2026-11-27T00:00:00.000Z", "2026-11-27T23:59:59.999Z", "2026-11-27T24:00:00.000Z",
                           "2026-11-27T19:00:00.000Z", "2026-11-27T20:00:00.000Z", "2026-11-27T10:59:00.000Z",
                           "2026-11-27T10:60:00.000Z", "2026-11-27T10:30:59.000Z", "2026-11-27T10:30:60.000Z",
                           "2026-11-27T10:30:00.999Z", "2026-11-28T10:30:00.123Z", "2026-11-27T10:30:00.123+",
                           "2026-11-27T10:30:00,123Z", "2026-11-27T10:30:00.12Z", "2026-11-27 10:30:00.123Z"};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) differ += warm_ts_differs(warm, edges[i]);
    CHECK_EQ_INT(differ, 0);
    /* and the fast path's own answer, on a date other than the one cached first */
    char rec[256];
    snprintf(rec, sizeof rec, "{" BASE_NO_TS ",\"ts\":\"2026-11-28T00:00:00.000Z\"}");
    CHECK_EQ_INT(ss_decoder_decode(warm, rec, strlen(rec), &A, &EV, &RES), SS_DEC_EVENT);
    snprintf(rec, sizeof rec, "{" BASE_NO_TS ",\"ts\":\"2026-11-28T23:59:58.765Z\"}");
    CHECK_EQ_INT(ss_decoder_decode(warm, rec, strlen(rec), &A, &EV, &RES), SS_DEC_EVENT);
    CHECK_EQ_INT(EV.ts, TS_BASE - (10 * 3600 + 30 * 60) * 1000LL + 2 * 86400000LL - 1235);
    ss_decoder_close(warm);
}

TEST(duplicates_and_unknown) {
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"user_id\":\"a\",\"x\":1,\"user_id\":\"b\"}"), "ok");
    CHECK(str_is(EV.user_id, "b"));
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"user_id\":\"a\",\"user_id\":null}"), "missing_user_id");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":\"x\",\"price\":\"1\"}"), "ok");
    CHECK_EQ_INT(EV.price, 10000);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":\"1\",\"price\":\"x\"}"), "bad_amount");
    /* nested unknown fields with braces, brackets and quotes inside strings */
    const char *line = "{\"meta\":{\"a\":\"}{\\\"]\",\"b\":[1,{\"c\":\"]\"}],\"d\":null,\"e\":[],\"f\":{},"
                       "\"g\":-0.5e-3,\"h\":true,\"user_id\":\"nested\"}," BASE
                       ",\"tags\":[\"{\",\"}\",[[[]]]],\"n\":0,\"z\":\"\\\\\"}";
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, line), "ok");
    CHECK(str_is(EV.user_id, "u")); /* a nested key of the same name is not the field */
    /* bad syntax inside unknown values */
    const char *bad[] = {"{\"a\":01}", "[1,]", "{\"a\"}", "{\"a\":1,}", "{,}", "[1 2]", "{\"a\" 1}",
                         "tru", "{\"a\":[}", "{'a':1}", "[", "{", "\"abc", "]", "}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char rec[256];
        snprintf(rec, sizeof rec, "{" BASE ",\"meta\":%s}", bad[i]);
        CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "malformed");
    }
    /* deep nesting: fine up to the limit, malformed beyond */
    char *deep = ss_malloc(4096);
    for (int depth = 100; depth <= 600; depth += 500) {
        int n = sprintf(deep, "{" BASE ",\"x\":");
        for (int i = 0; i < depth; i++) deep[n++] = '[';
        for (int i = 0; i < depth; i++) deep[n++] = ']';
        deep[n++] = '}';
        deep[n] = '\0';
        CHECK_EQ_STR(J(SS_STREAM_CLICKS, deep), depth == 100 ? "ok" : "malformed");
    }
    ss_free(deep);
}

TEST(syntax) {
    const char *good = CLICK_OK;
    size_t n = strlen(good);
    /* every truncation of a valid record is malformed */
    int bad = 0;
    char *buf = ss_malloc(n + 1);
    for (size_t k = 1; k < n; k++) {
        memcpy(buf, good, k);
        struct ss_decoder *d = open_dec(SS_STREAM_CLICKS, SS_FMT_JSON);
        enum ss_decode_status st = ss_decoder_decode(d, buf, k, &A, &EV, &RES);
        ss_decoder_close(d);
        if (st != SS_DEC_INVALID || RES.reason != SS_BAD_MALFORMED) bad++;
    }
    ss_free(buf);
    CHECK_EQ_INT(bad, 0);
    char rec[512];
    const char *tails[] = {"x", "}", ",", "{}", "\"\"", "0", ",{}", " x"};
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        snprintf(rec, sizeof rec, "%s%s", good, tails[i]);
        CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "malformed");
    }
    snprintf(rec, sizeof rec, " \t%s \t ", good);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "ok");
    CHECK(EV.raw.len == strlen(rec)); /* raw is the record as given */
    snprintf(rec, sizeof rec, "%s\r", good);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "ok");
    CHECK_EQ_INT(EV.raw.len, n); /* the \r of a \r\n ending is not part of the record */
    const char *junk[] = {"{\"event_id\" \"e\"}", "{\"event_id\":\"e\" \"event_type\":\"view\"}",
                          "{\"event_id\":\"e\",}", "{'event_id':'e'}", "[]", "null", "\"str\"", "{",
                          "}", "{\"a\":1}}", "{{}}", "{\"event_id\":}", "{:\"e\"}", "{\"a\":1,,\"b\":2}",
                          "123", "{\"a\":1}garbage", "\xEF\xBB\xBF{}"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) CHECK_EQ_STR(J(SS_STREAM_CLICKS, junk[i]), "malformed");
    /* \v and \f make a line blank but are not JSON white space */
    snprintf(rec, sizeof rec, "\v%s", good);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "malformed");
    snprintf(rec, sizeof rec, "%s\f", good);
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, rec), "malformed");
    /* a NUL byte in the middle of a record */
    struct ss_decoder *d = open_dec(SS_STREAM_CLICKS, SS_FMT_JSON);
    CHECK_EQ_INT(ss_decoder_decode(d, "{\"a\":1}\0", 8, &A, &EV, &RES), SS_DEC_INVALID);
    /* known fields holding objects or arrays */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"user_id\":[1]}"), "malformed");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"price\":{}}"), "malformed");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"category\":{\"a\":1}}"), "malformed");
    /* ... unless a later duplicate key replaces the value (the last key wins) */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{\"user_id\":{\"a\":[1]}," BASE "}"), "ok");
    CHECK(str_is(EV.user_id, "u"));
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"user_id\":[1],\"user_id\":null}"), "missing_user_id");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"user_id\":\"u\",\"user_id\":[1]}"), "malformed");
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"user_id\":[1,}"), "malformed");
    /* a field this stream does not read may hold anything */
    CHECK_EQ_STR(J(SS_STREAM_CLICKS, "{" BASE ",\"promo_id\":{\"a\":1}}"), "ok");
    /* blank records are skipped, not counted */
    const char *blank[] = {"", " ", "\t", "\r", " \r", "  \t  ", "\v", " \f "};
    for (size_t i = 0; i < sizeof blank / sizeof blank[0]; i++) {
        CHECK_EQ_STR(J(SS_STREAM_CLICKS, blank[i]), "skip");
        CHECK_EQ_STR(C(SS_STREAM_CLICKS, "event_id", blank[i]), "skip");
    }
    ss_decoder_close(d);
}

TEST(orders) {
    const char *line = "{\"order_id\":\"o1\",\"customer_id\":\"c1\",\"product_id\":\"p1\",\"category\":\"toys\","
                       "\"price\":\"19.99\",\"quantity\":2,\"order_ts\":\"2026-11-27T11:30:00+01:00\"}";
    CHECK_EQ_STR(J(SS_STREAM_ORDERS, line), "ok");
    CHECK_EQ_INT(EV.stream, SS_STREAM_ORDERS);
    CHECK_EQ_INT(EV.type, SS_EV_PURCHASE);
    CHECK(str_is(EV.event_id, "o1"));
    CHECK(str_is(EV.order_id, "o1"));
    CHECK(str_is(EV.user_id, "c1"));
    CHECK(str_is(EV.product_id, "p1"));
    CHECK(str_is(EV.category, "toys"));
    CHECK_EQ_INT(EV.price, 199900);
    CHECK_EQ_INT(EV.quantity, 2);
    CHECK_EQ_INT(EV.ts, TS_BASE);
    CHECK(EV.session_id.p == NULL);
    /* the canonical names are not the orders' input names */
    CHECK_EQ_STR(J(SS_STREAM_ORDERS, "{\"order_id\":\"o1\",\"user_id\":\"c1\",\"product_id\":\"p1\","
                                     "\"price\":1,\"order_ts\":5}"),
                 "missing_user_id");
    CHECK_EQ_STR(J(SS_STREAM_ORDERS, "{\"order_id\":\"o1\",\"customer_id\":\"c1\",\"product_id\":\"p1\","
                                     "\"price\":1,\"ts\":5}"),
                 "missing_ts");
    CHECK_EQ_STR(J(SS_STREAM_ORDERS, "{\"event_id\":\"e\"}"), "missing_order_id");
    CHECK_EQ_STR(J(SS_STREAM_ORDERS, "{\"order_id\":\"o\"}"), "missing_user_id");
    CHECK_EQ_STR(J(SS_STREAM_ORDERS, "{\"order_id\":\"o\",\"customer_id\":\"c\"}"), "missing_product_id");
    /* price is a required field of orders: reported at step 2, before bad_ts */
    CHECK_EQ_STR(J(SS_STREAM_ORDERS, "{\"order_id\":\"o\",\"customer_id\":\"c\",\"product_id\":\"p\","
                                     "\"order_ts\":\"bad\"}"),
                 "missing_price");
    CHECK_EQ_INT(RES.missing, SS_F_PRICE);
    CHECK_EQ_STR(J(SS_STREAM_ORDERS, "{\"order_id\":\"o\",\"customer_id\":\"c\",\"product_id\":\"p\",\"price\":1}"),
                 "missing_ts");
    CHECK_EQ_STR(J(SS_STREAM_ORDERS, "{\"order_id\":\"o\",\"customer_id\":\"c\",\"product_id\":\"p\",\"price\":1,"
                                     "\"quantity\":0,\"order_ts\":5}"),
                 "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_ORDERS, "{\"order_id\":\"o\",\"customer_id\":\"c\",\"product_id\":\"p\",\"price\":-1,"
                                     "\"order_ts\":5}"),
                 "bad_amount");
    /* an event_type in an order line is just an unknown field */
    CHECK_EQ_STR(J(SS_STREAM_ORDERS, "{\"order_id\":7,\"customer_id\":\"c\",\"product_id\":\"p\",\"price\":1,"
                                     "\"order_ts\":5,\"event_type\":\"view\"}"),
                 "ok");
    CHECK_EQ_INT(EV.type, SS_EV_PURCHASE);
    CHECK(str_is(EV.event_id, "7"));
    CHECK_EQ_INT(EV.quantity, 1);
}

#define PROMO(disc, ts)                                                                            \
    "{\"promo_id\":\"pr1\",\"product_id\":\"p1\",\"discount_pct\":" disc ","                       \
    "\"starts_at\":\"2026-11-27T10:00:00Z\",\"ends_at\":1795780800000,\"ts\":" ts "}"

TEST(promotions) {
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, PROMO("12.5", "\"2026-11-27T10:30:00Z\"")), "ok");
    CHECK_EQ_INT(EV.stream, SS_STREAM_PROMOTIONS);
    CHECK_EQ_INT(EV.type, SS_EV_PROMOTION);
    CHECK(str_is(EV.promo_id, "pr1"));
    CHECK(str_is(EV.product_id, "p1"));
    CHECK_EQ_INT(EV.discount_pct, 125000);
    CHECK_EQ_INT(EV.starts_at, TS_BASE - 1800000);
    CHECK_EQ_INT(EV.ends_at, 1795780800000LL);
    CHECK_EQ_INT(EV.ts, TS_BASE);
    CHECK(EV.user_id.p == NULL);
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, PROMO("150", "0")), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, PROMO("100", "0")), "ok");
    CHECK_EQ_INT(EV.discount_pct, 1000000);
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, PROMO("0", "0")), "ok");
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, PROMO("\"100.0001\"", "0")), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, PROMO("-1", "0")), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, PROMO("\"ten\"", "0")), "bad_amount");
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, PROMO("150", "\"bad\"")), "bad_ts");
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, PROMO("null", "0")), "missing_discount_pct");
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, "{\"promo_id\":\"x\",\"product_id\":\"p\",\"discount_pct\":1,"
                                         "\"starts_at\":\"2026-02-30T00:00:00Z\",\"ends_at\":1,\"ts\":1}"),
                 "bad_ts");
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, "{\"promo_id\":\"x\",\"product_id\":\"p\",\"discount_pct\":1,"
                                         "\"starts_at\":1,\"ends_at\":\"x\",\"ts\":1}"),
                 "bad_ts");
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, "{}"), "missing_promo_id");
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, "{\"promo_id\":\"x\"}"), "missing_product_id");
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, "{\"promo_id\":\"x\",\"product_id\":\"p\"}"), "missing_discount_pct");
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, "{\"promo_id\":\"x\",\"product_id\":\"p\",\"discount_pct\":1}"),
                 "missing_starts_at");
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, "{\"promo_id\":\"x\",\"product_id\":\"p\",\"discount_pct\":1,"
                                         "\"starts_at\":1}"),
                 "missing_ends_at");
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, "{\"promo_id\":\"x\",\"product_id\":\"p\",\"discount_pct\":1,"
                                         "\"starts_at\":1,\"ends_at\":2}"),
                 "missing_ts");
    /* a click's fields mean nothing to a promotion */
    CHECK_EQ_STR(J(SS_STREAM_PROMOTIONS, "{\"event_id\":\"e\",\"user_id\":\"u\"}"), "missing_promo_id");
}

#define CSV_HDR "event_id,event_type,user_id,product_id,category,price,quantity,ts"

/* A NUL byte in a CSV row is malformed, as \u0000 is in JSON: the sinks could not agree on
 * the value (PostgreSQL's text cannot hold one). */
TEST(csv_nul) {
    struct ss_decoder *d = open_dec(SS_STREAM_CLICKS, SS_FMT_CSV);
    CHECK_EQ_INT(ss_decoder_decode(d, CSV_HDR, strlen(CSV_HDR), &A, &EV, &RES), SS_DEC_SKIP);
    static const char row[] = "e1,view,u\0001,p1,books,12.50,2,2026-11-27T10:30:00Z";
    CHECK_EQ_INT(ss_decoder_decode(d, row, sizeof row - 1, &A, &EV, &RES), SS_DEC_INVALID);
    CHECK_EQ_INT(RES.reason, SS_BAD_MALFORMED);
    static const char ok[] = "e1,view,u1,p1,books,12.50,2,2026-11-27T10:30:00Z";
    CHECK_EQ_INT(ss_decoder_decode(d, ok, sizeof ok - 1, &A, &EV, &RES), SS_DEC_EVENT);
    ss_decoder_close(d);
}

TEST(csv) {
    const char *row = "e1,view,u1,p1,books,12.50,2,2026-11-27T10:30:00Z";
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, row), "ok");
    CHECK(str_is(EV.event_id, "e1"));
    CHECK(str_is(EV.user_id, "u1"));
    CHECK(str_is(EV.category, "books"));
    CHECK(in_buf(EV.category, row));
    CHECK_EQ_INT(EV.price, 125000);
    CHECK_EQ_INT(EV.quantity, 2);
    CHECK_EQ_INT(EV.ts, TS_BASE);
    CHECK(EV.session_id.p == NULL); /* no such column */
    /* quoting: commas inside quotes, "" escapes, empty quoted = missing */
    const char *q = "\"e,1\",\"view\",\"u\"\"1\",p1,\"\",,,\"2026-11-27T10:30:00Z\"";
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, q), "ok");
    CHECK(str_is(EV.event_id, "e,1"));
    CHECK(in_buf(EV.event_id, q));
    CHECK(str_is(EV.user_id, "u\"1"));
    CHECK(!in_buf(EV.user_id, q));
    CHECK(EV.category.p != NULL && EV.category.len == 0);
    CHECK_EQ_INT(EV.has_price, 0);
    CHECK_EQ_INT(EV.quantity, 1);
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "\"\"\"\",view,\"a\"\"\"\"b\",p,,,,1"), "ok");
    CHECK(str_is(EV.event_id, "\""));
    CHECK(str_is(EV.user_id, "a\"\"b"));
    /* a quote inside an unquoted cell is literal */
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1,view,u\"1,p1,,,,1"), "ok");
    CHECK(str_is(EV.user_id, "u\"1"));
    /* "null" is text in CSV, not a missing value */
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1,view,null,p1,,,,1"), "ok");
    CHECK(str_is(EV.user_id, "null"));
    /* column count */
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1,view,u1,p1,books,12.50,2"), "malformed");
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1,view,u1,p1,books,12.50,2,1,"), "malformed");
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1"), "malformed");
    /* bad quoting */
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "\"e1\"x,view,u1,p1,books,12.50,2,1"), "malformed");
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "\"e1,view,u1,p1,books,12.50,2,1"), "malformed");
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1,view,u1,p1,books,12.50,2,\"1"), "malformed");
    /* validation is the same as for JSON */
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1,view,,p1,books,12.50,2,bad"), "missing_user_id");
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1,click,u1,p1,books,12.50,2,bad"), "unknown_type");
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1,purchase,u1,p1,books,,2,bad"), "missing_price");
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1,purchase,u1,p1,books,1,2,bad"), "bad_ts");
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1,purchase,u1,p1,books,1,0,1"), "bad_amount");
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1,purchase,u1,p1,books,1,2.5,1"), "bad_amount");
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1,purchase,u1,p1,books,-1,1,1"), "bad_amount");
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1,view,u1,p1,books,-1,1,1"), "ok");
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1,view,u1,p1,books,1,-1,1"), "bad_amount");
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR, "e1,view,u1,p1,books,1e2,1,-1"), "ok");
    CHECK_EQ_INT(EV.price, 1000000);
    CHECK_EQ_INT(EV.ts, -1);
    /* \r stripped, also from raw */
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, CSV_HDR "\r", "e1,view,u1,p1,books,12.50,2,1\r"), "ok");
    CHECK_EQ_INT(EV.ts, 1);
    CHECK_EQ_INT(EV.raw.len, strlen("e1,view,u1,p1,books,12.50,2,1"));
    /* header: BOM, quoted names, unknown columns, any order, an escaped name */
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, "\xEF\xBB\xBF\"ts\",junk,\"user_id\",product_id,event_type,\"event\"\"id\",event_id",
                   "2026-11-27T10:30:00Z,\"x,y\",u1,p1,view,zz,e1"),
                 "ok");
    CHECK(str_is(EV.user_id, "u1"));
    CHECK(str_is(EV.event_id, "e1"));
    CHECK_EQ_INT(EV.ts, TS_BASE);
    /* a header missing a required column makes every row missing it */
    CHECK_EQ_STR(C(SS_STREAM_CLICKS, "event_id,event_type,product_id,ts", "e,view,p,1"), "missing_user_id");

    /* blank lines before the header; then several rows through one decoder */
    struct ss_decoder *d = open_dec(SS_STREAM_CLICKS, SS_FMT_CSV);
    const char *lines[] = {"", "  ", CSV_HDR, "e1,view,u1,p1,books,1,1,1", "", "e2,view,u2,p2,,,,2",
                           "e3,view,u3", "e4,cart_add,u4,p4,c,,,4"};
    const char *want[] = {"skip", "skip", "skip", "ok", "skip", "ok", "malformed", "ok"};
    for (int i = 0; i < 8; i++) {
        enum ss_decode_status st = ss_decoder_decode(d, lines[i], strlen(lines[i]), &A, &EV, &RES);
        CHECK_EQ_STR(status_text(st), want[i]);
    }
    CHECK(str_is(EV.user_id, "u4"));
    CHECK_EQ_INT(EV.type, SS_EV_CART_ADD);
    ss_decoder_close(d);
    /* an unreadable header leaves no columns: every row is malformed */
    d = open_dec(SS_STREAM_CLICKS, SS_FMT_CSV);
    CHECK_EQ_INT(ss_decoder_decode(d, "\"event_id", 9, &A, &EV, &RES), SS_DEC_SKIP);
    CHECK_EQ_INT(ss_decoder_decode(d, CSV_HDR, strlen(CSV_HDR), &A, &EV, &RES), SS_DEC_INVALID);
    CHECK_EQ_STR(RES.reason_text, "malformed");
    CHECK_EQ_INT(ss_decoder_decode(d, "e", 1, &A, &EV, &RES), SS_DEC_INVALID);
    ss_decoder_close(d);

    /* orders and promotions in CSV */
    CHECK_EQ_STR(C(SS_STREAM_ORDERS, "order_id,customer_id,product_id,category,price,quantity,order_ts",
                   "o1,c1,p1,toys,19.99,2,2026-11-27T10:30:00Z"),
                 "ok");
    CHECK(str_is(EV.event_id, "o1"));
    CHECK(str_is(EV.order_id, "o1"));
    CHECK(str_is(EV.user_id, "c1"));
    CHECK_EQ_INT(EV.type, SS_EV_PURCHASE);
    CHECK_EQ_INT(EV.price * EV.quantity, 399800);
    CHECK_EQ_STR(C(SS_STREAM_PROMOTIONS, "promo_id,product_id,discount_pct,starts_at,ends_at,ts",
                   "pr1,p1,150,2026-11-27T10:00:00Z,2026-11-27T12:00:00Z,1"),
                 "bad_amount");
    CHECK_EQ_STR(C(SS_STREAM_PROMOTIONS, "promo_id,product_id,discount_pct,starts_at,ends_at,ts",
                   "pr1,p1,33.3333,2026-11-27T10:00:00Z,2026-11-27T12:00:00Z,1"),
                 "ok");
    CHECK_EQ_INT(EV.discount_pct, 333333);
}

TEST(custom_names) {
    char *names[SS_F_COUNT];
    for (int f = 0; f < SS_F_COUNT; f++) names[f] = (char *)ss_field_name((enum ss_field)f);
    names[SS_F_USER_ID] = "uid";
    names[SS_F_SESSION_ID] = NULL;
    names[SS_F_CATEGORY] = ""; /* empty: not read */
    struct ss_decoder *d = NULL;
    struct ss_err err;
    CHECK_EQ_INT(ss_decoder_open(&d, SS_STREAM_CLICKS, SS_FMT_JSON, names, &err), SS_OK);
    const char *line = "{" BASE_NO_TS ",\"ts\":1,\"uid\":\"y\",\"user_id\":\"x\",\"session_id\":\"s\",\"category\":\"c\"}";
    CHECK_EQ_INT(ss_decoder_decode(d, line, strlen(line), &A, &EV, &RES), SS_DEC_EVENT);
    CHECK(str_is(EV.user_id, "y"));
    CHECK(EV.session_id.p == NULL);
    CHECK(EV.category.p != NULL && EV.category.len == 0);
    ss_decoder_close(d);
    /* two fields reading one input name is a configuration error naming both keys */
    names[SS_F_PRODUCT_ID] = "uid";
    d = (struct ss_decoder *)&err; /* must be reset to NULL */
    CHECK_EQ_INT(ss_decoder_open(&d, SS_STREAM_CLICKS, SS_FMT_CSV, names, &err), SS_EUSAGE);
    CHECK(d == NULL);
    CHECK(strstr(err.msg, "fields.clicks.user_id") != NULL);
    CHECK(strstr(err.msg, "fields.clicks.product_id") != NULL);
    /* a name longer than the limit */
    char *longname = ss_malloc(300);
    memset(longname, 'a', 299);
    longname[299] = '\0';
    names[SS_F_PRODUCT_ID] = longname;
    CHECK_EQ_INT(ss_decoder_open(&d, SS_STREAM_CLICKS, SS_FMT_JSON, names, &err), SS_EUSAGE);
    ss_free(longname);
    CHECK_EQ_INT(ss_decoder_open(&d, SS_STREAM_COUNT, SS_FMT_JSON, NULL, &err), SS_EUSAGE);
    CHECK_EQ_INT(ss_decoder_open(&d, SS_STREAM_CLICKS, (enum ss_format)7, NULL, &err), SS_EUSAGE);
    /* orders with config-style names: event_id's name is not read by orders */
    char *on[SS_F_COUNT] = {0};
    on[SS_F_EVENT_ID] = "order_id"; /* ignored: not an orders field */
    on[SS_F_ORDER_ID] = "oid";
    on[SS_F_USER_ID] = "buyer";
    on[SS_F_PRODUCT_ID] = "sku";
    on[SS_F_PRICE] = "amount";
    on[SS_F_TS] = "when";
    CHECK_EQ_INT(ss_decoder_open(&d, SS_STREAM_ORDERS, SS_FMT_JSON, on, &err), SS_OK);
    const char *ol = "{\"oid\":\"O\",\"buyer\":\"B\",\"sku\":\"S\",\"amount\":\"2.5\",\"when\":9,\"order_id\":\"X\"}";
    CHECK_EQ_INT(ss_decoder_decode(d, ol, strlen(ol), &A, &EV, &RES), SS_DEC_EVENT);
    CHECK(str_is(EV.event_id, "O"));
    CHECK(str_is(EV.user_id, "B"));
    CHECK_EQ_INT(EV.price, 25000);
    ss_decoder_close(d);
}

/* Random byte mutations of valid records: never a crash, always a consistent answer. */
TEST(mutations) {
    const char *seeds[] = {CLICK_OK, PROMO("12.5", "1"),
                           "{\"x\":{\"y\":[\"\\ud83d\\ude00\",\"\\\"}\"]}," BASE ",\"price\":1.5e2}"};
    uint64_t x = 88172645463325252ULL;
    int bad = 0;
    char buf[512];
    for (int i = 0; i < 60000; i++) {
        const char *s = seeds[i % 3];
        size_t n = strlen(s);
        memcpy(buf, s, n);
        int muts = 1 + i % 4;
        for (int m = 0; m < muts; m++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            static const char alphabet[] = "{}[]\":,\\u0123456789abcdefE+-. \t\x01\xff";
            buf[x % n] = alphabet[(x >> 32) % (sizeof alphabet - 1)];
            if ((x >> 40) % 7 == 0) n = 1 + (x >> 20) % n; /* truncate */
        }
        for (int fmt = 0; fmt < 2; fmt++) {
            struct ss_decoder *d = open_dec(i % 3 == 1 ? SS_STREAM_PROMOTIONS : SS_STREAM_CLICKS,
                                            fmt ? SS_FMT_CSV : SS_FMT_JSON);
            enum ss_decode_status st = SS_DEC_SKIP;
            if (fmt) st = ss_decoder_decode(d, "event_id,user_id,ts,promo_id", 28, &A, &EV, &RES);
            st = ss_decoder_decode(d, buf, n, &A, &EV, &RES);
            if (st == SS_DEC_INVALID && (RES.reason == SS_VALID || RES.reason_text[0] == '\0')) bad++;
            if (st == SS_DEC_EVENT && RES.reason != SS_VALID) bad++;
            if (EV.raw.p != buf) bad++;
            ss_decoder_close(d);
        }
        if (i % 1000 == 0) ss_arena_reset(&A);
    }
    CHECK_EQ_INT(bad, 0);
}

/* The JSON fast path (plain records) against the slow path on mutated records: the
 * same verdict and the same field texts, whatever the input. Mutations replace,
 * insert and delete bytes, so quotes, spaces and structure move around. */
static int scan_vals_differ(int ra, int rb, const struct ss_dec_val *a, const struct ss_dec_val *b) {
    if (ra != rb) return 1;
    if (ra != 0) return 0;
    for (int f = 0; f < SS_F_COUNT; f++) {
        if (a[f].p != b[f].p) return 1;
        if (a[f].p && (a[f].len != b[f].len || a[f].esc != b[f].esc || a[f].str != b[f].str)) return 1;
    }
    return 0;
}

static int scan_differs(struct ss_decoder *d, const char *record, size_t n) {
    /* the record ends where its allocation does: under ASan a read past the end fails */
    char *buf = malloc(n ? n : 1);
    memcpy(buf, record, n);
    struct ss_dec_val a[SS_DEC_VALS], b[SS_DEC_VALS];
    /* ss_json_scan fills every entry; the slow path wants them NULL */
    for (int f = 0; f < SS_F_COUNT; f++) {
        a[f] = (struct ss_dec_val){buf, 12345, 1, 1};
        b[f].p = NULL;
    }
    int ra = ss_json_scan(d, buf, buf + n, a), rb = ss_json_scan_slow(d, buf, buf + n, b);
    int differs = scan_vals_differ(ra, rb, a, b);
    free(buf);
    return differs;
}

static uint64_t template_hits(const struct ss_decoder *d) {
    uint64_t h = 0;
    for (int i = 0; i < d->ntpl; i++) h += d->tpl[i].hits;
    return h;
}

TEST(fast_path_equals_slow_path) {
    const char *seeds[] = {
        CLICK_OK,
        PROMO("12.5", "1"),
        "{ \"event_id\" : \"e1\" , \"user_id\":\"u\", \"x\":true,\"y\":false,\"z\":null,"
        "\"price\":-1.5e+2 ,\"quantity\": 0 , \"ts\":\"2026-11-27T10:30:00Z\" }  ",
        "{\"event_id\":\"e\",\"user_id\":\"u\",\"user_id\":null,\"n\":{\"a\":[1,\"}\"]},\"ts\":1}",
        "{\"a\":\"\",\"\":\"b\",\"event_type\":\"view\",\"product_id\":\"p\u00e9\",\"ts\":\"t\"}",
        "{}",
    };
    const int nseeds = (int)(sizeof seeds / sizeof seeds[0]);
    struct ss_decoder *d = open_dec(SS_STREAM_CLICKS, SS_FMT_JSON);
    uint64_t x = 0x9E3779B97F4A7C15ULL, hits = 0;
    int bad = 0, accepted = 0;
    char buf[700];
    for (int i = 0; i < 300000; i++) {
        if (i % 4096 == 0) {
            /* a new decoder now and then: learning stops once layouts keep changing */
            hits += template_hits(d);
            ss_decoder_close(d);
            d = open_dec(SS_STREAM_CLICKS, SS_FMT_JSON);
        }
        const char *s = seeds[i % nseeds];
        size_t n = strlen(s);
        memcpy(buf, s, n);
        int muts = i % 5; /* 0: the seed itself */
        for (int m = 0; m < muts && n > 1; m++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            static const char alphabet[] = "{}[]\":, ,0123456789.eE+-tfnul\\\t\x01\x7f\xc3";
            char c = alphabet[(x >> 32) % (sizeof alphabet - 1)];
            size_t at = x % n;
            switch ((x >> 48) % 3) {
            case 0: buf[at] = c; break;
            case 1: /* insert */
                if (n + 1 < sizeof buf) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = c;
                    n++;
                }
                break;
            default: /* delete */
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
            }
        }
        if (scan_differs(d, buf, n)) {
            if (bad++ < 3) fprintf(stderr, "fast and slow JSON scans differ on: %.*s\n", (int)n, buf);
        }
        struct ss_dec_val v[SS_DEC_VALS];
        for (int f = 0; f < SS_F_COUNT; f++) v[f].p = NULL;
        accepted += ss_json_scan(d, buf, buf + n, v) == 0;
    }
    /* long records: strings across 64-byte blocks, the last block partial */
    char big[4096];
    for (int len = 0; len < 300; len++) {
        int n = snprintf(big, sizeof big, "{\"event_id\":\"%0*d\",\"user_id\":\"u\",\"pad\":\"%0*d\"}", len + 1, 7,
                         (len * 7) % 200 + 1, 3);
        if (scan_differs(d, big, (size_t)n)) bad++;
    }
    hits += template_hits(d);
    ss_decoder_close(d);
    CHECK_EQ_INT(bad, 0);
    CHECK(accepted > 60000); /* the seeds and many mutations are valid: all paths were exercised */
    CHECK(hits > 30000);     /* ... the template path among them */
}

/* The template path on layouts that differ in one place: each record scans to the
 * slow path's values, and the two common layouts end up as templates that hit. */
TEST(templates) {
    const char *base = "{\"event_id\":\"e1\",\"event_type\":\"purchase\",\"user_id\":\"u1\","
                       "\"price\":\"9.99\",\"quantity\":2,%s\"ts\":\"2026-11-27T10:30:00.123Z\"}";
    const char *variants[] = {
        "",                          /* the most common layout */
        "\"order_id\":\"o1\",",      /* a second layout */
        "\"order_id\":null,",         /* a scalar where the second layout has a string */
        "\"order_id\":7,",
        "\"order_id\":\"a\\u0041\",", /* an escape: plain path only */
        "\"order_id\":\"\",",         /* empty */
        "\"x\":true,\"y\":[1],",        /* a container: not a template */
        "\"x\":\"y\",\"n\":3,",         /* keys no field is named by */
        "\"order_id\" :\"o1\",",     /* a space */
    };
    const int nv = (int)(sizeof variants / sizeof variants[0]);
    struct ss_decoder *d = open_dec(SS_STREAM_CLICKS, SS_FMT_JSON);
    int bad = 0;
    char rec[512];
    for (int i = 0; i < 4000; i++) {
        /* two of every three records have the first layout, most others the second */
        int v = i % 3 ? 0 : (i / 3) % 4 ? 1 : 2 + (i / 12) % (nv - 2);
        int n = snprintf(rec, sizeof rec, base, variants[v]);
        if (scan_differs(d, rec, (size_t)n)) {
            if (bad++ < 3) fprintf(stderr, "template and slow scans differ on: %s\n", rec);
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(d->ntpl >= 2);
    CHECK(d->tpl[0].hits > 2500); /* the first layout, first */
    CHECK(d->tpl[1].hits > 700);
    /* short records (under 16 bytes) and the end of a record within the last 16 */
    const char *shorts[] = {"{\"ts\":\"1\"}", "{\"ts\":1}", "{\"a\":\"\"}", "{\"ts\":\"123456789\"}",
                            "{\"ts\":\"12345678901234\"}", "{\"ts\":\"1234567890123\"}", "{\"ts\":\"\\u0041\"}", "{\"ts\":\"a\\\"\"}",
                            "{\"ts\":\"\x01\"}"};
    for (int r = 0; r < 3; r++)
        for (size_t i = 0; i < sizeof shorts / sizeof shorts[0]; i++)
            if (scan_differs(d, shorts[i], strlen(shorts[i]))) bad++;
    /* a record cut short anywhere, and one with a byte more, never matches wrongly */
    int n = snprintf(rec, sizeof rec, base, variants[1]);
    for (int cut = 0; cut <= n + 1; cut++) {
        char tmp[512];
        memcpy(tmp, rec, (size_t)n);
        tmp[n] = ' ';
        if (scan_differs(d, tmp, (size_t)cut)) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    ss_decoder_close(d);
}

/* A figure, not an assertion: records/s for a typical ~180-byte clicks line. */
TEST(throughput) {
    const char *line = "{\"event_id\":\"6f1c2e7a-0b3d-4a51-9e22-b1\",\"event_type\":\"view\",\"user_id\":\"u_0012345\","
                       "\"session_id\":\"s_778899\",\"product_id\":\"p_004321\",\"category\":\"electronics\","
                       "\"price\":\"129.99\",\"quantity\":1,\"ts\":\"2026-11-27T10:30:00.123Z\"}";
    const char *csvl = "6f1c2e7a-0b3d-4a51-9e22-b1,view,u_0012345,p_004321,electronics,129.99,1,2026-11-27T10:30:00.123Z";
    for (int fmt = 0; fmt < 2; fmt++) {
        struct ss_decoder *d = open_dec(SS_STREAM_CLICKS, fmt ? SS_FMT_CSV : SS_FMT_JSON);
        const char *l = fmt ? csvl : line;
        size_t n = strlen(l);
        if (fmt) ss_decoder_decode(d, CSV_HDR, strlen(CSV_HDR), &A, &EV, &RES);
        const int iters = 2000000;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int ok = 0;
        for (int i = 0; i < iters; i++) ok += ss_decoder_decode(d, l, n, &A, &EV, &RES) == SS_DEC_EVENT;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
        CHECK_EQ_INT(ok, iters);
        printf("decode throughput (%s clicks, %zu bytes): %.2f M records/s\n", fmt ? "csv" : "json", n,
               iters / (ns / 1e3));
        ss_decoder_close(d);
    }
}

int main(void) {
    ss_arena_init(&A, 0);
    RUN(field_names);
    RUN(clicks_valid);
    RUN(reason_order);
    RUN(rejected_records_name_their_user);
    RUN(event_types);
    RUN(escapes);
    RUN(csv_nul);
    RUN(unicode_and_number_ids);
    RUN(amounts);
    RUN(timestamps);
    RUN(price_fast_path);
    RUN(timestamp_fast_path);
    RUN(duplicates_and_unknown);
    RUN(syntax);
    RUN(orders);
    RUN(promotions);
    RUN(csv);
    RUN(custom_names);
    RUN(mutations);
    RUN(fast_path_equals_slow_path);
    RUN(templates);
    RUN(throughput);
    ss_arena_free(&A);
    return ss_t_report("decode");
}
