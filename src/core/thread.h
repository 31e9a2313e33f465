/* thread.h — how shopstream starts a thread of its own (the decoder, the committer, the
 * demo's producer, the Kafka consumer's closer): with the stop signals blocked
 * (core/shutdown.h), under a name, and with an alternate signal stack for the crash
 * report (core/crash.h). */
#ifndef SS_THREAD_H
#define SS_THREAD_H

#include <pthread.h>

/* pthread_create's result. The thread names itself (up to 15 bytes: "ss-decode") before
 * fn runs, so that `top -H`, `ps -L`, gdb, perf and a crash report tell our threads from
 * one another and from librdkafka's. */
int ss_thread_create(pthread_t *thread, const char *name, void *(*fn)(void *), void *arg);

#endif
