/* log.c — see log.h. One fprintf per line so concurrent threads do not interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum ss_log_level min_level = SS_LOG_INFO;

void ss_log_set_level(enum ss_log_level lvl) { min_level = lvl; }

void ss_log_set_level_named(const char *name) {
    if (!strcmp(name, "debug")) min_level = SS_LOG_DEBUG;
    else if (!strcmp(name, "warn")) min_level = SS_LOG_WARN;
    else if (!strcmp(name, "error")) min_level = SS_LOG_ERROR;
    else min_level = SS_LOG_INFO;
}

void ss_log(enum ss_log_level lvl, const char *comp, const char *fmt, ...) {
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < min_level) return;
    char body[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    fprintf(stderr, "level=%s comp=%s %s\n", names[lvl], comp, body);
}
