#!/usr/bin/env bash
# 0001 — hand-written inputs (data/0001) that touch every edge of docs/SEMANTICS.md:
# each invalid reason and the order of reasons, late events (and ts == W exactly),
# duplicates (within and across clicks/orders, and a duplicate that is late), window
# boundaries, a session gap of exactly 30 min, an out-of-order event merging two
# sessions, the promotion join in both arrival orders with held-click expiry, a high
# value order of exactly 1000.00, velocity (alert, disarm, re-arm), recently viewed
# with more than 20 products and the 24 h TTL (dropped / kept at equality), CSV quoting
# and a CRLF line, a UTF-8 byte order mark, gzip and zstd files, ISO offsets, fraction truncation,
# the first and last valid instants (years 0000 and 9999), epoch milliseconds, exponent
# prices, a default quantity, a window holding only a cart_remove, null funnel ratios.
#
# Because only the last input drives the watermark (earlier ones finish while a later
# one has not started, §4), the same files are run in three input orders, so that late
# events, the TTL and the promotions-after-clicks join each get exercised. Every run is
# compared with the model; some values are also asserted by hand, so that the model and
# the engine cannot be wrong together.
source "$(dirname "$0")/lib.sh"
need_bin
cd "$E2E_DIR/data/0001" || fail "no data/0001"

P=promotions.jsonl C=clicks.jsonl O=orders.csv

# Run A: promotions, clicks, orders (orders drive W; clicks see W = -inf).
A=(--input promotions=$P --input clicks=$C --input orders=$O)
run_engine "$T/a" "${A[@]}"
compare_with_model "$T/a" promotions=$P clicks=$C orders=$O

# Duplicates: PR1, E2, E30 (repeated lines), the order E3 (a click's id), O1, and E60 (its
# second copy has another ts, 12:30, but the id was seen on time: §3.3 has no ts condition).
"$PY" - "$T/a" <<'PYEOF' || check_failed "run A: data_quality duplicates total is not 6"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/data_quality.jsonl") if l.strip()]
n = sum(r["duplicates"] for r in rows)
print("    run A duplicates:", n)
sys.exit(0 if n == 6 else 1)
PYEOF
# Hand-computed: [10:00,10:01) electronics = E1, E50 views; E2 cart_add; purchases E3
# (19.99 x 2, U1), O1 (25.00, U1), O5 (0.01, U2); the order "E3" is a duplicate of the click.
expect_row "$T/a" category_revenue '{"window_start":"2026-11-27T10:00:00.000Z","category":"electronics","window_end":"2026-11-27T10:01:00.000Z","revenue":"64.99","orders":3,"units":4,"views":2,"cart_adds":1,"buyers":2,"final":true}' \
    window_start=2026-11-27T10:00:00.000Z category=electronics
# 10.005 x 3 = 30.015 -> "30.02" (half away from zero); the category holds a quoted comma.
expect_row "$T/a" hourly_sales '{"window_start":"2026-11-27T10:00:00.000Z","category":"home, garden","window_end":"2026-11-27T11:00:00.000Z","revenue":"30.02","orders":1,"units":3,"buyers":1,"final":true}' \
    window_start=2026-11-27T10:00:00.000Z "category=home, garden"
# 10:00-11:00: viewers U1 U8 U2 42 U10 U3, carters U1, buyers U1 U3 U2 U11 U12.
expect_row "$T/a" funnel '{"window_start":"2026-11-27T10:00:00.000Z","window_end":"2026-11-27T11:00:00.000Z","viewers":6,"carters":1,"buyers":5,"view_to_cart":0.1667,"cart_to_purchase":5.0000,"final":true}' \
    window_start=2026-11-27T10:00:00.000Z
# Gap of exactly 30 min joins, 30 min + 1 ms splits.
expect_row "$T/a" sessions '{"user_id":"U4","session_start":"2026-11-27T11:00:00.000Z","session_end":"2026-11-27T11:30:00.000Z","duration_s":1800,"events":2,"views":1,"cart_adds":1,"purchases":0,"revenue":"0.00","converted":false}' \
    user_id=U4 session_start=2026-11-27T11:00:00.000Z
expect_row "$T/a" sessions '{"user_id":"U4","session_start":"2026-11-27T12:00:00.001Z","session_end":"2026-11-27T12:00:00.001Z","duration_s":0,"events":1,"views":0,"cart_adds":0,"purchases":1,"revenue":"7.50","converted":true}' \
    user_id=U4 session_start=2026-11-27T12:00:00.001Z
