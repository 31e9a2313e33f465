#!/usr/bin/env bash
# 0403 — failures around a real Kafka broker: nothing is lost.
#
# Data: generated clicks (2 % duplicates, 2 % invalid) in a 3-partition topic; lateness 4h so
# that no record can be late under any interleaving (see 0401).
#
# 1. Consumer crash: run 1 (unbounded, group e2e-0403, epochs of 20 000 records) is killed
#    with SIGKILL once it has committed offsets of all 3 partitions. It reads slowly on purpose
#    (-X queued.min.messages=1000: librdkafka 2.0.2 then fetches about 1 000 records per
#    partition per second): at full speed it had often committed 80-96 % of the topic by
#    the time the offset check (a JVM start) saw a commit, and at times all of it, and the
#    kill was no longer mid-stream (e below). The group's committed offsets
#    C[p] are read from the broker; run 2 (same group, --exit-at-end) finishes the topic.
#    Operator state is not checkpointed (checkpoints are not built yet), so only per-record outputs
#    are compared: dlq rows (origin = topic, partition, offset) and high_value_order alerts
#    (origin = every offset holding that event). Asserted:
#    a. nothing lost, nothing invented: run 1 ∪ run 2 = the model's rows, value for value;
#    b. offsets are committed only after their outputs: every model row whose origin is
#       below C[p] is in run 1's output;
#    c. run 2 resumes exactly at C: its data_quality total is (records in the topic) − ΣC;
#       it has every model dlq row at offset >= C[p] and none below;
#    d. repeats only for what was in flight: a dlq row in both runs has offset >= C[p];
#       an alert in run 2 has an occurrence of its event at offset >= C[p] (a redelivered
#       copy whose original run 1 saw is new to run 2's empty dedup state);
#    e. the kill came mid-stream: 0 < ΣC < records in the topic.
# 2. Broker restart: run 3 (--exit-at-end, new group) is running when the broker is stopped
#    (scripts/kafka-test-server stop) and started again on the same data and port
#    (scripts/kafka-test-server resume); it must finish by itself, and every table must equal
#    the model exactly: nothing lost, nothing read twice. When the outage outlasts
#    session.timeout.ms (6 s here) the group takes the partitions away and hands them back;
#    the source then resumes at its own position, not at the older committed offset, so no
#    record is re-read (a re-read would repeat dlq rows and inflate data_quality: R below).
#    Run 3 also writes the Kafka sink through the outage: its dead-letter topic must hold
#    every invalid record exactly once (the idempotent producer's retries write no copy).
# requires: kafka
source "$(dirname "$0")/lib.sh"
need_bin
command -v kcat >/dev/null || fail "kcat not found (scripts/install-deps installs it)"
N=600000
[ "$E2E_QUICK" = 1 ] && N=200000

kafka_clicks_topic 31
timeout 120 kcat -C -b "$B" -t clicks -o beginning -e -q -J >"$T/dump.json" 2>"$T/dump.err" || fail "kcat could not read clicks"
"$PY" "$E2E_DIR/model.py" --set lateness=4h clicks="$G" --out "$T/model" >/dev/null || fail "model failed"
SET=(--set lateness=4h -X session.timeout.ms=6000 -X heartbeat.interval.ms=500)

committed() { kafka_committed "$KDIR" "$B" "$1.clicks" clicks; }

# ---- 1. SIGKILL mid-stream, restart in the same group --------------------------------------
R1=$T/run1; R2=$T/run2
mkdir -p "$R1" "$R2"
"$SHOPSTREAM_BIN" run --input clicks="kafka://$B/clicks" "${SET[@]}" --set kafka.group_id=e2e-0403 \
    --set epoch.events=20000 -X queued.min.messages=1000 --sink "jsonl:$R1" 2>"$R1.stderr" &
