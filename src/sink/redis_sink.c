/* redis_sink.c — the Redis sink (`--sink redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?window_ttl=48h]`,
 * hiredis), a last stage of the pipeline: it keeps what an application or a live
 * dashboard reads with one command up to date — each user's recently viewed products
 * and live counters — and gets provisional window rows so that the counters move
 * while a window is open (DESIGN §4 Emission, §5).
 *
 * Key layout (all under "shopstream:"; {ws} is a window start as ISO-8601 UTC with
 * milliseconds, e.g. 2026-11-27T10:30:00.000Z; values are written as in the JSONL
 * output: money "12.35", ratios "0.6667", timestamps ISO, booleans true/false):
 *   recent:{user_id}                  LIST  product ids, most recent first (<= recent.size);
 *                                           expires recent.ttl (24 h) after its last update
 *   category_revenue:{ws}             ZSET  category -> revenue in cents (an integer, so exact):
 *                                           ZREVRANGE ... WITHSCORES ranks the categories
 *   category_revenue:{ws}:{category}  HASH  the row but its key columns (window_start, category are
 *                                           in the key): window_end, revenue, orders, units, views,
 *                                           cart_adds, buyers, final
 *   hourly_sales:{ws}, hourly_sales:{ws}:{category}            the same for hourly_sales
 *   trending_products:{ws}            ZSET  product_id -> rank: ZRANGE key 0 -1 is the top list
 *                                           in the engine's order; replaced whole on each update,
 *                                           with the hashes of the products that left it
 *   trending_products:{ws}:{product}  HASH  the row (rank, views, cart_adds, purchases, revenue, ...)
 *   funnel:{ws}                       HASH  the row (window_end, viewers, carters, buyers, view_to_cart,
 *                                           ...; a null ratio is an absent field)
 *   data_quality:{minute}             HASH  the row (total, valid, each reason, quality_score)
 * (Row hashes never repeat the key's columns: fewer bytes for Redis to parse and to log
 * in its AOF per row. Commands per window row: one RESTORE ... REPLACE (the hash and its
 * TTL, see "DUMP payloads"; or HSET, HDEL of null columns, PEXPIRE where RESTORE cannot be
 * used) and a share of one ZADD per window and ZADD_BATCH rows; per recently viewed row:
 * one RESTORE ... REPLACE (or DEL, RPUSH, PEXPIRE). Redis' cost is per command more than
 * per byte: a key lookup, the MULTI queue, AOF propagation (PEXPIRE is rewritten to
 * PEXPIREAT, RESTORE's TTL to ABSTTL); one command per row roughly halves its CPU per row.
 * A Lua script per chunk was measured slower: every redis.call converts its arguments
 * and reply, which costs more than the queueing it saves.)
 *   windows:{table}                   ZSET  {ws} -> window start ms, for every table above:
 *                                           ZREVRANGE windows:funnel 0 0 is the newest funnel window
 *   alerts                            LIST  alert rows as JSON, newest first, capped at 1000
 *   alerts:count                      HASH  kind -> alerts raised
 *   dlq:count                         HASH  reason -> invalid records
 *   late:count                        STRING late records
 *   sessions:count                    HASH  sessions, converted: closed sessions
 *   promo_matches:count               HASH  promo_id -> matched clicks
 *   run                               HASH  epoch, watermark, committed_at, records, valid, invalid, late, duplicates
 *   epoch                             STRING the last committed epoch (the fence)
 * Window keys expire window_ttl (default 48 h) after their last write; windows:{table}
 * keeps window_ttl of event time before its newest window. Counters have no TTL.
 *
 * Exactly once. Each epoch is one optimistic transaction fenced on `shopstream:epoch`:
 *   WATCH epoch; GET epoch -> already >= N: UNWATCH, nothing to do (a replay);
 *   MULTI; every write of the epoch; SET epoch N; EXEC.
 * The queued commands are streamed in chunks (CHUNK per round trip, built with
 * redisAppendCommandArgv: binary safe, no data formatted into command text), EXEC runs
 * them atomically, and the AOF records MULTI..EXEC as one unit (a torn tail is dropped
 * on load), so an epoch is in Redis entirely or not at all, together with its number.
 * That is the "script fenced on the epoch number" of DESIGN §6 without a script:
 * a Lua script would need the whole epoch as the arguments of one call (no
 * chunking, one long blocking call, a script cache to re-load after a restart),
 * whereas WATCH gives the same check-and-set and keeps plain pipelined commands.
 * Thanks to the fence, counters may use HINCRBY/LPUSH: a replayed epoch never
 * counts twice. (Records read again after a crash are not a replayed epoch: they come
 * in new epoch numbers, and the counters and the alerts list count them again; the
 * README says so.) If another client writes `shopstream:epoch` meanwhile, EXEC answers
 * nil and the commit is retried; the retry's GET then shows the fence ahead of this
 * process, and fence.c stops it with a message naming the other writer (see fence.h).
 *
 * Failures: a lost connection, a timeout, or a transient error reply (LOADING while
 * Redis replays its AOF after a restart, BUSY, OOM, READONLY, ...) answers SS_RETRY
 * after dropping the connection (Redis discards an unfinished MULTI); the next commit
 * reconnects. Durability across a Redis crash needs `appendonly yes` and
 * `appendfsync always` on the server (a warning is logged when AOF is off or fsync is
 * not `always`): the engine forgets an epoch once commit answered SS_OK, and Redis 7.0
 * has no WAITAOF with which the sink could wait for the fsync itself. */
#include "redis_sink.h"

#include <hiredis/hiredis.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/alloc.h"
#include "../core/log.h"
#include "../core/money.h"
#include "../core/timefmt.h"
#include "fence.h"
#include "redis_payload.h"
#include "rowjson.h"

#define COMP "sink.redis"
#define PFX "shopstream:"
#define CHUNK 4096                /* queued commands per write; two chunks in flight */
#define ALERTS_KEEP 1000
#define DEFAULT_WINDOW_TTL_MS (48LL * 3600 * 1000)
#define DEFAULT_RECENT_TTL_MS (24LL * 3600 * 1000)
#define CONNECT_TIMEOUT_S 5
#define IO_TIMEOUT_S 60
#define MAX_COUNTERS 256          /* distinct counter fields aggregated before sending */
#define ZADD_BATCH 512            /* score-member pairs per ZADD: one command instead of one per row */

static const char EPOCH_KEY[] = PFX "epoch";

struct arg {
    size_t off, len;
};

struct counter {
    const char *s; /* into the epoch's rows */
    uint32_t len;
    int64_t n;
};

/* A window ZSET member waiting for its window's batched ZADD. */
struct zpair {
    const struct ss_val *row; /* into the epoch's rows */
};

struct rd_sink {
    struct ss_sink base;
    redisContext *c;               /* NULL while disconnected */
    char *host, *user, *pass;
    int port, db;
    char where[300];               /* host:port/db for messages: never the password */
    int64_t recent_ttl_ms, window_ttl_ms;
    struct ss_fence epochs;
    /* the command being built: argument bytes in ab, (offset, length) in args */
    struct ss_buf ab;
    struct arg *args;
    size_t nargs, cap_args;
    const char **argv;
    size_t *argvlen, cap_argv;
    size_t pending;                /* commands whose reply is not read yet */
    size_t unsent;                 /* of which still in hiredis' output buffer */
    size_t ncmds;                  /* commands queued in this epoch's MULTI */
    char qerr[256];                /* the first error reply while queueing */
    /* scratch */
    struct ss_buf items;
    uint32_t *lens;
    size_t cap_lens;
    struct ss_buf json;
    struct ss_buf key;             /* a key kept across commands (args are rebuilt per command) */
    struct counter *cnt;
    size_t ncnt, cap_cnt;
    struct zpair *zp;              /* the current window's members, sent ZADD_BATCH at a time */
    size_t nzp, cap_zp;
    bool warned_aof;
    bool restore;                  /* rows go out as RESTORE ... REPLACE (this connection passed the probe) */
    struct ss_buf lp;              /* scratch: a listpack being built */
    struct ss_buf val;             /* scratch: one formatted value */
    /* the members each trending window's ZSET held before this epoch (read_old_lists):
     * bytes in old, each member's (offset, length) in oldm, each window's (first member,
     * count) in oldw, windows in the order the epoch's rows give them */
    struct ss_buf old;
    struct arg *oldm, *oldw;
    size_t noldm, cap_oldm, noldw, cap_oldw;
};

