/* test_file_source.c — the file source (src/source/file.c): every line of plain, gzip
 * and zstd files comes out once, in order, with its line number, whether the records
 * are cut by poll or ahead by prefetch; and the read-ahead never touches the bytes of
 * the batch in flight (prefetch runs while the engine still reads them).
 *
 * The files are several times the source's 8 MiB buffer, with a line longer than two
 * buffers, CRLF endings, empty lines, a byte order mark and no final newline; the
 * expected lines are split here, independently of the source.
 *
 * A FIFO is read as a stream: polled, never waited on for longer than the poll's
 * timeout, whatever the writer does (stream_*). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "core/config.h"
#include "core/log.h"
#include "harness.h"
#include "source/source.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

struct text {
    char *p;
    size_t n, cap;
};

static void put(struct text *t, const void *p, size_t n) {
    if (t->n + n > t->cap) {
        while (t->n + n > t->cap) t->cap = t->cap ? 2 * t->cap : 1 << 20;
        t->p = realloc(t->p, t->cap);
    }
    memcpy(t->p + t->n, p, n);
    t->n += n;
}

/* A file's text: a BOM, lines of 0..3000 bytes (a few of 100 KiB, one of nearly
 * 8 MiB, one of 17 MiB), some with CRLF, the last without a newline. */
static void make_text(struct text *t, int nlines) {
    put(t, "\xEF\xBB\xBF", 3);
    char line[100 * 1024];
    for (int i = 0; i < nlines; i++) {
        size_t len;
        uint64_t r = next_rand();
        if (i == nlines / 4 || i == nlines / 2) { /* nearly a buffer; two buffers and more */
            size_t big = i == nlines / 2 ? 17u << 20 : (8u << 20) - 1000;
            for (size_t k = 0; k < big; k++) put(t, "x", 1);
            len = 0;
        } else if (r % 97 == 0) {
            len = sizeof line;
        } else if (r % 13 == 0) {
            len = 0;
        } else {
            len = (size_t)(next_rand() % 3000);
        }
        for (size_t k = 0; k < len; k++) line[k] = (char)(' ' + next_rand() % 95);
        put(t, line, len);
        if (i + 1 < nlines) put(t, r % 5 == 0 ? "\r\n" : "\n", r % 5 == 0 ? 2 : 1);
    }
}

/* The records a line reader should produce: split at '\n', one '\r' before it
 * dropped, the BOM dropped from the first, the text after the last '\n' a record
 * when not empty. */
struct line {
    const char *p;
    size_t n;
    bool cut; /* longer than input.max_record_bytes: p/n are its first bytes */
};

/* The configuration drive opens the file with: the defaults, and no cut below the
 * 17 MiB line of make_text unless a test lowers it. */
static struct ss_config drive_cfg;

static size_t split(const struct text *t, struct line **out) {
    size_t n = 0, cap = 1024;
    struct line *l = malloc(cap * sizeof *l);
    size_t at = 0;
    while (at < t->n) {
        const char *nl = memchr(t->p + at, '\n', t->n - at);
        size_t end = nl ? (size_t)(nl - t->p) : t->n;
        size_t s = at, e = end;
        if (e > s && t->p[e - 1] == '\r') e--;
        if (n == 0 && e - s >= 3 && memcmp(t->p + s, "\xEF\xBB\xBF", 3) == 0) s += 3;
        if (n == cap) l = realloc(l, (cap *= 2) * sizeof *l);
        l[n++] = (struct line){t->p + s, e - s, false};
        at = end + 1;
    }
    *out = l;
    return n;
}

static void write_file(const char *path, const char *kind, const struct text *t, size_t keep) {
    if (strcmp(kind, "plain") == 0) {
        FILE *f = fopen(path, "wb");
        fwrite(t->p, 1, t->n, f);
        fclose(f);
        return;
    }
    struct text z = {0};
    if (strcmp(kind, "gzip") == 0) {
        gzFile g = gzopen(path, "wb1");
        gzwrite(g, t->p, (unsigned)t->n);
        gzclose(g);
        FILE *f = fopen(path, "rb");
        char buf[65536];
        size_t r;
        while ((r = fread(buf, 1, sizeof buf, f)) > 0) put(&z, buf, r);
        fclose(f);
    } else {
        z.cap = ZSTD_compressBound(t->n);
        z.p = malloc(z.cap);
        z.n = ZSTD_compress(z.p, z.cap, t->p, t->n, 1);
    }
    FILE *f = fopen(path, "wb");
    fwrite(z.p, 1, keep && keep < z.n ? keep : z.n, f);
    fclose(f);
    free(z.p);
}

