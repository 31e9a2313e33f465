/* savepoint.h — the savepoint file (README "Savepoints"): the operators' state and the
 * input positions it covers, as engine.c serialises them (core/snap.h).
 *
 * Written whole to PATH.tmp and fsynced, then renamed over PATH once the sinks hold
 * every output the state has produced: so PATH is a complete savepoint or absent, never
 * a half-written one, and never ahead of the outputs. A header (magic, format version,
 * body length, XXH64 of the body) finds a file that is not a savepoint, is of another
 * version or was damaged, before anything of it is loaded. */
#ifndef SS_SAVEPOINT_H
#define SS_SAVEPOINT_H

#include <stdbool.h>

#include "../core/buf.h"
#include "../core/err.h"

/* Writes body to PATH.tmp and fsyncs it. SS_EIO naming the file otherwise. */
int ss_savepoint_stage(const char *path, const struct ss_buf *body, struct ss_err *err);
/* Renames PATH.tmp over PATH and fsyncs the directory. */
int ss_savepoint_publish(const char *path, struct ss_err *err);
/* Reads PATH's body into *body (freed by the caller). *found is false, with SS_OK, when
 * there is no PATH. SS_ERROR naming the file when it is not a whole savepoint of this
 * format; SS_EIO when it cannot be read. */
int ss_savepoint_read(const char *path, struct ss_buf *body, bool *found, struct ss_err *err);
/* Removes PATH and PATH.tmp (absent ones are no error). */
int ss_savepoint_remove(const char *path, struct ss_err *err);

#endif
