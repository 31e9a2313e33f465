#!/usr/bin/env bash
# 0401 — the whole engine over a real Kafka broker (scripts/kafka-test-server):
# `shopstream produce --brokers` writes 1 000 000 events (200 000 with E2E_QUICK=1; 2 %
# duplicates, 1 % late and 0.5 % reordered, 2 % invalid) to clicks/promotions/orders,
# 3 partitions each; `shopstream run --exit-at-end` reads them back; every output table
# is compared with the model run over the same records written to files by
# `produce --out-dir --format json` (same seed and options).
#
# Checked first, on the broker's contents (kcat -J):
#  - the Kafka records are exactly the file records (as multisets, per topic);
#  - per key (clicks/orders: user_id, promotions: product_id): the message key is that
#    field, every key lives in one partition, and its records' offsets increase in the
#    order the generator wrote them (= the file order). The consumer reads a partition in
#    offset order, so each user's events reach the engine in production order;
#  - that partition is the one the Java client's default partitioner picks for the key
#    (asked of the kafka-clients jar itself), so Java producers and Kafka Streams
#    co-partition with shopstream's records.
#
# Determinism (docs/SEMANTICS.md §4): Kafka partitions are read concurrently and the three
# consumers are assigned their partitions at different moments, so W depends on
# interleaving. This test makes every table independent of interleaving:
#  - lateness = 4h, and the data (promotions published up to ~75 min before the first
#    click, 67 min of clicks at --rate 250, late defects up to 30 min behind) spans less
#    than that — checked below: max(ts) − min(ts) over all records < lateness. Then
#    W ≤ max ts − lateness < every ts at every moment: no record can be late under any
#    interleaving, nothing is emitted before the end (W = +inf), the generator's "late"
#    records are merely out of order (the late/watermark path is tested exactly on a
#    single-partition topic in 0402, where the order is fixed);
#  - join.grace = 24h (> the span): a held click never expires, so a promotion matches
#    every click of its product and interval whichever arrives first (§7) — the model,
#    reading promotions first, computes that same full join;
#  - velocity alerts depend on the arrival order of one user's purchases ACROSS topics
#    (clicks purchases vs orders; the generator's velocity users use both). They are
#    taken out of the exact comparison (the model runs with velocity disabled, which
#    changes no other table) and checked by invariants instead: the alert's event is a
#    purchase of that user at that ts, count >= 5 and <= that user's purchases in
#    (ts − 10 min, ts], amount <= their total, no alert id twice.
# dlq rows carry Kafka coordinates (topic, partition, offset); each is checked against
# the broker (the message there is the row's record) and then mapped to the file's
# (path, input index, line) for the model comparison.
#
# B. The same topics read again by a run stopped with SIGTERM mid-stream and a second run
#    resumed from its savepoint: the two together must write the model's tables exactly.
# C. The same with a run killed (SIGKILL) and a second one resumed from its last periodic
#    savepoint, into SQLite (details at parts B and C below).
# D, E. A run stopped (D) or killed (E), whose group's offsets another process moved on
#    meanwhile: the next run goes on from those commits, not from its savepoint.
# requires: kafka
source "$(dirname "$0")/lib.sh"
need_bin
command -v kcat >/dev/null || fail "kcat not found (scripts/install-deps installs it)"
N=1000000
[ "$E2E_QUICK" = 1 ] && N=200000
RATE=250
SET=(--set lateness=4h --set join.grace=24h)

KT="$REPO_DIR/scripts/kafka-test-server"
KDIR="$T/kafka"
_kafka_cleanup() {
    [ -n "${P1:-}" ] && kill -KILL "$P1" 2>/dev/null
    "$KT" stop "$KDIR" >/dev/null 2>&1 || true
    _e2e_cleanup
}
trap _kafka_cleanup EXIT
B=$("$KT" start "$KDIR" 2>"$T/kafka-start.err") || { cat "$T/kafka-start.err" >&2; fail "cannot start the Kafka test broker"; }
note "broker $B"
for t in clicks promotions orders; do "$KT" topic "$KDIR" "$t" 3 || fail "cannot create topic $t"; done

