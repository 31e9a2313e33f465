/* generator.h — synthetic e-commerce traffic: the input side of `shopstream produce`,
 * the in-process demo and the Kafka producer (records keyed by user_id).
 *
 * The generator is a deterministic model, not a replay: users arrive over event time
 * and browse in sessions (view, cart_add, cart_remove, purchase; buyers browse about
 * four times longer than non-buyers), products are Zipf-popular and belong to one of
 * up to 12 categories, each with a fixed log-normal price in cents. Beside the clicks
 * it produces an orders stream (one CSV line per order) and promotions published
 * before they start. Records of all streams come out of one call, ss_gen_next, in
 * emission order (about event-time order), with the requested share of defects:
 * exact redeliveries, late arrivals, out-of-order arrivals and invalid records.
 *
 * Same options (seed included) => byte-identical records. Each stream draws from its
 * own random stream, so the records of one stream do not depend on which other
 * streams are enabled: a clicks-only run at rate R x (1 - orders_share) starts with
 * the same clicks as a full run at rate R with the same seed.
 *
 * A user's later sessions come from revisits: a new session goes to a user idle for
 * more than 31 minutes when one is found nearby, so the engine's 30 min gap splits
 * sessions where the model does.
 *
 * Lifetime: rec->data and rec->key point into buffers owned by the generator and
 * stay valid until the next ss_gen_next or ss_gen_free. Nothing is allocated per
 * record; memory grows with the number of sessions in progress (about rate x 35 s
 * sessions of ~64 bytes each) and with the products table. */
#ifndef SS_GENERATOR_H
#define SS_GENERATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"
#include "../core/event.h"
#include "../decode/decode.h"

enum ss_gen_defect {
    SS_GEN_CLEAN = 0,     /* a normal record */
    SS_GEN_DUPLICATE,     /* the exact bytes of an earlier record, redelivered */
    SS_GEN_LATE,          /* ts is at least late_min behind the newest valid ts of its stream */
    SS_GEN_REORDERED,     /* ts 1..10 min behind: out of order but not late */
    SS_GEN_INVALID,       /* exactly one problem; rec->reason says which */
    SS_GEN_DEFECT_COUNT
};

struct ss_gen_opts {
    uint64_t seed;          /* default 1 */
    int64_t start_ms;       /* event time of the first records; default 2026-11-27T00:00:00Z */
    int64_t events;         /* records to emit over all enabled streams (defects included); default 100000 */
    double rate;            /* records per second of event time; default 100 */
    int64_t users;          /* user id space u1..uN; default 1000000 */
    int64_t products;       /* product id space p1..pN; default 10000 */
    int categories;         /* 1..12; default 12 */
    int64_t promotions;     /* promotions to publish; < 0 (default): 10 + one per 5 min of span,
                               or `events` when promotions are the only stream */
    double orders_share;    /* share of records that are orders (when enabled); default 0.05 */
    /* Defects, as shares of the emitted records of clicks and orders (promotions are
     * always clean). Together: duplicates*2 + late + reorder + invalid <= 1. */
    double p_duplicate;
    double p_late;
    double p_reorder;
    double p_invalid;
    int64_t late_min_ms;    /* default 16 min: beyond the engine's default 15 min lateness */
    int64_t late_max_ms;    /* default 30 min */
    int64_t reorder_min_ms; /* default 1 min */
    int64_t reorder_max_ms; /* default 10 min: still within the default lateness */
    int64_t span_ms;        /* event time the promotions are spread over; <= 0: events / rate */
    unsigned streams;       /* bit (1u << enum ss_stream) per enabled stream; default all */
    int format[SS_STREAM_COUNT]; /* enum ss_format; default clicks JSON, promotions JSON, orders CSV */
};

struct ss_gen_record {
    enum ss_stream stream;
    enum ss_gen_defect defect;
    enum ss_reason reason;  /* SS_VALID unless defect == SS_GEN_INVALID */
    const char *key;        /* user_id (promotions: product_id); not NUL-terminated */
    size_t key_len;
    const char *data;       /* one JSON object or CSV row, without a line terminator */
    size_t len;
    int64_t ts;             /* the record's event time (for a late record, the old ts it carries) */
};

struct ss_gen_stats {
    int64_t records;                          /* emitted, all streams */
    int64_t streams[SS_STREAM_COUNT];         /* emitted per stream */
    int64_t defects[SS_GEN_DEFECT_COUNT];     /* [SS_GEN_CLEAN] = clean records */
    int64_t invalid[SS_REASON_COUNT];         /* invalid records by reason */
    int64_t clicks[4];                        /* clean + late + reordered clicks by enum ss_event_type */
    int64_t sessions;                         /* sessions with at least one click emitted */
    int64_t high_value;                       /* valid purchase lines (clicks or orders) with amount >= 1000.00 */
};

struct ss_gen;

void ss_gen_opts_init(struct ss_gen_opts *o);
/* Validates opts (SS_EUSAGE naming the option on a bad value) and builds the catalog. */
/* The most events ss_gen_new accepts at `rate` (their event time must span at most ~4
 * years): what an endless run, like the demo's until Ctrl-C, asks for. */
int64_t ss_gen_events_limit(double rate);
int ss_gen_new(struct ss_gen **out, const struct ss_gen_opts *opts, struct ss_err *err);
/* The next record of any enabled stream. Returns SS_OK, or SS_EOF once opts.events
 * records have been emitted. */
int ss_gen_next(struct ss_gen *g, struct ss_gen_record *rec);
/* The CSV header line (no terminator) of a stream in format fmt, or NULL for JSON. */
const char *ss_gen_header(const struct ss_gen *g, enum ss_stream stream, int fmt);
void ss_gen_stats(const struct ss_gen *g, struct ss_gen_stats *st);
void ss_gen_free(struct ss_gen *g);

const char *ss_gen_defect_name(enum ss_gen_defect d); /* "clean", "duplicate", ... */

#endif
