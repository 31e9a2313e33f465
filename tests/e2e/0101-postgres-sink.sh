#!/usr/bin/env bash
# 0101 — the PostgreSQL sink against a real, private PostgreSQL server
# (scripts/pg-test-server), driven directly by tests/e2e/drivers/pg_sink_driver.c:
#  - schema created when absent, with the DESIGN §5 types and keys;
#  - provisional window rows updated in place, a final row never overwritten, the last
#    row of a key within one epoch winning, exact money / timestamp / JSON / null values,
#    bytes that need COPY escaping or UTF-8 sanitising;
#  - epoch fencing: a replayed epoch (or a whole replayed run) changes nothing; a second
#    writer on the same database waits for the first one's writer lock, and one past the lock
#    is stopped by the fence with a message (tests/e2e/drivers/fence_driver.c); two runs
#    on one database: the second waits, gives up after sink.connect_timeout naming the
#    first, which is not disturbed;
#  - a table with an incompatible schema: exit 2 naming the table and the column;
#  - the server crashed mid-epoch (pg_ctl stop -m immediate): SS_RETRY, restart, retry:
#    nothing lost, nothing duplicated;
#  - an unreachable server at start: SS_RETRY with a clear message.
# requires: postgres
source "$(dirname "$0")/lib.sh"

DRV=$(build_driver pg_sink_driver) || fail "cannot build the PostgreSQL driver"

pg_start
export PGTZ=UTC

# q DB SQL: the result as unaligned text, columns separated by |
q() { psql -X -q -At -F'|' -d "$1" -c "$2"; }
# expect DB SQL EXPECTED
expect() {
    local got
    got=$(q "$1" "$2") || fail "query failed: $2"
    [ "$got" = "$3" ] || fail "$2
  expected: $3
  got:      $got"
}

# ---- schema and values ------------------------------------------------------------
"$DRV" scenario "$URL" || fail "scenario driver failed"
DB=shopstream
expect $DB "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'alerts'::regclass AND attnum > 0 ORDER BY attnum" \
"text
text
text
text
numeric(18,2)
timestamp with time zone
jsonb"
expect $DB "SELECT string_agg(a.attname, ',' ORDER BY a.attnum) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = 'dlq'::regclass AND i.indisprimary" \
    "source,partition,offset"
expect $DB "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'" 13
expect $DB "SELECT to_regclass('events') IS NULL" t
# books: provisional 123.45 then 246.90 in epoch 1 (last wins), final 370.35 in epoch 2,
# a stale provisional row in epoch 3 ignored; toys final at once; a new provisional window.
expect $DB "SELECT window_start, category, window_end, revenue, orders, units, views, cart_adds, buyers, final FROM category_revenue ORDER BY window_start, category" \
"2026-11-27 10:30:00+00|books|2026-11-27 10:31:00+00|370.35|3|6|10|3|3|t
2026-11-27 10:30:00+00|toys|2026-11-27 10:31:00+00|1.00|1|2|10|3|1|t
2026-11-27 10:31:00+00|books|2026-11-27 10:32:00+00|0.05|1|2|10|3|1|f"
expect $DB "SELECT window_start, category = '', revenue, orders, units, buyers, final FROM hourly_sales" \
    "2026-11-27 10:00:00+00|t|-0.01|4|5|2|f"
expect $DB "SELECT window_start, product_id, window_end, rank, views, revenue, final FROM trending_products" \
    "2026-11-27 10:21:00+00|p-été|2026-11-27 10:31:00+00|1|43|19.99|t"
expect $DB "SELECT viewers, view_to_cart, cart_to_purchase IS NULL, final FROM funnel" "3|0.6667|t|f"
expect $DB "SELECT user_id, session_start, session_end, duration_s, events, purchases, revenue, converted FROM sessions" \
    "u1|2026-11-27 10:30:00+00|2026-11-27 10:31:01.5+00|61|3|1|15.00|t"
expect $DB "SELECT event_id, promo_id = E'promo\\t1', discount_pct, click_ts FROM promo_matches" \
    "e1|t|12.50|2026-11-27 10:30:00.001+00"
expect $DB "SELECT alert_id, order_id IS NULL, amount, ts, detail->>'threshold' FROM alerts WHERE kind = 'high_value_order'" \
    "high_value_order:e9|t|1234.57|2026-11-27 10:30:00.002+00|1000.00"
