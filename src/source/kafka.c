/* kafka.c — the Kafka source: `--input STREAM=kafka://HOST:PORT/TOPIC`. A
 * high-level consumer in the group cfg->kafka_group with cooperative-sticky
 * assignment; offsets are never committed automatically, only through commit(),
 * which the engine calls once the outputs an epoch produced are durable
 * (at-least-once). Rebalances reach the engine through the hooks, and a revoked
 * partition is handed to the engine (flush + commit) before it is unassigned.
 * Backpressure pauses the assigned partitions; nothing is dropped.
 *
 * Records are the messages' payloads without a copy: the rd_kafka_message_t
 * objects live until the next poll. An undecodable payload is still a record (the
 * engine sends it to the dead-letter output). With cfg->exit_at_end the source is
 * bounded: SS_EOF once every assigned partition reached the end offset it had at
 * start. Records written after the start are not handed out, also those that a fetch
 * brings along with the last ones before the end, and a partition added to the topic
 * after the start had no records then: none of it is read. So a backfill reads what
 * the topic held at start, whatever the producers do meanwhile, and commits no
 * further: the next run reads the rest.
 *
 * Promotions are the exception (DESIGN §7: they are small, and every process needs
 * all of them for the promotion join): that input is assigned every partition of its
 * topic from the beginning, outside any group, and never commits. So each process of
 * a scaled-out group, and each restart (the join's state is not checkpointed), holds
 * every promotion the topic retains, as a Kafka Streams GlobalKTable does. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/alloc.h"
#include "../core/log.h"
#include "../core/thread.h"
#include "../core/timefmt.h"
#include "kafka_producer.h"
#include "source.h"

/* Records kafka_prefetch takes at most: the engine's poll batch. */
#define SS_KAFKA_PREFETCH 4096

static const char *comp = "source.kafka";

struct kpart {
    int64_t end;        /* high watermark seen at start; -1: not queried yet */
    int64_t pos;        /* next offset after the last record handed out; -1: none yet */
    int64_t eof_at;     /* offset of the last partition-EOF event; -1: none */
    int64_t handed;     /* like pos, but kept across revocations: what this process's state covers */
    int64_t committed;  /* the offset this process last committed for it since its assignment; -1: none */
    int64_t start;      /* where reading was to start at its assignment (the group's committed offset, or
                         * our own position); -1: unknown (none committed, or read from the beginning) */
    int64_t resume_at;  /* a savepoint's position, taken at the next assignment (kafka_start_at); -1: none */
    bool resume_committed; /* ... which was committed when it was saved (kafka_start_at) */
    bool start_tagged;  /* `start` is a commit tagged with our writer (resume_positions) */
    bool assigned;
    bool stopped;       /* bounded: a record past `end` came, the partition is paused (stop_at_end) */
};

/* A message and what the engine reads of it, copied out by the thread that took it off
 * the queue: the engine's thread then reads this array, not 4,096 message structs
 * that only the fetch thread has touched (a cache miss each, ~0.1 ms per batch). */
struct kmsg {
    rd_kafka_message_t *m;
    const char *data;
    size_t len;
    int64_t offset;
    int32_t partition;
    rd_kafka_resp_err_t err;
};

static struct kmsg kmsg_of(rd_kafka_message_t *m) {
    return (struct kmsg){m, m->payload ? (const char *)m->payload : "", m->len, m->offset, m->partition, m->err};
}

struct kafka_source {
    struct ss_source base;
    rd_kafka_t *rk;
    char *brokers, *topic;
    struct ss_source_hooks hooks;
    bool exit_at_end;
    int bound_parts;            /* --exit-at-end: partitions the topic had at start; -1: not bounded at start */
    bool whole;                 /* every partition from the beginning, no group (promotions) */
    int whole_parts;            /* whole: partitions to take at the first poll; 0 once taken */
    _Atomic bool drain;         /* ss_source_kafka_drain was called (any thread) */
    bool closing;               /* in kafka_close: `records` is gone, the engine's hooks too */
    bool paused;
    struct kmsg *msgs;          /* the batch handed out by the last poll */
    int nmsgs;
    size_t cap_msgs;
    /* the batch before it, destroyed by kafka_retire on the decoding thread while the
     * engine works on the new one (a destroy costs as much as the poll that got it) */
    struct kmsg *old;
    int nold;
    size_t cap_old;
    /* Records reach `records`, a queue of their own that the partitions' fetch queues
     * are forwarded to, not the consumer queue (rebalances, errors): kafka_prefetch
     * takes the next batch's from it on the decoding thread, into `pre`, while the
     * engine processes this one (taking them one by one was 10-15 % of its thread). */
    rd_kafka_queue_t *records;
    struct kmsg *pre;
    int npre;
    rd_kafka_message_t **raw;   /* kafka_prefetch's */
    struct kpart *parts;        /* by partition number */
    size_t nparts;
    size_t max_rec;             /* input.max_record_bytes: a longer message is cut */
    struct ss_kafka_errs errs;  /* error_cb's, for ss_kafka_wait_topics at start */
    char *writer;               /* the tag of our commits (set_writer); NULL: untagged */
    bool tagged;                /* the savepoint's positions are judged by the tags (kafka_start_at) */
    int fatal_rc;               /* an error seen in a callback, returned by the next poll */
    char fatal_msg[400];
};

static struct kpart *part_of(struct kafka_source *ks, int32_t p) {
    if (p < 0) p = 0;
    if ((size_t)p >= ks->nparts) {
        size_t n = (size_t)p + 1;
        ks->parts = ss_realloc(ks->parts, n * sizeof *ks->parts);
        for (size_t i = ks->nparts; i < n; i++)
            ks->parts[i] =
                (struct kpart){.end = -1, .pos = -1, .eof_at = -1, .handed = -1, .committed = -1, .start = -1, .resume_at = -1};
        ks->nparts = n;
    }
    return &ks->parts[p];
}

static void query_end(struct kafka_source *ks, int32_t p) {
    struct kpart *kp = part_of(ks, p);
    if (kp->end >= 0) return;
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(ks->rk, ks->topic, p, &lo, &hi, 10000);
    if (e) {
        ks->fatal_rc = SS_EIO;
        snprintf(ks->fatal_msg, sizeof ks->fatal_msg, "cannot read the end offset of %s [%d] for --exit-at-end: %s",
                 ks->topic, (int)p, rd_kafka_err2str(e));
        return;
    }
    kp->end = hi;
}

