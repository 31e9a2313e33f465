/* engine.c — the pipeline runtime (engine.h). Per record, in this order
 * (docs/SEMANTICS.md §3): count, decode + validate (invalid -> dlq), late check
 * against the watermark before the record (late -> late output), dedup, every
 * operator, then max_ts of the record's partition and the watermark; when the
 * watermark moves, operators emit what became final.
 *
 * Outputs collect in one struct ss_out and are handed to the sinks at epoch
 * boundaries (every epoch.interval or epoch.events records, and at the end), on the
 * committer's thread (committer.c): while the sinks write epoch N, the engine computes
 * N+1 into a second struct ss_out. The inputs' positions are committed once the epoch
 * that covers them is collected and every sink has made it durable (a lake that keeps
 * files open across epochs makes it durable later: its positions wait, see
 * commit_positions). Records are decoded a batch at a time on a third
 * thread (predecode.c), ahead of the engine, which processes them in order. */
#include "engine.h"

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/arena.h"
#include "../core/intern.h"
#include "../core/log.h"
#include "../core/table.h"
#include "../core/timefmt.h"
#include "../decode/decode.h"
#include "../ops/dedup.h"
#include "../ops/op.h"
#include "../ops/quality.h"
#include "bgsave.h"
#include "committer.h"
#include "predecode.h"
#include "savepoint.h"

#define MAX_INPUTS 64
#define MAX_SINKS 16
_Static_assert(MAX_SINKS <= SS_STATS_SINKS, "every sink has its commit time in ss_run_stats");
#define POLL_BATCH 4096
/* How long a poll may wait for records when no input had any in the last round:
 * short, so that epochs commit on time and a stop is noticed while inputs are quiet. */
#define POLL_WAIT_MS 100

struct input {
    struct ss_input_spec spec;
    struct ss_source *src;
    struct ss_decoder *dec;
    struct ss_decoder *dec_own;  /* JSON: the engine's own, for records it decodes itself */
    bool sequential;        /* files: read one after another, in order */
    bool finished;
    bool first_taken;       /* a record was processed (the first one is checked: first_record_hint) */
    uint32_t *slot_of;      /* partition -> slot + 1 (0: none yet) */
    size_t nslot_of;
};

/* A record between decoding and processing (process_batch). */
struct staged {
    struct ss_event ev;
    struct ss_decode_result res;
    enum ss_decode_status st;
    uint8_t want;            /* bit i: ids[i] is interned (user, product, category, promo) */
    uint64_t h[4];           /* their intern hashes */
    struct ss_dedup_key dk;  /* dedup key of event_id (promo_id for promotions) */
};

/* One input partition: the unit of the watermark. */
struct slot {
    int input;
    int32_t partition;
    int64_t next_offset;    /* position after the last record read */
    int64_t last_seen_ms;   /* processing time of the last valid event (idleness) */
    bool finished;          /* exhausted, or revoked from this process */
    bool revoked;           /* revoked: another process reads it on (from its committed offset) */
};

struct ss_engine {
    const struct ss_config *cfg;
    struct ss_intern *intern;
    struct ss_op *ops[16];
    int nops;
    int64_t soonest;                /* <= every operator's wake (op.h) */
    struct ss_dedup *dedup_events;  /* clicks and orders: event_id */
    struct ss_dedup *dedup_promos;  /* promotions: promo_id */
    struct ss_quality quality;

    struct input inputs[MAX_INPUTS];
    int ninputs;
    struct slot *slots;
    int64_t *max_ts;                /* per slot */
    size_t nslots, cap_slots, cap_max;
    int min_slot;                   /* slot holding the watermark back; -1: recompute */

    int64_t watermark;
    struct ss_clock clk;

    struct ss_sink *sinks[MAX_SINKS];
    int nsinks;

    struct ss_out out;
    struct ss_committer *committer;
    struct ss_out *spare;           /* rows buffers not in use: the committer's, when collected */
    /* Positions of collected epochs that a sink still holds rows of (SS_SINK_HOLDS),
     * oldest first: committed to the inputs once the sinks are durable up to them. */
    struct held_positions {
        uint64_t epoch;
        struct ss_position *pos;
        int n;
    } *held;
    size_t nheld, held_cap;
    /* -1, or the one input whose positions commit_positions may commit: the one whose
     * partitions are being revoked (see on_revoked) */
    int commit_only;
    struct ss_arena batch;          /* decoded strings of the current poll batch */
    struct ss_arena batch_own;      /* those the engine decoded itself (process_batch) */
    struct ss_record *recs;
    struct ss_predecode *pre;       /* decodes a batch on a second thread */
    struct staged *staged;          /* the batch's records between decoding and processing */

    uint64_t epoch;
    int64_t epoch_records;
    int64_t epoch_started_ms;
    int64_t now_ms;                 /* processing time, refreshed per batch */
    struct ss_run_stats stats;
    void (*epoch_hook)(void *ctx, struct ss_engine *e);
    void *epoch_hook_ctx;
    /* ss_engine_stop: a signal handler or another thread (engine.h). Lock-free, so safe
     * in a handler; relaxed, as it publishes nothing but itself (read once a batch) */
    atomic_bool stop;
    bool stop_noted;                /* the stop was logged */
    /* SS_OK, or the error of a revocation whose outputs the sinks refused (on_revoked):
     * the run ends with it at once, committing nothing more */
    int revoke_rc;
    struct ss_err revoke_err;
    /* savepoints (README "Savepoints") */
    int64_t savepoint_at_ms;        /* processing time the last one was staged */
    uint64_t savepoint_epoch;       /* the epoch PATH.tmp holds (or bg is writing) the state of, published
                                       once it is written and the sinks have the epoch; 0: none staged */
    struct ss_bgsave bg;            /* the child writing it, if any (bgsave.h) */
    /* The lineage of the state: drawn at random by a run that starts without a savepoint,
     * carried on by every savepoint and so by every run that loads one. The inputs tag
     * their commits with it (source.h, set_writer): a restored run tells its lineage's
     * commits from another process's. */
    uint64_t lineage;
    bool lineage_loaded;            /* ... and it came from the savepoint loaded */
};

static const char *comp = "engine";

_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2, "ss_engine_stop stores the flag in a signal handler");
static bool stopping(const struct ss_engine *e) { return atomic_load_explicit(&e->stop, memory_order_relaxed); }

/* A sink commit call that has run this long is logged, and again as often while it
 * lasts: a PostgreSQL table locked by another session or a hung file system otherwise
 * stalls the run without a word (a failing call is retried and logged as such). An
 * epoch's commit normally takes well under a second. */
#define STALL_WARN_MS 30000

static int run_inputs(struct ss_engine *e, struct ss_err *err);

int ss_engine_open(struct ss_engine **out, const struct ss_config *cfg, struct ss_err *err) {
    struct ss_engine *e = ss_calloc(1, sizeof *e);
    e->cfg = cfg;
    atomic_init(&e->stop, false);
    e->intern = ss_intern_new();
    e->watermark = SS_TS_MIN;
    e->min_slot = -1;
    e->commit_only = -1;
    ss_out_init(&e->out);
    e->spare = ss_malloc(sizeof *e->spare);
    ss_out_init(e->spare);
    ss_arena_init(&e->batch, 1 << 20);
    ss_arena_init(&e->batch_own, 1 << 16);
    e->recs = ss_calloc(POLL_BATCH, sizeof *e->recs);
    e->staged = ss_calloc(POLL_BATCH, sizeof *e->staged);
    /* separate id spaces: an event_id and a promo_id may be spelled alike */
    e->dedup_events = ss_dedup_new();
    e->dedup_promos = ss_dedup_new();
    ss_quality_init(&e->quality, cfg);
    struct ss_op_env env = {.cfg = cfg, .intern = e->intern};
    for (int i = 0; i < ss_op_ntypes; i++) {
        int rc = ss_op_types[i]->open(&e->ops[e->nops], &env, err);
        if (rc) {
            ss_engine_close(e);
            return rc;
        }
        e->ops[e->nops]->wake = SS_TS_MIN; /* until its first advance says otherwise */
        e->ops[e->nops++]->soonest = &e->soonest;
    }
    e->soonest = SS_TS_MIN;
    /* started here, not in ss_engine_run: ss_engine_stop (a signal handler, another
     * thread) may run at any time and must find it whole */
    int rc = ss_committer_start(&e->committer, err);
    if (!rc) rc = ss_predecode_start(&e->pre, POLL_BATCH, err);
    if (rc) {
        ss_engine_close(e);
        return rc;
    }
    e->stats.started_ms = ss_now_ms();
    *out = e;
    return SS_OK;
}

/* A partition seen for the first time gets its slot. Out of line: slot_for runs for
 * every record, and with this inlined it saved and restored six registers each time. */
