#!/usr/bin/env bash
# 0413 — partitions added to a consumed topic mid-run (kafka-topics --alter --partitions), as
# data engineers do when they scale.
#
# Data: generated clicks (2 % duplicates, 2 % invalid) cut into two halves by line, each
# written keyed by user_id (kcat) to a topic of 2 partitions; lateness 4h, so that nothing
# depends on how the partitions interleave (see 0401). Between the halves the topic is altered
# to 6 partitions, so part 2 lands in the 4 new ones too.
# A. Unbounded: an engine (group e2e-0413, -X topic.metadata.refresh.interval.ms=1000,
#    idle_timeout 3s, a metrics sink) reads part 1 and commits it; the topic gets 4 more
#    partitions; asserted: the engine is assigned the 4 new ones within 20 s of the alter (the
#    seconds are printed), reads part 2 from all 6, the group commits the end of every partition,
#    /metrics shows a lag of 0 for each of the 6, the watermark moved on past where part 1 left
#    it; after SIGTERM (exit 0): its dlq rows are the model's (by record and reason), its
#    data_quality totals count every record once.
# E. Bounded (--exit-at-end, group e2e-0413b) on a second topic holding part 1: the engine is
#    stopped (SIGSTOP) as it starts, the topic altered to 6 partitions, part 2 written, the
#    engine continued. --exit-at-end reads what the topic held at start: every table equals the
#    model over part 1 alone, the group committed the ends part 1 left in partitions 0 and 1 and
#    nothing in the new ones (a new partition it was assigned is named in a warning). Before, it
#    also read the records of part 2 fetched with the last ones of part 1, and the new partitions
#    assigned before the old ones ended, up to where they stood then: a different table each run.
#    A second --exit-at-end run of the group then reads the rest: the two runs' dlq rows are the
#    model's over all clicks, their data_quality totals add up, every partition's end is
#    committed.
# requires: kafka
source "$(dirname "$0")/lib.sh"
need_bin
command -v kcat >/dev/null || fail "kcat not found (scripts/install-deps installs it)"
command -v curl >/dev/null || fail "curl not found"
N=40000
[ "$E2E_QUICK" = 1 ] && N=20000
SET=(--set lateness=4h --set idle_timeout=3s -X topic.metadata.refresh.interval.ms=1000)

kafka_broker_start
for t in clicks backfill; do "$KT" topic "$KDIR" "$t" 2 || fail "cannot create topic $t"; done
G=$T/clicks.jsonl
"$SHOPSTREAM_BIN" produce --out "$G" --stream clicks --events "$N" --seed 53 --duplicates 0.02 --invalid 0.02 \
    --rate 250 2>"$T/p.err" || { cat "$T/p.err" >&2; fail "produce --out"; }
lines=$(wc -l <"$G")
n1=$(( lines / 2 ))
head -n "$n1" "$G" >"$T/part1.jsonl"
tail -n +"$(( n1 + 1 ))" "$G" >"$T/part2.jsonl"
"$PY" "$E2E_DIR/model.py" --set lateness=4h clicks="$G" --out "$T/model" >/dev/null || fail "model failed"
"$PY" "$E2E_DIR/model.py" --set lateness=4h clicks="$T/part1.jsonl" --out "$T/model1" >/dev/null || fail "model failed"

add_partitions() {
    java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlog4j.configuration="file:$KDIR/tools-log4j.properties" \
        -cp "${KAFKA_CACHE:-$REPO_DIR/.cache/kafka}/lib/*" org.apache.kafka.tools.TopicCommand \
        --bootstrap-server "$B" --alter --topic "$1" --partitions 6 >"$T/alter.out" 2>&1 ||
        { cat "$T/alter.out" >&2; fail "kafka-topics --alter --topic $1 --partitions 6 failed"; }
}
# committed GROUP TOPIC: "partition offset" lines; sum_committed GROUP TOPIC: their sum
committed() { kafka_committed "$KDIR" "$B" "$1" "$2"; }
sum_committed() { committed "$1" "$2" | awk '{ s += $2 } END { print s + 0 }'; }
end_of() { kcat -Q -b "$B" -t "$1:$2:-1" 2>/dev/null | awk '{ print $NF }'; }
alive() { kill -0 "$1" 2>/dev/null || { tail -n 5 "$2" >&2; fail "$3 ended by itself"; }; }
metric() { curl -s "$MURL" | awk -v m="$1" '$1 == m { print $2 }'; }