/* How the engine drives a source, in one of several patterns: poll, process the batch
 * while the decoding thread runs prefetch (or not: the engine cancels a prefetch
 * the worker has not started), poll again. Checks every record, and each batch again
 * after the prefetch that ran while it was in flight. Returns the records seen; *rc
 * gets the poll result that ended it (SS_EOF or an error). */
static size_t drive(const char *path, const struct line *want, size_t nwant, int pattern, int *rc,
                    struct ss_err *err) {
    struct ss_input_spec spec = {.stream = SS_STREAM_CLICKS, .url = (char *)path, .index = 3};
    struct ss_source *src = NULL;
    CHECK_EQ_INT(ss_source_file.open(&src, &spec, &drive_cfg, err), SS_OK);
    if (!src) return 0;
    static const int maxes[] = {4096, 7, 1, 300, 4096, 2};
    struct ss_record recs[4096];
    size_t seen = 0, bad = 0;
    for (int round = 0;; round++) {
        int max = pattern == 2 ? maxes[round % 6] : 4096;
        int n = ss_source_file.poll(src, recs, max, 0, err);
        if (n < 0) {
            *rc = n;
            break;
        }
        CHECK(n <= max);
        bool pre = pattern == 0 || (pattern == 2 && round % 3 != 1);
        for (int pass = 0; pass < (pre ? 2 : 1); pass++) {
            if (pass) ss_source_file.prefetch(src);
            for (int k = 0; k < n; k++) {
                size_t i = seen + (size_t)k;
                bool ok = i < nwant && recs[k].len == want[i].n && memcmp(recs[k].data, want[i].p, want[i].n) == 0 &&
                          recs[k].offset == (int64_t)i + 1 && recs[k].partition == 3 && recs[k].cut == want[i].cut;
                if (!ok && bad++ < 5)
                    fprintf(stderr, "FAIL %s pattern %d pass %d: record %zu (len %zu, offset %lld)\n", path,
                            pattern, pass, i, recs[k].len, (long long)recs[k].offset);
            }
        }
        seen += (size_t)n;
    }
    CHECK_EQ_INT(bad, 0);
    ss_source_file.close(src);
    return seen;
}

/* Every line of the file, then SS_EOF, under each of drive's patterns. */
static void every_pattern_whole(const char *path, const struct line *want, size_t nwant) {
    for (int pattern = 0; pattern < 3; pattern++) {
        int rc = 0;
        struct ss_err err = {0};
        CHECK_EQ_INT(drive(path, want, nwant, pattern, &rc, &err), nwant);
        CHECK_EQ_INT(rc, SS_EOF);
    }
}

TEST(every_line_once_in_order) {
    struct text t = {0};
    make_text(&t, 12000);
    struct line *want;
    size_t nwant = split(&t, &want);
    CHECK(t.n > 5 * (8u << 20));
    static const char *kinds[] = {"plain", "gzip", "zstd"};
    char path[64];
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "/tmp/ss_test_file_%d.%s", (int)getpid(), kinds[k]);
        write_file(path, kinds[k], &t, 0);
        every_pattern_whole(path, want, nwant);
        unlink(path);
    }
    free(want);
    free(t.p);
}

/* Lines of 1000..3000 bytes: a batch of them spans megabytes of the buffer, and is
 * checked again after the refill that runs while it is in flight. */