static __attribute__((noinline)) uint32_t new_slot(struct ss_engine *e, int input, int32_t partition) {
    struct input *in = &e->inputs[input];
    if ((size_t)partition >= in->nslot_of) {
        size_t n = (size_t)partition + 1;
        in->slot_of = ss_realloc(in->slot_of, n * sizeof *in->slot_of);
        memset(in->slot_of + in->nslot_of, 0, (n - in->nslot_of) * sizeof *in->slot_of);
        in->nslot_of = n;
    }
    SS_GROW(e->slots, e->cap_slots, e->nslots + 1);
    SS_GROW(e->max_ts, e->cap_max, e->nslots + 1);
    uint32_t s = (uint32_t)e->nslots++;
    e->slots[s] = (struct slot){.input = input, .partition = partition, .last_seen_ms = e->now_ms};
    e->max_ts[s] = SS_TS_MIN;
    e->clk.max_ts = e->max_ts;
    in->slot_of[partition] = s + 1;
    e->min_slot = -1;
    return s;
}

static inline uint32_t slot_for(struct ss_engine *e, int input, int32_t partition) {
    const struct input *in = &e->inputs[input];
    if (partition < 0) partition = 0;
    if ((size_t)partition < in->nslot_of && in->slot_of[partition]) return in->slot_of[partition] - 1;
    return new_slot(e, input, partition);
}

static void on_assigned(void *ctx, struct ss_source *src, const int32_t *parts, int n);
static void on_revoked(void *ctx, struct ss_source *src, const int32_t *parts, int n);

int ss_engine_check_input(const struct ss_config *cfg, const struct ss_source_type *type, const char *url,
                          struct ss_err *err) {
    if (cfg->savepoint_path && *cfg->savepoint_path && !type->start_at)
        return ss_err_set(err, SS_EUSAGE,
                          "savepoint.path is set, but input %s cannot resume at a position: savepoints need Kafka "
                          "inputs (a file is read whole by every run)",
                          url);
    return SS_OK;
}

static int add_input(struct ss_engine *e, struct ss_source *src, const struct ss_input_spec *spec, bool sequential,
                     struct ss_err *err) {
    if (e->ninputs == MAX_INPUTS) return ss_err_set(err, SS_EUSAGE, "too many inputs (at most %d)", MAX_INPUTS);
    int crc = ss_engine_check_input(e->cfg, src->type, spec->url, err);
    if (crc) return crc;
    struct input *in = &e->inputs[e->ninputs];
    memset(in, 0, sizeof *in);
    int rc = ss_decoder_open(&in->dec, spec->stream, (enum ss_format)spec->format,
                             e->cfg->field_names[spec->stream], err);
    /* not CSV: its decoder learns the columns from the header, the first record */
    if (!rc && spec->format == SS_FMT_JSON)
        rc = ss_decoder_open(&in->dec_own, spec->stream, SS_FMT_JSON, e->cfg->field_names[spec->stream], err);
    if (rc) {
        ss_decoder_close(in->dec);
        in->dec = NULL;
        return rc;
    }
    in->spec = *spec;
    in->spec.url = ss_strdup(spec->url);
    in->spec.index = e->ninputs;
    in->src = src;
    in->sequential = sequential;
    e->ninputs++;
    /* a file is one partition, known from the start: it holds the watermark back
     * until it has been read (SEMANTICS §4); Kafka partitions arrive by assignment */
    if (sequential) slot_for(e, e->ninputs - 1, (int32_t)(e->ninputs - 1));
    if (src->type->set_hooks) {
        struct ss_source_hooks hooks = {.ctx = e, .assigned = on_assigned, .revoked = on_revoked};
        src->type->set_hooks(src, &hooks);
    }
    return SS_OK;
}

int ss_engine_add_input(struct ss_engine *e, const char *arg, struct ss_err *err) {
    struct ss_input_spec spec;
    int rc = ss_input_spec_parse(&spec, arg, e->cfg->format, err);
    if (rc) return rc;
    spec.index = e->ninputs;
    /* Kafka partitions are read concurrently; files one after another */
    const struct ss_source_type *type = ss_source_type_of(&spec);
    bool kafka = type == &ss_source_kafka;
    struct ss_source *src;
    rc = type->open(&src, &spec, e->cfg, err);
    if (rc == SS_OK) {
        rc = add_input(e, src, &spec, !kafka, err);
        if (rc) type->close(src);
    }
    ss_input_spec_free(&spec);
    return rc;
}

int ss_engine_add_source(struct ss_engine *e, struct ss_source *src, const struct ss_input_spec *spec,
                         struct ss_err *err) {
    return add_input(e, src, spec, false, err);
}

int ss_engine_add_sink(struct ss_engine *e, const char *url, struct ss_err *err) {
    if (e->nsinks == MAX_SINKS) return ss_err_set(err, SS_EUSAGE, "too many sinks (at most %d)", MAX_SINKS);
    struct ss_sink *sk;
    /* a destination that is down at start (SS_RETRY) is retried with backoff for
     * sink.connect_timeout: services often start together and come up in any order */
    int64_t deadline = ss_now_ms() + e->cfg->sink_connect_timeout_ms, backoff = 200;
    int rc;
    for (int attempt = 1;; attempt++) {
        rc = ss_sink_open_url(&sk, url, e->cfg, err);
        if (rc != SS_RETRY || stopping(e) || ss_now_ms() + backoff > deadline) break;
        if (attempt == 1 || attempt % 5 == 0)
            ss_warn(comp, "msg=\"sink not reachable yet, retrying\" sink=\"%s\" attempt=%d err=\"%s\"", url, attempt,
                    err->msg);
        ss_sleep_ms(backoff);
        backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
    }
    if (rc == SS_RETRY && stopping(e)) { /* run.c stops the engine on SIGINT/SIGTERM */
        err->code = SS_ESTOPPED;
        err->retriable = false;
        return ss_err_wrap(err, "stopped while waiting for the sink");
    }
    if (rc == SS_RETRY) {
        err->code = SS_EIO;
        err->retriable = false;
        return ss_err_wrap(err, "gave up after sink.connect_timeout=%llds", (long long)(e->cfg->sink_connect_timeout_ms / 1000));
    }
    if (rc) return rc;
    if ((rc = ss_committer_add_sink(e->committer, sk, err))) {
        sk->type->close(sk);
        return rc;
    }
    e->sinks[e->nsinks++] = sk;
    /* its label in the metrics: the type, numbered from the second of a type on */
    int same = 0;
    for (int i = 0; i < e->nsinks - 1; i++) same += e->sinks[i]->type == sk->type;
    struct ss_sink_time *st = &e->stats.sinks[e->stats.nsinks++];
    if (same) snprintf(st->sink, sizeof st->sink, "%s#%d", sk->type->name, same + 1);
    else snprintf(st->sink, sizeof st->sink, "%s", sk->type->name);
    st->commit_ms = -1;
    if (sk->committed_epoch > e->epoch) e->epoch = sk->committed_epoch;
    if (sk->type->flags & SS_SINK_PROVISIONAL) e->out.provisional = true;
    if (sk->type->flags & SS_SINK_EVENTS) e->out.events = true;
    return SS_OK;
}

/* ---- watermark ------------------------------------------------------------- */

static void advance_ops(struct ss_engine *e) {
    e->clk.watermark = e->watermark;
    if (e->watermark >= e->soonest) {
        int64_t soonest = SS_TS_MAX;
        for (int i = 0; i < e->nops; i++) {
            struct ss_op *op = e->ops[i];
            if (e->watermark >= op->wake) op->type->advance(op, &e->clk, &e->out);
            if (op->wake < soonest) soonest = op->wake;
        }
        e->soonest = soonest;
    }
    ss_dedup_evict(e->dedup_events, e->watermark);
    ss_dedup_evict(e->dedup_promos, e->watermark);
}

/* Recomputes W from the unfinished partitions; returns true when it moved. */
static bool update_watermark(struct ss_engine *e) {
    int64_t lowest = SS_TS_MAX;
    bool any = false;
    int min_slot = -1;
    for (size_t s = 0; s < e->nslots; s++) {
        if (e->slots[s].finished) continue;
        if (!e->inputs[e->slots[s].input].sequential &&
            e->now_ms - e->slots[s].last_seen_ms > e->cfg->idle_timeout_ms)
            continue; /* idle: does not hold W back until it delivers again */
        any = true;
        if (e->max_ts[s] < lowest || min_slot < 0) {
            lowest = e->max_ts[s];
            min_slot = (int)s;
        }
    }
    e->min_slot = min_slot;
    /* a Kafka input that owns no partition yet holds W back for idle_timeout after
     * the start: its partitions are being assigned, and their events must not be
     * judged against a watermark the other inputs raised meanwhile */
    if (e->now_ms - e->stats.started_ms < e->cfg->idle_timeout_ms)
        for (int i = 0; i < e->ninputs; i++) {
            if (e->inputs[i].sequential || e->inputs[i].finished) continue;
            bool owns = false;
            /* a savepoint's slots are finished until their partitions come (load_state) */
            for (size_t s = 0; s < e->nslots && !owns; s++) owns = e->slots[s].input == i && !e->slots[s].finished;
            if (!owns) return false;
        }
    int64_t w;
    if (!any) {
        /* W = +inf only when every input is finished (not merely idle or unassigned) */
        for (int i = 0; i < e->ninputs; i++)
            if (!e->inputs[i].finished) return false;
        w = SS_TS_MAX;
    } else if (lowest == SS_TS_MIN) {
        return false;
    } else {
        w = lowest - e->cfg->lateness_ms;
    }
    if (w <= e->watermark) return false;
    e->watermark = w;
    return true;
}