# 11:00 and 11:40 are 40 min apart; the out-of-order 11:28 merges them.
expect_row "$T/a" sessions '{"user_id":"U5","session_start":"2026-11-27T11:00:00.000Z","session_end":"2026-11-27T11:40:00.000Z","duration_s":2400,"events":3,"views":2,"cart_adds":0,"purchases":1,"revenue":"5.00","converted":true}' \
    user_id=U5
# 500.00 x 2 is exactly the threshold; 333.33 x 3 = 999.99 is not.
expect_row "$T/a" alerts '{"alert_id":"high_value_order:O12","kind":"high_value_order","user_id":"U12","order_id":"O12","amount":"1000.00","ts":"2026-11-27T10:05:00.000Z","detail":"{\"threshold\":\"1000.00\"}"}' \
    alert_id=high_value_order:O12
expect_row "$T/a" alerts none alert_id=high_value_order:O13
expect_row "$T/a" alerts '{"alert_id":"high_value_order:E5","kind":"high_value_order","user_id":"U2","order_id":null,"amount":"1000.00","ts":"2026-11-27T10:06:00.000Z","detail":"{\"threshold\":\"1000.00\"}"}' \
    alert_id=high_value_order:E5
# 5 purchases in (12:09:59.999 - 10 min, 12:09:59.999]. At 12:10:00 the one at 12:00 has just
# left the range (4 before, the user re-arms), so E45 is a new 5th within 10 min (§8).
expect_row "$T/a" alerts '{"alert_id":"velocity:U6:E44","kind":"velocity","user_id":"U6","order_id":"OC44","amount":"50.00","ts":"2026-11-27T12:09:59.999Z","detail":"{\"count\":5,\"range_ms\":600000}"}' \
    alert_id=velocity:U6:E44
expect_row "$T/a" alerts '{"alert_id":"velocity:U6:E45","kind":"velocity","user_id":"U6","order_id":"OC45","amount":"50.00","ts":"2026-11-27T12:10:00.000Z","detail":"{\"count\":5,\"range_ms\":600000}"}' \
    alert_id=velocity:U6:E45
# U15 buys every 2.1 min from 14:00 (1.00, 2.00, ... 6.00): the 5th (14:08:24) alerts; at
# 14:10 the first leaves the range, so the 6th (14:10:30) is a new 5th within 10 min.
expect_row "$T/a" alerts '{"alert_id":"velocity:U15:O54","kind":"velocity","user_id":"U15","order_id":"O54","amount":"15.00","ts":"2026-11-27T14:08:24.000Z","detail":"{\"count\":5,\"range_ms\":600000}"}' \
    alert_id=velocity:U15:O54
expect_row "$T/a" alerts '{"alert_id":"velocity:U15:O55","kind":"velocity","user_id":"U15","order_id":"O55","amount":"20.00","ts":"2026-11-27T14:10:30.000Z","detail":"{\"count\":5,\"range_ms\":600000}"}' \
    alert_id=velocity:U15:O55
# The promotion window is half-open; PR3 [10:30, 10:31) takes E9 (10:30) but not E10 (10:31).
expect_row "$T/a" promo_matches '{"event_id":"E9","promo_id":"PR3","user_id":"U3","product_id":"P1","discount_pct":"0.00","click_ts":"2026-11-27T10:30:00.000Z"}' \
    event_id=E9 promo_id=PR3
expect_row "$T/a" promo_matches none event_id=E10 promo_id=PR3
expect_row "$T/a" promo_matches none event_id=E8 promo_id=PR2
# [12:51, 13:01): P34 has 2 views, 26 more products one each: P34 first, then by product_id;
# rank 20 is P28.
expect_row "$T/a" trending_products '{"window_start":"2026-11-27T12:51:00.000Z","product_id":"P34","window_end":"2026-11-27T13:01:00.000Z","rank":1,"views":2,"cart_adds":0,"purchases":0,"revenue":"0.00","final":true}' \
    window_start=2026-11-27T12:51:00.000Z product_id=P34
