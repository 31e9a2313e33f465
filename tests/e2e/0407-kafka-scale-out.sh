#!/usr/bin/env bash
# 0407 — scale-out over a consumer group (DESIGN §7): two engines share a topic's partitions,
# a partition that moves between them is handed over with nothing lost or read twice, and
# each reads every promotion.
#
# Data: generated clicks (2 % duplicates, 2 % invalid) written to a 3-partition topic in three
# parts, keyed by user_id, and their promotions, written whole to a 3-partition topic before
# the engines start. Lateness 4h and join.grace 24h, so that nothing depends on how the
# partitions interleave (see 0401): every click matches the promotions of its product and
# time, whichever of the two arrives first.
# 1. Engine A (unbounded, group e2e-0407, epochs of 5 000 records; sinks jsonl and a lake with
#    roll_interval=1h, which holds every epoch in open files, so the group commits nothing
#    while A runs) alone reads part 1: its jsonl sink shows every dead-letter row of part 1,
#    and the group has still committed nothing.
# 2. Engine B (jsonl only, its own directory) joins the group: cooperative-sticky moves at
#    least one partition of clicks from A to B. On the revocation A must seal its epoch (the
#    lake closes its files) and commit, or B would start that partition from the beginning; so
#    the group has then committed the end of part 1 in every partition. Part 2 is written;
#    both engines read it.
# 3. A gets SIGTERM: it finishes its epoch, commits and leaves; B takes A's partitions.
#    Part 3 is written; B reads it and commits; then B gets SIGTERM.
# Asserted:
#    a. dead-letter rows, keyed by origin (partition, offset): A ∪ B is the model's set, value
#       for value, and no row is in both, or twice in one (each record read exactly once);
#    b. data_quality: A's and B's totals add up to the clicks in the topic plus the
#       promotions twice (each engine reads them all);
#    c. the handovers happened mid-stream: some partition has rows from A and then, at higher
#       offsets only, from B (step 2), and A also read part 2 of a partition B took later
#       (step 3); both engines exit 0;
#    d. the group has committed the end of every clicks partition;
#    e. promo_matches, keyed by (event_id, promo_id): A ∪ B is the model's set, value for
#       value. If promotions were shared out like clicks, B would hold only some (those of
#       the promotions partitions it was given, read from where A committed them) and miss
#       matches; so each engine reads the whole promotions topic, outside the group;
#    f. high_value_order alerts (one per purchase event): every alert of the model is in A ∪ B
#       with the model's values, and neither has one the model lacks.
#    Dedup state does not move with a partition (no checkpoints yet), so a match or an alert
#    may come from both engines only when its event was redelivered after the handover; the
#    counts are printed.
# requires: kafka
source "$(dirname "$0")/lib.sh"
need_bin
command -v kcat >/dev/null || fail "kcat not found (scripts/install-deps installs it)"
N=300000
[ "$E2E_QUICK" = 1 ] && N=150000

kafka_broker_start
for t in clicks promotions; do "$KT" topic "$KDIR" "$t" 3 || fail "cannot create topic $t"; done
"$SHOPSTREAM_BIN" produce --out-dir "$T/gen" --format json --events "$N" --seed 47 --duplicates 0.02 --invalid 0.02 \
    --rate 250 --orders-share 0 2>"$T/p.err" || { cat "$T/p.err" >&2; fail "produce --out-dir"; }
G=$T/gen/clicks.jsonl
P=$T/gen/promotions.jsonl
"$PY" "$E2E_DIR/model.py" --set lateness=4h --set join.grace=24h promotions="$P" clicks="$G" --out "$T/model" \
    >/dev/null || fail "model failed"
