/* report.c — `shopstream report --lake DIR`: batch analytics over the Parquet lake the
 * parquet:DIR sink wrote (src/report/report.h does the work); flags, output format,
 * progress, exit codes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../report/report.h"
#include "cmd.h"

static void report_usage(FILE *f) {
    fprintf(f,
            "usage: shopstream report --lake DIR [--format table|csv|json] [options]\n"
            "\n"
            "Reads the Parquet lake written by `shopstream run --sink parquet:DIR` and prints: the lake's\n"
            "tables; revenue, orders and units per category per day; top products by revenue and by views;\n"
            "funnel conversion per day; sessions of converters versus non-converters; data quality.\n"
            "\n"
            "  -l, --lake DIR        the lake directory (required)\n"
            "  -f, --format F        table (default: aligned columns under section titles),\n"
            "                        csv (one CSV block per table, first column `section` = SECTION.BLOCK,\n"
            "                        blocks separated by a blank line), json (one object, a key per section)\n"
            "  -n, --top N           products in each top list (default 10)\n"
            "      --progress        progress line on stderr (default: only when stderr is a terminal);\n"
            "                        ends with the rows read per second\n"
            "      --no-progress     never show progress\n"
            "  -h, --help            this help\n"
            "\n");
    fputs(SS_REPORT_SOURCES, f);
    fprintf(f, "\nExit status: 0 done, 1 lake missing or unreadable, 2 bad usage.\n");
}

int ss_cmd_report(int argc, char **argv) {
    static const struct option opts[] = {
        {"lake", required_argument, 0, 'l'},  {"format", required_argument, 0, 'f'},
        {"top", required_argument, 0, 'n'},   {"progress", no_argument, 0, 'P'},
        {"no-progress", no_argument, 0, 'Q'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    struct ss_report_opts o = {0};
    enum ss_report_format fmt = SS_REPORT_TABLE;
    int progress = -1;
    int c;
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "l:f:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': o.lake = optarg; break;
        case 'f':
            if (!strcmp(optarg, "table")) fmt = SS_REPORT_TABLE;
            else if (!strcmp(optarg, "csv")) fmt = SS_REPORT_CSV;
            else if (!strcmp(optarg, "json")) fmt = SS_REPORT_JSON;
            else {
                fprintf(stderr, "shopstream report: --format must be table, csv or json, got \"%s\"\n", optarg);
                return SS_EXIT_USAGE;
            }
            break;
        case 'n': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || v < 1 || v > 1000000) {
                fprintf(stderr, "shopstream report: --top must be an integer from 1 to 1000000, got \"%s\"\n",
                        optarg);
                return SS_EXIT_USAGE;
            }
            o.top = (int)v;
            break;
        }
        case 'P': progress = 1; break;
        case 'Q': progress = 0; break;
        case 'h': report_usage(stdout); return SS_EXIT_OK;
        default: fprintf(stderr, "shopstream report: see `shopstream report --help`\n"); return SS_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "shopstream report: unexpected argument \"%s\" (the lake is given with --lake DIR)\n",
                argv[optind]);
        return SS_EXIT_USAGE;
    }
    if (!o.lake || !*o.lake) {
        fprintf(stderr, "shopstream report: no lake: give --lake DIR (the directory of --sink parquet:DIR)\n");
        return SS_EXIT_USAGE;
    }
    o.progress = progress < 0 ? isatty(STDERR_FILENO) : progress;
    o.progress_to = stderr;

    struct ss_err err = {0};
    struct ss_report *rp = NULL;
    if (ss_report_build(&rp, &o, &err) != SS_OK) {
        fprintf(stderr, "shopstream report: %s\n", err.msg);
        return err.code == SS_EUSAGE ? SS_EXIT_USAGE : SS_EXIT_FAIL;
    }
    if (o.progress) {
        const struct ss_report_stats *st = ss_report_stats(rp);
        double secs = (double)st->read_ns / 1e9, esecs = (double)st->event_ns / 1e9;
        fprintf(stderr, "report: read %lld rows from %lld files in %.3f s (%.2fM rows/s); events table %lld rows, "
                        "%.2fM rows/s\n",
                (long long)st->rows, (long long)st->files, secs, secs > 0 ? (double)st->rows / secs / 1e6 : 0.0,
                (long long)st->event_rows, esecs > 0 ? (double)st->event_rows / esecs / 1e6 : 0.0);
    }
    int rc = ss_report_write(rp, fmt, stdout, &err);
    ss_report_free(rp);
    if (rc != SS_OK) {
        fprintf(stderr, "shopstream report: %s\n", err.msg);
        return SS_EXIT_FAIL;
    }
    return SS_EXIT_OK;
}
