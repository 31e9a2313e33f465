/* pg_sink_driver.c — drives the PostgreSQL sink directly (no engine) for the end-to-end
 * tests: it builds epochs of rows by hand and commits them; the calling script reads
 * the database back with psql and compares exact values.
 *
 *   pg_sink_driver open URL
 *       opens and closes the sink; prints "code=N msg=..."; exits 0 (SS_OK),
 *       2 (SS_EUSAGE), 3 (SS_RETRY) or 1.
 *   pg_sink_driver scenario URL
 *       epochs 1..3 with provisional then final window rows, a key repeated within an
 *       epoch, nulls, JSON, bytes that need escaping or sanitising, side outputs
 *       committed twice, and a replay of epoch 2 with different rows (a no-op).
 *   pg_sink_driver crash URL KILL_CMD START_CMD [ROWS]
 *       epoch 1 (ROWS sessions rows), epoch 2 (ROWS rows, half of them updates)
 *       committed while KILL_CMD crashes the server, epoch 3 committed against the
 *       dead server (must answer SS_RETRY), START_CMD, then every epoch retried
 *       until SS_OK, and epoch 2 replayed. The script then checks nothing was lost
 *       or duplicated.
 * Exit status 0 when every commit answered as expected. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/table.h"
#include "sink/sql_sinks.h"

#include "../../sink_rows.h"

static int failures;

#define EXPECT(cond, ...)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            failures++;                                                     \
            fprintf(stderr, "pg_sink_driver: FAIL %s: ", #cond);            \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
        }                                                                   \
    } while (0)

static void str(struct ss_out *o, struct ss_val *v, const char *s) { ss_out_str(o, v, ss_str_c(s)); }

static void dlq_row(struct ss_out *o, const char *reason, int64_t offset, const char *rec, uint32_t len) {
    struct ss_val *v = ss_out_row(o, SS_T_DLQ);
    v[SS_DL_PARTITION].i = 1;
    v[SS_DL_OFFSET].i = offset;
    str(o, &v[SS_DL_REASON], reason);
    str(o, &v[SS_DL_STREAM], "clicks");
    str(o, &v[SS_DL_SOURCE], "clicks.jsonl");
    ss_out_str(o, &v[SS_DL_RECORD], (struct ss_str){rec, len});
}

static int commit(struct ss_sink *sk, uint64_t epoch, const struct ss_out *o, int64_t off0, int64_t off1,
                  struct ss_err *err) {
    struct ss_position pos[2] = {{.source = "clicks.jsonl", .partition = 0, .next_offset = off0, .lag = -1, .max_ts = INT64_MIN},
                                 {.source = "orders.jsonl", .partition = 1, .next_offset = off1, .lag = -1, .max_ts = INT64_MIN}};
    struct ss_epoch ep = {.epoch = epoch, .rows = o, .positions = pos, .npositions = 2};
    return sk->type->commit(sk, &ep, err);
}

static int do_open(const char *url, struct ss_sink **sk, struct ss_err *err) {
    const struct ss_sink_type *type = strncmp(url, "postgres://", 11) == 0 ? &ss_sink_postgres_alias : &ss_sink_postgres;
    return type->open(sk, url, NULL, err);
}

static int cmd_open(const char *url) {
    struct ss_sink *sk = NULL;
    struct ss_err err = {0};
    int rc = do_open(url, &sk, &err);
    printf("code=%d msg=%s\n", rc, rc ? err.msg : "");
    if (sk) sk->type->close(sk);
    return rc == SS_OK ? 0 : rc == SS_EUSAGE ? 2 : rc == SS_RETRY ? 3 : 1;
}

static int cmd_scenario(const char *url) {
    struct ss_sink *sk = NULL;
    struct ss_err err = {0};
    int rc = do_open(url, &sk, &err);
    EXPECT(rc == SS_OK, "open: %s", err.msg);
    if (rc) return 1;
    struct ss_out o;
    ss_out_init(&o);

    /* epoch 1 */
    cr_row(&o, T0, "books", 1234500, 1, 0);
    cr_row(&o, T0, "toys", 10000, 1, 1);
    cr_row(&o, T0, "books", 2469000, 2, 0); /* same key again: the last row of the epoch wins */
    struct ss_val *v = ss_out_row(&o, SS_T_HOURLY_SALES);
    v[SS_HS_WINDOW_START].i = T0 - 30 * MIN;
    v[SS_HS_WINDOW_END].i = T0 + 30 * MIN;
    v[SS_HS_REVENUE].i = -55; /* -0.0055 rounds half away from zero to -0.01 */
    v[SS_HS_ORDERS].i = 4;
    v[SS_HS_UNITS].i = 5;
    v[SS_HS_BUYERS].i = 2;
    str(&o, &v[SS_HS_CATEGORY], "");
    v = ss_out_row(&o, SS_T_TRENDING_PRODUCTS);
    v[SS_TP_WINDOW_START].i = T0 - 9 * MIN;
    v[SS_TP_WINDOW_END].i = T0 + MIN;
    v[SS_TP_RANK].i = 1;
    v[SS_TP_VIEWS].i = 42;
    v[SS_TP_REVENUE].i = 199900;
    v[SS_TP_FINAL].i = 0;
    str(&o, &v[SS_TP_PRODUCT_ID], "p-\xC3\xA9t\xC3\xA9");
    v = ss_out_row(&o, SS_T_FUNNEL);
    v[SS_FN_WINDOW_START].i = T0 - 30 * MIN;
    v[SS_FN_WINDOW_END].i = T0 + 30 * MIN;
    v[SS_FN_VIEWERS].i = 3;
    v[SS_FN_VIEW_TO_CART].i = 6667;
    v[SS_FN_CART_TO_PURCHASE].null = 1;
    v = ss_out_row(&o, SS_T_SESSIONS);
    str(&o, &v[SS_SE_USER_ID], "u1");
    v[SS_SE_SESSION_START].i = T0;
    v[SS_SE_SESSION_END].i = T0 + 61500;
    v[SS_SE_DURATION_S].i = 61;
    v[SS_SE_EVENTS].i = 3;
    v[SS_SE_PURCHASES].i = 1;
    v[SS_SE_REVENUE].i = 150000;
    v[SS_SE_CONVERTED].i = 1;
    v = ss_out_row(&o, SS_T_PROMO_MATCHES);
    str(&o, &v[SS_PM_EVENT_ID], "e1");
    str(&o, &v[SS_PM_PROMO_ID], "promo\t1");
    str(&o, &v[SS_PM_USER_ID], "u1");
    str(&o, &v[SS_PM_PRODUCT_ID], "p1");
    v[SS_PM_DISCOUNT_PCT].i = 125000;
    v[SS_PM_CLICK_TS].i = T0 + 1;
    v = ss_out_row(&o, SS_T_ALERTS);
    str(&o, &v[SS_AL_ALERT_ID], "high_value_order:e9");
    str(&o, &v[SS_AL_KIND], "high_value_order");
    str(&o, &v[SS_AL_USER_ID], "u1");
    v[SS_AL_ORDER_ID].null = 1;
    v[SS_AL_AMOUNT].i = 12345678;
    v[SS_AL_TS].i = T0 + 2;
    str(&o, &v[SS_AL_DETAIL], "{\"threshold\":\"1000.00\"}");
    /* numeric edge cases: zero base-10000 groups, trailing zero groups, rounding, sign */
    static const int64_t amounts[] = {100000010000LL, 1000000000000LL, -123456789LL, 49LL, 99999999999999999LL};
    for (int k = 0; k < 5; k++) {
        char id[16];
        snprintf(id, sizeof id, "n%d", k);
        v = ss_out_row(&o, SS_T_ALERTS);
        str(&o, &v[SS_AL_ALERT_ID], id);
        str(&o, &v[SS_AL_KIND], "velocity");
        str(&o, &v[SS_AL_USER_ID], "u2");
        str(&o, &v[SS_AL_ORDER_ID], "o1");
        v[SS_AL_AMOUNT].i = amounts[k];
        v[SS_AL_TS].i = -1; /* before the Unix epoch */
        str(&o, &v[SS_AL_DETAIL], "{\"count\":5,\"range_ms\":600000}");
    }
    v = ss_out_row(&o, SS_T_DATA_QUALITY);
    v[SS_DQ_MINUTE_START].i = T0;
    v[SS_DQ_TOTAL].i = 100;
    v[SS_DQ_VALID].i = 97;
    v[SS_DQ_MALFORMED].i = 3;
    v[SS_DQ_QUALITY_SCORE].i = 9700;
    v = ss_out_row(&o, SS_T_LATE);
    str(&o, &v[SS_LT_STREAM], "clicks");
    str(&o, &v[SS_LT_SOURCE], "clicks.jsonl");
    v[SS_LT_PARTITION].i = 0;
    v[SS_LT_OFFSET].i = 77;
    v[SS_LT_TS].i = T0 - 20 * MIN;
    v[SS_LT_WATERMARK].i = T0 - 15 * MIN;
    str(&o, &v[SS_LT_RECORD], "{\"event_id\":\"late1\"}");
    rv_row(&o, "u1", "[\"p1\"]", T0 + 5);
    /* invalid UTF-8, a NUL, a tab, a newline and a backslash */
    dlq_row(&o, "malformed", 7, "a\xFF\tb\nc\\d\0e", 10);
    rc = commit(sk, 1, &o, 11, 3, &err);
    EXPECT(rc == SS_OK, "epoch 1: %s", err.msg);

    /* epoch 2: final rows replace provisional ones; the dlq record again */
    ss_out_clear(&o);
    cr_row(&o, T0, "books", 3703500, 3, 1);
    rv_row(&o, "u1", "[\"p2\", \"p1\"]", T0 + 9);
    dlq_row(&o, "malformed", 7, "a\xFF\tb\nc\\d\0e", 10);
    v = ss_out_row(&o, SS_T_TRENDING_PRODUCTS);
    v[SS_TP_WINDOW_START].i = T0 - 9 * MIN;
    v[SS_TP_WINDOW_END].i = T0 + MIN;
    v[SS_TP_RANK].i = 1;
    v[SS_TP_VIEWS].i = 43;
    v[SS_TP_REVENUE].i = 199900;
    v[SS_TP_FINAL].i = 1;
    str(&o, &v[SS_TP_PRODUCT_ID], "p-\xC3\xA9t\xC3\xA9");
    rc = commit(sk, 2, &o, 20, 5, &err);
    EXPECT(rc == SS_OK, "epoch 2: %s", err.msg);

    /* epoch 3: a stale provisional row never overwrites the final one; a new window */
    ss_out_clear(&o);
    cr_row(&o, T0, "books", 1, 1, 0);
    cr_row(&o, T0 + MIN, "books", 500, 1, 0);
    rc = commit(sk, 3, &o, 30, 6, &err);
    EXPECT(rc == SS_OK, "epoch 3: %s", err.msg);

    /* a replay of epoch 2 with other rows: already committed, nothing changes */
    ss_out_clear(&o);
    cr_row(&o, T0, "garden", 5000, 1, 1);
    rc = commit(sk, 2, &o, 999, 999, &err);
    EXPECT(rc == SS_OK, "replay of epoch 2: %s", err.msg);

    ss_out_free(&o);
    sk->type->close(sk);
    return failures ? 1 : 0;
}

