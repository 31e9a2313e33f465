/* savepoint.c — the savepoint file (savepoint.h). */
#include "savepoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/dirs.h"
#include "../core/fdio.h"
#include "../core/hash.h"
#include "../core/snap.h"

#define MAGIC "SHOPSTREAM-SAVEPOINT"
#define VERSION 1
#define HEADER_BYTES (sizeof MAGIC - 1 + 4 + 8 + 8)

static void tmp_path(const char *path, char *out, size_t cap) { snprintf(out, cap, "%s.tmp", path); }

int ss_savepoint_stage(const char *path, const struct ss_buf *body, struct ss_err *err) {
    char tmp[PATH_MAX];
    tmp_path(path, tmp, sizeof tmp);
    int rc = ss_mkdirs_for_file(path, err);
    if (rc) return rc;
    struct ss_buf head = {0};
    ss_buf_add(&head, MAGIC, sizeof MAGIC - 1);
    ss_snap_u32(&head, VERSION);
    ss_snap_i64(&head, (int64_t)body->len);
    ss_snap_i64(&head, (int64_t)XXH64(body->p, body->len, 0));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && ss_write_all(fd, head.p, head.len) == 0 && ss_write_all(fd, body->p, body->len) == 0 &&
             fsync(fd) == 0;
    int e = errno;
    ss_free(head.p);
    if (fd >= 0) close(fd);
    if (ok) return SS_OK;
    unlink(tmp);
    return ss_err_set(err, SS_EIO, "cannot write the savepoint %s: %s", tmp, strerror(e));
}

int ss_savepoint_publish(const char *path, struct ss_err *err) {
    char tmp[PATH_MAX], dir[PATH_MAX];
    tmp_path(path, tmp, sizeof tmp);
    if (rename(tmp, path) != 0)
        return ss_err_set(err, SS_EIO, "cannot rename the savepoint %s to %s: %s", tmp, path, strerror(errno));
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = 0;
    else *slash = 0;
    int rc = ss_fsync_dir(dir, err);
    return rc ? ss_err_wrap(err, "savepoint %s", path) : SS_OK;
}

int ss_savepoint_read(const char *path, struct ss_buf *body, bool *found, struct ss_err *err) {
    *found = false;
    memset(body, 0, sizeof *body);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return SS_OK;
        return ss_err_set(err, SS_EIO, "cannot open the savepoint %s: %s", path, strerror(errno));
    }
    struct ss_buf all = {0};
    char chunk[1 << 16];
    ssize_t r;
    while ((r = read(fd, chunk, sizeof chunk)) != 0) {
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            ss_free(all.p);
            return ss_err_set(err, SS_EIO, "cannot read the savepoint %s: %s", path, strerror(e));
        }
        ss_buf_add(&all, chunk, (size_t)r);
    }
    close(fd);
    *found = true;
    const char *why = NULL;
    struct ss_snap_r h = ss_snap_reader(all.p, all.len);
    if (all.len < HEADER_BYTES || memcmp(all.p, MAGIC, sizeof MAGIC - 1) != 0) {
        why = "it is not a shopstream savepoint";
    } else {
        h.p += sizeof MAGIC - 1;
        uint32_t version = ss_snap_get_u32(&h);
        uint64_t len = (uint64_t)ss_snap_get_i64(&h), sum = (uint64_t)ss_snap_get_i64(&h);
        if (version != VERSION) why = "it is of another format version (written by another shopstream release)";
        else if (len != all.len - HEADER_BYTES) why = "it is cut short or has bytes added (its length is not the one written)";
        else if (sum != XXH64(all.p + HEADER_BYTES, len, 0)) why = "it is damaged (its checksum does not match)";
    }
    if (why) {
        ss_free(all.p);
        return ss_err_set(err, SS_ERROR,
                          "savepoint %s cannot be loaded: %s; move it away to start with empty state (the windows and "
                          "sessions open at the last stop then miss what came before it)",
                          path, why);
    }
    memmove(all.p, all.p + HEADER_BYTES, all.len - HEADER_BYTES);
    all.len -= HEADER_BYTES;
    *body = all;
    return SS_OK;
}

int ss_savepoint_remove(const char *path, struct ss_err *err) {
    char tmp[PATH_MAX];
    tmp_path(path, tmp, sizeof tmp);
    if (unlink(path) != 0 && errno != ENOENT)
        return ss_err_set(err, SS_EIO, "cannot remove the savepoint %s: %s", path, strerror(errno));
    if (unlink(tmp) != 0 && errno != ENOENT)
        return ss_err_set(err, SS_EIO, "cannot remove %s: %s", tmp, strerror(errno));
    return SS_OK;
}