/* ---- per record --------------------------------------------------------------- */

static void emit_side(struct ss_engine *e, const struct ss_event *ev, const struct input *in, bool late,
                      const char *reason) {
    enum ss_table_id t = late ? SS_T_LATE : SS_T_DLQ;
    struct ss_val *v = ss_out_row(&e->out, t);
    ss_out_str(&e->out, ss_out_user(&e->out, t, e->out.t[t].n - 1), ev->user_id);
    struct ss_str source = ss_str_c(in->src->type->name_of(in->src));
    struct ss_str stream = ss_str_c(ss_stream_name(in->spec.stream));
    if (late) {
        ss_out_str(&e->out, &v[SS_LT_STREAM], stream);
        ss_out_str(&e->out, &v[SS_LT_SOURCE], source);
        v[SS_LT_PARTITION].i = ev->origin.partition;
        v[SS_LT_OFFSET].i = ev->origin.offset;
        v[SS_LT_TS].i = ev->ts;
        v[SS_LT_WATERMARK].i = e->watermark;
        ss_out_str(&e->out, &v[SS_LT_RECORD], ev->raw);
    } else {
        ss_out_str(&e->out, &v[SS_DL_REASON], ss_str_c(reason));
        ss_out_str(&e->out, &v[SS_DL_STREAM], stream);
        ss_out_str(&e->out, &v[SS_DL_SOURCE], source);
        v[SS_DL_PARTITION].i = ev->origin.partition;
        v[SS_DL_OFFSET].i = ev->origin.offset;
        ss_out_str(&e->out, &v[SS_DL_RECORD], ev->raw);
    }
}

static void emit_event_row(struct ss_engine *e, const struct ss_event *ev) {
    struct ss_val *v = ss_out_row(&e->out, SS_T_EVENTS);
    ss_out_str(&e->out, &v[SS_EV_EVENT_ID], ev->event_id);
    v[SS_EV_TS].i = ev->ts;
    ss_out_str(&e->out, &v[SS_EV_EVENT_TYPE], ss_str_c(ss_event_type_name((enum ss_event_type)ev->type)));
    ss_out_str(&e->out, &v[SS_EV_USER_ID], ev->user_id);
    ss_out_str(&e->out, &v[SS_EV_SESSION_ID], ev->session_id);
    ss_out_str(&e->out, &v[SS_EV_PRODUCT_ID], ev->product_id);
    ss_out_str(&e->out, &v[SS_EV_CATEGORY], ev->category);
    v[SS_EV_PRICE].i = ev->price;
    v[SS_EV_PRICE].null = !ev->has_price;
    v[SS_EV_QUANTITY].i = ev->quantity;
    ss_out_str(&e->out, &v[SS_EV_ORDER_ID], ev->order_id);
}


/* The ids an event interns, by bit of struct staged's want: a table of offsets rather
 * than a switch, and loops over the set bits only (three of four on a click). */
static const size_t id_offset[4] = {offsetof(struct ss_event, user_id), offsetof(struct ss_event, product_id),
                                    offsetof(struct ss_event, category), offsetof(struct ss_event, promo_id)};
static inline const struct ss_str *id_str(const struct ss_event *ev, int i) {
    return (const struct ss_str *)(const void *)((const char *)ev + id_offset[i]);
}
#define FOR_EACH_ID(i, want) for (unsigned w_ = (want), i; w_ && (i = (unsigned)__builtin_ctz(w_), 1); w_ &= w_ - 1)

/* Decoding and hashing: pure functions of the record, so they may run on the
 * predecode thread (the decoder and the batch arena are then that thread's). */
static void stage_decode(struct ss_decoder *dec, struct ss_arena *arena, const struct ss_record *rec,
                         struct staged *s) {
    s->want = 0;
    if (rec->file_start) ss_decoder_new_file(dec);
    if (rec->cut) {
        s->st = ss_decoder_reject_malformed(dec, rec->data, rec->len, &s->ev, &s->res);
        return;
    }
    s->st = ss_decoder_decode(dec, rec->data, rec->len, arena, &s->ev, &s->res);
    if (s->st != SS_DEC_EVENT) return;
    const struct ss_event *ev = &s->ev;
    bool promo = ev->stream == SS_STREAM_PROMOTIONS;
    s->dk = ss_dedup_key(promo ? ev->promo_id : ev->event_id);
    s->want = (uint8_t)((ev->user_id.len ? 1 : 0) | (ev->product_id.len ? 2 : 0) | (promo ? 8 : 4));
    FOR_EACH_ID(i, s->want) s->h[i] = ss_intern_hash(*id_str(ev, (int)i));
}

/* The first prefetches into the engine's tables (dedup slot, intern slot). */
static void stage_hashed(struct ss_engine *e, const struct staged *s) {
    if (s->st != SS_DEC_EVENT) return;
    bool promo = s->ev.stream == SS_STREAM_PROMOTIONS;
    ss_dedup_prefetch(promo ? e->dedup_promos : e->dedup_events, s->dk);
    FOR_EACH_ID(i, s->want) ss_intern_prefetch(e->intern, s->h[i]);
}

static void stage_entry(struct ss_engine *e, const struct staged *s) {
    FOR_EACH_ID(i, s->want) ss_intern_prefetch_entry(e->intern, s->h[i]);
}

/* Interns the ids of every valid record, late or duplicate ones too (unheld, they
 * go at the batch's sweep), so that operators can prefetch by id ahead. */
static void stage_resolve(struct ss_engine *e, struct staged *s) {
    if (s->st != SS_DEC_EVENT) return;
    uint32_t id[4] = {0, 0, 0, 0};
    FOR_EACH_ID(i, s->want) id[i] = ss_intern_get_hashed(e->intern, *id_str(&s->ev, (int)i), s->h[i]);
    s->ev.user = id[0];
    s->ev.product = id[1];
    s->ev.cat = id[2];
    s->ev.promo = id[3];
}

static void stage_prefetch_ops(struct ss_op *const *pf, int npf, const struct staged *s, int stage) {
    if (s->st != SS_DEC_EVENT) return;
    for (int i = 0; i < npf; i++) pf[i]->type->prefetch(pf[i], &s->ev, stage);
}

/* Input that is not JSON lines sends every line to the dead letters: the input's first
 * record says why at once. CSV read as JSON (stdin or a name without .csv, and no
 * --format csv): a header of bare names and commas. JSON spread over lines (pretty
 * printed, or an array): a first line of "[" or "{" alone, or "[{". */
static void first_record_hint(struct input *in, const struct ss_record *rec, const struct staged *s) {
    in->first_taken = true;
    if (in->spec.format != SS_FMT_JSON || s->st != SS_DEC_INVALID || s->res.reason != SS_BAD_MALFORMED || rec->cut)
        return;
    const char *p = rec->data, *end = rec->data + rec->len;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) end--;
    /* pretty-printed JSON: a first line of "[" or "{" alone, or "[{..." (an array) */
    if (end - p == 1 && (*p == '[' || *p == '{')) {
        ss_warn(comp, "msg=\"the first record is a lone '%c': JSON spread over several lines? every line will be a "
                      "dead letter; give one JSON object per line (jq -c '%s' writes them)\" stream=%s input=%s",
                *p, *p == '[' ? ".[]" : ".", ss_stream_name(in->spec.stream), in->spec.url);
        return;
    }
    if (end - p > 1 && p[0] == '[' && p[1] == '{') {
        ss_warn(comp, "msg=\"the first record is a JSON array: every line will be a dead letter; give one JSON object "
                      "per line (jq -c '.[]' writes them)\" stream=%s input=%s",
                ss_stream_name(in->spec.stream), in->spec.url);
        return;
    }
    if (p == end || *p == '{' || *p == '[' || !memchr(p, ',', (size_t)(end - p))) return;
    ss_warn(comp, "msg=\"the first record is not JSON but looks like CSV: every record will be a dead letter; "
                  "for CSV give --format csv (or a name ending in .csv)\" stream=%s input=%s",
            ss_stream_name(in->spec.stream), in->spec.url);
}