/* sessions rows for users [from, to): events = ev, revenue = user index (ten-thousandths) */
static void session_rows(struct ss_out *o, int from, int to, int ev) {
    for (int i = from; i < to; i++) {
        char user[32];
        snprintf(user, sizeof user, "u%07d", i);
        struct ss_val *v = ss_out_row(o, SS_T_SESSIONS);
        ss_out_str(o, &v[SS_SE_USER_ID], ss_str_c(user));
        v[SS_SE_SESSION_START].i = T0 + (i % 7) * MIN;
        v[SS_SE_SESSION_END].i = T0 + (i % 7) * MIN + 1000;
        v[SS_SE_DURATION_S].i = 1;
        v[SS_SE_EVENTS].i = ev;
        v[SS_SE_VIEWS].i = ev;
        v[SS_SE_REVENUE].i = (int64_t)i * 100;
    }
}

static void *run_cmd(void *arg) {
    int rc = system((const char *)arg);
    return (void *)(intptr_t)rc;
}

/* Commits until SS_OK, polling with a capped backoff (the engine's job, done here). */
static int commit_until_ok(struct ss_sink *sk, uint64_t epoch, const struct ss_out *o, int64_t off0,
                           struct ss_err *err) {
    long delay_ms = 20;
    for (int attempt = 0; attempt < 60; attempt++) {
        int rc = commit(sk, epoch, o, off0, off0, err);
        if (rc != SS_RETRY) return rc;
        struct timespec ts = {0, delay_ms * 1000000L};
        nanosleep(&ts, NULL);
        if (delay_ms < 500) delay_ms *= 2;
    }
    return SS_RETRY;
}