TEST(long_lines_in_flight) {
    struct text t = {0};
    char line[3000];
    for (int i = 0; i < 20000; i++) {
        size_t len = 1000 + (size_t)(next_rand() % 2000);
        for (size_t k = 0; k < len; k++) line[k] = (char)('a' + next_rand() % 26);
        put(&t, line, len);
        put(&t, "\n", 1);
    }
    struct line *want;
    size_t nwant = split(&t, &want);
    char path[64];
    snprintf(path, sizeof path, "/tmp/ss_test_file_%d.jsonl", (int)getpid());
    write_file(path, "plain", &t, 0);
    every_pattern_whole(path, want, nwant);
    unlink(path);
    free(want);
    free(t.p);
}

/* Lines longer than input.max_record_bytes come out as their first max_record_bytes
 * bytes, marked cut, and the lines after them whole with their own line numbers: one
 * cut while its newline is in the buffer, one of 3 MiB read past chunk after chunk,
 * one of exactly the limit (not cut) and one a byte over, and a last line of 2 MiB
 * without a newline. */
TEST(long_lines_cut) {
    struct text t = {0};
    static const size_t lens[] = {1, 5000, 1, 3u << 20, 1, 1024, 1025, 7, 2u << 20};
    size_t nl = sizeof lens / sizeof lens[0];
    size_t *at = calloc(nl, sizeof *at);
    for (size_t i = 0; i < nl; i++) {
        at[i] = t.n;
        for (size_t k = 0; k < lens[i]; k++) {
            char c = (char)('a' + (i + k) % 26);
            put(&t, &c, 1);
        }
        if (i + 1 < nl) put(&t, "\n", 1);
    }
    struct line *want = calloc(nl, sizeof *want);
    for (size_t i = 0; i < nl; i++)
        want[i] = (struct line){t.p + at[i], lens[i] > 1024 ? 1024 : lens[i], lens[i] > 1024};
    drive_cfg.max_record_bytes = 1024;
    static const char *kinds[] = {"plain", "zstd"};
    char path[64];
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "/tmp/ss_test_file_cut_%d.%s", (int)getpid(), kinds[k]);
        write_file(path, kinds[k], &t, 0);
        every_pattern_whole(path, want, nl);
        unlink(path);
    }
    drive_cfg.max_record_bytes = 64 << 20;
    /* out of range: a usage error */
    struct ss_input_spec spec = {.stream = SS_STREAM_CLICKS, .url = "/dev/null", .index = 0};
    struct ss_source *src = NULL;
    struct ss_err err = {0};
    drive_cfg.max_record_bytes = 1023;
    CHECK_EQ_INT(ss_source_file.open(&src, &spec, &drive_cfg, &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "input.max_record_bytes must be between 1024 and 67108864") != NULL);
    drive_cfg.max_record_bytes = 64 << 20;
    free(at);
    free(want);
    free(t.p);
}

static int open_fds(void) {
    int n = 0;
    for (int fd = 0; fd < 1024; fd++) n += fcntl(fd, F_GETFD) != -1;
    return n;
}

/* At SS_EOF a file gives back its descriptor (and buffers) before it is closed: a
 * backfill of many files read one after another kept them all. Later polls and
 * prefetches still answer SS_EOF, and the name stays. */
TEST(eof_gives_back_the_file) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/ss_test_file_eof_%d.jsonl.zst", (int)getpid());
    struct text t = {0};
    put(&t, "a\nb\nc", 5);
    write_file(path, "zstd", &t, 0);
    int before = open_fds();
    struct ss_input_spec spec = {.stream = SS_STREAM_CLICKS, .url = path, .index = 0};
    struct ss_source *src = NULL;
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_source_file.open(&src, &spec, &drive_cfg, &err), SS_OK);
    CHECK_EQ_INT(open_fds(), before + 1);
    struct ss_record recs[8];
    int n, got = 0, rounds = 0;
    char last = 0;
    while ((n = ss_source_file.poll(src, recs, 8, 0, &err)) > 0 && rounds++ < 10) {
        got += n;
        last = recs[n - 1].data[0];
    }
    CHECK_EQ_INT(n, SS_EOF);
    CHECK(got == 3 && last == 'c');
    CHECK_EQ_INT(open_fds(), before);
    ss_source_file.prefetch(src);
    CHECK_EQ_INT(ss_source_file.poll(src, recs, 8, 0, &err), SS_EOF);
    CHECK(strcmp(ss_source_file.name_of(src), path) == 0);
    ss_source_file.close(src);
    CHECK_EQ_INT(open_fds(), before);
    unlink(path);
    free(t.p);
}