static void process_record(struct ss_engine *e, struct input *in, const struct ss_record *rec, struct staged *s) {
    struct ss_event *ev = &s->ev;
    enum ss_decode_status st = s->st;
    uint32_t slot = slot_for(e, in->spec.index, rec->partition);
    /* A skipped record (a blank line, a Kafka tombstone: a null value) is no event,
     * but it has been read: the position passes it. Otherwise the offset committed
     * stayed before a partition's trailing tombstones, and the group showed them as
     * lag for good. */
    e->slots[slot].next_offset = rec->offset + 1;
    if (st == SS_DEC_SKIP) return;
    ev->origin.partition = rec->partition;
    ev->origin.offset = rec->offset;
    ev->slot = slot;
    e->stats.records++;
    e->stats.records_by_stream[in->spec.stream]++;
    if (!in->first_taken) first_record_hint(in, rec, s);
    if (st == SS_DEC_INVALID) {
        e->stats.invalid++;
        e->stats.invalid_by_reason[s->res.reason]++;
        ev->raw = (struct ss_str){rec->data, (uint32_t)rec->len};
        emit_side(e, ev, in, false, s->res.reason_text);
        ss_quality_record(&e->quality, s->res.reason, e->now_ms, &e->out);
        return;
    }
    /* Only an event keeps its partition from going idle (SEMANTICS §4): a partition
     * that delivers nothing but invalid records has no event time to offer, and
     * counting it held W at its old max_ts, or at -inf when it never had an event,
     * for as long as the bad records kept coming. */
    e->slots[slot].last_seen_ms = e->now_ms;
    e->stats.valid++;
    ss_quality_record(&e->quality, SS_VALID, e->now_ms, &e->out);
    if (ev->ts < e->watermark) {
        e->stats.late++;
        emit_side(e, ev, in, true, NULL);
        ss_quality_count(&e->quality, SS_Q_LATE, e->now_ms, &e->out);
        return;
    }
    bool dup = ss_dedup_check_key(ev->stream == SS_STREAM_PROMOTIONS ? e->dedup_promos : e->dedup_events, s->dk,
                                  ev->ts);
    if (dup) {
        e->stats.duplicates++;
        ss_quality_count(&e->quality, SS_Q_DUPLICATES, e->now_ms, &e->out);
        return;
    }
    e->clk.watermark = e->watermark;
    for (int i = 0; i < e->nops; i++) e->ops[i]->type->process(e->ops[i], ev, &e->clk, &e->out);
    if (e->out.events && ev->stream != SS_STREAM_PROMOTIONS) emit_event_row(e, ev);
    if (ev->ts > e->max_ts[slot]) {
        e->max_ts[slot] = ev->ts;
        /* W can only move when the partition holding it back moved */
        if ((e->min_slot < 0 || (uint32_t)e->min_slot == slot) && update_watermark(e)) advance_ops(e);
    }
}

/* Per-user state is spread over memory far larger than the caches, so the records
 * of a batch go through a short software pipeline: a record is decoded and its ids
 * hashed STAGE_GAP records before the next stage and at most 5 * STAGE_GAP before it
 * is processed, and each stage prefetches what the next one reads (intern slot, intern
 * entry, then the operators' state in three dependent steps). Processing itself is
 * unchanged and in order; only decoding and interning happen ahead, neither of which
 * depends on the watermark or on operator state.
 *
 * One record between stages is enough: a record's processing (~0.4-0.6 us) is more
 * than twice a dependent load's latency from memory (~170-200 ns on the 2-core VM the
 * figures come from), and a longer pipeline only keeps more lines in flight and more
 * staged records between their write and their use. In alternating runs 2 (the earlier
 * setting) was 0-5 % slower and 3 slower still (docs/PERFORMANCE.md). */
#define STAGE_GAP 1

/* The bytes of a record: a source's records were last touched when it cut them out
 * (a whole batch earlier, so no longer in cache), and decoding starts at both ends.
 * Only the first KiB: a longer record is rare, and the hardware follows it by then. */
#define RECORD_AHEAD 4
static inline void prefetch_record(const struct ss_record *r) {
    const char *p = r->data, *last = r->data + (r->len ? r->len - 1 : 0);
    for (const char *c = p; c < last && c < p + 1024; c += 64) __builtin_prefetch(c);
    __builtin_prefetch(last);
}

/* A batch smaller than this is decoded on the engine's thread: handing it over would
 * cost more than it saves. */
#define PREDECODE_MIN 256

struct predecode_job {
    struct input *in;
    struct ss_arena *arena;
    const struct ss_record *recs;
    struct staged *staged;
    int n;
};

static void predecode_one(void *ctx, int k) {
    const struct predecode_job *j = ctx;
    if (k + RECORD_AHEAD < j->n) prefetch_record(&j->recs[k + RECORD_AHEAD]);
    stage_decode(j->in->dec, j->arena, &j->recs[k], &j->staged[k]);
    /* the previous batch's buffers are freed here too, a share per record, rather
     * than by the engine's thread at its next poll */
    if (j->in->src->type->retire) j->in->src->type->retire(j->in->src, k, j->n);
}

/* The worker's task once it has claimed a batch's records (predecode.h). */
static void prefetch_source(void *src) { ((struct ss_source *)src)->type->prefetch(src); }

static void process_batch(struct ss_engine *e, struct input *in, const struct ss_record *recs, int n) {
    struct staged *st = e->staged;
    struct ss_op *pf[3][16]; /* per prefetch stage, the operators that prefetch at it */
    int npf[3] = {0, 0, 0};
    for (int i = 0; i < e->nops; i++)
        for (int stage = 0; stage < 3; stage++)
            if (e->ops[i]->type->prefetch && e->ops[i]->type->prefetch_stages & 1u << stage)
                pf[stage][npf[stage]++] = e->ops[i];
    struct predecode_job job = {in, &e->batch, recs, st, n};
    bool pre = n >= PREDECODE_MIN;
    if (pre)
        ss_predecode_submit(e->pre, predecode_one, &job, n, in->src->type->prefetch ? prefetch_source : NULL,
                            in->src);
    /* What the engine decodes itself: a small batch, and of a large one (JSON: a CSV
     * decoder learns its columns from the first record) each record the worker has
     * not reached when it is needed, with a decoder and arena of its own. */
    struct ss_decoder *dec = pre ? in->dec_own : in->dec;
    struct ss_arena *arena = pre ? &e->batch_own : &e->batch;
    /* processing follows the last stage an operator prefetches at (none uses stage 2
     * today): an empty stage would only hold records back */
    int lag = (npf[2] ? 5 : npf[1] ? 4 : 3) * STAGE_GAP;
    for (int k = 0; k < n + lag; k++) {
        if (k < n) {
            if (!pre || (!ss_predecode_done(e->pre, k) && dec && ss_predecode_take(e->pre, k))) {
                if (k + RECORD_AHEAD < n) prefetch_record(&recs[k + RECORD_AHEAD]);
                stage_decode(dec, arena, &recs[k], &st[k]);
                if (pre && in->src->type->retire) in->src->type->retire(in->src, k, n);
            } else {
                ss_predecode_wait(e->pre, k);
            }
            stage_hashed(e, &st[k]);
        }
        int j = k - STAGE_GAP;
        if (j >= 0 && j < n) stage_entry(e, &st[j]);
        j -= STAGE_GAP;
        if (j >= 0 && j < n) {
            stage_resolve(e, &st[j]);
            stage_prefetch_ops(pf[0], npf[0], &st[j], 0);
        }
        j -= STAGE_GAP;
        if (j >= 0 && j < n) stage_prefetch_ops(pf[1], npf[1], &st[j], 1);
        j -= STAGE_GAP;
        if (j >= 0 && j < n) stage_prefetch_ops(pf[2], npf[2], &st[j], 2);
        j = k - lag;
        if (j >= 0) process_record(e, in, &recs[j], &st[j]);
    }
}

/* ---- epochs and sinks ------------------------------------------------------------- */

static void pause_inputs(struct ss_engine *e, bool pause) {
    for (int i = 0; i < e->ninputs; i++) {
        struct ss_source *s = e->inputs[i].src;
        if (e->inputs[i].finished) continue;
        if (pause && s->type->pause) s->type->pause(s);
        if (!pause && s->type->resume) s->type->resume(s);
    }
}

/* Inputs learn their durable positions only once every sink has the outputs: the
 * newest held positions of an epoch <= durable are committed, and those and older
 * ones dropped (positions are absolute, so the newest covers the older ones). */
static void commit_positions(struct ss_engine *e, uint64_t durable) {
    size_t k = 0;
    while (k < e->nheld && e->held[k].epoch <= durable) k++;
    if (k == 0) return;
    const struct held_positions *h = &e->held[k - 1];
    for (int i = 0; i < e->ninputs; i++) {
        struct input *in = &e->inputs[i];
        if (!in->src->type->commit || (e->commit_only >= 0 && i != e->commit_only)) continue;
        int32_t parts[256];
        int64_t offs[256];
        int n = 0;
        for (int s = 0; s < h->n && n < 256; s++)
            if (e->slots[s].input == i) {
                parts[n] = h->pos[s].partition;
                offs[n++] = h->pos[s].next_offset;
            }
        struct ss_err serr = {0};
        if (in->src->type->commit(in->src, offs, parts, n, &serr) != SS_OK)
            /* not "will be replayed": positions are absolute, so the next epoch's commit covers
             * these; only a stop or crash before one succeeds replays them (a Kafka group
             * rejoining after its coordinator died refused three commits in a row here) */
            ss_warn(comp,
                    "msg=\"could not commit input positions; the next commit covers them (a restart before it would"
                    " replay them)\" input=%s err=\"%s\"",
                    in->spec.url, serr.msg);
    }
    if (e->commit_only >= 0) return; /* kept: the next call commits the other inputs from them */
    for (size_t j = 0; j < k; j++) ss_free(e->held[j].pos);
    memmove(e->held, e->held + k, (e->nheld - k) * sizeof *e->held);
    e->nheld -= k;
}

/* ---- savepoints (savepoint.h, README "Savepoints") ------------------------------------ */