GEN=(--events "$N" --seed 11 --duplicates 0.02 --late 0.01 --invalid 0.02 --rate "$RATE")
G=$T/gen
mkdir -p "$G"
"$SHOPSTREAM_BIN" produce --out-dir "$G" --format json "${GEN[@]}" 2>"$T/produce-files.err" ||
    { tail -n 5 "$T/produce-files.err" >&2; fail "produce --out-dir failed"; }
# A local queue of 1000 records keeps it full: produce must wait and send again from the
# record that did not fit, and the per-key order checked below holds only if it does.
"$SHOPSTREAM_BIN" produce --brokers "$B" "${GEN[@]}" -X queue.buffering.max.messages=1000 2>"$T/produce-kafka.err" ||
    { tail -n 5 "$T/produce-kafka.err" >&2; fail "produce --brokers $B failed"; }
note "produced $N events to Kafka and to $G"

# ---- the broker holds exactly the generator's records, each key in one partition, in order
D=$T/dump
mkdir -p "$D"
for t in clicks promotions orders; do
    timeout 300 kcat -C -b "$B" -t "$t" -o beginning -e -q -J >"$D/$t.json" 2>"$D/$t.err" ||
        { cat "$D/$t.err" >&2; fail "kcat could not read topic $t back"; }
done

cat >"$T/kcheck.py" <<'PYEOF'
"""Kafka dump (kcat -J) versus the generator's files; maps Kafka coordinates to file lines.
   kcheck.py GEN DUMP ENGINE_OUT MAPPED_OUT"""
import json, os, shutil, sys
from collections import defaultdict
gen, dump, out, mapped = sys.argv[1:5]
STREAMS = [("promotions", "product_id"), ("orders", "customer_id"), ("clicks", "user_id")]  # input order
bad = []
coord = {}      # (topic, partition, offset) -> (path, input index, line number)
payload_at = {}  # (topic, partition, offset) -> payload
for idx, (topic, keyf) in enumerate(STREAMS):
    path = os.path.join(gen, topic + ".jsonl")
    lines = [(n, l.rstrip("\n")) for n, l in enumerate(open(path, encoding="utf-8"), 1) if l.strip()]
    msgs = []
    for l in open(os.path.join(dump, topic + ".json"), encoding="utf-8"):
        m = json.loads(l)
        msgs.append((m["partition"], m["offset"], m.get("key"), m["payload"] or ""))
    # 1. same records
    by_val_lines, by_val_msgs = defaultdict(list), defaultdict(list)
    for n, l in lines:
        by_val_lines[l].append(n)
    for p, o, k, v in msgs:
        by_val_msgs[v].append((p, o))
        payload_at[(topic, p, o)] = v
    if len(msgs) != len(lines):
        bad.append("%s: %d messages in Kafka, %d lines in %s" % (topic, len(msgs), len(lines), path))
    diff = [v for v in set(by_val_lines) | set(by_val_msgs) if len(by_val_lines[v]) != len(by_val_msgs[v])]
    for v in diff[:3]:
        bad.append("%s: record %d times in the file, %d times in Kafka: %s" % (topic, len(by_val_lines[v]), len(by_val_msgs[v]), v[:160]))
    if diff:
        bad.append("%s: %d distinct records differ between Kafka and the file" % (topic, len(diff)))
    # 2. keys: the message key is the record's key field; one partition per key; production order
    def keyof(v):
        try:
            r = json.loads(v)
        except ValueError:
            return None
        k = r.get(keyf) if isinstance(r, dict) else None
        return k if isinstance(k, str) and k else None
    want = defaultdict(list)
    for n, l in lines:
        k = keyof(l)
        if k is not None:
            want[k].append(l)
    parts, got, wrong_key = defaultdict(set), defaultdict(list), 0
    for p, o, k, v in sorted(msgs, key=lambda m: (m[0], m[1])):
        kv = keyof(v)
        if kv is None:
            continue
        if k != kv:
            wrong_key += 1
            if wrong_key <= 3:
                bad.append("%s [%d] @%d: message key %r, record's %s is %r" % (topic, p, o, k, keyf, kv))
        parts[kv].add(p)
        got[kv].append(v)
    with open(os.path.join(dump, "keyparts.tsv"), "a", encoding="utf-8") as kp:
        for k in sorted(parts):
            kp.write("%s\t%s\t%d\n" % (topic, k, min(parts[k])))
    split = [k for k in parts if len(parts[k]) > 1]
    if split:
        bad.append("%s: %d keys in more than one partition, e.g. %s in %s" % (topic, len(split), split[0], sorted(parts[split[0]])))
    order = [k for k in want if got.get(k) != want[k]]
    if order:
        k = order[0]
        bad.append("%s: %d keys whose records are not in production order, e.g. %s: file %s | Kafka %s"
                   % (topic, len(order), k, [x[:60] for x in want[k][:4]], [x[:60] for x in got.get(k, [])[:4]]))
    print("    %s: %d messages = file records; %d keys, each in one partition, in production order"
          % (topic, len(msgs), len(want)))
    # 3. coordinates: identical records are matched in (partition, offset) / line order
    for v, ns in by_val_lines.items():
        for n, (p, o) in zip(sorted(ns), sorted(by_val_msgs[v])):
            coord[(topic, p, o)] = (path, idx, n)