expect_row "$T/a" trending_products '{"window_start":"2026-11-27T12:51:00.000Z","product_id":"P28","window_end":"2026-11-27T13:01:00.000Z","rank":20,"views":1,"cart_adds":0,"purchases":0,"revenue":"0.00","final":true}' \
    window_start=2026-11-27T12:51:00.000Z product_id=P28
expect_row "$T/a" trending_products none window_start=2026-11-27T12:51:00.000Z product_id=P29
# A lone cart_remove makes a window row of zeros.
expect_row "$T/a" category_revenue '{"window_start":"2026-11-27T12:40:00.000Z","category":"misc","window_end":"2026-11-27T12:41:00.000Z","revenue":"0.00","orders":0,"units":0,"views":0,"cart_adds":0,"buyers":0,"final":true}' \
    window_start=2026-11-27T12:40:00.000Z category=misc
# 12:00-13:00: one viewer (U3), no carter, buyers U4 U6 U3 U13 U12: 0/1 and 0 divisor.
expect_row "$T/a" funnel '{"window_start":"2026-11-27T12:00:00.000Z","window_end":"2026-11-27T13:00:00.000Z","viewers":1,"carters":0,"buyers":5,"view_to_cart":0.0000,"cart_to_purchase":null,"final":true}' \
    window_start=2026-11-27T12:00:00.000Z
# O15 has an empty quantity: 1.
expect_row "$T/a" sessions '{"user_id":"U12","session_start":"2026-11-27T12:32:00.000Z","session_end":"2026-11-27T12:32:00.000Z","duration_s":0,"events":1,"views":0,"cart_adds":0,"purchases":1,"revenue":"2.00","converted":true}' \
    user_id=U12 session_start=2026-11-27T12:32:00.000Z
expect_row "$T/a" dlq '{"reason":"missing_user_id","stream":"orders","source":"orders.csv","partition":2,"offset":8,"record":"O6,,P4,home,2.00,1,2026-11-27T10:04:00Z"}' \
    source=orders.csv offset=8
expect_row "$T/a" dlq '{"reason":"missing_price","stream":"clicks","source":"clicks.jsonl","partition":1,"offset":17,"record":"{\"event_id\":\"X8\",\"event_type\":\"purchase\",\"user_id\":\"U1\",\"product_id\":\"P1\",\"ts\":\"nope\"}"}' \
    source=clicks.jsonl offset=17
# W = 12:30 - 15 min: 12:15:00.000 is on time, 12:14:59.999 is late.
expect_row "$T/a" late '{"stream":"orders","source":"orders.csv","partition":2,"offset":25,"ts":"2026-11-27T12:14:59.999Z","watermark":"2026-11-27T12:15:00.000Z","record":"O32,U13,P9,garden,1.00,1,2026-11-27T12:14:59.999Z"}' \
    source=orders.csv offset=25
expect_row "$T/a" late none source=orders.csv offset=24
expect_row "$T/a" recently_viewed '{"user_id":"U7","products":"[\"P10\",\"P39\",\"P40\",\"P34\",\"P33\",\"P32\",\"P31\",\"P30\",\"P29\",\"P28\",\"P27\",\"P26\",\"P25\",\"P24\",\"P23\",\"P22\",\"P21\",\"P20\",\"P19\",\"P18\"]","last_view_ts":"2026-11-27T13:01:00.000Z"}' \
    user_id=U7

# Run B: promotions, orders, clicks (clicks drive W: late clicks, the TTL, velocity
# with the orders seen first).
B=(--input promotions=$P --input orders=$O --input clicks=$C)
run_engine "$T/b" "${B[@]}"
compare_with_model "$T/b" promotions=$P orders=$O clicks=$C
# E33 at 11:25:00.000 == W is on time; E34 at 11:24:59.999 is late.
expect_row "$T/b" late none source=clicks.jsonl offset=42
expect_row "$T/b" late '{"stream":"clicks","source":"clicks.jsonl","partition":2,"offset":43,"ts":"2026-11-27T11:24:59.999Z","watermark":"2026-11-27T11:25:00.000Z","record":"{\"event_id\":\"E34\",\"event_type\":\"view\",\"user_id\":\"U1\",\"product_id\":\"P1\",\"category\":\"electronics\",\"ts\":\"2026-11-27T11:24:59.999Z\"}"}' \
    source=clicks.jsonl offset=43
