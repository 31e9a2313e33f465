#!/usr/bin/env bash
# 0004 — `shopstream demo`, the one-command tour (embedded Kafka mock cluster, every local
# sink under --data), run twice on one --data directory, as a new user reruns `make demo`.
# Each tour starts from the same fixed date, so the second must replace the first's outputs:
# afterwards the lake (append-only) and the SQLite database (upserts) hold the same final
# category_revenue rows. A --data directory holding outputs that no demo wrote is left
# alone: the demo warns and adds to it. A second demo on the --data of one that runs is
# refused.
source "$(dirname "$0")/lib.sh"
need_bin
D=$T/data

# sum of orders and number of final category_revenue rows: "rows orders"
lake_sums() {
    "$PY" - "$1" <<'PYEOF'
import glob, sys
import pyarrow.parquet as pq
rows = orders = 0
for f in glob.glob(sys.argv[1] + "/category_revenue/**/*.parquet", recursive=True):
    t = pq.read_table(f)
    rows += t.num_rows
    orders += sum(t.column("orders").to_pylist())
print(rows, orders)
PYEOF
}
db_sums() {
    "$PY" - "$1" <<'PYEOF'
import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute(
    "select count(*), coalesce(sum(orders), 0) from category_revenue where final").fetchone()
print(r[0], r[1])
PYEOF
}

for run in 1 2; do
    rc=0
    timeout 120 "$SHOPSTREAM_BIN" demo --seconds 3 --data "$D" \
        >"$T/demo$run.out" 2>"$T/demo$run.err" || rc=$?
    [ $rc -eq 0 ] || { tail -n 20 "$T/demo$run.err" >&2; fail "demo run $run exited $rc"; }
    grep -q "events produced" "$T/demo$run.out" || check_failed "demo run $run printed no summary"
done
grep -q "removed the previous demo's outputs" "$T/demo2.err" || check_failed "demo run 2 did not clear run 1's outputs"
lake=$(lake_sums "$D/lake") || fail "cannot read the demo's lake"
db=$(db_sums "$D/shopstream.db") || fail "cannot read the demo's database"
[ "${db%% *}" -gt 0 ] 2>/dev/null || check_failed "the second demo wrote no final category_revenue row ($db)"
note "after two demos: lake $lake, database $db (final category_revenue rows, orders)"
[ "$lake" = "$db" ] || check_failed "lake ($lake) and database ($db) disagree after a second demo"
[ "${lake%% *}" -gt 0 ] || check_failed "the demo wrote no category_revenue rows"

# a directory that a demo did not fill: kept, with a warning
F=$T/foreign
mkdir -p "$F/lake"
echo keep >"$F/lake/keep.txt"
rc=0
timeout 120 "$SHOPSTREAM_BIN" demo --seconds 1 --data "$F" >"$T/foreign.out" 2>"$T/foreign.err" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$T/foreign.err" >&2; fail "demo on a foreign directory exited $rc"; }
[ -f "$F/lake/keep.txt" ] || check_failed "the demo removed a file it did not write"
grep -q "no demo wrote" "$T/foreign.err" || check_failed "no warning about a directory the demo did not fill"

# one demo per --data: a second demo on the directory of one that runs is refused (exit 2)
# before it removes anything. It used to remove the running demo's database, lake and
# JSONL files as "the previous demo's outputs", and the first demo then failed (exit 1).
B=$T/busy
"$SHOPSTREAM_BIN" demo --data "$B" --set http.listen=127.0.0.1:0 >"$T/busy1.out" 2>"$T/busy1.err" &
first=$!
PIDS+=("$first")
poll_until 60 "the first demo's console line" grep -q "shopstream running" "$T/busy1.err"
rc=0
timeout 120 "$SHOPSTREAM_BIN" demo --seconds 1 --data "$B" --set http.listen=127.0.0.1:0 \
    >"$T/busy2.out" 2>"$T/busy2.err" || rc=$?
[ $rc -eq 2 ] && grep -q "another process is writing $B (it holds the data directory's lock): a demo is running there" \
    "$T/busy2.err" || check_failed "a second demo on a busy --data: exit $rc: $(tail -n 1 "$T/busy2.err")"
[ -f "$B/shopstream.db" ] || check_failed "the second demo removed the running demo's database"
kill -INT "$first"
rc=0
wait "$first" || rc=$?
[ $rc -eq 0 ] || { tail -n 5 "$T/busy1.err" >&2; check_failed "the running demo, after a second one was refused: exit $rc"; }
grep -q "events produced" "$T/busy1.out" || check_failed "the running demo printed no summary"
note "a second demo on a busy --data: exit 2, the first finished"

# without --seconds the demo runs until Ctrl-C (it asked the generator for more events
# than it accepts and exited 2 at once), then prints its summary and exits 0
signal_when "shopstream running" INT "$T/endless.err" bash -c 'exec "$@" >"$0"' "$T/endless.out" \
    "$SHOPSTREAM_BIN" demo --data "$T/endless" --set http.listen=127.0.0.1:0
[ "$SIGNALLED_RC" -eq 0 ] || { tail -n 20 "$T/endless.err" >&2; check_failed "demo without --seconds, stopped by SIGINT: exit $SIGNALLED_RC, expected 0"; }
grep -q "events produced" "$T/endless.out" || check_failed "demo without --seconds printed no summary"
grep -q 'seconds="until Ctrl-C"' "$T/endless.err" || check_failed "demo without --seconds did not say it runs until Ctrl-C"
finish
