/* test_savepoint.c — savepoints end to end in one process (engine.c, savepoint.c): a run
 * stopped and resumed from its savepoint writes the rows one uninterrupted run writes.
 *
 * Generated clicks (every kind of defect) on two partitions and promotions on one, each
 * an input of fake sources (fake_source.h) that hand out one fixed interleaving of the
 * records. Run A reads it all. Run B stops (as SIGTERM does) after k records and writes
 * its savepoint; run C loads it, its sources start where the savepoint says (start_at)
 * and it reads the rest. Every table of A must equal B's rows plus C's, row for row
 * (recently_viewed: each user's last list; data_quality counts processing-time
 * minutes, so it is left out). Then the file's damage and misfit checks. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/config.h"
#include "engine/engine.h"
#include "engine/savepoint.h"
#include "fake_source.h"
#include "harness.h"
#include "core/hash.h"
#include "source/generator.h"

#define NPARTS 2
#define BATCH 50

struct line {
    char *data;
    size_t len;
    int32_t partition;
    int64_t offset;
};

struct src {
    struct fake_source fs;
    const char *name;
    int nparts;
    struct ss_engine *e;
    const struct line *lines;   /* in the one order every run hands them out in */
    size_t n, next;             /* lines[next] is the next one to hand out */
    int64_t start[NPARTS];      /* from start_at: a partition's lines below it are skipped */
    int stop_after;             /* ss_engine_stop with this source's stop_after-th batch (0: never) */
    int batches;
    struct src *other;          /* assigned along with this one, as when both groups assign at once */
    bool assigned;
};

static int fail_at; /* the clicks' poll after this many batches fails (0: never) */
/* ... once this file exists: until then it hands out nothing, so that a periodic savepoint
 * that a forked child writes (bgsave.h) can be published before the failure */
static const char *fail_once;

static void assign(struct src *s) {
    if (s->assigned) return;
    s->assigned = true;
    s->fs.hooks.assigned(s->fs.hooks.ctx, &s->fs.base, (const int32_t[]){0, 1}, s->nparts);
}

static int src_poll(struct ss_source *base, struct ss_record *recs, int max, int timeout_ms, struct ss_err *err) {
    (void)timeout_ms;
    (void)err;
    struct src *s = (struct src *)base;
    assign(s);
    assign(s->other);
    while (s->next < s->n && s->lines[s->next].offset < s->start[s->lines[s->next].partition]) s->next++;
    if (s->next == s->n) return SS_EOF;
    if (fail_at && s->nparts == NPARTS && s->batches == fail_at) {
        static int waited_ms;
        if (fail_once && access(fail_once, F_OK) != 0 && waited_ms < 30000) {
            usleep(1000);
            waited_ms++;
            return 0;
        }
        waited_ms = 0;
        return ss_err_set(err, SS_EIO, "the broker went away");
    }
    /* batches of BATCH lines, the skipped ones counted: a resumed run's batches are
     * those of the uninterrupted one from the stop on, so the engine sees the two
     * inputs interleaved alike */
    int n = 0;
    for (int k = 0; k < BATCH && k < max && s->next < s->n; k++) {
        const struct line *l = &s->lines[s->next++];
        if (l->offset < s->start[l->partition]) {
            k--;
            continue;
        }
        recs[n++] = (struct ss_record){.data = l->data, .len = l->len, .partition = l->partition, .offset = l->offset};
    }
    if (n && ++s->batches == s->stop_after) ss_engine_stop(s->e); /* this batch is processed, then the run stops */
    return n;
}

static int started_committed = -1; /* start_at's `committed` (-1: not called) */
static int started_tagged = -1;    /* ... and its `tagged` */
static char writer[2][100];        /* set_writer's, for the promotions and the clicks input ("": not called) */

static void src_start_at(struct ss_source *base, const int32_t *parts, const int64_t *offs, int n, bool committed,
                         bool tagged) {
    struct src *s = (struct src *)base;
    started_committed = committed;
    started_tagged = tagged;
    for (int i = 0; i < n; i++) {
        CHECK(parts[i] >= 0 && parts[i] < s->nparts);
        s->start[parts[i]] = offs[i];
    }
}

