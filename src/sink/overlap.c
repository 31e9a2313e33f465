/* overlap.c — see overlap.h. */
#include "overlap.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/dirs.h"

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

static bool same_file(const char *a, const char *b) {
    struct file_id ia, ib;
    return file_id_of(a, &ia) && file_id_of(b, &ib) && ia.dev == ib.dev && ia.ino == ib.ino;
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
            const char *fa = input_file(a), *fb = input_file(b);
            if (fa && fb && same_stream(a, b) && same_file(fa, fb))
                return ss_err_set(err, SS_EUSAGE,
                                  "input %s is given twice, also as %s (one file): its second copy would be nothing "
                                  "but duplicates",
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
    return SS_OK;
}

int ss_overlap_check(const struct ss_config *cfg, struct ss_err *err) {
    int rc;
    if ((rc = check_sinks(cfg, err)) != SS_OK || (rc = check_inputs(cfg, err)) != SS_OK) return rc;
    return SS_OK;
}
