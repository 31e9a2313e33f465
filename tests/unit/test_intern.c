/* test_intern.c — core/intern.c against a plain model: every string keeps one id while
 * it is interned, different strings never share one, ss_intern_str gives the bytes
 * back, and a dropped id is freed at the sweep and reused for another string. The
 * lookup has a fast path (the string in its home slot, at most 16 bytes) and a full
 * probe; weak hash functions (the table's, ss_intern_new_hashing) force what XXH3
 * makes rare: equal hashes for different strings, equal tags, long probe runs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/intern.h"
#include "harness.h"

#define NSTR 6000
#define MAXLEN 40

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

struct model {
    char s[NSTR][MAXLEN + 1];
    uint32_t len[NSTR];
    uint32_t id[NSTR]; /* 0: not interned now */
};

/* Strings over a 3-letter alphabet with shared prefixes and suffixes, so that the
 * word-wise comparisons meet strings equal in their first or last 8 bytes. */
static void make_strings(struct model *m) {
    for (int i = 0; i < NSTR; i++) {
        for (;;) {
            uint32_t n = (uint32_t)(rnd() % (MAXLEN + 1));
            for (uint32_t k = 0; k < n; k++) m->s[i][k] = "ab\""[rnd() % 3];
            m->s[i][n] = 0;
            m->len[i] = n;
            bool dup = false;
            for (int j = 0; j < i && !dup; j++) dup = m->len[j] == n && memcmp(m->s[j], m->s[i], n) == 0;
            if (!dup) break;
        }
        m->id[i] = 0;
    }
}

typedef uint64_t (*hash_fn)(struct ss_str s);
static uint64_t h_real(struct ss_str s) { return ss_intern_hash(s); }
/* every string of a length has the same hash: full collisions everywhere */
static uint64_t h_by_len(struct ss_str s) { return 0x9e3779b97f4a7c15ULL * (s.len + 1); }
/* distinct hashes, but only 4 distinct tags (the low 32 bits): long runs of equal tags */
static uint64_t h_few_tags(struct ss_str s) { return ss_intern_hash(s) << 32 | (s.len & 3); }

static struct ss_str str_of(const struct model *m, int i) { return (struct ss_str){m->s[i], m->len[i]}; }

static void check_all(struct ss_intern *t, const struct model *m, hash_fn h, long *bad) {
    for (int i = 0; i < NSTR; i++) {
        if (!m->id[i]) continue;
        struct ss_str s = str_of(m, i);
        if (ss_intern_get_hashed(t, s, h(s)) != m->id[i]) (*bad)++;
        struct ss_str back = ss_intern_str(t, m->id[i]);
        if (back.len != s.len || memcmp(back.p, s.p, s.len) != 0) (*bad)++;
    }
}

/* Rounds of: intern a random share, check every interned string, drop a random share
 * and sweep. Ids are held once when first interned, so a drop frees them. */