static const char *src_name(const struct ss_source *base) { return ((const struct src *)base)->name; }

static void src_set_writer(struct ss_source *base, const char *w) {
    struct src *s = (struct src *)base;
    snprintf(writer[s->nparts == 1 ? 0 : 1], sizeof writer[0], "%s", w);
}

/* The writer the last run's inputs tagged their commits with: both the same, or "". */
static const char *last_writer(void) {
    CHECK_EQ_STR(writer[0], writer[1]);
    return writer[1];
}

static struct ss_source_type src_type;

/* ---- the data ------------------------------------------------------------------------ */

struct feed {
    struct line *clicks, *promos;
    size_t nclicks, npromos;
};

static void feed_make(struct feed *f, int64_t events, uint64_t seed) {
    memset(f, 0, sizeof *f);
    struct ss_gen_opts o;
    ss_gen_opts_init(&o);
    o.seed = seed;
    o.events = events;
    o.rate = 4; /* 30 000 records span two hours: sessions and hourly windows close mid-run */
    o.users = 3000;
    o.products = 400;
    o.p_duplicate = 0.02;
    o.p_late = 0.02;
    o.p_reorder = 0.05;
    o.p_invalid = 0.02;
    o.streams = 1u << SS_STREAM_CLICKS | 1u << SS_STREAM_PROMOTIONS;
    struct ss_gen *g;
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_gen_new(&g, &o, &err), SS_OK);
    struct ss_gen_record r;
    int64_t next[NPARTS + 1] = {0};
    while (ss_gen_next(g, &r) == SS_OK) {
        bool promo = r.stream == SS_STREAM_PROMOTIONS;
        struct line **v = promo ? &f->promos : &f->clicks;
        size_t *n = promo ? &f->npromos : &f->nclicks;
        *v = ss_realloc(*v, (*n + 1) * sizeof **v);
        int32_t p = promo ? 0 : (int32_t)(XXH64(r.key, r.key_len, 0) % NPARTS);
        struct line *l = &(*v)[(*n)++];
        l->data = ss_malloc(r.len ? r.len : 1);
        memcpy(l->data, r.data, r.len);
        l->len = r.len;
        l->partition = p;
        l->offset = promo ? next[NPARTS]++ : next[p]++;
    }
    ss_gen_free(g);
}

static void feed_free(struct feed *f) {
    for (size_t i = 0; i < f->nclicks; i++) ss_free(f->clicks[i].data);
    for (size_t i = 0; i < f->npromos; i++) ss_free(f->promos[i].data);
    ss_free(f->clicks);
    ss_free(f->promos);
}

/* ---- runs ---------------------------------------------------------------------------- */

static const char *const SETS[] = {"lateness", "10m", "epoch.events", "300", NULL};

/* Runs the feed into jsonl:dir with savepoint.path sp (NULL: none), stopping with the
 * clicks' stop_after-th batch (0: at the end). Returns the run's result. */
