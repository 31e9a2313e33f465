/* main.c — `shopstream SUBCOMMAND ...`: dispatches to src/cmd/<subcommand>.c. */
#include <stdio.h>
#include <string.h>

#include "../core/crash.h"
#include "../core/version.h"
#include "cmd.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} cmds[] = {
    {"run", ss_cmd_run, "run the pipeline over files, stdin or Kafka"},
    {"produce", ss_cmd_produce, "generate realistic synthetic traffic (files, stdout, Kafka)"},
    {"demo", ss_cmd_demo, "the whole system in one process on an embedded Kafka"},
    {"report", ss_cmd_report, "batch analytics over the Parquet lake"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: shopstream COMMAND [options]   (shopstream COMMAND --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
    fprintf(f, "  %-10s %s\n", "version", "print the version");
}

int main(int argc, char **argv) {
    ss_crash_report_install();
    if (argc < 2) {
        usage(stderr);
        return SS_EXIT_USAGE;
    }
    const char *c = argv[1];
    if (!strcmp(c, "--help") || !strcmp(c, "-h") || !strcmp(c, "help")) {
        usage(stdout);
        return SS_EXIT_OK;
    }
    if (!strcmp(c, "version") || !strcmp(c, "--version")) {
        /* like every command: --help explains, anything else is a mistake to point out */
        if (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
            printf("usage: shopstream version\n\nprints the version, as `shopstream --version` does\n");
            return SS_EXIT_OK;
        }
        if (argc > 2) {
            fprintf(stderr, "shopstream version: unexpected argument \"%s\" (it takes none)\n", argv[2]);
            return SS_EXIT_USAGE;
        }
        printf("shopstream %s\n", SS_VERSION);
        return SS_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(c, cmds[i].name)) {
            /* getopt names argv[0] in its messages ("unrecognized option"): the command's
             * whole name, as every other message of the command gives it, not a bare "run:" */
            char name[64];
            snprintf(name, sizeof name, "shopstream %s", cmds[i].name);
            argv[1] = name;
            return cmds[i].fn(argc - 1, argv + 1);
        }
    fprintf(stderr, "shopstream: unknown command \"%s\"\n", c);
    usage(stderr);
    return SS_EXIT_USAGE;
}
