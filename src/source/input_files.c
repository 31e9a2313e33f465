/* input_files.c — expands a file input's path: one file, a directory, or a glob pattern.
 * A backfill reads a month of hourly files as one input: one partition whose records go
 * through the files in name order (names sort as their dates do). */
#include "input_files.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/alloc.h"

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int one(const char *url, char ***files, size_t *n) {
    *files = ss_malloc(sizeof **files);
    (*files)[0] = ss_strdup(url);
    *n = 1;
    return SS_OK;
}

int ss_input_files(const char *url, char ***files, size_t *n, struct ss_err *err) {
    *files = NULL;
    *n = 0;
    struct stat st;
    bool exists = stat(url, &st) == 0;
    bool dir = exists && S_ISDIR(st.st_mode);
    if (!strcmp(url, "-") || (exists && !dir) || (!exists && !strpbrk(url, "*?["))) return one(url, files, n);
    char *pattern;
    if (dir) {
        size_t len = strlen(url);
        while (len > 1 && url[len - 1] == '/') len--;
        pattern = ss_malloc(len + 3);
        memcpy(pattern, url, len);
        memcpy(pattern + len, "/*", 3);
    } else {
        pattern = ss_strdup(url);
    }
    glob_t g;
    int rc = glob(pattern, GLOB_NOSORT, NULL, &g);
    ss_free(pattern);
    size_t k = 0;
    if (rc == 0) {
        *files = ss_malloc((g.gl_pathc ? g.gl_pathc : 1) * sizeof **files);
        for (size_t i = 0; i < g.gl_pathc; i++)
            if (stat(g.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode)) (*files)[k++] = ss_strdup(g.gl_pathv[i]);
        globfree(&g);
    }
    if (k == 0) {
        ss_free(*files);
        *files = NULL;
        return ss_err_set(err, SS_EUSAGE, dir ? "directory %s holds no file to read" : "no file matches %s",
                          url);
    }
    qsort(*files, k, sizeof **files, by_name);
    *n = k;
    return SS_OK;
}

void ss_input_files_free(char **files, size_t n) {
    for (size_t i = 0; i < n; i++) ss_free(files[i]);
    ss_free(files);
}