static int run(const struct feed *f, const char *dir, const char *sp, int stop_after, const char *const *extra,
               struct ss_err *err) {
    src_type = (struct ss_source_type)FAKE_SOURCE_TYPE(src_poll);
    src_type.name_of = src_name;
    src_type.start_at = src_start_at;
    src_type.set_writer = src_set_writer;
    writer[0][0] = writer[1][0] = '\0';
    struct ss_config cfg;
    ss_config_init(&cfg);
    for (int i = 0; SETS[i]; i += 2) CHECK_EQ_INT(ss_config_set(&cfg, SETS[i], SETS[i + 1], err), SS_OK);
    for (int i = 0; extra && extra[i]; i += 2) CHECK_EQ_INT(ss_config_set(&cfg, extra[i], extra[i + 1], err), SS_OK);
    if (sp) CHECK_EQ_INT(ss_config_set(&cfg, "savepoint.path", sp, err), SS_OK);
    struct ss_engine *e = NULL;
    CHECK_EQ_INT(ss_engine_open(&e, &cfg, err), SS_OK);
    char url[600];
    snprintf(url, sizeof url, "jsonl:%s", dir);
    CHECK_EQ_INT(ss_engine_add_sink(e, url, err), SS_OK);
    struct src promos = {.name = "promos", .nparts = 1, .e = e, .lines = f->promos, .n = f->npromos};
    struct src clicks = {.name = "clicks", .nparts = NPARTS, .e = e, .lines = f->clicks, .n = f->nclicks,
                         .stop_after = stop_after};
    promos.other = &clicks;
    clicks.other = &promos;
    struct ss_input_spec ps = {.stream = SS_STREAM_PROMOTIONS, .url = "fake-promos", .format = SS_FMT_JSON};
    struct ss_input_spec cs = {.stream = SS_STREAM_CLICKS, .url = "fake-clicks", .format = SS_FMT_JSON};
    for (struct src *s = &promos; s; s = s == &promos ? &clicks : NULL) {
        s->fs.base.type = &src_type;
        s->fs.committed[0] = s->fs.committed[1] = -1;
    }
    CHECK_EQ_INT(ss_engine_add_source(e, &promos.fs.base, &ps, err), SS_OK);
    CHECK_EQ_INT(ss_engine_add_source(e, &clicks.fs.base, &cs, err), SS_OK);
    int rc = ss_engine_run(e, err);
    ss_engine_close(e);
    ss_config_free(&cfg);
    return rc;
}

/* ---- comparing ------------------------------------------------------------------------ */

struct rows {
    char **v;
    size_t n;
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Appends the lines of dir/table.jsonl (none when it does not exist). */
static void rows_read(struct rows *r, const char *dir, const char *table) {
    char path[700];
    snprintf(path, sizeof path, "%s/%s.jsonl", dir, table);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        r->v = ss_realloc(r->v, (r->n + 1) * sizeof *r->v);
        r->v[r->n++] = ss_strdup(line);
    }
    free(line);
    fclose(f);
}

static void rows_free(struct rows *r) {
    for (size_t i = 0; i < r->n; i++) ss_free(r->v[i]);
    ss_free(r->v);
    memset(r, 0, sizeof *r);
}

/* recently_viewed: a row per change; what counts is each user's last one. */
static void keep_last_per_user(struct rows *r) {
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        const char *u = strstr(r->v[i], "\"user_id\":");
        CHECK(u != NULL);
        size_t ulen = strcspn(u + 10, ",}");
        bool later = false;
        for (size_t j = i + 1; j < r->n && !later; j++) {
            const char *w = strstr(r->v[j], "\"user_id\":");
            later = w && strcspn(w + 10, ",}") == ulen && memcmp(u + 10, w + 10, ulen) == 0;
        }
        if (later) ss_free(r->v[i]);
        else r->v[k++] = r->v[i];
    }
    r->n = k;
}

/* late rows without their watermark column, which a changed lateness moves */
static bool late_without_watermark;

static void drop_watermark(struct rows *r) {
    for (size_t i = 0; i < r->n; i++) {
        char *w = strstr(r->v[i], ",\"watermark\":\"");
        char *end = w ? strchr(w + 14, '"') : NULL;
        CHECK(end != NULL);
        if (end) memmove(w, end + 1, strlen(end + 1) + 1);
    }
}

static const char *const TABLES[] = {"category_revenue", "hourly_sales", "trending_products", "funnel",
                                     "sessions", "promo_matches", "alerts", "dlq", "late", "recently_viewed"};

static size_t uniq(struct rows *r) {
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (k && strcmp(r->v[k - 1], r->v[i]) == 0) ss_free(r->v[i]);
        else r->v[k++] = r->v[i];
    }
    return r->n = k;
}

/* Every table of dir a equals the rows of the dirs in parts (NULL-ended) together,
 * as lists or, with as_set, as sets (a replay writes some rows twice); returns the
 * rows compared. */
