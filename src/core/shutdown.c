/* shutdown.c — the process-wide stop request (see shutdown.h). */
#include "shutdown.h"

#include <signal.h>

static volatile sig_atomic_t requested;

void ss_shutdown_request(void) { requested = 1; }

bool ss_shutdown_requested(void) { return requested != 0; }
