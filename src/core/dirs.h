/* dirs.h — `mkdir -p` for the places a user names: sink directories, the SQLite file's
 * directory, produce's output. A missing parent is created rather than refused, as
 * `run` without --sink writes data/shopstream.db into a data/ that may not exist yet.
 * (The lake has its own, which also makes each new directory durable.) */
#ifndef SS_DIRS_H
#define SS_DIRS_H

#include <stdbool.h>

#include "err.h"

/* Creates path and every missing parent (mode 0755). SS_OK, or SS_EIO naming the
 * directory that could not be created and why. */
int ss_mkdirs(const char *path, struct ss_err *err);
/* The same for the directory part of a file path ("data/x.db" -> "data"); nothing to
 * do for a bare file name. */
int ss_mkdirs_for_file(const char *file, struct ss_err *err);
/* The absolute path, without symbolic links, "." or "..", that path names, also while
 * part of it does not exist yet: there it is the one ss_mkdirs(path) would create
 * (the nearest existing parent's realpath, then the rest, ".." taking the component
 * before it away). Two spellings of one place, such as "o", "./o/", "x/../o" and a
 * symbolic link to o, resolve alike. out holds PATH_MAX bytes. SS_EUSAGE for an empty
 * or too long path, SS_EIO when the current directory cannot be named. */
int ss_path_resolve(const char *path, char *out, struct ss_err *err);

/* One process writes a sink's place at a time: takes PATH's flock (exclusive, without
 * waiting) on a descriptor of its own, *fd (O_CLOEXEC; the kernel drops the lock when the
 * process dies, and nothing is left behind). PATH is a directory when dir is set. Held
 * elsewhere (another process, or another descriptor of this one): SS_EUSAGE, "another
 * process is writing PATH (it holds the WHAT's lock): HINT"; SS_EIO when PATH cannot be
 * opened or locked. *fd is -1 unless SS_OK; the caller closes it. */
int ss_lock_exclusive(const char *path, bool dir, const char *what, const char *hint, int *fd, struct ss_err *err);

/* Makes the entries of dir (a rename into it, a file created) durable: fsync of the
 * directory. SS_EIO naming it otherwise, retriable when the cause may pass (a full
 * disk, EIO, too many open files). */
int ss_fsync_dir(const char *dir, struct ss_err *err);

/* Whether an open() of a path the user named failed for a reason the user must fix in the
 * path: missing (ENOENT, ENOTDIR), not permitted (EACCES), a directory, too long, a loop.
 * Such a failure at start is bad usage (exit 2), as a sink's path is; others are I/O. */
bool ss_path_errno_is_usage(int e);

#endif