static size_t check_same(const char *a, const char *const *parts, bool as_set) {
    size_t total = 0;
    for (size_t t = 0; t < sizeof TABLES / sizeof *TABLES; t++) {
        struct rows ra = {0}, rb = {0};
        rows_read(&ra, a, TABLES[t]);
        for (int i = 0; parts[i]; i++) rows_read(&rb, parts[i], TABLES[t]);
        if (!strcmp(TABLES[t], "late") && late_without_watermark) {
            drop_watermark(&ra);
            drop_watermark(&rb);
        }
        if (!strcmp(TABLES[t], "recently_viewed")) {
            keep_last_per_user(&ra);
            keep_last_per_user(&rb);
        }
        qsort(ra.v, ra.n, sizeof *ra.v, cmp_str);
        qsort(rb.v, rb.n, sizeof *rb.v, cmp_str);
        if (as_set) {
            uniq(&ra);
            uniq(&rb);
        }
        if (ra.n != rb.n) fprintf(stderr, "%s: %zu rows uninterrupted, %zu resumed\n", TABLES[t], ra.n, rb.n);
        CHECK_EQ_INT(ra.n, rb.n);
        size_t shown = 0;
        for (size_t i = 0; i < ra.n && i < rb.n; i++)
            if (strcmp(ra.v[i], rb.v[i]) != 0 && shown++ < 3)
                fprintf(stderr, "%s differs:\n  uninterrupted %s  resumed       %s", TABLES[t], ra.v[i], rb.v[i]);
        CHECK_EQ_INT(shown, 0);
        /* every table has rows: the data reaches each operator */
        if (strcmp(TABLES[t], "late") != 0) CHECK(ra.n > 0);
        total += ra.n;
        rows_free(&ra);
        rows_free(&rb);
    }
    return total;
}

static char *tmpdir(void) {
    char tpl[] = "/tmp/ss_savepoint_XXXXXX";
    CHECK(mkdtemp(tpl) != NULL);
    return ss_strdup(tpl);
}

static void rm_rf(const char *dir) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- tests ------------------------------------------------------------------------------ */

/* Stopped at several points (early, with windows, sessions and lists open; late), each
 * resumed run writes what the uninterrupted one did. */
