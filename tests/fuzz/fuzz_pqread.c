/* fuzz_pqread.c — libFuzzer target for the lake's Parquet reader (src/report/pqread.c),
 * the input side of `shopstream report`. A user's lake can hold a file cut short by a
 * crash or a full disk, or a file some other tool wrote or damaged: whatever the bytes,
 * the reader must answer with an error that names the file, never crash, loop, read
 * out of bounds or allocate without bound.
 *
 * Each input is one file's bytes, in an exactly sized heap block (ss_pqr_open_mem), so
 * AddressSanitizer sees any read past its end. It is opened as every lake table in turn
 * (a file matches at most one table's schema; the others are refused at the footer) and
 * read to the end, in the reader's own batches and in batches of 7 rows. Beyond "no crash", it
 * checks: every code is one the API documents; an error names the file; a null only in a
 * nullable column; booleans 0/1, money whole cents; every string's bytes readable; no
 * batch empty or over its limit; row groups in order; and a file read to its end yields
 * exactly the rows its footer declares.
 *
 * Build: see tests/fuzz/README.md. Define SS_FUZZ_MAIN to get a plain main() that
 * replays files (works with gcc, no libFuzzer needed). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/table.h"
#include "report/pqread.h"

#define FUZZ_NAME "fuzz_pqread"
#include "fuzz.h"

#define NAME "lake/events/dt=2026-11-24/hour=08/part-fuzz.parquet"

static volatile uint8_t sink;  /* keeps the string reads below from being optimised away */

static void check_err(int rc, const struct ss_err *err) {
    FUZZ_CHECK(rc == SS_ERROR || rc == SS_EIO);
    FUZZ_CHECK(err->msg[0] != '\0');
    FUZZ_CHECK(strstr(err->msg, NAME) != NULL);
}

/* Reads the file as table t in batches of at most max rows (0: the reader's own size);
 * 1 when it opened. */
static int read_as_max(const uint8_t *data, size_t size, enum ss_table_id t, size_t max) {
    const struct ss_table *tb = &ss_tables[t];
    struct ss_pqr *r = NULL;
    struct ss_err err = {0};
    int rc = ss_pqr_open_mem(&r, NAME, data, size, tb, &err);
    if (rc) {
        FUZZ_CHECK(r == NULL);
        check_err(rc, &err);
        return 0;
    }
    int64_t declared = ss_pqr_num_rows(r), got = 0;
    FUZZ_CHECK(declared >= 0);
    size_t group = 0;
    for (;;) {
        const struct ss_val *rows;
        size_t n = 99;
        rc = ss_pqr_next(r, &rows, &n, max, &err);
        if (rc == SS_EOF) {
            FUZZ_CHECK(n == 0);
            FUZZ_CHECK(got == declared);
            break;
        }
        if (rc) {
            FUZZ_CHECK(n == 0);
            check_err(rc, &err);
            break;
        }
        FUZZ_CHECK(n >= 1 && n <= (max ? max : 4096));
        FUZZ_CHECK(ss_pqr_row_group(r) >= group);
        group = ss_pqr_row_group(r);
        for (size_t i = 0; i < n * (size_t)tb->ncols; i++) {
            const struct ss_val *v = &rows[i];
            const struct ss_column *cd = &tb->cols[i % (size_t)tb->ncols];
            if (v->null) {
                FUZZ_CHECK(cd->nullable);
                continue;
            }
            switch (cd->type) {
            case SS_COL_STR:
            case SS_COL_JSON: {
                FUZZ_CHECK(v->i >= 0);
                uint8_t x = 0;
                for (uint32_t k = 0; k < v->len; k++) x ^= (uint8_t)v->s[k];
                sink = x;
                break;
            }
            case SS_COL_BOOL: FUZZ_CHECK(v->i == 0 || v->i == 1); break;
            case SS_COL_MONEY: FUZZ_CHECK(v->i % 100 == 0); break;
            default: break;
            }
        }
        got += (int64_t)n;
        FUZZ_CHECK(got <= declared);
    }
    ss_pqr_close(r);
    return 1;
}

/* In the reader's own batches, then (when the file opened) in batches of 7 rows, which
 * end inside pages and runs. */
static void read_as(const uint8_t *data, size_t size, enum ss_table_id t) {
    if (read_as_max(data, size, t, 0)) read_as_max(data, size, t, 7);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ss_log_set_level(SS_LOG_ERROR);
    /* the reader keeps pointers into the bytes until close: a copy of exactly their
     * size, so that a read one past the end is an AddressSanitizer report */
    uint8_t *copy = ss_malloc(size ? size : 1);
    if (size) memcpy(copy, data, size);
    for (int t = 0; t < SS_T_COUNT; t++) read_as(copy, size, (enum ss_table_id)t);
    ss_free(copy);
    return 0;
}
