/* overlap.c — see overlap.h. */
#include "overlap.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/alloc.h"
#include "../core/dirs.h"
#include "../core/table.h"
#include "../source/input_files.h"
#include "sink.h"

/* ---- inputs --------------------------------------------------------------------- */

struct file_id {
    dev_t dev;
    ino_t ino;
};

/* Whether path names an existing file, and which one (links followed, as open does). */
static bool file_id_of(const char *path, struct file_id *id) {
    struct stat st;
    if (stat(path, &st) != 0) return false;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    return true;
}

/* Whether path names the file id. */
static bool names_file(const char *path, const struct file_id *id) {
    struct file_id f;
    return file_id_of(path, &f) && f.dev == id->dev && f.ino == id->ino;
}

/* The file an input STREAM=PATH reads; NULL for stdin ("-") and Kafka topics. */
static const char *input_file(const char *input) {
    const char *eq = strchr(input, '=');
    if (!eq || !strcmp(eq + 1, "-") || !strncmp(eq + 1, "kafka://", 8)) return NULL;
    return eq + 1;
}

static bool same_stream(const char *a, const char *b) {
    size_t n = strcspn(a, "=");
    return n == strcspn(b, "=") && !memcmp(a, b, n);
}

static int check_inputs(const struct ss_config *cfg, struct ss_err *err) {
    for (int i = 0; i < cfg->ninputs; i++)
        for (int j = 0; j < i; j++) {
            const char *a = cfg->inputs[i], *b = cfg->inputs[j], *pa = strchr(a, '='), *pb = strchr(b, '=');
            if (!strcmp(a, b))
                return ss_err_set(err, SS_EUSAGE,
                                  "input %s is given twice: its second copy would be nothing but duplicates", a);
            if (pa && pb && !strcmp(pa, "=-") && !strcmp(pb, "=-"))
                return ss_err_set(err, SS_EUSAGE, "inputs %s and %s both read stdin, which can be read only once",
                                  b, a);
            /* one topic URL for two streams (the same stream twice is the strcmp above) */
            if (pa && pb && !strncmp(pa + 1, "kafka://", 8) && !strcmp(pa, pb))
                return ss_err_set(err, SS_EUSAGE,
                                  "input %s reads the topic of input %s as another stream: a topic holds the "
                                  "records of one stream, the other's decoder would send each to the dead letters",
                                  a, b);
        }
    return SS_OK;
}

/* A file some input reads (an input may name several: input_files.h). */
struct read_file {
    int input;
    const char *path;
    struct file_id id;
};

/* The existing files the file inputs read, in *out (paths owned by *names). */
static int read_files(const struct ss_config *cfg, struct read_file **out, size_t *n, char ***names,
                      size_t *nnames, struct ss_err *err) {
    *out = NULL;
    *n = *nnames = 0;
    *names = NULL;
    for (int i = 0; i < cfg->ninputs; i++) {
        const char *file = input_file(cfg->inputs[i]);
        if (!file) continue;
        char **files;
        size_t k;
        int rc = ss_input_files(file, &files, &k, err);
        if (rc) return ss_err_wrap(err, "input %s", cfg->inputs[i]);
        *names = ss_realloc(*names, (*nnames + k) * sizeof **names);
        *out = ss_realloc(*out, (*n + k) * sizeof **out);
        for (size_t j = 0; j < k; j++) {
            (*names)[(*nnames)++] = files[j];
            if (file_id_of(files[j], &(*out)[*n].id)) {
                (*out)[*n].input = i;
                (*out)[(*n)++].path = files[j];
            }
        }
        ss_free(files); /* the paths live on in *names */
    }
    return SS_OK;
}