/* Drains src: "name:offset:text[*]" per record (* = file_start), one string. */
static void drain_named(struct ss_source *src, struct text *got, int *rc) {
    struct ss_record recs[3];
    int n;
    while ((n = ss_source_file.poll(src, recs, 3, 0, NULL)) >= 0) {
        const char *name = ss_source_file.name_of(src);
        const char *slash = strrchr(name, '/');
        for (int k = 0; k < n; k++) {
            char head[128];
            int h = snprintf(head, sizeof head, "%s:%lld:", slash ? slash + 1 : name, (long long)recs[k].offset);
            put(got, head, (size_t)h);
            put(got, recs[k].data, recs[k].len);
            put(got, recs[k].file_start ? "*\n" : "\n", recs[k].file_start ? 2 : 1);
        }
        ss_source_file.prefetch(src);
    }
    *rc = n;
    put(got, "", 1);
}

/* A directory, or a glob pattern, is one input: its regular files (not hidden ones, not
 * subdirectories) in name order, each with its own line numbers and name, the first
 * record of each later file marked; compressed and empty files among them. */
TEST(directory_and_glob) {
    char dir[64], p[128];
    snprintf(dir, sizeof dir, "/tmp/ss_test_dir_%d", (int)getpid());
    mkdir(dir, 0700);
    struct text t = {0};
    static const struct {
        const char *name, *kind, *text;
    } files[] = {{"b.jsonl", "plain", "b1\nb2\n"},   {"a.jsonl.gz", "gzip", "a1\na2\na3"},
                 {"c.jsonl", "plain", ""},             {"d.jsonl.zst", "zstd", "d1\n"},
                 {".hidden.jsonl", "plain", "h1\n"},  {"e.csv", "plain", "e1\n"}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        t.n = 0;
        put(&t, files[i].text, strlen(files[i].text));
        snprintf(p, sizeof p, "%s/%s", dir, files[i].name);
        write_file(p, files[i].kind, &t, 0);
    }
    snprintf(p, sizeof p, "%s/sub.jsonl", dir);
    mkdir(p, 0700);
    static const struct {
        const char *suffix, *want;
    } cases[] = {
        {"", "a.jsonl.gz:1:a1\na.jsonl.gz:2:a2\na.jsonl.gz:3:a3\nb.jsonl:1:b1*\nb.jsonl:2:b2\n"
             "d.jsonl.zst:1:d1*\ne.csv:1:e1*\n"},
        {"/", "a.jsonl.gz:1:a1\na.jsonl.gz:2:a2\na.jsonl.gz:3:a3\nb.jsonl:1:b1*\nb.jsonl:2:b2\n"
              "d.jsonl.zst:1:d1*\ne.csv:1:e1*\n"},
        {"/*.jsonl*", "a.jsonl.gz:1:a1\na.jsonl.gz:2:a2\na.jsonl.gz:3:a3\nb.jsonl:1:b1*\nb.jsonl:2:b2\n"
                      "d.jsonl.zst:1:d1*\n"},
        {"/b.jsonl", "b.jsonl:1:b1\nb.jsonl:2:b2\n"},
    };
    int before = open_fds();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(p, sizeof p, "%s%s", dir, cases[i].suffix);
        struct ss_input_spec spec = {.stream = SS_STREAM_CLICKS, .url = p, .index = 0};
        struct ss_source *src = NULL;
        struct ss_err err = {0};
        CHECK_EQ_INT(ss_source_file.open(&src, &spec, &drive_cfg, &err), SS_OK);
        if (!src) continue;
        struct text got = {0};
        int rc;
        drain_named(src, &got, &rc);
        CHECK_EQ_INT(rc, SS_EOF);
        if (strcmp(got.p, cases[i].want) != 0) fprintf(stderr, "FAIL %s: got\n%s", p, got.p);
        CHECK(strcmp(got.p, cases[i].want) == 0);
        CHECK_EQ_INT(open_fds(), before);
        ss_source_file.close(src);
        free(got.p);
    }
    /* nothing to read: a usage error naming the pattern or the directory */
    snprintf(p, sizeof p, "%s/*.parquet", dir);
    struct ss_input_spec spec = {.stream = SS_STREAM_CLICKS, .url = p, .index = 0};
    struct ss_source *src = NULL;
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_source_file.open(&src, &spec, &drive_cfg, &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "no file matches") && strstr(err.msg, "*.parquet"));
    snprintf(p, sizeof p, "%s/sub.jsonl", dir);
    CHECK_EQ_INT(ss_source_file.open(&src, &spec, &drive_cfg, &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "holds no file to read") != NULL);
    /* a named file that is not there is the user's path to fix too (exit 2; it was an I/O
     * error, exit 1, where an empty pattern was already refused as usage) */
    snprintf(p, sizeof p, "%s/missing.jsonl", dir);
    CHECK_EQ_INT(ss_source_file.open(&src, &spec, &drive_cfg, &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "cannot open input") && strstr(err.msg, "No such file or directory"));
    /* ... while a directory's file that goes away before its turn comes is a runtime failure */
    snprintf(p, sizeof p, "%s", dir);
    CHECK_EQ_INT(ss_source_file.open(&src, &spec, &drive_cfg, &err), SS_OK);
    if (src) {
        char gone[160];
        snprintf(gone, sizeof gone, "%s/e.csv", dir);
        CHECK_EQ_INT(unlink(gone), 0);
        struct text got = {0};
        int rc;
        drain_named(src, &got, &rc);
        CHECK_EQ_INT(rc, SS_EIO);
        ss_source_file.close(src);
        free(got.p);
    }
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
    free(t.p);
}

