/* shutdown.h — a stop the user asked for (SIGINT, SIGTERM), visible everywhere.
 *
 * The engine has its own stop flag once it runs, but start-up can wait a long time
 * before then: for a sink whose server is down (sink.connect_timeout) or for Kafka
 * brokers (kafka.connect_timeout). A supervisor stopping the service meanwhile must
 * not have to wait for those timeouts nor see the process die of its signal, so the
 * waits look here too. */
#ifndef SS_SHUTDOWN_H
#define SS_SHUTDOWN_H

#include <stdbool.h>

/* Async-signal-safe: only stores a flag. */
void ss_shutdown_request(void);
bool ss_shutdown_requested(void);

#endif
