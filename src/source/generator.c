/* generator.c — synthetic e-commerce traffic (generator.h): the model behind
 * `shopstream produce`, the demo and the Kafka producer. It sits before the
 * decoders: it emits raw record bytes exactly as a shop's services would.
 *
 * How a record is chosen. Three fresh sources, each in event-time order:
 *   - clicks: sessions in progress sit in a min-heap by the time of their next event;
 *     new sessions arrive as a Poisson process; at start the heap is filled with
 *     sessions already under way (as in a shop that did not open at t0), so that
 *     even a short run has buyers at checkout and a steady event rate;
 *   - orders: a Poisson process of one-line orders;
 *   - promotions: a list drawn at start, sorted by publication time.
 * The smallest next time wins. Delayed redeliveries (duplicates) wait in a second
 * heap keyed by their arrival time and are emitted when the fresh sources pass it.
 * Late and out-of-order records are not held back: they carry a timestamp taken
 * that far behind the newest valid timestamp of their stream, which is what makes
 * them late (or merely out of order) for a consumer, even at the very end of a run.
 *
 * Money: product prices are drawn from a log-normal distribution once, when the
 * catalog is built, and from then on live as int64 cents (sampling helpers return
 * double; the one conversion is in cents_from_sample). */
#include "generator.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/timefmt.h"

#define MIN_MS 60000LL
#define NONE UINT32_MAX
#define CART_MAX 4
#define REC_MAX 476        /* longest record: ids with a 20-digit seed make ~340 bytes */
#define SESSION_GAP_MS (30 * MIN_MS)
#define GAP_TABLE 1024    /* quantiles of the in-session gap distribution */

