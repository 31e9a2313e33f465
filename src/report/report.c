/* report.c — `shopstream report`: reads the lake (pqread.h) and answers the analysts'
 * questions. It sits after the pipeline: its only input is what the parquet:DIR sink
 * wrote, so every figure is a function of the streaming tables of the same run.
 *
 * Where each figure comes from (also SS_REPORT_SOURCES, printed by --help):
 *
 *  lake              every .parquet file under <lake>/<table>/: files and rows (footer counts).
 *  category_daily    hourly_sales rows with final = true; day = UTC date of window_start.
 *                    revenue = Σ revenue, orders = Σ orders, units = Σ units per (day,
 *                    category), exact (the lake stores cents). Rows by day, then revenue
 *                    desc, then category; a last row day = category = "all" sums all.
 *  top_products_*    events rows (valid, on-time, deduplicated events). Per product_id:
 *                    revenue = Σ price × quantity over purchases (price as stored, cents),
 *                    orders = #purchases, units = Σ quantity over purchases, views = #views.
 *                    by_revenue: products with >= 1 purchase, revenue desc, product_id asc
 *                    (bytes); by_views: products with >= 1 view, views desc, product_id asc.
 *  funnel            events rows. Per UTC day of ts: viewers / carters / buyers = distinct
 *                    user_id with >= 1 view / cart_add / purchase that day; the "all" row
 *                    counts distinct users over the whole lake (not a sum of days).
 *                    view_to_cart = carters / viewers, cart_to_purchase = buyers / carters,
 *                    4 decimals half up, null when the divisor is 0 (as the funnel table).
 *  sessions          sessions rows, grouped by converted: sessions, share of all sessions
 *                    (4 decimals), avg_duration_s = Σ duration_s / sessions, avg_views,
 *                    avg_events (2 decimals half up), revenue = Σ revenue. duration_ratio =
 *                    avg duration of converters / of non-converters, computed from the
 *                    exact sums (2 decimals half up).
 *  data_quality      totals: Σ of each data_quality column over one row per minute (a
 *                    resumed run writes a minute again: its largest total); invalid = total - valid;
 *                    quality_score = valid / total (4 decimals half up). dlq_rows, late_rows:
 *                    rows of dlq and late. invalid_by_reason: dlq rows per reason (the
 *                    precise reason, e.g. missing_user_id), late_by_stream: late rows per
 *                    stream; both by count desc, then name.
 *
 * Rounding: exact rational arithmetic on integers, rounded once, half up (all figures
 * are non-negative). Money is exact int64 ten-thousandths throughout and printed with 2
 * decimals; it is a multiple of 100 since the lake holds cents.
 *
 * Output: table (section titles, aligned columns), csv (a block per table with a
 * leading `section` column holding <section>.<block>, blocks separated by one blank
 * line), json (one object, a key per section). */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../core/alloc.h"
#include "../core/arena.h"
#include "../core/intern.h"
#include "../core/money.h"
#include "../core/table.h"
#include "../core/timefmt.h"
#include "../state/u64map.h"
#include "pqread.h"

const char SS_REPORT_SOURCES[] =
    "Where each figure comes from (tables of the lake, final rows only):\n"
    "  lake             files and rows of every table\n"
    "  category_daily   hourly_sales: per UTC day of window_start and category, the sums of\n"
    "                   revenue, orders, units; last row \"all\" = the sums over everything\n"
    "  top_products     events: per product_id, revenue = sum of price x quantity over\n"
    "                   purchases, orders = purchases, units = sum of their quantity, views;\n"
    "                   top N by revenue (products with a purchase) and by views, ties by\n"
    "                   product_id\n"
    "  funnel           events: per UTC day of ts, distinct users with a view / cart_add /\n"
    "                   purchase; \"all\" = distinct over the whole lake; view_to_cart =\n"
    "                   carters/viewers, cart_to_purchase = buyers/carters (null if /0)\n"
    "  sessions         sessions: converters (converted = true) versus non-converters:\n"
    "                   count, share, average duration_s, views, events, revenue; duration_ratio\n"
    "                   = average duration of converters / of non-converters\n"
    "  data_quality     data_quality: sums of every counter (a minute written again counts\n"
    "                   once, with its largest total), invalid = total - valid,\n"
    "                   quality_score = valid/total; dlq: rows per reason; late: rows per stream\n"
    "Rounding: averages 2 decimals, rates 4 decimals, half up, from exact integer sums;\n"
    "money exact, 2 decimals.\n";

#define DAY_MS 86400000LL
#define MAX_BLOCKS 3

/* ---- the report's tables: cells as text, typed for alignment and JSON ------------ */

enum ctype { C_STR, C_INT, C_MONEY, C_DEC };

struct block {
    const char *name;            /* JSON key inside the section */
    int single;                  /* one row: a JSON object, printed vertically */
    int merge;                   /* table output: the closing rows of the block before */
    int ncols;
    const char *const *cols;
    const uint8_t *types;
    const char **cells;          /* nrows * ncols; NULL = null */
    size_t nrows, cap;
};

struct section {
    const char *key, *title;
    struct block b[MAX_BLOCKS];
    int nb;
};

enum { S_LAKE, S_CATEGORY, S_TOP_REVENUE, S_TOP_VIEWS, S_FUNNEL, S_SESSIONS, S_QUALITY, S_COUNT };

/* ---- aggregation state ------------------------------------------------------------ */

/* A sum of money in ten-thousandths. One row holds at most about 9.2e14 (int64), and a
 * sum of two such rows already does not fit in int64: it wrapped around, and the report
 * printed a negative total. 128 bits hold any sum of int64 rows exactly. */
typedef __int128 money_sum;

struct catday {
    int64_t day;
    uint32_t cat;
    money_sum revenue;
    int64_t orders, units;
};

struct product {
    money_sum revenue;
    int64_t orders, units, views;
};

struct fday {
    int64_t day;
    int64_t n[3];                /* viewers, carters, buyers */
};

/* Sums of 128 bits, as money's: a damaged file's durations of 2^62 s wrapped in 64. */
struct sgroup {
    int64_t n;
    money_sum dur, views, events, revenue;
};

/* Per-user funnel state: the day of the user's latest event and the event types seen
 * that day, so the (day, user) map is touched only when a user's day changes. */
struct ustate {
    int32_t day;
    uint8_t mask, all, has_day;
};