SET=(--input promotions="kafka://$B/promotions" --input clicks="kafka://$B/clicks" --set lateness=4h
     --set join.grace=24h --set kafka.group_id=e2e-0407 --set epoch.events=5000
     -X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
committed() { kafka_committed "$KDIR" "$B" e2e-0407.clicks clicks; }

# write_lines FILE TOPIC KEY FROM TO: lines FROM..TO of FILE to TOPIC, keyed by their field KEY
# (so a user's records keep one partition and their order, as `produce` keys them).
write_lines() {
    "$PY" - "$1" "$4" "$5" "$3" >"$T/part.kv" <<'PYEOF' || fail "cannot key lines $4-$5 of $1"
import json, sys
path, lo, hi, field = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
out = sys.stdout.buffer
with open(path, "rb") as f:
    for n, line in enumerate(f, 1):
        if n < lo or n > hi:
            continue
        try:
            r = json.loads(line)
            key = r.get(field) if isinstance(r, dict) else None
        except ValueError:
            key = None
        key = key if isinstance(key, str) and "\t" not in key and "\n" not in key else ""
        out.write(key.encode() + b"\t" + line.rstrip(b"\n") + b"\n")
PYEOF
    timeout 120 kcat -P -b "$B" -t "$2" -K $'\t' -X queue.buffering.max.ms=5 <"$T/part.kv" 2>"$T/kcat.err" ||
        { cat "$T/kcat.err" >&2; fail "kcat could not write lines $4-$5 of $1 to $2"; }
}
# write_part FROM TO: clicks lines FROM..TO; $written counts them
written=0
write_part() {
    write_lines "$G" clicks user_id "$1" "$2"
    written=$((written + $2 - $1 + 1))
}
# all_committed: the group has committed exactly the $written records written so far.
all_committed() {
    local sum
    sum=$(committed | awk '{ s += $2 } END { print s + 0 }')
    [ "$sum" -eq "$written" ]
}
# owns ERRFILE: clicks partitions the engine logging to ERRFILE holds (assigned minus revoked or lost).
owns() {
    awk '/msg="partitions assigned" topic=clicks /      { split($0, a, "count="); n += a[2] + 0 }
         /msg="partitions (revoked|lost)" topic=clicks / { split($0, a, "count="); n -= a[2] + 0 } END { print n + 0 }' "$1"
}
alive() { kill -0 "$1" 2>/dev/null || { tail -n 5 "$2" >&2; fail "$3 ended by itself"; }; }
# stop_engine PID ERRFILE NAME: SIGTERM, then it must exit 0 within 60 s.
stop_engine() {
    local rc=0
    kill -TERM "$1"
    timeout 60 tail --pid="$1" -f /dev/null || fail "$3 did not stop within 60 s of SIGTERM"
    wait "$1" || rc=$?
    [ $rc -eq 0 ] || { tail -n 10 "$2" >&2; check_failed "$3 exited $rc after SIGTERM, expected 0"; }
}

lines=$(wc -l <"$G")
p1=$((lines / 3)); p2=$((2 * lines / 3))
# the model's dead-letter rows of parts 1 and 1-2 (a file input's offset is the line number)
read -r dlq1 dlq2 < <("$PY" -c '
import json, sys
o = [json.loads(l)["offset"] for l in open(sys.argv[1])]
print(sum(x <= int(sys.argv[2]) for x in o), sum(x <= int(sys.argv[3]) for x in o))' "$T/model/dlq.jsonl" "$p1" "$p2")
dlq_rows() { if [ -f "$1/dlq.jsonl" ]; then wc -l <"$1/dlq.jsonl"; else echo 0; fi; }
RA=$T/a; RB=$T/b
mkdir -p "$RA" "$RB"

# ---- 1. A alone ------------------------------------------------------------------------
npromos=$(wc -l <"$P")
write_lines "$P" promotions product_id 1 "$npromos"
write_part 1 "$p1"
"$SHOPSTREAM_BIN" run "${SET[@]}" --sink "jsonl:$RA" \
    --sink "parquet:$T/lake?roll_interval=1h" 2>"$RA.stderr" &
PA=$!; PIDS+=("$PA")
a_read_part1() { alive "$PA" "$RA.stderr" "engine A"; [ "$(dlq_rows "$RA")" -ge "$dlq1" ]; }
poll_until 180 "engine A to write part 1's dead-letter rows" a_read_part1
[ "$(owns "$RA.stderr")" -eq 3 ] || check_failed "engine A alone holds $(owns "$RA.stderr") partitions, expected 3"
[ -z "$(committed)" ] || check_failed "the group committed offsets while A's lake held its epochs: $(committed | tr '\n' ' ')"

# ---- 2. B joins --------------------------------------------------------------------------
"$SHOPSTREAM_BIN" run "${SET[@]}" --sink "jsonl:$RB" 2>"$RB.stderr" &
PB=$!; PIDS+=("$PB")
shared() {
    alive "$PA" "$RA.stderr" "engine A"
    alive "$PB" "$RB.stderr" "engine B"
    [ "$(owns "$RB.stderr")" -ge 1 ] && [ "$(( $(owns "$RA.stderr") + $(owns "$RB.stderr") ))" -eq 3 ]
}
poll_until 120 "engine B to get partitions from A" shared
note "after B joined: A holds $(owns "$RA.stderr"), B holds $(owns "$RB.stderr") partitions"
all_committed || check_failed "after the handover the group has committed $(committed | tr '\n' ' '), expected the end of part 1 ($p1 records) in all"
write_part $((p1 + 1)) "$p2"
both_read_part2() {
    alive "$PA" "$RA.stderr" "engine A"
    alive "$PB" "$RB.stderr" "engine B"
    [ $(( $(dlq_rows "$RA") + $(dlq_rows "$RB") )) -ge "$dlq2" ]
}
poll_until 180 "engines A and B to write part 2's dead-letter rows" both_read_part2

# ---- 3. A leaves -------------------------------------------------------------------------
stop_engine "$PA" "$RA.stderr" "engine A"
b_alone() { alive "$PB" "$RB.stderr" "engine B"; [ "$(owns "$RB.stderr")" -eq 3 ]; }
poll_until 120 "engine B to take A's partitions" b_alone
write_part $((p2 + 1)) "$lines"
b_read_part3() { alive "$PB" "$RB.stderr" "engine B"; all_committed; }
poll_until 180 "engine B to commit part 3" b_read_part3
stop_engine "$PB" "$RB.stderr" "engine B"
committed >"$T/committed"

timeout 120 kcat -C -b "$B" -t clicks -o beginning -e -q -J >"$T/dump.json" 2>"$T/dump.err" || fail "kcat could not read clicks"
PYTHONPATH="$E2E_DIR" "$PY" - "$T/dump.json" "$T/model" "$RA" "$RB" "$T/committed" "$G" "$p1" "$p2" "$npromos" <<'PYEOF' || check_failed "scale-out outputs (above)"
import sys
from collections import defaultdict
from kafka_origins import Dump, rows, model_dlq_by_origin
dump, model, ra, rb, cfile, path = sys.argv[1:7]
p1, p2, npromos = int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])
C = {int(p): int(o) for p, o in (l.split() for l in open(cfile))}
D = Dump(dump)
nmsg, end = len(D), dict(D.end)
bad = []
if C != end:
    bad.append("committed offsets %s, the ends of the partitions are %s" % (C, end))
