/* test_report.c — `shopstream report` (src/report/report.c) over lakes holding files that
 * read as Parquet yet carry values no run writes (a damaged or foreign file): the report
 * is either right or an error that names the file, never a wrapped sum (undefined
 * behaviour in C, a negative figure in the report). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "report/report.h"
#include "sink/parquet/writer.h"
#include "harness.h"

static char dir[64];

/* Writes rows of table t as LAKE/<table>/<name>.parquet; the file's path in path. */
static void lake_file(const char *lake, enum ss_table_id t, const char *name, const struct ss_val *rows, size_t n,
                      char *path, size_t cap) {
    snprintf(path, cap, "%s/%s", lake, ss_tables[t].name);
    mkdir(lake, 0755);
    mkdir(path, 0755);
    snprintf(path, cap, "%s/%s/%s.parquet", lake, ss_tables[t].name, name);
    struct ss_pq_opts o;
    ss_pq_opts_default(&o);
    struct ss_pq_writer *w;
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_pq_open(&w, path, &ss_tables[t], &o, &err), SS_OK);
    CHECK_EQ_INT(ss_pq_write(w, rows, NULL, n, &err), SS_OK);
    CHECK_EQ_INT(ss_pq_close(w, &err), SS_OK);
}

/* The report of lake as CSV (NULL on an error, in err). */
static char *report_csv(const char *lake, struct ss_err *err) {
    struct ss_report_opts o = {.lake = lake};
    struct ss_report *rp;
    if (ss_report_build(&rp, &o, err)) return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK_EQ_INT(ss_report_write(rp, SS_REPORT_CSV, f, err), SS_OK);
    fclose(f);
    ss_report_free(rp);
    return text;
}

/* Two sessions of 2^62 s each: their durations, views and events summed in 64 bits
 * wrapped (UBSan: signed overflow in agg_session), and the average printed was not
 * 2^62. The sums are 128-bit, as the money sums already were. */
TEST(test_session_sums) {
    char lake[128], path[256];
    snprintf(lake, sizeof lake, "%s/lake1", dir);
    struct ss_val rows[2 * SS_SE_NCOLS] = {{0}};
    for (int i = 0; i < 2; i++) {
        struct ss_val *v = rows + i * SS_SE_NCOLS;
        v[SS_SE_USER_ID] = (struct ss_val){.s = "u", .len = 1};
        v[SS_SE_DURATION_S].i = v[SS_SE_VIEWS].i = v[SS_SE_EVENTS].i = (int64_t)1 << 62;
        v[SS_SE_CONVERTED].i = 1;
    }
    lake_file(lake, SS_T_SESSIONS, "big", rows, 2, path, sizeof path);
    struct ss_err err = {0};
    char *csv = report_csv(lake, &err);
    CHECK(csv != NULL);
    if (!csv) fprintf(stderr, "report: %s\n", err.msg);
    CHECK(csv && strstr(csv, "4611686018427387904.00") != NULL);  /* 2^62, the average */
    free(csv);
}

/* Counts whose sum passes 2^63 cannot be printed as the count they are: refused, naming
 * the file (data_quality totals; an events purchase whose price x quantity overflows,
 * whose message named the event but not the file). */
