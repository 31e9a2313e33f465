/* redis_sink_driver.c — drives the Redis sink directly (no engine) for the end-to-end
 * test 0201: it builds epochs of rows by hand and commits them; the calling script reads
 * Redis back with redis-cli and compares exact keys, values and TTLs.
 *
 *   redis_sink_driver open URL
 *       opens and closes the sink; prints "code=N msg=..."; exits 0 (SS_OK),
 *       2 (SS_EUSAGE), 3 (SS_RETRY) or 1.
 *   redis_sink_driver epoch URL N [variant]
 *       commits epoch N of the scenario (1 or 2; variant "other" gives epoch N other
 *       rows, for replays that must change nothing); prints "code=N msg=...".
 *   redis_sink_driver restart URL STOP_CMD START_CMD KILL_CMD [USERS]
 *       epoch 1 (USERS recently viewed lists, alerts, dlq) committed; STOP_CMD (a clean
 *       shutdown); epoch 2 against the dead server must answer SS_RETRY; START_CMD;
 *       epoch 2 retried until SS_OK; epoch 3 committed while KILL_CMD crashes the
 *       server from another thread (SS_OK or SS_RETRY, either is fine); START_CMD;
 *       epoch 3 retried until SS_OK; epochs 2 and 3 replayed. The script then checks
 *       that nothing was lost or counted twice.
 * Exit status 0 when every commit answered as expected. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/table.h"
#include "sink/redis_sink.h"

#include "../../sink_rows.h"

static int failures;

#define EXPECT(cond, ...)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            failures++;                                                     \
            fprintf(stderr, "redis_sink_driver: FAIL %s: ", #cond);         \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
        }                                                                   \
    } while (0)

static void str(struct ss_out *o, struct ss_val *v, const char *s) { ss_out_str(o, v, ss_str_c(s)); }

static void tp_row(struct ss_out *o, int64_t ws, const char *product, int64_t rank, int64_t views, int fin) {
    struct ss_val *v = ss_out_row(o, SS_T_TRENDING_PRODUCTS);
    v[SS_TP_WINDOW_START].i = ws;
    v[SS_TP_WINDOW_END].i = ws + 10 * MIN;
    v[SS_TP_RANK].i = rank;
    v[SS_TP_VIEWS].i = views;
    v[SS_TP_CART_ADDS].i = 1;
    v[SS_TP_PURCHASES].i = 0;
    v[SS_TP_REVENUE].i = 0;
    v[SS_TP_FINAL].i = fin;
    str(o, &v[SS_TP_PRODUCT_ID], product);
}

static void alert_row(struct ss_out *o, const char *id, const char *kind, const char *user, int64_t amount,
                      int64_t ts) {
    struct ss_val *v = ss_out_row(o, SS_T_ALERTS);
    str(o, &v[SS_AL_ALERT_ID], id);
    str(o, &v[SS_AL_KIND], kind);
    str(o, &v[SS_AL_USER_ID], user);
    v[SS_AL_ORDER_ID].null = 1;
    v[SS_AL_AMOUNT].i = amount;
    v[SS_AL_TS].i = ts;
    str(o, &v[SS_AL_DETAIL], "{\"threshold\":\"1000.00\"}");
}

static void dlq_row(struct ss_out *o, const char *reason, int64_t offset) {
    struct ss_val *v = ss_out_row(o, SS_T_DLQ);
    v[SS_DL_PARTITION].i = 0;
    v[SS_DL_OFFSET].i = offset;
    str(o, &v[SS_DL_REASON], reason);
    str(o, &v[SS_DL_STREAM], "clicks");
    str(o, &v[SS_DL_SOURCE], "clicks.jsonl");
    str(o, &v[SS_DL_RECORD], "{oops");
}

static void late_row(struct ss_out *o, int64_t offset) {
    struct ss_val *v = ss_out_row(o, SS_T_LATE);
    str(o, &v[SS_LT_STREAM], "clicks");
    str(o, &v[SS_LT_SOURCE], "clicks.jsonl");
    v[SS_LT_OFFSET].i = offset;
    v[SS_LT_TS].i = T0 - 20 * MIN;
    v[SS_LT_WATERMARK].i = T0 - 15 * MIN;
    str(o, &v[SS_LT_RECORD], "{}");
}

static void session_row(struct ss_out *o, const char *user, int converted) {
    struct ss_val *v = ss_out_row(o, SS_T_SESSIONS);
    str(o, &v[SS_SE_USER_ID], user);
    v[SS_SE_SESSION_START].i = T0;
    v[SS_SE_SESSION_END].i = T0 + MIN;
    v[SS_SE_DURATION_S].i = 60;
    v[SS_SE_EVENTS].i = 2;
    v[SS_SE_PURCHASES].i = converted;
    v[SS_SE_CONVERTED].i = converted;
}

static void pm_row(struct ss_out *o, const char *event, const char *promo) {
    struct ss_val *v = ss_out_row(o, SS_T_PROMO_MATCHES);
    str(o, &v[SS_PM_EVENT_ID], event);
    str(o, &v[SS_PM_PROMO_ID], promo);
    str(o, &v[SS_PM_USER_ID], "u1");
    str(o, &v[SS_PM_PRODUCT_ID], "p1");
    v[SS_PM_DISCOUNT_PCT].i = 100000;
    v[SS_PM_CLICK_TS].i = T0;
}

static void funnel_row(struct ss_out *o, int64_t ctp, int fin) {
    struct ss_val *v = ss_out_row(o, SS_T_FUNNEL);
    v[SS_FN_WINDOW_START].i = T0 - 30 * MIN;
    v[SS_FN_WINDOW_END].i = T0 + 30 * MIN;
    v[SS_FN_VIEWERS].i = 3;
    v[SS_FN_CARTERS].i = 2;
    v[SS_FN_BUYERS].i = 1;
    v[SS_FN_VIEW_TO_CART].i = 6667;
    if (ctp < 0) v[SS_FN_CART_TO_PURCHASE].null = 1;
    else v[SS_FN_CART_TO_PURCHASE].i = ctp;
    v[SS_FN_FINAL].i = fin;
}

/* The scenario's epochs; the script knows the expected Redis contents by heart. */
static void scenario_rows(struct ss_out *o, int n, bool other) {
    ss_out_clear(o);
    if (other) { /* a replay with different rows: must write nothing */
        cr_row(o, T0, "garden", 990000, 9, 1);
        rv_row(o, "u1", "[\"zzz\"]", T0);
        alert_row(o, "x", "high_value_order", "u9", 99990000, T0);
        dlq_row(o, "malformed", 99);
        return;
    }
    if (n == 1) {
        cr_row(o, T0, "books", 1234500, 1, 0);
        cr_row(o, T0, "toys", 10000, 1, 0);
        cr_row(o, T0, "books", 2469000, 2, 0); /* the same key again: the last row wins */
        tp_row(o, T0 - 9 * MIN, "pA", 1, 5, 0);
        tp_row(o, T0 - 9 * MIN, "pB", 2, 3, 0);
        tp_row(o, T0 - 9 * MIN, "pC", 3, 1, 0);
        funnel_row(o, -1, 0);
        rv_row(o, "u1", "[\"p2\",\"p1\"]", T0 + 9);
        /* escapes: a"b, c\d, é and U+1F600 (a surrogate pair), a tab */
        rv_row(o, "u2", " [ \"a\\\"b\" , \"c\\\\d\",\"\\u00e9\\ud83d\\ude00\", \"t\\tx\\/\" ] ", T0 + 5);
        rv_row(o, "u3", "[\"x\"]", T0 + 1);
        alert_row(o, "high_value_order:e9", "high_value_order", "u1", 12345678, T0 + 2);
        alert_row(o, "velocity:u1:1", "velocity", "u1", 0, T0 + 3);
        dlq_row(o, "malformed", 1);
        dlq_row(o, "bad_ts", 2);
        dlq_row(o, "malformed", 3);
        late_row(o, 4);
        late_row(o, 5);
        session_row(o, "u1", 1);
        session_row(o, "u2", 0);
        pm_row(o, "e1", "promo1");
        pm_row(o, "e2", "promo1");
        struct ss_val *v = ss_out_row(o, SS_T_DATA_QUALITY);
        v[SS_DQ_MINUTE_START].i = T0;
        v[SS_DQ_TOTAL].i = 100;
        v[SS_DQ_VALID].i = 97;
        v[SS_DQ_MALFORMED].i = 2;
        v[SS_DQ_BAD_TS].i = 1;
        v[SS_DQ_QUALITY_SCORE].i = 9700;
    } else {
        cr_row(o, T0, "books", 3703500, 3, 1);
        cr_row(o, T0 + MIN, "books", 500, 1, 0);
        tp_row(o, T0 - 9 * MIN, "pB", 1, 7, 1); /* pC left the top list */
        tp_row(o, T0 - 9 * MIN, "pA", 2, 6, 1);
        funnel_row(o, 5000, 1);
        rv_row(o, "u1", "[\"p3\",\"p2\",\"p1\"]", T0 + 20);
        rv_row(o, "u3", "[]", T0 + 1); /* dropped: the key goes */
        alert_row(o, "high_value_order:e10", "high_value_order", "u2", 20000000, T0 + 30);
        dlq_row(o, "malformed", 6);
    }
}