line_origin = D.origins_of_lines(path)
part_of = {po: 1 if n <= p1 else 2 if n <= p2 else 3 for n, po in line_origin.items()}
md = model_dlq_by_origin(model, line_origin, "clicks")
got = {}
for name, out in (("A", ra), ("B", rb)):
    d = defaultdict(list)
    for r in rows(out, "dlq"):
        d[(r["partition"], r["offset"])].append(r)
    got[name] = d
    for k, v in d.items():
        if len(v) > 1:
            bad.append("engine %s: dlq row %s %d times" % (name, k, len(v)))
        if md.get(k) != v[0]:
            bad.append("engine %s: dlq row %s, model %s" % (name, v[0], md.get(k)))
for k, m in md.items():
    if k not in got["A"] and k not in got["B"]:
        bad.append("dlq row lost: %s" % m)
    if k in got["A"] and k in got["B"]:
        bad.append("dlq row %s read by both engines" % (k,))
# handovers: per partition, the offsets each engine read (its dlq rows)
moved, kept = [], []
for p in sorted(end):
    a = sorted(o for q, o in got["A"] if q == p)
    b = sorted(o for q, o in got["B"] if q == p)
    if a and b and a[-1] > b[0]:
        bad.append("partition %d: engine A read offset %d after engine B had read %d" % (p, a[-1], b[0]))
    if a and b and part_of[(p, b[0])] == 2 and part_of[(p, a[-1])] == 1:
        moved.append(p)   # taken by B when it joined
    if a and b and part_of[(p, a[-1])] == 2:
        kept.append(p)    # A still read part 2 of it; B took it when A left