static int cmd_crash(const char *url, const char *kill_cmd, const char *start_cmd, int rows) {
    struct ss_sink *sk = NULL;
    struct ss_err err = {0};
    int rc = do_open(url, &sk, &err);
    EXPECT(rc == SS_OK, "open: %s", err.msg);
    if (rc) return 1;
    struct ss_out e1, e2, e3;
    ss_out_init(&e1);
    ss_out_init(&e2);
    ss_out_init(&e3);
    session_rows(&e1, 0, rows, 1);
    session_rows(&e2, rows / 2, rows + rows / 2, 2);
    dlq_row(&e3, "bad_ts", 1, "x", 1);

    rc = commit(sk, 1, &e1, 100, 100, &err);
    EXPECT(rc == SS_OK, "epoch 1: %s", err.msg);

    /* crash the server while epoch 2 is on its way */
    pthread_t th;
    pthread_create(&th, NULL, run_cmd, (void *)kill_cmd);
    int rc2 = commit(sk, 2, &e2, 200, 200, &err);
    void *kr;
    pthread_join(th, &kr);
    EXPECT((intptr_t)kr == 0, "kill command failed: %s", kill_cmd);
    printf("epoch 2 during the crash: %s%s%s\n", rc2 == SS_OK ? "committed" : rc2 == SS_RETRY ? "SS_RETRY" : "error",
           rc2 ? ": " : "", rc2 ? err.msg : "");
    EXPECT(rc2 == SS_OK || rc2 == SS_RETRY, "epoch 2 during the crash: %d %s", rc2, err.msg);

    /* the server is down now: a commit must ask to be retried, not fail */
    rc = commit(sk, 3, &e3, 300, 300, &err);
    printf("epoch 3 while down: %s: %s\n", rc == SS_RETRY ? "SS_RETRY" : "unexpected", err.msg);
    EXPECT(rc == SS_RETRY, "epoch 3 while the server is down: %d %s", rc, err.msg);

    rc = system(start_cmd);
    EXPECT(rc == 0, "start command failed: %s", start_cmd);

    /* the engine retries the epoch it failed on, then goes on */
    if (rc2 != SS_OK) {
        rc = commit_until_ok(sk, 2, &e2, 200, &err);
        EXPECT(rc == SS_OK, "epoch 2 after restart: %s", err.msg);
    }
    rc = commit_until_ok(sk, 3, &e3, 300, &err);
    EXPECT(rc == SS_OK, "epoch 3 after restart: %s", err.msg);
    /* replays after recovery are no-ops */
    rc = commit(sk, 2, &e2, 200, 200, &err);
    EXPECT(rc == SS_OK, "replay of epoch 2: %s", err.msg);
    rc = commit(sk, 1, &e1, 100, 100, &err);
    EXPECT(rc == SS_OK, "replay of epoch 1: %s", err.msg);

    ss_out_free(&e1);
    ss_out_free(&e2);
    ss_out_free(&e3);
    sk->type->close(sk);
    return failures ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "open") == 0) return cmd_open(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "scenario") == 0) return cmd_scenario(argv[2]);
    if (argc >= 5 && strcmp(argv[1], "crash") == 0)
        return cmd_crash(argv[2], argv[3], argv[4], argc >= 6 ? atoi(argv[5]) : 200000);
    fprintf(stderr, "usage: pg_sink_driver open URL | scenario URL | crash URL KILL_CMD START_CMD [ROWS]\n");
    return 2;
}
