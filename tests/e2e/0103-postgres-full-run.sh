#!/usr/bin/env bash
# 0103 — a full generated run (duplicates, late and invalid records; small epochs, so
# window rows go through the provisional -> final path) into a real PostgreSQL 15
# (scripts/pg-test-server: own data directory, own port on 127.0.0.1, removed at the end).
# Every table is read back with psql (export_tables.py postgres) and compared row by row
# with the model; no windowed row may still have final = false after the run; the stored
# input positions and epoch are those of the whole run.
# requires: postgres
source "$(dirname "$0")/lib.sh"
need_bin
N=150000
[ "$E2E_QUICK" = 1 ] && N=30000

pg_start

G=$T/gen
mkdir -p "$G"
"$SHOPSTREAM_BIN" produce --out-dir "$G" --events "$N" --seed 31 \
    --duplicates 0.02 --late 0.02 --invalid 0.02 2>"$G.stderr" || { tail "$G.stderr" >&2; fail "produce failed"; }
I=(promotions="$G/promotions.jsonl" orders="$G/orders.csv" clicks="$G/clicks.jsonl")
A=(); for s in "${I[@]}"; do A+=(--input "$s"); done
EPOCH_EVENTS=$((N / 10))
rc=0
"$SHOPSTREAM_BIN" run "${A[@]}" --set epoch.events=$EPOCH_EVENTS --sink "$URL" 2>"$T/run.stderr" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$T/run.stderr" >&2; fail "shopstream run --sink $URL exited $rc"; }

X=$T/export
"$PY" "$E2E_DIR/export_tables.py" postgres "$X" >"$T/export.out" 2>"$T/export.err" ||
    { cat "$T/export.err" >&2; check_failed "export from PostgreSQL reported problems (above)"; }
sed 's/^/    /' "$T/export.out"
compare_with_model "$X" "${I[@]}"

q() { psql -X -q -At -F'|' -v ON_ERROR_STOP=1 -c "$1"; }
lines() { wc -l <"$1" | tr -d ' '; }
want="$G/clicks.jsonl|2|$(( $(lines "$G/clicks.jsonl") + 1 ))
$G/orders.csv|1|$(( $(lines "$G/orders.csv") + 1 ))
$G/promotions.jsonl|0|$(( $(lines "$G/promotions.jsonl") + 1 ))"
got=$(q "SELECT source, partition, next_offset FROM shopstream_offsets ORDER BY source COLLATE \"C\"")
[ "$got" = "$want" ] || check_failed "shopstream_offsets:
  expected: $want
  got:      $got"
epochs=$(q "SELECT epoch FROM shopstream_epoch WHERE sink = 'postgresql'")
# about N / EPOCH_EVENTS epochs (the engine checks the count per read batch): rows crossed epochs
[ "${epochs:-0}" -ge 5 ] || check_failed "only ${epochs:-no} epoch(s) committed; expected >= 5 with epoch.events=$EPOCH_EVENTS"
same=$(q "SELECT count(*) FROM shopstream_offsets WHERE epoch = ${epochs:-0}")
[ "$same" = 3 ] || check_failed "shopstream_offsets not all at the last epoch $epochs"
note "$epochs epochs committed"
finish
