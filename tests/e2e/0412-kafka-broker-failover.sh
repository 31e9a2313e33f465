#!/usr/bin/env bash
# 0412 — a broker of a replicated cluster dies: a real 3-node Kafka 3.9.1 cluster
# (scripts/kafka-test-server cluster-start: combined broker+controller nodes, 3-voter KRaft
# quorum), topics with replication factor 3 and min.insync.replicas=2.
#
# a. `produce --brokers ALL3` writes 200 000 generated clicks (2 % duplicates, 2 % invalid) to
#    a 3-partition topic; once it reports progress, the leader of partition 0 is killed
#    (SIGKILL) and started again once produce has finished. Produce must exit 0 with every
#    record delivered, and the topic must hold exactly the generator's records, each once
#    (as multisets; its idempotent producer resends a batch whose acknowledgement died with
#    the leader, and the broker drops the copy: before, 77 of 300 000 were written twice).
# b. `run --input clicks=kafka://ALL3/clicks --exit-at-end` (slowed by a small fetch size,
#    so the failure falls mid-stream) with a JSONL sink and a Kafka sink (dlq, alerts,
#    promo_matches, late topics, 3 partitions, RF 3): once it has committed a first epoch, the
#    node that coordinates its group is killed (SIGKILL), kept down 10 s, and started again.
#    After a the preferred leaders were elected again, so every node leads one partition of
#    clicks (checked): the kill moves a clicks leader and the group coordinator at once,
#    besides leaders of the sink's topics and __consumer_offsets. Asserted:
#    - the run is still running after the kill and exits 0 by itself;
#    - nothing read twice: data_quality's total is the topic's record count and no dlq origin
#      occurs twice (a replay would have to show here; none is accepted, as in 0403);
#    - every JSONL table equals the model of the same generated data exactly (lateness 4h: no
#      record can be late under any partition interleaving, see 0401), dlq rows mapped from
#      their Kafka origin (checked to hold the row's record) to the file's line;
#    - the dlq topic holds every invalid record of the model exactly once, the alerts topic
#      exactly the rows of alerts.jsonl, each once (idempotent producer; no re-read, so no
#      at-least-once repeat is accepted either);
#    - the group committed the end of every partition;
#    - logs are clear, not a flood: the run logs at most 30 warning/error lines in all, and
#      no "Kafka error" code is logged more often than once per 30 s of the run.
# The stalls (produce: from the kill to its next progress line with records delivered;
# run: from the kill to the next committed epoch) are printed, not asserted.
# requires: kafka
source "$(dirname "$0")/lib.sh"
need_bin
command -v kcat >/dev/null || fail "kcat not found (scripts/install-deps installs it)"
N=200000
SET=(--set lateness=4h -X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
KT="$REPO_DIR/scripts/kafka-test-server"
KDIR="$T/kafka"
PIDS=()
_cluster_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    "$KT" cluster-stop "$KDIR" >/dev/null 2>&1 || true
    _e2e_cleanup
}
trap _cluster_cleanup EXIT
t0=$SECONDS
B=$("$KT" cluster-start "$KDIR" 2>"$T/kafka-start.err") || { cat "$T/kafka-start.err" >&2; fail "cannot start the 3-node cluster"; }
note "cluster $B ($((SECONDS - t0))s)"
for t in clicks f_dlq f_alerts f_pm f_late; do "$KT" cluster-topic "$KDIR" "$t" 3 || fail "cannot create topic $t"; done

GEN=(--stream clicks --events "$N" --seed 41 --duplicates 0.02 --invalid 0.02 --rate 250)
G=$T/clicks.jsonl
"$SHOPSTREAM_BIN" produce --out "$G" "${GEN[@]}" 2>"$T/p.err" || { cat "$T/p.err" >&2; fail "produce --out"; }
"$PY" "$E2E_DIR/model.py" --set lateness=4h clicks="$G" --out "$T/model" >/dev/null || fail "model failed"

leader_of() { "$KT" cluster-leaders "$KDIR" "$1" | awk -v p="$2" '$1 == p { print $2 }'; }
now_ms() { date +%s%3N; }