# 4. the engine's dlq/late rows: their Kafka origin holds their record; map them to files
os.makedirs(mapped, exist_ok=True)
velocity = []
for name in sorted(os.listdir(out)):
    src, dst = os.path.join(out, name), os.path.join(mapped, name)
    table = name[:-6] if name.endswith(".jsonl") else None
    if table not in ("dlq", "late", "alerts"):
        shutil.copyfile(src, dst)
        continue
    with open(src, encoding="utf-8") as fh, open(dst, "w", encoding="utf-8") as w:
        for n, l in enumerate(fh, 1):
            if not l.strip():
                continue
            r = json.loads(l, object_pairs_hook=dict)
            if table == "alerts":
                if r.get("kind") == "velocity":
                    velocity.append(r)
                    continue
                w.write(l)
                continue
            key = (r["source"], r["partition"], r["offset"])
            if key not in coord:
                bad.append("%s.jsonl:%d: origin %s is no message of the produced topics" % (table, n, key))
                w.write(l)
                continue
            if payload_at[key] != r["record"]:
                bad.append("%s.jsonl:%d: record %r, but %s holds %r" % (table, n, r["record"][:80], key, payload_at[key][:80]))
            r["source"], r["partition"], r["offset"] = coord[key]
            w.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
with open(os.path.join(mapped, "velocity.json"), "w") as fh:
    json.dump(velocity, fh)
for b in bad[:20]:
    print("FAIL", b)
sys.exit(1 if bad else 0)
PYEOF

cat >"$T/precond.py" <<'PYEOF'
"""The data's event-time span (all records with a readable ts) must be < lateness;
   velocity alerts of the engine checked by invariants.  precond.py GEN LATENESS_MS [VELOCITY_JSON]"""
import json, os, re, sys
from collections import defaultdict
from datetime import datetime, timezone
gen, lateness = sys.argv[1], int(sys.argv[2])
ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)$")
def ms(v):
    if isinstance(v, int):
        return v
    if not isinstance(v, str):
        return None
    if re.fullmatch(r"-?\d+", v):
        return int(v)
    m = ISO.match(v)
    if not m:
        return None
    y, mo, d, h, mi, s, frac, z = m.groups()
    t = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=timezone.utc).timestamp() * 1000
    t = int(t) + int((frac or "0")[:3].ljust(3, "0"))
    if z != "Z":
        sign = 1 if z[0] == "+" else -1
        zz = z[1:].replace(":", "")
        t -= sign * (int(zz[:2]) * 60 + int(zz[2:])) * 60000
    return t