TEST(resumed_runs_write_the_uninterrupted_rows) {
    char seen_writer[100] = "";
    struct feed f;
    feed_make(&f, 30000, 11);
    char *root = tmpdir(), a[600], sp[600];
    snprintf(a, sizeof a, "%s/a", root);
    snprintf(sp, sizeof sp, "%s/state/savepoint", root);
    struct ss_err err = {0};
    CHECK_EQ_INT(run(&f, a, NULL, 0, NULL, &err), SS_OK);
    CHECK_EQ_STR(last_writer(), ""); /* no savepoint.path: commits untagged */
    size_t nbatches = f.nclicks / BATCH;
    const int stops[] = {3, (int)nbatches / 3, (int)nbatches / 2 + 7, (int)nbatches - 2};
    for (size_t k = 0; k < sizeof stops / sizeof *stops; k++) {
        char b[600], c[600];
        snprintf(b, sizeof b, "%s/b%zu", root, k);
        snprintf(c, sizeof c, "%s/c%zu", root, k);
        CHECK_EQ_INT(run(&f, b, sp, stops[k], NULL, &err), SS_OK);
        CHECK(exists(sp)); /* the stop wrote it */
        char wb[100];
        snprintf(wb, sizeof wb, "%s", last_writer());
        CHECK(strncmp(wb, "shopstream savepoint.lineage=", 29) == 0 && strlen(wb) == 29 + 16);
        CHECK(strcmp(wb, seen_writer) != 0); /* each run without a savepoint starts a lineage of its own */
        snprintf(seen_writer, sizeof seen_writer, "%s", wb);
        started_committed = started_tagged = -1;
        CHECK_EQ_INT(run(&f, c, sp, 0, NULL, &err), SS_OK);
        CHECK_EQ_INT(started_committed, 1); /* a stop's savepoint: its positions were committed */
        CHECK_EQ_INT(started_tagged, 1);    /* ... and the commits since are told apart by their tag */
        CHECK_EQ_STR(last_writer(), wb);    /* which is the savepoint's lineage */
        CHECK(!exists(sp)); /* the end of the input closed everything: nothing to carry over */
        size_t rows = check_same(a, (const char *const[]){b, c, NULL}, false);
        CHECK(rows > 1000);
    }
    /* resumed twice */
    char b[600], c[600], d[600];
    snprintf(b, sizeof b, "%s/twice-b", root);
    snprintf(c, sizeof c, "%s/twice-c", root);
    snprintf(d, sizeof d, "%s/twice-d", root);
    CHECK_EQ_INT(run(&f, b, sp, (int)nbatches / 4, NULL, &err), SS_OK);
    char wb[100];
    snprintf(wb, sizeof wb, "%s", last_writer());
    CHECK_EQ_INT(run(&f, c, sp, (int)nbatches / 3, NULL, &err), SS_OK); /* counts this run's batches */
    CHECK_EQ_STR(last_writer(), wb); /* the lineage goes on through every savepoint */
    CHECK_EQ_INT(run(&f, d, sp, 0, NULL, &err), SS_OK);
    CHECK_EQ_STR(last_writer(), wb);
    struct rows r = {0};
    rows_read(&r, c, "sessions");
    CHECK(r.n > 0); /* the middle run emitted something of its own */
    rows_free(&r);
    check_same(a, (const char *const[]){b, c, d, NULL}, false);
    rm_rf(root);
    ss_free(root);
    feed_free(&f);
}

/* A run that fails (as a crash would, with no savepoint at its stop) leaves the last
 * periodic savepoint: the next run replays from its positions, writing some rows a
 * second time, and misses nothing. */
TEST(a_failed_run_replays_from_the_last_periodic_savepoint) {
    struct feed f;
    feed_make(&f, 20000, 12);
    char *root = tmpdir(), a[600], b[600], c[600], sp[600];
    snprintf(a, sizeof a, "%s/a", root);
    snprintf(b, sizeof b, "%s/b", root);
    snprintf(c, sizeof c, "%s/c", root);
    snprintf(sp, sizeof sp, "%s/savepoint", root);
    struct ss_err err = {0};
    CHECK_EQ_INT(run(&f, a, NULL, 0, NULL, &err), SS_OK);
    /* written by a forked child (where the build can fork: bgsave.h), then in place */
    for (int fork = 1; fork >= 0; fork--) {
        fail_at = (int)(f.nclicks / BATCH / 2);
        fail_once = sp;
        const char *const periodic[] = {"savepoint.interval", "1ms", "savepoint.fork", fork ? "true" : "false", NULL};
        CHECK(run(&f, b, sp, 0, periodic, &err) != SS_OK);
        fail_at = 0;
        fail_once = NULL;
        CHECK(exists(sp));
        char wb[100];
        snprintf(wb, sizeof wb, "%s", last_writer());
        started_committed = started_tagged = -1;
        CHECK_EQ_INT(run(&f, c, sp, 0, periodic, &err), SS_OK);
        CHECK_EQ_INT(started_committed, 0); /* a periodic one: behind this process's own commits */
        CHECK_EQ_INT(started_tagged, 1);    /* which carry the savepoint's lineage */
        CHECK_EQ_STR(last_writer(), wb);
        check_same(a, (const char *const[]){b, c, NULL}, true);
        CHECK(!exists(sp));
        rm_rf(b);
        rm_rf(c);
    }
    rm_rf(root);
    ss_free(root);
    feed_free(&f);
}

/* The number of category_revenue rows in dirs (NULL-ended) whose window and category
 * an earlier row already had: a window the watermark closed and that opened again. */