# ---- a. produce through the death of a partition leader -------------------------------------
L=$(leader_of clicks 0)
[ -n "$L" ] || fail "no leader for clicks [0]"
"$SHOPSTREAM_BIN" produce --brokers "$B" "${GEN[@]}" 2>"$T/pk.err" &
PP=$!; PIDS+=("$PP")
poll_until 60 "produce to report progress" grep -q '^produce: progress' "$T/pk.err"
kill -0 "$PP" 2>/dev/null || fail "produce ended before the leader could be killed"
"$KT" cluster-kill "$KDIR" "$L" >/dev/null || fail "cannot kill node $L"
killed=$(now_ms)
lines_at_kill=$(grep -c '^produce: progress' "$T/pk.err")
kill -0 "$PP" 2>/dev/null || check_failed "produce had finished when node $L was killed: nothing tested"
rc=0
timeout 300 tail --pid="$PP" -f /dev/null || fail "produce did not finish within 300 s of the kill"
wait "$PP" || rc=$?
ended=$(now_ms)
[ $rc -eq 0 ] || { tail -n 20 "$T/pk.err" >&2; fail "produce exited $rc with node $L killed"; }
note "a: node $L (leader of clicks [0]) killed mid-produce; produce exit 0 $(( (ended - killed) / 1000 ))s after the kill"
"$PY" - "$T/pk.err" "$lines_at_kill" <<'PYEOF'
import re, sys
ls = [l for l in open(sys.argv[1]) if l.startswith("produce: progress")][int(sys.argv[2]):]
rates = [int(re.search(r"rate=(\d+)", l).group(1)) for l in ls]
slow = 0
for r in rates:
    if r > 1000: break
    slow += 1
print("    a: %d progress lines of < 1000 records/s after the kill (the stall, about 1 s each)" % slow)
PYEOF
warns=$(grep -c '^level=\(warn\|error\)' "$T/pk.err")
note "a: produce logged $warns warning/error lines: $(grep '^level=\(warn\|error\)' "$T/pk.err" | sed 's/.*msg="\[[^]]*\]: //; s/.*msg="//; s/ (after.*//; s/".*//' | sort | uniq -c | sort -rn | head -5 | tr -s ' ' | tr '\n' ';')"
grep -q 'delivered=200000 failed=0' "$T/pk.err" || check_failed "produce does not report every record delivered: $(grep 'msg="done"' "$T/pk.err")"
"$KT" cluster-resume "$KDIR" "$L" 2>"$T/resume-a.err" >/dev/null || { cat "$T/resume-a.err" >&2; fail "cannot restart node $L"; }
# back in sync, node L leads its preferred partitions again: in b each node leads one of clicks
t1=$SECONDS
"$KT" cluster-elect "$KDIR" || fail "cannot elect the preferred leaders again"
note "a: node $L restarted and preferred leaders elected in $((SECONDS - t1))s"
timeout 120 kcat -C -b "$B" -t clicks -o beginning -e -q -J >"$T/dump.json" 2>"$T/dump.err" || { cat "$T/dump.err" >&2; fail "kcat could not read clicks"; }
"$PY" - "$T/dump.json" "$G" <<'PYEOF' || check_failed "a: the topic written through the leader's death"
import json, sys
from collections import Counter
got = Counter(json.loads(l)["payload"] for l in open(sys.argv[1]) if l.strip())
want = Counter(l.rstrip("\n") for l in open(sys.argv[2]) if l.strip())
print("    a: topic clicks holds %d records, the generator wrote %d; %d missing, %d extra copies"
      % (sum(got.values()), sum(want.values()), sum((want - got).values()), sum((got - want).values())))
sys.exit(0 if got == want else 1)
PYEOF

# ---- b. the engine through the death of its group coordinator -------------------------------
GROUP=e2e-0412
OUT=$T/out
mkdir -p "$OUT"
"$SHOPSTREAM_BIN" run --input clicks="kafka://$B/clicks" "${SET[@]}" --set kafka.group_id="$GROUP" \
    --exit-at-end --set epoch.events=10000 -X queued.max.messages.kbytes=1024 \
    -X max.partition.fetch.bytes=65536 --sink "jsonl:$OUT" \
    --sink "kafka://$B?dlq=f_dlq&alerts=f_alerts&promo_matches=f_pm&late=f_late" 2>"$OUT.stderr" &