static bool partition_done(const struct kpart *kp) {
    if (kp->end < 0) return false;
    return kp->pos >= kp->end || kp->eof_at >= kp->end || kp->stopped;
}

/* Bounded, a record at or past the end of its partition came (written after the end was
 * taken, fetched along with the last records before it): it is not handed out, and it
 * ends the partition. Handed out, it was processed and committed too, so a backfill read
 * as much as the producers had written by the time it got there, a different amount at
 * each run (one over a topic with a live producer read 5,112 records past the ends it
 * had noted). The partition is paused so that no more of it is fetched; and when
 * offsets that are no records (transaction markers) lie between the last record and the
 * end, the position moves to the end, as at a partition-EOF event (take_msg). Not when
 * this record (at offset `at`) is the first of the assignment and lies past the end: the
 * group's committed offset may be past the end too (another run read on), and moving
 * the position back to the end would commit the group back there. */
static void stop_at_end(struct kafka_source *ks, struct kpart *kp, int32_t p, int64_t at) {
    if (kp->end > 0 && kp->pos < kp->end && (kp->pos >= 0 || at == kp->end)) {
        ks->msgs[ks->nmsgs++] = (struct kmsg){NULL, "", 0, kp->end - 1, p, RD_KAFKA_RESP_ERR_NO_ERROR};
        kp->pos = kp->end;
    }
    if (kp->stopped) return;
    kp->stopped = true;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, ks->topic, p);
    rd_kafka_pause_partitions(ks->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    ss_info(comp, "msg=\"end offset seen at start reached; the records written since are left to the next run\" "
                  "topic=%s partition=%d end=%lld",
            ks->topic, (int)p, (long long)kp->end);
}

/* Where reading each assigned partition of ours starts: the group's committed offset,
 * noted as kp->start so that take_msg can tell when the first record is not there
 * (check_position). A partition that comes back to this process (after "partitions
 * lost", e.g. a session timeout while the broker was away) must not be re-read from
 * the group's committed offset: the engine's state already holds what this process
 * read past it, so re-reading would count those records twice. Resume at the later
 * of the committed offset and our own position (if another member processed further
 * meanwhile, its commit is the later one). */