/* The settings the state depends on: a savepoint loads only under the values it was
 * written with (a 1 h window's state is no 2 h window's). Two may change across a
 * restart, as an operator tunes them: lateness (the watermark never goes back, so a
 * larger one holds W where the savepoint left it until the new formula passes it, and
 * what W closed stays closed) and recent.ttl (a list's expiry is recomputed from its
 * last view at load; lists that expired before the stop are gone). */
#define STATE_KEY(k, f) {k, offsetof(struct ss_config, f), true}
#define TUNABLE_KEY(k, f) {k, offsetof(struct ss_config, f), false}
static const struct {
    const char *key;
    size_t off;
    bool strict; /* a savepoint written with another value is refused */
} state_keys[] = {
    TUNABLE_KEY("lateness", lateness_ms),
    STATE_KEY("windows.category_revenue", category_revenue_ms),
    STATE_KEY("windows.hourly_sales", hourly_sales_ms),
    STATE_KEY("windows.trending.size", trending_size_ms),
    STATE_KEY("windows.trending.slide", trending_slide_ms),
    STATE_KEY("windows.trending.top", trending_top),
    STATE_KEY("windows.funnel", funnel_ms),
    STATE_KEY("sessions.gap", session_gap_ms),
    STATE_KEY("join.grace", join_grace_ms),
    STATE_KEY("alerts.high_value.threshold", high_value_threshold),
    STATE_KEY("alerts.velocity.count", velocity_count),
    STATE_KEY("alerts.velocity.range", velocity_range_ms),
    STATE_KEY("recent.size", recent_size),
    TUNABLE_KEY("recent.ttl", recent_ttl_ms),
};
#define NSTATE_KEYS (sizeof state_keys / sizeof state_keys[0])
#define LINEAGE_KEY "savepoint.lineage" /* not a setting: the state's lineage (struct ss_engine) */

static int64_t state_key_value(const struct ss_config *cfg, size_t k) {
    int64_t v;
    memcpy(&v, (const char *)cfg + state_keys[k].off, sizeof v);
    return v;
}

/* The engine's state as the current epoch ends: the settings it depends on, the inputs,
 * the watermark, every partition slot (in slot order, which operators' state refers
 * to) with its position, then dedup, data quality (`quality`: its bytes when they were
 * saved before the stop's last row of the minute, which only the savepoint of a stop
 * has, after committing every position; NULL: now, while running) and each operator. */
static void save_state(const struct ss_engine *e, const struct ss_buf *quality, struct ss_buf *b) {
    ss_snap_tag(b, "engine");
    ss_snap_i64(b, (int64_t)NSTATE_KEYS + 1);
    for (size_t k = 0; k < NSTATE_KEYS; k++) {
        ss_snap_str(b, ss_str_c(state_keys[k].key));
        ss_snap_i64(b, state_key_value(e->cfg, k));
    }
    /* among the settings, so that a savepoint without it (from before lineages) loads */
    ss_snap_str(b, ss_str_c(LINEAGE_KEY));
    ss_snap_i64(b, (int64_t)e->lineage);
    ss_snap_i64(b, e->ninputs);
    for (int i = 0; i < e->ninputs; i++) {
        const struct input *in = &e->inputs[i];
        ss_snap_u8(b, (uint8_t)in->spec.stream);
        ss_snap_str(b, ss_str_c(in->src->type->name_of(in->src)));
    }
    ss_snap_i64(b, e->watermark);
    ss_snap_i64(b, (int64_t)e->nslots);
    for (size_t s = 0; s < e->nslots; s++) {
        ss_snap_u32(b, (uint32_t)e->slots[s].input);
        ss_snap_u32(b, (uint32_t)e->slots[s].partition);
        ss_snap_i64(b, e->slots[s].next_offset);
        ss_snap_i64(b, e->max_ts[s]);
        /* bit 0: revoked; bit 1: written at a stop, with this position committed */
        ss_snap_u8(b, (uint8_t)((e->slots[s].revoked ? 1 : 0) | (quality ? 2 : 0)));
    }
    ss_dedup_save(e->dedup_events, b);
    ss_dedup_save(e->dedup_promos, b);
    if (quality) ss_buf_add(b, quality->p, quality->len);
    else ss_quality_save(&e->quality, b);
    ss_snap_i64(b, e->nops);
    for (int i = 0; i < e->nops; i++) {
        ss_snap_str(b, ss_str_c(e->ops[i]->type->name));
        e->ops[i]->type->save(e->ops[i], b);
    }
}

static int refuse(struct ss_err *err, int code, const char *path, const char *why) {
    return ss_err_set(err, code,
                      "savepoint %s does not fit this run: %s; run with what it was written for, or move it away to "
                      "start with empty state (the windows and sessions open at its stop then miss what came before)",
                      path, why);
}

/* Checks the settings and inputs a savepoint was written for against this run's, and
 * takes its lineage. */
static int check_fit(struct ss_engine *e, struct ss_snap_r *r, const char *path, struct ss_err *err) {
    char why[400];
    size_t nk = ss_snap_get_count(r, 12);
    bool seen[NSTATE_KEYS] = {false};
    for (size_t k = 0; k < nk && !r->bad; k++) {
        struct ss_str key = ss_snap_get_str(r);
        int64_t v = ss_snap_get_i64(r);
        size_t j = 0;
        while (j < NSTATE_KEYS && !ss_str_eqc(key, state_keys[j].key)) j++;
        if (r->bad) break;
        if (ss_str_eqc(key, LINEAGE_KEY)) {
            e->lineage = (uint64_t)v;
            e->lineage_loaded = true;
            continue;
        }
        if (j == NSTATE_KEYS) {
            snprintf(why, sizeof why, "it depends on a setting this release does not have (%.*s)", (int)key.len, key.p);
            return refuse(err, SS_EUSAGE, path, why);
        }
        seen[j] = true;
        if (v != state_key_value(e->cfg, j) && !state_keys[j].strict) {
            ss_info(comp, "msg=\"the savepoint was written with another %s: its state carries over\" path=%s "
                          "savepoint=%lld now=%lld", state_keys[j].key, path, (long long)v,
                    (long long)state_key_value(e->cfg, j));
        } else if (v != state_key_value(e->cfg, j)) {
            snprintf(why, sizeof why, "it was written with %s = %lld, and this run has %lld (milliseconds for durations, "
                     "ten-thousandths for money and ratios)", state_keys[j].key, (long long)v,
                     (long long)state_key_value(e->cfg, j));
            return refuse(err, SS_EUSAGE, path, why);
        }
    }
    for (size_t j = 0; j < NSTATE_KEYS && !r->bad; j++)
        if (!seen[j]) {
            snprintf(why, sizeof why, "it does not say which %s it was written with", state_keys[j].key);
            return refuse(err, SS_EUSAGE, path, why);
        }
    size_t ni = ss_snap_get_count(r, 5);
    if (!r->bad && ni != (size_t)e->ninputs) {
        snprintf(why, sizeof why, "it was written for %zu inputs, and this run has %d", ni, e->ninputs);
        return refuse(err, SS_EUSAGE, path, why);
    }
    for (size_t i = 0; i < ni && !r->bad; i++) {
        const struct input *in = &e->inputs[i];
        enum ss_stream stream = (enum ss_stream)ss_snap_get_u8(r);
        struct ss_str name = ss_snap_get_str(r);
        if (r->bad) break;
        if (stream != in->spec.stream || !ss_str_eqc(name, in->src->type->name_of(in->src))) {
            snprintf(why, sizeof why, "its input %zu was %s from %.*s, and this run's is %s from %s", i + 1,
                     (unsigned)stream < SS_STREAM_COUNT ? ss_stream_name(stream) : "?", (int)name.len, name.p,
                     ss_stream_name(in->spec.stream), in->src->type->name_of(in->src));
            return refuse(err, SS_EUSAGE, path, why);
        }
    }
    return SS_OK;
}

static int damaged(const char *path, const char *what, struct ss_err *err) {
    return ss_err_set(err, SS_ERROR,
                      "savepoint %s is damaged (%s); move it away to start with empty state (the windows and sessions "
                      "open at its stop then miss what came before)",
                      path, what);
}

static int load_slots(struct ss_engine *e, struct ss_snap_r *r, const char *path, bool *resume, size_t ns,
                      bool *at_stop, struct ss_err *err) {
    for (size_t k = 0; k < ns && !r->bad; k++) {
        uint32_t input = ss_snap_get_u32(r), partition = ss_snap_get_u32(r);
        int64_t next = ss_snap_get_i64(r), max_ts = ss_snap_get_i64(r);
        uint8_t flags = ss_snap_get_u8(r);
        bool revoked = flags & 1;
        *at_stop = (flags & 2) != 0;
        if (r->bad) break;
        if (flags > 3 || input >= (uint32_t)e->ninputs || partition > INT32_MAX || next < 0 ||
            ((size_t)partition < e->inputs[input].nslot_of && e->inputs[input].slot_of[partition]) ||
            slot_for(e, (int)input, (int32_t)partition) != k)
            return damaged(path, "a partition slot out of range or given twice", err);
        e->slots[k].next_offset = next;
        e->slots[k].finished = true;
        e->slots[k].revoked = revoked;
        e->max_ts[k] = max_ts;
        /* a partition revoked before the save went on in another process: from its
         * committed offset, not from here (an exhausted one resumes at its end) */
        resume[k] = !revoked;
    }
    return r->bad ? damaged(path, "cut short in the partitions", err) : SS_OK;
}

