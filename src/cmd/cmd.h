/* cmd.h — the subcommands of the `shopstream` binary. Each returns the process exit
 * code: 0 success, 1 runtime failure, 2 bad usage or configuration. */
#ifndef SS_CMD_H
#define SS_CMD_H

int ss_cmd_run(int argc, char **argv);
int ss_cmd_produce(int argc, char **argv);
int ss_cmd_demo(int argc, char **argv);
int ss_cmd_report(int argc, char **argv);

#define SS_EXIT_OK 0
#define SS_EXIT_FAIL 1
#define SS_EXIT_USAGE 2

#endif