static void resume_positions(struct kafka_source *ks, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *list) {
    bool any = false;
    for (int i = 0; i < list->cnt; i++)
        if (!strcmp(list->elems[i].topic, ks->topic)) {
            struct kpart *kp = part_of(ks, list->elems[i].partition);
            kp->start = -1;
            kp->start_tagged = false;
            any = true;
        }
    if (!any) return;
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(list);
    if (rd_kafka_committed(rk, c, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_topic_partition_list_destroy(c);
        return; /* fall back to the committed offsets: at-least-once */
    }
    for (int i = 0; i < list->cnt; i++) {
        rd_kafka_topic_partition_t *el = &list->elems[i];
        if (strcmp(el->topic, ks->topic)) continue;
        struct kpart *kp = part_of(ks, el->partition);
        const rd_kafka_topic_partition_t *ce = &c->elems[i];
        int64_t mine = kp->handed, committed = ce->err ? -1 : ce->offset;
        kp->start = committed >= 0 ? committed : -1;
        kp->start_tagged = committed >= 0 && ks->writer && ce->metadata && ce->metadata_size == strlen(ks->writer) &&
                           memcmp(ce->metadata, ks->writer, ce->metadata_size) == 0;
        if (mine >= 0 && mine > committed) {
            el->offset = mine;
            kp->start = mine;
            ss_info(comp, "msg=\"partition back, resuming at our own position\" topic=%s partition=%d offset=%lld committed=%lld",
                    ks->topic, (int)el->partition, (long long)mine, (long long)committed);
        }
    }
    rd_kafka_topic_partition_list_destroy(c);
}

/* The partitions of list that a savepoint has a position for start there: the state
 * loaded covers the records before it and none after. Usually it is the committed
 * offset (a graceful stop commits both); after a crash the group has committed past the
 * last savepoint, and the records in between are read again (their outputs are
 * written again, as after any crash). Not when the commit past it is another
 * process's (source.h, start_at): a commit not tagged with our writer, or for a
 * savepoint from before the tags, any commit past the position of a savepoint written
 * at a stop. */
static void savepoint_positions(struct kafka_source *ks, rd_kafka_topic_partition_list_t *list) {
    for (int i = 0; i < list->cnt; i++) {
        rd_kafka_topic_partition_t *el = &list->elems[i];
        if (strcmp(el->topic, ks->topic)) continue;
        struct kpart *kp = part_of(ks, el->partition);
        if (kp->resume_at < 0) continue;
        bool ahead = kp->start > kp->resume_at;
        if (ahead && (ks->tagged ? !kp->start_tagged : kp->resume_committed)) {
            /* the state of this partition's users misses what that process read (DESIGN §7:
             * state does not move with a partition); reading it again here would emit
             * those records' rows a second time */
            ss_warn(comp, "msg=\"another process read this partition on after the savepoint was written: going on "
                          "from its commit, not the savepoint's position\" topic=%s partition=%d offset=%lld "
                          "committed=%lld hint=\"static membership (-X group.instance.id) keeps a restarted "
                          "process's partitions\"",
                    ks->topic, (int)el->partition, (long long)kp->resume_at, (long long)kp->start);
            kp->resume_at = -1;
            continue;
        }
        if (kp->start >= 0 && kp->start != kp->resume_at)
            ss_info(comp, "msg=\"resuming at the savepoint's position, not the committed one\" topic=%s partition=%d "
                          "offset=%lld committed=%lld",
                    ks->topic, (int)el->partition, (long long)kp->resume_at, (long long)kp->start);
        el->offset = kp->resume_at;
        kp->start = kp->resume_at;
        kp->resume_at = -1;
    }
}

static void kafka_set_writer(struct ss_source *src, const char *writer) {
    struct kafka_source *ks = (struct kafka_source *)src;
    ss_free(ks->writer);
    ks->writer = writer ? ss_strdup(writer) : NULL;
}

static void kafka_start_at(struct ss_source *src, const int32_t *partitions, const int64_t *next_offsets, int n,
                           bool committed, bool tagged) {
    struct kafka_source *ks = (struct kafka_source *)src;
    ks->tagged = tagged && ks->writer;
    for (int i = 0; i < n; i++) {
        struct kpart *kp = part_of(ks, partitions[i]);
        kp->resume_at = next_offsets[i];
        kp->resume_committed = committed;
    }
}

/* Before the record (or partition end) at offset `at` of partition p is taken: is it
 * where reading was to go on? Kafka skips ahead by itself when the offset to read is
 * out of range (auto.offset.reset): records deleted by retention (or by
 * kafka-delete-records) before this group read them are lost for good, and a
 * committed offset past the partition's end (the topic deleted and re-created) is
 * read from the beginning again. librdkafka only logs "offset reset"; say what it
 * means. Offsets also skip records with no loss (transaction markers, compaction):
 * only a skip past offsets the partition no longer retains (its log start offset,
 * cached from the fetch that brought this record) is a loss. */
static void check_position(struct kafka_source *ks, struct kpart *kp, int32_t p, int64_t at) {
    int64_t want = kp->pos >= 0 ? kp->pos : kp->start;
    kp->start = -1; /* checked once per assignment; from then on against pos */
    if (want < 0 || at == want) return;
    if (at > want) {
        int64_t lo = -1, hi = -1;
        rd_kafka_get_watermark_offsets(ks->rk, ks->topic, p, &lo, &hi);
        if (lo <= want) return; /* still retained: offsets with no record in between */
        ss_error(comp,
                 "msg=\"data loss: records were deleted before they were read (retention or delete-records); "
                 "going on at the first retained one\" topic=%s partition=%d lost_offsets=%lld from=%lld to=%lld "
                 "log_start=%lld",
                 ks->topic, (int)p, (long long)(at - want), (long long)want, (long long)at, (long long)lo);
        return;
    }
    ss_warn(comp,
            "msg=\"offset went back: the partition ends before the position this group had (topic deleted and "
            "re-created, or truncated?); reading it from here\" topic=%s partition=%d position=%lld offset=%lld",
            ks->topic, (int)p, (long long)want, (long long)at);
}

/* Routes the records of these partitions to ks->records. Before they are assigned:
 * a forward the application set survives the fetch start, one set after it would race
 * with it (the consumer queue would get some of the records). */
static void forward_partitions(struct kafka_source *ks, const int32_t *ids, int n) {
    for (int i = 0; i < n; i++) {
        rd_kafka_queue_t *q = rd_kafka_queue_get_partition(ks->rk, ks->topic, ids[i]);
        if (!q) continue; /* then they come through the consumer queue, still in order */
        rd_kafka_queue_forward(q, ks->records);
        rd_kafka_queue_destroy(q);
    }
}

/* Drops the records of partitions that left from msgs[0..*n), compacting it. */
static void drop_partitions(struct kmsg *msgs, int *n, const int32_t *ids, int nids) {
    int k = 0;
    for (int i = 0; i < *n; i++) {
        bool gone = false;
        for (int j = 0; j < nids && !gone; j++) gone = msgs[i].partition == ids[j];
        if (gone && msgs[i].m) rd_kafka_message_destroy(msgs[i].m); /* NULL: an end's position (take_msg) */
        else msgs[k++] = msgs[i];
    }
    for (int i = k; i < *n; i++) msgs[i].m = NULL;
    *n = k;
}

/* After list (ids: its partitions of our topic, n of them) was assigned to the consumer,
 * by the group or by take_whole: our bookkeeping, then the engine's hook. */
static void took_partitions(struct kafka_source *ks, rd_kafka_topic_partition_list_t *list, const int32_t *ids, int n,
                            const char *protocol) {
    for (int i = 0; i < n; i++) {
        struct kpart *kp = part_of(ks, ids[i]);
        kp->assigned = true;
        kp->pos = -1;
        kp->eof_at = -1;
        kp->committed = -1; /* another member may have committed it meanwhile */
        kp->stopped = false;
        if (ks->whole) kp->start = -1; /* from the beginning, or a savepoint's position (take_whole) */
        if (ks->exit_at_end && ks->bound_parts >= 0 && ids[i] >= ks->bound_parts && kp->end < 0) {
            /* Added to the topic after the start (kafka-topics --alter --partitions, found
             * at a metadata refresh): it held nothing at start. Its end was queried here
             * before, so a backfill read it up to wherever it stood at that moment, or not
             * at all when the other partitions ended first: a different table at each run.
             * Nothing is committed for it, so the next run (or an unbounded one) reads it
             * from its beginning. */
            kp->end = 0;
            ss_warn(comp, "msg=\"partition added to the topic after the start: --exit-at-end reads what the topic held at "
                          "start, so none of it; the next run reads it\" topic=%s partition=%d",
                    ks->topic, (int)ids[i]);
        }
        if (ks->exit_at_end) query_end(ks, ids[i]);
    }
    if (ks->paused) rd_kafka_pause_partitions(ks->rk, list);
    ss_info(comp, "msg=\"partitions assigned\" topic=%s count=%d protocol=%s", ks->topic, n, protocol);
    if (n && ks->hooks.assigned) ks->hooks.assigned(ks->hooks.ctx, &ks->base, ids, n);
}

/* Called from inside rd_kafka_consumer_poll (the engine's thread). */
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *list, void *opaque) {
    struct kafka_source *ks = opaque;
    /* NULL once the consumer has a fatal error (fenced by another member with its
     * group.instance.id), whose revocation still comes through here */
    const char *protocol = rd_kafka_rebalance_protocol(rk);
    if (!protocol) protocol = "NONE";
    bool coop = strcmp(protocol, "COOPERATIVE") == 0;
    int32_t *ids = ss_malloc((size_t)(list->cnt ? list->cnt : 1) * sizeof *ids);
    int n = 0;
    for (int i = 0; i < list->cnt; i++)
        if (strcmp(list->elems[i].topic, ks->topic) == 0) ids[n++] = list->elems[i].partition;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS && ks->closing) {
        /* An assignment that was on its way when the close began (partitions added to
         * the topic as a backfill ended: the group rebalanced meanwhile), served inside
         * rd_kafka_consumer_close, which waits for it to be taken. Taken as it is, with
         * none of the bookkeeping: nothing will be read. Routing its records to the
         * records queue, which the close has destroyed, crashed (SIGSEGV). */
        if (coop) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, list);
            if (e) rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, list);
        }
    } else if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        resume_positions(ks, rk, list);
        savepoint_positions(ks, list);
        forward_partitions(ks, ids, n);
        rd_kafka_error_t *e = NULL;
        rd_kafka_resp_err_t re = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (coop) e = rd_kafka_incremental_assign(rk, list);
        else re = rd_kafka_assign(rk, list);
        if (e || re) {
            ks->fatal_rc = SS_ERROR;
            snprintf(ks->fatal_msg, sizeof ks->fatal_msg, "cannot take the partitions of %s assigned by the group: %s",
                     ks->topic, e ? rd_kafka_error_string(e) : rd_kafka_err2str(re));
            if (e) rd_kafka_error_destroy(e);
        } else {
            took_partitions(ks, list, ids, n, protocol);
        }
    } else {
        bool lost = err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS || rd_kafka_assignment_lost(rk);
        /* records of these partitions not yet handed out go with them: the new
         * owner reads them from the committed offset (the prefetched ones too: the
         * decoding thread is idle while the engine polls) */
        drop_partitions(ks->msgs, &ks->nmsgs, ids, n);
        drop_partitions(ks->pre, &ks->npre, ids, n);
        /* the engine flushes their outputs and commits while we still own them */
        if (n && ks->hooks.revoked) ks->hooks.revoked(ks->hooks.ctx, &ks->base, ids, n);
        for (int i = 0; i < n; i++) part_of(ks, ids[i])->assigned = false;
        if (coop && !lost) {
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, list);
            if (e) {
                ss_warn(comp, "msg=\"incremental unassign failed\" topic=%s err=\"%s\"", ks->topic,
                        rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
            }
        } else if (coop) {
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, list);
            if (e) rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, NULL);
        }
        ss_info(comp, "msg=\"partitions %s\" topic=%s count=%d", lost ? "lost" : "revoked", ks->topic, n);
    }
    ss_free(ids);
}