# ---- A. unbounded --------------------------------------------------------------------------
RA=$T/a
"$SHOPSTREAM_BIN" run --input clicks="kafka://$B/clicks" "${SET[@]}" --set kafka.group_id=e2e-0413 \
    --sink "jsonl:$RA" --sink metrics:127.0.0.1:0 2>"$RA.stderr" &
PA=$!; PIDS+=("$PA")
kafka_write_lines "$T/part1.jsonl" clicks user_id
a_part1() { alive "$PA" "$RA.stderr" "engine A"; [ "$(sum_committed e2e-0413.clicks clicks)" -eq "$n1" ]; }
poll_until 120 "engine A to commit part 1" a_part1
MURL=$(grep -o 'url=http[^ ]*' "$RA.stderr" | head -n 1 | cut -d= -f2)
[ -n "$MURL" ] || fail "no metrics url in engine A's log"
w1=$(metric shopstream_watermark_ms)
t_alter=$(date +%s%N)
add_partitions clicks
t_altered=$(date +%s%N)
new_assigned() { alive "$PA" "$RA.stderr" "engine A"; grep -q 'msg="partitions assigned" topic=clicks count=4 ' "$RA.stderr"; }
poll_until 20 "engine A to be assigned the 4 partitions added to clicks" new_assigned
note "engine A was assigned the 4 new partitions $(( ($(date +%s%N) - t_alter) / 1000000 )) ms after kafka-topics --alter started ($(( (t_altered - t_alter) / 1000000 )) ms until it returned; metadata refresh 1 s)"
kafka_write_lines "$T/part2.jsonl" clicks user_id
a_all() { alive "$PA" "$RA.stderr" "engine A"; [ "$(sum_committed e2e-0413.clicks clicks)" -eq "$lines" ]; }
poll_until 120 "engine A to commit all of part 2" a_all
committed e2e-0413.clicks clicks >"$T/committed-a"
for p in 0 1 2 3 4 5; do
    want=$(end_of clicks $p)
    got=$(awk -v p=$p '$1 == p { print $2 }' "$T/committed-a")
    [ "$got" = "$want" ] || check_failed "group e2e-0413: partition $p committed at '${got}', its end is $want"
    [ "$p" -lt 2 ] || [ "$want" -gt 0 ] || check_failed "part 2 wrote nothing to the new partition $p: not tested"
    lag=$(metric "shopstream_consumer_lag{source=\"clicks\",partition=\"$p\"}")
    [ "$lag" = 0 ] || check_failed "/metrics: consumer lag of clicks partition $p is '${lag}', expected 0"
done
w2=$(metric shopstream_watermark_ms)
[ -n "$w1" ] && [ -n "$w2" ] && [ "$w2" -gt "$w1" ] ||
    check_failed "the watermark did not move on after part 2 (in the new partitions too): $w1 then $w2"
kill -TERM "$PA"
timeout 60 tail --pid="$PA" -f /dev/null || fail "engine A did not stop within 60 s of SIGTERM"
rc=0; wait "$PA" || rc=$?
[ $rc -eq 0 ] || { tail -n 10 "$RA.stderr" >&2; check_failed "engine A exited $rc after SIGTERM, expected 0"; }
grep -E 'msg="partitions lost"|could not commit' "$RA.stderr" >&2 && check_failed "engine A lost partitions or failed a commit (above)"