/* ---- SIGPIPE: hiredis write()s to a socket that Redis may have closed; the signal
 * is blocked for this thread around our calls and a pending one is consumed, so the
 * process-wide disposition stays the application's. */
struct nopipe {
    sigset_t old;
    bool was_pending;
};

static void nopipe_begin(struct nopipe *g) {
    sigset_t set, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigemptyset(&pend);
    sigpending(&pend);
    g->was_pending = sigismember(&pend, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void nopipe_end(struct nopipe *g) {
    if (!g->was_pending) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        const struct timespec zero = {0, 0};
        while (sigtimedwait(&set, NULL, &zero) == SIGPIPE) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- JSON array of strings ------------------------------------------------------ */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int hex4(const char *s, size_t len, size_t i, uint32_t *out) {
    if (i + 4 > len) return -1;
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(s[i + (size_t)k]);
        if (h < 0) return -1;
        v = v << 4 | (uint32_t)h;
    }
    *out = v;
    return 0;
}

static void put_utf8(struct ss_buf *b, uint32_t cp) {
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    ss_buf_add(b, u, n);
}

static size_t skip_ws(const char *s, size_t len, size_t i) {
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i;
}

int ss_redis_parse_str_array(const char *s, size_t len, struct ss_buf *bytes, uint32_t **lens, size_t *cap,
                             size_t *n, size_t *at) {
    *n = 0;
    size_t i = skip_ws(s, len, 0);
    if (i >= len || s[i] != '[') goto bad;
    i = skip_ws(s, len, i + 1);
    if (i < len && s[i] == ']') {
        i = skip_ws(s, len, i + 1);
        if (i != len) goto bad;
        return 0;
    }
    for (;;) {
        if (i >= len || s[i] != '"') goto bad;
        i++;
        size_t start = bytes->len;
        for (;;) {
            if (i >= len) goto bad;
            unsigned char c = (unsigned char)s[i];
            if (c == '"') break;
            if (c < 0x20) goto bad;
            if (c != '\\') {
                size_t j = i + 1; /* copy a run of plain bytes at once */
                while (j < len && s[j] != '"' && s[j] != '\\' && (unsigned char)s[j] >= 0x20) j++;
                ss_buf_add(bytes, s + i, j - i);
                i = j;
                continue;
            }
            if (++i >= len) goto bad;
            char e = s[i++];
            switch (e) {
            case '"': ss_buf_addc(bytes, '"'); break;
            case '\\': ss_buf_addc(bytes, '\\'); break;
            case '/': ss_buf_addc(bytes, '/'); break;
            case 'b': ss_buf_addc(bytes, '\b'); break;
            case 'f': ss_buf_addc(bytes, '\f'); break;
            case 'n': ss_buf_addc(bytes, '\n'); break;
            case 'r': ss_buf_addc(bytes, '\r'); break;
            case 't': ss_buf_addc(bytes, '\t'); break;
            case 'u': {
                uint32_t cp;
                if (hex4(s, len, i, &cp)) goto bad;
                i += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (i + 6 <= len && s[i] == '\\' && s[i + 1] == 'u' && hex4(s, len, i + 2, &lo) == 0 &&
                        lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        i += 6;
                    } else {
                        cp = 0xFFFD; /* a lone surrogate is not UTF-8: the replacement character */
                    }
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    cp = 0xFFFD;
                }
                put_utf8(bytes, cp);
                break;
            }
            default: i--; goto bad;
            }
        }
        i++; /* closing quote */
        SS_GROW(*lens, *cap, *n + 1);
        (*lens)[(*n)++] = (uint32_t)(bytes->len - start);
        i = skip_ws(s, len, i);
        if (i < len && s[i] == ',') {
            i = skip_ws(s, len, i + 1);
            continue;
        }
        if (i < len && s[i] == ']') {
            i = skip_ws(s, len, i + 1);
            if (i != len) goto bad;
            return 0;
        }
        goto bad;
    }
bad:
    *at = i;
    return -1;
}

/* ---- DUMP payloads: one RESTORE ... REPLACE per row (redis_payload.h) ----------- */

#define LP_MAX_BYTES 8192   /* list-max-listpack-size -2 (the default): one quicklist node */
#define LP_MAX_ENTRIES 256  /* hash-max-listpack-entries 128 (the default): 128 field-value pairs */

/* ---- connection ----------------------------------------------------------------- */

static void disconnect(struct rd_sink *rs) {
    if (rs->c) redisFree(rs->c);
    rs->c = NULL;
    rs->pending = rs->unsent = 0;
}

/* Error replies that go away by themselves: retrying the epoch can help. */
static bool transient_reply(const char *msg) {
    static const char *const pfx[] = {"LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN",
                                      "OOM", "NOREPLICAS", "NOTREADY"};
    for (size_t i = 0; i < sizeof pfx / sizeof pfx[0]; i++)
        if (strncmp(msg, pfx[i], strlen(pfx[i])) == 0) return true;
    return false;
}

/* The connection failed (I/O error, EOF, timeout): drop it, answer SS_RETRY. */
static int io_fail(struct rd_sink *rs, const char *what, struct ss_err *err) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s", rs->c && rs->c->errstr[0] ? rs->c->errstr : "connection lost");
    disconnect(rs);
    return ss_err_set(err, SS_RETRY, "Redis %s: %s: %s (connection lost, will reconnect and retry the epoch)",
                      rs->where, what, msg);
}

/* An error reply: transient ones answer SS_RETRY (connection dropped), others fatal_code. */
static int reply_fail(struct rd_sink *rs, const char *what, const char *msg, int fatal_code, struct ss_err *err) {
    if (transient_reply(msg)) {
        disconnect(rs);
        return ss_err_set(err, SS_RETRY, "Redis %s: %s: %s (transient, will retry the epoch)", rs->where, what, msg);
    }
    return ss_err_set(err, fatal_code, "Redis %s: %s: %s", rs->where, what, msg);
}

/* Runs one command outside a transaction; *out (when not NULL) gets the reply. */
static int simple(struct rd_sink *rs, int argc, const char **argv, const char *what, int fatal_code,
                  redisReply **out, struct ss_err *err) {
    size_t lens[8];
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    redisReply *r = redisCommandArgv(rs->c, argc, argv, lens);
    if (!r) return io_fail(rs, what, err);
    if (r->type == REDIS_REPLY_ERROR) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", r->str);
        freeReplyObject(r);
        return reply_fail(rs, what, msg, fatal_code, err);
    }
    if (out) *out = r;
    else freeReplyObject(r);
    return SS_OK;
}

/* The sink's durability is the server's: an epoch acknowledged by EXEC is on disk only
 * with appendfsync always (Redis 7.0 has no WAITAOF to ask for it per commit). */
