#!/usr/bin/env bash
# 0405 — graceful shutdown (DESIGN §6): SIGTERM or SIGINT finishes the current epoch,
# commits it and exits 0.
#
# Data: generated clicks (2 % duplicates, 2 % invalid) in a 3-partition topic; lateness 4h
# so that no record can be late under any interleaving (see 0401).
# 1. Run 1 (unbounded, group e2e-0405, epochs of 5 000 records; sinks jsonl and a lake with
#    roll_interval=1h, which holds every epoch in open files) reads the whole topic; by then
#    the group has committed nothing (the lake holds the rows). SIGTERM. Asserted: exit 0
#    within 60 s, logged as stopped; the lake closed its files (no temp file left) and they
#    hold exactly the model's accepted events; the jsonl dlq has every invalid record once;
#    the group committed the end of every partition.
# 2. Run 2 (same group, --exit-at-end) finds nothing left to read: 0 records, exit 0.
# 3. SIGINT to a run reading stdin, mid-stream, after its dlq.jsonl was moved away (as logrotate
#    does) and a new one written: exit 0, and its dlq rows (both files) are exactly the model's
#    for the lines it read (no row lost or invented before the stop or at the rotation).
# 4. SIGTERM to `produce --brokers --rate`: exit 0, every record it reports sent delivered, and
#    the topic holds exactly the generator's first records (its file output, same seed).
# requires: kafka
source "$(dirname "$0")/lib.sh"
need_bin
N=60000
[ "$E2E_QUICK" = 1 ] && N=30000

