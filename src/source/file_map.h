/* file_map.h — a regular file mapped into memory for reading, instead of read() into
 * a buffer: the kernel's copy of every byte took 3 % of the pipeline's perf samples over
 * a plain JSON-lines file in the page cache, 17 % when part of it had to come from disk
 * (`_copy_to_iter` on the decoding thread); mapped, the whole run used 3-5 % less CPU.
 *
 * A mapped file that another process truncates (logrotate's copytruncate, a tool that
 * rewrites it in place) would kill the process with SIGBUS at the first read past its
 * new end. Instead, a SIGBUS inside a mapping made here puts zero pages over the rest
 * of the mapping and marks it cut short: the reader notices (ss_file_map_cut_short)
 * and fails with a message, as a read error would. A SIGBUS anywhere else goes on to
 * the handler installed before (the crash report, or the default action).
 *
 * One page of zeros follows the file's bytes, so a short vector load at the very end
 * of the last record reads zeros, as it would read the slack of a buffer. */
#ifndef SS_FILE_MAP_H
#define SS_FILE_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/err.h"

struct ss_file_map;

/* Maps the size bytes of the regular file open at fd (size > 0). SS_ERROR when it
 * cannot (no address space, too many maps at once): the caller reads the file. */
int ss_file_map_open(struct ss_file_map **out, int fd, size_t size, struct ss_err *err);
const char *ss_file_map_data(const struct ss_file_map *m);
/* The file shrank under the mapping: its bytes from *at on (a page boundary at or
 * before the new end) read as zeros. */
bool ss_file_map_cut_short(const struct ss_file_map *m, size_t *at);
/* The bytes before off will not be read again: their pages leave the process's
 * resident set (they stay in the page cache), so a large file mapped whole does not
 * count as memory in use. */
void ss_file_map_done_before(struct ss_file_map *m, size_t off);
void ss_file_map_close(struct ss_file_map *m);

#endif
