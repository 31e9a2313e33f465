/* dedup.h — exact duplicate detection by event_id (DESIGN §4 Dedup).
 *
 * Ids are remembered while their ts >= W. Because a duplicate carries the original
 * ts and a late event (ts < W) never reaches dedup, only ids with ts >= W can ever
 * be asked about, so ids may be forgotten in whole generations: each generation
 * covers one span of event time and is dropped once its span ends at or before W.
 * An id is stored as its 128-bit XXH3 fingerprint (16 bytes, no string kept). */
#ifndef SS_DEDUP_H
#define SS_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/str.h"

struct ss_dedup;

struct ss_dedup *ss_dedup_new(int64_t generation_ms);
void ss_dedup_free(struct ss_dedup *d);
/* True when id was seen before (a duplicate); otherwise remembers it and returns false. */
bool ss_dedup_check(struct ss_dedup *d, struct ss_str id, int64_t ts);
/* Forgets every generation that ends at or before watermark. */
void ss_dedup_evict(struct ss_dedup *d, int64_t watermark);
size_t ss_dedup_count(const struct ss_dedup *d); /* ids remembered */
size_t ss_dedup_bytes(const struct ss_dedup *d);

#endif