# dlq_check WANT_DIR OUT_DIR...: the dlq rows of the OUT_DIRs together are WANT_DIR's, by record
# and reason (their origins are Kafka coordinates, the model's file lines)
dlq_check() {
    "$PY" - "$@" <<'PYEOF'
import json, sys
from collections import Counter
def dlq(d):
    try:
        return Counter((r["record"], r["reason"]) for r in map(json.loads, open(d + "/dlq.jsonl")))
    except FileNotFoundError:
        return Counter()
want = dlq(sys.argv[1])
got = sum((dlq(d) for d in sys.argv[2:]), Counter())
print("    dlq: %d rows, model %d; %d missing, %d extra" % (sum(got.values()), sum(want.values()),
      sum((want - got).values()), sum((got - want).values())))
sys.exit(0 if got == want and want else 1)
PYEOF
}
# total DIR...: the data_quality totals of the DIRs together
total() { cat "${@/%//data_quality.jsonl}" 2>/dev/null | "$PY" -c 'import json, sys; print(sum(json.loads(l)["total"] for l in sys.stdin))'; }
dlq_check "$T/model" "$RA" || check_failed "engine A's dlq rows (above)"
[ "$(total "$RA")" -eq "$lines" ] || check_failed "engine A's data_quality totals count $(total "$RA") records, expected $lines"

# ---- E. --exit-at-end while partitions are added -------------------------------------------
kafka_write_lines "$T/part1.jsonl" backfill user_id
e0=$(end_of backfill 0); e1=$(end_of backfill 1)
RE=$T/e
mkdir -p "$RE"
"$SHOPSTREAM_BIN" run --input clicks="kafka://$B/backfill" --exit-at-end "${SET[@]}" --set kafka.group_id=e2e-0413b \
    --sink "jsonl:$RE" 2>"$RE.stderr" &
PE=$!; PIDS+=("$PE")
poll_until 30 "engine E to start consuming" grep -q 'msg="consuming"' "$RE.stderr"
kill -STOP "$PE" 2>/dev/null || fail "engine E ended before it could be stopped: nothing tested"
grep -q 'comp=run msg="done"' "$RE.stderr" && fail "engine E had read everything before it was stopped: nothing tested"
add_partitions backfill
kafka_write_lines "$T/part2.jsonl" backfill user_id
kill -CONT "$PE"
timeout 120 tail --pid="$PE" -f /dev/null || fail "engine E (--exit-at-end) did not finish within 120 s"
rc=0; wait "$PE" || rc=$?
[ $rc -eq 0 ] || { tail -n 10 "$RE.stderr" >&2; fail "engine E exited $rc, expected 0"; }
news=$(grep -c 'msg="partition added to the topic after the start' "$RE.stderr")
note "engine E: assigned $news of the 4 new partitions before it ended (each named in a warning, none read)"
dlq_check "$T/model1" "$RE" || check_failed "engine E's dlq rows (above)"
mkdir -p "$T/e-cmp"
cp "$RE"/*.jsonl "$T/e-cmp/"
cp "$T/model1/dlq.jsonl" "$T/e-cmp/dlq.jsonl"
compare_with_model "$T/e-cmp" --set lateness=4h clicks="$T/part1.jsonl"
committed e2e-0413b.clicks backfill >"$T/committed-e"
[ "$(tr '\n' ' ' <"$T/committed-e")" = "0 $e0 1 $e1 " ] ||
    check_failed "group e2e-0413b after engine E: committed $(tr '\n' ' ' <"$T/committed-e"), expected 0 $e0 1 $e1 (part 1's ends, nothing in the new partitions)"

# the next run reads the rest
RE2=$T/e2
run_engine "$RE2" --input clicks="kafka://$B/backfill" --exit-at-end "${SET[@]}" --set kafka.group_id=e2e-0413b
dlq_check "$T/model" "$RE" "$RE2" || check_failed "engines E and E2 together: dlq rows (above)"
[ "$(total "$RE" "$RE2")" -eq "$lines" ] ||
    check_failed "engines E and E2: data_quality totals count $(total "$RE" "$RE2") records, expected $lines"
committed e2e-0413b.clicks backfill >"$T/committed-e2"
for p in 0 1 2 3 4 5; do
    want=$(end_of backfill $p)
    got=$(awk -v p=$p '$1 == p { print $2 }' "$T/committed-e2")
    [ "$got" = "$want" ] || check_failed "group e2e-0413b after E2: partition $p committed at '${got}', its end is $want"
done
finish