/* The newlines zlib's own reader finds in a gzip file, up to where it ends or breaks. */
static size_t newlines_in_gz(const char *path) {
    gzFile g = gzopen(path, "rb");
    char buf[65536];
    size_t nl = 0;
    int r;
    while ((r = gzread(g, buf, sizeof buf)) > 0)
        for (int i = 0; i < r; i++) nl += buf[i] == '\n';
    gzclose(g);
    return nl;
}

/* A compressed file cut short: every complete line before the cut comes out, then an
 * error that says so, whichever thread met it. */
TEST(cut_short_after_its_lines) {
    struct text t = {0};
    make_text(&t, 6000);
    struct line *want;
    size_t nwant = split(&t, &want);
    char path[64];
    snprintf(path, sizeof path, "/tmp/ss_test_file_%d.gz", (int)getpid());
    write_file(path, "gzip", &t, 2u << 20);
    size_t complete = newlines_in_gz(path);
    CHECK(complete > 500 && complete < nwant);
    for (int pattern = 0; pattern < 3; pattern++) {
        int rc = 0;
        struct ss_err err = {0};
        size_t seen = drive(path, want, nwant, pattern, &rc, &err);
        CHECK_EQ_INT(seen, complete);
        CHECK(rc < 0 && rc != SS_EOF);
        CHECK(err.msg[0] != '\0');
    }
    unlink(path);
    free(want);
    free(t.p);
}

/* Whether /proc/self/maps lists path: a plain file is mapped while it is read. */
static bool mapped_now(const char *path) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, path) != NULL;
    fclose(f);
    return found;
}

/* A plain file is mapped (file_map.h) and holds no descriptor; at SS_EOF the mapping
 * goes, and the next file of the input is mapped in its turn. */