/* dictionary index -> interned id, valid for one row group (stamp == generation) */
struct dcache {
    uint32_t *stamp, *id;
    size_t cap;
};

struct counted {                 /* a name (interned) and a count */
    struct ss_intern *names;
    int64_t *n;
    size_t cap;
};

struct progress {
    bool on;
    FILE *f;
    int64_t t0, last;
    int64_t files_total, files_done, rows;
};

struct ss_report {
    struct ss_report_opts o;
    struct ss_arena arena;
    struct section s[S_COUNT];
    struct ss_report_stats st;
    struct progress pg;
    /* lake */
    int64_t tfiles[SS_T_COUNT], trows[SS_T_COUNT];
    /* hourly_sales */
    struct ss_intern *cats;
    struct ss_u64map catday_ix;
    struct catday *cd;
    size_t ncd, cd_cap;
    /* events */
    struct ss_intern *prods, *users;
    struct product *pr;
    size_t pr_cap;
    struct ustate *us;           /* by user id; mask bits: 0 view, 1 cart_add, 2 purchase */
    size_t us_cap;
    struct dcache pcache, ucache;
    uint32_t gen;                /* row groups read so far: the dcache generation */
    int64_t all_users[3];
    struct ss_u64map day_ix, dayuser;
    struct fday *fd;
    size_t nfd, fd_cap;
    /* sessions */
    struct sgroup sg[2];         /* [0] non-converters, [1] converters */
    /* data quality: the sums over each minute's last row (dq_min, by dq_ix), as a run
     * resumed from a savepoint within a minute writes that minute's row again with its
     * whole count so far (README "Savepoints") */
    int64_t dq[SS_DQ_NCOLS];
    struct ss_u64map dq_ix;      /* minute_start -> index in dq_min */
    int64_t (*dq_min)[SS_DQ_NCOLS];
    size_t ndq, dq_cap;
    int64_t cd_orders, cd_units;  /* hourly_sales totals over every category and day */
    struct counted reasons, streams;
};

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *adup(struct ss_report *rp, const char *s, size_t n) { return ss_arena_strndup(&rp->arena, s, n); }

static const char *cell_i(struct ss_report *rp, int64_t v) {
    char b[32];
    int n = snprintf(b, sizeof b, "%" PRId64, v);
    return adup(rp, b, (size_t)n);
}

/* v (ten-thousandths) with 2 decimals, rounded half away from zero, no "-0.00": as
 * ss_money_format, for a sum beyond int64. */
static const char *cell_money(struct ss_report *rp, money_sum v) {
    unsigned __int128 cents = ((v < 0 ? -(unsigned __int128)v : (unsigned __int128)v) + 50) / 100, q = cents;
    char digits[48], b[56];
    int nd = 0, n = 0;
    do { /* least significant first, at least "0.00" */
        digits[nd++] = (char)('0' + (int)(q % 10));
        q /= 10;
    } while (q || nd < 3);
    if (v < 0 && cents) b[n++] = '-';
    while (nd > 2) b[n++] = digits[--nd];
    b[n++] = '.';
    b[n++] = digits[1];
    b[n++] = digits[0];
    return adup(rp, b, (size_t)n);
}

static const char *cell_s(struct ss_report *rp, struct ss_str s) { return adup(rp, s.p ? s.p : "", s.len); }

/* num / den rounded half up to `places` decimals (num, den >= 0); NULL when den == 0. */
static const char *cell_frac(struct ss_report *rp, unsigned __int128 num, unsigned __int128 den, int places) {
    if (den == 0) return NULL;
    uint64_t unit = 1;
    for (int i = 0; i < places; i++) unit *= 10;
    unsigned __int128 q = (num * unit * 2 + den) / (den * 2);
    uint64_t ip = (uint64_t)(q / unit), fp = (uint64_t)(q % unit);
    char b[64];
    int n = snprintf(b, sizeof b, "%" PRIu64 ".%0*" PRIu64, ip, places, fp);
    return adup(rp, b, (size_t)n);
}

static const char *cell_day(struct ss_report *rp, int64_t day) {
    int64_t y;
    unsigned m, d;
    ss_civil_from_days(day, &y, &m, &d);
    char b[32];
    int n = snprintf(b, sizeof b, "%04" PRId64 "-%02u-%02u", y, m, d);
    return adup(rp, b, (size_t)n);
}

static struct block *block_add(struct section *s, const char *name, int single, int merge, int ncols,
                               const char *const *cols, const uint8_t *types) {
    ss_assert(s->nb < MAX_BLOCKS);
    struct block *b = &s->b[s->nb++];
    *b = (struct block){.name = name, .single = single, .merge = merge, .ncols = ncols, .cols = cols, .types = types};
    return b;
}

static const char **row_add(struct block *b) {
    SS_GROW(b->cells, b->cap, (b->nrows + 1) * (size_t)b->ncols);
    const char **r = b->cells + b->nrows * (size_t)b->ncols;
    memset(r, 0, (size_t)b->ncols * sizeof *r);
    b->nrows++;
    return r;
}

/* ---- progress ------------------------------------------------------------------------ */

static void progress_show(struct progress *pg, bool final) {
    if (!pg->on) return;
    int64_t t = now_ns();
    if (!final && t - pg->last < 100000000LL) return;
    pg->last = t;
    double secs = (double)(t - pg->t0) / 1e9;
    double rate = secs > 0 ? (double)pg->rows / secs : 0;
    fprintf(pg->f, "\rreport: %" PRId64 "/%" PRId64 " files, %" PRId64 " rows, %.1fM rows/s   ", pg->files_done,
            pg->files_total, pg->rows, rate / 1e6);
    if (final) fputc('\n', pg->f);
    fflush(pg->f);
}

/* ---- listing the lake ----------------------------------------------------------------- */