/* No file read twice: by two inputs, or by one that names it twice (hard links). */
static int check_files(const struct ss_config *cfg, const struct read_file *f, size_t n, struct ss_err *err) {
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) {
            if (f[i].id.dev != f[j].id.dev || f[i].id.ino != f[j].id.ino) continue;
            const char *a = cfg->inputs[f[i].input], *b = cfg->inputs[f[j].input];
            if (f[i].input == f[j].input)
                return ss_err_set(err, SS_EUSAGE,
                                  "input %s reads one file twice, as %s and as %s: its second copy would be "
                                  "nothing but duplicates",
                                  a, f[j].path, f[i].path);
            return same_stream(a, b)
                       ? ss_err_set(err, SS_EUSAGE,
                                    "input %s is given twice, also as %s (one file: %s): its second copy would be "
                                    "nothing but duplicates",
                                    a, b, f[i].path)
                       : ss_err_set(err, SS_EUSAGE,
                                    "input %s reads the file of input %s as another stream: a file holds the "
                                    "records of one stream, the other's decoder would send each to the dead "
                                    "letters",
                                    a, b);
        }
    return SS_OK;
}

/* ---- sinks ---------------------------------------------------------------------- */

/* The sinks that write local files, and what their path names. */
enum place { P_NONE, P_JSONL, P_SQLITE, P_PARQUET };
static const char *const place_schemes[] = {[P_JSONL] = "jsonl:", [P_SQLITE] = "sqlite:", [P_PARQUET] = "parquet:"};
static const char *const place_nouns[] = {[P_JSONL] = "directory", [P_SQLITE] = "file", [P_PARQUET] = "directory"};

/* The kind of place url writes to, and its path there (options after '?' cut off).
 * P_NONE for a server, console: or SQLite's ":memory:" (compared by URL), and for a
 * path too long or empty (the sink refuses those itself). */
static enum place sink_place(const char *url, char *path) {
    for (int k = P_JSONL; k <= P_PARQUET; k++) {
        size_t n = strlen(place_schemes[k]);
        if (strncmp(url, place_schemes[k], n)) continue;
        size_t len = strcspn(url + n, "?");
        while (len > 1 && url[n + len - 1] == '/') len--; /* "o/" is o: o/dlq.jsonl, not o//dlq.jsonl */
        if (len == 0 || len >= PATH_MAX) return P_NONE;
        memcpy(path, url + n, len);
        path[len] = '\0';
        return k == P_SQLITE && !strcmp(path, ":memory:") ? P_NONE : (enum place)k;
    }
    return P_NONE;
}

static size_t len_without_slashes(const char *s) {
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/') n--;
    return n;
}

static int check_sinks(const struct ss_config *cfg, struct ss_err *err) {
    for (int i = 0; i < cfg->nsinks; i++)
        for (int j = 0; j < i; j++) {
            const char *a = cfg->sinks[i], *b = cfg->sinks[j];
            size_t la = len_without_slashes(a), lb = len_without_slashes(b);
            if (la == lb && !memcmp(a, b, la))
                return ss_err_set(err, SS_EUSAGE,
                                  "sink %s is given twice: each destination takes one --sink (two would write "
                                  "every row twice)",
                                  a);
            char pa[PATH_MAX], pb[PATH_MAX], ra[PATH_MAX], rb[PATH_MAX];
            enum place k = sink_place(a, pa);
            if (k == P_NONE || sink_place(b, pb) != k) continue;
            if (ss_path_resolve(pa, ra, err) != SS_OK) return ss_err_wrap(err, "sink %s", a);
            if (ss_path_resolve(pb, rb, err) != SS_OK) return ss_err_wrap(err, "sink %s", b);
            if (!strcmp(ra, rb))
                return ss_err_set(err, SS_EUSAGE,
                                  "sink %s is given twice, also as %s (one %s, %s): each destination takes one "
                                  "--sink (two would write every row twice)",
                                  a, b, place_nouns[k], ra);
        }
    /* http.listen is one more metrics: sink (run adds it after the others, and binding the
     * address twice failed as "Address already in use", as if another process held it);
     * port 0 names no one address: each picks a free port */
    const char *hl = cfg->http_listen;
    size_t hn = hl ? strlen(hl) : 0;
    for (int i = 0; hn && !(hn > 2 && !strcmp(hl + hn - 2, ":0")) && i < cfg->nsinks; i++)
        if (!strncmp(cfg->sinks[i], "metrics:", 8) && strcspn(cfg->sinks[i] + 8, "?") == hn &&
            !memcmp(cfg->sinks[i] + 8, hl, hn))
            return ss_err_set(err, SS_EUSAGE,
                              "sink %s and http.listen \"%s\" name one endpoint: give one of them (each serves "
                              "the same /metrics)",
                              cfg->sinks[i], cfg->http_listen);
    return SS_OK;
}

