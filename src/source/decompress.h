/* decompress.h — reads a file descriptor as plain bytes whether it holds text, gzip or
 * zstd, for the file source (file.c): backfills usually come as clicks.jsonl.gz or
 * .zst, as Spark and Flink read them. The kind is told by the first bytes (gzip
 * 1f 8b, zstd 28 b5 2f fd), not by the name, so a compressed stdin works too; no
 * JSON or CSV text starts with either. Concatenated members (gzip -c a >> f) and
 * frames are read one after another, as gzip -d and zstd -d do. */
#ifndef SS_DECOMPRESS_H
#define SS_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../core/err.h"

struct ss_decomp;

/* What ss_decomp_read answers when a stream has nothing to give yet. */
#define SS_DECOMP_AGAIN (-2)

/* Wraps fd (not closed by ss_decomp_free). `what` names the input in read errors;
 * the caller names it in front of the others. `stream`: fd is a pipe, FIFO, socket
 * or terminal, whose reads block until a writer sends something: it is polled first,
 * and read only when it has bytes (or its end) to give. A regular file is read as it
 * is, with no syscall more. */
struct ss_decomp *ss_decomp_new(int fd, const char *what, bool stream);

/* Up to cap plain bytes into buf: the count, 0 at the end, or -1 with err filled
 * (a read error, corrupt data, or a compressed stream cut short). A stream answers
 * what it has as soon as it has some (for compressed input: as soon as some comes out
 * decompressed), and SS_DECOMP_AGAIN when nothing came within wait_ms (at most one
 * wait per call; a signal ends it early). wait_ms is ignored for a regular file. */
ssize_t ss_decomp_read(struct ss_decomp *d, char *buf, size_t cap, int wait_ms, struct ss_err *err);

/* Whether input that starts with the n bytes at head (the whole input when n < 4)
 * is plain text rather than gzip or zstd, as ss_decomp_read would find. */
bool ss_decomp_is_plain(const unsigned char *head, size_t n);

/* "plain", "gzip" or "zstd" once the first read has told it, else "plain". */
const char *ss_decomp_kind(const struct ss_decomp *d);

void ss_decomp_free(struct ss_decomp *d);

#endif
