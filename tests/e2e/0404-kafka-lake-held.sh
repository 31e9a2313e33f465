#!/usr/bin/env bash
# 0404 — a lake that keeps its files open across epochs (parquet:DIR?roll_interval=...)
# over a real Kafka broker: input positions are committed only as far as every sink,
# the lake included, has made its rows durable.
#
# Data: generated clicks (2 % duplicates, 2 % invalid) in a 3-partition topic; lateness 4h
# so that no record can be late under any interleaving (see 0401).
# 1. Run 1 (unbounded, group e2e-0404, epochs of 5 000 records; sinks jsonl and a lake with
#    roll_interval=1h) is killed with SIGKILL once the jsonl sink holds several epochs.
#    Asserted: the group committed no offset (every epoch still had rows in an open lake
#    file), and the lake shows no file (open files are temp files under DIR/.tmp/<run>/,
#    which readers skip).
#    If positions were committed for rows only an open file held, run 2 would skip them
#    and the lake would miss them below.
# 2. Run 2 (same group, same lake, --exit-at-end) starts where the group stands (the
#    beginning): the lake's events table equals the model's accepted events exactly
#    (pyarrow: nothing lost, nothing twice), the group has committed the end of every
#    partition, and no temp file is left: run 1's went when run 2 opened the lake.
# requires: kafka
source "$(dirname "$0")/lib.sh"
need_bin
N=100000
[ "$E2E_QUICK" = 1 ] && N=40000

kafka_clicks_topic 37
SET=(--set lateness=4h --set kafka.group_id=e2e-0404 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
L=$T/lake
LAKE="parquet:$L?roll_interval=1h"
committed() { kafka_committed "$KDIR" "$B" e2e-0404.clicks clicks; }

# ---- 1. killed while the lake holds every epoch ------------------------------------------
R1=$T/run1
mkdir -p "$R1"
"$SHOPSTREAM_BIN" run --input clicks="kafka://$B/clicks" "${SET[@]}" --set epoch.events=5000 \
    --sink "jsonl:$R1" --sink "$LAKE" 2>"$R1.stderr" &
P1=$!; PIDS+=("$P1")
# ~100 invalid records per epoch of 5 000: more than 400 dlq rows is four epochs committed
several_epochs() {
    kill -0 "$P1" 2>/dev/null || { tail -n 5 "$R1.stderr" >&2; fail "run 1 ended by itself"; }
    [ -s "$R1/dlq.jsonl" ] && [ "$(wc -l <"$R1/dlq.jsonl")" -gt 400 ]
}
poll_until 120 "run 1 to commit several epochs" several_epochs
kill -KILL "$P1"
wait "$P1" 2>/dev/null
c=$(committed)
[ -z "$c" ] || check_failed "run 1 committed offsets ($c) while the lake held their rows in open files"
visible=$(find "$L" -type f -name '*.parquet' | head -3)
[ -z "$visible" ] || check_failed "run 1 (killed) left visible lake files: $visible"
held=$(find "$L/.tmp" -type f -name '*.tmp' 2>/dev/null | wc -l)
[ "$held" -gt 0 ] || check_failed "run 1 (killed) left no temp file under $L/.tmp: where were its open files?"
note "run 1 killed after $(wc -l <"$R1/dlq.jsonl") dlq rows: no offsets committed, $held temp files in $L/.tmp"

# ---- 2. the restart writes everything once ------------------------------------------------
R2=$T/run2
mkdir -p "$R2"
rc=0
timeout 300 "$SHOPSTREAM_BIN" run --input clicks="kafka://$B/clicks" "${SET[@]}" --exit-at-end \
    --sink "jsonl:$R2" --sink "$LAKE" 2>"$R2.stderr" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$R2.stderr" >&2; fail "run 2 exited $rc"; }
# run 1's temp directory was removed when run 2 opened the lake (its pid is gone), and
# run 2's own when it closed
[ ! -e "$L/.tmp" ] || check_failed "temp files left in the lake after run 2: $(find "$L/.tmp" | head -5)"
lake_events_match "$L" "run 2" --set lateness=4h clicks="$G"
c=$(committed | awk '{ s += $2 } END { print s + 0 }')
[ "$c" -eq "$N" ] || check_failed "run 2 committed offsets summing to $c, expected the $N records of the topic"
finish