# 10000001.0000, 100000000.0000, -12345.6789, 0.0049, 9999999999999.9999 (rounds up)
expect $DB "SELECT alert_id, amount, ts, detail->>'range_ms' FROM alerts WHERE alert_id LIKE 'n%' ORDER BY alert_id" \
"n0|10000001.00|1969-12-31 23:59:59.999+00|600000
n1|100000000.00|1969-12-31 23:59:59.999+00|600000
n2|-12345.68|1969-12-31 23:59:59.999+00|600000
n3|0.00|1969-12-31 23:59:59.999+00|600000
n4|10000000000000.00|1969-12-31 23:59:59.999+00|600000"
expect $DB "SELECT total, valid, malformed, quality_score FROM data_quality" "100|97|3|0.9700"
expect $DB "SELECT user_id, products::text, last_view_ts FROM recently_viewed" \
    'u1|["p2", "p1"]|2026-11-27 10:30:00.009+00'
expect $DB "SELECT source, partition, \"offset\", watermark FROM late" "clicks.jsonl|0|77|2026-11-27 10:15:00+00"
# invalid bytes (0xFF, NUL) became U+FFFD; tab, newline and backslash arrived intact; once.
expect $DB "SELECT reason, \"offset\", encode(convert_to(record, 'UTF8'), 'hex') FROM dlq" \
    "malformed|7|61efbfbd09620a635c64efbfbd65"
# the replay of epoch 2 (other rows, other positions) wrote nothing
expect $DB "SELECT count(*) FROM category_revenue WHERE category = 'garden'" 0
expect $DB "SELECT source, partition, next_offset, epoch FROM shopstream_offsets ORDER BY source" \
"clicks.jsonl|0|30|3
orders.jsonl|1|6|3"
expect $DB "SELECT sink, epoch FROM shopstream_epoch" "postgresql|3"

# a whole run replayed (epochs 1..3 again, after a restart of the writer): no change
dump() { q $DB "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM (SELECT category_revenue::text AS t FROM category_revenue UNION ALL SELECT recently_viewed::text FROM recently_viewed UNION ALL SELECT dlq::text FROM dlq UNION ALL SELECT shopstream_offsets::text FROM shopstream_offsets) x"; }
before=$(dump)
"$DRV" scenario "$URL" || fail "replayed scenario failed"
[ "$(dump)" = "$before" ] || fail "a replayed run changed the tables"
note "schema, values, provisional -> final, replays: ok"

# ---- two writers on one database: the second is stopped, naming the cause -----------
FDRV=$(build_driver fence_driver) || fail "cannot build the fence driver"
q postgres "CREATE DATABASE fence" >/dev/null
"$FDRV" locked "${URL%/*}/fence" >"$T/fence.out" 2>&1 || { cat "$T/fence.out" >&2; fail "two writers: fence driver failed"; }
expect fence "SELECT string_agg(user_id, ',' ORDER BY user_id) FROM recently_viewed" "fence-a"
expect fence "SELECT epoch FROM shopstream_epoch" "2"
note "two writers: $(grep "^B:" "$T/fence.out" | cut -c1-220)"
# The same with two runs: the second waits for the database while the first writes it
# (stdin held open), gives up after sink.connect_timeout with exit 1 naming the cause,
# and the first goes on undisturbed and ends with exit 0.
q postgres "CREATE DATABASE locked" >/dev/null
LURL="${URL%/*}/locked"
mkfifo "$T/lock.fifo"
"$SHOPSTREAM_BIN" run --input clicks="$T/lock.fifo" --sink "$LURL" 2>"$T/lock1.err" &
first=$!
E2E_CLEANUPS+=("kill -KILL $first")
exec 7>"$T/lock.fifo"
echo '{"event_id":"e1","event_type":"view","user_id":"u1","product_id":"p1","category":"c","ts":"2026-11-27T00:00:00Z"}' >&7
poll_until 30 "the first run to connect" grep -q 'msg="connected"' "$T/lock1.err"
rc=0; t0=$SECONDS
"$SHOPSTREAM_BIN" run --input clicks="$REPO_DIR/tests/e2e/data/0001/clicks.jsonl" --sink "$LURL" \
    --set sink.connect_timeout=3s 2>"$T/lock2.err" || rc=$?
[ $rc -eq 1 ] && grep -q 'gave up after sink.connect_timeout=3s: .*another shopstream process is writing this database (backend [0-9]* from ' "$T/lock2.err" ||
    { cat "$T/lock2.err" >&2; fail "a second run on a database in use: exit $rc, expected 1 naming the other process"; }