# E60 (11:40) is late here, so its later copy (12:30) is no duplicate; E61 joins its session.
expect_row "$T/b" sessions '{"user_id":"U14","session_start":"2026-11-27T12:30:00.000Z","session_end":"2026-11-27T12:40:00.000Z","duration_s":600,"events":2,"views":1,"cart_adds":0,"purchases":0,"revenue":"0.00","converted":false}' \
    user_id=U14
# U7: P34 viewed again with an older ts keeps its latest ts (13:00:24).
expect_row "$T/b" recently_viewed '{"user_id":"U7","products":"[\"P10\",\"P39\",\"P40\",\"P34\",\"P33\",\"P32\",\"P31\",\"P30\",\"P29\",\"P28\",\"P27\",\"P26\",\"P25\",\"P24\",\"P23\",\"P22\",\"P21\",\"P20\",\"P19\",\"P18\"]","last_view_ts":"2026-11-27T13:01:00.000Z"}' \
    user_id=U7
# U8's first list (10:00:05) is older than W - 24 h when PX2 arrives: a new list.
# U10's (10:05:00) is exactly W - 24 h: kept.
expect_row "$T/b" recently_viewed '{"user_id":"U8","products":"[\"PX2\"]","last_view_ts":"2026-11-28T10:20:00.000Z"}' user_id=U8
expect_row "$T/b" recently_viewed '{"user_id":"U10","products":"[\"PY2\",\"PY1\"]","last_view_ts":"2026-11-28T10:19:00.000Z"}' user_id=U10
# Orders O20..O23 arrived first, so E47 (12:25) sees 6 purchases in range.
expect_row "$T/b" alerts '{"alert_id":"velocity:U6:E47","kind":"velocity","user_id":"U6","order_id":"OC47","amount":"60.00","ts":"2026-11-27T12:25:00.000Z","detail":"{\"count\":6,\"range_ms\":600000}"}' \
    alert_id=velocity:U6:E47

# Run C: clicks, orders, promotions (promotions arrive after the clicks: only clicks
# still held, c.ts + 2 min >= max_ts of the clicks input = 2026-11-28T10:20, match).
C3=(--input clicks=$C --input orders=$O --input promotions=$P)
run_engine "$T/c" "${C3[@]}"
compare_with_model "$T/c" clicks=$C orders=$O promotions=$P
expect_row "$T/c" promo_matches '{"event_id":"E94","promo_id":"PR6","user_id":"U12","product_id":"PZ","discount_pct":"33.34","click_ts":"2026-11-28T10:18:00.000Z"}' \
    event_id=E94 promo_id=PR6
expect_row "$T/c" promo_matches none event_id=E93 promo_id=PR6
expect_row "$T/c" promo_matches none event_id=E1 promo_id=PR1
# PR11 (ts 09:40) arrives after max_ts 09:58 of the promotions: late.
expect_row "$T/c" late '{"stream":"promotions","source":"promotions.jsonl","partition":2,"offset":12,"ts":"2026-11-27T09:40:00.000Z","watermark":"2026-11-27T09:43:00.000Z","record":"{\"promo_id\":\"PR11\",\"product_id\":\"P1\",\"discount_pct\":20,\"starts_at\":\"2026-11-27T10:00:00Z\",\"ends_at\":\"2026-11-27T10:00:30Z\",\"ts\":\"2026-11-27T09:40:00Z\",\"note\":\"unknown fields are ignored\"}"}' \
    source=promotions.jsonl offset=12

# Run A again on copies that open with a UTF-8 byte order mark (as Windows tools and
# spreadsheet exports write them): the mark is not part of the first record, so every
# table equals the model over the original files.
mkdir -p "$T/bom"
for f in $P $C $O; do { printf '\xef\xbb\xbf'; cat "$f"; } > "$T/bom/$f"; done
(cd "$T/bom" && run_engine "$T/a-bom" "${A[@]}") || fail "run A on the copies with a byte order mark failed"
compare_with_model "$T/a-bom" promotions=$P clicks=$C orders=$O