def money(v):  # ten-thousandths
    try:
        s = str(v); neg = s.startswith("-"); s = s.lstrip("-")
        a, _, b = s.partition(".")
        x = int(a or "0") * 10000 + int((b + "0000")[:4])
        return -x if neg else x
    except ValueError:
        return None
lo, hi = None, None
purchases = defaultdict(dict)  # user -> event_id -> (ts, amount)
for stream, tsf, uf, idf in (("promotions", "ts", None, None), ("orders", "order_ts", "customer_id", "order_id"),
                             ("clicks", "ts", "user_id", "event_id")):
    for l in open(os.path.join(gen, stream + ".jsonl"), encoding="utf-8"):
        try:
            r = json.loads(l)
        except ValueError:
            continue
        if not isinstance(r, dict):
            continue
        t = ms(r.get(tsf))
        if t is None:
            continue
        lo = t if lo is None or t < lo else lo
        hi = t if hi is None or t > hi else hi
        if uf and (stream == "orders" or r.get("event_type") == "purchase"):
            p, q = money(r.get("price")), r.get("quantity", 1)
            if p is not None and p >= 0 and isinstance(q, int) and q > 0 and r.get(uf) and r.get(idf):
                purchases[r[uf]][r[idf]] = (t, p * q)
print("    event-time span %.1f min, lateness %.1f min" % ((hi - lo) / 60000, lateness / 60000))
if hi - lo >= lateness:
    print("FAIL the data spans %d ms >= lateness %d ms: lateness would depend on partition interleaving" % (hi - lo, lateness))
    sys.exit(1)
if len(sys.argv) < 4:
    sys.exit(0)
bad, seen = [], set()
vel = json.load(open(sys.argv[3]))
RANGE = 10 * 60000
for a in vel:
    u, aid, t = a["user_id"], a["alert_id"], ms(a["ts"])
    det = json.loads(a["detail"])
    eid = aid[len("velocity:" + u + ":"):]
    mine = purchases.get(u, {})
    inr = [v for v in mine.values() if t - RANGE < v[0] <= t]
    if aid in seen: bad.append("alert %s twice" % aid)
    seen.add(aid)
    if not aid.startswith("velocity:" + u + ":") or eid not in mine or mine[eid][0] != t:
        bad.append("%s: not a purchase of %s at %s" % (aid, u, a["ts"]))
    if not (5 <= det.get("count", 0) <= len(inr)) or det.get("range_ms") != RANGE:
        bad.append("%s: detail %s, but %s has %d purchases in (ts-10m, ts]" % (aid, a["detail"], u, len(inr)))
    if not (0 < money(a["amount"]) <= sum(v[1] for v in inr)):
        bad.append("%s: amount %s exceeds the %d purchases in range" % (aid, a["amount"], len(inr)))
print("    velocity alerts: %d (each a purchase of its user, 5 <= count <= purchases in range)" % len(vel))
for b in bad[:10]:
    print("FAIL", b)
sys.exit(1 if bad or not vel else 0)
PYEOF

"$PY" "$T/precond.py" "$G" $((4 * 3600 * 1000)) || fail "the generated data cannot give interleaving-independent results"

# ---- the engine over the three topics
OUT=$T/out
mkdir -p "$OUT"
start=$(date +%s.%N)
rc=0
timeout 900 "$SHOPSTREAM_BIN" run --input promotions="kafka://$B/promotions" --input orders="kafka://$B/orders" \
    --input clicks="kafka://$B/clicks" --exit-at-end "${SET[@]}" --set kafka.group_id=e2e-0401 \
    --sink "jsonl:$OUT" 2>"$OUT.stderr" || rc=$?