P1=$!; PIDS+=("$P1")
committed_some() {
    kill -0 "$P1" 2>/dev/null || { tail -n 5 "$R1.stderr" >&2; fail "run 1 ended by itself"; }
    [ "$(committed e2e-0403 | wc -l)" -ge 3 ]
}
poll_until 120 "run 1 to commit offsets of every partition" committed_some
kill -0 "$P1" 2>/dev/null || { tail -5 "$R1.stderr" >&2; fail "run 1 ended by itself"; }
kill -KILL "$P1"
wait "$P1" 2>/dev/null
committed e2e-0403 >"$T/committed"
note "run 1 killed; committed offsets: $(tr '\n' ' ' <"$T/committed")"
rc=0
timeout 300 "$SHOPSTREAM_BIN" run --input clicks="kafka://$B/clicks" "${SET[@]}" --set kafka.group_id=e2e-0403 \
    --exit-at-end --sink "jsonl:$R2" 2>"$R2.stderr" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$R2.stderr" >&2; fail "run 2 exited $rc"; }

PYTHONPATH="$E2E_DIR" "$PY" - "$T/dump.json" "$T/model" "$R1" "$R2" "$T/committed" "$G" <<'PYEOF' || check_failed "consumer crash and restart (above)"
import sys
from collections import defaultdict
from kafka_origins import Dump, by_key, rows, model_dlq_by_origin
dump, model, r1, r2, cfile, path = sys.argv[1:7]
C = {int(p): int(o) for p, o in (l.split() for l in open(cfile))}
D = Dump(dump)
occ, nmsg = D.occ, len(D)
hv = lambda r: r["kind"] == "high_value_order"
bad = []
committed = sum(C.values())
if not (0 < committed < nmsg) or sorted(C) != [0, 1, 2]:
    bad.append("committed offsets %s: the kill did not come mid-stream (%d records)" % (C, nmsg))
below = lambda p, o: o < C.get(p, 0)
# dlq: keyed by origin (the model read the file: its line n is the Kafka message with the
# same record)
md = {k[1:]: r for k, r in model_dlq_by_origin(model, {"clicks": ("clicks", D.origins_of_lines(path))}).items()}
d1, d2 = defaultdict(list), defaultdict(list)
for d, out in ((d1, r1), (d2, r2)):
    for r in rows(out, "dlq"):
        d[(r["partition"], r["offset"])].append(r)
for k, m in md.items():
    for name, d in (("run 1", d1), ("run 2", d2)):
        for r in d.get(k, []):
            if r != m:
                bad.append("dlq %s: %s row %s, model %s" % (k, name, r, m))
    if k not in d1 and k not in d2:
        bad.append("dlq row lost: %s" % m)
    if below(*k) and k not in d1:
        bad.append("dlq row below the committed offset not in run 1's output: %s" % (k,))
    if not below(*k) and k not in d2:
        bad.append("dlq row at or above the committed offset not in run 2's output: %s" % (k,))
for name, d in (("run 1", d1), ("run 2", d2)):
    for k, v in d.items():
        if k not in md:
            bad.append("%s: dlq row the model does not have: %s" % (name, v[0]))
        if len(v) > 1:
            bad.append("%s: dlq row %s %d times" % (name, k, len(v)))
for k in d2:
    if below(*k):
        bad.append("run 2 re-read %s below the committed offset" % (k,))
both = [k for k in d1 if k in d2]
# high_value alerts: keyed by alert_id, origins = every occurrence of the event
alert_id = lambda r: r["alert_id"]
ma = by_key(rows(model, "alerts", hv), alert_id, "model: alerts", bad)
a1 = by_key(rows(r1, "alerts", hv), alert_id, "run 1: alerts", bad)
a2 = by_key(rows(r2, "alerts", hv), alert_id, "run 2: alerts", bad)
for aid, m in ma.items():
    ev = aid[len("high_value_order:"):]
    if aid not in a1 and aid not in a2:
        bad.append("alert lost: %s" % aid)
    if all(below(p, o) for p, o in occ[ev]) and aid not in a1:
        bad.append("alert of an event below the committed offsets not in run 1's output: %s" % aid)
    if not below(*occ[ev][0]) and aid not in a2:
        bad.append("alert of an event first seen at or above the committed offset not in run 2: %s" % aid)