static size_t windows_twice(const char *const *dirs) {
    struct rows r = {0};
    for (int i = 0; dirs[i]; i++) rows_read(&r, dirs[i], "category_revenue");
    for (size_t i = 0; i < r.n; i++) { /* the key: every column up to the revenue */
        char *end = strstr(r.v[i], ",\"revenue\"");
        CHECK(end != NULL);
        if (end) *end = 0;
    }
    qsort(r.v, r.n, sizeof *r.v, cmp_str);
    size_t n = r.n, twice = n - uniq(&r);
    CHECK(n > 100);
    rows_free(&r);
    return twice;
}

/* lateness and recent.ttl may change across a restart: the savepoint loads, its state
 * carries over, and the watermark does not go back to reopen what it closed. */
TEST(lateness_and_recent_ttl_may_change_across_a_restart) {
    struct feed f;
    feed_make(&f, 20000, 14);
    char *root = tmpdir(), a[600], b[600], c[600], d[600], sp[600];
    snprintf(a, sizeof a, "%s/a", root);
    snprintf(b, sizeof b, "%s/b", root);
    snprintf(c, sizeof c, "%s/c", root);
    snprintf(d, sizeof d, "%s/d", root);
    snprintf(sp, sizeof sp, "%s/savepoint", root);
    struct ss_err err = {0};
    CHECK_EQ_INT(run(&f, a, NULL, 0, NULL, &err), SS_OK);
    int half = (int)(f.nclicks / BATCH / 2);
    /* changes that decide nothing in this data (no list lives 24 h, no record is late by
     * the one millisecond): the rows are the uninterrupted run's, so the state came along */
    CHECK_EQ_INT(run(&f, b, sp, half, NULL, &err), SS_OK);
    const char *const slightly[] = {"lateness", "600001ms", "recent.ttl", "48h", NULL};
    CHECK_EQ_INT(run(&f, c, sp, 0, slightly, &err), SS_OK);
    late_without_watermark = true;
    check_same(a, (const char *const[]){b, c, NULL}, false);
    late_without_watermark = false;
    /* four times the lateness: records the saved W had passed stay late */
    CHECK_EQ_INT(windows_twice((const char *const[]){a, NULL}), 0);
    CHECK_EQ_INT(run(&f, b, sp, half, NULL, &err), SS_OK);
    const char *const longer[] = {"lateness", "40m", NULL};
    CHECK_EQ_INT(run(&f, d, sp, 0, longer, &err), SS_OK);
    CHECK_EQ_INT(windows_twice((const char *const[]){b, d, NULL}), 0);
    rm_rf(root);
    ss_free(root);
    feed_free(&f);
}

static void write_file(const char *path, const char *p, size_t n) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    CHECK_EQ_INT(fwrite(p, 1, n, f), n);
    fclose(f);
}

static char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    char *p = ss_malloc(1 << 24);
    *n = fread(p, 1, 1 << 24, f);
    fclose(f);
    return p;
}

/* A savepoint written before lineages (no savepoint.lineage among its settings) loads:
 * its positions are judged as before, by whether it was written at a stop, and the run
 * starts a lineage of its own. */