end=$(date +%s.%N)
[ $rc -eq 0 ] || { tail -n 20 "$OUT.stderr" >&2; fail "shopstream run over Kafka exited $rc"; }
note "engine: $(grep -o 'msg="done".*' "$OUT.stderr" | head -1) in $(awk -v s="$start" -v e="$end" 'BEGIN{printf "%.1f", e-s}')s"

"$PY" "$T/kcheck.py" "$G" "$D" "$OUT" "$T/mapped" || check_failed "Kafka contents or dlq origins are wrong (above)"
# The Java client's partition for each key (3 partitions per topic): what its default
# partitioner computes for a keyed record (BuiltInPartitioner.partitionForKey).
cat >"$T/JavaPartition.java" <<'JEOF'
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
public class JavaPartition {
    public static void main(String[] a) throws Exception {
        int n = 0, bad = 0;
        for (String l : Files.readAllLines(Paths.get(a[0]), StandardCharsets.UTF_8)) {
            String[] f = l.split("\t");
            int want = BuiltInPartitioner.partitionForKey(f[1].getBytes(StandardCharsets.UTF_8), 3);
            n++;
            if (want != Integer.parseInt(f[2]) && bad++ < 3)
                System.out.println("FAIL " + f[0] + " key " + f[1] + ": partition " + f[2] + ", the Java client's " + want);
        }
        System.out.println("    " + n + " keys, " + (n - bad) + " in the Java client's partition");
        System.exit(bad == 0 && n > 0 ? 0 : 1);
    }
}
JEOF
java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "${KAFKA_CACHE:-$REPO_DIR/.cache/kafka}/lib/*" \
    "$T/JavaPartition.java" "$D/keyparts.tsv" || check_failed "keys are not in the Java client's partitions (above)"
"$PY" "$T/precond.py" "$G" $((4 * 3600 * 1000)) "$T/mapped/velocity.json" || check_failed "velocity alerts (above)"
rm -f "$T/mapped/velocity.json"
compare_with_model "$T/mapped" "${SET[@]}" --set alerts.velocity.count=1000000000 \
    promotions="$G/promotions.jsonl" orders="$G/orders.jsonl" clicks="$G/clicks.jsonl"
# the data must exercise what it claims to
"$PY" - "$OUT" <<'PYEOF' || check_failed "the run does not exercise duplicates / invalid records / promotions / alerts"
import json, os, sys
o = sys.argv[1]
n = lambda t: sum(1 for l in open(os.path.join(o, t + ".jsonl")) if l.strip()) if os.path.exists(os.path.join(o, t + ".jsonl")) else 0
dq = [json.loads(l) for l in open(o + "/data_quality.jsonl") if l.strip()]
tot = {k: sum(r[k] for r in dq) for k in ("total", "valid", "duplicates", "late")}
print("    totals:", tot, "dlq", n("dlq"), "promo_matches", n("promo_matches"), "alerts", n("alerts"), "sessions", n("sessions"))
sys.exit(0 if tot["duplicates"] > 0 and tot["valid"] < tot["total"] and n("dlq") > 0 and n("promo_matches") > 0 and n("alerts") > 0 else 1)
PYEOF

# ---- B. stopped mid-stream and resumed from its savepoint (README "Savepoints") -------------
# Run B1 (unbounded, group e2e-0401s, savepoint.path) reads slowly (-X queued.min.messages=1000)
# and gets SIGTERM once the group has committed clicks offsets: it exits 0 and writes its
# savepoint. Nothing is final before the end (lateness 4h > the data's span), so every window,
# session and list is open at the stop and lives on only in the savepoint. Run B2
# (--exit-at-end, same group, same savepoint, same output directory, which a Kafka run appends
# to) loads it and reads the rest. B1 and B2 together must write exactly the model's tables,
# as run A did; before savepoints, B2's windows and sessions held only what came after the stop.
SP=$T/state/savepoint
OUTB=$T/outb
mkdir -p "$OUTB"
RUNB=(run --input promotions="kafka://$B/promotions" --input orders="kafka://$B/orders"
      --input clicks="kafka://$B/clicks" "${SET[@]}" --set kafka.group_id=e2e-0401s --set savepoint.path="$SP"
      --sink "jsonl:$OUTB")