for name, a in (("run 1", a1), ("run 2", a2)):
    for aid, r in a.items():
        if ma.get(aid) != r:
            bad.append("%s: alert %s differs from the model's %s" % (name, r, ma.get(aid)))
for aid in a2:
    ev = aid[len("high_value_order:"):]
    if all(below(p, o) for p, o in occ[ev]):
        bad.append("run 2 alerts %s, whose event lies wholly below the committed offsets" % aid)
tot2 = sum(r["total"] for r in rows(r2, "data_quality"))
if tot2 != nmsg - committed:
    bad.append("run 2 processed %d records, expected %d - %d = %d" % (tot2, nmsg, committed, nmsg - committed))
print("    %d records; committed %d at the kill; run 1 dlq %d / alerts %d, run 2 dlq %d / alerts %d / records %d;"
      " model dlq %d / alerts %d; in both runs: dlq %d, alerts %d"
      % (nmsg, committed, len(d1), len(a1), len(d2), len(a2), tot2, len(md), len(ma), len(both), len([a for a in a1 if a in a2])))
if not md or not ma:
    bad.append("no dlq rows or no alerts: the test exercises nothing")
for b in bad[:15]:
    print("FAIL", b)
sys.exit(1 if bad else 0)
PYEOF

# ---- 2. broker stopped and started again during a run -----------------------------------
R3=$T/run3
mkdir -p "$R3"
for t in dlq3 alerts3 pm3 late3; do "$KT" topic "$KDIR" "$t" 1 || fail "cannot create topic $t"; done
"$SHOPSTREAM_BIN" run --input clicks="kafka://$B/clicks" "${SET[@]}" --set kafka.group_id=e2e-0403b \
    --exit-at-end --set epoch.events=20000 -X queued.max.messages.kbytes=1024 \
    -X max.partition.fetch.bytes=65536 --sink "jsonl:$R3" \
    --sink "kafka://$B?dlq=dlq3&alerts=alerts3&promo_matches=pm3&late=late3" 2>"$R3.stderr" &
P3=$!; PIDS+=("$P3")
started() {
    kill -0 "$P3" 2>/dev/null || { tail -n 5 "$R3.stderr" >&2; fail "run 3 ended before the broker could be stopped"; }
    [ -s "$R3/dlq.jsonl" ]
}
poll_until 120 "run 3 to commit a first epoch" started
kill -0 "$P3" 2>/dev/null || fail "run 3 ended before the broker could be stopped (make N larger)"
"$KT" stop "$KDIR" || fail "cannot stop the broker"
before=$(wc -l <"$R3/dlq.jsonl")
kill -0 "$P3" 2>/dev/null || fail "run 3 exited when the broker stopped"
"$KT" resume "$KDIR" >/dev/null 2>"$T/resume.err" || { cat "$T/resume.err" >&2; fail "cannot start the broker again"; }
note "broker restarted while run 3 had written $before of $(wc -l <"$T/model/dlq.jsonl") dlq rows"
rc=0
timeout 300 tail --pid="$P3" -f /dev/null || fail "run 3 did not finish within 300 s after the broker restart"
wait "$P3" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$R3.stderr" >&2; fail "run 3 exited $rc after the broker restart"; }
grep -q 'Kafka error\|consumer error' "$R3.stderr" || note "(run 3 logged no Kafka error while the broker was down)"
[ "$before" -lt "$(wc -l <"$T/model/dlq.jsonl")" ] || check_failed "run 3 had already written every dlq row when the broker stopped: nothing tested"
# origins: the topic's (partition, offset) -> file line, by record content (identical records in offset order)
PYTHONPATH="$E2E_DIR" "$PY" - "$T/dump.json" "$G" "$R3" "$T/mapped3" <<'PYEOF' || check_failed "run 3 dlq origins"
import json, os, shutil, sys
from collections import defaultdict
from kafka_origins import Dump
dump, path, out, mapped = sys.argv[1:5]
D = Dump(dump)
at = D.at
coord = {po: n for n, po in D.origins_of_lines(path).items()}
os.makedirs(mapped, exist_ok=True)
bad = 0
# A replay (the group lost the partitions while the broker was away and gave them back to
# this process, which re-reads from the committed offsets with its state kept) shows as
# exact repeats of dlq rows and larger data_quality totals. Allowed, but only exactly so:
# R = total - records in the topic; the repeated dlq rows are the re-read invalid records
# (counted again per reason); every other re-read record is counted as a duplicate (so no
# aggregate counts an event twice). data_quality minus those counts must equal the model.
seen, rep = set(), defaultdict(int)
for l in open(os.path.join(out, "dlq.jsonl")):
    r = json.loads(l)
    k = (r["partition"], r["offset"])
    if k in seen:
        rep[r["reason"]] += 1
    seen.add(k)
