/* shutdown.h — a stop the user asked for (SIGINT, SIGTERM, SIGHUP), visible everywhere.
 *
 * The engine has its own stop flag once it runs, but start-up can wait a long time
 * before then: for a sink whose server is down (sink.connect_timeout) or for Kafka
 * brokers (kafka.connect_timeout). A supervisor stopping the service meanwhile must
 * not have to wait for those timeouts nor see the process die of its signal, so the
 * Kafka wait looks here (the sink retries see the engine's flag, which run.c's hook
 * sets), and so do `produce`'s loops (a stopped generator closes its
 * files on a whole record and delivers what librdkafka has queued). */
#ifndef SS_SHUTDOWN_H
#define SS_SHUTDOWN_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

/* Whether a signal asked for the stop (ss_shutdown_catch_signals). */
bool ss_shutdown_requested(void);
/* SIGINT, SIGTERM and SIGHUP (unless the process started with it ignored, as under
 * nohup) request the shutdown, then call hook (if not NULL; it runs in the signal
 * handler, so it may only store flags). The first signal only: a second
 * one takes the default action and ends the process at once, for a user who will
 * not wait for a graceful stop. */
void ss_shutdown_catch_signals(void (*hook)(void));

/* Our threads never take these signals: a signal that lands on one of them does not
 * interrupt the main thread's sleep or wait (a start-up backoff of up to 5 s, say).
 * Threads inherit the creator's mask, so ss_shutdown_mask blocks them around the
 * creation of threads (ours, or a library's) and ss_shutdown_unmask restores the mask. */
void ss_shutdown_mask(sigset_t *saved);
void ss_shutdown_unmask(const sigset_t *saved);

#endif