kafka_clicks_topic 41
"$PY" "$E2E_DIR/model.py" --set lateness=4h clicks="$G" --out "$T/model" >/dev/null || fail "model failed"
want_dlq=$(wc -l <"$T/model/dlq.jsonl")
SET=(--set lateness=4h --set kafka.group_id=e2e-0405 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
L=$T/lake
committed() { kafka_committed "$KDIR" "$B" e2e-0405.clicks clicks; }

# ---- 1. SIGTERM once the whole topic is read ----------------------------------------------
R1=$T/run1
mkdir -p "$R1"
"$SHOPSTREAM_BIN" run --input clicks="kafka://$B/clicks" "${SET[@]}" --set epoch.events=5000 \
    --sink "jsonl:$R1" --sink "parquet:$L?roll_interval=1h" 2>"$R1.stderr" &
P1=$!; PIDS+=("$P1")
read_all() {
    kill -0 "$P1" 2>/dev/null || { tail -n 5 "$R1.stderr" >&2; fail "run 1 ended by itself"; }
    [ -s "$R1/dlq.jsonl" ] && [ "$(wc -l <"$R1/dlq.jsonl")" -ge "$want_dlq" ]
}
poll_until 180 "run 1 to write all $want_dlq dlq rows" read_all
c=$(committed)
[ -z "$c" ] || check_failed "run 1 committed offsets ($c) while the lake held their rows in open files"
kill -TERM "$P1"
rc=0
timeout 60 tail --pid="$P1" -f /dev/null || fail "run 1 did not exit within 60 s of SIGTERM"
wait "$P1" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$R1.stderr" >&2; fail "run 1 exited $rc on SIGTERM, expected 0"; }
grep -q 'msg="stopped"' "$R1.stderr" || check_failed "run 1 did not log that it stopped: $(tail -n 3 "$R1.stderr")"
[ ! -e "$L/.tmp" ] || check_failed "temp files left in the lake after SIGTERM: $(find "$L/.tmp" | head -5)"
lake_events_match "$L" "after SIGTERM" --set lateness=4h clicks="$G"
"$PY" - "$R1/dlq.jsonl" "$T/model/dlq.jsonl" <<'PYEOF' || check_failed "run 1's dlq after SIGTERM"
import json, sys
from collections import Counter
got = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
# Kafka origins differ from the file's line numbers: compare the records with their reasons
g = Counter((r["record"], r["reason"]) for r in got)
w = Counter((r["record"], r["reason"]) for r in want)
origins = Counter((r["partition"], r["offset"]) for r in got)
twice = [o for o, n in origins.items() if n > 1]
print("    dlq: %d rows, model %d; %d origins twice" % (len(got), len(want), len(twice)))
sys.exit(0 if g == w and not twice else 1)
PYEOF
c=$(committed | awk '{ s += $2 } END { print s + 0 }')
[ "$c" -eq "$N" ] || check_failed "after SIGTERM the group committed offsets summing to $c, expected the $N records of the topic"
note "SIGTERM: exit 0, committed $c of $N, $(find "$L" -name '*.parquet' | wc -l) lake files"

# ---- 2. nothing left for the next run ---------------------------------------------------------
R2=$T/run2
mkdir -p "$R2"
rc=0
timeout 120 "$SHOPSTREAM_BIN" run --input clicks="kafka://$B/clicks" "${SET[@]}" --exit-at-end \
    --sink "jsonl:$R2" 2>"$R2.stderr" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$R2.stderr" >&2; fail "run 2 exited $rc"; }
grep -q 'msg="done" records=0 ' "$R2.stderr" ||
    check_failed "run 2 read records the stopped run had committed: $(grep 'msg="done"' "$R2.stderr")"

# ---- 3. SIGINT while reading stdin ----------------------------------------------------------
R3=$T/run3
mkdir -p "$R3"
rc=0
{ "$PY" "$E2E_DIR/pace.py" "$G" 30 2>/dev/null |
    "$SHOPSTREAM_BIN" run --input clicks=- --set lateness=4h --set epoch.events=2000 --sink "jsonl:$R3" \
        2>"$R3.stderr"; echo "${PIPESTATUS[1]}" >"$T/rc3"; } &
P3=$!
some_read() { [ -s "$R3/dlq.jsonl" ] && [ "$(wc -l <"$R3/dlq.jsonl")" -ge 20 ]; }
poll_until 60 "the stdin run to write dlq rows" some_read
# its dlq.jsonl rotated as logrotate's nocreate does: the next epochs write a dlq.jsonl again
mv "$R3/dlq.jsonl" "$R3/dlq.jsonl.1"
more_read() { [ -s "$R3/dlq.jsonl" ] && [ "$(wc -l <"$R3/dlq.jsonl")" -ge 10 ]; }
poll_until 60 "the stdin run to write dlq rows to a new dlq.jsonl after the move" more_read
pkill -INT -f -- "--sink jsonl:$R3" || fail "no stdin run to interrupt"
timeout 60 tail --pid="$P3" -f /dev/null || fail "the stdin run did not exit within 60 s of SIGINT"
rc=$(cat "$T/rc3")
[ "$rc" = 0 ] || { tail -n 20 "$R3.stderr" >&2; fail "the stdin run exited $rc on SIGINT, expected 0"; }
"$PY" - "$R3/dlq.jsonl.1+$R3/dlq.jsonl" "$T/model/dlq.jsonl" "$R3.stderr" "$G" <<'PYEOF' || check_failed "the interrupted stdin run's dlq (rotated once)"
import json, re, sys
got = [json.loads(l) for f in sys.argv[1].split("+") for l in open(f) if l.strip()]
want = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
m = re.search(r'msg="stopped" records=(\d+)', open(sys.argv[3]).read())
if not m:
    print("FAIL the run did not log msg=\"stopped\"")
    sys.exit(1)
read = int(m.group(1))
# the lines it read are 1..read (offsets are line numbers); the model's rows among them
expect = [{k: v for k, v in r.items() if k != "source"} for r in want if r["offset"] <= read]
have = [{k: v for k, v in r.items() if k != "source"} for r in got]
key = lambda r: r["offset"]
total = sum(1 for _ in open(sys.argv[4], "rb"))
print("    SIGINT after %d of %d lines: dlq %d rows (%s, rotated), the model's for those lines %d" % (
    read, total, len(have), " + ".join(str(sum(1 for l in open(f) if l.strip())) for f in sys.argv[1].split("+")), len(expect)))
if not 0 < read < total:
    print("FAIL the interrupt did not come mid-stream (%d of %d lines read)" % (read, total))
    sys.exit(1)
sys.exit(0 if sorted(have, key=key) == sorted(expect, key=key) else 1)
PYEOF

# ---- 4. produce --brokers stopped by SIGTERM --------------------------------------------------
# It stops generating, delivers what librdkafka still holds, exits 0: the topic holds exactly
# the records it reports sent, and they are the first records of the same generator's file.
"$KT" topic "$KDIR" paced 3 || fail "cannot create topic paced"
PGEN=(--stream clicks --rate 4000 --seed 45 --invalid 0.05)
stop_produce TERM "$T/paced.err" --brokers "$B" --topic paced "${PGEN[@]}" --duration 60
sent=$(grep -o 'msg="stopped" sent=[0-9]* delivered=[0-9]* failed=0' "$T/paced.err" | sed 's/.*sent=\([0-9]*\) delivered=\([0-9]*\).*/\1 \2/')
[ -n "$sent" ] || fail "produce did not log msg=\"stopped\" with its totals: $(tail -n 2 "$T/paced.err")"
set -- $sent
[ "$1" = "$2" ] || check_failed "produce stopped with $1 sent but $2 delivered"
timeout 120 kcat -C -b "$B" -t paced -o beginning -e -q -f '%s\n' >"$T/paced.got" 2>/dev/null || fail "kcat could not read topic paced"
"$SHOPSTREAM_BIN" produce --out "$T/paced.want" "${PGEN[@]}" --events $(($1 + 1000)) 2>/dev/null || fail "produce --out"
cmp -s <(sort "$T/paced.got") <(head -n "$1" "$T/paced.want" | sort) ||
    check_failed "topic paced ($(wc -l <"$T/paced.got") messages) is not the generator's first $1 records"
note "produce --brokers stopped by SIGTERM after $1 records: all delivered, the topic holds exactly them"
finish
