/* dirs.c — see dirs.h. */
#include "dirs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int make_one(const char *dir, struct ss_err *err) {
    if (mkdir(dir, 0755) == 0) return SS_OK;
    int e = errno;
    struct stat st;
    /* a file where a directory must be is the user's path to fix (exit 2), as a
     * SQLite path that names a directory is, not a failure of the run */
    if (e == EEXIST && stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return ss_err_set(err, SS_EUSAGE, "%s is not a directory: give the path of a directory", dir);
    if (e == EEXIST) return SS_OK;
    if (e == ENOTDIR)
        return ss_err_set(err, SS_EUSAGE, "cannot create directory %s: a part of the path is not a directory", dir);
    return ss_err_set(err, SS_EIO, "cannot create directory %s: %s", dir, strerror(e));
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

int ss_path_resolve(const char *path, char *out, struct ss_err *err) {
    char abs[PATH_MAX];
    if (!*path) return ss_err_set(err, SS_EUSAGE, "empty path");
    if (*path == '/') {
        if (snprintf(abs, sizeof abs, "%s", path) >= (int)sizeof abs)
            return ss_err_set(err, SS_EUSAGE, "path too long: %s", path);
    } else {
        /* getcwd names the directory without symbolic links */
        if (!getcwd(abs, sizeof abs))
            return ss_err_set(err, SS_EIO, "cannot resolve %s: the current directory: %s", path, strerror(errno));
        size_t n = strlen(abs);
        if (snprintf(abs + n, sizeof abs - n, "/%s", path) >= (int)(sizeof abs - n))
            return ss_err_set(err, SS_EUSAGE, "path too long: %s", path);
    }
    /* From the root, one component at a time: an existing one through realpath (which
     * follows its links), a missing one as written. Behind a missing one nothing exists,
     * so ".." there takes it away again, as mkdir -p does. */
    strcpy(out, "/");
    for (char *save = NULL, *c = strtok_r(abs, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        size_t n = strlen(out);
        if (!strcmp(c, ".")) continue;
        if (!strcmp(c, "..")) {
            char *slash = strrchr(out, '/');
            slash[slash == out] = '\0'; /* "/a/b" -> "/a", "/a" -> "/" */
            continue;
        }
        char next[PATH_MAX], real[PATH_MAX];
        if (snprintf(next, sizeof next, "%s%s%s", out, n > 1 ? "/" : "", c) >= (int)sizeof next)
            return ss_err_set(err, SS_EUSAGE, "path too long: %s", path);
        strcpy(out, realpath(next, real) ? real : next);
    }
    return SS_OK;
}

int ss_lock_exclusive(const char *path, bool dir, const char *what, const char *hint, int *fd, struct ss_err *err) {
    *fd = open(path, O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
    if (*fd < 0) return ss_err_set(err, SS_EIO, "cannot open %s: %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) == 0) return SS_OK;
    int e = errno;
    close(*fd);
    *fd = -1;
    if (e == EWOULDBLOCK)
        return ss_err_set(err, SS_EUSAGE, "another process is writing %s (it holds the %s's lock): %s", path, what, hint);
    return ss_err_set(err, SS_EIO, "cannot lock %s: %s", path, strerror(e));
}

bool ss_path_errno_is_usage(int e) {
    return e == ENOENT || e == ENOTDIR || e == EACCES || e == EISDIR || e == ENAMETOOLONG || e == ELOOP;
}

static bool errno_passes(int e) {
    return e == ENOSPC || e == EDQUOT || e == EIO || e == EAGAIN || e == EBUSY || e == ENFILE || e == EMFILE ||
           e == ENOMEM || e == EINTR;
}

int ss_fsync_dir(const char *dir, struct ss_err *err) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const char *what = "open";
    if (fd >= 0) {
        /* EINVAL: a file system that cannot sync a directory has nothing to sync */
        if (fsync(fd) == 0 || errno == EINVAL) {
            close(fd);
            return SS_OK;
        }
        what = "fsync";
    }
    int e = errno;
    if (fd >= 0) close(fd);
    ss_err_set(err, SS_EIO, "%s directory %s: %s", what, dir, strerror(e));
    if (err) err->retriable = errno_passes(e);
    return SS_EIO;
}