kill -0 "$first" 2>/dev/null || fail "the first run died while a second one waited for its database"
echo '{"event_id":"e2","event_type":"view","user_id":"u1","product_id":"p2","category":"c","ts":"2026-11-27T00:00:01Z"}' >&7
exec 7>&-
rc=0; wait "$first" || rc=$?
[ $rc -eq 0 ] || { tail -n 5 "$T/lock1.err" >&2; fail "the first run exited $rc"; }
expect locked "SELECT products FROM recently_viewed WHERE user_id = 'u1'" '["p2", "p1"]'
note "a second run waited $((SECONDS - t0))s and gave up: $(grep -o 'another shopstream process[^;]*' "$T/lock2.err" | head -1)"

# A connection cut while the server keeps the session (halfopen_proxy.py: a network
# partition, a NAT that forgot the connection): the old session still holds the writer
# lock when the engine reconnects. The engine must see that the holder is its own previous
# session, end it and go on: every record committed once, exit 0, no session left behind.
# (Without that it took the holder for another process and stopped with exit 1.)
q postgres "CREATE DATABASE halfopen" >/dev/null
"$PY" "$E2E_DIR/halfopen_proxy.py" "$T/proxy.port" 127.0.0.1 "$(sed 's#.*:\([0-9]*\)/.*#\1#' <<<"$URL")" &
PROXY=$!
E2E_CLEANUPS+=("kill -KILL $PROXY")
poll_until 10 "the proxy to listen" test -s "$T/proxy.port"
HURL="${URL%%@*}@127.0.0.1:$(cat "$T/proxy.port")/halfopen"
mkfifo "$T/half.fifo"
"$SHOPSTREAM_BIN" run --input clicks="$T/half.fifo" --sink "$HURL" --set epoch.interval=200ms 2>"$T/half.err" &
hp=$!
E2E_CLEANUPS+=("kill -KILL $hp")
exec 8>"$T/half.fifo"
echo '{"event_id":"h1","event_type":"view","user_id":"u1","product_id":"p1","category":"c","ts":"2026-11-27T00:00:00Z"}' >&8
rv_is() { [ "$(q halfopen "SELECT products FROM recently_viewed WHERE user_id = 'u1'" 2>/dev/null)" = "$1" ]; }
poll_until 30 "the first record committed through the proxy" rv_is '["p1"]'
kill -USR1 "$PROXY"
echo '{"event_id":"h2","event_type":"view","user_id":"u1","product_id":"p2","category":"c","ts":"2026-11-27T00:00:01Z"}' >&8
poll_until 60 "the second record committed after the cut" rv_is '["p2", "p1"]'
exec 8>&-
rc=0; wait "$hp" || rc=$?
[ $rc -eq 0 ] || { tail -n 10 "$T/half.err" >&2; fail "the run whose connection was cut exited $rc"; }
grep -q "msg=\"ended this process's previous session, which still held the writer lock" "$T/half.err" ||
    check_failed "the run did not end its previous session after the cut: $(grep -c . "$T/half.err") log lines"
left() { [ "$(q postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'halfopen' AND application_name = 'shopstream'")" = 0 ]; }
poll_until 30 "no shopstream session left on the database" left
note "a half-open connection: the previous session ended, the run went on"

# the postgres:// spelling is the same sink
"$DRV" open "${URL/postgresql:/postgres:}" >/dev/null || fail "postgres:// URL not accepted"

# ---- an incompatible table -------------------------------------------------------
q postgres "CREATE DATABASE bad" >/dev/null
q bad "CREATE TABLE funnel (window_start timestamptz PRIMARY KEY, window_end timestamptz, viewers bigint, carters bigint, buyers bigint, view_to_cart real, cart_to_purchase numeric(9,4), final boolean)" >/dev/null
rc=0; out=$("$DRV" open "${URL%/*}/bad" 2>/dev/null) || rc=$?
[ $rc -eq 2 ] || fail "incompatible schema: exit $rc, expected 2 ($out)"
case "$out" in *'table "funnel"'*'column "view_to_cart" has type real, expected numeric(18,4)'*) ;;
    *) fail "incompatible schema message does not name table and column: $out" ;; esac
note "incompatible schema: $out"