static int load_ops(struct ss_engine *e, struct ss_snap_r *r, const char *path, struct ss_err *err) {
    int rc;
    r->slots = (uint32_t)e->nslots; /* the slots load_slots restored */
    if ((rc = ss_dedup_load(e->dedup_events, r, err)) || (rc = ss_dedup_load(e->dedup_promos, r, err)) ||
        (rc = ss_quality_load(&e->quality, r, err)))
        return ss_err_wrap(err, "savepoint %s", path);
    size_t nops = ss_snap_get_count(r, 4);
    if (!r->bad && nops != (size_t)e->nops) return damaged(path, "another number of operators", err);
    for (int i = 0; i < e->nops && !r->bad; i++) {
        struct ss_str name = ss_snap_get_str(r);
        if (!r->bad && !ss_str_eqc(name, e->ops[i]->type->name)) return damaged(path, "operators out of order", err);
        if ((rc = e->ops[i]->type->load(e->ops[i], r, err))) return ss_err_wrap(err, "savepoint %s", path);
        e->ops[i]->wake = SS_TS_MIN;
    }
    if (r->bad) return damaged(path, "cut short", err);
    if (r->p != r->end) return damaged(path, "bytes after its end", err);
    return SS_OK;
}

/* Tells the inputs the lineage their commits carry (before start_inputs_at). */
static void tag_inputs(struct ss_engine *e) {
    char writer[64];
    snprintf(writer, sizeof writer, "shopstream savepoint.lineage=%016llx", (unsigned long long)e->lineage);
    for (int i = 0; i < e->ninputs; i++)
        if (e->inputs[i].src->type->set_writer) e->inputs[i].src->type->set_writer(e->inputs[i].src, writer);
}

static uint64_t new_lineage(void) {
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) /* no entropy yet (early boot): still unlikely to repeat */
        v = (uint64_t)ss_now_ms() * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid();
    return v;
}

/* Each input reads its partitions from the savepoint's positions when they come. */
static void start_inputs_at(struct ss_engine *e, const bool *resume, bool at_stop) {
    int32_t *parts = ss_malloc((e->nslots ? e->nslots : 1) * sizeof *parts);
    int64_t *offs = ss_malloc((e->nslots ? e->nslots : 1) * sizeof *offs);
    for (int i = 0; i < e->ninputs; i++) {
        int n = 0;
        for (size_t s = 0; s < e->nslots; s++)
            if (resume[s] && e->slots[s].input == i) {
                parts[n] = e->slots[s].partition;
                offs[n++] = e->slots[s].next_offset;
            }
        if (n) e->inputs[i].src->type->start_at(e->inputs[i].src, parts, offs, n, at_stop, e->lineage_loaded);
    }
    ss_free(parts);
    ss_free(offs);
}

/* Restores what save_state wrote, into an engine whose inputs are added and which has
 * read nothing. Each partition slot comes back under its number, finished until its
 * partition is assigned again, which then starts at the slot's position (start_at). */
static int load_state(struct ss_engine *e, struct ss_snap_r *r, const char *path, struct ss_err *err) {
    if (!ss_snap_expect(r, "engine")) return damaged(path, "no engine section", err);
    int rc = check_fit(e, r, path, err);
    if (rc) return rc;
    if (e->nslots) return damaged(path, "this run's inputs have fixed partitions", err);
    int64_t w = ss_snap_get_i64(r);
    size_t ns = ss_snap_get_count(r, 25);
    bool *resume = ss_calloc(ns ? ns : 1, sizeof *resume);
    bool at_stop = false;
    rc = load_slots(e, r, path, resume, ns, &at_stop, err);
    if (!rc) rc = load_ops(e, r, path, err);
    if (!rc) {
        e->watermark = e->clk.watermark = w;
        e->soonest = SS_TS_MIN;
        e->min_slot = -1;
        tag_inputs(e);
        start_inputs_at(e, resume, at_stop);
    }
    ss_free(resume);
    return rc;
}

static bool savepoints(const struct ss_engine *e) { return e->cfg->savepoint_path && *e->cfg->savepoint_path; }

/* Loads cfg->savepoint_path, if there is one, before anything is read. */
static int restore_savepoint(struct ss_engine *e, struct ss_err *err) {
    if (!savepoints(e)) return SS_OK;
    const char *path = e->cfg->savepoint_path;
    int64_t t0 = ss_now_ms();
    struct ss_buf body;
    bool found;
    e->lineage = new_lineage(); /* unless the savepoint has one */
    int rc = ss_savepoint_read(path, &body, &found, err);
    if (rc || !found) {
        if (!rc) {
            tag_inputs(e);
            ss_info(comp, "msg=\"no savepoint yet: starting with empty state\" path=%s lineage=%016llx", path,
                    (unsigned long long)e->lineage);
        }
        return rc;
    }
    struct ss_snap_r r = ss_snap_reader(body.p, body.len);
    rc = load_state(e, &r, path, err);
    if (!rc)
        ss_info(comp, "msg=\"savepoint loaded: the inputs resume at its positions\" path=%s bytes=%zu partitions=%zu "
                      "ms=%lld lineage=%016llx%s",
                path, body.len, e->nslots, (long long)(ss_now_ms() - t0), (unsigned long long)e->lineage,
                e->lineage_loaded ? "" : " (new: the savepoint is from before lineages)");
    ss_free(body.p);
    return rc;
}

/* Writes the state to PATH.tmp on this thread: at a stop, and where no child can. */
static int stage_savepoint(struct ss_engine *e, const struct ss_buf *quality, struct ss_err *err) {
    int64_t t0 = ss_now_ms();
    struct ss_buf b = {0};
    save_state(e, quality, &b);
    int rc = ss_savepoint_stage(e->cfg->savepoint_path, &b, err);
    e->savepoint_at_ms = e->now_ms;
    e->savepoint_epoch = rc ? 0 : e->epoch;
    e->stats.savepoint_bytes = (int64_t)b.len;
    e->stats.savepoint_ms = e->stats.savepoint_pause_ms = ss_now_ms() - t0;
    ss_free(b.p);
    return rc;
}

static void fill_state(const void *ctx, struct ss_buf *body) { save_state(ctx, NULL, body); }

/* Stages the state as the epoch just submitted ends: it becomes the savepoint once it
 * is written and the sinks have that epoch (publish_savepoint), so a savepoint's state
 * never has effects that its outputs lack. A forked child writes it while the engine
 * goes on (bgsave.h). A failure is a warning: the previous savepoint stays, and a
 * restart replays from it. */
static void start_savepoint(struct ss_engine *e) {
    struct ss_err err = {0};
    if (SS_BGSAVE_FORKS && e->cfg->savepoint_fork) {
        int64_t t0 = ss_now_ms();
        if (ss_bgsave_start(&e->bg, e->cfg->savepoint_path, fill_state, e, &err) == SS_OK) {
            e->savepoint_at_ms = e->now_ms;
            e->savepoint_epoch = e->epoch;
            e->stats.savepoint_pause_ms = ss_now_ms() - t0;
            return;
        }
        ss_warn(comp, "msg=\"writing this savepoint on the engine's thread\" err=\"%s\"", err.msg);
    }
    if (stage_savepoint(e, NULL, &err))
        ss_warn(comp, "msg=\"could not write a savepoint; the previous one stays\" err=\"%s\"", err.msg);
}

/* At a stop, with every output committed: the state goes on in the next run. At the end
 * of the input (--exit-at-end) every window and session is closed and nothing is left
 * to carry over, so the savepoint goes: the next run starts afresh from the committed
 * offsets, with no watermark of +inf. */
static int final_savepoint(struct ss_engine *e, bool complete, const struct ss_buf *quality, struct ss_err *err) {
    const char *path = e->cfg->savepoint_path;
    ss_bgsave_cancel(&e->bg); /* of an earlier epoch, and it would write PATH.tmp under this one */
    if (complete) {
        e->savepoint_epoch = 0;
        return ss_savepoint_remove(path, err);
    }
    int rc = stage_savepoint(e, quality, err);
    if (rc) return rc;
    if ((rc = ss_savepoint_publish(path, err))) return rc;
    e->savepoint_epoch = 0;
    ss_info(comp, "msg=\"savepoint written: the next run resumes from it\" path=%s bytes=%lld ms=%lld", path,
            (long long)e->stats.savepoint_bytes, (long long)e->stats.savepoint_ms);
    return SS_OK;
}

static void publish_savepoint(struct ss_engine *e) {
    if (!e->savepoint_epoch || e->bg.pid || e->stats.durable_epoch < e->savepoint_epoch) return;
    struct ss_err err = {0};
    if (ss_savepoint_publish(e->cfg->savepoint_path, &err))
        ss_warn(comp, "msg=\"could not publish the savepoint; the previous one stays\" err=\"%s\"", err.msg);
    else
        ss_debug(comp, "msg=\"savepoint written\" path=%s epoch=%llu bytes=%lld ms=%lld pause_ms=%lld",
                 e->cfg->savepoint_path, (unsigned long long)e->savepoint_epoch, (long long)e->stats.savepoint_bytes,
                 (long long)e->stats.savepoint_ms, (long long)e->stats.savepoint_pause_ms);
    e->savepoint_epoch = 0;
}

