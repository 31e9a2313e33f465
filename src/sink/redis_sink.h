/* redis_sink.h — the Redis sink (`--sink redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?window_ttl=48h]`,
 * hiredis): recently viewed lists and the live counters a dashboard reads. The key
 * layout is documented at the top of redis_sink.c (and in the README). */
#ifndef SS_REDIS_SINK_H
#define SS_REDIS_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "sink.h"

extern const struct ss_sink_type ss_sink_redis;

/* Parses a JSON array of strings (the `products` column of recently_viewed): the
 * unescaped strings are appended to bytes one after another, their lengths to
 * *lens (grown with SS_GROW, capacity *cap), their count is *n. \uXXXX escapes
 * (surrogate pairs too) become UTF-8. Returns 0, or -1 with *at set to the byte
 * offset of the first problem. Exposed for unit tests. */
int ss_redis_parse_str_array(const char *s, size_t len, struct ss_buf *bytes, uint32_t **lens, size_t *cap,
                             size_t *n, size_t *at);

#endif