"$SHOPSTREAM_BIN" "${RUNB[@]}" --set epoch.events=20000 -X queued.min.messages=1000 2>"$OUTB.b1.stderr" &
P1=$!
committed_clicks() { kafka_committed "$KDIR" "$B" e2e-0401s.clicks clicks | awk '{ s += $2 } END { print s + 0 }'; }
b1_committed() {
    kill -0 "$P1" 2>/dev/null || { tail -n 5 "$OUTB.b1.stderr" >&2; fail "run B1 ended by itself"; }
    [ "$(committed_clicks)" -gt 0 ]
}
poll_until 180 "run B1 to commit clicks offsets" b1_committed
kill -TERM "$P1"
rc=0
wait "$P1" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$OUTB.b1.stderr" >&2; fail "run B1 exited $rc after SIGTERM"; }
[ -s "$SP" ] || fail "run B1 wrote no savepoint at $SP"
at_stop=$(committed_clicks)
clicks_total=$(grep -c . "$G/clicks.jsonl")
note "B1 stopped with $at_stop of $clicks_total clicks committed; savepoint $(stat -c %s "$SP") bytes"
[ "$at_stop" -lt "$clicks_total" ] || check_failed "B1 read every click before its stop: the test stops nothing mid-stream"
rc=0
timeout 900 "$SHOPSTREAM_BIN" "${RUNB[@]}" --exit-at-end 2>"$OUTB.b2.stderr" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$OUTB.b2.stderr" >&2; fail "run B2 exited $rc"; }
grep -q 'msg="savepoint loaded' "$OUTB.b2.stderr" || check_failed "run B2 did not say it loaded the savepoint"
[ ! -e "$SP" ] || check_failed "the savepoint is still there after B2 read everything (nothing is left to carry over)"
rm -rf "$T/mappedb"
"$PY" "$T/kcheck.py" "$G" "$D" "$OUTB" "$T/mappedb" >/dev/null || check_failed "B: dlq origins are wrong"
"$PY" "$T/precond.py" "$G" $((4 * 3600 * 1000)) "$T/mappedb/velocity.json" || check_failed "B: velocity alerts (above)"
rm -f "$T/mappedb/velocity.json"
compare_with_model "$T/mappedb" "${SET[@]}" --set alerts.velocity.count=1000000000 \
    promotions="$G/promotions.jsonl" orders="$G/orders.jsonl" clicks="$G/clicks.jsonl"

# ---- C. killed and resumed from its last periodic savepoint ---------------------------------
# Run C1 (group e2e-0401k, a savepoint every second, the SQLite sink, whose tables are keyed)
# reads slowly and is killed with SIGKILL once a savepoint exists and the group has committed
# clicks offsets. Run C2 (--exit-at-end, same group, savepoint and database) loads the last
# savepoint and reads each partition from its position there, which may be behind the committed
# offset: what C1 read after the savepoint is read again, and its rows land on their own keys.
# The tables read back from SQLite must be the model's. data_quality is left out: it counts the
# records read twice twice, as after any crash.
SPC=$T/state/savepoint-c
DBC=$T/outc.db
RUNC=(run --input promotions="kafka://$B/promotions" --input orders="kafka://$B/orders"
      --input clicks="kafka://$B/clicks" "${SET[@]}" --set kafka.group_id=e2e-0401k --set savepoint.path="$SPC"
      --set savepoint.interval=1s --sink "sqlite:$DBC")