TEST(plain_files_mapped_in_turn) {
    char dir[64], a[96], b[96];
    snprintf(dir, sizeof dir, "/tmp/ss_test_file_map_%d", (int)getpid());
    CHECK(mkdir(dir, 0700) == 0);
    snprintf(a, sizeof a, "%s/a.jsonl", dir);
    snprintf(b, sizeof b, "%s/b.jsonl", dir);
    struct text t = {0};
    put(&t, "a1\na2\n", 6);
    write_file(a, "plain", &t, 0);
    t.n = 0;
    put(&t, "b1", 2);
    write_file(b, "plain", &t, 0);
    int before = open_fds();
    struct ss_input_spec spec = {.stream = SS_STREAM_CLICKS, .url = dir, .index = 0};
    struct ss_source *src = NULL;
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_source_file.open(&src, &spec, &drive_cfg, &err), SS_OK);
    CHECK_EQ_INT(open_fds(), before);
    CHECK(mapped_now(a) && !mapped_now(b));
    struct ss_record recs[8];
    CHECK_EQ_INT(ss_source_file.poll(src, recs, 8, 0, &err), 2);
    CHECK(recs[1].len == 2 && memcmp(recs[1].data, "a2", 2) == 0);
    CHECK_EQ_INT(ss_source_file.poll(src, recs, 8, 0, &err), 1);
    CHECK(recs[0].len == 2 && memcmp(recs[0].data, "b1", 2) == 0 && recs[0].file_start);
    CHECK(!mapped_now(a) && mapped_now(b));
    CHECK_EQ_INT(ss_source_file.poll(src, recs, 8, 0, &err), SS_EOF);
    CHECK(!mapped_now(b));
    CHECK_EQ_INT(open_fds(), before);
    ss_source_file.close(src);
    unlink(a);
    unlink(b);
    rmdir(dir);
    free(t.p);
}

/* A plain file truncated by another program while it is read: the lines wholly before
 * the new end come out, unchanged, then an error that says what happened; no SIGBUS. */
TEST(truncated_while_read) {
    struct text t = {0};
    char line[128];
    size_t nlines = 400000; /* 40 MB: the cut lies well past the first batches */
    for (size_t i = 0; i < nlines; i++) {
        int n = snprintf(line, sizeof line, "{\"line\":%08zu,\"pad\":\"%070d\"}\n", i, 0);
        put(&t, line, (size_t)n);
    }
    struct line *want;
    size_t nwant = split(&t, &want);
    CHECK_EQ_INT(nwant, nlines);
    size_t len = t.n / nlines, cut = (size_t)10 << 20 | 50; /* within a line */
    char path[64];
    snprintf(path, sizeof path, "/tmp/ss_test_file_trunc_%d.jsonl", (int)getpid());
    for (int pattern = 0; pattern < 2; pattern++) {
        write_file(path, "plain", &t, 0);
        struct ss_input_spec spec = {.stream = SS_STREAM_CLICKS, .url = path, .index = 0};
        struct ss_source *src = NULL;
        struct ss_err err = {0};
        CHECK_EQ_INT(ss_source_file.open(&src, &spec, &drive_cfg, &err), SS_OK);
        struct ss_record recs[4096];
        size_t seen = 0, bad = 0;
        int n;
        for (int round = 0; (n = ss_source_file.poll(src, recs, 4096, 0, &err)) > 0; round++) {
            for (int k = 0; k < n; k++, seen++)
                bad += seen >= nwant || recs[k].len != want[seen].n || memcmp(recs[k].data, want[seen].p, recs[k].len);
            if (round == 0) CHECK(truncate(path, (off_t)cut) == 0);
            if (pattern == 0) ss_source_file.prefetch(src);
        }
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(seen, cut / len);
        CHECK_EQ_INT(n, SS_EIO);
        CHECK(strstr(err.msg, "was truncated while it was read") != NULL);
        ss_source_file.close(src);
    }
    unlink(path);
    free(want);
    free(t.p);
}

/* A mapped file of 40 MB without a line break: its first max_record_bytes come out
 * as a cut record, then the rest is skipped a chunk per poll (polls answer 0 meanwhile,
 * so the engine still commits and hears a stop), then SS_EOF. */