static void run_model(hash_fn h) {
    static struct model m;
    make_strings(&m);
    struct ss_intern *t = ss_intern_new_hashing(h);
    long bad = 0, reused = 0;
    uint32_t max_id = 0; /* the largest id handed out so far */
    for (int round = 0; round < 12; round++) {
        for (int i = 0; i < NSTR; i++) {
            if (m.id[i] || rnd() % 3) continue;
            struct ss_str s = str_of(&m, i);
            uint32_t id = ss_intern_get_hashed(t, s, h(s));
            /* a new string gets an id no other interned string has */
            for (int j = 0; j < NSTR; j++)
                if (m.id[j] == id) bad++;
            if (ss_intern_get_hashed(t, s, h(s)) != id) bad++;
            ss_intern_hold(t, id);
            m.id[i] = id;
            if (id > max_id) max_id = id;
        }
        check_all(t, &m, h, &bad);
        for (int i = 0; i < NSTR; i++) {
            if (!m.id[i] || rnd() % 2) continue;
            ss_intern_drop(t, m.id[i]);
            m.id[i] = 0;
        }
        ss_intern_sweep(t);
        size_t live = 0;
        for (int i = 0; i < NSTR; i++) {
            live += m.id[i] != 0;
            if (!m.id[i] && ss_intern_find(t, str_of(&m, i)) && h == h_real) bad++; /* freed at the sweep */
        }
        CHECK_EQ_INT(ss_intern_live(t), live);
        check_all(t, &m, h, &bad);
        /* freed numbers come back: the next string takes one of them, not a new number */
        for (int i = 0; i < NSTR && round == 5; i++) {
            if (m.id[i]) continue;
            struct ss_str s = str_of(&m, i);
            uint32_t id = ss_intern_get_hashed(t, s, h(s));
            ss_intern_hold(t, id);
            m.id[i] = id;
            reused += id <= max_id;
            break;
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(reused == 1);
    for (int i = 0; i < NSTR; i++)
        if (m.id[i]) ss_intern_drop(t, m.id[i]);
    ss_intern_sweep(t);
    CHECK_EQ_INT(ss_intern_live(t), 0);
    ss_intern_free(t);
}

TEST(real_hash) { run_model(h_real); }
TEST(equal_hashes) { run_model(h_by_len); }
TEST(equal_tags) { run_model(h_few_tags); }

/* Strings of every length that differ in one byte only (the first, a middle or the
 * last), with real hashes and with equal ones: each keeps its own id, whichever of
 * the two is interned first (and so sits in the home slot). */
TEST(one_byte_apart) {
    long bad = 0;
    for (int hi = 0; hi < 2; hi++)
        for (uint32_t n = 1; n <= MAXLEN; n++)
            for (int w = 0; w < 3; w++)
                for (int first = 0; first < 2; first++) {
                    hash_fn h = hi ? h_by_len : h_real;
                    uint32_t at = w == 0 ? 0 : w == 1 ? n / 2 : n - 1;
                    char a[MAXLEN], b[MAXLEN];
                    memset(a, 'a', n);
                    memcpy(b, a, n);
                    b[at] = 'b';
                    struct ss_str x = {first ? b : a, n}, y = {first ? a : b, n};
                    struct ss_intern *t = ss_intern_new_hashing(h);
                    uint32_t ix = ss_intern_get_hashed(t, x, h(x));
                    ss_intern_hold(t, ix);
                    uint32_t iy = ss_intern_get_hashed(t, y, h(y));
                    ss_intern_hold(t, iy);
                    if (ix == iy) bad++;
                    if (ss_intern_get_hashed(t, x, h(x)) != ix || ss_intern_get_hashed(t, y, h(y)) != iy) bad++;
                    if (memcmp(ss_intern_str(t, iy).p, y.p, n) != 0) bad++;
                    ss_intern_drop(t, ix);
                    ss_intern_drop(t, iy);
                    ss_intern_sweep(t);
                    if (ss_intern_live(t) != 0) bad++;
                    ss_intern_free(t);
                }
    CHECK_EQ_INT(bad, 0);
}

/* Every prefix of one string, all with the same hash, interned shortest first and
 * longest first: a string never passes for a longer one it starts. */
static uint64_t h_const(struct ss_str s) { return (void)s, 42; }
TEST(prefixes) {
    char a[MAXLEN];
    memset(a, 'a', sizeof a);
    long bad = 0;
    for (int longest_first = 0; longest_first < 2; longest_first++) {
        struct ss_intern *t = ss_intern_new_hashing(h_const);
        uint32_t id[MAXLEN + 1];
        for (int k = 0; k <= MAXLEN; k++) {
            uint32_t n = (uint32_t)(longest_first ? MAXLEN - k : k);
            struct ss_str s = {a, n};
            id[n] = ss_intern_get_hashed(t, s, h_const(s));
            ss_intern_hold(t, id[n]);
        }
        for (uint32_t n = 0; n <= MAXLEN; n++) {
            struct ss_str s = {a, n};
            if (ss_intern_get_hashed(t, s, h_const(s)) != id[n] || ss_intern_str(t, id[n]).len != n) bad++;
            for (uint32_t m = 0; m < n; m++)
                if (id[m] == id[n]) bad++;
            ss_intern_drop(t, id[n]);
        }
        ss_intern_sweep(t);
        if (ss_intern_live(t) != 0) bad++;
        ss_intern_free(t);
    }
    CHECK_EQ_INT(bad, 0);
}

/* Each owner's word of an id is its own, 0 until set, kept while the table grows
 * (entries move, the index is rebuilt), and 0 again for an id freed and handed out anew. */
TEST(aux_words) {
    struct ss_intern *t = ss_intern_new();
    enum { N = 5000 };
    static uint32_t id[N];
    char name[16];
    for (uint32_t i = 0; i < N; i++) {
        snprintf(name, sizeof name, "u%u", i);
        id[i] = ss_intern_get(t, ss_str_c(name));
        ss_intern_hold(t, id[i]);
        CHECK_EQ_INT(ss_intern_aux(t, id[i], SS_AUX_SESSIONS), 0);
        CHECK_EQ_INT(ss_intern_aux(t, id[i], SS_AUX_RECENT), 0);
        ss_intern_set_aux(t, id[i], SS_AUX_SESSIONS, i + 1);
        if (i % 3 == 0) ss_intern_set_aux(t, id[i], SS_AUX_RECENT, 7 * i + 1);
    }
    long bad = 0;
    for (uint32_t i = 0; i < N; i++) {
        if (ss_intern_aux(t, id[i], SS_AUX_SESSIONS) != i + 1) bad++;
        if (ss_intern_aux(t, id[i], SS_AUX_RECENT) != (i % 3 == 0 ? 7 * i + 1 : 0)) bad++;
        snprintf(name, sizeof name, "u%u", i);
        if (ss_intern_find(t, ss_str_c(name)) != id[i]) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    for (uint32_t i = 0; i < N; i++) {
        ss_intern_set_aux(t, id[i], SS_AUX_SESSIONS, 0);
        ss_intern_set_aux(t, id[i], SS_AUX_RECENT, 0);
        ss_intern_drop(t, id[i]);
    }
    ss_intern_sweep(t);
    CHECK_EQ_INT(ss_intern_live(t), 0);
    uint32_t again = ss_intern_get(t, SS_STR_LIT("someone else"));
    CHECK(again < (uint32_t)N + 1); /* a freed id, reused */
    ss_intern_hold(t, again);
    CHECK_EQ_INT(ss_intern_aux(t, again, SS_AUX_SESSIONS), 0);
    CHECK_EQ_INT(ss_intern_aux(t, again, SS_AUX_RECENT), 0);
    ss_intern_drop(t, again);
    ss_intern_sweep(t);
    ss_intern_free(t);
}

/* An id taken but never held is freed at the next sweep, as intern.h says. */
TEST(unheld_is_swept) {
    struct ss_intern *t = ss_intern_new();
    struct ss_str s = {"p4287", 5};
    uint32_t id = ss_intern_get(t, s);
    CHECK(id > 0);
    CHECK_EQ_INT(ss_intern_get(t, s), id);
    CHECK_EQ_INT(ss_intern_find(t, s), id);
    ss_intern_sweep(t);
    CHECK_EQ_INT(ss_intern_find(t, s), 0);
    CHECK_EQ_INT(ss_intern_live(t), 0);
    ss_intern_free(t);
}

int main(void) {
    RUN(real_hash);
    RUN(equal_hashes);
    RUN(equal_tags);
    RUN(one_byte_apart);
    RUN(prefixes);
    RUN(unheld_is_swept);
    RUN(aux_words);
    return ss_t_report("intern");
}