"$SHOPSTREAM_BIN" "${RUNC[@]}" --set epoch.events=20000 -X queued.min.messages=1000 2>"$T/c1.stderr" &
P1=$!
c1_ready() {
    kill -0 "$P1" 2>/dev/null || { tail -n 5 "$T/c1.stderr" >&2; fail "run C1 ended by itself"; }
    [ -s "$SPC" ] && [ "$(kafka_committed "$KDIR" "$B" e2e-0401k.clicks clicks | awk '{ s += $2 } END { print s + 0 }')" -gt 0 ]
}
poll_until 180 "run C1 to write a savepoint and commit clicks offsets" c1_ready
kill -KILL "$P1"
wait "$P1" 2>/dev/null
rc=0
timeout 900 "$SHOPSTREAM_BIN" "${RUNC[@]}" --exit-at-end 2>"$T/c2.stderr" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$T/c2.stderr" >&2; fail "run C2 exited $rc"; }
grep -q 'msg="savepoint loaded' "$T/c2.stderr" || check_failed "run C2 did not load the savepoint"
note "C2: $(grep -c "resuming at the savepoint's position" "$T/c2.stderr") partition(s) read again from behind the committed offset"
"$PY" "$E2E_DIR/export_tables.py" sqlite "$DBC" "$T/exportc" >"$T/exportc.out" 2>"$T/exportc.err" ||
    { cat "$T/exportc.err" >&2; check_failed "C: export from SQLite reported problems (above)"; }
"$PY" "$T/kcheck.py" "$G" "$D" "$T/exportc" "$T/mappedc" >/dev/null || check_failed "C: dlq origins are wrong"
"$PY" "$T/precond.py" "$G" $((4 * 3600 * 1000)) "$T/mappedc/velocity.json" || check_failed "C: velocity alerts (above)"
rm -f "$T/mappedc/velocity.json"
compare_with_model "$T/mappedc" --skip data_quality "${SET[@]}" --set alerts.velocity.count=1000000000 \
    promotions="$G/promotions.jsonl" orders="$G/orders.jsonl" clicks="$G/clicks.jsonl"

# ---- D and E: helpers ----------------------------------------------------------------------
clicks_committed() { kafka_committed "$KDIR" "$B" "$1" clicks | awk '{ s += $2 } END { print s + 0 }'; }
# to_end GROUP: moves GROUP's clicks offsets to the end with Kafka's tool, as another process
# of the group would commit them; refused while a member's session lasts
to_end() {
    kafka_groups "$KDIR" "$B" --group "$1" --topic clicks --reset-offsets --to-latest --execute >"$T/reset.out" 2>&1 &&
        ! grep -q 'Error' "$T/reset.out"
}
# goes_on_from_commit NAME HOW AT MOVED RUN_ARGS...: NAME1 was HOW with AT clicks committed, and
# the group's offsets were moved to MOVED; NAME2 (RUN_ARGS --exit-at-end) must load the
# savepoint, read nothing and say per partition that it went on from the commit
goes_on_from_commit() {
    local name=$1 how=$2 at=$3 moved=$4 rc=0 nread warned
    shift 4
    local err="$T/${name,,}2.stderr"
    [ "$at" -lt "$moved" ] || { cat "$T/reset.out" >&2; fail "${name}1 read every click before it was $how ($at of $moved): nothing was left for another process"; }
    timeout 300 "$SHOPSTREAM_BIN" "$@" --exit-at-end 2>"$err" || rc=$?
    [ $rc -eq 0 ] || { tail -n 20 "$err" >&2; fail "run ${name}2 exited $rc"; }
    grep -q 'msg="savepoint loaded' "$err" || check_failed "run ${name}2 did not load the savepoint"
    nread=$(grep -o 'msg="[a-z ]*" records=[0-9]*' "$err" | tail -1 | sed 's/.*records=//')
    warned=$(grep -c 'another process read this partition on' "$err" || true)
    note "$name: $how at $at of $moved clicks committed, the rest committed by 'another process'; ${name}2 read ${nread:-?} records, $warned partition(s) went on from the commit"
    [ "${nread:-x}" = 0 ] || check_failed "run ${name}2 read ${nread:-?} records: it read again what another process had committed"
    [ "$warned" -ge 1 ] || check_failed "run ${name}2 did not say which partitions it went on from the commit"
}

