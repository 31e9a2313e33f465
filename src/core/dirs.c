/* dirs.c — see dirs.h. */
#include "dirs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int make_one(const char *dir, struct ss_err *err) {
    if (mkdir(dir, 0755) == 0 || errno == EEXIST) return SS_OK;
    return ss_err_set(err, SS_EIO, "cannot create directory %s: %s", dir, strerror(errno));
}

int ss_mkdirs(const char *path, struct ss_err *err) {
    char tmp[PATH_MAX];
    if (!*path) return ss_err_set(err, SS_EUSAGE, "empty directory path");
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return ss_err_set(err, SS_EUSAGE, "directory path too long: %s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        int rc = make_one(tmp, err);
        if (rc) return rc;
        *p = '/';
    }
    return make_one(tmp, err);
}

int ss_mkdirs_for_file(const char *file, struct ss_err *err) {
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", file) >= (int)sizeof dir)
        return ss_err_set(err, SS_EUSAGE, "file path too long: %s", file);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return SS_OK; /* "x.db" or "/x.db" */
    *slash = '\0';
    return ss_mkdirs(dir, err);
}