/* The consumer is dead for good (e.g. fenced: another process joined the group with
 * the same group.instance.id): notes why in fatal_rc/fatal_msg, which end the run at the
 * next poll. False when librdkafka holds no fatal error. */
static bool note_fatal(struct kafka_source *ks) {
    char why[256];
    if (rd_kafka_fatal_error(ks->rk, why, sizeof why) == RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    ks->fatal_rc = SS_ERROR;
    snprintf(ks->fatal_msg, sizeof ks->fatal_msg, "Kafka consumer of %s failed: %s", ks->topic, why);
    return true;
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)rk;
    struct kafka_source *ks = opaque;
    ss_kafka_errs_note(&ks->errs, err, reason);
    if (err == RD_KAFKA_RESP_ERR__FATAL && note_fatal(ks)) return;
    /* transient (brokers down, ...): librdkafka reconnects by itself */
    int64_t repeats;
    if (ss_kafka_errs_due(&ks->errs, err, &repeats))
        ss_warn(comp, "msg=\"Kafka error\" topic=%s err=\"%s\" reason=\"%s\" repeats_not_logged=%lld", ks->topic,
                rd_kafka_err2str((rd_kafka_resp_err_t)err), reason, (long long)repeats);
}

static void kafka_close(struct ss_source *src);

/* "kafka://HOST:PORT[,HOST:PORT]/TOPIC" */
static int parse_url(const char *url, char **brokers, char **topic, struct ss_err *err) {
    const char *p = url + strlen("kafka://");
    const char *slash = strrchr(p, '/');
    if (strncmp(url, "kafka://", 8) != 0 || !slash || slash == p || !slash[1])
        return ss_err_set(err, SS_EUSAGE, "Kafka input \"%s\": expected kafka://HOST:PORT/TOPIC", url);
    char what[600];
    snprintf(what, sizeof what, "Kafka input \"%s\"", url);
    int rc = ss_kafka_topic_check(slash + 1, what, err);
    if (rc) return rc;
    *brokers = ss_strndup(p, (size_t)(slash - p));
    *topic = ss_strdup(slash + 1);
    return SS_OK;
}

/* One consumer group per input stream (<kafka.group_id>.<stream>): the inputs of a
 * process are separate consumers, and in one shared group every join or leave of one
 * of them rebalanced the others too, also while they were closing (librdkafka 2.0.2
 * crashed there, once in a while). Scale-out is unchanged: processes with the same
 * kafka.group_id share each topic's partitions. */
static void group_name(const struct ss_input_spec *spec, const struct ss_config *cfg, char *buf, size_t size) {
    snprintf(buf, size, "%s.%s", cfg->kafka_group && *cfg->kafka_group ? cfg->kafka_group : "shopstream",
             ss_stream_name(spec->stream));
}

/* The consumer's configuration for spec: our fixed settings, then the -X / kafka.*
 * pass-through. Opens nothing, so --print-config can check it too. */