static void check_persistence(struct rd_sink *rs) {
    if (rs->warned_aof) return;
    rs->warned_aof = true;
    redisReply *r = redisCommand(rs->c, "INFO persistence");
    bool aof_off = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "aof_enabled:0");
    if (aof_off)
        ss_warn(COMP,
                "msg=\"Redis has appendonly off: epochs committed shortly before a Redis crash or restart can be "
                "lost, and the engine does not resend them; run redis-server with --appendonly yes --appendfsync "
                "always\" redis=\"%s\"",
                rs->where);
    if (r) freeReplyObject(r);
    if (aof_off) return;
    /* CONFIG may be renamed away (managed Redis): then nothing is known and nothing said */
    r = redisCommand(rs->c, "CONFIG GET appendfsync");
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING &&
        strcmp(r->element[1]->str, "always") != 0)
        ss_warn(COMP,
                "msg=\"Redis has appendfsync %s: the last epochs committed before a machine crash (up to 1 s with "
                "everysec) can be lost, and the engine does not resend them; set appendfsync always\" "
                "redis=\"%s\"",
                r->element[1]->str, rs->where);
    if (r) freeReplyObject(r);
}

/* Whether this server takes the sink's RESTORE payloads: a LIST and a HASH restored
 * into a scratch key (which then is deleted; it expires by itself meanwhile). Any error
 * but a transient one (Redis < 7.0: "DUMP payload version or checksum are wrong"; an ACL
 * without RESTORE: NOPERM; RESTORE renamed away: unknown command) means the plain
 * commands. Probed on every connection: a restart may bring another server version. */
static int probe_restore(struct rd_sink *rs, struct ss_err *err) {
    static const char key[] = PFX "restore-probe";
    rs->restore = false;
    bool ok = true;
    for (int k = 0; k < 3 && ok; k++) {
        struct ss_buf pl = {0};
        ss_redis_lp_begin(&rs->lp);
        ss_redis_lp_str(&rs->lp, "f", 1);
        if (k == 1) ss_redis_lp_str(&rs->lp, "v", 1);
        ss_redis_lp_end(&rs->lp, k == 1 ? 2 : 1);
        if (k < 2) ss_redis_dump_payload(&pl, k == 1, &rs->lp);
        const char *a[] = {k < 2 ? "RESTORE" : "DEL", key, "10000", pl.p, "REPLACE"};
        size_t l[] = {k < 2 ? 7 : 3, sizeof key - 1, 5, pl.len, 7};
        redisReply *r = redisCommandArgv(rs->c, k < 2 ? 5 : 2, a, l);
        ss_buf_free(&pl);
        if (!r) return io_fail(rs, "probing RESTORE", err);
        if (r->type == REDIS_REPLY_ERROR) {
            ok = false;
            if (transient_reply(r->str)) {
                char msg[256];
                snprintf(msg, sizeof msg, "%s", r->str);
                freeReplyObject(r);
                return reply_fail(rs, "probing RESTORE", msg, SS_RETRY, err);
            }
            ss_info(COMP, "msg=\"RESTORE of the sink's payloads refused, writing rows with plain commands\" "
                          "redis=\"%s\" reply=\"%.120s\"", rs->where, r->str);
        }
        freeReplyObject(r);
    }
    rs->restore = ok;
    return SS_OK;
}

static int rd_connect(struct rd_sink *rs, struct ss_err *err) {
    disconnect(rs);
    struct timeval ctv = {CONNECT_TIMEOUT_S, 0}, iotv = {IO_TIMEOUT_S, 0};
    rs->c = redisConnectWithTimeout(rs->host, rs->port, ctv);
    if (!rs->c) return ss_err_set(err, SS_RETRY, "cannot connect to Redis %s: out of memory", rs->where);
    if (rs->c->err) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s", rs->c->errstr);
        disconnect(rs);
        return ss_err_set(err, SS_RETRY, "cannot connect to Redis %s: %s", rs->where, msg);
    }
    redisSetTimeout(rs->c, iotv);
    redisEnableKeepAlive(rs->c);
    int code;
    if (rs->pass) {
        const char *a3[] = {"AUTH", rs->user ? rs->user : "", rs->pass};
        const char *a2[] = {"AUTH", rs->pass};
        code = rs->user ? simple(rs, 3, a3, "AUTH (check the password in the sink URL)", SS_EUSAGE, NULL, err)
                        : simple(rs, 2, a2, "AUTH (check the password in the sink URL)", SS_EUSAGE, NULL, err);
        if (code) goto fail;
    }
    if (rs->db) {
        char db[16];
        snprintf(db, sizeof db, "%d", rs->db);
        const char *a[] = {"SELECT", db};
        if ((code = simple(rs, 2, a, "SELECT (check the database number in the sink URL)", SS_EUSAGE, NULL, err)))
            goto fail;
    }
    check_persistence(rs);
    if ((code = probe_restore(rs, err))) goto fail;
    return SS_OK;
fail:
    disconnect(rs);
    return code;
}

/* ---- command building ------------------------------------------------------------ */

static void cmd_start(struct rd_sink *rs) {
    rs->ab.len = 0;
    rs->nargs = 0;
}

static void arg_open(struct rd_sink *rs) {
    SS_GROW(rs->args, rs->cap_args, rs->nargs + 1);
    rs->args[rs->nargs++] = (struct arg){rs->ab.len, 0};
}

static void arg_close(struct rd_sink *rs) {
    struct arg *a = &rs->args[rs->nargs - 1];
    a->len = rs->ab.len - a->off;
}

static void arg(struct rd_sink *rs, const char *p, size_t n) {
    arg_open(rs);
    ss_buf_add(&rs->ab, p, n);
    arg_close(rs);
}

static void args(struct rd_sink *rs, const char *s) { arg(rs, s, strlen(s)); }

static void arg_i64(struct rd_sink *rs, int64_t v) {
    arg_open(rs);
    ss_buf_add_i64(&rs->ab, v);
    arg_close(rs);
}

static void fmt_ts(struct ss_buf *out, int64_t ms) {
    char b[40];
    int n = ms == SS_TS_MIN ? (int)strlen(strcpy(b, "-inf")) : ms == SS_TS_MAX ? (int)strlen(strcpy(b, "+inf"))
                                                                              : ss_ts_format(ms, b);
    ss_buf_add(out, b, (size_t)n);
}

static void add_ts(struct rd_sink *rs, int64_t ms) { fmt_ts(&rs->ab, ms); }

/* key PFX name[:{ws}] */
static void arg_wkey(struct rd_sink *rs, const char *name, int64_t ws) {
    arg_open(rs);
    ss_buf_adds(&rs->ab, PFX);
    ss_buf_adds(&rs->ab, name);
    ss_buf_addc(&rs->ab, ':');
    add_ts(rs, ws);
    arg_close(rs);
}

/* Appends a value as the JSONL output writes it (strings raw). */
static void fmt_val(struct ss_buf *out, uint8_t type, const struct ss_val *v) {
    char b[40];
    int n;
    switch (type) {
    case SS_COL_STR:
    case SS_COL_JSON: ss_buf_add(out, v->s, v->len); return;
    case SS_COL_MONEY: n = ss_money_format(v->i, 2, b); break;
    case SS_COL_RATIO: n = ss_money_format(v->i, 4, b); break;
    case SS_COL_TS: fmt_ts(out, v->i); return;
    case SS_COL_BOOL: ss_buf_adds(out, v->i ? "true" : "false"); return;
    default: ss_buf_add_i64(out, v->i); return;
    }
    ss_buf_add(out, b, (size_t)n);
}

static void add_val(struct rd_sink *rs, uint8_t type, const struct ss_val *v) { fmt_val(&rs->ab, type, v); }

static void note_qerr(struct rd_sink *rs, const redisReply *r) {
    if (!rs->qerr[0]) snprintf(rs->qerr, sizeof rs->qerr, "%s", r->str);
}

/* Reads replies until only `keep` are unread; those of queued commands are +QUEUED
 * or errors. */