/* Collects the child writing a savepoint once it has exited, and publishes its work if the
 * sinks already have the epoch. */
static void reap_savepoint(struct ss_engine *e) {
    bool done;
    struct ss_bgsave_result res;
    ss_bgsave_poll(&e->bg, &done, &res);
    if (!done) return;
    if (res.rc != SS_OK) {
        ss_warn(comp, "msg=\"could not write a savepoint; the previous one stays\" err=\"%s\"", res.msg);
        e->savepoint_epoch = 0;
        return;
    }
    e->stats.savepoint_bytes = res.bytes;
    e->stats.savepoint_ms = res.ms;
    publish_savepoint(e);
}

/* Once per run, when a stop was asked for: what happens now, and the way out for a user
 * who will not wait (a sink that is down is retried for minutes). */
static void note_stopping(struct ss_engine *e) {
    if (!stopping(e) || e->stop_noted) return;
    e->stop_noted = true;
    ss_info(comp, "msg=\"stopping: committing the current epoch\" hint=\"a second SIGINT or SIGTERM ends the "
                  "process at once; outputs keep what was committed, Kafka inputs resume after it\"");
}

/* Waits for the epoch in flight (pausing the inputs if a sink is retrying meanwhile),
 * then, if the sinks have it, lets the inputs commit the positions it covers. */
static int finish_inflight(struct ss_engine *e, struct ss_err *err) {
    bool paused = false;
    int64_t warn_at = STALL_WARN_MS; /* the next warning about a commit call that has not returned */
    while (!ss_committer_wait(e->committer, 100)) {
        note_stopping(e);
        if (!paused && ss_committer_retrying(e->committer)) {
            pause_inputs(e, true);
            paused = true;
        }
        int64_t ms = 0;
        const char *sink = ss_committer_stalled(e->committer, &ms);
        if (sink && ms >= warn_at) {
            ss_warn(comp, "msg=\"sink commit has not returned yet; reading no input until it does\" sink=%s seconds=%lld "
                          "hint=\"a lock held on its tables, or a hung disk or server\"",
                    sink, (long long)(ms / 1000));
            warn_at = ms + STALL_WARN_MS;
        }
    }
    if (warn_at > STALL_WARN_MS) ss_info(comp, "msg=\"sink commit returned, input resumed\"");
    if (paused) pause_inputs(e, false);
    struct ss_epoch ep;
    bool had = false;
    double secs = 0;
    int rc = ss_committer_collect(e->committer, &ep, &had, &secs, err);
    if (!had) return SS_OK;
    SS_GROW(e->held, e->held_cap, e->nheld + 1);
    e->held[e->nheld++] = (struct held_positions){ep.epoch, (struct ss_position *)ep.positions, ep.npositions};
    if (rc == SS_OK) {
        e->stats.durable_epoch = ss_committer_durable(e->committer);
        commit_positions(e, e->stats.durable_epoch);
        publish_savepoint(e);
    }
    struct ss_out *rows = (struct ss_out *)ep.rows;
    ss_out_clear(rows);
    e->spare = rows;
    if (rc == SS_OK) {
        e->stats.last_commit_ms = (int64_t)(secs * 1000);
        int64_t ms[SS_STATS_SINKS];
        int n = ss_committer_sink_ms(e->committer, ms, SS_STATS_SINKS);
        for (int i = 0; i < n && i < e->stats.nsinks; i++) e->stats.sinks[i].commit_ms = ms[i];
    }
    return rc;
}

/* Each operator's state as the epoch ends, for the metrics. */
static void note_state(struct ss_engine *e) {
    int n = 0;
    const char *name;
    size_t bytes, keys;
    for (int i = -1; n < SS_STATS_STATE - 1 && ss_engine_op_state(e, i, &name, &bytes, &keys); i++)
        e->stats.state[n++] = (struct ss_state_size){name, (int64_t)bytes, (int64_t)keys};
    e->stats.state[n++] = (struct ss_state_size){"intern", (int64_t)ss_intern_bytes(e->intern),
                                                 (int64_t)ss_intern_live(e->intern)};
    e->stats.nstate = n;
}

/* Ends the epoch: its rows and positions go to the committer, the engine goes on
 * with empty rows. `wait`: return only once the sinks have it (revocation, the end). */
static int commit_epoch(struct ss_engine *e, bool final, bool wait, struct ss_err *err) {
    for (int i = 0; i < e->nops; i++)
        if (e->ops[i]->type->flush) e->ops[i]->type->flush(e->ops[i], &e->out);
    if (e->out.provisional && !final)
        for (int i = 0; i < e->nops; i++)
            if (e->ops[i]->type->provisional) e->ops[i]->type->provisional(e->ops[i], &e->out);

    struct ss_position *pos = ss_calloc(e->nslots ? e->nslots : 1, sizeof *pos);
    for (size_t s = 0; s < e->nslots; s++) {
        struct input *in = &e->inputs[e->slots[s].input];
        pos[s].source = in->src->type->name_of(in->src);
        pos[s].partition = e->slots[s].partition;
        pos[s].next_offset = e->slots[s].next_offset;
        pos[s].lag = -1;
        pos[s].max_ts = e->max_ts[s];
    }
    for (int i = 0; i < e->ninputs; i++) {
        struct input *in = &e->inputs[i];
        if (!in->src->type->lag || in->finished) continue;
        int32_t parts[256];
        int64_t lags[256];
        int n = in->src->type->lag(in->src, parts, lags, 256);
        for (int k = 0; k < n; k++)
            for (size_t s = 0; s < e->nslots; s++)
                if (e->slots[s].input == i && e->slots[s].partition == parts[k]) pos[s].lag = lags[k];
    }
    int rc = finish_inflight(e, err);
    if (rc) {
        ss_free(pos);
        return rc;
    }
    /* the rows change hands: the committer takes these, the engine fills the spare */
    struct ss_out *rows = e->spare;
    e->spare = NULL;
    struct ss_out next = *rows;
    next.provisional = e->out.provisional;
    next.events = e->out.events;
    *rows = e->out;
    e->out = next;
    note_state(e);
    struct ss_epoch ep = {.epoch = ++e->epoch,
                          .rows = rows,
                          .positions = pos,
                          .npositions = (int)e->nslots,
                          .watermark = e->watermark,
                          .final = final,
                          .seal = final || wait,
                          .stats = &e->stats};
    ss_committer_submit(e->committer, &ep);
    /* the state as the epoch ends (what the bench samples), not as the sinks finish */
    if (e->epoch_hook) e->epoch_hook(e->epoch_hook_ctx, e);
    e->epoch_records = 0;
    e->epoch_started_ms = e->now_ms;
    return wait ? finish_inflight(e, err) : SS_OK;
}

static void finish_input(struct ss_engine *e, int i) {
    e->inputs[i].finished = true;
    for (size_t s = 0; s < e->nslots; s++)
        if (e->slots[s].input == i) e->slots[s].finished = true;
    if (update_watermark(e)) advance_ops(e);
}

/* The inputs polled now: concurrent ones (Kafka) always; files one after another. */
static bool input_active(const struct ss_engine *e, int i) {
    if (e->inputs[i].finished) return false;
    if (!e->inputs[i].sequential) return true;
    for (int j = 0; j < i; j++)
        if (e->inputs[j].sequential && !e->inputs[j].finished) return false;
    return true;
}

static int input_of(const struct ss_engine *e, const struct ss_source *src) {
    for (int i = 0; i < e->ninputs; i++)
        if (e->inputs[i].src == src) return i;
    return -1;
}

/* Assigned partitions hold the watermark back from now on (until idle). */
static void on_assigned(void *ctx, struct ss_source *src, const int32_t *parts, int n) {
    struct ss_engine *e = ctx;
    int i = input_of(e, src);
    if (i < 0) return;
    for (int k = 0; k < n; k++) {
        uint32_t s = slot_for(e, i, parts[k]);
        e->slots[s].finished = e->slots[s].revoked = false;
        e->slots[s].last_seen_ms = e->now_ms;
    }
    e->min_slot = -1;
}

/* Before partitions leave this process, everything they produced is committed to
 * the sinks and their offsets to Kafka (the source commits inside commit_epoch).
 * Only this input's offsets: a new member joins every input's group at once, so the
 * other inputs' groups are likely rebalancing too, and a commit that reaches the
 * broker with a generation the rebalance just ended is refused (ILLEGAL_GENERATION),
 * which librdkafka answers by declaring that consumer's partitions lost: they would
 * leave without their outputs committed, to be read again by the new owner. The
 * other inputs' positions stay held and go with the next epoch's commit. */