struct files {
    char **p;
    size_t n, cap;
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

/* Every *.parquet under dir (recursively; the hidden .NAME.tmp files of a running
 * writer are skipped). A missing dir is an empty table. */
static int list_files(const char *dir, struct files *fl, int depth, struct ss_err *err) {
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT && depth == 0) return SS_OK;
        return ss_err_set(err, SS_EIO, "cannot read directory %s: %s", dir, strerror(errno));
    }
    int rc = SS_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) {
            rc = ss_err_set(err, SS_EIO, "path too long under %s", dir);
            break;
        }
        struct stat st;
        if (stat(path, &st) != 0) {
            if (errno == ENOENT) continue;  /* renamed away under us */
            rc = ss_err_set(err, SS_EIO, "cannot stat %s: %s", path, strerror(errno));
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            if (depth < 8 && (rc = list_files(path, fl, depth + 1, err))) break;
        } else if (S_ISREG(st.st_mode) && ends_with(e->d_name, ".parquet")) {
            SS_GROW(fl->p, fl->cap, fl->n + 1);
            fl->p[fl->n++] = ss_strdup(path);
        }
    }
    closedir(d);
    return rc;
}

static void files_free(struct files *fl) {
    for (size_t i = 0; i < fl->n; i++) ss_free(fl->p[i]);
    ss_free(fl->p);
}

/* ---- per-table aggregation -------------------------------------------------------------- */

static void counted_add(struct counted *c, struct ss_str name) {
    uint32_t id = ss_intern_get(c->names, name);
    if (id >= c->cap) {
        size_t old = c->cap;
        SS_GROW(c->n, c->cap, (size_t)id + 1);
        memset(c->n + old, 0, (c->cap - old) * sizeof *c->n);
    }
    c->n[id]++;
}

static struct ss_str vstr(const struct ss_val *v) { return (struct ss_str){v->s ? v->s : "", v->len}; }

/* Adds column col of a row of table t to a count the report prints in 64 bits: a sum
 * past 2^63 comes only from a damaged or foreign file, refused (read_file names it). */
static int add_count(int64_t *sum, int64_t v, enum ss_table_id t, int col, struct ss_err *err) {
    if (__builtin_add_overflow(*sum, v, sum))
        return ss_err_set(err, SS_ERROR, "the sum of %s.%s passes 2^63 (a damaged file?)", ss_tables[t].name,
                          ss_tables[t].cols[col].name);
    return SS_OK;
}

static int agg_hourly(struct ss_report *rp, const struct ss_val *v, struct ss_err *err) {
    if (!v[SS_HS_FINAL].i) return SS_OK;
    int64_t day = ss_ts_floor(v[SS_HS_WINDOW_START].i, DAY_MS) / DAY_MS;
    uint32_t cat = ss_intern_get(rp->cats, vstr(&v[SS_HS_CATEGORY]));
    bool ins;
    uint32_t *ix = ss_u64map_put(&rp->catday_ix, (uint64_t)(uint32_t)day << 32 | cat, &ins);
    if (ins) {
        SS_GROW(rp->cd, rp->cd_cap, rp->ncd + 1);
        rp->cd[rp->ncd] = (struct catday){.day = day, .cat = cat};
        *ix = (uint32_t)rp->ncd++;
    }
    struct catday *c = &rp->cd[*ix];
    c->revenue += v[SS_HS_REVENUE].i;
    /* the totals too: each (category, day) fitting does not make their sum fit */
    if (add_count(&c->orders, v[SS_HS_ORDERS].i, SS_T_HOURLY_SALES, SS_HS_ORDERS, err) ||
        add_count(&rp->cd_orders, v[SS_HS_ORDERS].i, SS_T_HOURLY_SALES, SS_HS_ORDERS, err))
        return SS_ERROR;
    if (add_count(&c->units, v[SS_HS_UNITS].i, SS_T_HOURLY_SALES, SS_HS_UNITS, err)) return SS_ERROR;
    return add_count(&rp->cd_units, v[SS_HS_UNITS].i, SS_T_HOURLY_SALES, SS_HS_UNITS, err);
}

static struct fday *funnel_day(struct ss_report *rp, int64_t day) {
    bool ins;
    uint32_t *ix = ss_u64map_put(&rp->day_ix, (uint64_t)day, &ins);
    if (ins) {
        SS_GROW(rp->fd, rp->fd_cap, rp->nfd + 1);
        rp->fd[rp->nfd] = (struct fday){.day = day};
        *ix = (uint32_t)rp->nfd++;
    }
    return &rp->fd[*ix];
}

static uint32_t intern_cached(struct dcache *c, uint32_t gen, struct ss_intern *t, const struct ss_val *v) {
    if (v->i <= 0) return ss_intern_get(t, vstr(v));
    size_t k = (size_t)(v->i - 1);
    if (k >= c->cap) {
        size_t old = c->cap, cap = c->cap;
        SS_GROW(c->stamp, cap, k + 1);
        c->id = ss_realloc(c->id, cap * sizeof *c->id);
        memset(c->stamp + old, 0, (cap - old) * sizeof *c->stamp);
        c->cap = cap;
    }
    if (c->stamp[k] != gen) {
        c->stamp[k] = gen;
        c->id[k] = ss_intern_get(t, vstr(v));
    }
    return c->id[k];
}

static uint64_t dayuser_key(int32_t day, uint32_t uid) { return (uint64_t)(uint32_t)day << 32 | uid; }

