/* intern.h — string interning: ids (user, product, category, promo) become dense
 * uint32 so keyed state is keyed by ints (DESIGN §3).
 *
 * Memory stays bounded on an endless stream because ids are reference counted:
 * - ss_intern_get returns an id (>= 1) that nobody holds yet; it stays valid until
 *   the next ss_intern_sweep (the engine sweeps at the end of every batch);
 * - an operator that keeps an id in its state calls ss_intern_hold once per place it
 *   keeps it, and ss_intern_drop when that state is evicted;
 * - ids whose count is zero at a sweep are freed and their numbers reused.
 * So an operator may use an event's ids freely while processing it, and must hold
 * what it keeps. At the end of a bounded run every state is evicted, so a correct
 * engine ends with ss_intern_live() == 0 (the tests check this). */
#ifndef SS_INTERN_H
#define SS_INTERN_H

#include <stddef.h>
#include <stdint.h>

#include "str.h"

struct ss_intern;

struct ss_intern *ss_intern_new(void);
/* A table whose callers hash with hash instead of ss_intern_hash (for ss_intern_get_hashed;
 * the table hashes with it too): the tests' weak functions, which force collisions. */
struct ss_intern *ss_intern_new_hashing(uint64_t (*hash)(struct ss_str s));
void ss_intern_free(struct ss_intern *t);

uint32_t ss_intern_get(struct ss_intern *t, struct ss_str s);
/* Lookahead for a batch of strings: hash each with ss_intern_hash, call
 * ss_intern_prefetch some strings ahead, ss_intern_prefetch_entry fewer strings ahead
 * (it reads the index slot the first call brought in), then ss_intern_get_hashed.
 * The hints change nothing but timing. */
uint64_t ss_intern_hash(struct ss_str s);
void ss_intern_prefetch(const struct ss_intern *t, uint64_t h);
void ss_intern_prefetch_entry(const struct ss_intern *t, uint64_t h);
/* Brings id's entry (its bytes, its count) into cache before ss_intern_str / drop. */
void ss_intern_prefetch_id(const struct ss_intern *t, uint32_t id);
/* ss_intern_get with h = ss_intern_hash(s) (or the table's own hash) already computed. */
uint32_t ss_intern_get_hashed(struct ss_intern *t, struct ss_str s, uint64_t h);
/* Returns 0 when s is not interned. */
uint32_t ss_intern_find(const struct ss_intern *t, struct ss_str s);
void ss_intern_hold(struct ss_intern *t, uint32_t id);
void ss_intern_drop(struct ss_intern *t, uint32_t id);
/* A word kept in id's entry for each owner: the sessions operator keeps a user's first
 * open session there, recently viewed the user's list. Reading it costs no cache miss
 * of its own right after the id was interned (the entry was just read), where an index
 * of the owner's own would cost one. One operator of each per table: 0 until set; set
 * only while the owner holds id, and set back to 0 before it drops its last hold (a
 * sweep checks). */
enum ss_aux_owner { SS_AUX_SESSIONS, SS_AUX_RECENT, SS_AUX_OWNERS };
uint32_t ss_intern_aux(const struct ss_intern *t, uint32_t id, enum ss_aux_owner owner);
void ss_intern_set_aux(struct ss_intern *t, uint32_t id, enum ss_aux_owner owner, uint32_t v);
/* The bytes of id; valid while id is held (or, unheld, until the next sweep). */
struct ss_str ss_intern_str(const struct ss_intern *t, uint32_t id);
void ss_intern_sweep(struct ss_intern *t);

size_t ss_intern_live(const struct ss_intern *t);
size_t ss_intern_bytes(const struct ss_intern *t);

#endif
