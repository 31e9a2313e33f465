/* recent.h — the recently-viewed operator's query side (SEMANTICS §9): a user's live
 * list, read in place. The unit tests read the operator's state through it; the HTTP
 * API of DESIGN §8 (/api/users/{id}/recently-viewed) would serve it, but is not built
 * yet (the Redis sink writes the lists from the operator's rows instead). The operator
 * itself is ss_op_recent (op.h). */
#ifndef SS_RECENT_H
#define SS_RECENT_H

#include <stdint.h>

#include "../core/str.h"
#include "op.h"

/* Fills products[0..max) with the user's list, most recent first, and *last_view_ts
 * (when not NULL) with the user's latest view; returns the list length written (0 when
 * the user has no list). The product strings are interned bytes: valid until the
 * operator next processes, advances or closes (same thread as the engine). */
int ss_recent_get(const struct ss_op *op, struct ss_str user_id, struct ss_str *products, int max,
                  int64_t *last_view_ts);

#endif
