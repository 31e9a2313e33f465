/* test_user_lists.c — users' recently viewed lists as the operations endpoint serves
 * them (server/user_lists.c): the last row per user wins, a list goes once
 * last_view_ts + ttl < W (the operator's rule, SEMANTICS §9) and not before, a list
 * viewed again stays, the final epoch (W = +inf) expires nothing, and memory comes back
 * when lists go. */
#include <stdio.h>
#include <string.h>

#include "core/table.h"
#include "server/user_lists.h"
#include "harness.h"
#include "../sink_rows.h"

/* the list of user as JSON, or "" when there is none */
static struct ss_buf list_buf;
static const char *list_of(const struct ss_user_lists *ul, const char *user) {
    list_buf.len = 0;
    if (!ss_user_lists_get(ul, ss_str_c(user), &list_buf)) return "";
    ss_buf_addc(&list_buf, '\0');
    return list_buf.p;
}

TEST(last_row_wins_and_ttl) {
    struct ss_user_lists *ul = ss_user_lists_new(10000);
    struct ss_out o;
    ss_out_init(&o);
    rv_row(&o, "u1", "[\"p1\"]", 1000);
    rv_row(&o, "u2", "[\"p2\"]", 5000);
    rv_row(&o, "u1", "[\"p3\",\"p1\"]", 2000); /* a second row in one epoch: the later wins */
    ss_user_lists_apply(ul, &o, 0);
    CHECK_EQ_INT(ss_user_lists_count(ul), 2);
    CHECK_EQ_STR(list_of(ul, "u1"),
                 "{\"user_id\":\"u1\",\"products\":\"[\\\"p3\\\",\\\"p1\\\"]\",\"last_view_ts\":\"1970-01-01T00:00:02.000Z\"}");
    CHECK_EQ_STR(list_of(ul, "u9"), "");
    /* u1's ttl passes at W > 12000: W = 12000 keeps it (12000 < 12000 is false) */
    ss_out_clear(&o);
    ss_user_lists_apply(ul, &o, 12000);
    CHECK(*list_of(ul, "u1"));
    ss_user_lists_apply(ul, NULL, 12001);
    CHECK_EQ_STR(list_of(ul, "u1"), "");
    CHECK(*list_of(ul, "u2"));
    CHECK_EQ_INT(ss_user_lists_count(ul), 1);
    /* u2 viewed again at 20000: its first deadline (15000) comes up and is put back */
    rv_row(&o, "u2", "[\"p4\",\"p2\"]", 20000);
    ss_user_lists_apply(ul, &o, 14000);
    ss_out_clear(&o);
    ss_user_lists_apply(ul, &o, 15001);
    CHECK(strstr(list_of(ul, "u2"), "p4") != NULL);
    /* the end of a bounded run is no time passing */
    ss_user_lists_apply(ul, &o, INT64_MAX);
    CHECK(*list_of(ul, "u2"));
    ss_user_lists_apply(ul, &o, 30001);
    CHECK_EQ_STR(list_of(ul, "u2"), "");
    CHECK_EQ_INT(ss_user_lists_count(ul), 0);
    /* a user who comes back after the list went starts a new one */
    rv_row(&o, "u1", "[\"p5\"]", 40000);
    ss_user_lists_apply(ul, &o, 30001);
    CHECK(strstr(list_of(ul, "u1"), "p5") != NULL);
    ss_out_free(&o);
    ss_user_lists_free(ul);
}

/* Ids of any bytes ('/', quotes, UTF-8) are keys as they are, escaped in the JSON. */
TEST(odd_ids) {
    struct ss_user_lists *ul = ss_user_lists_new(1000);
    struct ss_out o;
    ss_out_init(&o);
    rv_row(&o, "a/b", "[]", 1);
    rv_row(&o, "q\"x", "[]", 1);
    rv_row(&o, "\xC3\xA9t\xC3\xA9", "[]", 1);
    ss_user_lists_apply(ul, &o, 0);
    CHECK(strstr(list_of(ul, "a/b"), "\"user_id\":\"a/b\"") != NULL);
    CHECK(strstr(list_of(ul, "q\"x"), "\"user_id\":\"q\\\"x\"") != NULL);
    CHECK(*list_of(ul, "\xC3\xA9t\xC3\xA9"));
    CHECK_EQ_STR(list_of(ul, "a"), "");
    ss_out_free(&o);
    ss_user_lists_free(ul);
}

/* Many users come and go: every list goes at its deadline, and the memory held comes
 * back to what an empty table holds (ids reused, entries freed). */
TEST(churn_is_bounded) {
    struct ss_user_lists *ul = ss_user_lists_new(60000);
    struct ss_out o;
    ss_out_init(&o);
    size_t peak = 0, after_first = 0;
    for (int round = 0; round < 20; round++) {
        ss_out_clear(&o);
        int64_t t = (int64_t)round * 120000;
        for (int i = 0; i < 5000; i++) {
            char u[32];
            snprintf(u, sizeof u, "r%d-u%d", round, i);
            rv_row(&o, u, "[\"p1\",\"p2\",\"p3\"]", t + i);
        }
        ss_user_lists_apply(ul, &o, t);
        CHECK_EQ_INT(ss_user_lists_count(ul), 5000); /* the last round's went at t */
        size_t b = ss_user_lists_bytes(ul);
        if (b > peak) peak = b;
        if (round == 1) after_first = b;
    }
    CHECK(peak <= after_first + after_first / 4);
    ss_user_lists_apply(ul, NULL, 19 * 120000 + 60000 + 5000);
    CHECK_EQ_INT(ss_user_lists_count(ul), 0);
    ss_out_free(&o);
    ss_user_lists_free(ul);
}

int main(void) {
    RUN(last_row_wins_and_ttl);
    RUN(odd_ids);
    RUN(churn_is_bounded);
    ss_buf_free(&list_buf);
    return ss_t_report("user_lists");
}