static void on_revoked(void *ctx, struct ss_source *src, const int32_t *parts, int n) {
    struct ss_engine *e = ctx;
    int i = input_of(e, src);
    if (i < 0) return;
    struct ss_err err = {0};
    e->commit_only = i;
    int rc = commit_epoch(e, false, true, &err);
    e->commit_only = -1;
    /* The epoch's rows are lost, and its positions are held with the others: the next
     * epoch that commits would commit them too, so its input would never be read again.
     * The run stops instead (run_inputs, after this poll), committing nothing more, as
     * any other failed commit stops it; the restart reads from the last committed
     * positions. */
    if (rc != SS_OK && e->revoke_rc == SS_OK) {
        ss_error(comp, "msg=\"could not commit outputs on revocation: stopping without committing more\" err=\"%s\"",
                 err.msg);
        e->revoke_rc = rc;
        e->revoke_err = err;
        ss_err_wrap(&e->revoke_err, "committing the outputs of revoked partitions");
    }
    for (int k = 0; k < n; k++) {
        uint32_t s = slot_for(e, i, parts[k]);
        e->slots[s].finished = e->slots[s].revoked = true;
    }
    e->min_slot = -1;
    if (update_watermark(e)) advance_ops(e);
}

int ss_engine_run(struct ss_engine *e, struct ss_err *err) {
    e->now_ms = ss_now_ms();
    e->epoch_started_ms = e->savepoint_at_ms = e->now_ms;
    int rc = restore_savepoint(e, err);
    if (rc) return rc;
    rc = run_inputs(e, err);
    /* after an error the epoch in flight is still waited for: its rows must outlive it */
    struct ss_err ignore = {0};
    int last = finish_inflight(e, rc ? &ignore : err);
    return rc ? rc : last;
}

/* Polls the inputs until they are all exhausted, a stop is asked for, or one fails;
 * then commits the epoch in progress. A stop and a failed input end alike (README,
 * Operations): what the records read so far produced is committed, windows and
 * sessions still open are not emitted; a failure then makes the run fail. So a
 * compressed file cut short still yields the outputs of every complete line before
 * the cut, whatever the epoch settings. */
static int run_inputs(struct ss_engine *e, struct ss_err *err) {
    int rc = SS_OK;
    int failed = SS_OK;  /* the error of the input that failed */
    bool busy = false;   /* the last round read records */
    while (!stopping(e) && !failed) {
        bool any = false;
        int polled = 0;
        if (e->bg.pid) reap_savepoint(e);
        for (int i = 0; i < e->ninputs && !stopping(e); i++) {
            if (!input_active(e, i)) continue;
            any = true;
            struct input *in = &e->inputs[i];
            ss_predecode_settle(e->pre); /* a source's prefetch is over before its poll */
            /* waiting only while no input has records: a quiet one (a pipe, a topic)
             * must not hold back one that has */
            int wait = busy || polled ? 0 : POLL_WAIT_MS;
            int n = in->src->type->poll(in->src, e->recs, POLL_BATCH, wait, err);
            if (e->revoke_rc) { /* set inside that poll: see on_revoked */
                *err = e->revoke_err;
                return e->revoke_rc;
            }
            if (n == SS_EOF) {
                finish_input(e, i);
                continue;
            }
            if (n < 0) {
                ss_err_wrap(err, "input %s", in->spec.url);
                failed = n;
                break;
            }
            e->now_ms = ss_now_ms();
            process_batch(e, in, e->recs, n);
            if (n && !in->sequential) e->min_slot = -1; /* idleness may have changed */
            polled += n;
            e->epoch_records += n;
            ss_arena_reset(&e->batch);
            ss_arena_reset(&e->batch_own);
            ss_intern_sweep(e->intern);
        }
        if (failed || !any) break;
        busy = polled > 0;
        if (!polled) {
            e->now_ms = ss_now_ms();
            /* partitions may have gone idle: W can move without any record */
            if (update_watermark(e)) advance_ops(e);
        }
        if (e->epoch_records >= e->cfg->epoch_events || e->now_ms - e->epoch_started_ms >= e->cfg->epoch_interval_ms) {
            ss_quality_tick(&e->quality, e->now_ms, 0, &e->out);
            rc = commit_epoch(e, false, false, err);
            if (rc) return rc;
            if (savepoints(e) && !e->savepoint_epoch && e->now_ms - e->savepoint_at_ms >= e->cfg->savepoint_interval_ms)
                start_savepoint(e);
        } else if (e->spare == NULL && !ss_committer_busy(e->committer)) {
            /* the sinks have the last epoch: its positions can be committed now */
            rc = finish_inflight(e, err);
            if (rc) return rc;
        }
    }
    bool complete = !stopping(e) && !failed;
    note_stopping(e);
    if (failed)
        ss_warn(comp, "msg=\"input failed: committing the current epoch, then exiting\" err=\"%s\"", err->msg);
    if (complete) {
        /* every input is exhausted: state-change rows first, then W = +inf closes everything */
        for (int i = 0; i < e->nops; i++)
            if (e->ops[i]->type->flush) e->ops[i]->type->flush(e->ops[i], &e->out);
        if (e->watermark != SS_TS_MAX) {
            e->watermark = SS_TS_MAX;
            advance_ops(e);
        }
    }
    /* the minute being counted goes on in the next run (its row is keyed by the minute):
     * saved before the row this stop writes of it */
    struct ss_buf quality = {0};
    if (savepoints(e) && !complete && !failed) ss_quality_save(&e->quality, &quality);
    ss_quality_tick(&e->quality, ss_now_ms(), 1, &e->out);
    struct ss_err cerr = {0};
    rc = commit_epoch(e, complete, true, failed ? &cerr : err);
    if (!rc && !failed && savepoints(e)) rc = final_savepoint(e, complete, &quality, err);
    ss_free(quality.p);
    ss_intern_sweep(e->intern);
    if (!failed) return rc;
    if (rc) ss_error(comp, "msg=\"could not commit the epoch before exiting\" err=\"%s\"", cerr.msg);
    return failed;
}

void ss_engine_stop(struct ss_engine *e) {
    atomic_store_explicit(&e->stop, true, memory_order_relaxed);
    if (e->committer) ss_committer_stopping(e->committer);
}

bool ss_engine_stopped(const struct ss_engine *e) { return stopping(e); }

const struct ss_run_stats *ss_engine_stats(const struct ss_engine *e) { return &e->stats; }

int64_t ss_engine_watermark(const struct ss_engine *e) { return e->watermark; }

size_t ss_engine_state_bytes(const struct ss_engine *e) {
    size_t b = ss_intern_bytes(e->intern) + ss_dedup_bytes(e->dedup_events) + ss_dedup_bytes(e->dedup_promos);
    for (int i = 0; i < e->nops; i++)
        if (e->ops[i]->type->state_bytes) b += e->ops[i]->type->state_bytes(e->ops[i]);
    return b;
}

size_t ss_engine_intern_live(const struct ss_engine *e) { return ss_intern_live(e->intern); }

bool ss_engine_op_state(const struct ss_engine *e, int i, const char **name, size_t *bytes, size_t *keys) {
    if (i == -1) {
        *name = "dedup";
        *bytes = ss_dedup_bytes(e->dedup_events) + ss_dedup_bytes(e->dedup_promos);
        *keys = ss_dedup_count(e->dedup_events) + ss_dedup_count(e->dedup_promos);
        return true;
    }
    if (i < 0 || i >= e->nops) return false;
    const struct ss_op *op = e->ops[i];
    *name = op->type->name;
    *bytes = op->type->state_bytes ? op->type->state_bytes(op) : 0;
    *keys = op->type->state_keys ? op->type->state_keys(op) : 0;
    return true;
}

void ss_engine_set_epoch_hook(struct ss_engine *e, void (*fn)(void *ctx, struct ss_engine *e), void *ctx) {
    e->epoch_hook = fn;
    e->epoch_hook_ctx = ctx;
}

void ss_engine_close(struct ss_engine *e) {
    if (!e) return;
    ss_bgsave_cancel(&e->bg); /* a run that failed: the savepoint it was writing cannot be published */
    ss_committer_free(e->committer); /* nothing in flight: ss_engine_run collected it */
    for (size_t j = 0; j < e->nheld; j++) ss_free(e->held[j].pos);
    ss_free(e->held);
    ss_predecode_free(e->pre);       /* idle: process_batch waited for every record */
    for (int i = 0; i < e->nsinks; i++) e->sinks[i]->type->close(e->sinks[i]);
    for (int i = 0; i < e->ninputs; i++) {
        struct input *in = &e->inputs[i];
        if (in->src) in->src->type->close(in->src);
        ss_decoder_close(in->dec);
        ss_decoder_close(in->dec_own);
        ss_free(in->spec.url);
        ss_free(in->slot_of);
    }
    for (int i = 0; i < e->nops; i++) e->ops[i]->type->close(e->ops[i]);
    ss_dedup_free(e->dedup_events);
    ss_dedup_free(e->dedup_promos);
    ss_intern_sweep(e->intern);
    ss_intern_free(e->intern);
    ss_out_free(&e->out);
    if (e->spare) {
        ss_out_free(e->spare);
        ss_free(e->spare);
    }
    ss_arena_free(&e->batch);
    ss_arena_free(&e->batch_own);
    ss_free(e->recs);
    ss_free(e->staged);
    ss_free(e->slots);
    ss_free(e->max_ts);
    ss_free(e);
}
