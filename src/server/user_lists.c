/* user_lists.c — each user's recently viewed list for the operations endpoint (see
 * user_lists.h). Users are interned (ids dense, reused after a list goes), so a list is
 * found by one interner lookup and an array index; expiry takes deadlines off a
 * dueheap, one entry per list, re-queued when it comes up refreshed (as recent.c does)
 * so that a list updated every epoch does not leave an entry per update behind. */
#include "user_lists.h"

#include <string.h>

#include "../core/alloc.h"
#include "../core/intern.h"
#include "../sink/rowjson.h"
#include "../state/dueheap.h"
#include "../state/winheap.h"

struct list {
    char *json;          /* the row as JSON; NULL: no list */
    size_t len;
    int64_t last_view_ts;
    bool queued;         /* has a dueheap entry */
};

struct ss_user_lists {
    int64_t ttl;
    struct ss_intern *users;
    struct list *lists;  /* by interned id */
    size_t cap;
    size_t count, bytes;
    struct ss_dueheap due; /* (deadline, id) */
    struct ss_buf scratch;
};

struct ss_user_lists *ss_user_lists_new(int64_t ttl_ms) {
    struct ss_user_lists *ul = ss_calloc(1, sizeof *ul);
    ul->ttl = ttl_ms;
    ul->users = ss_intern_new();
    return ul;
}

void ss_user_lists_free(struct ss_user_lists *ul) {
    if (!ul) return;
    for (size_t i = 0; i < ul->cap; i++) ss_free(ul->lists[i].json);
    ss_free(ul->lists);
    ss_intern_free(ul->users);
    ss_dueheap_free(&ul->due);
    ss_buf_free(&ul->scratch);
    ss_free(ul);
}

static void drop(struct ss_user_lists *ul, uint32_t id) {
    struct list *l = &ul->lists[id];
    ul->bytes -= l->len;
    ul->count--;
    ss_free(l->json);
    *l = (struct list){0};
    ss_intern_drop(ul->users, id);
}

static void put(struct ss_user_lists *ul, const struct ss_val *row) {
    struct ss_str user = {row[SS_RV_USER_ID].s, row[SS_RV_USER_ID].len};
    uint32_t id = ss_intern_get(ul->users, user);
    if (id >= ul->cap) {
        size_t old = ul->cap;
        SS_GROW(ul->lists, ul->cap, (size_t)id + 1);
        memset(ul->lists + old, 0, (ul->cap - old) * sizeof *ul->lists);
    }
    struct list *l = &ul->lists[id];
    if (!l->json) {
        ss_intern_hold(ul->users, id);
        ul->count++;
    }
    ul->scratch.len = 0;
    ss_row_to_json(&ss_tables[SS_T_RECENTLY_VIEWED], row, &ul->scratch);
    ul->bytes += ul->scratch.len - l->len;
    l->json = ss_realloc(l->json, ul->scratch.len);
    memcpy(l->json, ul->scratch.p, ul->scratch.len);
    l->len = ul->scratch.len;
    l->last_view_ts = row[SS_RV_LAST_VIEW_TS].i;
    if (!l->queued) {
        ss_dueheap_push(&ul->due, ss_sat_add(l->last_view_ts, ul->ttl), id, id);
        l->queued = true;
    }
}

void ss_user_lists_apply(struct ss_user_lists *ul, const struct ss_out *o, int64_t w) {
    size_t n = o ? o->t[SS_T_RECENTLY_VIEWED].n : 0;
    for (size_t i = 0; i < n; i++) put(ul, ss_out_get(o, SS_T_RECENTLY_VIEWED, i));
    if (w != INT64_MAX) {
        while (ss_dueheap_due_before(&ul->due, w)) {
            struct ss_due d = ss_dueheap_pop(&ul->due);
            struct list *l = &ul->lists[d.slot];
            l->queued = false;
            int64_t at = ss_sat_add(l->last_view_ts, ul->ttl);
            if (at < w) {
                drop(ul, d.slot);
            } else { /* viewed again since it was queued */
                ss_dueheap_push(&ul->due, at, d.slot, d.slot);
                l->queued = true;
            }
        }
    }
    ss_intern_sweep(ul->users);
}

bool ss_user_lists_get(const struct ss_user_lists *ul, struct ss_str user, struct ss_buf *out) {
    uint32_t id = ss_intern_find(ul->users, user);
    if (!id || id >= ul->cap || !ul->lists[id].json) return false;
    ss_buf_add(out, ul->lists[id].json, ul->lists[id].len);
    return true;
}

size_t ss_user_lists_count(const struct ss_user_lists *ul) { return ul->count; }

size_t ss_user_lists_bytes(const struct ss_user_lists *ul) {
    return ul->bytes + ul->cap * sizeof *ul->lists + ss_intern_bytes(ul->users) + ss_dueheap_bytes(&ul->due);
}