static int make_conf(const struct ss_input_spec *spec, const struct ss_config *cfg, const char *brokers,
                     rd_kafka_conf_t **out, struct ss_err *err) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char group[256];
    group_name(spec, cfg, group, sizeof group);
    int rc;
    if ((rc = ss_kafka_conf_set(conf, "bootstrap.servers", brokers, err)) ||
        /* a whole-topic input never joins the group (no subscribe) and commits nothing;
         * librdkafka 2.0.2 wants a group.id for assign() all the same */
        (rc = ss_kafka_conf_set(conf, "group.id", group, err)) ||
        (rc = ss_kafka_conf_set(conf, "client.id", "shopstream", err)) ||
        (rc = ss_kafka_conf_set(conf, "partition.assignment.strategy", "cooperative-sticky", err)) ||
        (rc = ss_kafka_conf_set(conf, "enable.auto.commit", "false", err)) ||
        (rc = ss_kafka_conf_set(conf, "enable.auto.offset.store", "false", err)) ||
        (rc = ss_kafka_conf_set(conf, "auto.offset.reset", "earliest", err)) ||
        (rc = ss_kafka_conf_set(conf, "enable.partition.eof", "true", err)) ||
        /* While a sink is down the engine pauses its inputs and stops polling until the
         * sink is back. At librdkafka's default (5 min) an outage that long made the
         * consumer leave its group: a rebalance, the epoch's offsets refused ("Unknown
         * member"), another member re-reading them into the same dead sink. Liveness is
         * the heartbeat's job (session.timeout.ms, on librdkafka's own thread); this
         * limit is only for an application that hangs, and ours waits on purpose. Kafka
         * Streams raises it for the same reason. The maximum librdkafka accepts: 24 h. */
        (rc = ss_kafka_conf_set(conf, "max.poll.interval.ms", "86400000", err)) ||
        /* Prefetch depth. The partitions' fetch queues are forwarded to one queue
         * (the source's records queue), so both limits apply to the total. librdkafka 2.0.2 stops
         * fetching at either limit and looks again only at its broker thread's next
         * 1 s tick (there is no wake-up on dequeue), so the queue must hold more
         * than a second of our consumption or the engine idles until the tick: at
         * the defaults (100000 messages, 64 MB) it ran dry every second, 0.47M
         * events/s with half of the 2 cores idle; 1M messages and 128 MB of payload
         * (~600K of our ~200-byte events) gave 0.76-0.85M/s for +190 MB of RSS
         * (bench/kafka_bench.sh). Only a backlog fills it; -X lowers either limit. */
        (rc = ss_kafka_conf_set(conf, "queued.min.messages", "1000000", err)) ||
        (rc = ss_kafka_conf_set(conf, "queued.max.messages.kbytes", "131072", err)) ||
        /* producer-only settings are the Kafka sink's when the run has one */
        (rc = ss_kafka_conf_apply(conf, cfg->kafka_props, cfg->nkafka_props, ss_config_writes_kafka(cfg) ? 'P' : 0,
                                  err))) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    *out = conf;
    return SS_OK;
}

static int kafka_check(const struct ss_input_spec *spec, const struct ss_config *cfg, struct ss_err *err) {
    char *brokers = NULL, *topic = NULL;
    rd_kafka_conf_t *conf = NULL;
    int rc = ss_record_limit_check(cfg, err);
    if (!rc) rc = parse_url(spec->url, &brokers, &topic, err);
    if (!rc) rc = make_conf(spec, cfg, brokers, &conf, err);
    if (conf) rd_kafka_conf_destroy(conf);
    ss_free(brokers);
    ss_free(topic);
    return rc;
}