PR=$!; PIDS+=("$PR")
run_t0=$SECONDS
started() {
    kill -0 "$PR" 2>/dev/null || { tail -n 5 "$OUT.stderr" >&2; fail "the run ended before a node could be killed"; }
    [ -s "$OUT/dlq.jsonl" ]
}
poll_until 120 "the run to commit a first epoch" started
# (the group's coordinator is known once __consumer_offsets exists: after the first commit)
C=$("$KT" cluster-coordinator "$KDIR" "$GROUP.clicks")
[ -n "$C" ] || fail "cannot find the coordinator of group $GROUP.clicks"
"$KT" cluster-leaders "$KDIR" clicks | awk '{ printf "%s[%d]=node %d", (NR > 1 ? ", " : ""), $1, $2 }' >"$T/leaders"
grep -q "=node $C\b" "$T/leaders" || check_failed "node $C coordinates the group but leads no partition of clicks ($(cat "$T/leaders")): the kill would not move a partition leader"
"$KT" cluster-kill "$KDIR" "$C" >/dev/null || fail "cannot kill node $C"
killed=$(now_ms)
before=$(wc -l <"$OUT/dlq.jsonl")
kill -0 "$PR" 2>/dev/null || fail "the run exited when node $C was killed"
grown() { [ "$(wc -l <"$OUT/dlq.jsonl")" -gt "$before" ] || ! kill -0 "$PR" 2>/dev/null; }
# the outage under test has a length: the node stays down 10 s (this one wait is a sleep)
sleep 10
"$KT" cluster-resume "$KDIR" "$C" 2>"$T/resume-b.err" >/dev/null || { cat "$T/resume-b.err" >&2; fail "cannot restart node $C"; }
poll_until 120 "the run to commit an epoch after the kill" grown
note "b: node $C (group coordinator; clicks $(cat "$T/leaders")) killed with $before of $(wc -l <"$T/model/dlq.jsonl") dlq rows written, back after 10 s; the next epoch came $(( ($(now_ms) - killed) / 1000 ))s after the kill (or later)"
rc=0
timeout 300 tail --pid="$PR" -f /dev/null || fail "the run did not finish within 300 s"
wait "$PR" || rc=$?
run_s=$((SECONDS - run_t0))
[ $rc -eq 0 ] || { tail -n 20 "$OUT.stderr" >&2; fail "the run exited $rc"; }
[ "$before" -lt "$(wc -l <"$T/model/dlq.jsonl")" ] || check_failed "the run had written every dlq row when node $C was killed: nothing tested"

# logs: clear, not a flood
warns=$(grep -c '^level=\(warn\|error\)' "$OUT.stderr")
note "b: the run logged $warns warning/error lines: $(grep '^level=\(warn\|error\)' "$OUT.stderr" | sed 's/.*msg="\[[^]]*\]: //; s/.*msg="//; s/ (after.*//; s/".*//' | sort | uniq -c | sort -rn | head -6 | tr -s ' ' | tr '\n' ';')"
[ "$warns" -le 30 ] || { grep '^level=\(warn\|error\)' "$OUT.stderr" | head -40 >&2; check_failed "the run logged $warns warning/error lines through one broker's death (a flood)"; }
# log lines carry no time: an error code may be logged once per 30 s of the run, plus once
"$PY" - "$OUT.stderr" "$run_s" <<'PYEOF' || check_failed "a Kafka error logged more often than once per 30 s"
import re, sys
from collections import Counter
n = Counter(m.group(1) for m in (re.search(r'msg="Kafka error".*? err="([^"]*)"', l) for l in open(sys.argv[1])) if m)
limit = 1 + int(sys.argv[2]) // 30
bad = {e: k for e, k in n.items() if k > limit}
for e, k in bad.items():
    print("FAIL Kafka error %r logged %d times in a %s s run" % (e, k, sys.argv[2]))
sys.exit(1 if bad else 0)
PYEOF