print("    %d records; A: dlq %d, B: dlq %d, model dlq %d; moved to B when it joined: %s, when A left: %s"
      % (nmsg, sum(map(len, got["A"].values())), sum(map(len, got["B"].values())), len(md), moved, kept))
if not moved:
    bad.append("no partition moved from A to B when B joined (with a row on each side): nothing tested")
if not kept:
    bad.append("A read part 2 of no partition that B then took: the second handover is not tested")
tot = {n: sum(r["total"] for r in rows(out, "data_quality")) for n, out in (("A", ra), ("B", rb))}
if tot["A"] + tot["B"] != nmsg + 2 * npromos:
    bad.append("data_quality totals: A %d + B %d != %d clicks + 2 x %d promotions"
               % (tot["A"], tot["B"], nmsg, npromos))
mk = lambda r: (r["event_id"], r["promo_id"])
mm = {mk(r): r for r in rows(model, "promo_matches")}
pa = {mk(r): r for r in rows(ra, "promo_matches")}
pb = {mk(r): r for r in rows(rb, "promo_matches")}
for k, m in mm.items():
    if k not in pa and k not in pb:
        bad.append("promo match lost: %s" % m)
for name, got_m in (("A", pa), ("B", pb)):
    for k, r in got_m.items():
        if mm.get(k) != r:
            bad.append("engine %s: promo match %s, model %s" % (name, r, mm.get(k)))
m_twice = [k for k in pa if k in pb]
for k in m_twice:
    if len(D.occ[k[0]]) < 2:
        bad.append("promo match %s from both engines, but its click occurs once" % (k,))
print("    promo matches: model %d, A %d, B %d, from both (redelivered across a handover) %d"
      % (len(mm), len(pa), len(pb), len(m_twice)))
if not mm:
    bad.append("no promo matches in the model: the join is not exercised")
hv = lambda r: r["kind"] == "high_value_order"
ma = {r["alert_id"]: r for r in rows(model, "alerts", hv)}
aa = {r["alert_id"]: r for r in rows(ra, "alerts", hv)}
ab = {r["alert_id"]: r for r in rows(rb, "alerts", hv)}
for aid, m in ma.items():
    if aid not in aa and aid not in ab:
        bad.append("alert lost: %s" % aid)
for name, a in (("A", aa), ("B", ab)):
    for aid, r in a.items():
        if ma.get(aid) != r:
            bad.append("engine %s: alert %s differs from the model's %s" % (name, r, ma.get(aid)))
twice = [aid for aid in aa if aid in ab]
for aid in twice:
    if len(D.occ[aid[len("high_value_order:"):]]) < 2:
        bad.append("alert %s from both engines, but its event occurs once" % aid)
print("    data_quality totals A %d, B %d; alerts: model %d, A %d, B %d, from both (redelivered across a handover) %d"
      % (tot["A"], tot["B"], len(ma), len(aa), len(ab), len(twice)))
if not md or not ma:
    bad.append("no dlq rows or no alerts: the test exercises nothing")
for b in bad[:15]:
    print("FAIL", b)
sys.exit(1 if bad else 0)
PYEOF
finish
