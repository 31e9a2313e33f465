/* user_lists.h — each user's recently viewed list, as the operations endpoint serves it
 * (`/api/users/{id}/recently-viewed`, DESIGN §8).
 *
 * Folded from the recently_viewed rows of committed epochs (a state stream: the last row
 * per user is the user's list), not read from the operator, so what the endpoint says
 * is what the sinks hold, and the HTTP thread touches nothing of the engine's. A list
 * goes once its ttl has passed, by the rule the operator drops it by (last_view_ts +
 * recent.ttl < W): the endpoint answers what a Redis sink's key would. The final epoch
 * of a bounded run (W = +inf: the input ended, no time passed) expires nothing.
 *
 * Memory: each live list as its row's JSON, with its interned id and deadline: ~250
 * bytes per user (570K users: 145 MB), more than the operator's own state; hence
 * opt-in (metrics:...?recently_viewed=on). */
#ifndef SS_USER_LISTS_H
#define SS_USER_LISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/str.h"
#include "../core/table.h"

struct ss_user_lists;

struct ss_user_lists *ss_user_lists_new(int64_t ttl_ms);
void ss_user_lists_free(struct ss_user_lists *ul);
/* Takes in o's recently_viewed rows (in order: the last per user wins; o may be NULL: no
 * rows), then drops the lists whose ttl has passed at watermark w. A user's last_view_ts
 * must never go back from row to row, as recent.c writes them (the newest view in the
 * list): one deadline per list is queued, and moved only later. */
void ss_user_lists_apply(struct ss_user_lists *ul, const struct ss_out *o, int64_t w);
/* Appends user's list as its recently_viewed row in JSON ({"user_id":..,"products":[..],
 * "last_view_ts":..}, as recently_viewed.jsonl has it); false when user has none. */
bool ss_user_lists_get(const struct ss_user_lists *ul, struct ss_str user, struct ss_buf *out);
size_t ss_user_lists_count(const struct ss_user_lists *ul);
size_t ss_user_lists_bytes(const struct ss_user_lists *ul);

#endif