# ---- D. the partitions read on by another process while this one was stopped ---------------
# Run D1 (clicks only, group e2e-0401d, savepoint.path) is stopped with SIGTERM mid-stream, as
# in B. Then the group's clicks offsets are moved to the end, as another process of the group
# would commit them by reading the rest while D1 is down. Run D2 (--exit-at-end, same group and
# savepoint) must go on from those commits, not from its savepoint's positions: reading them
# again would write their rows a second time. So it reads 0 records, and says why per partition.
SPD=$T/state/savepoint-d
RUND=(run --input clicks="kafka://$B/clicks" "${SET[@]}" --set kafka.group_id=e2e-0401d --set savepoint.path="$SPD"
      --sink "jsonl:$T/outd")
"$SHOPSTREAM_BIN" "${RUND[@]}" --set epoch.events=1000 -X queued.min.messages=100 -X max.partition.fetch.bytes=20000 \
    2>"$T/d1.stderr" &
P1=$!
d1_wrote() { # its first epochs are committed: stopped at once, while most clicks are still unread
    kill -0 "$P1" 2>/dev/null || { tail -n 5 "$T/d1.stderr" >&2; fail "run D1 ended by itself"; }
    [ -s "$T/outd/dlq.jsonl" ]
}
poll_until 180 "run D1 to commit its first epochs" d1_wrote
kill -TERM "$P1"
rc=0
wait "$P1" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$T/d1.stderr" >&2; fail "run D1 exited $rc after SIGTERM"; }
[ -s "$SPD" ] || fail "run D1 wrote no savepoint at $SPD"
d_at_stop=$(clicks_committed e2e-0401d.clicks)
to_end e2e-0401d.clicks || { cat "$T/reset.out" >&2; fail "cannot move the group's offsets to the end"; }
goes_on_from_commit D stopped "$d_at_stop" "$(clicks_committed e2e-0401d.clicks)" "${RUND[@]}"

# ---- E. the same after a crash: its own commits told from another process's ----------------
# Run E1 (clicks only, group e2e-0401e, a savepoint every second) is killed with SIGKILL once a
# periodic savepoint exists and its epochs are committed. Commits past a periodic savepoint are
# normally the crashed process's own, and are read again from the savepoint (part C): they are
# tagged with the savepoint's lineage (Kafka commit metadata). Here, once the killed member's
# session has ended, the group's offsets are moved to the end with Kafka's tool, as another
# process of the group would commit them: untagged. Run E2 must go on from those commits, as D2
# does. Before the tags, a periodic savepoint's positions were always read from, and E2 read
# again what the other process had committed.
SPE=$T/state/savepoint-e
RUNE=(run --input clicks="kafka://$B/clicks" "${SET[@]}" --set kafka.group_id=e2e-0401e --set savepoint.path="$SPE"
      --set savepoint.interval=1s --sink "jsonl:$T/oute")
"$SHOPSTREAM_BIN" "${RUNE[@]}" --set epoch.events=1000 -X queued.min.messages=100 -X max.partition.fetch.bytes=20000 \
    -X session.timeout.ms=6000 2>"$T/e1.stderr" &
P1=$!
e1_ready() {
    kill -0 "$P1" 2>/dev/null || { tail -n 5 "$T/e1.stderr" >&2; fail "run E1 ended by itself"; }
    [ -s "$SPE" ] && [ "$(clicks_committed e2e-0401e.clicks)" -gt 0 ]
}
poll_until 180 "run E1 to write a savepoint and commit clicks offsets" e1_ready
kill -KILL "$P1"
wait "$P1" 2>/dev/null
e_at_kill=$(clicks_committed e2e-0401e.clicks)
poll_until 90 "the group's offsets to be moved to the end once E1's session ended" to_end e2e-0401e.clicks
goes_on_from_commit E killed "$e_at_kill" "$(clicks_committed e2e-0401e.clicks)" "${RUNE[@]}"
finish