/* ---- random numbers: xoshiro256** seeded by splitmix64 ---- */

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(struct rng *r) {
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in [0, n), unbiased enough for n << 2^64 (Lemire's multiply-shift). */
static inline uint64_t rng_below(struct rng *r, uint64_t n) {
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}
static inline int64_t rng_range(struct rng *r, int64_t lo, int64_t hi) { /* [lo, hi] */
    return lo + (int64_t)rng_below(r, (uint64_t)(hi - lo) + 1);
}
static inline double rng_unit(struct rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }
static inline double rng_unit_open(struct rng *r) { /* (0, 1] */
    return (double)((rng_next(r) >> 11) + 1) * 0x1.0p-53;
}
static inline double exp_sample(struct rng *r) { return -log(rng_unit_open(r)); }
static double normal_sample(struct rng *r) {
    double u1 = rng_unit_open(r), u2 = rng_unit(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
static double lognormal_sample(struct rng *r, double mu, double sigma) {
    return exp(mu + sigma * normal_sample(r));
}
/* Number of failures before a success, with the given mean. */
static uint32_t geometric_sample(struct rng *r, double mean) {
    if (mean <= 0) return 0;
    double q = mean / (mean + 1.0);
    double v = floor(log(rng_unit_open(r)) / log(q));
    return v > 10000 ? 10000 : (uint32_t)v;
}
/* A probability as a threshold on 53 random bits, so that deciding costs no double. */
static inline uint64_t p_threshold(double p) {
    if (p <= 0) return 0;
    if (p >= 1) return 1ULL << 53;
    return (uint64_t)(p * 0x1.0p53);
}
static inline int rng_chance(struct rng *r, uint64_t thr) { return (rng_next(r) >> 11) < thr; }

/* ---- the catalog ---- */

struct category {
    const char *name;
    int weight;          /* share of the catalog, per mille */
    int64_t median_cents;
    int sigma_milli;     /* log-normal sigma x 1000 */
};

/* Medians and spreads of real shops' categories: a long tail in electronics,
 * automotive and jewelry makes some orders exceed 1000.00. */
static const struct category categories[] = {
    {"electronics", 180, 9900, 1150},  {"fashion", 190, 3500, 700},   {"home_garden", 120, 4500, 900},
    {"beauty", 80, 2200, 600},         {"sports", 70, 4000, 900},     {"toys", 60, 2500, 700},
    {"books", 80, 1500, 500},          {"grocery", 70, 800, 600},     {"automotive", 40, 6000, 1100},
    {"jewelry", 30, 12000, 1300},      {"health", 50, 2000, 600},     {"pet_supplies", 30, 2500, 700},
};
#define NCAT ((int)(sizeof categories / sizeof categories[0]))

struct product {
    int64_t cents;
    char id[14];
    uint8_t id_len;
    char amount_s[14];   /* cents as text, "35.90" */
    uint8_t amount_len;
    uint8_t cat;
};

static int64_t cents_from_sample(double v) {
    if (!(v > 0.99)) return 99;
    if (v > 9999.0) return 999900;
    return (int64_t)(v * 100.0);
}

/* ---- sessions ---- */

enum { PH_BROWSE, PH_FORCE_ADD, PH_CHECKOUT };

struct sess {
    int64_t next_ts;
    uint64_t sid;
    uint64_t order_no;
    uint32_t user;       /* 1-based */
    uint32_t cur;        /* product being looked at, NONE after a cart action */
    uint32_t cart[CART_MAX];
    uint8_t qty[CART_MAX];
    uint16_t left;       /* browsing steps left */
    uint8_t ncart, buyer, phase, line;
    uint8_t counted;     /* in st.sessions: its first click was emitted */
};

/* Min-heaps of (time, index) packed in one uint64: ms since `base` in the high 38
 * bits (8 years), the index in the low 26, so that one compare orders by time, then
 * index, and eight children share a cache line (8-ary), which matters with ~100k
 * sessions in progress. */
#define HEAP_IDX_BITS 26
#define HEAP_IDX_MAX ((1u << HEAP_IDX_BITS) - 1)
#define HEAP_SPAN_MS ((int64_t)1 << (64 - HEAP_IDX_BITS))
#define HEAP_D 8

struct heap {
    uint64_t *a;
    size_t n, cap;
    int64_t base;
};

static inline uint64_t heap_pack(const struct heap *h, int64_t ts, uint32_t idx) {
    return ((uint64_t)(ts - h->base) << HEAP_IDX_BITS) | idx;
}
static inline int64_t heap_top_ts(const struct heap *h) { return (int64_t)(h->a[0] >> HEAP_IDX_BITS) + h->base; }
static inline uint32_t heap_top_idx(const struct heap *h) { return (uint32_t)(h->a[0] & HEAP_IDX_MAX); }

static void heap_down(struct heap *h, size_t i) {
    uint64_t e = h->a[i];
    size_t n = h->n;
    for (;;) {
        size_t c = HEAP_D * i + 1, end = c + HEAP_D < n ? c + HEAP_D : n;
        if (c >= n) break;
        size_t m = c;
        uint64_t mv = h->a[c];
        for (size_t k = c + 1; k < end; k++) { /* branch-free: the winner is unpredictable */
            uint64_t v = h->a[k];
            m = v < mv ? k : m;
            mv = v < mv ? v : mv;
        }
        if (mv >= e) break;
        h->a[i] = mv;
        i = m;
    }
    h->a[i] = e;
}
static void heap_push(struct heap *h, int64_t ts, uint32_t idx) {
    ss_assert(idx <= HEAP_IDX_MAX && ts >= h->base && ts - h->base < HEAP_SPAN_MS);
    SS_GROW(h->a, h->cap, h->n + 1);
    size_t i = h->n++;
    uint64_t e = heap_pack(h, ts, idx);
    while (i > 0) {
        size_t p = (i - 1) / HEAP_D;
        if (e >= h->a[p]) break;
        h->a[i] = h->a[p];
        i = p;
    }
    h->a[i] = e;
}
/* The top moves to time ts (never earlier than the base). */
static void heap_retime_top(struct heap *h, int64_t ts) {
    ss_assert(ts >= h->base && ts - h->base < HEAP_SPAN_MS);
    h->a[0] = heap_pack(h, ts, heap_top_idx(h));
    heap_down(h, 0);
}
static void heap_pop(struct heap *h) {
    h->a[0] = h->a[--h->n];
    if (h->n) heap_down(h, 0);
}

/* ---- promotions ---- */

struct promo {
    int64_t ts, starts_at, ends_at;
    uint32_t n;          /* 1-based promotion number */
    uint32_t prod;
    int32_t disc_tenths; /* 125 = 12.5 % */
};

static const int32_t discounts[] = {50, 100, 150, 200, 250, 300, 400, 500, 125, 75, 150, 200};

/* ---- the generator ---- */

struct pending {
    int64_t ts;
    uint16_t len;
    uint8_t key_len, stream;
    char key[24];
    char data[REC_MAX];
};

struct ss_gen {
    struct ss_gen_opts o;
    char tag[24];                 /* the seed, in every generated id */
    uint8_t tag_len;
    struct rng rng[SS_STREAM_COUNT];

    struct product *prod;         /* indexed by product number - 1 */
    uint32_t *zipf_alias;         /* Vose alias table over popularity ranks */
    uint64_t *zipf_thr;
    uint32_t *rank_to_prod;
    uint32_t nprod;
    uint8_t ncat;

    /* clicks */
    struct sess *sess;
    size_t nsess_cap, nsess_used;
    uint32_t *sess_free;
    size_t nfree, free_cap;
    struct heap active;
    uint32_t *busy_until;         /* per user: seconds after base_ms the user may start again; UINT32_MAX = in a session */
    int64_t base_ms;
    int64_t arrival_us;
    double arrival_gap_us;        /* mean time between session arrivals */
    uint64_t next_sid, next_event, next_click_order;
    uint64_t p_cart[2], p_remove;
    int64_t gap_table[GAP_TABLE + 1];

    /* orders */
    int64_t order_us;
    double order_gap_us;
    uint64_t next_order;

    /* promotions */
    struct promo *promos;
    size_t npromos, promo_pos;

    /* defects: per-fresh-record thresholds, cumulative */
    uint64_t thr_invalid, thr_late, thr_reorder, thr_dup;
    uint64_t invalid_seq[SS_STREAM_COUNT];
    int64_t max_ts[SS_STREAM_COUNT];  /* newest valid on-time ts emitted, per stream */
    struct heap pend;
    struct pending *slots;
    size_t nslots, slots_cap;
    uint32_t *slot_free;
    size_t nslot_free, slot_free_cap;

    int64_t emitted;
    struct ss_gen_stats st;

    /* output */
    int64_t day_cached;
    char day_s[12];
    char key[24];
    char buf[REC_MAX + 32];
};

/* ---- text helpers: write at p, return the new end ---- */

#define PUT_LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

static inline char *put_mem(char *p, const char *s, size_t n) {
    memcpy(p, s, n);
    return p + n;
}

static char *put_u64(char *p, uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

static inline char *put2(char *p, unsigned v) {
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

static char *put_cents(char *p, int64_t c) {
    if (c < 0) {
        *p++ = '-';
        c = -c;
    }
    p = put_u64(p, (uint64_t)(c / 100));
    *p++ = '.';
    return put2(p, (unsigned)(c % 100));
}

/* ISO-8601 with milliseconds and Z; the date part is cached per day. */
static char *put_ts(struct ss_gen *g, char *p, int64_t ms) {
    int64_t day = ms / 86400000, rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        day--;
    }
    if (day != g->day_cached) {
        int64_t y;
        unsigned mo, d;
        ss_civil_from_days(day, &y, &mo, &d);
        char *q = g->day_s;
        q = put2(q, (unsigned)(y / 100 % 100));
        q = put2(q, (unsigned)(y % 100));
        *q++ = '-';
        q = put2(q, mo);
        *q++ = '-';
        q = put2(q, d);
        *q++ = 'T';
        g->day_cached = day;
    }
    p = put_mem(p, g->day_s, 11);
    unsigned r = (unsigned)rem;
    p = put2(p, r / 3600000);
    *p++ = ':';
    p = put2(p, r / 60000 % 60);
    *p++ = ':';
    p = put2(p, r / 1000 % 60);
    *p++ = '.';
    unsigned f = r % 1000;
    *p++ = (char)('0' + f / 100);
    p = put2(p, f % 100);
    *p++ = 'Z';
    return p;
}

static char *put_id(struct ss_gen *g, char *p, char c, uint64_t n) {
    *p++ = c;
    *p++ = '-';
    p = put_mem(p, g->tag, g->tag_len);
    *p++ = '-';
    return put_u64(p, n);
}

static char *put_user(char *p, uint32_t user) {
    *p++ = 'u';
    return put_u64(p, user);
}

/* ---- the catalog ---- */

static void build_catalog(struct ss_gen *g) {
    struct rng r;
    rng_seed(&r, g->o.seed, 100);
    uint32_t n = g->nprod;
    g->ncat = (uint8_t)g->o.categories;
    int wsum = 0;
    for (int c = 0; c < g->ncat; c++) wsum += categories[c].weight;
    g->prod = ss_calloc(n, sizeof *g->prod);
    for (uint32_t i = 0; i < n; i++) {
        struct product *pr = &g->prod[i];
        int w = (int)rng_below(&r, (uint64_t)wsum), c = 0;
        while (w >= categories[c].weight) w -= categories[c++].weight;
        pr->cat = (uint8_t)c;
        double mu = log((double)categories[c].median_cents / 100.0);
        double sigma = categories[c].sigma_milli / 1000.0;
        double v = lognormal_sample(&r, mu, sigma);
        int64_t cents = cents_from_sample(v);
        if (rng_below(&r, 10) < 6) cents = cents / 100 * 100 + 99; /* shop prices end in .99 */
        pr->cents = cents;
        char *e = put_cents(pr->amount_s, pr->cents);
        pr->amount_len = (uint8_t)(e - pr->amount_s);
        pr->id[0] = 'p';
        e = put_u64(pr->id + 1, (uint64_t)i + 1);
        pr->id_len = (uint8_t)(e - pr->id);
    }
    /* Popularity rank -> product: a shuffle, so p1 is not the bestseller. */
    g->rank_to_prod = ss_malloc((size_t)n * sizeof *g->rank_to_prod);
    for (uint32_t i = 0; i < n; i++) g->rank_to_prod[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = (uint32_t)rng_below(&r, (uint64_t)i + 1), t = g->rank_to_prod[i];
        g->rank_to_prod[i] = g->rank_to_prod[j];
        g->rank_to_prod[j] = t;
    }
    /* Zipf(s = 1.07) over ranks, sampled in O(1) with Vose's alias method. */
    double *w = ss_malloc((size_t)n * sizeof *w), total = 0;
    for (uint32_t i = 0; i < n; i++) total += w[i] = pow((double)i + 1, -1.07);
    uint32_t *small = ss_malloc((size_t)n * sizeof *small), *large = ss_malloc((size_t)n * sizeof *large);
    size_t ns = 0, nl = 0;
    for (uint32_t i = 0; i < n; i++) {
        w[i] = w[i] * n / total;
        if (w[i] < 1.0) small[ns++] = i;
        else large[nl++] = i;
    }
    g->zipf_alias = ss_malloc((size_t)n * sizeof *g->zipf_alias);
    g->zipf_thr = ss_malloc((size_t)n * sizeof *g->zipf_thr);
    while (ns && nl) {
        uint32_t s = small[--ns], l = large[--nl];
        g->zipf_thr[s] = (uint64_t)(w[s] * 4294967296.0);
        g->zipf_alias[s] = l;
        w[l] -= 1.0 - w[s];
        if (w[l] < 1.0) small[ns++] = l;
        else large[nl++] = l;
    }
    while (nl) {
        uint32_t l = large[--nl];
        g->zipf_thr[l] = 1ULL << 32;
        g->zipf_alias[l] = l;
    }
    while (ns) {
        uint32_t s = small[--ns];
        g->zipf_thr[s] = 1ULL << 32;
        g->zipf_alias[s] = s;
    }
    ss_free(w);
    ss_free(small);
    ss_free(large);
}

/* A product index by popularity. */
static inline uint32_t zipf_product(const struct ss_gen *g, struct rng *r) {
    uint64_t x = rng_next(r);
    uint32_t i = (uint32_t)(((x >> 32) * g->nprod) >> 32);
    uint32_t rank = (x & 0xffffffffULL) < g->zipf_thr[i] ? i : g->zipf_alias[i];
    return g->rank_to_prod[rank];
}

static inline uint8_t quantity_sample(struct rng *r) {
    uint64_t v = rng_below(r, 100);
    return v < 80 ? 1 : v < 95 ? 2 : 3;
}

/* ---- sessions ---- */

/* Session shape: buyers browse ~4x longer than others (the seed's converters do). */
#define BUYER_SHARE 0.12
#define BROWSE_MEAN_BUYER 14.0   /* browsing steps beyond the first */
#define BROWSE_MEAN_OTHER 3.5
#define GAP_MEDIAN_MS 25000.0
#define GAP_SIGMA 0.8

/* Quantiles of the gap distribution, so that a gap costs one random number and no
 * libm call: the hot path draws one per click. Clamped to [0.5 s, 25 min]: never a
 * second session inside one. */
static void build_gap_table(int64_t *t) {
    for (int i = 0; i <= GAP_TABLE; i++) {
        double q = i == 0 ? 0.5 / GAP_TABLE : i == GAP_TABLE ? 1 - 0.5 / GAP_TABLE : (double)i / GAP_TABLE;
        /* inverse normal CDF by bisection: build time only */
        double lo = -10, hi = 10;
        for (int k = 0; k < 100; k++) {
            double mid = (lo + hi) / 2;
            if (0.5 * erfc(-mid / sqrt(2.0)) < q) lo = mid;
            else hi = mid;
        }
        double v = exp(log(GAP_MEDIAN_MS) + GAP_SIGMA * lo);
        t[i] = v < 500 ? 500 : v > 25.0 * MIN_MS ? 25 * MIN_MS : (int64_t)v;
    }
}

static int64_t browse_gap_ms(const struct ss_gen *g, struct rng *r) {
    uint64_t x = rng_next(r);
    uint32_t i = (uint32_t)(x >> 54);                  /* 0..1023 */
    int64_t a = g->gap_table[i], b = g->gap_table[i + 1];
    return a + (int64_t)(((uint64_t)(b - a) * ((x >> 22) & 0xffffffffULL)) >> 32);
}

static uint32_t sess_alloc(struct ss_gen *g) {
    if (g->nfree) return g->sess_free[--g->nfree];
    SS_GROW(g->sess, g->nsess_cap, g->nsess_used + 1);
    return (uint32_t)g->nsess_used++;
}

/* A user not in a session and idle for more than the session gap, so that the
 * engine sees the new session as a new one; after a few tries anyone will do. */
static uint32_t pick_user(struct ss_gen *g, struct rng *r, int64_t now) {
    uint32_t now_s = (uint32_t)((now - g->base_ms) / 1000), n = (uint32_t)g->o.users;
    uint32_t first = (uint32_t)rng_below(r, n), u = first;
    /* probe neighbours rather than new random users: one cache miss, not eight */
    for (int tries = 0; tries < 16 && g->busy_until[u] > now_s; tries++) u = u + 1 < n ? u + 1 : 0;
    if (g->busy_until[u] > now_s) u = first;
    g->busy_until[u] = UINT32_MAX;
    return u + 1;
}

static void sess_start(struct ss_gen *g, struct sess *s, struct rng *r, int64_t now, int buyer, uint32_t steps) {
    memset(s, 0, sizeof *s);
    s->sid = ++g->next_sid;
    s->user = pick_user(g, r, now);
    s->cur = NONE;
    s->buyer = (uint8_t)buyer;
    s->left = (uint16_t)(steps > 4000 ? 4000 : steps);
    s->phase = PH_BROWSE;
}

struct click {
    int type;
    uint32_t prod;
    uint8_t qty;
    uint64_t order_no;
};

/* Advances s by one event and describes it in c. Returns 1 when the session is over. */
static int sess_step(struct ss_gen *g, struct sess *s, struct rng *r, struct click *c) {
    c->order_no = 0;
    if (s->phase == PH_FORCE_ADD) {
        c->type = SS_EV_CART_ADD;
        c->prod = s->cur != NONE ? s->cur : zipf_product(g, r);
        c->qty = quantity_sample(r);
        s->cart[0] = c->prod;
        s->qty[0] = c->qty;
        s->ncart = 1;
        s->phase = PH_CHECKOUT;
        s->order_no = g->next_click_order += 2;
        return 0;
    }
    if (s->phase == PH_CHECKOUT) {
        c->type = SS_EV_PURCHASE;
        c->prod = s->cart[s->line];
        c->qty = s->qty[s->line];
        c->order_no = s->order_no;
        return ++s->line >= s->ncart;
    }
    uint64_t x = rng_next(r) >> 11;
    if (x < g->p_cart[s->buyer] && s->cur != NONE && s->ncart < CART_MAX) {
        c->type = SS_EV_CART_ADD;
        c->prod = s->cur;
        c->qty = quantity_sample(r);
        s->cart[s->ncart] = c->prod;
        s->qty[s->ncart++] = c->qty;
        s->cur = NONE;
    } else if (x >= g->p_cart[s->buyer] && x < g->p_cart[s->buyer] + g->p_remove && s->ncart > 0) {
        uint32_t i = (uint32_t)rng_below(r, s->ncart);
        c->type = SS_EV_CART_REMOVE;
        c->prod = s->cart[i];
        c->qty = s->qty[i];
        s->ncart--;
        s->cart[i] = s->cart[s->ncart];
        s->qty[i] = s->qty[s->ncart];
    } else {
        c->type = SS_EV_VIEW;
        c->prod = zipf_product(g, r);
        c->qty = 1;
        s->cur = c->prod;
    }
    if (s->left > 0) s->left--;
    if (s->left > 0) return 0;
    if (!s->buyer) return 1;
    if (s->ncart == 0) {
        s->phase = PH_FORCE_ADD;
    } else {
        s->phase = PH_CHECKOUT;
        s->order_no = g->next_click_order += 2;
    }
    return 0;
}

static double mean_session_events(void) {
    return (1 - BUYER_SHARE) * (1 + BROWSE_MEAN_OTHER) + BUYER_SHARE * (1 + BROWSE_MEAN_BUYER + 1.8);
}

/* Sessions under way at start: as many as a steady state holds (rate x mean gap),
 * longer ones more likely (length-biased), each at a uniform point of its course. */
static void warm_start(struct ss_gen *g, double click_rate) {
    struct rng *r = &g->rng[SS_STREAM_CLICKS];
    double mean_gap_s = GAP_MEDIAN_MS * exp(GAP_SIGMA * GAP_SIGMA / 2) / 1000.0;
    double nwarm = click_rate * mean_gap_s;
    if (nwarm > 50e6) nwarm = 50e6;
    double wb = BUYER_SHARE * (1 + BROWSE_MEAN_BUYER);
    uint64_t thr_buyer = p_threshold(wb / (wb + (1 - BUYER_SHARE) * (1 + BROWSE_MEAN_OTHER)));
    struct click c;
    for (int64_t k = 0; k < (int64_t)nwarm; k++) {
        int buyer = rng_chance(r, thr_buyer);
        double m = buyer ? BROWSE_MEAN_BUYER : BROWSE_MEAN_OTHER;
        uint32_t n = 1 + geometric_sample(r, m) + geometric_sample(r, m); /* size-biased 1 + Geom */
        uint32_t done = (uint32_t)rng_below(r, n);
        uint32_t idx = sess_alloc(g);
        struct sess *s = &g->sess[idx];
        sess_start(g, s, r, g->o.start_ms, buyer, n);
        for (uint32_t i = 0; i < done; i++) sess_step(g, s, r, &c);
        /* The gap that spans start is length-biased: log-normal(mu + sigma^2, sigma). */
        double span = lognormal_sample(r, log(GAP_MEDIAN_MS) + GAP_SIGMA * GAP_SIGMA, GAP_SIGMA);
        if (span > 25.0 * MIN_MS) span = 25.0 * MIN_MS;
        s->next_ts = g->o.start_ms + (int64_t)(rng_unit(r) * span);
        heap_push(&g->active, s->next_ts, idx);
    }
}

static void spawn_session(struct ss_gen *g) {
    struct rng *r = &g->rng[SS_STREAM_CLICKS];
    int64_t now = g->arrival_us >= 0 ? g->arrival_us / 1000 : -((-g->arrival_us + 999) / 1000);
    int buyer = rng_chance(r, p_threshold(BUYER_SHARE));
    uint32_t steps = 1 + geometric_sample(r, buyer ? BROWSE_MEAN_BUYER : BROWSE_MEAN_OTHER);
    uint32_t idx = sess_alloc(g);
    struct sess *s = &g->sess[idx];
    sess_start(g, s, r, now, buyer, steps);
    s->next_ts = now;
    heap_push(&g->active, now, idx);
    g->arrival_us += (int64_t)(exp_sample(r) * g->arrival_gap_us) + 1;
}

/* ---- promotions ---- */

static int promo_cmp(const void *a, const void *b) {
    const struct promo *x = a, *y = b;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    return x->n < y->n ? -1 : x->n > y->n;
}

static void build_promotions(struct ss_gen *g, int64_t count, int64_t span_ms) {
    struct rng *r = &g->rng[SS_STREAM_PROMOTIONS];
    g->npromos = (size_t)count;
    g->promos = ss_calloc(g->npromos ? g->npromos : 1, sizeof *g->promos);
    for (size_t i = 0; i < g->npromos; i++) {
        struct promo *q = &g->promos[i];
        q->n = (uint32_t)i + 1;
        q->prod = zipf_product(g, r);
        int64_t st = g->o.start_ms + rng_range(r, -25 * MIN_MS, span_ms); /* every one ends after start */
        q->starts_at = st - ((st % MIN_MS) + MIN_MS) % MIN_MS;           /* on the minute */
        q->ends_at = q->starts_at + (30 + 5 * rng_range(r, 0, 30)) * MIN_MS; /* 30..180 min */
        q->ts = q->starts_at - rng_range(r, 2 * MIN_MS, 60 * MIN_MS);     /* published before */
        q->disc_tenths = discounts[rng_below(r, sizeof discounts / sizeof discounts[0])];
    }
    if (g->npromos > 1) qsort(g->promos, g->npromos, sizeof *g->promos, promo_cmp);
    for (size_t i = 0; i < g->npromos; i++) g->promos[i].n = (uint32_t)i + 1; /* ids in publication order */
}

/* ---- record formats ---- */

enum { CF_EVENT_ID, CF_EVENT_TYPE, CF_USER_ID, CF_SESSION_ID, CF_PRODUCT_ID, CF_CATEGORY, CF_PRICE,
       CF_QUANTITY, CF_ORDER_ID, CF_TS, CF_COUNT };
enum { OF_ORDER_ID, OF_CUSTOMER_ID, OF_PRODUCT_ID, OF_CATEGORY, OF_PRICE, OF_QUANTITY, OF_ORDER_TS, OF_COUNT };

static const char *const click_fields[CF_COUNT] = {"event_id", "event_type", "user_id", "session_id",
                                                   "product_id", "category", "price", "quantity",
                                                   "order_id", "ts"};
static const char *const order_fields[OF_COUNT] = {"order_id", "customer_id", "product_id", "category",
                                                   "price", "quantity", "order_ts"};

/* One defect of an invalid record, applied while writing it. */
struct mut {
    int omit;              /* field index written as absent (JSON) or empty (CSV), or -1 */
    const char *type_s;    /* event_type text instead of the real one */
    int bad_ts;            /* 1..3: an unreadable timestamp of that style */
    int negative;          /* a negative amount */
    int zero_qty;
    int truncate;          /* JSON cut in half; CSV without its last column */
};

static const struct mut no_mut = {-1, NULL, 0, 0, 0, 0};

static char *put_bad_ts(struct ss_gen *g, char *p, int style, int64_t ts) {
    if (style == 1) return put_ts(g, p, ts) - 1;                   /* no zone */
    if (style == 2) {                                               /* day-first, no zone */
        char iso[40];
        put_ts(g, iso, ts);
        p = put_mem(p, iso + 8, 2);
        *p++ = '/';
        p = put_mem(p, iso + 5, 2);
        *p++ = '/';
        p = put_mem(p, iso, 4);
        *p++ = ' ';
        return put_mem(p, iso + 11, 8);
    }
    return PUT_LIT(p, "yesterday");
}

/* JSON: {"k":value,...}; CSV: values in header order. A field is written through
 * these two helpers so that omitting it works for both formats. */
struct w {
    char *p;
    int csv, n;            /* fields written so far */
    int omit;
    const char *const *names;
};

static inline int w_begin(struct w *w, int idx, int quoted) {
    if (w->csv) {
        if (w->n++) *w->p++ = ',';
        return idx != w->omit;
    }
    if (idx == w->omit) return 0;
    *w->p++ = w->n++ ? ',' : '{';
    *w->p++ = '"';
    size_t l = strlen(w->names[idx]);
    w->p = put_mem(w->p, w->names[idx], l);
    w->p = quoted ? PUT_LIT(w->p, "\":\"") : PUT_LIT(w->p, "\":");
    return 1;
}
static inline void w_end(struct w *w, int quoted) {
    if (!w->csv && quoted) *w->p++ = '"';
}
static inline size_t w_finish(struct w *w, char *start, int truncate) {
    if (!w->csv) *w->p++ = '}';
    size_t len = (size_t)(w->p - start);
    if (truncate) {
        if (!w->csv) return len / 2;
        char *c = memrchr(start, ',', len);
        return c ? (size_t)(c - start) : len / 2;
    }
    return len;
}

static size_t fmt_click(struct ss_gen *g, char *out, const struct sess *s, const struct click *c, uint64_t event_no,
                        int64_t ts, const struct mut *m) {
    const struct product *pr = &g->prod[c->prod];
    struct w w = {out, g->o.format[SS_STREAM_CLICKS] == SS_FMT_CSV, 0, m->omit, click_fields};
    int purchase = c->type == SS_EV_PURCHASE;
    if (w_begin(&w, CF_EVENT_ID, 1)) w.p = put_id(g, w.p, 'e', event_no), w_end(&w, 1);
    if (w_begin(&w, CF_EVENT_TYPE, 1)) {
        const char *t = m->type_s ? m->type_s : ss_event_type_name((enum ss_event_type)c->type);
        w.p = put_mem(w.p, t, strlen(t));
        w_end(&w, 1);
    }
    if (w_begin(&w, CF_USER_ID, 1)) w.p = put_user(w.p, s->user), w_end(&w, 1);
    if (w_begin(&w, CF_SESSION_ID, 1)) w.p = put_id(g, w.p, 's', s->sid), w_end(&w, 1);
    if (w_begin(&w, CF_PRODUCT_ID, 1)) w.p = put_mem(w.p, pr->id, pr->id_len), w_end(&w, 1);
    if (w_begin(&w, CF_CATEGORY, 1)) {
        const char *cn = categories[pr->cat].name;
        w.p = put_mem(w.p, cn, strlen(cn));
        w_end(&w, 1);
    }
    if (w_begin(&w, CF_PRICE, 1)) {
        if (m->negative) *w.p++ = '-';
        w.p = put_mem(w.p, pr->amount_s, pr->amount_len);
        w_end(&w, 1);
    }
    if (w_begin(&w, CF_QUANTITY, 0)) w.p = put_u64(w.p, m->zero_qty ? 0 : c->qty);
    if (purchase || w.csv) {
        if (w_begin(&w, CF_ORDER_ID, 1)) {
            if (purchase) w.p = put_id(g, w.p, 'o', c->order_no);
            w_end(&w, 1);
        }
    }
    if (w_begin(&w, CF_TS, 1)) {
        w.p = m->bad_ts ? put_bad_ts(g, w.p, m->bad_ts, ts) : put_ts(g, w.p, ts);
        w_end(&w, 1);
    }
    return w_finish(&w, out, m->truncate);
}

static size_t fmt_order(struct ss_gen *g, char *out, uint32_t user, uint32_t prod, uint8_t qty, uint64_t order_no,
                        int64_t ts, const struct mut *m) {
    const struct product *pr = &g->prod[prod];
    struct w w = {out, g->o.format[SS_STREAM_ORDERS] == SS_FMT_CSV, 0, m->omit, order_fields};
    if (w_begin(&w, OF_ORDER_ID, 1)) w.p = put_id(g, w.p, 'o', order_no), w_end(&w, 1);
    if (w_begin(&w, OF_CUSTOMER_ID, 1)) w.p = put_user(w.p, user), w_end(&w, 1);
    if (w_begin(&w, OF_PRODUCT_ID, 1)) w.p = put_mem(w.p, pr->id, pr->id_len), w_end(&w, 1);
    if (w_begin(&w, OF_CATEGORY, 1)) {
        const char *cn = categories[pr->cat].name;
        w.p = put_mem(w.p, cn, strlen(cn));
        w_end(&w, 1);
    }
    if (w_begin(&w, OF_PRICE, 1)) {
        if (m->negative) *w.p++ = '-';
        w.p = put_mem(w.p, pr->amount_s, pr->amount_len);
        w_end(&w, 1);
    }
    if (w_begin(&w, OF_QUANTITY, 0)) w.p = put_u64(w.p, m->zero_qty ? 0 : qty);
    if (w_begin(&w, OF_ORDER_TS, 1)) {
        w.p = m->bad_ts ? put_bad_ts(g, w.p, m->bad_ts, ts) : put_ts(g, w.p, ts);
        w_end(&w, 1);
    }
    return w_finish(&w, out, m->truncate);
}

static size_t fmt_promo(struct ss_gen *g, char *out, const struct promo *q) {
    const struct product *pr = &g->prod[q->prod];
    int csv = g->o.format[SS_STREAM_PROMOTIONS] == SS_FMT_CSV;
    char *p = out;
    char disc[16], *d = put_u64(disc, (uint64_t)(q->disc_tenths / 10));
    int whole = q->disc_tenths % 10 == 0;
    if (!whole) *d++ = '.', *d++ = (char)('0' + q->disc_tenths % 10);
    if (csv) {
        p = PUT_LIT(p, "pr-");
        p = put_mem(p, g->tag, g->tag_len);
        *p++ = '-';
        p = put_u64(p, q->n);
        *p++ = ',';
        p = put_mem(p, pr->id, pr->id_len);
        *p++ = ',';
        p = put_mem(p, disc, (size_t)(d - disc));
        *p++ = ',';
        p = put_ts(g, p, q->starts_at);
        *p++ = ',';
        p = put_ts(g, p, q->ends_at);
        *p++ = ',';
        p = put_ts(g, p, q->ts);
        return (size_t)(p - out);
    }
    /* Whole percentages as JSON numbers, fractional ones as strings: both occur in the wild. */
    p = PUT_LIT(p, "{\"promo_id\":\"pr-");
    p = put_mem(p, g->tag, g->tag_len);
    *p++ = '-';
    p = put_u64(p, q->n);
    p = PUT_LIT(p, "\",\"product_id\":\"");
    p = put_mem(p, pr->id, pr->id_len);
    p = PUT_LIT(p, "\",\"discount_pct\":");
    if (!whole) *p++ = '"';
    p = put_mem(p, disc, (size_t)(d - disc));
    if (!whole) *p++ = '"';
    p = PUT_LIT(p, ",\"starts_at\":\"");
    p = put_ts(g, p, q->starts_at);
    p = PUT_LIT(p, "\",\"ends_at\":\"");
    p = put_ts(g, p, q->ends_at);
    p = PUT_LIT(p, "\",\"ts\":\"");
    p = put_ts(g, p, q->ts);
    p = PUT_LIT(p, "\"}");
    return (size_t)(p - out);
}

const char *ss_gen_header(const struct ss_gen *g, enum ss_stream stream, int fmt) {
    (void)g;
    if (fmt != SS_FMT_CSV) return NULL;
    switch (stream) {
    case SS_STREAM_CLICKS: return "event_id,event_type,user_id,session_id,product_id,category,price,quantity,order_id,ts";
    case SS_STREAM_PROMOTIONS: return "promo_id,product_id,discount_pct,starts_at,ends_at,ts";
    case SS_STREAM_ORDERS: return "order_id,customer_id,product_id,category,price,quantity,order_ts";
    default: return NULL;
    }
}

/* The next defect of an invalid record, rotating through every kind the stream can
 * have (and, within a kind, through its variants). Returns the reason. */
static enum ss_reason next_invalid(struct ss_gen *g, enum ss_stream st, struct mut *m, int *make_purchase) {
    uint64_t k = g->invalid_seq[st]++;
    *m = no_mut;
    *make_purchase = 0;
    if (st == SS_STREAM_CLICKS) {
        static const int missing[] = {CF_EVENT_ID, CF_USER_ID, CF_PRODUCT_ID, CF_TS, CF_EVENT_TYPE};
        static const char *const unknown[] = {"wishlist_add", "refund", "page_view"};
        uint64_t sub = k / 5;
        switch (k % 5) {
        case 0: m->truncate = 1; return SS_BAD_MALFORMED;
        case 1: m->omit = missing[sub % 5]; return SS_BAD_MISSING;
        case 2: m->type_s = unknown[sub % 3]; return SS_BAD_UNKNOWN_TYPE;
        case 3: m->bad_ts = (int)(sub % 3) + 1; return SS_BAD_TS;
        default:
            *make_purchase = 1;
            if (sub % 2) m->zero_qty = 1;
            else m->negative = 1;
            return SS_BAD_AMOUNT;
        }
    }
    static const int missing[] = {OF_ORDER_ID, OF_CUSTOMER_ID, OF_PRODUCT_ID, OF_PRICE, OF_ORDER_TS};
    uint64_t sub = k / 4;
    switch (k % 4) {
    case 0: m->truncate = 1; return SS_BAD_MALFORMED;
    case 1: m->omit = missing[sub % 5]; return SS_BAD_MISSING;
    case 2: m->bad_ts = (int)(sub % 3) + 1; return SS_BAD_TS;
    default:
        if (sub % 2) m->zero_qty = 1;
        else m->negative = 1;
        return SS_BAD_AMOUNT;
    }
}

/* ---- defects ---- */

static uint32_t slot_alloc(struct ss_gen *g) {
    if (g->nslot_free) return g->slot_free[--g->nslot_free];
    SS_GROW(g->slots, g->slots_cap, g->nslots + 1);
    return (uint32_t)g->nslots++;
}

static void schedule_duplicate(struct ss_gen *g, struct rng *r, const struct ss_gen_record *rec) {
    uint32_t i = slot_alloc(g);
    struct pending *pd = &g->slots[i];
    ss_assert(rec->len <= sizeof pd->data && rec->key_len <= sizeof pd->key);
    pd->ts = rec->ts;
    pd->len = (uint16_t)rec->len;
    pd->key_len = (uint8_t)rec->key_len;
    pd->stream = (uint8_t)rec->stream;
    memcpy(pd->key, rec->key, rec->key_len);
    memcpy(pd->data, rec->data, rec->len);
    heap_push(&g->pend, rec->ts + rng_range(r, 1000, 120000), i);
}

enum { D_CLEAN, D_INVALID, D_LATE, D_REORDER, D_DUP };

static int pick_defect(struct ss_gen *g, struct rng *r, enum ss_stream st) {
    uint64_t x = rng_next(r) >> 11;
    if (x < g->thr_invalid) return D_INVALID;
    if (x < g->thr_late) return g->max_ts[st] != INT64_MIN ? D_LATE : D_CLEAN;
    if (x < g->thr_reorder) return g->max_ts[st] != INT64_MIN ? D_REORDER : D_CLEAN;
    if (x < g->thr_dup) return D_DUP;
    return D_CLEAN;
}

/* Emits one fresh record of stream st whose model time is ts, with its defect. */
static void emit_fresh(struct ss_gen *g, struct ss_gen_record *rec, enum ss_stream st, int64_t ts,
                       const struct sess *s, struct click *c, uint32_t user, uint32_t prod, uint8_t qty,
                       uint64_t order_no) {
    struct rng *r = &g->rng[st];
    int d = pick_defect(g, r, st);
    struct mut m = no_mut;
    int make_purchase = 0;
    rec->stream = st;
    rec->reason = SS_VALID;
    rec->ts = ts;
    if (d == D_INVALID) rec->reason = next_invalid(g, st, &m, &make_purchase);
    else if (d == D_LATE) rec->ts = g->max_ts[st] - rng_range(r, g->o.late_min_ms, g->o.late_max_ms);
    else if (d == D_REORDER) rec->ts = g->max_ts[st] - rng_range(r, g->o.reorder_min_ms, g->o.reorder_max_ms);
    if (d == D_DUP && g->emitted + (int64_t)g->pend.n + 2 > g->o.events) d = D_CLEAN;

    char *k = put_user(g->key, st == SS_STREAM_CLICKS ? s->user : user);
    rec->key = g->key;
    rec->key_len = (size_t)(k - g->key);
    if (st == SS_STREAM_CLICKS) {
        struct click cc = *c;
        if (make_purchase && cc.type != SS_EV_PURCHASE) {
            cc.type = SS_EV_PURCHASE;
            cc.order_no = g->next_click_order += 2;
        }
        rec->len = fmt_click(g, g->buf, s, &cc, ++g->next_event, rec->ts, &m);
    } else {
        rec->len = fmt_order(g, g->buf, user, prod, qty, order_no, rec->ts, &m);
    }
    rec->data = g->buf;
    ss_assert(rec->len <= REC_MAX);

    static const enum ss_gen_defect kinds[] = {SS_GEN_CLEAN, SS_GEN_INVALID, SS_GEN_LATE, SS_GEN_REORDERED,
                                               SS_GEN_CLEAN};
    rec->defect = kinds[d];
    g->st.defects[rec->defect]++;
    if (d == D_INVALID) {
        g->st.invalid[rec->reason]++;
        return;
    }
    if (d == D_CLEAN || d == D_DUP) {
        if (rec->ts > g->max_ts[st]) g->max_ts[st] = rec->ts;
    }
    if (d != D_LATE) { /* what the engine processes */
        int type = st == SS_STREAM_CLICKS ? c->type : SS_EV_PURCHASE;
        if (st == SS_STREAM_CLICKS) g->st.clicks[type]++;
        if (type == SS_EV_PURCHASE) {
            int64_t cents = g->prod[st == SS_STREAM_CLICKS ? c->prod : prod].cents;
            int64_t q = st == SS_STREAM_CLICKS ? c->qty : qty;
            if (cents * q >= 100000) g->st.high_value++;
        }
    }
    if (d == D_DUP) schedule_duplicate(g, r, rec);
}

/* ---- public API ---- */

void ss_gen_opts_init(struct ss_gen_opts *o) {
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->start_ms = 1795737600000LL; /* 2026-11-27T00:00:00Z */
    o->events = 100000;
    o->rate = 100; /* a mid-size shop; at this density sessions span realistic minutes */
    o->users = 1000000;
    o->products = 10000;
    o->categories = NCAT;
    o->promotions = -1;
    o->orders_share = 0.05;
    o->late_min_ms = 16 * MIN_MS;
    o->late_max_ms = 30 * MIN_MS;
    o->reorder_min_ms = 1 * MIN_MS;
    o->reorder_max_ms = 10 * MIN_MS;
    o->streams = (1u << SS_STREAM_COUNT) - 1;
    o->format[SS_STREAM_CLICKS] = SS_FMT_JSON;
    o->format[SS_STREAM_PROMOTIONS] = SS_FMT_JSON;
    o->format[SS_STREAM_ORDERS] = SS_FMT_CSV;
}

static int check_share(const char *name, double p, struct ss_err *err) {
    if (!(p >= 0 && p <= 1))
        return ss_err_set(err, SS_EUSAGE, "%s must be a fraction in [0, 1], got %g", name, p);
    return SS_OK;
}

int64_t ss_gen_events_limit(double rate) { return (int64_t)(rate * (double)(HEAP_SPAN_MS / 2) / 1000.0 * 0.999); }

int ss_gen_new(struct ss_gen **out, const struct ss_gen_opts *opts, struct ss_err *err) {
    const struct ss_gen_opts *o = opts;
    *out = NULL;
    if (o->events < 0) return ss_err_set(err, SS_EUSAGE, "events must be >= 0, got %lld", (long long)o->events);
    if (!(o->rate > 0 && o->rate <= 1e6))
        return ss_err_set(err, SS_EUSAGE, "rate must be in (0, 1000000] records per second, got %g", o->rate);
    if ((double)o->events / o->rate * 1000.0 > (double)(HEAP_SPAN_MS / 2))
        return ss_err_set(err, SS_EUSAGE, "events / rate spans more than 4 years of event time");
    if (o->start_ms < -HEAP_SPAN_MS / 2 || o->start_ms > HEAP_SPAN_MS * 8)
        return ss_err_set(err, SS_EUSAGE, "start is out of range");
    if (o->users < 1 || o->users > 100000000)
        return ss_err_set(err, SS_EUSAGE, "users must be in 1..100000000, got %lld", (long long)o->users);
    if (o->products < 1 || o->products > 10000000)
        return ss_err_set(err, SS_EUSAGE, "products must be in 1..10000000, got %lld", (long long)o->products);
    if (o->categories < 1 || o->categories > NCAT)
        return ss_err_set(err, SS_EUSAGE, "categories must be in 1..%d, got %d", NCAT, o->categories);
    if (o->promotions > 100000000)
        return ss_err_set(err, SS_EUSAGE, "promotions must be <= 100000000, got %lld", (long long)o->promotions);
    int rc;
    if ((rc = check_share("orders share", o->orders_share, err)) || (rc = check_share("duplicates", o->p_duplicate, err)) ||
        (rc = check_share("late", o->p_late, err)) || (rc = check_share("reorder", o->p_reorder, err)) ||
        (rc = check_share("invalid", o->p_invalid, err)))
        return rc;
    if (o->p_duplicate >= 1 || 2 * o->p_duplicate + o->p_late + o->p_reorder + o->p_invalid > 1.0 + 1e-12)
        return ss_err_set(err, SS_EUSAGE,
                          "defect shares too large: 2 x duplicates + late + reorder + invalid must be <= 1");
    if (o->late_min_ms < 0 || o->late_max_ms < o->late_min_ms || o->reorder_min_ms < 0 ||
        o->reorder_max_ms < o->reorder_min_ms)
        return ss_err_set(err, SS_EUSAGE, "late/reorder delays must satisfy 0 <= min <= max");
    unsigned all = (1u << SS_STREAM_COUNT) - 1;
    if ((o->streams & all) == 0 || (o->streams & ~all))
        return ss_err_set(err, SS_EUSAGE, "streams must enable at least one of clicks, promotions, orders");
    for (int s = 0; s < SS_STREAM_COUNT; s++)
        if (o->format[s] != SS_FMT_JSON && o->format[s] != SS_FMT_CSV)
            return ss_err_set(err, SS_EUSAGE, "format of %s must be json or csv", ss_stream_name((enum ss_stream)s));

    struct ss_gen *g = ss_calloc(1, sizeof *g);
    g->o = *o;
    g->tag_len = (uint8_t)(put_u64(g->tag, o->seed) - g->tag);
    for (int s = 0; s < SS_STREAM_COUNT; s++) {
        rng_seed(&g->rng[s], o->seed, (uint64_t)s + 1);
        g->max_ts[s] = INT64_MIN;
    }
    g->day_cached = INT64_MIN;
    g->nprod = (uint32_t)o->products;
    build_catalog(g);

    int clicks = (o->streams >> SS_STREAM_CLICKS) & 1, orders = (o->streams >> SS_STREAM_ORDERS) & 1;
    int promos = (o->streams >> SS_STREAM_PROMOTIONS) & 1;
    double click_rate = clicks ? o->rate * (orders ? 1 - o->orders_share : 1) : 0;
    double order_rate = orders ? (clicks ? o->rate * o->orders_share : o->rate) : 0;
    g->base_ms = o->start_ms - 86400000;
    g->active.base = g->pend.base = g->base_ms;
    if (click_rate > 0) {
        g->busy_until = ss_calloc((size_t)o->users, sizeof *g->busy_until);
        g->arrival_gap_us = 1e6 * mean_session_events() / click_rate;
        g->arrival_us = o->start_ms * 1000;
        g->p_cart[0] = p_threshold(0.10);
        g->p_cart[1] = p_threshold(0.30);
        g->p_remove = p_threshold(0.05);
        build_gap_table(g->gap_table);
        warm_start(g, click_rate);
    }
    if (order_rate > 0) {
        g->order_gap_us = 1e6 / order_rate;
        g->order_us = o->start_ms * 1000 + (int64_t)(exp_sample(&g->rng[SS_STREAM_ORDERS]) * g->order_gap_us);
    }
    if (promos) {
        int64_t span = o->span_ms > 0 ? o->span_ms : (int64_t)((double)o->events / o->rate * 1000.0);
        if (span < MIN_MS) span = MIN_MS;
        /* About 20 running at any time, as in a real shop: each lasts ~1.75 h. */
        int64_t count = o->promotions;
        if (count < 0) count = (clicks || orders) ? 10 + span / (5 * MIN_MS) : o->events;
        build_promotions(g, count, span);
    }
    /* Per fresh record; duplicates add records, so shares of the emitted total
     * need the fresh probabilities scaled by 1 / (1 - duplicates). */
    double scale = 1.0 / (1.0 - o->p_duplicate);
    g->thr_invalid = p_threshold(o->p_invalid * scale);
    g->thr_late = p_threshold((o->p_invalid + o->p_late) * scale);
    g->thr_reorder = p_threshold((o->p_invalid + o->p_late + o->p_reorder) * scale);
    g->thr_dup = p_threshold((o->p_invalid + o->p_late + o->p_reorder + o->p_duplicate) * scale);
    *out = g;
    return SS_OK;
}

static inline int64_t us_to_ms(int64_t us) { return us >= 0 ? us / 1000 : -((-us + 999) / 1000); }

/* Who places an order: a shopper who is browsing right now, preferably one whose
 * session converts (a few random picks among the sessions in progress), as when a
 * checkout completes through the order service rather than the click stream. So
 * orders extend real sessions, and converters keep browsing longer than the others
 * (the insight the report shows). Without clicks, any user. */
static uint32_t order_customer(struct ss_gen *g, struct rng *r) {
    if (!g->busy_until || g->active.n == 0) return (uint32_t)rng_below(r, (uint64_t)g->o.users) + 1;
    uint32_t pick = 0;
    for (int tries = 0; tries < 8; tries++) {
        uint32_t idx = (uint32_t)(g->active.a[rng_below(r, g->active.n)] & HEAP_IDX_MAX);
        pick = g->sess[idx].user;
        if (g->sess[idx].buyer) break;
    }
    return pick;
}

int ss_gen_next(struct ss_gen *g, struct ss_gen_record *rec) {
    const unsigned sm = g->o.streams;
    for (;;) {
        if (g->emitted >= g->o.events) return SS_EOF;
        int fresh_ok = g->emitted + (int64_t)g->pend.n < g->o.events;
        int64_t t_click = INT64_MAX, t_order = INT64_MAX, t_promo = INT64_MAX;
        if (fresh_ok) {
            if (g->busy_until) {
                int64_t t_arr = us_to_ms(g->arrival_us);
                t_click = g->active.n ? heap_top_ts(&g->active) : INT64_MAX;
                if (t_arr <= t_click) {
                    spawn_session(g);
                    continue;
                }
            }
            /* --orders-share 0 leaves the stream on with no rate: no orders at all */
            if (((sm >> SS_STREAM_ORDERS) & 1) && g->order_gap_us > 0) t_order = us_to_ms(g->order_us);
            if (g->promo_pos < g->npromos) t_promo = g->promos[g->promo_pos].ts;
        }
        int64_t tf = t_click < t_order ? t_click : t_order;
        if (t_promo < tf) tf = t_promo;
        if (g->pend.n && (heap_top_ts(&g->pend) <= tf || !fresh_ok)) {
            uint32_t i = heap_top_idx(&g->pend);
            heap_pop(&g->pend);
            const struct pending *pd = &g->slots[i];
            memcpy(g->key, pd->key, pd->key_len);
            memcpy(g->buf, pd->data, pd->len);
            rec->stream = (enum ss_stream)pd->stream;
            rec->defect = SS_GEN_DUPLICATE;
            rec->reason = SS_VALID;
            rec->key = g->key;
            rec->key_len = pd->key_len;
            rec->data = g->buf;
            rec->len = pd->len;
            rec->ts = pd->ts;
            SS_GROW(g->slot_free, g->slot_free_cap, g->nslot_free + 1);
            g->slot_free[g->nslot_free++] = i;
            g->st.defects[SS_GEN_DUPLICATE]++;
            break;
        }
        if (tf == INT64_MAX) return SS_EOF; /* every source exhausted */
        if (tf == t_promo) {
            const struct promo *q = &g->promos[g->promo_pos++];
            const struct product *pr = &g->prod[q->prod];
            rec->stream = SS_STREAM_PROMOTIONS;
            rec->defect = SS_GEN_CLEAN;
            rec->reason = SS_VALID;
            rec->key = pr->id;
            rec->key_len = pr->id_len;
            rec->data = g->buf;
            rec->len = fmt_promo(g, g->buf, q);
            rec->ts = q->ts;
            g->st.defects[SS_GEN_CLEAN]++;
            break;
        }
        if (tf == t_order) {
            struct rng *r = &g->rng[SS_STREAM_ORDERS];
            uint32_t user = order_customer(g, r);
            uint32_t prod = zipf_product(g, r);
            uint8_t qty = quantity_sample(r);
            g->next_order += 2;
            uint64_t order_no = g->next_order - 1; /* odd: click checkouts take the even numbers */
            g->order_us += (int64_t)(exp_sample(r) * g->order_gap_us) + 1;
            emit_fresh(g, rec, SS_STREAM_ORDERS, t_order, NULL, NULL, user, prod, qty, order_no);
            break;
        }
        /* a click */
        uint32_t idx = heap_top_idx(&g->active);
        struct sess *s = &g->sess[idx];
        struct rng *r = &g->rng[SS_STREAM_CLICKS];
        struct click c;
        int64_t ts = s->next_ts;
        /* counted at its first click, not when started: the sessions under way at start
         * (rate x ~35 s of them) mostly never reach the output of a short run, and the
         * summary's sessions= would exceed the clicks written */
        if (!s->counted) {
            s->counted = 1;
            g->st.sessions++;
        }
        int done = sess_step(g, s, r, &c);
        /* Reschedule first, so that the next session's cache line is on its way
         * while this record is formatted. s stays valid: slots are reused only by
         * spawn_session. */
        if (done) {
            int64_t free_s = (ts + SESSION_GAP_MS + MIN_MS - g->base_ms) / 1000;
            g->busy_until[s->user - 1] = free_s >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)free_s;
            heap_pop(&g->active);
            SS_GROW(g->sess_free, g->free_cap, g->nfree + 1);
            g->sess_free[g->nfree++] = idx;
        } else {
            s->next_ts = ts + (s->phase == PH_CHECKOUT && s->line > 0 ? rng_range(r, 200, 3000) : browse_gap_ms(g, r));
            heap_retime_top(&g->active, s->next_ts);
        }
        if (g->active.n) __builtin_prefetch(&g->sess[heap_top_idx(&g->active)]);
        emit_fresh(g, rec, SS_STREAM_CLICKS, ts, s, &c, 0, 0, 0, 0);
        break;
    }
    g->emitted++;
    g->st.records++;
    g->st.streams[rec->stream]++;
    return SS_OK;
}

void ss_gen_stats(const struct ss_gen *g, struct ss_gen_stats *st) { *st = g->st; }

void ss_gen_free(struct ss_gen *g) {
    if (!g) return;
    ss_free(g->prod);
    ss_free(g->zipf_alias);
    ss_free(g->zipf_thr);
    ss_free(g->rank_to_prod);
    ss_free(g->sess);
    ss_free(g->sess_free);
    ss_free(g->active.a);
    ss_free(g->busy_until);
    ss_free(g->promos);
    ss_free(g->pend.a);
    ss_free(g->slots);
    ss_free(g->slot_free);
    ss_free(g);
}

const char *ss_gen_defect_name(enum ss_gen_defect d) {
    static const char *n[] = {"clean", "duplicate", "late", "reordered", "invalid"};
    return (unsigned)d < SS_GEN_DEFECT_COUNT ? n[d] : "?";
}