static int read_replies(struct rd_sink *rs, size_t keep, struct ss_err *err) {
    while (rs->pending > keep) {
        void *p = NULL;
        if (redisGetReply(rs->c, &p) != REDIS_OK || !p) return io_fail(rs, "writing the epoch", err);
        redisReply *r = p;
        if (r->type == REDIS_REPLY_ERROR) note_qerr(rs, r);
        freeReplyObject(r);
        rs->pending--;
    }
    rs->unsent = 0; /* redisGetReply sent the whole output buffer first */
    return SS_OK;
}

static int drain(struct rd_sink *rs, struct ss_err *err) { return read_replies(rs, 0, err); }

/* Two chunks in flight: the chunk just built is sent, then the replies of the one
 * before are read, so Redis works on a chunk while the next one is being built. */
static int send_chunk(struct rd_sink *rs, struct ss_err *err) {
    int done = 0;
    while (!done)
        if (redisBufferWrite(rs->c, &done) != REDIS_OK) return io_fail(rs, "writing the epoch", err);
    size_t sent = rs->unsent;
    rs->unsent = 0;
    return read_replies(rs, sent, err);
}

static int cmd_send(struct rd_sink *rs, struct ss_err *err) {
    if (rs->nargs > rs->cap_argv) {
        size_t c2 = rs->cap_argv;
        SS_GROW(rs->argv, rs->cap_argv, rs->nargs);
        SS_GROW(rs->argvlen, c2, rs->nargs);
    }
    for (size_t i = 0; i < rs->nargs; i++) {
        rs->argv[i] = rs->ab.p + rs->args[i].off;
        rs->argvlen[i] = rs->args[i].len;
    }
    if (redisAppendCommandArgv(rs->c, (int)rs->nargs, rs->argv, rs->argvlen) != REDIS_OK)
        return io_fail(rs, "buffering a command", err);
    rs->pending++;
    rs->unsent++;
    rs->ncmds++;
    return rs->unsent >= CHUNK ? send_chunk(rs, err) : SS_OK;
}

#define SEND(rs, err)                                                                                                \
    do {                                                                                                             \
        int rc_ = cmd_send((rs), (err));                                                                             \
        if (rc_) return rc_;                                                                                         \
    } while (0)

/* RESTORE KEY TTL PAYLOAD REPLACE, the key being args[1] of the command being built
 * (cmd_start, args "RESTORE", the key): lp holds the value's finished listpack. */
static int send_restore(struct rd_sink *rs, bool hash, int64_t ttl, struct ss_err *err) {
    arg_i64(rs, ttl);
    arg_open(rs);
    ss_redis_dump_payload(&rs->ab, hash, &rs->lp);
    arg_close(rs);
    args(rs, "REPLACE");
    return cmd_send(rs, err);
}

/* ---- counters: a handful of distinct fields per epoch, summed before sending ---- */

static void count(struct rd_sink *rs, const struct ss_val *v, int64_t by) {
    for (size_t i = 0; i < rs->ncnt; i++)
        if (rs->cnt[i].len == v->len && memcmp(rs->cnt[i].s, v->s, v->len) == 0) {
            rs->cnt[i].n += by;
            return;
        }
    SS_GROW(rs->cnt, rs->cap_cnt, rs->ncnt + 1);
    rs->cnt[rs->ncnt++] = (struct counter){v->s ? v->s : "", v->s ? v->len : 0, by};
}

static int flush_counts(struct rd_sink *rs, const char *key, struct ss_err *err) {
    for (size_t i = 0; i < rs->ncnt; i++) {
        cmd_start(rs);
        args(rs, "HINCRBY");
        args(rs, key);
        arg(rs, rs->cnt[i].s, rs->cnt[i].len);
        arg_i64(rs, rs->cnt[i].n);
        SEND(rs, err);
    }
    rs->ncnt = 0;
    return SS_OK;
}

static int maybe_flush_counts(struct rd_sink *rs, const char *key, struct ss_err *err) {
    return rs->ncnt >= MAX_COUNTERS ? flush_counts(rs, key, err) : SS_OK;
}

/* ---- the tables ----------------------------------------------------------------- */

/* Tables kept per window (column 0 is the window / minute start). */
struct wspec {
    enum ss_table_id t;
    int keycol;   /* the key after the window start, or -1 */
    int scorecol; /* ZSET score of the key, or -1 */
    bool whole;   /* the rows of one window in an epoch are its whole list (top N) */
};

static const struct wspec wtables[] = {
    {SS_T_CATEGORY_REVENUE, SS_CR_CATEGORY, SS_CR_REVENUE, false},
    {SS_T_HOURLY_SALES, SS_HS_CATEGORY, SS_HS_REVENUE, false},
    {SS_T_TRENDING_PRODUCTS, SS_TP_PRODUCT_ID, SS_TP_RANK, true},
    {SS_T_FUNNEL, -1, -1, false},
    {SS_T_DATA_QUALITY, -1, -1, false},
};

static int pexpire_arg_key(struct rd_sink *rs, int64_t ttl, struct ss_err *err) {
    /* the key is the second argument of the command just sent: still in ab/args */
    struct arg k = rs->args[1];
    rs->key.len = 0;
    ss_buf_add(&rs->key, rs->ab.p + k.off, k.len);
    cmd_start(rs);
    args(rs, "PEXPIRE");
    arg(rs, rs->key.p, rs->key.len);
    arg_i64(rs, ttl);
    return cmd_send(rs, err);
}

/* The window's pending members, as one ZADD (pairs in row order: for a member that
 * appears twice, the later pair wins, as the later row does). */
static int flush_zadd(struct rd_sink *rs, const struct wspec *w, int64_t ws, struct ss_err *err) {
    if (!rs->nzp) return SS_OK;
    const struct ss_table *tb = &ss_tables[w->t];
    cmd_start(rs);
    args(rs, "ZADD");
    arg_wkey(rs, tb->name, ws);
    for (size_t k = 0; k < rs->nzp; k++) {
        const struct ss_val *v = rs->zp[k].row;
        arg_open(rs);
        if (tb->cols[w->scorecol].type == SS_COL_MONEY) { /* cents: an integer, exact in a score */
            char b[40];
            int len = ss_money_format(v[w->scorecol].i, 2, b);
            for (int j = 0; j < len; j++)
                if (b[j] != '.') ss_buf_addc(&rs->ab, b[j]);
        } else {
            ss_buf_add_i64(&rs->ab, v[w->scorecol].i);
        }
        arg_close(rs);
        arg(rs, v[w->keycol].s, v[w->keycol].len);
    }
    rs->nzp = 0;
    return cmd_send(rs, err);
}

/* After the rows of window ws: its ZSET (members, TTL), and the table's window index. */
static int window_done(struct rd_sink *rs, const struct wspec *w, int64_t ws, struct ss_err *err) {
    const char *name = ss_tables[w->t].name;
    if (w->keycol >= 0) {
        int rc = flush_zadd(rs, w, ws, err);
        if (rc) return rc;
        cmd_start(rs);
        args(rs, "PEXPIRE");
        arg_wkey(rs, name, ws);
        arg_i64(rs, rs->window_ttl_ms);
        SEND(rs, err);
    }
    char idx[64];
    snprintf(idx, sizeof idx, PFX "windows:%s", name);
    cmd_start(rs);
    args(rs, "ZADD");
    args(rs, idx);
    arg_i64(rs, ws);
    arg_open(rs);
    add_ts(rs, ws);
    arg_close(rs);
    SEND(rs, err);
    cmd_start(rs);
    args(rs, "ZREMRANGEBYSCORE");
    args(rs, idx);
    args(rs, "-inf");
    arg_open(rs);
    ss_buf_addc(&rs->ab, '(');
    ss_buf_add_i64(&rs->ab, ws - rs->window_ttl_ms);
    arg_close(rs);
    SEND(rs, err);
    cmd_start(rs);
    args(rs, "PEXPIRE");
    args(rs, idx);
    arg_i64(rs, rs->window_ttl_ms);
    SEND(rs, err);
    return SS_OK;
}