static int agg_event(struct ss_report *rp, const struct ss_val *v, struct ss_err *err) {
    struct ss_str type = vstr(&v[SS_EV_EVENT_TYPE]);
    int bit;
    if (type.len == 4 && memcmp(type.p, "view", 4) == 0) bit = 0;
    else if (type.len == 8 && memcmp(type.p, "cart_add", 8) == 0) bit = 1;
    else if (type.len == 8 && memcmp(type.p, "purchase", 8) == 0) bit = 2;
    else return SS_OK;  /* cart_remove: in no figure of the report */
    uint32_t pid = intern_cached(&rp->pcache, rp->gen, rp->prods, &v[SS_EV_PRODUCT_ID]);
    if (pid >= rp->pr_cap) {
        size_t old = rp->pr_cap;
        SS_GROW(rp->pr, rp->pr_cap, (size_t)pid + 1);
        memset(rp->pr + old, 0, (rp->pr_cap - old) * sizeof *rp->pr);
    }
    struct product *p = &rp->pr[pid];
    if (bit == 0) {
        p->views++;
    } else if (bit == 2) {
        int64_t amount = 0;
        if (!v[SS_EV_PRICE].null && ss_money_mul(v[SS_EV_PRICE].i, v[SS_EV_QUANTITY].i, &amount) != 0)
            return ss_err_set(err, SS_ERROR, "events: price x quantity of event %.*s overflows",
                              (int)v[SS_EV_EVENT_ID].len, v[SS_EV_EVENT_ID].s);
        p->revenue += amount;
        p->orders++;
        if (add_count(&p->units, v[SS_EV_QUANTITY].i, SS_T_EVENTS, SS_EV_QUANTITY, err)) return SS_ERROR;
    }
    uint32_t uid = intern_cached(&rp->ucache, rp->gen, rp->users, &v[SS_EV_USER_ID]);
    if (uid >= rp->us_cap) {
        size_t old = rp->us_cap;
        SS_GROW(rp->us, rp->us_cap, (size_t)uid + 1);
        memset(rp->us + old, 0, (rp->us_cap - old) * sizeof *rp->us);
    }
    struct ustate *u = &rp->us[uid];
    uint8_t m = (uint8_t)(1u << bit);
    if (!(u->all & m)) {
        u->all |= m;
        rp->all_users[bit]++;
    }
    int64_t day64 = ss_ts_floor(v[SS_EV_TS].i, DAY_MS) / DAY_MS;
    if (day64 < INT32_MIN || day64 > INT32_MAX)
        return ss_err_set(err, SS_ERROR, "events: ts %lld of event %.*s is out of range", (long long)v[SS_EV_TS].i,
                          (int)v[SS_EV_EVENT_ID].len, v[SS_EV_EVENT_ID].s);
    int32_t day = (int32_t)day64;
    if (!u->has_day || u->day != day) {
        bool ins;
        if (u->has_day) *ss_u64map_put(&rp->dayuser, dayuser_key(u->day, uid), &ins) = u->mask;
        const uint32_t *old = ss_u64map_get(&rp->dayuser, dayuser_key(day, uid));
        u->mask = old ? (uint8_t)*old : 0;
        u->day = day;
        u->has_day = 1;
    }
    if (!(u->mask & m)) {
        u->mask |= m;
        funnel_day(rp, day)->n[bit]++;
    }
    return SS_OK;
}

static void agg_session(struct ss_report *rp, const struct ss_val *v) {
    struct sgroup *g = &rp->sg[v[SS_SE_CONVERTED].i ? 1 : 0];
    g->n++;
    g->dur += v[SS_SE_DURATION_S].i;
    g->views += v[SS_SE_VIEWS].i;
    g->events += v[SS_SE_EVENTS].i;
    g->revenue += v[SS_SE_REVENUE].i;
}

/* A minute's row counts once: a later version of it (more records) replaces the
 * earlier one in the sums. */
static int agg_quality(struct ss_report *rp, const struct ss_val *v, struct ss_err *err) {
    bool ins;
    uint32_t *ix = ss_u64map_put(&rp->dq_ix, (uint64_t)v[SS_DQ_MINUTE_START].i, &ins);
    if (ins) {
        SS_GROW(rp->dq_min, rp->dq_cap, rp->ndq + 1);
        memset(rp->dq_min[rp->ndq], 0, sizeof rp->dq_min[rp->ndq]);
        *ix = (uint32_t)rp->ndq++;
    }
    int64_t *m = rp->dq_min[*ix];
    if (!ins && v[SS_DQ_TOTAL].i <= m[SS_DQ_TOTAL]) return SS_OK;
    for (int j = SS_DQ_TOTAL; j <= SS_DQ_DUPLICATES; j++) {
        rp->dq[j] -= m[j]; /* added before: cannot overflow */
        if (add_count(&rp->dq[j], v[j].i, SS_T_DATA_QUALITY, j, err)) return SS_ERROR;
        m[j] = v[j].i;
    }
    return SS_OK;
}

static int agg_rows(struct ss_report *rp, enum ss_table_id t, const struct ss_val *rows, size_t n,
                    struct ss_err *err) {
    size_t nc = (size_t)ss_tables[t].ncols;
    switch (t) {
    case SS_T_HOURLY_SALES:
        for (size_t i = 0; i < n; i++)
            if (agg_hourly(rp, rows + i * nc, err)) return SS_ERROR;
        break;
    case SS_T_EVENTS:
        for (size_t i = 0; i < n; i++) {
            int rc = agg_event(rp, rows + i * nc, err);
            if (rc) return rc;
        }
        break;
    case SS_T_SESSIONS:
        for (size_t i = 0; i < n; i++) agg_session(rp, rows + i * nc);
        break;
    case SS_T_DATA_QUALITY:
        for (size_t i = 0; i < n; i++)
            if (agg_quality(rp, rows + i * nc, err)) return SS_ERROR;
        break;
    case SS_T_DLQ:
        for (size_t i = 0; i < n; i++) counted_add(&rp->reasons, vstr(&rows[i * nc + SS_DL_REASON]));
        break;
    case SS_T_LATE:
        for (size_t i = 0; i < n; i++) counted_add(&rp->streams, vstr(&rows[i * nc + SS_LT_STREAM]));
        break;
    default: break;
    }
    return SS_OK;
}

static bool aggregated(enum ss_table_id t) {
    return t == SS_T_HOURLY_SALES || t == SS_T_EVENTS || t == SS_T_SESSIONS || t == SS_T_DATA_QUALITY ||
           t == SS_T_DLQ || t == SS_T_LATE;
}

static int read_file(struct ss_report *rp, enum ss_table_id t, const char *path, struct ss_err *err) {
    struct ss_pqr *r;
    int rc = ss_pqr_open(&r, path, &ss_tables[t], err);
    if (rc) return rc;
    /* rows as the footers declare them (each >= 0; a damaged one may say 2^62) */
    int64_t declared = ss_pqr_num_rows(r);
    if (__builtin_add_overflow(rp->trows[t], declared, &rp->trows[t]) ||
        (!aggregated(t) && __builtin_add_overflow(rp->st.rows, declared, &rp->st.rows))) {
        ss_pqr_close(r);
        return ss_err_set(err, SS_ERROR, "%s: its footer's %lld rows bring the lake's past 2^63 (a damaged file?)",
                          path, (long long)declared);
    }
    if (aggregated(t)) {
        const struct ss_val *rows;
        size_t n, group = SIZE_MAX;
        while ((rc = ss_pqr_next(r, &rows, &n, 0, err)) == SS_OK) {
            if (ss_pqr_row_group(r) != group) {  /* new dictionaries: cached ids are void */
                group = ss_pqr_row_group(r);
                rp->gen++;
            }
            if ((rc = agg_rows(rp, t, rows, n, err))) {
                ss_err_wrap(err, "%s", path);
                break;
            }
            rp->pg.rows += (int64_t)n;
            rp->st.rows += (int64_t)n;
            progress_show(&rp->pg, false);
        }
        if (rc == SS_EOF) rc = SS_OK;
    } else {
        rp->pg.rows += declared;  /* as st.rows, checked above */
    }
    ss_pqr_close(r);
    return rc;
}

