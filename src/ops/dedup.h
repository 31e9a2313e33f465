/* dedup.h — exact duplicate detection by event_id (DESIGN §4 Dedup, SEMANTICS §3 step 3).
 *
 * The rule: an id checked with the watermark at W is a duplicate iff its first accepted
 * occurrence (the check that remembered it) had ts >= W. Only the first occurrence's ts
 * counts: a repeat with another ts is a duplicate all the same, and an id whose first
 * occurrence's ts fell below W is forgotten (the next occurrence is accepted and becomes
 * the new first occurrence). W is the largest watermark passed to ss_dedup_evict.
 *
 * An id is kept as a 96-bit XXH3-128 fingerprint (no string is stored), so two different
 * ids collide only when their fingerprints are equal: a new id is wrongly reported as a
 * duplicate with probability <= live_ids / 2^96 per check (1e8 live ids and 1e12 checks:
 * about 1e-9 over the whole run). There are no false negatives.
 *
 * Time range: exact for every int64 ts. An entry stores ts modulo 2^32 (ms), decoded
 * against a lower bound of all remembered ts, while the remembered ts span less than
 * 2^32 ms (49.7 days, e.g. ±24.8 days around W); when they span more (a partition far
 * ahead of the watermark, or months of data while W is still -inf) the table keeps an
 * int64 ts per slot beside it until the span is small again (then 24 more bytes per id).
 *
 * Cost: one hash and usually one or two cache lines per check; ss_dedup_evict is O(1)
 * (expired ids are removed by an incremental sweep, a few slots per check, and per
 * eviction when no check came since the last one). Memory in
 * steady state: 16-byte slots at 68-85 % load, about 19-24 bytes per remembered id. */
#ifndef SS_DEDUP_H
#define SS_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/str.h"

struct ss_dedup;

struct ss_dedup *ss_dedup_new(void);
void ss_dedup_free(struct ss_dedup *d);
/* True when id is a duplicate (see above). Otherwise remembers id with ts as its first
 * occurrence and returns false; a ts below W is not remembered (the engine never asks
 * about late events). The id's bytes are not kept. */
bool ss_dedup_check(struct ss_dedup *d, struct ss_str id, int64_t ts);

/* The same check split in two for the engine's lookahead: ss_dedup_key hashes the id
 * (depends on nothing but its bytes), ss_dedup_prefetch brings the key's home slot into
 * cache (a hint; it changes nothing and stays harmless if the table is resized before
 * the check), ss_dedup_check_key is ss_dedup_check on a key made earlier. */
struct ss_dedup_key {
    uint64_t a;
    uint32_t b;
};
struct ss_dedup_key ss_dedup_key(struct ss_str id);
void ss_dedup_prefetch(const struct ss_dedup *d, struct ss_dedup_key k);
bool ss_dedup_check_key(struct ss_dedup *d, struct ss_dedup_key k, int64_t ts);
/* Moves W to watermark (a smaller value is ignored); ids with ts < W are forgotten.
 * SS_TS_MAX forgets everything at once and releases the table. */
void ss_dedup_evict(struct ss_dedup *d, int64_t watermark);
/* Ids stored: the remembered ones plus expired ones the sweep has not yet reached (at
 * most one sweep pass of them; 0 right after ss_dedup_evict(d, SS_TS_MAX)). */
size_t ss_dedup_count(const struct ss_dedup *d);
size_t ss_dedup_bytes(const struct ss_dedup *d);

/* Savepoints (snap.h): ss_dedup_save writes W and the remembered ids (fingerprint and
 * first occurrence's ts; the forgotten ones are left out); ss_dedup_load fills a fresh
 * table from ss_dedup_new with them, after which every check answers as the saved
 * table's would have. A load that fails (cut or damaged bytes) returns SS_ERROR with
 * err saying what is wrong, and leaves the table fresh. */
struct ss_buf;
struct ss_snap_r;
struct ss_err;
void ss_dedup_save(const struct ss_dedup *d, struct ss_buf *b);
int ss_dedup_load(struct ss_dedup *d, struct ss_snap_r *r, struct ss_err *err);

#endif
