#!/usr/bin/env bash
# 0201 — the Redis sink against a real, private redis-server (scripts/redis-test-server,
# AOF on), driven directly by tests/e2e/drivers/redis_sink_driver.c:
#  - recently viewed lists (most recent first, JSON escapes unescaped, TTL 24 h refreshed,
#    an empty list removes the key);
#  - live counters: window rows as hashes + per-window ZSETs, provisional then final,
#    the last row of a key within an epoch winning, a trending product leaving the top list,
#    a null ratio absent, the window index, alerts list and counters, dlq/late/session/promo
#    counters, TTLs;
#  - epoch fencing: a replayed epoch (same rows or other rows) changes nothing, counts nothing twice;
#    a second writer on the same database is stopped with a message (tests/e2e/drivers/fence_driver.c);
#  - Redis shut down between epochs (SS_RETRY, start again, AOF reloaded, retry) and
#    crashed with SIGKILL during an epoch: nothing lost, nothing counted twice;
#  - an unreachable server at start: SS_RETRY naming host:port; a bad URL: SS_EUSAGE.
# requires: redis
source "$(dirname "$0")/lib.sh"

DRV=$(build_driver redis_sink_driver) || fail "cannot build the Redis driver"

RT="$REPO_DIR/scripts/redis-test-server"
RDIR="$T/redis"
_redis_cleanup() { "$RT" stop "$RDIR" >/dev/null 2>&1 || true; _e2e_cleanup; }
trap _redis_cleanup EXIT
PORT=$("$RT" start "$RDIR") || fail "cannot start redis-server"
URL="redis://127.0.0.1:$PORT"
note "server $URL"

DB=0
r() { redis-cli -h 127.0.0.1 -p "$PORT" -n "$DB" "$@"; }
# expect EXPECTED REDIS-COMMAND...: the reply lines joined with |
expect() {
    local want=$1; shift
    local got
    got=$(r "$@" | paste -sd'|') || fail "redis-cli $* failed"
    [ "$got" = "$want" ] || fail "redis-cli $*
  expected: $want
  got:      $got"
}
# expect_ttl KEY LOW HIGH: the TTL in seconds lies in [LOW, HIGH]
expect_ttl() {
    local t; t=$(r TTL "$1")
    [ "$t" -ge "$2" ] && [ "$t" -le "$3" ] || fail "TTL of $1 is $t, expected $2..$3"
}
epoch() { # epoch N [other]: commit; must answer code=0
    local out; out=$("$DRV" epoch "$URL/$DB" "$@" 2>"$T/drv.err") || { cat "$T/drv.err" >&2; fail "epoch $*: $out"; }
    [ "$out" = "code=0 msg=" ] || fail "epoch $*: $out"
}
snapshot() { # every key with its type, value and (rounded) TTL, in key order
    r --scan --pattern 'shopstream:*' | sort | while read -r k; do
        case "$(r TYPE "$k")" in
            string) v=$(r GET "$k") ;;
            list) v=$(r LRANGE "$k" 0 -1 | paste -sd'|') ;;
            hash) v=$(r HGETALL "$k" | paste -sd'|' | sed 's/|committed_at|[^|]*//') ;;
            zset) v=$(r ZRANGE "$k" 0 -1 WITHSCORES | paste -sd'|') ;;
        esac
        t=$(r TTL "$k"); [ "$t" -gt 0 ] && t=ttl
        echo "$k=$v ($t)"
    done
}

W=2026-11-27T10:30:00.000Z
CR=shopstream:category_revenue
TP=shopstream:trending_products:2026-11-27T10:21:00.000Z
FN=shopstream:funnel:2026-11-27T10:00:00.000Z
HF="window_end revenue orders units views cart_adds buyers final" # the key holds window_start, category

