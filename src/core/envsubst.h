/* envsubst.h — environment variables in config file values.
 *
 * A secret belongs neither on the command line (every user sees it in `ps`) nor in a
 * file that also holds the rest of the configuration; deployments (systemd's
 * EnvironmentFile, Kubernetes secrets) hand it to the process in its environment. So a
 * value in the YAML file may name variables, as docker compose, Vector and Fluent Bit
 * let their files do:
 *
 *   ${NAME}            the variable's value; unset is an error naming it
 *   ${NAME:-default}   the default when NAME is unset or empty (${NAME-default}: unset)
 *   $$                 one literal $
 *
 * Any other $ stays as it is. Values are not expanded again, so a variable holding
 * "${X}" or "$$" gives those bytes. */
#ifndef SS_ENVSUBST_H
#define SS_ENVSUBST_H

#include "buf.h"
#include "err.h"

/* Appends in, with its ${...} replaced, to out (which it leaves NUL-terminated). On an
 * unset variable or a malformed ${...} returns SS_EUSAGE with a message naming it. */
int ss_envsubst(const char *in, struct ss_buf *out, struct ss_err *err);

#endif
