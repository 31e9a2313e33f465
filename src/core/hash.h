/* hash.h — the one hash function of the engine (xxHash3 from libxxhash). */
#ifndef SS_HASH_H
#define SS_HASH_H

#define XXH_INLINE_ALL
#include <xxhash.h>
#include <stdint.h>

static inline uint64_t ss_hash(const void *p, size_t n) { return XXH3_64bits(p, n); }
static inline uint64_t ss_hash_u64(uint64_t x) {
    /* splitmix64 finaliser: cheap and well mixed for integer keys */
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

#endif
