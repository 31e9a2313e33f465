#!/usr/bin/env bash
# 0409 — the topic an unbounded run consumes is deleted: the run ends with exit 1, naming it.
#
# The engine reads a 1-partition topic with a 2 s metadata refresh; once the group has
# committed the whole topic, the topic is deleted (kafka-topics --delete). Asserted: the
# engine exits 1 within 60 s (DESTROY_WAIT_MS of src/source/kafka.c included), with the
# error naming the topic, and it logs that librdkafka could not shut the consumer down.
# Before, librdkafka 2.0.2's rd_kafka_destroy never returned for a consumer whose partition
# was deleted (fixed upstream in 2.6.1, #4724): the error was printed and the process hung.
# requires: kafka
source "$(dirname "$0")/lib.sh"
need_bin
kafka_broker_start
"$KT" topic "$KDIR" gone 1 || fail "cannot create topic gone"
"$SHOPSTREAM_BIN" produce --brokers "$B" --stream clicks --topic gone --events 2000 2>"$T/p.err" ||
    { cat "$T/p.err" >&2; fail "produce"; }
mkdir -p "$T/out"
"$SHOPSTREAM_BIN" run --input clicks="kafka://$B/gone" --set kafka.group_id=e2e-0409 \
    -X topic.metadata.refresh.interval.ms=2000 --sink "jsonl:$T/out" 2>"$T/run.stderr" &
pid=$!
PIDS+=("$pid")
committed_all() { [ "$(kafka_committed "$KDIR" "$B" e2e-0409.clicks gone)" = "0 2000" ]; }
poll_until 120 "the group to commit the whole topic" committed_all
java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlog4j.configuration="file:$KDIR/tools-log4j.properties" \
    -cp "${KAFKA_CACHE:-$REPO_DIR/.cache/kafka}/lib/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$B" --delete --topic gone >"$T/del.out" 2>&1 || { cat "$T/del.out" >&2; fail "kafka-topics --delete"; }
exited() { ! kill -0 "$pid" 2>/dev/null; }
poll_until 60 "the engine to exit after its topic was deleted" exited
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 1 ] || { tail -n 20 "$T/run.stderr" >&2; check_failed "exit $rc, expected 1"; }
grep -q 'Kafka topic gone: Broker: Unknown topic or partition' "$T/run.stderr" ||
    { tail -n 20 "$T/run.stderr" >&2; check_failed "the error does not name the deleted topic"; }
grep -q 'msg="the Kafka consumer did not shut down' "$T/run.stderr" ||
    note "the consumer shut down by itself (a librdkafka with the fix?)"
note "exit $rc after the topic was deleted: $(grep -m1 -o 'Kafka topic gone: [^"]*' "$T/run.stderr")"
finish