dq = [json.loads(l) for l in open(os.path.join(out, "data_quality.jsonl")) if l.strip()]
cols = list(dq[0].keys())
tot = {c: sum(r[c] for r in dq) for c in cols if c not in ("minute_start", "quality_score")}
R = tot["total"] - len(at)
inv = sum(rep.values())
if R < 0 or R < inv:
    bad += 1
    print("FAIL data_quality total %d, %d records in the topic, %d repeated dlq rows" % (tot["total"], len(at), inv))
if R:
    bad += 1
    print("FAIL the run re-read %d records after the broker restart (%d invalid: repeated dlq rows)" % (R, inv))
tot["total"] -= R
tot["valid"] -= R - inv
tot["duplicates"] -= R - inv
for reason, n in rep.items():
    tot["missing_field" if reason.startswith("missing_") else reason] -= n
from decimal import Decimal, ROUND_HALF_UP
row = dict(dq[0])
row.update(tot)
row["quality_score"] = "__Q__"
q = (Decimal(tot["valid"]) / Decimal(tot["total"])).quantize(Decimal("0.0001"), ROUND_HALF_UP)
with open(os.path.join(mapped, "data_quality.jsonl"), "w") as w:
    w.write(json.dumps(row, separators=(",", ":")).replace('"__Q__"', str(q)) + "\n")
done = set()
for name in os.listdir(out):
    if name == "data_quality.jsonl":
        continue
    if name != "dlq.jsonl":
        shutil.copyfile(os.path.join(out, name), os.path.join(mapped, name))
        continue
    with open(os.path.join(out, name)) as fh, open(os.path.join(mapped, name), "w") as w:
        for l in fh:
            r = json.loads(l)
            po = (r["partition"], r["offset"])
            if po in done:
                continue
            done.add(po)
            if r["source"] != "clicks" or at.get(po) != r["record"]:
                bad += 1
                print("FAIL dlq row with a wrong origin: %s" % l[:200])
                continue
            r["source"], r["partition"], r["offset"] = path, 0, coord[po]
            w.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
sys.exit(1 if bad else 0)
PYEOF
compare_with_model "$T/mapped3" --set lateness=4h clicks="$G"
# the Kafka sink of run 3 wrote through the same broker restart: its idempotent producer
# retried, so the dead-letter topic holds every invalid record exactly once
timeout 120 kcat -C -b "$B" -t dlq3 -o beginning -e -q -J >"$T/dlq3.json" 2>"$T/dlq3.err" ||
    { cat "$T/dlq3.err" >&2; fail "kcat could not read topic dlq3"; }
"$PY" - "$T/dlq3.json" "$T/model/dlq.jsonl" <<'PYEOF' || check_failed "the dlq topic written through the broker restart"
import json, sys
from collections import Counter
msgs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = Counter(json.loads(l)["record"] for l in open(sys.argv[2]) if l.strip())
def origin(m):
    h = m.get("headers") or []
    d = dict(zip(h[0::2], h[1::2]))
    return (d.get("partition"), d.get("offset"))
got = Counter(m["payload"] for m in msgs)
twice = [o for o, n in Counter(origin(m) for m in msgs).items() if n > 1]
print("    dlq3 topic: %d messages, model %d dlq rows; %d origins twice; %d missing, %d extra"
      % (len(msgs), sum(want.values()), len(twice), sum((want - got).values()), sum((got - want).values())))
sys.exit(0 if got == want and not twice else 1)
PYEOF
finish