/* The members of the ZSET of every trending window this epoch writes, as Redis holds
 * them now: read before MULTI (inside it a read would only be queued), one pipelined
 * ZRANGE per window. A top list that is replaced must take the hashes of the products
 * that left it along; otherwise they stay behind as rows with final = false and a rank
 * that another product now holds, and scanning trending_products:{ws}:* shows twice the
 * top N. Read from Redis rather than remembered, so a restarted process cleans up the
 * lists of the one before it too. */
static int read_old_lists(struct rd_sink *rs, const struct ss_out *o, struct ss_err *err) {
    rs->old.len = 0;
    rs->noldm = rs->noldw = 0;
    size_t n = o ? o->t[SS_T_TRENDING_PRODUCTS].n : 0, nwin = 0;
    int64_t prev_ws = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t ws = ss_out_get(o, SS_T_TRENDING_PRODUCTS, i)[0].i;
        if (i > 0 && ws == prev_ws) continue;
        prev_ws = ws;
        cmd_start(rs);
        args(rs, "ZRANGE");
        arg_wkey(rs, ss_tables[SS_T_TRENDING_PRODUCTS].name, ws);
        args(rs, "0");
        args(rs, "-1");
        const char *av[4];
        size_t al[4];
        for (size_t k = 0; k < 4; k++) {
            av[k] = rs->ab.p + rs->args[k].off;
            al[k] = rs->args[k].len;
        }
        if (redisAppendCommandArgv(rs->c, 4, av, al) != REDIS_OK) return io_fail(rs, "reading the trending lists", err);
        nwin++;
    }
    int code = SS_OK;
    for (size_t w = 0; w < nwin; w++) {
        void *p = NULL;
        if (redisGetReply(rs->c, &p) != REDIS_OK || !p) return io_fail(rs, "reading the trending lists", err);
        redisReply *r = p;
        SS_GROW(rs->oldw, rs->cap_oldw, rs->noldw + 1);
        struct arg *win = &rs->oldw[rs->noldw++];
        *win = (struct arg){rs->noldm, 0};
        if (r->type == REDIS_REPLY_ERROR && !code) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", r->str);
            code = reply_fail(rs, "reading the trending lists", msg, SS_ERROR, err);
        } else if (r->type == REDIS_REPLY_ARRAY) {
            for (size_t k = 0; k < r->elements; k++) {
                const redisReply *m = r->element[k];
                if (m->type != REDIS_REPLY_STRING) continue;
                SS_GROW(rs->oldm, rs->cap_oldm, rs->noldm + 1);
                rs->oldm[rs->noldm++] = (struct arg){rs->old.len, m->len};
                ss_buf_add(&rs->old, m->str, m->len);
                win->len++;
            }
        }
        freeReplyObject(r);
        if (!rs->c) return code; /* reply_fail dropped the connection: the other replies went with it */
    }
    return code;
}

/* Appends the key trending_products:{ws}:{product} as an argument. */
static void arg_list_hash(struct rd_sink *rs, int64_t ws, const char *product, size_t len) {
    arg_open(rs);
    ss_buf_adds(&rs->ab, PFX);
    ss_buf_adds(&rs->ab, ss_tables[SS_T_TRENDING_PRODUCTS].name);
    ss_buf_addc(&rs->ab, ':');
    add_ts(rs, ws);
    ss_buf_addc(&rs->ab, ':');
    ss_buf_add(&rs->ab, product, len);
    arg_close(rs);
}

/* DEL of the row hashes of a top list being replaced (those still in the new list are
 * written again after it): the list Redis held before this epoch (window wi of oldw) when
 * the window is new in the epoch, else the list this epoch wrote just before, rows
 * [from, to) of the table. */
static int del_list_hashes(struct rd_sink *rs, const struct ss_out *o, const struct wspec *w, int64_t ws,
                           bool new_window, size_t wi, size_t from, size_t to, struct ss_err *err) {
    size_t n = new_window ? (wi < rs->noldw ? rs->oldw[wi].len : 0) : to - from;
    if (!n) return SS_OK;
    cmd_start(rs);
    args(rs, "DEL");
    for (size_t k = 0; k < n; k++) {
        if (new_window) {
            const struct arg *m = &rs->oldm[rs->oldw[wi].off + k];
            arg_list_hash(rs, ws, rs->old.p + m->off, m->len);
        } else {
            const struct ss_val *v = ss_out_get(o, w->t, from + k);
            arg_list_hash(rs, ws, v[w->keycol].s, v[w->keycol].len);
        }
    }
    return cmd_send(rs, err);
}

/* Per row: HSET of the row's columns except those in its key (the window start and
 * the category / product), HDEL of its null columns, PEXPIRE; the ZSET members of a
 * window go out as one ZADD per ZADD_BATCH rows. */
static int write_windowed(struct rd_sink *rs, const struct ss_out *o, const struct wspec *w, struct ss_err *err) {
    const struct ss_table *tb = &ss_tables[w->t];
    size_t n = o->t[w->t].n;
    int64_t prev_ws = 0, prev_rank = 0;
    size_t list_start = 0, wi = 0; /* the current top list's first row; its window's index in oldw */
    rs->nzp = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ss_val *v = ss_out_get(o, w->t, i);
        int64_t ws = v[0].i;
        bool new_window = i == 0 || ws != prev_ws;
        if (new_window && i > 0) {
            int rc = window_done(rs, w, prev_ws, err);
            if (rc) return rc;
        }
        /* a top-N list starts again at rank 1: products that left it must leave the ZSET */
        if (w->whole && (new_window || v[w->scorecol].i <= prev_rank)) {
            int rc = flush_zadd(rs, w, ws, err); /* the replaced list's members: before its DEL */
            if (rc) return rc;
            /* the hashes of the replaced list go with it (those still in the new list are
             * written again below): the list Redis held before this epoch, or the one this
             * epoch wrote just before for the same window */
            if (new_window && i > 0) wi++;
            if ((rc = del_list_hashes(rs, o, w, ws, new_window, wi, list_start, i, err))) return rc;
            list_start = i;
            cmd_start(rs);
            args(rs, "DEL");
            arg_wkey(rs, tb->name, ws);
            SEND(rs, err);
        }
        prev_ws = ws;
        if (w->whole) prev_rank = v[w->scorecol].i;

        /* the row's HASH: RESTORE ... REPLACE of its non-null columns (the TTL with it), or
         * HSET, HDEL of its null columns, PEXPIRE */
        bool restored = false;
        if (rs->restore) {
            size_t entries = 0;
            ss_redis_lp_begin(&rs->lp);
            for (int c = 1; c < tb->ncols; c++) {
                if (c == w->keycol || v[c].null) continue;
                rs->val.len = 0;
                fmt_val(&rs->val, tb->cols[c].type, &v[c]);
                ss_redis_lp_str(&rs->lp, tb->cols[c].name, strlen(tb->cols[c].name));
                ss_redis_lp_str(&rs->lp, rs->val.p, rs->val.len);
                entries += 2;
            }
            restored = entries > 0 && entries <= LP_MAX_ENTRIES && rs->lp.len < LP_MAX_BYTES;
            if (restored) ss_redis_lp_end(&rs->lp, entries);
        }
        cmd_start(rs);
        args(rs, restored ? "RESTORE" : "HSET");
        arg_open(rs);
        ss_buf_adds(&rs->ab, PFX);
        ss_buf_adds(&rs->ab, tb->name);
        ss_buf_addc(&rs->ab, ':');
        add_ts(rs, ws);
        if (w->keycol >= 0) {
            ss_buf_addc(&rs->ab, ':');
            ss_buf_add(&rs->ab, v[w->keycol].s, v[w->keycol].len);
        }
        arg_close(rs);
        int rc;
        if (restored) {
            if ((rc = send_restore(rs, true, rs->window_ttl_ms, err))) return rc;
            goto zset;
        }
        int nulls = 0;
        for (int c = 1; c < tb->ncols; c++) {
            if (c == w->keycol) continue;
            if (v[c].null) {
                nulls++;
                continue;
            }
            args(rs, tb->cols[c].name);
            arg_open(rs);
            add_val(rs, tb->cols[c].type, &v[c]);
            arg_close(rs);
        }
        struct arg key = rs->args[1];
        SEND(rs, err);
        if (nulls) { /* a null is an absent field (it may have had a value before) */
            rs->key.len = 0;
            ss_buf_add(&rs->key, rs->ab.p + key.off, key.len);
            cmd_start(rs);
            args(rs, "HDEL");
            arg(rs, rs->key.p, rs->key.len);
            for (int c = 1; c < tb->ncols; c++)
                if (c != w->keycol && v[c].null) args(rs, tb->cols[c].name);
            SEND(rs, err);
        }
        if ((rc = pexpire_arg_key(rs, rs->window_ttl_ms, err))) return rc;
    zset:
        if (w->keycol >= 0) {
            SS_GROW(rs->zp, rs->cap_zp, rs->nzp + 1);
            rs->zp[rs->nzp++] = (struct zpair){v};
            if (rs->nzp >= ZADD_BATCH && (rc = flush_zadd(rs, w, ws, err))) return rc;
        }
    }
    return n ? window_done(rs, w, prev_ws, err) : SS_OK;
}

