#!/usr/bin/env bash
# 0408 — a group whose committed offset is no longer retained: the loss is named.
#
# Run 1 (--exit-at-end, group e2e-0408) reads 10 000 clicks of a 1-partition topic and commits
# offset 10 000. 10 000 more are written, and kafka-delete-records removes everything below
# offset 15 000 (as retention would) before the group comes back. Run 2 (same group) is
# started from a committed offset the partition no longer holds: Kafka answers
# OFFSET_OUT_OF_RANGE and librdkafka resets to the first retained record (auto.offset.reset
# earliest). Asserted: run 2 exits 0, reads exactly the 5 000 retained records, commits the
# end (20 000), and logs one error naming the loss: lost_offsets=5000 from=10000 to=15000.
# Before the fix only librdkafka's "offset reset ... Offset out of range" warning said so.
# requires: kafka
source "$(dirname "$0")/lib.sh"
need_bin
kafka_broker_start
"$KT" topic "$KDIR" gap 1 || fail "cannot create topic gap"
GEN=(--stream clicks --topic gap --events 10000)
"$SHOPSTREAM_BIN" produce --brokers "$B" "${GEN[@]}" --seed 1 2>"$T/p1.err" || { cat "$T/p1.err" >&2; fail "produce 1"; }
SET=(--input clicks="kafka://$B/gap" --set kafka.group_id=e2e-0408 --exit-at-end)
run_engine "$T/run1" "${SET[@]}"
"$SHOPSTREAM_BIN" produce --brokers "$B" "${GEN[@]}" --seed 2 --start 2026-11-27T00:04:00Z 2>"$T/p2.err" ||
    { cat "$T/p2.err" >&2; fail "produce 2"; }
echo '{"partitions":[{"topic":"gap","partition":0,"offset":15000}],"version":1}' >"$T/del.json"
java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlog4j.configuration="file:$KDIR/tools-log4j.properties" \
    -cp "${KAFKA_CACHE:-$REPO_DIR/.cache/kafka}/lib/*" org.apache.kafka.tools.DeleteRecordsCommand \
    --bootstrap-server "$B" --offset-json-file "$T/del.json" >"$T/del.out" 2>&1 || { cat "$T/del.out" >&2; fail "delete-records"; }
grep -q "low_watermark: 15000" "$T/del.out" || { cat "$T/del.out" >&2; fail "delete-records did not move the log start"; }
run_engine "$T/run2" "${SET[@]}"

grep -q 'msg="done" records=5000 ' "$T/run2.stderr" || { cat "$T/run2.stderr" >&2; check_failed "run 2 did not read exactly the 5000 retained records"; }
n=$(grep -c 'msg="data loss' "$T/run2.stderr")
[ "$n" -eq 1 ] || { cat "$T/run2.stderr" >&2; check_failed "expected one data loss error, got $n"; }
grep 'msg="data loss' "$T/run2.stderr" | grep -q 'level=error .*topic=gap partition=0 lost_offsets=5000 from=10000 to=15000' ||
    { cat "$T/run2.stderr" >&2; check_failed "the data loss error does not name the lost offsets"; }
c=$(kafka_committed "$KDIR" "$B" e2e-0408.clicks gap)
[ "$c" = "0 20000" ] || check_failed "committed after run 2: '$c', expected '0 20000'"
grep -q 'msg="data loss' "$T/run1.stderr" && check_failed "run 1 logged a data loss"
finish
