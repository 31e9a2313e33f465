/* fuzz_server.c — libFuzzer target for what the operations endpoint (src/server/) and
 * the sinks take from the user, by direct calls (no socket):
 *
 *   1. the sink URLs of --sink / sinks: (`metrics:HOST:PORT?linger=..&recently_viewed=..`,
 *      `parquet:DIR?...`, postgresql://, redis://, kafka://, ...): each of the input's
 *      first lines goes through ss_sink_check_url, the parser each sink's open uses,
 *      which must accept it or refuse it with SS_EUSAGE and a message, opening nothing;
 *   2. the users' recently viewed lists behind /api/users/{id}/recently-viewed
 *      (user_lists.c): the rest of the input is a script of rows (any bytes as the user
 *      id, as an id reaches the endpoint once MHD has decoded its %XX escapes), epochs
 *      with a watermark, and lookups, run against a model: a user has a list from their
 *      last row until last_view_ts + ttl falls before the watermark of an epoch, and the
 *      endpoint answers exactly that row. Rows come as recent.c writes them: a user's
 *      last_view_ts never goes back (user_lists.c relies on it to queue one deadline).
 *
 * Build: see tests/fuzz/README.md. Define SS_FUZZ_MAIN to get a plain main() that
 * replays files (works with gcc, no libFuzzer needed). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/table.h"
#include "server/user_lists.h"
#include "sink/rowjson.h"
#include "sink/sink.h"

#define FUZZ_NAME "fuzz_server"
#include "fuzz.h"

#define MAX_URLS 4
#define NUSERS 8   /* the script names users by a byte: 8 slots, each a fuzzed id */

static void check_urls(const uint8_t *data, size_t size) {
    struct ss_config cfg;
    ss_config_init(&cfg);
    size_t at = 0;
    for (int k = 0; k < MAX_URLS && at < size; k++) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t n = nl ? (size_t)(nl - (data + at)) : size - at;
        char *url = ss_strndup((const char *)data + at, n);  /* a NUL inside ends it, as in argv */
        struct ss_err err = {0};
        int rc = ss_sink_check_url(url, &cfg, &err);
        FUZZ_CHECK(rc == SS_OK || rc == SS_EUSAGE);
        if (rc) FUZZ_CHECK(err.msg[0] != '\0');
        ss_free(url);
        at += n + (nl ? 1 : 0);
        if (!nl) break;
    }
    ss_config_free(&cfg);
}

struct model {
    char *id;                 /* the slot's user id */
    size_t idlen;
    char json[64];            /* the products of the user's last row, "" when none live */
    int64_t ts;
    int64_t newest;           /* the user's latest row's ts, in any epoch */
};

static uint8_t next(const uint8_t **p, const uint8_t *end) { return *p < end ? *(*p)++ : 0; }