static int write_recent(struct rd_sink *rs, const struct ss_out *o, struct ss_err *err) {
    size_t n = o->t[SS_T_RECENTLY_VIEWED].n;
    for (size_t i = 0; i < n; i++) {
        const struct ss_val *v = ss_out_get(o, SS_T_RECENTLY_VIEWED, i);
        const struct ss_val *u = &v[SS_RV_USER_ID], *p = &v[SS_RV_PRODUCTS];
        size_t np = 0, at = 0;
        rs->items.len = 0;
        if (!p->null && ss_redis_parse_str_array(p->s, p->len, &rs->items, &rs->lens, &rs->cap_lens, &np, &at)) {
            disconnect(rs); /* abandons the MULTI */
            return ss_err_set(err, SS_ERROR,
                              "recently_viewed row of user \"%.*s\": products is not a JSON array of strings "
                              "(at byte %zu of \"%.*s\")",
                              (int)(u->len > 64 ? 64 : u->len), u->s, at, (int)(p->len > 120 ? 120 : p->len), p->s);
        }
        /* one RESTORE ... REPLACE: the list and its TTL in place of the old value */
        if (rs->restore && np > 0 && np <= LP_MAX_ENTRIES) {
            ss_redis_lp_begin(&rs->lp);
            size_t off = 0;
            for (size_t k = 0; k < np; k++) {
                ss_redis_lp_str(&rs->lp, rs->items.p + off, rs->lens[k]);
                off += rs->lens[k];
            }
            if (rs->lp.len < LP_MAX_BYTES) {
                ss_redis_lp_end(&rs->lp, np);
                cmd_start(rs);
                args(rs, "RESTORE");
                arg_open(rs);
                ss_buf_adds(&rs->ab, PFX "recent:");
                ss_buf_add(&rs->ab, u->s, u->len);
                arg_close(rs);
                int rc = send_restore(rs, false, rs->recent_ttl_ms, err);
                if (rc) return rc;
                continue;
            }
        }
        /* DEL, RPUSH, PEXPIRE; the key is rebuilt per command: args point into ab, which
         * each command reuses */
        for (int step = 0; step < 3; step++) {
            if (step > 0 && np == 0) break; /* an empty list is no key */
            cmd_start(rs);
            args(rs, step == 0 ? "DEL" : step == 1 ? "RPUSH" : "PEXPIRE");
            arg_open(rs);
            ss_buf_adds(&rs->ab, PFX "recent:");
            ss_buf_add(&rs->ab, u->s, u->len);
            arg_close(rs);
            if (step == 1) {
                size_t off = 0;
                for (size_t k = 0; k < np; k++) {
                    arg(rs, rs->items.p + off, rs->lens[k]);
                    off += rs->lens[k];
                }
            } else if (step == 2) {
                arg_i64(rs, rs->recent_ttl_ms);
            }
            SEND(rs, err);
        }
    }
    return SS_OK;
}

static int write_alerts(struct rd_sink *rs, const struct ss_out *o, struct ss_err *err) {
    size_t n = o->t[SS_T_ALERTS].n;
    if (!n) return SS_OK;
    for (size_t i = 0; i < n; i++) {
        const struct ss_val *v = ss_out_get(o, SS_T_ALERTS, i);
        rs->json.len = 0;
        ss_row_to_json(&ss_tables[SS_T_ALERTS], v, &rs->json);
        cmd_start(rs);
        args(rs, "LPUSH");
        args(rs, PFX "alerts");
        arg(rs, rs->json.p, rs->json.len);
        SEND(rs, err);
        count(rs, &v[SS_AL_KIND], 1);
        int rc = maybe_flush_counts(rs, PFX "alerts:count", err);
        if (rc) return rc;
    }
    int rc = flush_counts(rs, PFX "alerts:count", err);
    if (rc) return rc;
    cmd_start(rs);
    args(rs, "LTRIM");
    args(rs, PFX "alerts");
    args(rs, "0");
    arg_i64(rs, ALERTS_KEEP - 1);
    return cmd_send(rs, err);
}

/* Tables that only feed counters: count column col of each row (col < 0: rows). */
static int write_counts(struct rd_sink *rs, const struct ss_out *o, enum ss_table_id t, int col, const char *key,
                        struct ss_err *err) {
    size_t n = o->t[t].n;
    for (size_t i = 0; i < n; i++) {
        count(rs, &ss_out_get(o, t, i)[col], 1);
        int rc = maybe_flush_counts(rs, key, err);
        if (rc) return rc;
    }
    return flush_counts(rs, key, err);
}

static int write_sessions(struct rd_sink *rs, const struct ss_out *o, struct ss_err *err) {
    size_t n = o->t[SS_T_SESSIONS].n;
    if (!n) return SS_OK;
    int64_t conv = 0;
    for (size_t i = 0; i < n; i++) conv += ss_out_get(o, SS_T_SESSIONS, i)[SS_SE_CONVERTED].i != 0;
    for (int k = 0; k < 2; k++) {
        cmd_start(rs);
        args(rs, "HINCRBY");
        args(rs, PFX "sessions:count");
        args(rs, k ? "converted" : "sessions");
        arg_i64(rs, k ? conv : (int64_t)n);
        SEND(rs, err);
    }
    return SS_OK;
}

static int write_late(struct rd_sink *rs, const struct ss_out *o, struct ss_err *err) {
    size_t n = o->t[SS_T_LATE].n;
    if (!n) return SS_OK;
    cmd_start(rs);
    args(rs, "INCRBY");
    args(rs, PFX "late:count");
    arg_i64(rs, (int64_t)n);
    return cmd_send(rs, err);
}