/* ---- building the sections ------------------------------------------------------------ */

struct sortrec {
    int64_t a;                   /* primary key (asc) */
    money_sum b;                 /* secondary key (desc): a count or a money sum */
    struct ss_str s;
    uint32_t ix;
};

/* a asc, then b desc, then s asc */
static int cmp_rec(const void *x, const void *y) {
    const struct sortrec *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->b != q->b) return p->b > q->b ? -1 : 1;
    return ss_str_cmp(p->s, q->s);
}

static const char *const lake_cols[] = {"table", "files", "rows"};
static const uint8_t lake_types[] = {C_STR, C_INT, C_INT};
static const char *const cd_cols[] = {"day", "category", "revenue", "orders", "units"};
static const uint8_t cd_types[] = {C_STR, C_STR, C_MONEY, C_INT, C_INT};
static const char *const tp_cols[] = {"rank", "product_id", "revenue", "orders", "units", "views"};
static const uint8_t tp_types[] = {C_INT, C_STR, C_MONEY, C_INT, C_INT, C_INT};
static const char *const fn_cols[] = {"day", "viewers", "carters", "buyers", "view_to_cart", "cart_to_purchase"};
static const uint8_t fn_types[] = {C_STR, C_INT, C_INT, C_INT, C_DEC, C_DEC};
static const char *const sg_cols[] = {"group", "sessions", "share", "avg_duration_s", "avg_views", "avg_events",
                                      "revenue"};
static const uint8_t sg_types[] = {C_STR, C_INT, C_DEC, C_DEC, C_DEC, C_DEC, C_MONEY};
static const char *const ss_cols[] = {"sessions", "converted", "converted_share", "duration_ratio"};
static const uint8_t ss_types[] = {C_INT, C_INT, C_DEC, C_DEC};
static const char *const dq_cols[] = {"total",   "valid",      "invalid",    "malformed",     "missing_field",
                                      "unknown_type", "bad_ts", "bad_amount", "late",          "duplicates",
                                      "quality_score", "dlq_rows", "late_rows"};
static const uint8_t dq_types[] = {C_INT, C_INT, C_INT, C_INT, C_INT, C_INT, C_INT,
                                   C_INT, C_INT, C_INT, C_DEC, C_INT, C_INT};
static const char *const rs_cols[] = {"reason", "count"};
static const char *const st_cols[] = {"stream", "count"};
static const uint8_t nc_types[] = {C_STR, C_INT};

#define NCOLS(a) ((int)(sizeof a / sizeof a[0]))

static void build_lake(struct ss_report *rp) {
    struct section *s = &rp->s[S_LAKE];
    *s = (struct section){.key = "lake", .title = "Lake"};
    struct block *b = block_add(s, "tables", 0, 0, NCOLS(lake_cols), lake_cols, lake_types);
    for (int t = 0; t < SS_T_COUNT; t++) {
        if (ss_tables[t].flags & SS_TBL_STATE) continue;  /* recently_viewed: not in the lake */
        const char **r = row_add(b);
        r[0] = ss_tables[t].name;
        r[1] = cell_i(rp, rp->tfiles[t]);
        r[2] = cell_i(rp, rp->trows[t]);
    }
}

static void build_category(struct ss_report *rp) {
    struct section *s = &rp->s[S_CATEGORY];
    *s = (struct section){.key = "category_daily",
                          .title = "Revenue, orders and units per category per day (from hourly_sales)"};
    struct block *b = block_add(s, "rows", 0, 0, NCOLS(cd_cols), cd_cols, cd_types);
    struct sortrec *sr = ss_malloc((rp->ncd ? rp->ncd : 1) * sizeof *sr);
    money_sum rev = 0;
    for (size_t i = 0; i < rp->ncd; i++) {
        sr[i] = (struct sortrec){rp->cd[i].day, rp->cd[i].revenue, ss_intern_str(rp->cats, rp->cd[i].cat), (uint32_t)i};
        rev += rp->cd[i].revenue;
    }
    qsort(sr, rp->ncd, sizeof *sr, cmp_rec);
    for (size_t i = 0; i < rp->ncd; i++) {
        const struct catday *c = &rp->cd[sr[i].ix];
        const char **r = row_add(b);
        r[0] = cell_day(rp, c->day);
        r[1] = cell_s(rp, sr[i].s);
        r[2] = cell_money(rp, c->revenue);
        r[3] = cell_i(rp, c->orders);
        r[4] = cell_i(rp, c->units);
    }
    ss_free(sr);
    struct block *tb = block_add(s, "total", 1, 1, NCOLS(cd_cols), cd_cols, cd_types);
    const char **r = row_add(tb);
    r[0] = "all";
    r[1] = "all";
    r[2] = cell_money(rp, rev);
    r[3] = cell_i(rp, rp->cd_orders);
    r[4] = cell_i(rp, rp->cd_units);
}

static void build_top(struct ss_report *rp, int which) {
    struct section *s = &rp->s[which];
    int by_views = which == S_TOP_VIEWS;
    *s = (struct section){.key = by_views ? "top_products_by_views" : "top_products_by_revenue",
                          .title = by_views ? "Top products by views (from events)"
                                            : "Top products by revenue (from events)"};
    struct block *b = block_add(s, "rows", 0, 0, NCOLS(tp_cols), tp_cols, tp_types);
    size_t np = rp->pr_cap, n = 0;  /* ids are dense from 1: nothing is ever swept */
    struct sortrec *sr = ss_malloc((np ? np : 1) * sizeof *sr);
    for (size_t id = 1; id < np; id++) {
        const struct product *p = &rp->pr[id];
        if (by_views ? p->views == 0 : p->orders == 0) continue;
        sr[n++] = (struct sortrec){0, by_views ? p->views : p->revenue, ss_intern_str(rp->prods, (uint32_t)id),
                                   (uint32_t)id};
    }
    qsort(sr, n, sizeof *sr, cmp_rec);
    size_t top = (size_t)(rp->o.top > 0 ? rp->o.top : 10);
    for (size_t i = 0; i < n && i < top; i++) {
        const struct product *p = &rp->pr[sr[i].ix];
        const char **r = row_add(b);
        r[0] = cell_i(rp, (int64_t)i + 1);
        r[1] = cell_s(rp, sr[i].s);
        r[2] = cell_money(rp, p->revenue);
        r[3] = cell_i(rp, p->orders);
        r[4] = cell_i(rp, p->units);
        r[5] = cell_i(rp, p->views);
    }
    ss_free(sr);
}