TEST(a_savepoint_from_before_lineages_loads_untagged) {
    struct feed f;
    feed_make(&f, 8000, 14);
    char *root = tmpdir(), a[600], b[600], c[600], sp[600];
    snprintf(a, sizeof a, "%s/a", root);
    snprintf(b, sizeof b, "%s/b", root);
    snprintf(c, sizeof c, "%s/c", root);
    snprintf(sp, sizeof sp, "%s/savepoint", root);
    struct ss_err err = {0};
    CHECK_EQ_INT(run(&f, a, NULL, 0, NULL, &err), SS_OK);
    CHECK_EQ_INT(run(&f, b, sp, 10, NULL, &err), SS_OK);
    char wb[100];
    snprintf(wb, sizeof wb, "%s", last_writer());
    /* the body as the release before lineages wrote it: without that entry, one setting fewer */
    struct ss_buf body = {0};
    bool found = false;
    CHECK_EQ_INT(ss_savepoint_read(sp, &body, &found, &err), SS_OK);
    CHECK(found);
    static const char entry[] = "\x11\0\0\0savepoint.lineage";
    char *at = found ? memmem(body.p, body.len, entry, sizeof entry - 1) : NULL;
    CHECK(at != NULL);
    if (at) {
        size_t len = sizeof entry - 1 + 8;
        memmove(at, at + len, body.len - (size_t)(at - body.p) - len);
        body.len -= len;
        CHECK_EQ_INT((unsigned char)body.p[10], 15); /* the count after the "engine" tag: 14 settings + the lineage */
        body.p[10]--;
        CHECK_EQ_INT(ss_savepoint_stage(sp, &body, &err), SS_OK);
        CHECK_EQ_INT(ss_savepoint_publish(sp, &err), SS_OK);
    }
    ss_free(body.p);
    started_committed = started_tagged = -1;
    CHECK_EQ_INT(run(&f, c, sp, 0, NULL, &err), SS_OK);
    CHECK_EQ_INT(started_tagged, 0);
    CHECK_EQ_INT(started_committed, 1);
    CHECK(strlen(last_writer()) == strlen(wb) && strcmp(last_writer(), wb) != 0);
    check_same(a, (const char *const[]){b, c, NULL}, false);
    rm_rf(root);
    ss_free(root);
    feed_free(&f);
}

/* What does not fit or is damaged is refused before anything is read, with a message
 * that names the file and what is wrong; the file stays for the user to look at. */
TEST(a_savepoint_that_does_not_fit_or_is_damaged_is_refused) {
    struct feed f;
    feed_make(&f, 6000, 13);
    char *root = tmpdir(), b[600], c[600], sp[600];
    snprintf(b, sizeof b, "%s/b", root);
    snprintf(c, sizeof c, "%s/c", root);
    snprintf(sp, sizeof sp, "%s/savepoint", root);
    struct ss_err err = {0};
    CHECK_EQ_INT(run(&f, b, sp, 20, NULL, &err), SS_OK);
    size_t n;
    char *good = read_file(sp, &n);
    CHECK(n > 100);

    const char *const other[] = {"windows.hourly_sales", "2h", NULL};
    CHECK_EQ_INT(run(&f, c, sp, 0, other, &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "windows.hourly_sales = 3600000") && strstr(err.msg, "7200000") && strstr(err.msg, sp));

    static const struct {
        size_t at;      /* flip a byte here (SIZE_MAX: cut the file to `len`) */
        size_t len;
        const char *says;
    } cases[] = {{0, 0, "not a shopstream savepoint"},
                 {SIZE_MAX, 50, "cut short"},
                 {40, 0, "checksum"},
                 {SIZE_MAX, 10, "not a shopstream savepoint"}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char *bad = ss_malloc(n);
        memcpy(bad, good, n);
        size_t len = n;
        if (cases[k].at == SIZE_MAX) len = cases[k].len;
        else bad[cases[k].at] ^= 0x5a;
        write_file(sp, bad, len);
        err = (struct ss_err){0};
        CHECK_EQ_INT(run(&f, c, sp, 0, NULL, &err), SS_ERROR);
        if (!strstr(err.msg, cases[k].says)) fprintf(stderr, "case %zu: %s\n", k, err.msg);
        CHECK(strstr(err.msg, cases[k].says) != NULL);
        CHECK(exists(sp));
        ss_free(bad);
    }
    ss_free(good);
    rm_rf(root);
    ss_free(root);
    feed_free(&f);
}

int main(void) {
    RUN(resumed_runs_write_the_uninterrupted_rows);
    RUN(a_failed_run_replays_from_the_last_periodic_savepoint);
    RUN(lateness_and_recent_ttl_may_change_across_a_restart);
    RUN(a_savepoint_from_before_lineages_loads_untagged);
    RUN(a_savepoint_that_does_not_fit_or_is_damaged_is_refused);
    return ss_t_report("savepoint");
}
