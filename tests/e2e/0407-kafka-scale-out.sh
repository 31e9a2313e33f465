#!/usr/bin/env bash
# 0407 — scale-out over a consumer group (DESIGN §7): two engines share a topic's partitions,
# a partition that moves between them is handed over with nothing lost or read twice, and
# each reads every promotion.
#
# Data: generated clicks and orders (2 % duplicates, 2 % invalid), each written to a 3-partition
# topic in four parts, keyed by user, and their promotions, written whole to a 3-partition
# topic before the engines start. Clicks and orders are consumed in two groups
# (e2e-0407.clicks, e2e-0407.orders) that B's arrival rebalances at the same time. Lateness 4h and join.grace 24h, so that nothing depends on how the
# partitions interleave (see 0401): every click matches the promotions of its product and
# time, whichever of the two arrives first.
# 1. Engine A (unbounded, group e2e-0407, epochs of 5 000 records; sinks jsonl and a lake with
#    roll_interval=1h, which holds every epoch in open files, so the group commits nothing
#    while A runs) alone reads part 1: its jsonl sink shows every dead-letter row of part 1,
#    and the group has still committed nothing.
# 2. Engine B (jsonl only, its own directory) joins the group: cooperative-sticky moves at
#    least one partition of each topic from A to B. On each revocation A must seal its epoch
#    (the lake closes its files) and commit, or B would start that partition from the
#    beginning; so both groups have then committed the end of part 1 in every partition, and A
#    logged no lost partition and no failed commit (a commit of one group's offsets while the
#    other group rebalances is refused as from an old generation, and librdkafka then declares
#    the partitions lost). Part 2 is written; both engines read it.
# 3. A gets SIGTERM: it finishes its epoch, commits and leaves; B takes A's partitions.
#    Part 3 is written; B reads it and commits.
# 4. Engine C (jsonl and a held lake, like A) joins and takes partitions from B; part 4 is
#    written; once C has written dead-letter rows of it, C is killed (SIGKILL). Its lake held
#    every epoch, so its partitions are still committed at the end of part 3: after the session
#    timeout B takes them back and reads part 4 of them again. B commits; then SIGTERM.
# Asserted:
#    a. dead-letter rows, keyed by origin (topic, partition, offset): A ∪ B is the model's set,
#       value for value, and no row is in both, or twice in one (each record read exactly once);
#    b. data_quality: A's and B's totals add up to the clicks and orders in the topics plus the
#       promotions twice (each engine reads them all);
#    c. the handovers happened mid-stream: some partition has rows from A and then, at higher
#       offsets only, from B (step 2), and A also read part 2 of a partition B took later
#       (step 3); both engines exit 0;
#    d. both groups have committed the end of every partition;
#    e. promo_matches, keyed by (event_id, promo_id): A ∪ B is the model's set, value for
#       value. If promotions were shared out like clicks, B would hold only some (those of
#       the promotions partitions it was given, read from where A committed them) and miss
#       matches; so each engine reads the whole promotions topic, outside the group;
#    f. high_value_order alerts (one per purchase, clicks and orders): A ∪ B is the model's set,
#       value for value.
#    g. the crash: C's partitions were still committed at the end of part 3 when it died, and
#       every row C wrote (dlq, promo_matches, alerts) is from part 4 and is also B's, value
#       for value (at least once); A and B alone hold every result exactly once.
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
for t in clicks orders promotions; do "$KT" topic "$KDIR" "$t" 3 || fail "cannot create topic $t"; done
"$SHOPSTREAM_BIN" produce --out-dir "$T/gen" --format json --events "$N" --seed 47 --duplicates 0.02 --invalid 0.02 \
    --rate 250 2>"$T/p.err" || { cat "$T/p.err" >&2; fail "produce --out-dir"; }
G=$T/gen/clicks.jsonl
O=$T/gen/orders.jsonl
P=$T/gen/promotions.jsonl
"$PY" "$E2E_DIR/model.py" --set lateness=4h --set join.grace=24h promotions="$P" orders="$O" clicks="$G" \
    --out "$T/model" >/dev/null || fail "model failed"