static int commit(struct ss_sink *sk, uint64_t epoch, const struct ss_out *o, struct ss_err *err) {
    struct ss_position pos = {.source = "clicks.jsonl", .partition = 0, .next_offset = (int64_t)epoch * 100,
                              .lag = -1, .max_ts = INT64_MIN};
    struct ss_run_stats st = {.records = (int64_t)epoch * 100, .valid = (int64_t)epoch * 97,
                              .invalid = (int64_t)epoch * 3};
    struct ss_epoch ep = {.epoch = epoch, .rows = o, .positions = &pos, .npositions = 1,
                          .watermark = T0 - 15 * MIN, .stats = &st};
    return sk->type->commit(sk, &ep, err);
}

static int exit_code(int rc) { return rc == SS_OK ? 0 : rc == SS_EUSAGE ? 2 : rc == SS_RETRY ? 3 : 1; }

static int cmd_open(const char *url) {
    struct ss_sink *sk = NULL;
    struct ss_err err = {0};
    int rc = ss_sink_redis.open(&sk, url, NULL, &err);
    printf("code=%d msg=%s\n", rc, rc ? err.msg : "");
    if (sk) sk->type->close(sk);
    return exit_code(rc);
}

static int cmd_epoch(const char *url, int n, bool other) {
    struct ss_sink *sk = NULL;
    struct ss_err err = {0};
    int rc = ss_sink_redis.open(&sk, url, NULL, &err);
    if (rc) {
        printf("code=%d msg=%s\n", rc, err.msg);
        return exit_code(rc);
    }
    struct ss_out o;
    ss_out_init(&o);
    scenario_rows(&o, n, other);
    rc = commit(sk, (uint64_t)n, &o, &err);
    printf("code=%d msg=%s\n", rc, rc ? err.msg : "");
    ss_out_free(&o);
    sk->type->close(sk);
    return exit_code(rc);
}