# exact tables: dlq origins mapped to file lines; nothing read twice
PYTHONPATH="$E2E_DIR" "$PY" - "$T/dump.json" "$G" "$OUT" "$T/mapped" <<'PYEOF' || check_failed "b: re-read records or wrong dlq origins"
import json, os, shutil, sys
from kafka_origins import Dump, rows
dump, path, out, mapped = sys.argv[1:5]
D = Dump(dump)
coord = {po: n for n, po in D.origins_of_lines(path).items()}
os.makedirs(mapped, exist_ok=True)
bad = []
total = sum(r["total"] for r in rows(out, "data_quality"))
if total != len(D):
    bad.append("data_quality counts %d records, the topic holds %d: records read twice or missed" % (total, len(D)))
seen = set()
for name in os.listdir(out):
    if name != "dlq.jsonl":
        shutil.copyfile(os.path.join(out, name), os.path.join(mapped, name))
with open(os.path.join(mapped, "dlq.jsonl"), "w") as w:
    for r in rows(out, "dlq"):
        po = (r["partition"], r["offset"])
        if po in seen:
            bad.append("dlq origin %s twice" % (po,))
        seen.add(po)
        if r["source"] != "clicks" or D.at.get(po) != r["record"]:
            bad.append("dlq row with a wrong origin: %s" % json.dumps(r)[:200])
            continue
        r["source"], r["partition"], r["offset"] = path, 0, coord[po]
        w.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
print("    b: %d records processed, %d in the topic; %d dlq rows" % (total, len(D), len(seen)))
for b in bad[:10]:
    print("FAIL", b)
sys.exit(1 if bad else 0)
PYEOF
compare_with_model "$T/mapped" --set lateness=4h clicks="$G"

# the Kafka sink's topics
for t in f_dlq f_alerts; do
    timeout 120 kcat -C -b "$B" -t "$t" -o beginning -e -q -J >"$T/$t.json" 2>"$T/$t.err" || { cat "$T/$t.err" >&2; fail "kcat could not read $t"; }
done
"$PY" - "$T/f_dlq.json" "$T/model/dlq.jsonl" "$T/f_alerts.json" "$OUT/alerts.jsonl" <<'PYEOF' || check_failed "b: the Kafka sink's topics"
import json, sys
from collections import Counter
def msgs(p): return [json.loads(l) for l in open(p) if l.strip()]
def origin(m):
    h = m.get("headers") or []
    d = dict(zip(h[0::2], h[1::2]))
    return (d.get("partition"), d.get("offset"))
dl = msgs(sys.argv[1])
want = Counter(json.loads(l)["record"] for l in open(sys.argv[2]) if l.strip())
got = Counter(m["payload"] for m in dl)
twice = [o for o, n in Counter(origin(m) for m in dl).items() if n > 1]
al = Counter(m["payload"] for m in msgs(sys.argv[3]))
rows = Counter(l.rstrip("\n") for l in open(sys.argv[4]) if l.strip())
print("    b: dlq topic %d messages, model %d invalid records: %d missing, %d extra, %d origins twice;"
      " alerts topic %d messages, alerts.jsonl %d rows: %d missing, %d extra"
      % (len(dl), sum(want.values()), sum((want - got).values()), sum((got - want).values()), len(twice),
         sum(al.values()), sum(rows.values()), sum((rows - al).values()), sum((al - rows).values())))
ok = got == want and not twice and al == rows and want and rows
sys.exit(0 if ok else 1)
PYEOF

# the group committed the end of every partition
"$PY" - "$T/dump.json" > "$T/ends" <<'PYEOF'
import json, sys
end = {}
for l in open(sys.argv[1]):
    m = json.loads(l); end[m["partition"]] = max(end.get(m["partition"], 0), m["offset"] + 1)
for p in sorted(end): print(p, end[p])
PYEOF
kafka_committed "$KDIR" "$B" "$GROUP.clicks" clicks >"$T/committed"
diff "$T/ends" "$T/committed" >/dev/null || check_failed "committed offsets $(tr '\n' ' ' <"$T/committed"), partition ends $(tr '\n' ' ' <"$T/ends")"
note "total $((SECONDS - t0))s"
finish