# ---- epoch 1: provisional rows ----------------------------------------------------------
epoch 1
expect "2026-11-27T10:31:00.000Z|246.90|2|4|10|3|2|false" HMGET "$CR:$W:books" $HF
expect "0" HEXISTS "$CR:$W:books" window_start
expect "0" HEXISTS "$CR:$W:books" category
expect "books|24690|toys|100" ZREVRANGE "$CR:$W" 0 -1 WITHSCORES
expect "pA|1|pB|2|pC|3" ZRANGE "$TP" 0 -1 WITHSCORES
expect "3|0.6667||false" HMGET "$FN" viewers view_to_cart cart_to_purchase final
expect "0" HEXISTS "$FN" cart_to_purchase
expect "p2|p1" LRANGE shopstream:recent:u1 0 -1
# escapes: a"b, c\d, é😀, t<TAB>x/
[ "$(r LRANGE shopstream:recent:u2 0 -1 | od -An -tx1 | tr -d ' \n')" = \
  "$(printf 'a"b\nc\\d\n\xc3\xa9\xf0\x9f\x98\x80\nt\tx/\n' | od -An -tx1 | tr -d ' \n')" ] ||
    fail "recent:u2 is $(r LRANGE shopstream:recent:u2 0 -1 | od -c)"
expect_ttl shopstream:recent:u1 86300 86400
expect_ttl "$CR:$W:books" 172700 172800
expect_ttl "$CR:$W" 172700 172800
expect_ttl "$TP:pA" 172700 172800
expect "2" LLEN shopstream:alerts
expect '{"alert_id":"velocity:u1:1","kind":"velocity","user_id":"u1","order_id":null,"amount":"0.00","ts":"2026-11-27T10:30:00.003Z","detail":"{\"threshold\":\"1000.00\"}"}' LINDEX shopstream:alerts 0
expect "1|1" HMGET shopstream:alerts:count high_value_order velocity
expect "2|1" HMGET shopstream:dlq:count malformed bad_ts
expect "2" GET shopstream:late:count
expect "2|1" HMGET shopstream:sessions:count sessions converted
expect "2" HGET shopstream:promo_matches:count promo1
expect "100|97|0.9700" HMGET "shopstream:data_quality:$W" total valid quality_score
expect "1|2026-11-27T10:15:00.000Z|100|97|3" HMGET shopstream:run epoch watermark records valid invalid
expect "1" GET shopstream:epoch
expect "2026-11-27T10:00:00.000Z|1795773600000" ZRANGE shopstream:windows:funnel 0 -1 WITHSCORES
expect "2026-11-27T10:21:00.000Z" ZRANGE shopstream:windows:trending_products 0 -1
note "epoch 1 (provisional rows, recent lists, counters, TTLs): ok"

# ---- epoch 2: final rows, a product leaves the top list, a list dropped --------------------
# shorten two TTLs: the update must refresh them
r PEXPIRE shopstream:recent:u1 5000 >/dev/null
r PEXPIRE "$CR:$W:books" 5000 >/dev/null
epoch 2
expect_ttl shopstream:recent:u1 86300 86400
expect_ttl "$CR:$W:books" 172700 172800
expect "370.35|3|true" HMGET "$CR:$W:books" revenue orders final
expect "books|37035|toys|100" ZREVRANGE "$CR:$W" 0 -1 WITHSCORES
expect "0.05|false" HMGET "$CR:2026-11-27T10:31:00.000Z:books" revenue final
expect "2026-11-27T10:31:00.000Z|2026-11-27T10:30:00.000Z" ZREVRANGE shopstream:windows:category_revenue 0 -1
expect "pB|1|pA|2" ZRANGE "$TP" 0 -1 WITHSCORES
expect "7|1|true" HMGET "$TP:pB" views rank final
expect "0.5000|true" HMGET "$FN" cart_to_purchase final
expect "p3|p2|p1" LRANGE shopstream:recent:u1 0 -1
expect "0" EXISTS shopstream:recent:u3
expect "3" LLEN shopstream:alerts
[ "$(r LINDEX shopstream:alerts 0 | grep -c '"alert_id":"high_value_order:e10"')" = 1 ] || fail "newest alert not first"
expect "2|1" HMGET shopstream:alerts:count high_value_order velocity
expect "3|1" HMGET shopstream:dlq:count malformed bad_ts
expect "2" GET shopstream:epoch
note "epoch 2 (final rows, top list replaced, dropped list): ok"

# ---- replays: same rows, other rows, an older epoch: nothing changes, nothing counted twice --
before=$(snapshot)
[ "$(echo "$before" | wc -l)" -ge 20 ] || fail "snapshot too small: $before"
epoch 2
epoch 2 other
epoch 1
epoch 1 other
after=$(snapshot)
[ "$after" = "$before" ] || fail "a replayed epoch changed Redis:
$(diff <(echo "$before") <(echo "$after"))"
expect "0" EXISTS "$CR:$W:garden"
expect "2" GET shopstream:epoch
note "replays of epochs 1 and 2 (same and other rows): nothing changed"

# a foreign value in the fence key: a clear error, nothing written
r SET shopstream:epoch banana >/dev/null
out=$("$DRV" epoch "$URL/$DB" 3 2>/dev/null) && fail "epoch over a foreign fence value succeeded: $out"
case "$out" in *"shopstream:epoch holds \"banana\""*) ;; *) fail "unclear message for a foreign fence value: $out" ;; esac
r SET shopstream:epoch 2 >/dev/null