static void funnel_row(struct ss_report *rp, const char **r, const int64_t n[3]) {
    r[1] = cell_i(rp, n[0]);
    r[2] = cell_i(rp, n[1]);
    r[3] = cell_i(rp, n[2]);
    r[4] = cell_frac(rp, (unsigned __int128)n[1], (unsigned __int128)n[0], 4);
    r[5] = cell_frac(rp, (unsigned __int128)n[2], (unsigned __int128)n[1], 4);
}

static void build_funnel(struct ss_report *rp) {
    struct section *s = &rp->s[S_FUNNEL];
    *s = (struct section){.key = "funnel", .title = "Funnel conversion per day: distinct users (from events)"};
    struct block *b = block_add(s, "days", 0, 0, NCOLS(fn_cols), fn_cols, fn_types);
    struct sortrec *sr = ss_malloc((rp->nfd ? rp->nfd : 1) * sizeof *sr);
    for (size_t i = 0; i < rp->nfd; i++) sr[i] = (struct sortrec){rp->fd[i].day, 0, {"", 0}, (uint32_t)i};
    qsort(sr, rp->nfd, sizeof *sr, cmp_rec);
    for (size_t i = 0; i < rp->nfd; i++) {
        const struct fday *f = &rp->fd[sr[i].ix];
        const char **r = row_add(b);
        r[0] = cell_day(rp, f->day);
        funnel_row(rp, r, f->n);
    }
    ss_free(sr);
    struct block *ob = block_add(s, "overall", 1, 1, NCOLS(fn_cols), fn_cols, fn_types);
    const char **r = row_add(ob);
    r[0] = "all";
    funnel_row(rp, r, rp->all_users);
}

static void session_row(struct ss_report *rp, const char **r, const char *name, const struct sgroup *g, int64_t all) {
    r[0] = name;
    r[1] = cell_i(rp, g->n);
    r[2] = cell_frac(rp, (unsigned __int128)g->n, (unsigned __int128)all, 4);
    r[3] = cell_frac(rp, (unsigned __int128)g->dur, (unsigned __int128)g->n, 2);
    r[4] = cell_frac(rp, (unsigned __int128)g->views, (unsigned __int128)g->n, 2);
    r[5] = cell_frac(rp, (unsigned __int128)g->events, (unsigned __int128)g->n, 2);
    r[6] = cell_money(rp, g->revenue);
}

static void build_sessions(struct ss_report *rp) {
    struct section *s = &rp->s[S_SESSIONS];
    *s = (struct section){.key = "sessions", .title = "Sessions: converters versus non-converters (from sessions)"};
    struct block *b = block_add(s, "groups", 0, 0, NCOLS(sg_cols), sg_cols, sg_types);
    const struct sgroup *c = &rp->sg[1], *nc = &rp->sg[0];
    struct sgroup all = {c->n + nc->n, c->dur + nc->dur, c->views + nc->views, c->events + nc->events,
                         c->revenue + nc->revenue};
    session_row(rp, row_add(b), "converters", c, all.n);
    session_row(rp, row_add(b), "non_converters", nc, all.n);
    session_row(rp, row_add(b), "all", &all, all.n);
    struct block *sb = block_add(s, "summary", 1, 0, NCOLS(ss_cols), ss_cols, ss_types);
    const char **r = row_add(sb);
    r[0] = cell_i(rp, all.n);
    r[1] = cell_i(rp, c->n);
    r[2] = cell_frac(rp, (unsigned __int128)c->n, (unsigned __int128)all.n, 4);
    /* (Σdur_c / n_c) / (Σdur_n / n_n) = Σdur_c·n_n / (Σdur_n·n_c), exactly */
    r[3] = c->n ? cell_frac(rp, (unsigned __int128)c->dur * (unsigned __int128)nc->n,
                            (unsigned __int128)nc->dur * (unsigned __int128)c->n, 2)
                : NULL;
}

static void counted_block(struct ss_report *rp, struct section *s, const char *name, const char *const *cols,
                          const struct counted *c) {
    struct block *b = block_add(s, name, 0, 0, 2, cols, nc_types);
    size_t n = 0, cap = c->cap;
    struct sortrec *sr = ss_malloc((cap ? cap : 1) * sizeof *sr);
    for (size_t id = 1; id < cap; id++)
        if (c->n[id]) sr[n++] = (struct sortrec){0, c->n[id], ss_intern_str(c->names, (uint32_t)id), (uint32_t)id};
    qsort(sr, n, sizeof *sr, cmp_rec);
    for (size_t i = 0; i < n; i++) {
        const char **r = row_add(b);
        r[0] = cell_s(rp, sr[i].s);
        r[1] = cell_i(rp, sr[i].b);
    }
    ss_free(sr);
}

static void build_quality(struct ss_report *rp) {
    struct section *s = &rp->s[S_QUALITY];
    *s = (struct section){.key = "data_quality", .title = "Data quality (from data_quality, dlq, late)"};
    struct block *b = block_add(s, "totals", 1, 0, NCOLS(dq_cols), dq_cols, dq_types);
    const char **r = row_add(b);
    const int64_t *q = rp->dq;
    r[0] = cell_i(rp, q[SS_DQ_TOTAL]);
    r[1] = cell_i(rp, q[SS_DQ_VALID]);
    r[2] = cell_i(rp, q[SS_DQ_TOTAL] - q[SS_DQ_VALID]);
    r[3] = cell_i(rp, q[SS_DQ_MALFORMED]);
    r[4] = cell_i(rp, q[SS_DQ_MISSING_FIELD]);
    r[5] = cell_i(rp, q[SS_DQ_UNKNOWN_TYPE]);
    r[6] = cell_i(rp, q[SS_DQ_BAD_TS]);
    r[7] = cell_i(rp, q[SS_DQ_BAD_AMOUNT]);
    r[8] = cell_i(rp, q[SS_DQ_LATE]);
    r[9] = cell_i(rp, q[SS_DQ_DUPLICATES]);
    r[10] = cell_frac(rp, (unsigned __int128)q[SS_DQ_VALID], (unsigned __int128)q[SS_DQ_TOTAL], 4);
    r[11] = cell_i(rp, rp->trows[SS_T_DLQ]);
    r[12] = cell_i(rp, rp->trows[SS_T_LATE]);
    counted_block(rp, s, "invalid_by_reason", rs_cols, &rp->reasons);
    counted_block(rp, s, "late_by_stream", st_cols, &rp->streams);
}