# ---- a ratio beyond numeric(9,4): 1 carter, 100001 buyers in an hour -------------
# cart_to_purchase = 100001.0000 stopped the run with a numeric overflow; a funnel table
# of the earlier numeric(9,4) ratios is widened in place and takes the row too.
R=$T/ratio
mkdir -p "$R"
"$PY" - "$R" <<'PYEOF'
import sys
d = sys.argv[1]
with open(d + "/orders.csv", "w") as f:
    f.write("order_id,customer_id,product_id,category,price,quantity,order_ts\n")
    for i in range(100001):
        f.write("O%d,U%d,P1,c,1.00,1,2026-11-27T10:%02d:%02dZ\n" % (i, i, i // 2000 % 60, i // 40 % 60))
with open(d + "/clicks.jsonl", "w") as f:
    f.write('{"event_id":"C1","event_type":"cart_add","user_id":"U1","product_id":"P1","price":"1.00","ts":"2026-11-27T10:00:00Z"}\n')
PYEOF
for db in ratio ratio_old; do
    q postgres "CREATE DATABASE $db" >/dev/null
    [ $db = ratio_old ] && q $db "CREATE TABLE funnel (window_start timestamptz NOT NULL PRIMARY KEY, window_end timestamptz NOT NULL, viewers bigint NOT NULL, carters bigint NOT NULL, buyers bigint NOT NULL, view_to_cart numeric(9,4), cart_to_purchase numeric(9,4), final boolean NOT NULL)" >/dev/null
    rc=0; "$SHOPSTREAM_BIN" run --input clicks="$R/clicks.jsonl" --input orders="$R/orders.csv" --sink "${URL%/*}/$db" \
        2>"$R/$db.err" || rc=$?
    [ $rc -eq 0 ] || { tail -n 3 "$R/$db.err" >&2; fail "$db: a cart_to_purchase of 100001: exit $rc"; }
    expect $db "SELECT carters, buyers, cart_to_purchase, final FROM funnel" "1|100001|100001.0000|t"
    expect $db "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'funnel'::regclass AND attname = 'cart_to_purchase'" "numeric(18,4)"
done

# ---- crash mid-epoch: nothing lost, nothing duplicated ---------------------------
ROWS=200000; [ "$E2E_QUICK" = 1 ] && ROWS=20000
q postgres "CREATE DATABASE crash" >/dev/null
CURL="${URL%/*}/crash"
"$DRV" crash "$CURL" "'$PGT' kill '$PGDIR'" "'$PGT' start '$PGDIR' >/dev/null" $ROWS >"$T/crash.out" 2>"$T/crash.err" ||
    { cat "$T/crash.out" "$T/crash.err" >&2; fail "crash driver failed"; }
sed 's/^/    /' "$T/crash.out"
grep -q "^epoch 3 while down: SS_RETRY: " "$T/crash.out" || fail "no SS_RETRY while the server was down"
pg_isready -q -h 127.0.0.1 -p "$PGPORT" || fail "server not back"
# epoch 1: users [0, R) with events 1; epoch 2: users [R/2, 3R/2) with events 2;
# revenue of user i is i * 100 ten-thousandths = i / 100.
N=$((ROWS + ROWS / 2))
expect crash "SELECT count(*), count(DISTINCT user_id), sum(events), sum((events = 2)::int) FROM sessions" \
    "$N|$N|$((ROWS / 2 + 2 * ROWS))|$ROWS"
expect crash "SELECT sum(revenue) FROM sessions" "$(awk -v n=$N 'BEGIN { s = n * (n - 1) / 2; printf "%d.%02d", s / 100, s % 100 }')"
expect crash "SELECT count(*) FROM sessions WHERE events = 1 AND user_id >= 'u$(printf %07d $((ROWS / 2)))'" 0
expect crash "SELECT count(*) FROM dlq" 1
expect crash "SELECT epoch FROM shopstream_epoch" 3
expect crash "SELECT string_agg(next_offset::text || '@' || epoch, ',' ORDER BY source) FROM shopstream_offsets" "300@3,300@3"
note "crash mid-epoch: $N rows exact, epoch 3"

# ---- unreachable at start ----------------------------------------------------------
"$PGT" kill "$PGDIR"
rc=0; out=$("$DRV" open "$URL" 2>/dev/null) || rc=$?
[ $rc -eq 3 ] || fail "unreachable server: exit $rc, expected 3 (SS_RETRY): $out"
case "$out" in *"cannot connect to PostgreSQL shopstream@127.0.0.1:$PGPORT/shopstream"*) ;;
    *) fail "unclear message for an unreachable server: $out" ;; esac
note "unreachable: $out"
exit 0