# two writers on one database (database 3): the second is stopped, naming the cause;
# the first goes on; nothing of the second is stored
FDRV=$(build_driver fence_driver) || fail "cannot build the fence driver"
"$FDRV" two-writers "$URL/3" >"$T/fence.out" 2>&1 || { cat "$T/fence.out" >&2; fail "two writers: fence driver failed"; }
DB=3
expect "1" EXISTS shopstream:recent:fence-a
expect "0" EXISTS shopstream:recent:fence-b
expect "2" GET shopstream:epoch
DB=0
note "two writers: $(grep "^B:" "$T/fence.out" | cut -c1-220)"

# ---- restart and crash: nothing lost, nothing counted twice (database 1) --------------------
USERS=20000; [ "$E2E_QUICK" = 1 ] && USERS=4000
DB=1
"$DRV" restart "$URL/1" "'$RT' stop '$RDIR'" "'$RT' start '$RDIR' >/dev/null" "'$RT' kill '$RDIR'" $USERS \
    >"$T/restart.out" 2>"$T/restart.err" || { cat "$T/restart.out" "$T/restart.err" >&2; fail "restart driver failed"; }
sed 's/^/    /' "$T/restart.out"
grep -q "^epoch 2 while down: SS_RETRY: .*127.0.0.1:$PORT/1" "$T/restart.out" || fail "no SS_RETRY naming the server while it was down"
# epoch e writes users [(e-1)U/2, (e-1)U/2 + U): all of [0, 2U) exist; the last writer of a
# user is the highest epoch covering it.
N=$(r --scan --pattern 'shopstream:recent:*' | wc -l)
[ "$N" = $((2 * USERS)) ] || fail "recent lists: $N, expected $((2 * USERS))"
expect "p0|p1|e1" LRANGE shopstream:recent:u0000000 0 -1
expect "p$(( (USERS / 2) % 50 ))|p$(( (USERS / 2 + 1) % 50 ))|e2" LRANGE "shopstream:recent:u$(printf %07d $((USERS / 2)))" 0 -1
last=$((2 * USERS - 1))
expect "p$((last % 50))|p$(( (last + 1) % 50 ))|e3" LRANGE "shopstream:recent:u$(printf %07d $last)" 0 -1
expect_ttl "shopstream:recent:u$(printf %07d $last)" 86300 86400
# one alert and one dlq row per 1000 users of each epoch: counted exactly once
A=$(( 3 * ( (USERS + 999) / 1000 ) ))
expect "$A" HGET shopstream:alerts:count velocity
expect "$A" HGET shopstream:dlq:count malformed
expect "$A" LLEN shopstream:alerts
expect "3" GET shopstream:epoch
expect "300.03|3" HMGET "shopstream:category_revenue:2026-11-27T10:33:00.000Z:c3" revenue orders
note "restart + crash: $N lists, $A alerts, epoch 3: nothing lost, nothing twice"

# ---- unreachable at start; bad URLs ---------------------------------------------------------
"$RT" stop "$RDIR"
rc=0; out=$("$DRV" open "$URL" 2>/dev/null) || rc=$?
[ $rc -eq 3 ] || fail "unreachable server: exit $rc, expected 3 (SS_RETRY): $out"
case "$out" in *"cannot connect to Redis 127.0.0.1:$PORT/0"*) ;; *) fail "unclear message for an unreachable server: $out" ;; esac
note "unreachable: $out"
for bad in "redis://127.0.0.1:notaport" "redis://:pw@" "redis://127.0.0.1:6379/x" "redis://h:1?colour=blue" "redis://h:1?window_ttl=soon"; do
    rc=0; out=$("$DRV" open "$bad" 2>/dev/null) || rc=$?
    [ $rc -eq 2 ] || fail "bad URL $bad: exit $rc, expected 2: $out"
done
case "$out" in *"window_ttl=soon"*) ;; *) fail "bad window_ttl not named: $out" ;; esac
out=$("$DRV" open "redis://:secret@127.0.0.1:$PORT" 2>/dev/null) || true
case "$out" in *secret*) fail "the password leaked into a message: $out" ;; esac
note "bad URLs: SS_EUSAGE"
exit 0