TEST(test_overflowing_counts) {
    char lake[128], path[256];
    snprintf(lake, sizeof lake, "%s/lake2", dir);
    struct ss_val dq[2 * SS_DQ_NCOLS] = {{0}};
    dq[SS_DQ_TOTAL].i = dq[SS_DQ_NCOLS + SS_DQ_TOTAL].i = INT64_MAX;
    dq[SS_DQ_NCOLS + SS_DQ_MINUTE_START].i = 60000; /* two minutes: both count */
    lake_file(lake, SS_T_DATA_QUALITY, "dq", dq, 2, path, sizeof path);
    struct ss_err err = {0};
    char *csv = report_csv(lake, &err);
    CHECK(csv == NULL);
    CHECK(strstr(err.msg, path) != NULL && strstr(err.msg, "total") != NULL);
    free(csv);

    snprintf(lake, sizeof lake, "%s/lake3", dir);
    struct ss_val ev[SS_EV_NCOLS] = {
        [SS_EV_EVENT_ID] = {.s = "e1", .len = 2},       [SS_EV_EVENT_TYPE] = {.s = "purchase", .len = 8},
        [SS_EV_USER_ID] = {.s = "u1", .len = 2},        [SS_EV_PRODUCT_ID] = {.s = "p1", .len = 2},
        [SS_EV_CATEGORY] = {.s = "c", .len = 1},        [SS_EV_PRICE] = {.i = 100000000000000},
        [SS_EV_QUANTITY] = {.i = 1000000},              [SS_EV_SESSION_ID] = {.null = 1},
        [SS_EV_ORDER_ID] = {.null = 1},
    };
    lake_file(lake, SS_T_EVENTS, "ev", ev, 1, path, sizeof path);
    csv = report_csv(lake, &err);
    CHECK(csv == NULL);
    CHECK(strstr(err.msg, path) != NULL && strstr(err.msg, "overflows") != NULL);
    free(csv);
}

/* Two categories of one day whose orders each fit in 64 bits but not their total: the
 * total line of the category section was a signed overflow (UBSan in build_category;
 * found by fuzz_report). Refused, naming the file, like a category's own sum. */
TEST(test_category_totals) {
    char lake[128], path[256];
    snprintf(lake, sizeof lake, "%s/lake4", dir);
    struct ss_val hs[2 * SS_HS_NCOLS] = {{0}};
    for (int i = 0; i < 2; i++) {
        struct ss_val *v = hs + i * SS_HS_NCOLS;
        v[SS_HS_CATEGORY] = (struct ss_val){.s = i ? "b" : "a", .len = 1};
        v[SS_HS_ORDERS].i = v[SS_HS_UNITS].i = INT64_MAX / 2 + 1;
        v[SS_HS_FINAL].i = 1;
    }
    lake_file(lake, SS_T_HOURLY_SALES, "hs", hs, 2, path, sizeof path);
    struct ss_err err = {0};
    char *csv = report_csv(lake, &err);
    CHECK(csv == NULL);
    CHECK(strstr(err.msg, path) != NULL && strstr(err.msg, "hourly_sales.orders") != NULL);
    free(csv);
}

/* A minute's row written again by a run resumed from a savepoint (README "Savepoints")
 * holds the minute's whole count: the later version replaces the earlier one in the
 * totals, in whichever order the files are read. */
TEST(test_quality_minute_written_twice) {
    char lake[128], path[256];
    snprintf(lake, sizeof lake, "%s/lake5", dir);
    static const int64_t v[][3] = {{60000, 10, 9}, {120000, 5, 5}, {60000, 25, 20}, {60000, 12, 11}};
    struct ss_val dq[4 * SS_DQ_NCOLS] = {{0}};
    for (int i = 0; i < 4; i++) {
        dq[i * SS_DQ_NCOLS + SS_DQ_MINUTE_START].i = v[i][0];
        dq[i * SS_DQ_NCOLS + SS_DQ_TOTAL].i = v[i][1];
        dq[i * SS_DQ_NCOLS + SS_DQ_VALID].i = v[i][2];
        dq[i * SS_DQ_NCOLS + SS_DQ_MALFORMED].i = v[i][1] - v[i][2];
    }
    lake_file(lake, SS_T_DATA_QUALITY, "dq", dq, 4, path, sizeof path);
    struct ss_err err = {0};
    char *csv = report_csv(lake, &err);
    CHECK(csv != NULL);
    const char *row = csv ? strstr(csv, "data_quality.totals,") : NULL;
    if (!row) fprintf(stderr, "%s\n", csv ? csv : err.msg);
    CHECK(row && strncmp(row, "data_quality.totals,30,25,5,5,", 30) == 0); /* 25 + 5 records, 20 + 5 valid */
    free(csv);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/test_report.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_session_sums);
    RUN(test_overflowing_counts);
    RUN(test_category_totals);
    RUN(test_quality_minute_written_twice);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return ss_t_report("report");
}
