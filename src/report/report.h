/* report.h — `shopstream report`: batch analytics over the Parquet lake the
 * `parquet:DIR` sink writes, read back with the lake reader (pqread.h). The command
 * (src/cmd/report.c) parses flags; this module reads the lake, aggregates and
 * prints. Every figure is derived from exactly one lake table, as documented in
 * report.c and in `shopstream report --help` (SS_REPORT_SOURCES below), so each can be
 * checked against the streaming tables of the same run. */
#ifndef SS_REPORT_H
#define SS_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/err.h"

enum ss_report_format { SS_REPORT_TABLE, SS_REPORT_CSV, SS_REPORT_JSON };

struct ss_report_opts {
    const char *lake;   /* the directory given to parquet:DIR */
    int top;            /* products per top list; 0 -> 10 */
    bool progress;      /* progress line (and a closing speed line) on `progress_to` */
    FILE *progress_to;  /* NULL -> stderr */
};

/* Read statistics (wall-clock, so never part of the report itself). */
struct ss_report_stats {
    int64_t files, rows;          /* every lake file and row read (footers included) */
    int64_t event_rows;           /* rows of the events table */
    int64_t read_ns, event_ns;    /* time reading + aggregating: all, events table only */
};

struct ss_report;

/* Reads the whole lake. SS_EIO when the lake directory is missing or a file cannot
 * be read, SS_ERROR when a file is not one our writer produced (message names it). */
int ss_report_build(struct ss_report **out, const struct ss_report_opts *o, struct ss_err *err);
/* Writes the report. SS_EIO when writing to f fails. */
int ss_report_write(const struct ss_report *rp, enum ss_report_format fmt, FILE *f, struct ss_err *err);
const struct ss_report_stats *ss_report_stats(const struct ss_report *rp);
void ss_report_free(struct ss_report *rp);  /* NULL is fine */

/* Where each figure comes from (printed by --help). */
extern const char SS_REPORT_SOURCES[];

#endif