/* ---- API: build ------------------------------------------------------------------------ */

int ss_report_build(struct ss_report **out, const struct ss_report_opts *o, struct ss_err *err) {
    *out = NULL;
    struct stat st;
    if (stat(o->lake, &st) != 0)
        return ss_err_set(err, SS_EIO, "lake directory %s: %s", o->lake, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return ss_err_set(err, SS_EIO, "lake %s is not a directory", o->lake);
    struct ss_report *rp = ss_calloc(1, sizeof *rp);
    rp->o = *o;
    ss_arena_init(&rp->arena, 64 * 1024);
    rp->cats = ss_intern_new();
    rp->prods = ss_intern_new();
    rp->users = ss_intern_new();
    rp->reasons.names = ss_intern_new();
    rp->streams.names = ss_intern_new();
    ss_u64map_init(&rp->catday_ix);
    ss_u64map_init(&rp->day_ix);
    ss_u64map_init(&rp->dq_ix);
    ss_u64map_init(&rp->dayuser);
    rp->pg = (struct progress){.on = o->progress, .f = o->progress_to ? o->progress_to : stderr};

    struct files fl[SS_T_COUNT];
    memset(fl, 0, sizeof fl);
    int rc = SS_OK, tables_found = 0;
    for (int t = 0; t < SS_T_COUNT && !rc; t++) {
        if (ss_tables[t].flags & SS_TBL_STATE) continue;
        char dir[PATH_MAX];
        if (snprintf(dir, sizeof dir, "%s/%s", o->lake, ss_tables[t].name) >= (int)sizeof dir) {
            rc = ss_err_set(err, SS_EIO, "lake path too long: %s", o->lake);
            break;
        }
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) tables_found++;
        rc = list_files(dir, &fl[t], 0, err);
        if (!rc && fl[t].n) qsort(fl[t].p, fl[t].n, sizeof *fl[t].p, cmp_str); /* p is NULL when there are none */
        rp->tfiles[t] = (int64_t)fl[t].n;
        rp->pg.files_total += (int64_t)fl[t].n;
    }
    if (!rc && tables_found == 0)
        rc = ss_err_set(err, SS_EIO, "%s holds no lake tables (expected directories such as %s/events/, written by --sink parquet:%s)",
                        o->lake, o->lake, o->lake);
    rp->pg.t0 = rp->pg.last = now_ns();
    int64_t t0 = rp->pg.t0;
    for (int t = 0; t < SS_T_COUNT && !rc; t++) {
        int64_t te = now_ns();
        for (size_t i = 0; i < fl[t].n && !rc; i++) {
            rc = read_file(rp, (enum ss_table_id)t, fl[t].p[i], err);
            rp->pg.files_done++;
            rp->st.files++;
        }
        if (t == SS_T_EVENTS) {
            rp->st.event_ns = now_ns() - te;
            rp->st.event_rows = rp->trows[t];
        }
    }
    rp->st.read_ns = now_ns() - t0;
    for (int t = 0; t < SS_T_COUNT; t++) files_free(&fl[t]);
    if (rp->pg.on && rp->pg.files_total > 0) progress_show(&rp->pg, true);
    if (rc) {
        ss_report_free(rp);
        return rc;
    }
    build_lake(rp);
    build_category(rp);
    build_top(rp, S_TOP_REVENUE);
    build_top(rp, S_TOP_VIEWS);
    build_funnel(rp);
    build_sessions(rp);
    build_quality(rp);
    *out = rp;
    return SS_OK;
}

const struct ss_report_stats *ss_report_stats(const struct ss_report *rp) { return &rp->st; }

void ss_report_free(struct ss_report *rp) {
    if (!rp) return;
    for (int i = 0; i < S_COUNT; i++)
        for (int k = 0; k < rp->s[i].nb; k++) ss_free(rp->s[i].b[k].cells);
    ss_arena_free(&rp->arena);
    ss_intern_free(rp->cats);
    ss_intern_free(rp->prods);
    ss_intern_free(rp->users);
    ss_intern_free(rp->reasons.names);
    ss_intern_free(rp->streams.names);
    ss_free(rp->reasons.n);
    ss_free(rp->streams.n);
    ss_u64map_free(&rp->catday_ix);
    ss_u64map_free(&rp->day_ix);
    ss_u64map_free(&rp->dq_ix);
    ss_free(rp->dq_min);
    ss_u64map_free(&rp->dayuser);
    ss_free(rp->cd);
    ss_free(rp->pr);
    ss_free(rp->us);
    ss_free(rp->pcache.stamp);
    ss_free(rp->pcache.id);
    ss_free(rp->ucache.stamp);
    ss_free(rp->ucache.id);
    ss_free(rp->fd);
    ss_free(rp);
}

/* ---- API: output ---------------------------------------------------------------------- */

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p == '\r') fputs("\\r", f);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

static void json_cell(FILE *f, const char *v, int type) {
    if (!v) fputs("null", f);
    else if (type == C_STR || type == C_MONEY) json_str(f, v);
    else fputs(v, f);
}

static void json_row(FILE *f, const struct block *b, size_t row) {
    fputc('{', f);
    for (int j = 0; j < b->ncols; j++) {
        if (j) fputs(", ", f);
        json_str(f, b->cols[j]);
        fputs(": ", f);
        json_cell(f, b->cells[row * (size_t)b->ncols + (size_t)j], b->types[j]);
    }
    fputc('}', f);
}