TEST(no_line_breaks_skipped_in_chunks) {
    struct text t = {0};
    char block[4096];
    memset(block, 'x', sizeof block);
    for (int i = 0; i < 10240; i++) put(&t, block, sizeof block);
    char path[64];
    snprintf(path, sizeof path, "/tmp/ss_test_file_nonl_%d.jsonl", (int)getpid());
    write_file(path, "plain", &t, 0);
    drive_cfg.max_record_bytes = 1024;
    struct ss_input_spec spec = {.stream = SS_STREAM_CLICKS, .url = path, .index = 0};
    struct ss_source *src = NULL;
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_source_file.open(&src, &spec, &drive_cfg, &err), SS_OK);
    struct ss_record recs[16];
    int n, records = 0, empty = 0;
    while ((n = ss_source_file.poll(src, recs, 16, 0, &err)) >= 0 && empty < 1000) {
        if (n == 0) empty++;
        for (int k = 0; k < n; k++, records++) CHECK(recs[k].cut && recs[k].len == 1024);
    }
    CHECK_EQ_INT(n, SS_EOF);
    CHECK_EQ_INT(records, 1);
    CHECK(empty >= 38 && empty <= 41); /* 40 MiB, 1 MiB a poll */
    drive_cfg.max_record_bytes = 64 << 20;
    ss_source_file.close(src);
    unlink(path);
    free(t.p);
}

/* ---- streams ------------------------------------------------------------------ */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A writer compressing piece by piece, each piece flushed so that the bytes written so
 * far decode to every line given so far (as gzip/zstd do in a pipeline that flushes). */
struct zw {
    const char *kind;
    z_stream z;
    ZSTD_CCtx *zc;
};

