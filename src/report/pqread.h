/* pqread.h — a Parquet reader for exactly the files our lake writer produces
 * (src/sink/parquet/writer.h), used by `shopstream report` (report.c) to read the
 * lake back. It is deliberately narrow: a flat schema whose columns match one output
 * table (src/core/table.c) by name, physical type and repetition; data page v1;
 * PLAIN or RLE_DICTIONARY values (a chunk may switch from dictionary to PLAIN midway);
 * RLE / bit-packed definition levels for OPTIONAL columns; codecs none, snappy, zstd.
 * Anything else (data page v2, other encodings or codecs, nested or repeated columns,
 * external column chunks) is rejected with an SS_ERROR whose message names the file
 * and what was found, never misread.
 *
 * Values come out as struct ss_val rows in the table's column order, typed as the
 * engine types them: MONEY back in ten-thousandths (the lake stores DECIMAL(18,2)
 * cents, multiplied by 100 here), RATIO in ten-thousandths of 1 (DECIMAL(18,4) as
 * is), TS in ms, BOOL 0/1, strings as (s, len) — NOT NUL-terminated — null flagged.
 * A dictionary-encoded string also carries its dictionary index + 1 in `i` (0 for a
 * PLAIN one): equal indices within one row group are equal strings, so a caller can
 * cache per-entry work (hash lookups) for the row group (ss_pqr_row_group).
 *
 * Lifetime: the rows returned by ss_pqr_next (and the strings they point to, which
 * live in the mapped file or in the decompressed pages of the current row group)
 * stay valid until the next ss_pqr_next call that moves to another row group, and
 * at most until ss_pqr_close. Copy what you keep. */
#ifndef SS_PQREAD_H
#define SS_PQREAD_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"
#include "../core/table.h"

struct ss_pqr;

/* Maps the file, parses and checks the footer against tbl. SS_EIO when the file
 * cannot be opened or read, SS_ERROR when it is not a Parquet file we can read. */
int ss_pqr_open(struct ss_pqr **out, const char *path, const struct ss_table *tbl, struct ss_err *err);

/* The same over a file already in memory: `name` stands for it in messages, and
 * data[0..size) must stay unchanged until ss_pqr_close. For tests and the fuzz target
 * (tests/fuzz/fuzz_pqread.c): an exactly sized heap copy lets AddressSanitizer see a
 * read past the end, which a mapping's padding to whole pages hides. */
int ss_pqr_open_mem(struct ss_pqr **out, const char *name, const uint8_t *data, size_t size,
                    const struct ss_table *tbl, struct ss_err *err);

/* Rows in the whole file (from the footer). */
int64_t ss_pqr_num_rows(const struct ss_pqr *r);

/* Fills *rows with up to max (>= 1) consecutive rows, row-major, tbl->ncols values
 * each, and *n with their count; never crosses a row group. SS_EOF (with *n = 0)
 * after the last row; SS_ERROR on corrupt or unsupported data (message names the
 * file, the column and the row group). The buffer is the reader's own. */
int ss_pqr_next(struct ss_pqr *r, const struct ss_val **rows, size_t *n, size_t max, struct ss_err *err);

/* The row group the rows of the last ss_pqr_next came from (0-based). */
size_t ss_pqr_row_group(const struct ss_pqr *r);

void ss_pqr_close(struct ss_pqr *r);  /* NULL is fine */

#endif