# Run A once more from compressed copies under the same names: gzip for the JSON files
# (clicks in two members, as `gzip -c a >> f` makes), zstd for the CSV. The kind is told
# by the first bytes, not the name, and every table equals the model over the originals.
mkdir -p "$T/gz"
gzip -c $P > "$T/gz/$P"
{ head -n 40 $C | gzip -c; tail -n +41 $C | gzip -c; } > "$T/gz/$C"
zstd -q -c $O > "$T/gz/$O"
(cd "$T/gz" && run_engine "$T/a-gz" "${A[@]}") || fail "run A on the compressed copies failed"
compare_with_model "$T/a-gz" promotions=$P clicks=$C orders=$O
# ... and a name ending in .csv.gz is CSV, like .csv
gzip -c $O > "$T/gz/orders.csv.gz"
run_engine "$T/o-plain" --input orders=$O
run_engine "$T/o-gz" --input orders="$T/gz/orders.csv.gz"
for t in category_revenue hourly_sales alerts; do
    cmp -s "$T/o-plain/$t.jsonl" "$T/o-gz/$t.jsonl" || check_failed "orders.csv.gz: $t differs from orders.csv"
done
[ -s "$T/o-gz/category_revenue.jsonl" ] || check_failed "orders.csv.gz: no category_revenue rows"

# The first and the last instant SEMANTICS §2 accepts: windows and sessions there, and
# the trending windows that open in year -0001 (9 min before 0000-01-01) or end in year
# 10000, written with ISO 8601's signed / five-digit year.
Y=$T/years
mkdir -p "$Y"
{
    printf '{"event_id":"Y1","event_type":"view","user_id":"U1","product_id":"P1","ts":"0000-01-01T00:00:00.000Z"}\n'
    printf '{"event_id":"Y2","event_type":"view","user_id":"U1","product_id":"P1","ts":"9999-12-31T23:59:59.999Z"}\n'
} > "$Y/clicks.jsonl"
run_engine "$Y/out" --input clicks="$Y/clicks.jsonl"
compare_with_model "$Y/out" clicks="$Y/clicks.jsonl"
expect_row "$Y/out" sessions '{"user_id":"U1","session_start":"0000-01-01T00:00:00.000Z","session_end":"0000-01-01T00:00:00.000Z","duration_s":0,"events":1,"views":1,"cart_adds":0,"purchases":0,"revenue":"0.00","converted":false}' \
    user_id=U1 session_start=0000-01-01T00:00:00.000Z
expect_row "$Y/out" trending_products '{"window_start":"-0001-12-31T23:51:00.000Z","product_id":"P1","window_end":"0000-01-01T00:01:00.000Z","rank":1,"views":1,"cart_adds":0,"purchases":0,"revenue":"0.00","final":true}' \
    window_start=-0001-12-31T23:51:00.000Z product_id=P1
expect_row "$Y/out" funnel '{"window_start":"9999-12-31T23:00:00.000Z","window_end":"10000-01-01T00:00:00.000Z","viewers":1,"carters":0,"buyers":0,"view_to_cart":0.0000,"cart_to_purchase":null,"final":true}' \
    window_start=9999-12-31T23:00:00.000Z

