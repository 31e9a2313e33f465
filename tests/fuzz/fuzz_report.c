/* fuzz_report.c — libFuzzer target for `shopstream report` (src/report/report.c) over a
 * lake holding one damaged or foreign file. fuzz_pqread covers the reader; this covers
 * what the report does with the values a file that still reads yields (sums, days,
 * interned ids, dictionary caches): whatever they are, the report is built and
 * written, or refused with an error naming the file, never undefined behaviour.
 *
 * Each input is one file's bytes. The table whose schema it has (found with
 * ss_pqr_open_mem; none: the events table, where the reader refuses it) decides where
 * it goes: LAKE/<table>/part.parquet, in a lake of its own per process (removed at
 * exit); then ss_report_build and ss_report_write (CSV and JSON, to memory).
 *
 * Build: see tests/fuzz/README.md. Define SS_FUZZ_MAIN to get a plain main() that
 * replays files (works with gcc, no libFuzzer needed). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/table.h"
#include "report/pqread.h"
#include "report/report.h"

#define FUZZ_NAME "fuzz_report"
#include "fuzz.h"

static char lake[64];

static void remove_lake(void) {
    char path[256];
    for (int t = 0; t < SS_T_COUNT; t++) {
        snprintf(path, sizeof path, "%s/%s/part.parquet", lake, ss_tables[t].name);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s", lake, ss_tables[t].name);
        rmdir(path);
    }
    rmdir(lake);
}

static enum ss_table_id table_of(const uint8_t *data, size_t size) {
    for (int t = 0; t < SS_T_COUNT; t++) {
        struct ss_pqr *r;
        struct ss_err err = {0};
        if (ss_pqr_open_mem(&r, "x", data, size, &ss_tables[t], &err) == SS_OK) {
            ss_pqr_close(r);
            return (enum ss_table_id)t;
        }
    }
    return SS_T_EVENTS;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[256];
    if (!lake[0]) {
        /* the lake and a directory per table, once; each input replaces the one file */
        ss_log_set_level(SS_LOG_ERROR);
        snprintf(lake, sizeof lake, "/tmp/fuzz_report.%d", (int)getpid());
        mkdir(lake, 0755);
        for (int t = 0; t < SS_T_COUNT; t++) {
            snprintf(path, sizeof path, "%s/%s", lake, ss_tables[t].name);
            mkdir(path, 0755);
        }
        atexit(remove_lake);
    }
    for (int t = 0; t < SS_T_COUNT; t++) {
        snprintf(path, sizeof path, "%s/%s/part.parquet", lake, ss_tables[t].name);
        unlink(path);
    }
    enum ss_table_id t = table_of(data, size);
    snprintf(path, sizeof path, "%s/%s/part.parquet", lake, ss_tables[t].name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);

    struct ss_report_opts o = {.lake = lake, .top = 3};
    struct ss_report *rp = NULL;
    struct ss_err err = {0};
    int rc = ss_report_build(&rp, &o, &err);
    if (rc) {
        FUZZ_CHECK(rc == SS_ERROR || rc == SS_EIO);
        if (!strstr(err.msg, path)) fprintf(stderr, "fuzz_report: an error without the file: %s\n", err.msg);
        FUZZ_CHECK(strstr(err.msg, path) != NULL);
        return 0;
    }
    for (int fmt = SS_REPORT_CSV; fmt <= SS_REPORT_JSON; fmt++) {
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        FUZZ_CHECK(m != NULL);
        FUZZ_CHECK(ss_report_write(rp, (enum ss_report_format)fmt, m, &err) == SS_OK);
        fclose(m);
        free(text);
    }
    ss_report_free(rp);
    return 0;
}