/* Absolute values: the run's progress, for a status line. */
static int write_run(struct rd_sink *rs, const struct ss_epoch *ep, struct ss_err *err) {
    cmd_start(rs);
    args(rs, "HSET");
    args(rs, PFX "run");
    args(rs, "epoch");
    arg_i64(rs, (int64_t)ep->epoch);
    args(rs, "watermark");
    arg_open(rs);
    add_ts(rs, ep->watermark);
    arg_close(rs);
    args(rs, "committed_at");
    arg_open(rs);
    add_ts(rs, ss_now_ms());
    arg_close(rs);
    if (ep->stats) {
        const struct ss_run_stats *st = ep->stats;
        const char *names[] = {"records", "valid", "invalid", "late", "duplicates"};
        const int64_t vals[] = {st->records, st->valid, st->invalid, st->late, st->duplicates};
        for (int k = 0; k < 5; k++) {
            args(rs, names[k]);
            arg_i64(rs, vals[k]);
        }
    }
    return cmd_send(rs, err);
}

/* ---- the epoch -------------------------------------------------------------------- */

static int decide(struct rd_sink *rs, uint64_t stored, uint64_t epoch, bool *done, struct ss_err *err) {
    char where[320];
    snprintf(where, sizeof where, "Redis %s", rs->where);
    enum ss_fence_verdict verdict;
    int code = ss_fence_decide(&rs->epochs, stored, epoch, where, &verdict, err);
    if (!code && verdict == SS_FENCE_REPLAY) {
        *done = true;
        ss_info(COMP, "msg=\"epoch already committed, skipped\" epoch=%llu committed_epoch=%llu",
                (unsigned long long)epoch, (unsigned long long)stored);
    }
    return code;
}

/* WATCH + GET of the fence. *done when the epoch is already in Redis. */
static int fence(struct rd_sink *rs, uint64_t epoch, bool *done, struct ss_err *err) {
    *done = false;
    const char *w[] = {"WATCH", EPOCH_KEY}, *g[] = {"GET", EPOCH_KEY};
    size_t wl[] = {5, sizeof EPOCH_KEY - 1}, gl[] = {3, sizeof EPOCH_KEY - 1};
    if (redisAppendCommandArgv(rs->c, 2, w, wl) != REDIS_OK || redisAppendCommandArgv(rs->c, 2, g, gl) != REDIS_OK)
        return io_fail(rs, "reading " PFX "epoch", err);
    void *p[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++)
        if (redisGetReply(rs->c, &p[k]) != REDIS_OK || !p[k]) {
            if (p[0]) freeReplyObject(p[0]);
            return io_fail(rs, "reading " PFX "epoch", err);
        }
    redisReply *rw = p[0], *rg = p[1];
    int code = SS_OK;
    char msg[256];
    if (rw->type == REDIS_REPLY_ERROR || rg->type == REDIS_REPLY_ERROR) {
        snprintf(msg, sizeof msg, "%s", rw->type == REDIS_REPLY_ERROR ? rw->str : rg->str);
        code = reply_fail(rs, "reading " PFX "epoch", msg, SS_ERROR, err);
    } else if (rg->type == REDIS_REPLY_STRING) {
        char *end = NULL;
        errno = 0;
        unsigned long long have = strtoull(rg->str, &end, 10);
        if (errno || end == rg->str || *end || rg->str[0] == '-') {
            code = ss_err_set(err, SS_ERROR,
                              "Redis %s: key %s holds \"%.40s\", not an epoch number (another application uses "
                              "the shopstream: prefix?)",
                              rs->where, EPOCH_KEY, rg->str);
        } else {
            code = decide(rs, have, epoch, done, err);
        }
    } else if (rg->type == REDIS_REPLY_NIL) {
        code = decide(rs, 0, epoch, done, err);
    } else {
        code = ss_err_set(err, SS_ERROR, "Redis %s: key %s is not a string (another application uses it?)",
                          rs->where, EPOCH_KEY);
    }
    freeReplyObject(rw);
    freeReplyObject(rg);
    if (code || *done) {
        if (rs->c) {
            const char *u[] = {"UNWATCH"};
            struct ss_err ignore;
            simple(rs, 1, u, "UNWATCH", SS_ERROR, NULL, &ignore);
        }
    }
    return code;
}

static int write_epoch(struct rd_sink *rs, const struct ss_epoch *ep, struct ss_err *err) {
    const struct ss_out *o = ep->rows;
    rs->qerr[0] = '\0';
    rs->ncmds = 0;
    rs->ncnt = 0;
    int rc = read_old_lists(rs, o, err);
    if (rc) {
        disconnect(rs); /* and the WATCH with it */
        return rc;
    }
    cmd_start(rs);
    args(rs, "MULTI");
    rc = cmd_send(rs, err);
    if (o) {
        for (size_t k = 0; !rc && k < sizeof wtables / sizeof wtables[0]; k++) rc = write_windowed(rs, o, &wtables[k], err);
        if (!rc) rc = write_recent(rs, o, err);
        if (!rc) rc = write_alerts(rs, o, err);
        if (!rc) rc = write_counts(rs, o, SS_T_DLQ, SS_DL_REASON, PFX "dlq:count", err);
        if (!rc) rc = write_counts(rs, o, SS_T_PROMO_MATCHES, SS_PM_PROMO_ID, PFX "promo_matches:count", err);
        if (!rc) rc = write_sessions(rs, o, err);
        if (!rc) rc = write_late(rs, o, err);
    }
    if (!rc) rc = write_run(rs, ep, err);
    if (!rc) {
        cmd_start(rs);
        args(rs, "SET");
        args(rs, EPOCH_KEY);
        arg_i64(rs, (int64_t)ep->epoch);
        rc = cmd_send(rs, err);
    }
    if (!rc) rc = drain(rs, err);
    if (rc) {
        disconnect(rs); /* Redis discards the unfinished MULTI with the connection */
        return rc;
    }
    /* EXEC */
    const char *x[] = {"EXEC"};
    size_t xl[] = {4};
    void *p = NULL;
    ss_fence_sending(&rs->epochs, ep->epoch);
    if (redisAppendCommandArgv(rs->c, 1, x, xl) != REDIS_OK || redisGetReply(rs->c, &p) != REDIS_OK || !p)
        return io_fail(rs, "EXEC (the epoch is either entirely in Redis or not at all)", err);
    redisReply *r = p;
    int code = SS_OK;
    char what[80];
    snprintf(what, sizeof what, "epoch %llu", (unsigned long long)ep->epoch);
    /* any answer but nil means EXEC ran: the epoch number is stored (a failed command
     * inside it does not undo the others) */
    ss_fence_answered(&rs->epochs, ep->epoch, r->type == REDIS_REPLY_ARRAY);
    if (r->type == REDIS_REPLY_NIL) {
        code = ss_err_set(err, SS_RETRY,
                          "Redis %s: epoch %llu: key %s was changed by another client during the commit "
                          "(another shopstream writing to this database?); will retry",
                          rs->where, (unsigned long long)ep->epoch, EPOCH_KEY);
    } else if (r->type == REDIS_REPLY_ERROR) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s%s%s", r->str, rs->qerr[0] ? ": " : "", rs->qerr);
        code = reply_fail(rs, what, msg, SS_ERROR, err);
        if (code == SS_OK) code = SS_ERROR;
        /* a queued command rejected with a transient error (OOM) makes EXECABORT transient too */
        if (code == SS_ERROR && rs->qerr[0] && transient_reply(rs->qerr)) {
            disconnect(rs);
            code = ss_err_set(err, SS_RETRY, "Redis %s: %s: %s (transient, will retry the epoch)", rs->where, what,
                              rs->qerr);
        }
    } else if (r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < r->elements; i++)
            if (r->element[i]->type == REDIS_REPLY_ERROR) {
                /* applied except this command, and the epoch recorded: retrying cannot help */
                code = ss_err_set(err, SS_ERROR,
                                  "Redis %s: %s: command %zu of %zu failed: %s (a key under shopstream: holds "
                                  "another type of value? delete it)",
                                  rs->where, what, i + 1, r->elements, r->element[i]->str);
                break;
            }
    } else {
        code = ss_err_set(err, SS_ERROR, "Redis %s: %s: unexpected EXEC reply type %d", rs->where, what, r->type);
    }
    freeReplyObject(r);
    return code;
}