# Records that are not UTF-8 (in a field read or not) or hold \u0000, timestamps outside the years
# 0000-9999 and purchases whose amount is beyond the fixed-point range are dead letters
# (SEMANTICS §2), and the good events around them still count. Broken bytes show as
# U+FFFD in the dead-letter text, in JSONL and in the lake (which pyarrow and DuckDB
# refuse to read when a string is not UTF-8).
E=$T/enc
mkdir -p "$E"
{
    printf '{"event_id":"X1","event_type":"view","user_id":"U1","product_id":"P1","category":"c","ts":"2026-11-27T10:00:00Z"}\n'
    printf '{"event_id":"X2","event_type":"view","user_id":"U\xff\xfe","product_id":"P1","category":"c","ts":"2026-11-27T10:00:01Z"}\n'
    printf '{"event_id":"X3","event_type":"view","user_id":"U1","product_id":"P1","note":"p\xc3(\xe2\x82","ts":"2026-11-27T10:00:02Z"}\n'
    printf '{"event_id":"X4","event_type":"view","user_id":"U1","product_id":"P1","ts":-9223372036854775000}\n'
    printf '{"event_id":"X5","event_type":"view","user_id":"U1","product_id":"P1","ts":"253402300800000"}\n'
    printf '{"event_id":"X6","event_type":"purchase","user_id":"U1","product_id":"P1","category":"c","price":"922337203685477","quantity":2,"ts":"2026-11-27T10:00:03Z"}\n'
    printf '{"event_id":"X7","event_type":"view","user_id":"U2","product_id":"caf\xc3\xa9","category":"c","ts":"2026-11-27T10:00:04Z"}\n'
    printf '{"event_id":"X8","event_type":"purchase","user_id":"U2","product_id":"P1","category":"c","price":"10.00","ts":"2026-11-27T10:00:05Z"}\n'
    printf '{"event_id":"X9","event_type":"view","user_id":"U\\u0000","product_id":"P1","category":"c","ts":"2026-11-27T10:00:06Z"}\n'
    printf '{"event_id":"X10","event_type":"view","user_id":"U3","product_id":"P1","x\\u0000":1,"ts":"2026-11-27T10:00:07Z"}\n'
} > "$E/clicks.jsonl"
run_engine "$E/out" --input clicks="$E/clicks.jsonl" --sink "parquet:$E/lake"
compare_with_model "$E/out" clicks="$E/clicks.jsonl"
expect_row "$E/out" dlq '{"reason":"malformed","stream":"clicks","source":"'"$E"'/clicks.jsonl","partition":0,"offset":2,"record":"{\"event_id\":\"X2\",\"event_type\":\"view\",\"user_id\":\"U\ufffd\ufffd\",\"product_id\":\"P1\",\"category\":\"c\",\"ts\":\"2026-11-27T10:00:01Z\"}"}' offset=2
expect_row "$E/out" dlq '{"reason":"malformed","stream":"clicks","source":"'"$E"'/clicks.jsonl","partition":0,"offset":3,"record":"{\"event_id\":\"X3\",\"event_type\":\"view\",\"user_id\":\"U1\",\"product_id\":\"P1\",\"note\":\"p\ufffd(\ufffd\",\"ts\":\"2026-11-27T10:00:02Z\"}"}' offset=3
for o in 4 5; do
    [ "$(grep -c "\"offset\":$o,\"record\"" "$E/out/dlq.jsonl")" = 1 ] && grep -q "\"reason\":\"bad_ts\".*\"offset\":$o," "$E/out/dlq.jsonl" ||
        check_failed "line $o (ts outside 0000-9999) is not a bad_ts dead letter"
done
grep -q '"reason":"bad_amount".*"offset":6,' "$E/out/dlq.jsonl" || check_failed "line 6 (amount beyond the range) is not a bad_amount dead letter"
for o in 9 10; do # \u0000, in a field read and in a key: PostgreSQL's text cannot hold NUL
    grep -q "\"reason\":\"malformed\".*\"offset\":$o," "$E/out/dlq.jsonl" || check_failed "line $o (\\u0000) is not a malformed dead letter"
done
expect_row "$E/out" category_revenue '{"window_start":"2026-11-27T10:00:00.000Z","category":"c","window_end":"2026-11-27T10:01:00.000Z","revenue":"10.00","orders":1,"units":1,"views":2,"cart_adds":0,"buyers":1,"final":true}' \
    window_start=2026-11-27T10:00:00.000Z category=c
"$PY" "$E2E_DIR/export_tables.py" parquet-duckdb "$E/lake" "$E/lake-duckdb" >"$E/lake.out" 2>&1 ||
    { cat "$E/lake.out" >&2; check_failed "DuckDB cannot read the lake holding the repaired dead letters"; }
cmp -s "$E/lake-duckdb/dlq.jsonl" "$E/out/dlq.jsonl" || "$PY" - "$E/lake-duckdb/dlq.jsonl" "$E/out/dlq.jsonl" <<'PYEOF' ||
import json, sys
a, b = ([json.loads(l) for l in open(p, encoding="utf-8")] for p in sys.argv[1:3])
key = lambda r: r["offset"]
sys.exit(0 if sorted(a, key=key) == sorted(b, key=key) else 1)
PYEOF
    check_failed "the lake's dlq table differs from dlq.jsonl"
# A line longer than input.max_record_bytes is a malformed dead letter holding the line's
# first bytes, and the rest of the line is skipped: a file without line breaks (a JSON
# array on one line) must not be held whole. Under a 1 KiB limit: lines of 2,000 bytes,
# of exactly 1,024 (a view, kept), 1,025 with a CRLF (1,024 without its CR: kept), 1,026
# and 3 MiB (past the reader's 1 MiB chunks), a last one of 5,000 bytes without a newline
# whose cut splits a UTF-8 character; the views around them still count.
L=$T/long
mkdir -p "$L"
"$PY" - "$L/clicks.jsonl" <<'PYEOF' || fail "writing the long lines"
import sys
def view(i, pad=0):
    head = '{"event_id":"L%d","event_type":"view","user_id":"U%d","product_id":"P1","ts":"2026-11-27T10:00:%02dZ"' % (i, i % 3, i)
    return head + (',"pad":"' + "x" * (pad - len(head) - 10) + '"}' if pad else "}")