int ss_source_kafka_open_ex(struct ss_source **out, const struct ss_input_spec *spec, const struct ss_config *cfg,
                            int connect_timeout_ms, struct ss_err *err) {
    struct kafka_source *ks = ss_calloc(1, sizeof *ks);
    ks->base.type = &ss_source_kafka;
    ks->exit_at_end = cfg->exit_at_end;
    ks->bound_parts = -1;
    ks->whole = spec->stream == SS_STREAM_PROMOTIONS;
    ks->max_rec = (size_t)cfg->max_record_bytes;
    rd_kafka_conf_t *conf = NULL;
    int rc = ss_record_limit_check(cfg, err);
    if (!rc) rc = parse_url(spec->url, &ks->brokers, &ks->topic, err);
    if (!rc) rc = make_conf(spec, cfg, ks->brokers, &conf, err);
    if (rc) goto fail;
    ss_kafka_conf_log(conf);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_opaque(conf, ks);
    char why[512];
    ks->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (!ks->rk) {
        rd_kafka_conf_destroy(conf);
        rc = ss_err_set(err, SS_EUSAGE, "cannot create Kafka consumer for %s: %s", spec->url, why);
        goto fail;
    }
    rd_kafka_poll_set_consumer(ks->rk);
    ks->records = rd_kafka_queue_new(ks->rk);
    ks->pre = ss_calloc(SS_KAFKA_PREFETCH, sizeof *ks->pre);
    ks->raw = ss_calloc(SS_KAFKA_PREFETCH, sizeof *ks->raw);

    const char *topics[1] = {ks->topic};
    int nparts = 0;
    rc = ss_kafka_wait_topics(ks->rk, ks->brokers, topics, 1, &nparts,
                              connect_timeout_ms > 0 ? connect_timeout_ms : SS_KAFKA_CONNECT_TIMEOUT_MS, &ks->errs,
                              err);
    if (rc) goto fail;
    if (nparts > 0) part_of(ks, nparts - 1);
    if (ks->exit_at_end) ks->bound_parts = nparts;
    if (ks->exit_at_end) /* "the end" is where the partitions stood at start */
        for (int p = 0; p < nparts && !ks->fatal_rc; p++) query_end(ks, p);
    if (ks->fatal_rc) {
        rc = ss_err_set(err, ks->fatal_rc, "%s", ks->fatal_msg);
        goto fail;
    }

    if (ks->whole) {
        /* taken at the first poll, once the engine's hooks are installed */
        ks->whole_parts = nparts;
        ss_info(comp, "msg=\"consuming\" topic=%s brokers=%s group=none partitions=%d from=beginning", ks->topic,
                ks->brokers, nparts);
        *out = &ks->base;
        return SS_OK;
    }
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, ks->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(ks->rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (e) {
        rc = ss_err_set(err, SS_ERROR, "cannot subscribe to Kafka topic %s: %s", ks->topic, rd_kafka_err2str(e));
        goto fail;
    }
    char group[256];
    group_name(spec, cfg, group, sizeof group);
    ss_info(comp, "msg=\"consuming\" topic=%s brokers=%s group=%s partitions=%d", ks->topic, ks->brokers, group, nparts);
    *out = &ks->base;
    return SS_OK;
fail:
    kafka_close(&ks->base);
    return rc;
}

static int kafka_open(struct ss_source **out, const struct ss_input_spec *spec, const struct ss_config *cfg,
                      struct ss_err *err) {
    int64_t t = cfg->kafka_connect_timeout_ms;
    return ss_source_kafka_open_ex(out, spec, cfg, t > 0 && t < INT32_MAX ? (int)t : SS_KAFKA_CONNECT_TIMEOUT_MS,
                                   err);
}

static void destroy_msgs(struct kmsg *a, int from, int to) {
    for (int i = from; i < to; i++)
        if (a[i].m) {
            rd_kafka_message_destroy(a[i].m);
            a[i].m = NULL;
        }
}

static void release_batch(struct kafka_source *ks) {
    destroy_msgs(ks->old, 0, ks->nold);
    ks->nold = 0;
    destroy_msgs(ks->pre, 0, ks->npre);
    ks->npre = 0;
    destroy_msgs(ks->msgs, 0, ks->nmsgs);
    ks->nmsgs = 0;
}

/* The last batch becomes `old`, to be retired while the next one is processed. */
static void retire_later(struct kafka_source *ks) {
    destroy_msgs(ks->old, 0, ks->nold); /* what no retire call reached */
    struct kmsg *t = ks->old;
    size_t tc = ks->cap_old;
    ks->old = ks->msgs;
    ks->cap_old = ks->cap_msgs;
    ks->nold = ks->nmsgs;
    ks->msgs = t;
    ks->cap_msgs = tc;
    ks->nmsgs = 0;
}

/* Record k of n: its share of `old`, so that the last record ends with none left. */
static void kafka_retire(struct ss_source *src, int k, int n) {
    struct kafka_source *ks = (struct kafka_source *)src;
    int64_t from = (int64_t)ks->nold * k / n, to = k == n - 1 ? ks->nold : (int64_t)ks->nold * (k + 1) / n;
    destroy_msgs(ks->old, (int)from, (int)to);
}

/* Done when every partition we own has reached its end. Owning none (before the
 * first assignment, or between a revocation and the next assignment) is not done:
 * the partitions are on their way to us. */
static bool all_done(struct kafka_source *ks) {
    int owned = 0;
    for (size_t p = 0; p < ks->nparts; p++) {
        if (!ks->parts[p].assigned) continue;
        owned++;
        if (!partition_done(&ks->parts[p])) return false;
    }
    return owned > 0;
}

void ss_source_kafka_drain(struct ss_source *src) {
    struct kafka_source *ks = (struct kafka_source *)src;
    atomic_store(&ks->drain, true);
}

/* A whole-topic input takes every partition of its topic from the beginning. */
static int take_whole(struct kafka_source *ks, struct ss_err *err) {
    int n = ks->whole_parts;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(n);
    int32_t *ids = ss_malloc((size_t)n * sizeof *ids);
    for (int p = 0; p < n; p++) {
        rd_kafka_topic_partition_list_add(list, ks->topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        ids[p] = p;
    }
    forward_partitions(ks, ids, n);
    savepoint_positions(ks, list);
    int64_t *from = ss_malloc((size_t)n * sizeof *from);
    for (int p = 0; p < n; p++) from[p] = list->elems[p].offset;
    rd_kafka_resp_err_t e = rd_kafka_assign(ks->rk, list);
    if (!e) {
        ks->whole_parts = 0;
        took_partitions(ks, list, ids, n, "NONE");
        for (int p = 0; p < n; p++)
            if (from[p] >= 0) part_of(ks, p)->start = from[p];
    }
    ss_free(from);
    rd_kafka_topic_partition_list_destroy(list);
    ss_free(ids);
    if (e)
        return ss_err_set(err, SS_ERROR, "cannot take the partitions of Kafka topic %s: %s", ks->topic,
                          rd_kafka_err2str(e));
    return SS_OK;
}

static bool owns_none(const struct kafka_source *ks) {
    for (size_t p = 0; p < ks->nparts; p++)
        if (ks->parts[p].assigned) return false;
    return true;
}

enum { TAKE_GO = 0, TAKE_STOP = 1 };

/* One message from either queue: kept for the batch, or noted (the end of a partition,
 * a consumer error). TAKE_GO, TAKE_STOP once every partition is done, or an error. */
static int take_msg(struct kafka_source *ks, struct kmsg km, struct ss_err *err) {
    if (km.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        struct kpart *kp = part_of(ks, km.partition);
        if (kp->assigned) check_position(ks, kp, km.partition, km.offset);
        if (km.offset > kp->eof_at) kp->eof_at = km.offset;
        rd_kafka_message_destroy(km.m);
        /* The end is past the last record when offsets that are no records come last:
         * the commit and abort markers of transactions, aborted records. Committed at
         * "last record + 1", the group kept a lag for good on a topic read to its end
         * (one per transaction marker), and lag alerts fired. Every record before this
         * event has been taken (one queue, in order), so an empty record at end - 1
         * (skipped, as a tombstone is) moves the committed position to the end. */
        if (km.offset > 0 && km.offset > kp->pos && kp->assigned) {
            ks->msgs[ks->nmsgs++] = (struct kmsg){NULL, "", 0, km.offset - 1, km.partition, RD_KAFKA_RESP_ERR_NO_ERROR};
            kp->pos = km.offset;
        }
        return ks->exit_at_end && all_done(ks) ? TAKE_STOP : TAKE_GO;
    }
    if (km.err) {
        rd_kafka_resp_err_t e = km.err;
        int32_t p = km.partition;
        rd_kafka_message_destroy(km.m);
        if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || e == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
            return ss_err_set(err, SS_EIO, "Kafka topic %s: %s", ks->topic, rd_kafka_err2str(e));
        /* A dead consumer reaches us here too, not only through error_cb: as a warning
         * the process went on consuming nothing, for ever. */
        if (e == RD_KAFKA_RESP_ERR__FATAL) {
            if (!note_fatal(ks))
                return ss_err_set(err, SS_ERROR, "Kafka consumer of %s failed: %s", ks->topic, rd_kafka_err2str(e));
            return ss_err_set(err, ks->fatal_rc, "%s", ks->fatal_msg);
        }
        ss_warn(comp, "msg=\"consumer error\" topic=%s partition=%d err=\"%s\"", ks->topic, (int)p,
                rd_kafka_err2str(e));
        return TAKE_GO;
    }
    struct kpart *kp = part_of(ks, km.partition);
    check_position(ks, kp, km.partition, km.offset);
    if (ks->exit_at_end && kp->end >= 0 && km.offset >= kp->end) {
        rd_kafka_message_destroy(km.m);
        stop_at_end(ks, kp, km.partition, km.offset);
        return all_done(ks) ? TAKE_STOP : TAKE_GO;
    }
    ks->msgs[ks->nmsgs++] = km;
    kp->pos = km.offset + 1; /* handed out at the end of this poll (handed) */
    return TAKE_GO;
}

/* On the decoding thread, while the engine processes the last batch (source.h). */
static void kafka_prefetch(struct ss_source *src) {
    struct kafka_source *ks = (struct kafka_source *)src;
    if (ks->npre || !ks->records) return;
    ssize_t n = rd_kafka_consume_batch_queue(ks->records, 0, ks->raw, SS_KAFKA_PREFETCH);
    for (ssize_t i = 0; i < n; i++) ks->pre[i] = kmsg_of(ks->raw[i]);
    ks->npre = n > 0 ? (int)n : 0;
}

/* A message longer than input.max_record_bytes (a topic whose max.message.bytes was
 * raised): its first bytes are a malformed dead letter, as a file's long line is, so
 * that no sink is handed more than it takes. The whole message stays at its offset. */
static void cut_record(const struct kafka_source *ks, struct ss_record *rec) {
    ss_warn(comp,
            "msg=\"a message longer than input.max_record_bytes: its first bytes go to the dead letters as "
            "malformed\" topic=%s partition=%d offset=%lld bytes=%zu max_record_bytes=%zu",
            ks->topic, (int)rec->partition, (long long)rec->offset, rec->len, ks->max_rec);
    rec->len = ks->max_rec;
    rec->cut = true;
}

static int kafka_poll(struct ss_source *src, struct ss_record *recs, int max, int timeout_ms, struct ss_err *err) {
    struct kafka_source *ks = (struct kafka_source *)src;
    retire_later(ks);
    if (ks->whole_parts > 0) {
        int rc = take_whole(ks, err);
        if (rc) return rc;
    }
    if (!ks->exit_at_end && atomic_load(&ks->drain)) {
        /* from now on the source is bounded at the offsets the partitions have now */
        ks->exit_at_end = true;
        for (size_t p = 0; p < ks->nparts; p++) {
            ks->parts[p].end = -1;
            if (ks->parts[p].assigned) query_end(ks, (int32_t)p);
        }
    }
    if (ks->fatal_rc) return ss_err_set(err, ks->fatal_rc, "%s", ks->fatal_msg);
    if (ks->exit_at_end && all_done(ks)) return SS_EOF;
    if (max <= 0) return 0;
    SS_GROW(ks->msgs, ks->cap_msgs, (size_t)max);

    /* The consumer queue first: rebalances (whose callbacks run here and drop the
     * records of partitions that leave), errors, the records of a partition that
     * could not be forwarded. Then the records kafka_prefetch took, then the rest of
     * what is there; waiting only while there is nothing at all. */
    int rc = TAKE_GO;
    rd_kafka_message_t *m;
    /* owning no partition, the next thing to come is an assignment: wait for it there */
    int wait = owns_none(ks) ? timeout_ms : 0;
    while (rc == TAKE_GO && ks->nmsgs < max && (m = rd_kafka_consumer_poll(ks->rk, wait))) {
        wait = 0;
        rc = take_msg(ks, kmsg_of(m), err);
    }
    int i = 0;
    for (; rc == TAKE_GO && i < ks->npre && ks->nmsgs < max; i++) {
        struct kmsg km = ks->pre[i];
        ks->pre[i].m = NULL;
        rc = take_msg(ks, km, err);
    }
    memmove(ks->pre, ks->pre + i, (size_t)(ks->npre - i) * sizeof *ks->pre);
    for (int k = ks->npre - i; k < ks->npre; k++) ks->pre[k].m = NULL;
    ks->npre -= i;
    wait = ks->nmsgs || owns_none(ks) ? 0 : timeout_ms;
    while (rc == TAKE_GO && ks->nmsgs < max && (m = rd_kafka_consume_queue(ks->records, wait))) {
        wait = 0;
        rc = take_msg(ks, kmsg_of(m), err);
    }
    if (rc < 0) {
        release_batch(ks);
        return rc;
    }
    if (ks->fatal_rc) {
        release_batch(ks);
        return ss_err_set(err, ks->fatal_rc, "%s", ks->fatal_msg);
    }
    /* a revocation inside the polls may have taken messages out (rebalance_cb) */
    for (int k = 0; k < ks->nmsgs; k++) {
        const struct kmsg *km = &ks->msgs[k];
        recs[k] = (struct ss_record){km->data, km->len, km->partition, false, false, km->offset};
        if (km->len > ks->max_rec) cut_record(ks, &recs[k]);
        part_of(ks, km->partition)->handed = km->offset + 1; /* pos: set by take_msg */
    }
    return ks->nmsgs;
}

static const char *kafka_name_of(const struct ss_source *src) { return ((const struct kafka_source *)src)->topic; }

static int kafka_commit(struct ss_source *src, const int64_t *next_offsets, const int32_t *partitions, int n,
                        struct ss_err *err) {
    struct kafka_source *ks = (struct kafka_source *)src;
    if (ks->whole) return SS_OK; /* read from the beginning every time: nothing to resume from */
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(n > 0 ? n : 1);
    for (int i = 0; i < n; i++) {
        /* a partition that moved to another member is that member's to commit */
        if (partitions[i] < 0 || (size_t)partitions[i] >= ks->nparts || !ks->parts[partitions[i]].assigned) continue;
        /* an idle partition is not committed again: every commit is a request the group
         * coordinator may refuse while a rebalance is under way (ILLEGAL_GENERATION), and
         * librdkafka answers that refusal by declaring the partitions lost */
        if (next_offsets[i] <= 0 || next_offsets[i] == ks->parts[partitions[i]].committed) continue;
        rd_kafka_topic_partition_t *el = rd_kafka_topic_partition_list_add(list, ks->topic, partitions[i]);
        el->offset = next_offsets[i];
        if (ks->writer) { /* freed with the list, by librdkafka: its allocator is malloc */
            el->metadata_size = strlen(ks->writer);
            el->metadata = malloc(el->metadata_size);
            if (el->metadata) memcpy(el->metadata, ks->writer, el->metadata_size);
            else el->metadata_size = 0;
        }
    }
    int rc = SS_OK;
    if (list->cnt > 0) {
        rd_kafka_resp_err_t e = rd_kafka_commit(ks->rk, list, 0);
        for (int i = 0; !e && i < list->cnt; i++) e = list->elems[i].err;
        if (!e)
            for (int i = 0; i < list->cnt; i++) part_of(ks, list->elems[i].partition)->committed = list->elems[i].offset;
        if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
            rc = ss_err_set(err, SS_RETRY, "cannot commit offsets of Kafka topic %s: %s", ks->topic,
                            rd_kafka_err2str(e));
    }
    rd_kafka_topic_partition_list_destroy(list);
    return rc;
}

static void kafka_set_hooks(struct ss_source *src, const struct ss_source_hooks *hooks) {
    ((struct kafka_source *)src)->hooks = *hooks;
}

static int kafka_lag(struct ss_source *src, int32_t *partitions, int64_t *lag, int max) {
    struct kafka_source *ks = (struct kafka_source *)src;
    int k = 0;
    for (size_t p = 0; p < ks->nparts && k < max; p++) {
        if (!ks->parts[p].assigned) continue;
        int64_t lo = -1, hi = -1;
        rd_kafka_get_watermark_offsets(ks->rk, ks->topic, (int32_t)p, &lo, &hi);
        int64_t pos = ks->parts[p].pos;
        if (pos < 0) {
            rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(l, ks->topic, (int32_t)p);
            if (rd_kafka_position(ks->rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR && l->elems[0].offset >= 0)
                pos = l->elems[0].offset;
            rd_kafka_topic_partition_list_destroy(l);
        }
        if (pos < 0) pos = lo; /* nothing read yet: everything retained is behind */
        partitions[k] = (int32_t)p;
        lag[k++] = hi >= 0 && pos >= 0 && hi > pos ? hi - pos : 0;
    }
    return k;
}

static void pause_resume(struct kafka_source *ks, bool pause) {
    ks->paused = pause;
    rd_kafka_topic_partition_list_t *list = NULL;
    if (rd_kafka_assignment(ks->rk, &list) != RD_KAFKA_RESP_ERR_NO_ERROR || !list) return;
    if (!pause) { /* a partition stopped at its end (stop_at_end) stays paused */
        rd_kafka_topic_partition_list_t *go = rd_kafka_topic_partition_list_new(list->cnt > 0 ? list->cnt : 1);
        for (int i = 0; i < list->cnt; i++) {
            int32_t p = list->elems[i].partition;
            if (strcmp(list->elems[i].topic, ks->topic) || p < 0 || (size_t)p >= ks->nparts || !ks->parts[p].stopped)
                rd_kafka_topic_partition_list_add(go, list->elems[i].topic, p);
        }
        rd_kafka_topic_partition_list_destroy(list);
        list = go;
    }
    rd_kafka_resp_err_t e = pause ? rd_kafka_pause_partitions(ks->rk, list) : rd_kafka_resume_partitions(ks->rk, list);
    if (e) ss_warn(comp, "msg=\"cannot %s partitions\" topic=%s err=\"%s\"", pause ? "pause" : "resume", ks->topic,
                   rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(list);
}

static void kafka_pause(struct ss_source *src) { pause_resume((struct kafka_source *)src, true); }
static void kafka_resume(struct ss_source *src) { pause_resume((struct kafka_source *)src, false); }

/* How long closing waits for librdkafka to let go of the consumer. */
#define DESTROY_WAIT_MS 15000

struct destroyer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rd_kafka_t *rk;
    bool done;
};

static void *destroy_main(void *arg) {
    struct destroyer *d = arg;
    rd_kafka_destroy(d->rk);
    pthread_mutex_lock(&d->mu);
    d->done = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* rd_kafka_destroy, given up after DESTROY_WAIT_MS. librdkafka 2.0.2 (Debian 12's) never
 * finishes destroying a consumer whose partition was deleted from the cluster while it
 * was consumed: an op in the partition's own fetch queue holds the partition, and its
 * broker thread waits for it for ever (fixed in librdkafka 2.6.1, #4724). The process
 * had printed its error and committed what it could, then hung instead of exiting 1.
 * The run is over by the time a source closes, so the process goes on without it; the
 * waiting thread and its consumer are left to the process's exit. */
static void destroy_bounded(rd_kafka_t *rk, const char *topic) {
    struct destroyer *d = ss_calloc(1, sizeof *d);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    d->rk = rk;
    pthread_t t;
    if (ss_thread_create(&t, "ss-kafka-close", destroy_main, d) != 0) {
        rd_kafka_destroy(rk);
        goto done;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += DESTROY_WAIT_MS / 1000;
    pthread_mutex_lock(&d->mu);
    int rc = 0;
    while (!d->done && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&d->cv, &d->mu, &until);
    bool done = d->done;
    pthread_mutex_unlock(&d->mu);
    if (!done) {
        pthread_detach(t);
        ss_warn(comp, "msg=\"the Kafka consumer did not shut down (librdkafka 2.0.2 cannot once a partition it read "
                      "was deleted); exiting without it\" topic=%s waited_s=%d",
                topic, DESTROY_WAIT_MS / 1000);
        return; /* d stays with the thread */
    }
    pthread_join(t, NULL);
done:
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    ss_free(d);
}

static void kafka_close(struct ss_source *src) {
    struct kafka_source *ks = (struct kafka_source *)src;
    release_batch(ks);
    if (ks->rk) {
        /* the engine has committed its last epoch and may be half torn down: the
         * final revocation inside consumer_close must not call back into it */
        ks->hooks = (struct ss_source_hooks){0};
        ks->closing = true;
        if (ks->records) rd_kafka_queue_destroy(ks->records);
        ks->records = NULL;
        rd_kafka_consumer_close(ks->rk);
        destroy_bounded(ks->rk, ks->topic);
    }
    ss_free(ks->msgs);
    ss_free(ks->old);
    ss_free(ks->pre);
    ss_free(ks->raw);
    ss_free(ks->parts);
    ss_free(ks->brokers);
    ss_free(ks->topic);
    ss_free(ks->writer);
    ss_free(ks);
}

const struct ss_source_type ss_source_kafka = {
    .name = "kafka",
    .open = kafka_open,
    .poll = kafka_poll,
    .name_of = kafka_name_of,
    .commit = kafka_commit,
    .set_hooks = kafka_set_hooks,
    .lag = kafka_lag,
    .pause = kafka_pause,
    .resume = kafka_resume,
    .set_writer = kafka_set_writer,
    .start_at = kafka_start_at,
    .retire = kafka_retire,
    .check = kafka_check,
    .prefetch = kafka_prefetch,
    .close = kafka_close,
};