/* ---- restart ----------------------------------------------------------------------- */

/* Epoch e of the restart run: users [e*U/2, e*U/2 + U) get lists, so half of each epoch
 * overwrites the previous one; one alert and one dlq row per user slice of 1000. */
static void bulk_rows(struct ss_out *o, int e, long users) {
    ss_out_clear(o);
    long from = (long)(e - 1) * users / 2;
    char user[32], json[96];
    for (long i = from; i < from + users; i++) {
        snprintf(user, sizeof user, "u%07ld", i);
        snprintf(json, sizeof json, "[\"p%ld\",\"p%ld\",\"e%d\"]", i % 50, (i + 1) % 50, e);
        rv_row(o, user, json, T0 + i);
        if (i % 1000 == 0) {
            snprintf(user, sizeof user, "a%d-%ld", e, i);
            alert_row(o, user, "velocity", "u", 0, T0 + i);
            dlq_row(o, "malformed", i);
        }
    }
    for (int c = 0; c < 10; c++) {
        char cat[16];
        snprintf(cat, sizeof cat, "c%d", c);
        cr_row(o, T0 + e * MIN, cat, (int64_t)e * 1000000 + c * 100, e, 0);
    }
}

static void *run_cmd(void *arg) {
    int rc = system((const char *)arg);
    return (void *)(intptr_t)rc;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Retries like the engine: backs off (10 ms doubling to 500 ms) until SS_OK or 30 s. */
static int commit_until_ok(struct ss_sink *sk, uint64_t epoch, const struct ss_out *o, int *retries) {
    struct ss_err err = {0};
    double deadline = now_s() + 30;
    long pause_ms = 10;
    *retries = 0;
    for (;;) {
        int rc = commit(sk, epoch, o, &err);
        if (rc != SS_RETRY) {
            EXPECT(rc == SS_OK, "epoch %llu: %s", (unsigned long long)epoch, err.msg);
            return rc;
        }
        (*retries)++;
        if (now_s() > deadline) {
            EXPECT(0, "epoch %llu still SS_RETRY after 30 s: %s", (unsigned long long)epoch, err.msg);
            return rc;
        }
        struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL); /* backoff between retries, as the engine does */
        pause_ms = pause_ms * 2 > 500 ? 500 : pause_ms * 2;
    }
}