static void run_lists(const uint8_t *p, const uint8_t *end) {
    int64_t ttl = 1000 * (int64_t)(next(&p, end) + 1);
    struct model m[NUSERS] = {{0}};
    for (int u = 0; u < NUSERS; u++) m[u].newest = INT64_MIN;
    /* each slot's id: a length byte, then that many bytes (any bytes, NUL included) */
    for (int u = 0; u < NUSERS; u++) {
        size_t n = next(&p, end) % 12;
        if ((size_t)(end - p) < n) n = (size_t)(end - p);
        m[u].id = ss_malloc(n ? n : 1);
        memcpy(m[u].id, p, n);
        m[u].idlen = n;
        p += n;
    }
    struct ss_user_lists *ul = ss_user_lists_new(ttl);
    struct ss_out o;
    ss_out_init(&o);
    int64_t w = INT64_MIN, base = 0;  /* base: the last finite watermark */
    struct ss_buf b = {0};
    int pending[NUSERS];      /* the epoch's rows not yet applied: product list per slot */
    int64_t pending_ts[NUSERS];
    memset(pending, -1, sizeof pending);
    while (p < end) {
        uint8_t op = next(&p, end), u = op >> 5 & (NUSERS - 1);
        switch (op % 4) {
        case 0: {  /* a row: user u viewed product x at a time near the watermark */
            int x = next(&p, end);
            int64_t ts = base + 100 * ((int64_t)next(&p, end) - 64);
            /* as recent.c writes them: a user's last_view_ts never goes back (the newest
             * view of the list; after the list went, a view that is not late is newer) */
            for (int v = 0; v < NUSERS; v++)
                if (m[v].idlen == m[u].idlen && !memcmp(m[v].id, m[u].id, m[u].idlen) && ts < m[v].newest)
                    ts = m[v].newest;
            for (int v = 0; v < NUSERS; v++)
                if (m[v].idlen == m[u].idlen && !memcmp(m[v].id, m[u].id, m[u].idlen)) m[v].newest = ts;
            struct ss_val *row = ss_out_row(&o, SS_T_RECENTLY_VIEWED);
            ss_out_str(&o, &row[SS_RV_USER_ID], (struct ss_str){m[u].id, m[u].idlen});
            char products[32];
            int n = snprintf(products, sizeof products, "[\"p%d\"]", x);
            ss_out_str(&o, &row[SS_RV_PRODUCTS], (struct ss_str){products, (size_t)n});
            row[SS_RV_LAST_VIEW_TS].i = ts;
            /* rows of one epoch: the last per user wins, also over two slots of one id */
            for (int v = 0; v < NUSERS; v++)
                if (m[v].idlen == m[u].idlen && !memcmp(m[v].id, m[u].id, m[u].idlen)) {
                    pending[v] = x;
                    pending_ts[v] = ts;
                }
            break;
        }
        case 1:
        case 2: {  /* an epoch commits: its rows, then expiry at its watermark (+inf: the end) */
            int64_t nw = op % 4 == 2 || w == INT64_MAX ? INT64_MAX : base + 100 * (int64_t)next(&p, end);
            if (nw != INT64_MAX) base = nw;
            ss_user_lists_apply(ul, &o, nw);
            ss_out_clear(&o);
            for (int v = 0; v < NUSERS; v++) {
                if (pending[v] >= 0) {
                    snprintf(m[v].json, sizeof m[v].json, "[\"p%d\"]", pending[v]);
                    m[v].ts = pending_ts[v];
                }
                pending[v] = -1;
                /* last_view_ts + ttl < W drops it (saturating, as the operator's rule) */
                if (m[v].json[0] && nw != INT64_MAX && m[v].ts + ttl < nw) m[v].json[0] = '\0';
            }
            w = nw;
            break;
        }
        default: {  /* /api/users/{id}/recently-viewed */
            b.len = 0;
            bool found = ss_user_lists_get(ul, (struct ss_str){m[u].id, m[u].idlen}, &b);
            FUZZ_CHECK(found == (m[u].json[0] != '\0'));
            if (found) {
                /* exactly the row's JSON, as recently_viewed.jsonl has it */
                struct ss_val row[SS_RV_NCOLS] = {
                    [SS_RV_USER_ID] = {.s = m[u].id, .len = (uint32_t)m[u].idlen},
                    [SS_RV_PRODUCTS] = {.s = m[u].json, .len = (uint32_t)strlen(m[u].json)},
                    [SS_RV_LAST_VIEW_TS] = {.i = m[u].ts},
                };
                struct ss_buf want = {0};
                ss_row_to_json(&ss_tables[SS_T_RECENTLY_VIEWED], row, &want);
                FUZZ_CHECK(b.len == want.len && memcmp(b.p, want.p, b.len) == 0);
                ss_buf_free(&want);
            }
            break;
        }
        }
    }
    size_t live = 0;
    for (int v = 0; v < NUSERS; v++) {
        bool dup = false;  /* two slots with one id are one user */
        for (int t = 0; t < v; t++) dup |= m[t].idlen == m[v].idlen && !memcmp(m[t].id, m[v].id, m[v].idlen);
        live += !dup && m[v].json[0];
    }
    FUZZ_CHECK(ss_user_lists_count(ul) == live);
    ss_buf_free(&b);
    ss_out_free(&o);
    ss_user_lists_free(ul);
    for (int u = 0; u < NUSERS; u++) ss_free(m[u].id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ss_log_set_level(SS_LOG_ERROR);
    check_urls(data, size);
    /* the lists script starts after a 0xff byte, if any (so URL lines and script can
     * be mutated apart) */
    const uint8_t *s = memchr(data, 0xff, size);
    if (s) run_lists(s + 1, data + size);
    return 0;
}