/* ---- inputs that sinks would overwrite --------------------------------------------- */

/* SQLite's files: the database, and beside it those it overwrites when they hold
 * nothing it can use (-wal, -shm) or removes (the -journal of an empty database). */
static const struct {
    const char *suffix, *what, *fate;
} sqlite_files[] = {
    {"", "the database", "writes to it"},
    {"-wal", "the write-ahead log", "overwrites it"},
    {"-shm", "the shared-memory index", "overwrites it"},
    {"-journal", "the rollback journal", "removes it"},
};

/* input is file, `role` of sink url, which `fate` when it opens. */
static int refuse_input(const char *input, const char *file, const char *role, const char *url, const char *fate,
                        const char *noun, struct ss_err *err) {
    return ss_err_set(err, SS_EUSAGE,
                      "input %s is %s, %s of sink %s, which %s when it opens: move the input elsewhere, or give the "
                      "sink another %s",
                      input, file, role, url, fate, noun);
}

/* Whether the existing file path lies in a run directory under tmp (DIR/.tmp/<run>/path),
 * which the lake sweeps: the directory two levels above it, links resolved. */
static bool in_lake_tmp(const char *path, const struct file_id *tmp) {
    char real[PATH_MAX];
    if (!realpath(path, real)) return false;
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(real, '/');
        if (!slash || slash == real) return false;
        *slash = '\0';
    }
    return names_file(real, tmp);
}

/* The input file (existing, id in) against the files sink url rewrites when it opens. */
static int check_input_against_sink(const char *input, const char *file, const struct file_id *in,
                                    const char *url, struct ss_err *err) {
    char path[PATH_MAX], p[PATH_MAX];
    struct file_id id;
    enum place k = sink_place(url, path);
    if (k == P_JSONL)
        for (int t = 0; t < SS_T_COUNT; t++) {
            if (ss_jsonl_writes((enum ss_table_id)t) &&
                snprintf(p, sizeof p, "%s/%s.jsonl", path, ss_tables[t].name) < (int)sizeof p && names_file(p, in))
                return refuse_input(input, p, "a table file", url, "truncates it (or appends to it)",
                                    place_nouns[k], err);
        }
    if (k == P_SQLITE)
        for (size_t i = 0; i < sizeof sqlite_files / sizeof sqlite_files[0]; i++) {
            if (snprintf(p, sizeof p, "%s%s", path, sqlite_files[i].suffix) < (int)sizeof p && names_file(p, in))
                return refuse_input(input, p, sqlite_files[i].what, url, sqlite_files[i].fate, place_nouns[k], err);
        }
    if (k == P_PARQUET && snprintf(p, sizeof p, "%s/.tmp", path) < (int)sizeof p && file_id_of(p, &id) &&
        in_lake_tmp(file, &id))
        return refuse_input(input, file, "a temp file", url, "removes those of stopped runs", place_nouns[k], err);
    return SS_OK;
}

static int check_files_against_sinks(const struct ss_config *cfg, const struct read_file *f, size_t n,
                                     struct ss_err *err) {
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < cfg->nsinks; j++) {
            int rc = check_input_against_sink(cfg->inputs[f[i].input], f[i].path, &f[i].id, cfg->sinks[j], err);
            if (rc != SS_OK) return rc;
        }
    return SS_OK;
}

int ss_overlap_check(const struct ss_config *cfg, struct ss_err *err) {
    int rc;
    if ((rc = check_sinks(cfg, err)) != SS_OK || (rc = check_inputs(cfg, err)) != SS_OK) return rc;
    struct read_file *files;
    size_t n, nnames;
    char **names;
    rc = read_files(cfg, &files, &n, &names, &nnames, err);
    if (!rc) rc = check_files(cfg, files, n, err);
    if (!rc) rc = check_files_against_sinks(cfg, files, n, err);
    ss_input_files_free(names, nnames);
    ss_free(files);
    return rc;
}