static int rd_commit(struct ss_sink *sk, const struct ss_epoch *ep, struct ss_err *err) {
    struct rd_sink *rs = (struct rd_sink *)sk;
    struct nopipe np;
    nopipe_begin(&np);
    int code = rs->c ? SS_OK : rd_connect(rs, err);
    bool done = false;
    if (!code) code = fence(rs, ep->epoch, &done, err);
    if (!code && !done) code = write_epoch(rs, ep, err);
    nopipe_end(&np);
    return code;
}

/* ---- open / close ----------------------------------------------------------------- */

static void rd_close(struct ss_sink *sk) {
    struct rd_sink *rs = (struct rd_sink *)sk;
    if (!rs) return;
    disconnect(rs);
    ss_free(rs->host);
    ss_free(rs->user);
    if (rs->pass) memset(rs->pass, 0, strlen(rs->pass));
    ss_free(rs->pass);
    ss_buf_free(&rs->ab);
    ss_free(rs->args);
    ss_free(rs->argv);
    ss_free(rs->argvlen);
    ss_buf_free(&rs->items);
    ss_free(rs->lens);
    ss_buf_free(&rs->json);
    ss_buf_free(&rs->key);
    ss_buf_free(&rs->lp);
    ss_buf_free(&rs->val);
    ss_free(rs->cnt);
    ss_free(rs->zp);
    ss_buf_free(&rs->old);
    ss_free(rs->oldm);
    ss_free(rs->oldw);
    ss_free(rs);
}

/* %XX-decodes s[0..n) into a new string; NULL when an escape is malformed. */
static char *pct_decode(const char *s, size_t n) {
    char *d = ss_malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            d[k++] = s[i];
            continue;
        }
        int a = i + 1 < n ? hexval(s[i + 1]) : -1;
        int b = i + 2 < n ? hexval(s[i + 2]) : -1;
        if (a < 0 || b < 0) {
            ss_free(d);
            return NULL;
        }
        d[k++] = (char)(a << 4 | b);
        i += 2;
    }
    d[k] = '\0';
    return d;
}

static int parse_url(struct rd_sink *rs, const char *url, struct ss_err *err) {
    static const char usage[] = "expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?window_ttl=DURATION]";
    const char *s = url + strlen("redis://");
    const char *q = strchr(s, '?');
    const char *end = q ? q : s + strlen(s);
    const char *slash = memchr(s, '/', (size_t)(end - s));
    const char *auth_end = slash ? slash : end;
    const char *at = NULL;
    for (const char *p = s; p < auth_end; p++)
        if (*p == '@') at = p;
    const char *h = s;
    if (at) {
        const char *colon = memchr(s, ':', (size_t)(at - s));
        if (colon) {
            if (colon > s && !(rs->user = pct_decode(s, (size_t)(colon - s)))) goto bad;
            if (!(rs->pass = pct_decode(colon + 1, (size_t)(at - colon - 1)))) goto bad;
        } else if (!(rs->pass = pct_decode(s, (size_t)(at - s)))) {
            goto bad;
        }
        h = at + 1;
    }
    const char *hend, *pstart = NULL;
    if (*h == '[') { /* [IPv6] */
        const char *rb = memchr(h, ']', (size_t)(auth_end - h));
        if (!rb) goto bad;
        rs->host = ss_strndup(h + 1, (size_t)(rb - h - 1));
        hend = rb + 1;
        if (hend < auth_end && *hend != ':') goto bad;
    } else {
        hend = memchr(h, ':', (size_t)(auth_end - h));
        if (!hend) hend = auth_end;
        rs->host = ss_strndup(h, (size_t)(hend - h));
    }
    if (hend < auth_end) pstart = hend + 1;
    if (!rs->host[0]) goto bad;
    rs->port = 6379;
    if (pstart) {
        long port = 0;
        if (pstart == auth_end) goto bad;
        for (const char *p = pstart; p < auth_end; p++) {
            if (*p < '0' || *p > '9' || port > 65535) goto bad;
            port = port * 10 + (*p - '0');
        }
        if (port < 1 || port > 65535) goto bad;
        rs->port = (int)port;
    }
    if (slash && slash + 1 < end) {
        long db = 0;
        for (const char *p = slash + 1; p < end; p++) {
            if (*p < '0' || *p > '9' || db > 100000) goto bad;
            db = db * 10 + (*p - '0');
        }
        rs->db = (int)db;
    }
    snprintf(rs->where, sizeof rs->where, "%s%s%s:%d/%d", strchr(rs->host, ':') ? "[" : "", rs->host,
             strchr(rs->host, ':') ? "]" : "", rs->port, rs->db);
    /* query: window_ttl=DURATION */
    for (const char *p = q ? q + 1 : NULL; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        char kv[128];
        if (n >= sizeof kv) goto bad_param;
        memcpy(kv, p, n);
        kv[n] = '\0';
        char *eq = strchr(kv, '=');
        if (!eq) goto bad_param;
        *eq = '\0';
        if (strcmp(kv, "window_ttl") == 0) {
            int64_t ms;
            if (ss_duration_parse(eq + 1, &ms) != 0 || ms <= 0)
                return ss_err_set(err, SS_EUSAGE, "bad Redis URL parameter window_ttl=%s (a duration: 48h, 30m, ...)",
                                  eq + 1);
            rs->window_ttl_ms = ms;
        } else {
            return ss_err_set(err, SS_EUSAGE, "unknown Redis URL parameter \"%s\" (known: window_ttl)", kv);
        }
        p = amp ? amp + 1 : NULL;
    }
    return SS_OK;
bad_param:
    return ss_err_set(err, SS_EUSAGE, "bad Redis URL parameters \"%s\" (%s)", q, usage);
bad:
    return ss_err_set(err, SS_EUSAGE, "bad Redis URL (%s)", usage);
}

static int rd_check(const char *url, const struct ss_config *cfg, struct ss_err *err) {
    (void)cfg;
    struct rd_sink *rs = ss_calloc(1, sizeof *rs);
    int code = parse_url(rs, url, err);
    rd_close(&rs->base);
    return code;
}

static int rd_open(struct ss_sink **out, const char *url, const struct ss_config *cfg, struct ss_err *err) {
    *out = NULL;
    struct rd_sink *rs = ss_calloc(1, sizeof *rs);
    rs->base.type = &ss_sink_redis;
    rs->recent_ttl_ms = cfg && cfg->recent_ttl_ms > 0 ? cfg->recent_ttl_ms : DEFAULT_RECENT_TTL_MS;
    rs->window_ttl_ms = DEFAULT_WINDOW_TTL_MS;
    int code = parse_url(rs, url, err);
    if (!code) {
        struct nopipe np;
        nopipe_begin(&np);
        code = rd_connect(rs, err);
        nopipe_end(&np);
    }
    if (code) {
        rd_close(&rs->base);
        return code;
    }
    redisReply *r = redisCommand(rs->c, "GET %s", EPOCH_KEY);
    if (r && r->type == REDIS_REPLY_STRING) rs->base.committed_epoch = strtoull(r->str, NULL, 10);
    if (r) freeReplyObject(r);
    ss_fence_init(&rs->epochs, rs->base.committed_epoch);
    ss_info(COMP, "msg=\"connected\" redis=\"%s\" committed_epoch=%llu", rs->where,
            (unsigned long long)rs->base.committed_epoch);
    *out = &rs->base;
    return SS_OK;
}

const struct ss_sink_type ss_sink_redis = {
    .name = "redis",
    .scheme = "redis://",
    .flags = SS_SINK_PROVISIONAL,
    .open = rd_open,
    .check = rd_check,
    .commit = rd_commit,
    .close = rd_close,
};
