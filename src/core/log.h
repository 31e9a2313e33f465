/* log.h — logfmt lines to stderr: `level=warn comp=sink.jsonl msg="..." key=value`.
 * Nothing is logged per event on the hot path: count in metrics instead. */
#ifndef SS_LOG_H
#define SS_LOG_H

enum ss_log_level { SS_LOG_DEBUG, SS_LOG_INFO, SS_LOG_WARN, SS_LOG_ERROR };

void ss_log_set_level(enum ss_log_level lvl);
/* The level log.level names ("debug", "info", "warn", "error"; config checked it). */
void ss_log_set_level_named(const char *name);
/* fmt produces the rest of the line after `level=.. comp=..`, normally starting with msg="...". */
void ss_log(enum ss_log_level lvl, const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define ss_info(comp, ...) ss_log(SS_LOG_INFO, comp, __VA_ARGS__)
#define ss_warn(comp, ...) ss_log(SS_LOG_WARN, comp, __VA_ARGS__)
#define ss_error(comp, ...) ss_log(SS_LOG_ERROR, comp, __VA_ARGS__)
#define ss_debug(comp, ...) ss_log(SS_LOG_DEBUG, comp, __VA_ARGS__)

#endif
