/* err.h — error codes and the error object every fallible function fills.
 *
 * Convention (shared/STYLE.md): functions return SS_OK (0) or a negative code and,
 * on failure, fill a caller-owned struct ss_err whose message names what the user
 * can act on (the config key, file:line, topic/partition/offset, SQLSTATE...).
 * `retriable` tells the engine whether backing off and trying again can help
 * (a sink whose server is down) or not (a bad config value). */
#ifndef SS_ERR_H
#define SS_ERR_H

#include <stdbool.h>

enum {
    SS_OK = 0,
    SS_ERROR = -1,   /* fatal for this operation */
    SS_RETRY = -2,   /* transient: the engine backs off, pauses input, retries */
    SS_EUSAGE = -3,  /* bad flag / config value: the command exits 2 */
    SS_EIO = -4,     /* file or socket error */
    SS_ENOMEM = -5,
    SS_EOF = -6,     /* a bounded source is exhausted */
    SS_ESTOPPED = -7, /* the user stopped the process (SIGINT, SIGTERM) before this finished */
};

struct ss_err {
    int code;
    bool retriable;
    char msg[512];
};

/* Fills err (if not NULL) and returns code, so callers can `return ss_err_set(...)`. */
int ss_err_set(struct ss_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes the existing message with "prefix: " (adds context on the way up). */
int ss_err_wrap(struct ss_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ss_err_clear(struct ss_err *err);

/* Always-on invariant check: an engine bug, never bad input. */
#define ss_assert(cond)                                                        \
    do {                                                                       \
        if (!(cond)) ss_assert_fail(#cond, __FILE__, __LINE__);                \
    } while (0)
_Noreturn void ss_assert_fail(const char *expr, const char *file, int line);

#endif