SET=(--input promotions="kafka://$B/promotions" --input orders="kafka://$B/orders" --input clicks="kafka://$B/clicks"
     --set lateness=4h
     --set join.grace=24h --set kafka.group_id=e2e-0407 --set epoch.events=5000
     -X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
committed() { kafka_committed "$KDIR" "$B" "e2e-0407.$1" "$1"; }

# write_part K: part K (1..NP) of the clicks and of the orders, keyed by user; `written`
# counts the records of each written so far.
NP=4
clines=$(wc -l <"$G"); olines=$(wc -l <"$O")
declare -A written=([clicks]=0 [orders]=0)
write_part() {
    local k=$1 c0 c1 o0 o1
    c0=$(( (k - 1) * clines / NP + 1 )); c1=$(( k * clines / NP ))
    o0=$(( (k - 1) * olines / NP + 1 )); o1=$(( k * olines / NP ))
    kafka_write_lines "$G" clicks user_id "$c0" "$c1"
    kafka_write_lines "$O" orders customer_id "$o0" "$o1"
    written[clicks]=$c1; written[orders]=$o1
}
# all_committed: both groups have committed exactly the records written so far.
all_committed() {
    local t sum
    for t in clicks orders; do
        sum=$(committed "$t" | awk '{ s += $2 } END { print s + 0 }')
        [ "$sum" -eq "${written[$t]}" ] || return 1
    done
}
# owns ERRFILE TOPIC: partitions of TOPIC the engine logging to ERRFILE holds (assigned minus
# revoked or lost).
owns() {
    awk -v t="topic=$2" '/msg="partitions assigned"/ && index($0, t " ") { split($0, a, "count="); n += a[2] + 0 }
         /msg="partitions (revoked|lost)"/ && index($0, t " ") { split($0, a, "count="); n -= a[2] + 0 }
         END { print n + 0 }' "$1"
}
alive() { kill -0 "$1" 2>/dev/null || { tail -n 5 "$2" >&2; fail "$3 ended by itself"; }; }
# shared PID1 OUT1 NAME1 PID2 OUT2 NAME2: both engines run, and the second (which joined) holds
# at least one partition of clicks and of orders, the two together all three of each.
shared() {
    alive "$1" "$2.stderr" "engine $3"
    alive "$4" "$5.stderr" "engine $6"
    local t
    for t in clicks orders; do
        [ "$(owns "$5.stderr" $t)" -ge 1 ] && [ "$(( $(owns "$2.stderr" $t) + $(owns "$5.stderr" $t) ))" -eq 3 ] ||
            return 1
    done
}
# stop_engine PID ERRFILE NAME: SIGTERM, then it must exit 0 within 60 s.
stop_engine() {
    local rc=0
    kill -TERM "$1"
    timeout 60 tail --pid="$1" -f /dev/null || fail "$3 did not stop within 60 s of SIGTERM"
    wait "$1" || rc=$?
    [ $rc -eq 0 ] || { tail -n 10 "$2" >&2; check_failed "$3 exited $rc after SIGTERM, expected 0"; }
}

# the model's dead-letter rows of parts 1 and 1-2 (a file input's offset is the line number)
read -r dlq1 dlq2 < <("$PY" -c '
import json, sys
n = {"clicks": int(sys.argv[2]), "orders": int(sys.argv[3])}
rs = [json.loads(l) for l in open(sys.argv[1])]
print(*(sum(r["offset"] <= k * n[r["stream"]] // int(sys.argv[4]) for r in rs) for k in (1, 2)))' \
    "$T/model/dlq.jsonl" "$clines" "$olines" "$NP")
dlq_rows() { if [ -f "$1/dlq.jsonl" ]; then wc -l <"$1/dlq.jsonl"; else echo 0; fi; }
RA=$T/a; RB=$T/b; RC=$T/c
mkdir -p "$RA" "$RB" "$RC"

# ---- 1. A alone ------------------------------------------------------------------------
npromos=$(wc -l <"$P")
kafka_write_lines "$P" promotions product_id 1 "$npromos"
write_part 1
"$SHOPSTREAM_BIN" run "${SET[@]}" --sink "jsonl:$RA" \
    --sink "parquet:$T/lake?roll_interval=1h" 2>"$RA.stderr" &
PA=$!; PIDS+=("$PA")
a_read_part1() { alive "$PA" "$RA.stderr" "engine A"; [ "$(dlq_rows "$RA")" -ge "$dlq1" ]; }
poll_until 180 "engine A to write part 1's dead-letter rows" a_read_part1
for t in clicks orders; do
    [ "$(owns "$RA.stderr" $t)" -eq 3 ] || check_failed "engine A alone holds $(owns "$RA.stderr" $t) partitions of $t, expected 3"
    [ -z "$(committed $t)" ] || check_failed "group $t committed offsets while A's lake held its epochs: $(committed $t | tr '\n' ' ')"
done

# ---- 2. B joins --------------------------------------------------------------------------
"$SHOPSTREAM_BIN" run "${SET[@]}" --sink "jsonl:$RB" 2>"$RB.stderr" &
PB=$!; PIDS+=("$PB")
poll_until 120 "engine B to get partitions of clicks and orders from A" shared "$PA" "$RA" A "$PB" "$RB" B
note "after B joined: A holds $(owns "$RA.stderr" clicks) + $(owns "$RA.stderr" orders), B $(owns "$RB.stderr" clicks) + $(owns "$RB.stderr" orders) partitions of clicks + orders"
# A commits what it has read when it hands a partition over; records after part 1's last
# dead-letter row may still have been on their way, and then B commits them (an idle
# engine commits every 2 s): checked once, right after the handover, this raced.
committed_part1() { alive "$PA" "$RA.stderr" "engine A"; alive "$PB" "$RB.stderr" "engine B"; all_committed; }
poll_until 60 "the groups to commit the end of part 1 in every partition of clicks and orders" committed_part1
write_part 2
both_read_part2() {
    alive "$PA" "$RA.stderr" "engine A"
    alive "$PB" "$RB.stderr" "engine B"
    [ $(( $(dlq_rows "$RA") + $(dlq_rows "$RB") )) -ge "$dlq2" ]
}
poll_until 180 "engines A and B to write part 2's dead-letter rows" both_read_part2

# A cooperative handover: A commits the partitions it gives up, in the generation that
# revokes them. A commit refused as from an old generation makes librdkafka declare the
# consumer's partitions lost, and a lost partition goes without its outputs committed.
grep -E 'msg="partitions lost"|could not commit' "$RA.stderr" >&2 &&
    check_failed "engine A lost partitions or failed to commit while B joined (above)"

# ---- 3. A leaves -------------------------------------------------------------------------
stop_engine "$PA" "$RA.stderr" "engine A"
# b_alone: B runs and holds every partition of clicks and orders.
b_alone() { alive "$PB" "$RB.stderr" "engine B"; [ "$(owns "$RB.stderr" clicks)" -eq 3 ] && [ "$(owns "$RB.stderr" orders)" -eq 3 ]; }
poll_until 120 "engine B to take A's partitions" b_alone
write_part 3
b_read_part3() { alive "$PB" "$RB.stderr" "engine B"; all_committed; }
poll_until 180 "engine B to commit part 3" b_read_part3

# ---- 4. C joins and crashes --------------------------------------------------------------
for t in clicks orders; do committed $t | sed "s/^/$t /"; done >"$T/committed3"
"$SHOPSTREAM_BIN" run "${SET[@]}" --sink "jsonl:$RC" --sink "parquet:$T/lake-c?roll_interval=1h" 2>"$RC.stderr" &
PC=$!; PIDS+=("$PC")
poll_until 120 "engine C to get partitions of clicks and orders from B" shared "$PB" "$RB" B "$PC" "$RC" C
write_part 4
c_read_some() { alive "$PC" "$RC.stderr" "engine C"; [ "$(dlq_rows "$RC")" -ge 1 ]; }
poll_until 120 "engine C to write dead-letter rows of part 4" c_read_some
kill -KILL "$PC"
wait "$PC" 2>/dev/null
# C's lake held its epochs: nothing of part 4 can have been committed for C's partitions
for t in clicks orders; do committed $t | sed "s/^/$t /"; done >"$T/committed-kill"
note "engine C killed after $(dlq_rows "$RC") dead-letter rows of part 4; committed: $(tr '\n' ' ' <"$T/committed-kill")"
poll_until 120 "engine B to take the crashed C's partitions" b_alone
b_read_part4() { alive "$PB" "$RB.stderr" "engine B"; all_committed; }
poll_until 180 "engine B to commit part 4" b_read_part4
stop_engine "$PB" "$RB.stderr" "engine B"
for t in clicks orders; do committed $t | sed "s/^/$t /"; done >"$T/committed"

for t in clicks orders; do
    timeout 120 kcat -C -b "$B" -t $t -o beginning -e -q -J >"$T/$t.json" 2>"$T/dump.err" || fail "kcat could not read $t"
done
PYTHONPATH="$E2E_DIR" "$PY" - "$T" "$RA" "$RB" "$G" "$O" "$npromos" "$NP" "$RC" <<'PYEOF' || check_failed "scale-out outputs (above)"
import sys
from collections import defaultdict
from kafka_origins import Dump, by_key, rows, model_dlq_by_origin
t, ra, rb = sys.argv[1:4]
files = {"clicks": sys.argv[4], "orders": sys.argv[5]}
npromos, NP, rc = int(sys.argv[6]), int(sys.argv[7]), sys.argv[8]
model = t + "/model"
bad = []
D = {s: Dump("%s/%s.json" % (t, s)) for s in files}
C = defaultdict(dict)
for l in open(t + "/committed"):
    s, p, o = l.split()
    C[s][int(p)] = int(o)
for s in files:
    if C[s] != dict(D[s].end):
        bad.append("%s: committed offsets %s, the ends of the partitions are %s" % (s, C[s], dict(D[s].end)))
origin = {s: D[s].origins_of_lines(f) for s, f in files.items()}
nlines = {s: len(o) for s, o in origin.items()}
# (topic, partition, offset) -> the part (1..NP) of its file it was written in (write_part)
part_of = {(s,) + po: next(k for k in range(1, NP + 1) if n <= k * nlines[s] // NP)
           for s, o in origin.items() for n, po in o.items()}
# the group offsets before C joined and at its kill
Ck = defaultdict(dict)
for name in ("committed3", "committed-kill"):
    for l in open("%s/%s" % (t, name)):
        s, p, o = l.split()
        Ck[name][(s, int(p))] = int(o)
md = model_dlq_by_origin(model, {s: (s, o) for s, o in origin.items()})
got = {}
for name, out in (("A", ra), ("B", rb)):
    d = defaultdict(list)
    for r in rows(out, "dlq"):
        d[(r["source"], r["partition"], r["offset"])].append(r)
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
# handovers: per partition of clicks, the offsets each engine read (its dlq rows)
moved, kept = [], []
for s in files:
    for p in sorted(D[s].end):
        a = sorted(o for q, pp, o in got["A"] if (q, pp) == (s, p))
        b = sorted(o for q, pp, o in got["B"] if (q, pp) == (s, p))
        if a and b and a[-1] > b[0]:
            bad.append("%s [%d]: engine A read offset %d after engine B had read %d" % (s, p, a[-1], b[0]))
        if a and b and part_of[(s, p, b[0])] == 2 and part_of[(s, p, a[-1])] == 1:
            moved.append("%s[%d]" % (s, p))   # taken by B when it joined
        if a and b and part_of[(s, p, a[-1])] == 2:
            kept.append("%s[%d]" % (s, p))    # A still read part 2 of it; B took it when A left
nmsg = sum(len(x) for x in D.values())
print("    %d clicks + orders; A: dlq %d, B: dlq %d, model dlq %d; moved to B when it joined: %s, when A left: %s"
      % (nmsg, sum(map(len, got["A"].values())), sum(map(len, got["B"].values())), len(md), moved, kept))
if not any(m.startswith("clicks") for m in moved):
    bad.append("no clicks partition moved from A to B when B joined (with a row on each side): nothing tested")
if not any(m.startswith("clicks") for m in kept):
    bad.append("A read part 2 of no clicks partition that B then took: the second handover is not tested")
# the crashed C: every row it wrote is B's too (B read C's partitions again from the offsets
# committed before C joined), value for value, and from part 4 only
c_dlq = rows(rc, "dlq")
for r in c_dlq:
    k = (r["source"], r["partition"], r["offset"])
    if part_of.get(k) != 4:
        bad.append("engine C: dlq row %s from part %s, expected part 4 only" % (k, part_of.get(k)))
    if got["B"].get(k, [None])[0] != r:
        bad.append("engine C: dlq row %s that B (which re-read C's partitions) does not have" % (k,))
if not c_dlq:
    bad.append("engine C wrote no dlq row before the kill: the crash is not tested")
# C's partitions: its lake held every epoch, so at the kill they were still committed where B
# had left them (the end of part 3), and B read them again from there
for tp in sorted({(r["source"], r["partition"]) for r in c_dlq}):
    if Ck["committed-kill"].get(tp) != Ck["committed3"].get(tp):
        bad.append("%s [%d]: committed %s at the kill of C, whose lake held its epochs; %s before C joined"
                   % (tp[0], tp[1], Ck["committed-kill"].get(tp), Ck["committed3"].get(tp)))
print("    engine C (killed): %d dlq rows, all read again by B" % len(c_dlq))
tot = {n: sum(r["total"] for r in rows(out, "data_quality")) for n, out in (("A", ra), ("B", rb))}
if tot["A"] + tot["B"] != nmsg + 2 * npromos:
    bad.append("data_quality totals: A %d + B %d != %d clicks and orders + 2 x %d promotions"
               % (tot["A"], tot["B"], nmsg, npromos))
occ = defaultdict(list)  # event or order id -> every (topic, partition, offset) holding it
for s, d in D.items():
    for eid, pos in d.occ.items():
        occ[eid] += [(s,) + po for po in pos]
def per_record(table, key, ident, pred=lambda r: True):
    """A per-record table: A ∪ B must be the model's rows, value for value; each engine
    writes a key once; a row from both engines only for an event redelivered (a duplicate
    on either side of a handover)."""
    m = by_key(rows(model, table, pred), key, "model: " + table, bad)
    a = by_key(rows(ra, table, pred), key, "engine A: " + table, bad)
    b = by_key(rows(rb, table, pred), key, "engine B: " + table, bad)
    c = by_key(rows(rc, table, pred), key, "engine C: " + table, bad)
    for k, r in c.items():  # the crashed C's rows come again from B, which re-read its input
        if m.get(k) != r or b.get(k) != r:
            bad.append("engine C: %s row %s, model %s, B %s" % (table, r, m.get(k), b.get(k)))
    for k, r in m.items():
        if k not in a and k not in b:
            bad.append("%s row lost: %s" % (table, r))
    for name, g in (("A", a), ("B", b)):
        for k, r in g.items():
            if m.get(k) != r:
                bad.append("engine %s: %s row %s, model %s" % (name, table, r, m.get(k)))
    both = [k for k in a if k in b]
    for k in both:
        if len(occ[ident(k)]) < 2:
            bad.append("%s row %s from both engines, but its event occurs once" % (table, k))
    print("    %s: model %d, A %d, B %d, from both (redelivered across a handover) %d"
          % (table, len(m), len(a), len(b), len(both)))
    if not m:
        bad.append("no %s rows in the model: not exercised" % table)
per_record("promo_matches", lambda r: (r["event_id"], r["promo_id"]), lambda k: k[0])
per_record("alerts", lambda r: r["alert_id"], lambda k: k[len("high_value_order:"):],
           lambda r: r["kind"] == "high_value_order")
print("    data_quality totals A %d, B %d" % (tot["A"], tot["B"]))
for b in bad[:15]:
    print("FAIL", b)
sys.exit(1 if bad else 0)
PYEOF
finish