static void write_json(const struct ss_report *rp, FILE *f) {
    fputs("{\n", f);
    for (int i = 0; i < S_COUNT; i++) {
        const struct section *s = &rp->s[i];
        fprintf(f, "  ");
        json_str(f, s->key);
        fputs(": {\n", f);
        for (int k = 0; k < s->nb; k++) {
            const struct block *b = &s->b[k];
            fputs("    ", f);
            json_str(f, b->name);
            fputs(": ", f);
            if (b->single) {
                json_row(f, b, 0);
            } else {
                fputs("[", f);
                for (size_t r = 0; r < b->nrows; r++) {
                    fputs(r ? ",\n      " : "\n      ", f);
                    json_row(f, b, r);
                }
                fputs(b->nrows ? "\n    ]" : "]", f);
            }
            fputs(k + 1 < s->nb ? ",\n" : "\n", f);
        }
        fputs(i + 1 < S_COUNT ? "  },\n" : "  }\n", f);
    }
    fputs("}\n", f);
}

static void csv_cell(FILE *f, const char *v) {
    if (!v) return;
    if (!strpbrk(v, ",\"\r\n") && v[0] != ' ' && (v[0] == '\0' || v[strlen(v) - 1] != ' ')) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (const char *p = v; *p; p++) {
        if (*p == '"') fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

static void write_csv(const struct ss_report *rp, FILE *f) {
    int first = 1;
    for (int i = 0; i < S_COUNT; i++) {
        const struct section *s = &rp->s[i];
        for (int k = 0; k < s->nb; k++) {
            const struct block *b = &s->b[k];
            if (!first) fputc('\n', f);
            first = 0;
            char name[128];
            snprintf(name, sizeof name, "%s.%s", s->key, b->name);
            fputs("section", f);
            for (int j = 0; j < b->ncols; j++) fprintf(f, ",%s", b->cols[j]);
            fputc('\n', f);
            for (size_t r = 0; r < b->nrows; r++) {
                fputs(name, f);
                for (int j = 0; j < b->ncols; j++) {
                    fputc(',', f);
                    csv_cell(f, b->cells[r * (size_t)b->ncols + (size_t)j]);
                }
                fputc('\n', f);
            }
        }
    }
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t width(const char *s) {
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) w += (*p & 0xc0) != 0x80;
    return w;
}

static void pad(FILE *f, size_t n) {
    while (n--) fputc(' ', f);
}

static void write_table(const struct ss_report *rp, FILE *f) {
    for (int i = 0; i < S_COUNT; i++) {
        const struct section *s = &rp->s[i];
        fprintf(f, "%s%s\n", i ? "\n" : "", s->title);
        size_t tl = width(s->title);
        for (size_t k = 0; k < tl; k++) fputc('=', f);
        fputc('\n', f);
        for (int k = 0; k < s->nb; k++) {
            const struct block *b = &s->b[k];
            if (b->merge) continue;  /* printed with the block before */
            const struct block *m = k + 1 < s->nb && s->b[k + 1].merge ? &s->b[k + 1] : NULL;
            if (k > 0) fprintf(f, "\n%s\n", b->name);
            if (b->single) {
                /* vertical: name  value */
                size_t kw = 0, vw = 0;
                for (int j = 0; j < b->ncols; j++) {
                    const char *v = b->cells[j] ? b->cells[j] : "-";
                    if (width(b->cols[j]) > kw) kw = width(b->cols[j]);
                    if (width(v) > vw) vw = width(v);
                }
                for (int j = 0; j < b->ncols; j++) {
                    const char *v = b->cells[j] ? b->cells[j] : "-";
                    fprintf(f, "  %s", b->cols[j]);
                    pad(f, kw - width(b->cols[j]) + 2);
                    if (b->types[j] != C_STR) pad(f, vw - width(v));
                    fprintf(f, "%s\n", v);
                }
                continue;
            }
            size_t w[16] = {0};
            ss_assert(b->ncols <= 16);
            for (int j = 0; j < b->ncols; j++) w[j] = width(b->cols[j]);
            for (int pass = 0; pass < 2; pass++) {
                const struct block *x = pass ? m : b;
                for (size_t r = 0; x && r < x->nrows; r++)
                    for (int j = 0; j < b->ncols; j++) {
                        const char *v = x->cells[r * (size_t)b->ncols + (size_t)j];
                        size_t vw = width(v ? v : "-");
                        if (vw > w[j]) w[j] = vw;
                    }
            }
            size_t total = 0;
            for (int j = 0; j < b->ncols; j++) total += w[j] + (j ? 2 : 0);
            /* header */
            for (int j = 0; j < b->ncols; j++) {
                size_t cw = width(b->cols[j]);
                if (j) pad(f, 2);
                if (b->types[j] != C_STR) pad(f, w[j] - cw);
                fputs(b->cols[j], f);
                if (b->types[j] == C_STR && j + 1 < b->ncols) pad(f, w[j] - cw);
            }
            fputc('\n', f);
            for (size_t k2 = 0; k2 < total; k2++) fputc('-', f);
            fputc('\n', f);
            for (int pass = 0; pass < 2; pass++) {
                const struct block *x = pass ? m : b;
                if (!x) continue;
                if (pass) {
                    for (size_t k2 = 0; k2 < total; k2++) fputc('-', f);
                    fputc('\n', f);
                }
                for (size_t r = 0; r < x->nrows; r++) {
                    for (int j = 0; j < b->ncols; j++) {
                        const char *v = x->cells[r * (size_t)b->ncols + (size_t)j];
                        if (!v) v = "-";
                        size_t cw = width(v);
                        if (j) pad(f, 2);
                        if (b->types[j] != C_STR) pad(f, w[j] - cw);
                        fputs(v, f);
                        if (b->types[j] == C_STR && j + 1 < b->ncols) pad(f, w[j] - cw);
                    }
                    fputc('\n', f);
                }
            }
            if (!b->nrows && !m) fputs("(no rows)\n", f);
        }
    }
}

int ss_report_write(const struct ss_report *rp, enum ss_report_format fmt, FILE *f, struct ss_err *err) {
    switch (fmt) {
    case SS_REPORT_JSON: write_json(rp, f); break;
    case SS_REPORT_CSV: write_csv(rp, f); break;
    default: write_table(rp, f); break;
    }
    if (fflush(f) != 0 || ferror(f)) return ss_err_set(err, SS_EIO, "cannot write the report: %s", strerror(errno));
    return SS_OK;
}