static int cmd_restart(const char *url, const char *stop_cmd, const char *start_cmd, const char *kill_cmd,
                       long users) {
    struct ss_sink *sk = NULL;
    struct ss_err err = {0};
    int rc = ss_sink_redis.open(&sk, url, NULL, &err);
    EXPECT(rc == SS_OK, "open: %s", err.msg);
    if (rc) return 1;
    struct ss_out o;
    ss_out_init(&o);
    int retries;

    bulk_rows(&o, 1, users);
    rc = commit(sk, 1, &o, &err);
    EXPECT(rc == SS_OK, "epoch 1: %s", err.msg);
    printf("epoch 1: %zu rows: code=%d\n", ss_out_rows(&o), rc);

    EXPECT(system(stop_cmd) == 0, "stop command failed: %s", stop_cmd);
    bulk_rows(&o, 2, users);
    rc = commit(sk, 2, &o, &err);
    EXPECT(rc == SS_RETRY, "epoch 2 while down: code %d: %s", rc, err.msg);
    printf("epoch 2 while down: %s: %s\n", rc == SS_RETRY ? "SS_RETRY" : "unexpected", err.msg);
    EXPECT(system(start_cmd) == 0, "start command failed: %s", start_cmd);
    commit_until_ok(sk, 2, &o, &retries);
    printf("epoch 2 after restart: committed after %d retries\n", retries);

    bulk_rows(&o, 3, users);
    pthread_t th;
    pthread_create(&th, NULL, run_cmd, (void *)kill_cmd);
    rc = commit(sk, 3, &o, &err);
    void *kr;
    pthread_join(th, &kr);
    EXPECT(kr == 0, "kill command failed: %s", kill_cmd);
    EXPECT(rc == SS_OK || rc == SS_RETRY, "epoch 3 during the crash: code %d: %s", rc, err.msg);
    printf("epoch 3 during the crash: %s\n", rc == SS_OK ? "SS_OK (before the kill)" : "SS_RETRY");
    /* a commit after the kill fails for sure; then the server comes back */
    rc = commit(sk, 3, &o, &err);
    EXPECT(rc == SS_RETRY, "epoch 3 while down: code %d: %s", rc, err.msg);
    EXPECT(system(start_cmd) == 0, "start command failed: %s", start_cmd);
    commit_until_ok(sk, 3, &o, &retries);
    printf("epoch 3 after restart: committed after %d retries\n", retries);

    /* replays change nothing */
    bulk_rows(&o, 2, users);
    rc = commit(sk, 2, &o, &err);
    EXPECT(rc == SS_OK, "replay of epoch 2: %s", err.msg);
    bulk_rows(&o, 3, users);
    rc = commit(sk, 3, &o, &err);
    EXPECT(rc == SS_OK, "replay of epoch 3: %s", err.msg);
    ss_out_free(&o);
    sk->type->close(sk);
    return failures ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "open") == 0) return cmd_open(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "epoch") == 0)
        return cmd_epoch(argv[2], atoi(argv[3]), argc > 4 && strcmp(argv[4], "other") == 0);
    if (argc >= 6 && strcmp(argv[1], "restart") == 0)
        return cmd_restart(argv[2], argv[3], argv[4], argv[5], argc > 6 ? atol(argv[6]) : 20000);
    fprintf(stderr, "usage: redis_sink_driver open URL | epoch URL N [other] | "
                    "restart URL STOP_CMD START_CMD KILL_CMD [USERS]\n");
    return 2;
}
