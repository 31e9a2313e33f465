/* writer.h — a Parquet file writer for one output table (src/core/table.h), used by
 * the lake sink (parquet_sink.c). Follows apache/parquet-format: data page v1,
 * PLAIN and RLE_DICTIONARY encodings, definition levels for nullable columns,
 * column-chunk statistics, snappy / zstd compression, a Thrift compact footer.
 *
 * Schema, from the table's column descriptors:
 *   STR, JSON -> BYTE_ARRAY  STRING (UTF8)         dictionary-encoded, PLAIN past the limit
 *   INT       -> INT64
 *   MONEY     -> INT64 DECIMAL(18,2)  ten-thousandths rounded half away from zero
 *   RATIO     -> INT64 DECIMAL(18,4)
 *   TS        -> INT64 TIMESTAMP(MILLIS, isAdjustedToUTC) (+ TIMESTAMP_MILLIS)
 *   BOOL      -> BOOLEAN
 *   nullable  -> OPTIONAL with definition levels, else REQUIRED
 *
 * Atomicity: the file is written to a temp file (by default a hidden one beside it,
 * ss_pq_temp_path: DIR/.NAME.tmp, which Spark, Hive, pyarrow datasets and a *.parquet
 * glob all skip; the lake sink keeps its own under DIR/.tmp/), fsynced and renamed to
 * <path> by ss_pq_close. On any error the temp file is removed, so nothing half-written is
 * ever visible under <path>. The caller fsyncs the directory (ss_pq_fsync_dir) to
 * make the rename durable.
 *
 * Errors: SS_EIO (with err->retriable set for ENOSPC, EIO, EDQUOT, EINTR-like
 * conditions, and the message naming the path and strerror), SS_ERROR for a value
 * the schema cannot hold (a null in a non-nullable column). After any error the
 * writer is dead: the temp file is gone and ss_pq_abort frees it. */
#ifndef SS_PQ_WRITER_H
#define SS_PQ_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "../../core/err.h"
#include "../../core/table.h"
#include "../../core/version.h"
#include "encode.h"

#define SS_PQ_CREATED_BY "shopstream version " SS_VERSION " (build " SS_BUILD ")"

struct ss_pq_opts {
    enum ss_pq_codec codec;      /* SS_PQ_UNCOMPRESSED (0), SS_PQ_SNAPPY or SS_PQ_ZSTD */
    int zstd_level;              /* 0 -> 1 */
    size_t row_group_rows;       /* 0 -> 1,000,000 */
    size_t row_group_bytes;      /* 0 -> 128 MiB (compressed pages buffered) */
    size_t page_rows;            /* 0 -> 20,000 values per data page */
    size_t page_bytes;           /* 0 -> 1 MiB of encoded values per data page */
    size_t dict_max_bytes;       /* 0 -> 1 MiB of PLAIN dictionary, then fall back to PLAIN */
    /* Test hook: > 0 makes writes fail with ENOSPC once the file would exceed this
     * many bytes (simulates a full disk). */
    int64_t fail_after_bytes;
};

/* Fills the defaults above, codec zstd. */
void ss_pq_opts_default(struct ss_pq_opts *o);

struct ss_pq_writer;

/* DIR/.NAME.tmp for DIR/NAME (allocated). */
char *ss_pq_temp_path(const char *path);

/* Creates the temp file (truncating a stale one) and writes the magic. path is copied. */
int ss_pq_open(struct ss_pq_writer **out, const char *path, const struct ss_table *tbl,
               const struct ss_pq_opts *opts, struct ss_err *err);
/* The same with the temp file at tmp (on the same file system as path: it is renamed). */
int ss_pq_open_at(struct ss_pq_writer **out, const char *path, const char *tmp, const struct ss_table *tbl,
                  const struct ss_pq_opts *opts, struct ss_err *err);

/* Appends n rows. Row k is rows + (idx ? idx[k] : k) * tbl->ncols. Values are
 * consumed before the call returns. Flushes a row group when it reaches the row or
 * byte limit. */
int ss_pq_write(struct ss_pq_writer *w, const struct ss_val *rows, const uint32_t *idx, size_t n,
                struct ss_err *err);

/* Flushes the last row group, writes the footer, fsyncs, renames to the final path
 * and frees the writer, whatever the outcome. */
int ss_pq_close(struct ss_pq_writer *w, struct ss_err *err);

/* Removes the temp file (if still there) and frees the writer. NULL is fine. */
void ss_pq_abort(struct ss_pq_writer *w);

/* Rows written so far (all row groups, including the one being buffered). */
int64_t ss_pq_rows(const struct ss_pq_writer *w);

/* About the size the file would have if closed now: the bytes written plus those
 * buffered for the current row group (compressed pages, and the page being filled at
 * its encoded size); the footer is not counted. For rolling files by size. */
int64_t ss_pq_bytes(const struct ss_pq_writer *w);

/* fsyncs a directory so renames inside it are durable. */
int ss_pq_fsync_dir(const char *dir, struct ss_err *err);

/* The DECIMAL(18,2) unscaled value for money in ten-thousandths: half away from zero. */
static inline int64_t ss_pq_money_cents(int64_t v) {
    int64_t q = v / 100, r = v % 100;
    if (r >= 50) q++;
    else if (r <= -50) q--;
    return q;
}

#endif