static void zw_start(struct zw *w, const char *kind) {
    memset(w, 0, sizeof *w);
    w->kind = kind;
    if (!strcmp(kind, "gzip")) deflateInit2(&w->z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (!strcmp(kind, "zstd")) w->zc = ZSTD_createCCtx();
}

/* The bytes that carry p[0, n) (the end of the stream too when last). */
static void zw_piece(struct zw *w, const char *p, size_t n, bool last, struct text *out) {
    out->n = 0;
    if (!strcmp(w->kind, "plain")) {
        put(out, p, n);
        return;
    }
    unsigned char buf[1 << 16];
    if (!strcmp(w->kind, "gzip")) {
        w->z.next_in = (Bytef *)p;
        w->z.avail_in = (uInt)n;
        int rc;
        do {
            w->z.next_out = buf;
            w->z.avail_out = sizeof buf;
            rc = deflate(&w->z, last ? Z_FINISH : Z_SYNC_FLUSH);
            put(out, buf, sizeof buf - w->z.avail_out);
        } while (last ? rc != Z_STREAM_END : w->z.avail_out == 0);
        if (last) deflateEnd(&w->z);
        return;
    }
    ZSTD_inBuffer in = {p, n, 0};
    size_t left;
    do {
        ZSTD_outBuffer ob = {buf, sizeof buf, 0};
        left = ZSTD_compressStream2(w->zc, &ob, &in, last ? ZSTD_e_end : ZSTD_e_flush);
        put(out, buf, ob.pos);
    } while (left != 0 && !ZSTD_isError(left));
    if (last) ZSTD_freeCCtx(w->zc);
}

/* Polls (timeout 2 ms) until the source has nothing now, appending the records to
 * got; returns the last answer (0, SS_EOF or an error). Each batch is checked again
 * after the prefetch that runs while it is in flight, which must not wait either. */
static int drain(struct ss_source *src, struct text *got, size_t *nrec) {
    struct ss_record recs[64];
    struct ss_err err = {0};
    for (;;) {
        int n = ss_source_file.poll(src, recs, 64, 2, &err);
        if (n <= 0) return n;
        double t0 = now_ms();
        ss_source_file.prefetch(src);
        CHECK(now_ms() - t0 < 1000);
        for (int k = 0; k < n; k++) {
            CHECK_EQ_INT(recs[k].offset, (int64_t)*nrec + 1);
            put(got, recs[k].data, recs[k].len);
            put(got, "\n", 1);
            (*nrec)++;
        }
    }
}

/* A FIFO no writer has opened yet, then a writer sending lines in pieces cut at
 * random points (mostly inside a line), each piece's bytes in two writes (compressed,
 * the first piece's first write is one byte: the kind is told once the bytes can tell
 * it), the source polled dry after each write: every line whose newline was sent has
 * come out by the end of its piece, a cut line not before its newline, a quiet stream
 * answers 0 (not the end) in about the poll's timeout, and the end answers SS_EOF
 * after the last line, which has no newline. */
static void stream_case(const char *kind) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/ss_test_fifo_%d.%s", (int)getpid(), kind);
    unlink(path);
    CHECK_EQ_INT(mkfifo(path, 0600), 0);
    struct ss_input_spec spec = {.stream = SS_STREAM_CLICKS, .url = path, .index = 0};
    struct ss_source *src = NULL;
    struct ss_err err = {0};
    double t0 = now_ms();
    CHECK_EQ_INT(ss_source_file.open(&src, &spec, &drive_cfg, &err), SS_OK); /* no writer yet: no wait */
    CHECK(now_ms() - t0 < 1000);
    if (!src) return;
    struct ss_record recs[8];
    t0 = now_ms();
    CHECK_EQ_INT(ss_source_file.poll(src, recs, 8, 50, &err), 0);
    double waited = now_ms() - t0;
    CHECK(waited >= 40 && waited < 1000);
    int wfd = open(path, O_WRONLY);
    CHECK(wfd >= 0);

    struct text all = {0}, got = {0}, bytes = {0};
    char line[200];
    for (int i = 0; i < 400; i++) {
        int len = snprintf(line, sizeof line, "{\"line\":%d,\"pad\":\"%.*s\"}", i, (int)(next_rand() % 120),
                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        put(&all, line, (size_t)len);
        if (i < 399) put(&all, "\n", 1);
    }
    struct zw w;
    zw_start(&w, kind);
    size_t nrec = 0, from = 0;
    for (int piece = 0; from < all.n; piece++) {
        size_t to = from + 1 + (size_t)(next_rand() % 3000);
        bool last = to >= all.n;
        if (last) to = all.n;
        zw_piece(&w, all.p + from, to - from, last, &bytes);
        size_t half = piece == 0 && strcmp(kind, "plain") ? 1 : bytes.n / 2;
        CHECK_EQ_INT(write(wfd, bytes.p, half), (long long)half);
        CHECK_EQ_INT(drain(src, &got, &nrec), 0);
        CHECK(got.n <= to && (got.n == 0 || memcmp(got.p, all.p, got.n) == 0));
        CHECK_EQ_INT(write(wfd, bytes.p + half, bytes.n - half), (long long)(bytes.n - half));
        if (last) break;
        CHECK_EQ_INT(drain(src, &got, &nrec), 0);
        const char *nl = memrchr(all.p, '\n', to);
        size_t complete = nl ? (size_t)(nl - all.p) + 1 : 0;
        CHECK_EQ_INT(got.n, (long long)complete);
        CHECK(got.n == 0 || memcmp(got.p, all.p, got.n) == 0);
        from = to;
    }
    close(wfd);
    int rc = 0;
    for (int tries = 0; rc == 0 && tries < 100; tries++) rc = drain(src, &got, &nrec);
    CHECK_EQ_INT(rc, SS_EOF);
    CHECK_EQ_INT(nrec, 400);
    CHECK_EQ_INT(got.n, (long long)all.n + 1); /* drain gave the last line a newline */
    CHECK(got.n == all.n + 1 && memcmp(got.p, all.p, all.n) == 0);
    ss_source_file.close(src);
    unlink(path);
    free(all.p);
    free(got.p);
    free(bytes.p);
}

TEST(stream_plain_gzip_zstd) {
    stream_case("plain");
    stream_case("gzip");
    stream_case("zstd");
}

int main(void) {
    ss_log_set_level(SS_LOG_WARN); /* not the "decompressing" line of every file */
    ss_config_init(&drive_cfg);
    drive_cfg.max_record_bytes = 64 << 20;
    RUN(every_line_once_in_order);
    RUN(long_lines_in_flight);
    RUN(long_lines_cut);
    RUN(eof_gives_back_the_file);
    RUN(directory_and_glob);
    RUN(cut_short_after_its_lines);
    RUN(plain_files_mapped_in_turn);
    RUN(truncated_while_read);
    RUN(no_line_breaks_skipped_in_chunks);
    RUN(stream_plain_gzip_zstd);
    return ss_t_report("file_source");
}