lines = [view(1), view(2, 2000), view(3), view(4, 1024), view(5, 1024) + "\r", view(6, 1026), view(7, 3 << 20), view(8)]
last = '{"event_id":"L9","note":"' + "\u00e9" * 2500
with open(sys.argv[1], "wb") as f:
    f.write("\n".join(lines).encode() + b"\n" + last.encode())
PYEOF
run_engine "$L/out" --input clicks="$L/clicks.jsonl" --set input.max_record_bytes=1024
compare_with_model "$L/out" --set input.max_record_bytes=1024 clicks="$L/clicks.jsonl"
"$PY" - "$L/out" <<'PYEOF' || check_failed "lines over input.max_record_bytes: wrong dead letters"
import json, sys
rows = {r["offset"]: r for r in map(json.loads, open(sys.argv[1] + "/dlq.jsonl", encoding="utf-8"))}
ok = sorted(rows) == [2, 6, 7, 9] and all(r["reason"] == "malformed" for r in rows.values())
ok = ok and all(len(rows[o]["record"].encode()) == 1024 for o in (2, 6, 7)) and rows[9]["record"].endswith("\ufffd")
dq = [json.loads(l) for l in open(sys.argv[1] + "/data_quality.jsonl")]
ok = ok and sum(r["valid"] for r in dq) == 5 and sum(r["malformed"] for r in dq) == 4
sys.exit(0 if ok else 1)
PYEOF
[ "$(grep -c 'a line longer than input.max_record_bytes' "$L/out.stderr")" = 4 ] ||
    check_failed "the cut lines were not each logged: $(grep -c 'longer than' "$L/out.stderr")"

# One input may name a directory or a glob pattern: its files are read in name order as
# one partition, each with its own line numbers, its own name in dead letters and, for
# CSV, its own header line; compressed files among them are told by their first bytes.
# The directory's hidden file and subdirectory are not read. Run A again with clicks as
# a directory of three parts (the second gzip) and orders as a glob over two CSV files.
G=$T/glob
mkdir -p "$G/clicks/sub" "$G/orders"
head -n 9 "$C" >"$G/clicks/part-1.jsonl"
sed -n '10,40p' "$C" | gzip -c >"$G/clicks/part-2.jsonl.gz"
sed -n '41,$p' "$C" >"$G/clicks/part-3.jsonl"
printf 'not read\n' >"$G/clicks/.part-0.jsonl"
printf 'not read\n' >"$G/clicks/sub/part-9.jsonl"
head -n 6 "$O" >"$G/orders/a.csv"
{ head -n 1 "$O"; sed -n '7,$p' "$O"; } >"$G/orders/b.csv"
run_engine "$G/out" --input promotions=$P --input clicks="$G/clicks" --input "orders=$G/orders/*.csv"
compare_with_model "$G/out" promotions=$P clicks="$G/clicks" "orders=$G/orders/*.csv"
"$PY" - "$G" "$C" <<'PYEOF' || check_failed "dead letters of a directory input do not name their part file and line"
import json, sys
g, whole = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(g + "/out/dlq.jsonl", encoding="utf-8") if json.loads(l)["stream"] == "clicks"]
lines = open(whole, encoding="utf-8", errors="replace").read().split("\n")
parts = {"part-1.jsonl": 0, "part-2.jsonl.gz": 9, "part-3.jsonl": 40}
ok = bool(rows) and {r["source"].rsplit("/", 1)[1] for r in rows} <= set(parts)
for r in rows:  # the record is the whole file's line at the part's first line + offset - 1
    ok = ok and lines[parts[r["source"].rsplit("/", 1)[1]] + r["offset"] - 1] == r["record"]
sys.exit(0 if ok and len({r["source"] for r in rows}) == 2 else 1)  # parts 1 and 2 hold them
PYEOF
grep -q 'msg="reading files in name order" input="'"$G"'/clicks" files=3' "$G/out.stderr" ||
    check_failed "the directory input does not log its 3 files"

finish
