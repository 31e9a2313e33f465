/* fake_source.h — a source of our own, standing in for a Kafka consumer group's
 * partitions in the engine's tests: it keeps the hooks the engine installs and the
 * highest offset committed per partition; the test supplies poll and embeds it first
 * in a struct of its own. */
#ifndef SS_FAKE_SOURCE_H
#define SS_FAKE_SOURCE_H

#include "source/source.h"

#define FAKE_PARTS 2

struct fake_source {
    struct ss_source base;
    struct ss_source_hooks hooks;
    int64_t committed[FAKE_PARTS]; /* the highest next offset committed per partition, -1: none */
};

static inline const char *fake_name(const struct ss_source *src) {
    (void)src;
    return "fake";
}

static inline int fake_commit(struct ss_source *src, const int64_t *next_offsets, const int32_t *partitions, int n,
                              struct ss_err *err) {
    (void)err;
    struct fake_source *f = (struct fake_source *)src;
    for (int i = 0; i < n; i++)
        if (next_offsets[i] > f->committed[partitions[i]]) f->committed[partitions[i]] = next_offsets[i];
    return SS_OK;
}

static inline void fake_hooks(struct ss_source *src, const struct ss_source_hooks *hooks) {
    ((struct fake_source *)src)->hooks = *hooks;
}

static inline void fake_close(struct ss_source *src) { (void)src; }

#define FAKE_SOURCE_TYPE(poll_fn)                                                                          \
    {                                                                                                      \
        .name = "fake", .poll = (poll_fn), .name_of = fake_name, .commit = fake_commit, .set_hooks = fake_hooks, \
        .close = fake_close,                                                                               \
    }

#endif
