#!/usr/bin/env bash
# 0102 — a full generated run (duplicates, late and invalid records; small epochs, so
# window rows go through the provisional -> final path) into the SQLite sink; every table
# read back out of the database (export_tables.py sqlite) and compared row by row with
# the model. After the run no windowed row may still have final = false, and the
# stored input positions and epoch must be those of the whole run.
source "$(dirname "$0")/lib.sh"
need_bin
N=300000
[ "$E2E_QUICK" = 1 ] && N=30000

G=$T/gen
mkdir -p "$G"
"$SHOPSTREAM_BIN" produce --out-dir "$G" --events "$N" --seed 11 \
    --duplicates 0.02 --late 0.02 --invalid 0.02 2>"$G.stderr" || { tail "$G.stderr" >&2; fail "produce failed"; }
I=(promotions="$G/promotions.jsonl" orders="$G/orders.csv" clicks="$G/clicks.jsonl")
A=(); for s in "${I[@]}"; do A+=(--input "$s"); done
DB=$T/out.db
EPOCH_EVENTS=$((N / 10))
rc=0
"$SHOPSTREAM_BIN" run "${A[@]}" --set epoch.events=$EPOCH_EVENTS --sink "sqlite:$DB" 2>"$T/run.stderr" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$T/run.stderr" >&2; fail "shopstream run --sink sqlite:$DB exited $rc"; }

# every table out of SQLite, final rows only; exit 1 = a row left provisional or a wrong type
X=$T/export
"$PY" "$E2E_DIR/export_tables.py" sqlite "$DB" "$X" >"$T/export.out" 2>"$T/export.err" ||
    { cat "$T/export.err" >&2; check_failed "export from SQLite reported problems (above)"; }
sed 's/^/    /' "$T/export.out"
compare_with_model "$X" "${I[@]}"

# the positions: next_offset = last line number + 1 for each input, in the last epoch
lines() { wc -l <"$1" | tr -d ' '; }
want="$G/clicks.jsonl|2|$(( $(lines "$G/clicks.jsonl") + 1 ))
$G/orders.csv|1|$(( $(lines "$G/orders.csv") + 1 ))
$G/promotions.jsonl|0|$(( $(lines "$G/promotions.jsonl") + 1 ))"
got=$(sqlite3 "$DB" "SELECT source, partition, next_offset FROM shopstream_offsets ORDER BY source")
[ "$got" = "$want" ] || check_failed "shopstream_offsets:
  expected: $want
  got:      $got"
epochs=$(sqlite3 "$DB" "SELECT epoch FROM shopstream_epoch WHERE sink = 'sqlite'")
same=$(sqlite3 "$DB" "SELECT count(*) FROM shopstream_offsets WHERE epoch = $epochs")
# about N / EPOCH_EVENTS epochs (the engine checks the count per read batch): rows crossed epochs
[ "${epochs:-0}" -ge 5 ] || check_failed "only ${epochs:-no} epoch(s) committed; expected >= 5 with epoch.events=$EPOCH_EVENTS"
[ "$same" = 3 ] || check_failed "shopstream_offsets not all at the last epoch $epochs"
note "$epochs epochs committed"
finish
