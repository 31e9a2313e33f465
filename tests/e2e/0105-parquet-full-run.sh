#!/usr/bin/env bash
# 0105 — a full generated run (duplicates, late and invalid records, small epochs) into the
# parquet:DIR lake sink. Every Parquet file is read back twice, independently: with
# pyarrow and with DuckDB (export_tables.py parquet-arrow / parquet-duckdb: column names and
# order, DECIMAL scales, UTC timestamps, then every value), and each reading is compared
# row by row with the model. The lake's events table is compared with the model's
# accepted clicks and orders (export_tables.py events-check). recently_viewed is a state
# stream the lake does not keep: that one table is taken from the run's jsonl sink. Files
# roll within an epoch (file_rows, file_bytes), and every part is read. A second lake of the
# same run holds its files open across epochs (roll_interval) and must hold the same rows.
source "$(dirname "$0")/lib.sh"
need_bin
N=200000   # three model runs and two full readings of the lake: keep it under ~90 s
[ "$E2E_QUICK" = 1 ] && N=30000

G=$T/gen
mkdir -p "$G"
"$SHOPSTREAM_BIN" produce --out-dir "$G" --events "$N" --seed 23 \
    --duplicates 0.02 --late 0.02 --invalid 0.02 2>"$G.stderr" || { tail "$G.stderr" >&2; fail "produce failed"; }
I=(promotions="$G/promotions.jsonl" orders="$G/orders.csv" clicks="$G/clicks.jsonl")
A=(); for s in "${I[@]}"; do A+=(--input "$s"); done
PQ=$T/lake
# small roll limits, so that an epoch's rows of one table and hour span several files
# (by rows in the quick run, by size as well in the full one) and the readers see them all
# A second lake keeps its files open across epochs (roll_interval longer than the run):
# one file per table and hour, however many epochs (below).
PQ2=$T/lake-held
run_engine "$T/jsonl" "${A[@]}" --set epoch.events=$((N / 10)) --sink "parquet:$PQ?file_rows=1500&file_bytes=16384" \
    --sink "parquet:$PQ2?roll_interval=1h"
rolled=$(find "$PQ/events" -name 'part-*-0001-*.parquet' | wc -l)
[ "$rolled" -gt 0 ] || check_failed "no events file was rolled to a second part (file_rows=1500, file_bytes=16384)"

# the lake holds nothing but finished .parquet files under the tables' directories
nfiles=$(find "$PQ" -type f -name '*.parquet' | wc -l)
[ "$nfiles" -gt 0 ] || fail "no Parquet file under $PQ"
stray=$(find "$PQ" -type f ! -name '*.parquet' | head -5)
[ -z "$stray" ] || check_failed "files other than .parquet in the lake: $stray"
unknown=$(find "$PQ" -mindepth 1 -maxdepth 1 | sed 's|.*/||' | grep -vxE \
    'category_revenue|hourly_sales|trending_products|funnel|sessions|promo_matches|alerts|data_quality|events|dlq|late' | head -5)
[ -z "$unknown" ] || check_failed "unexpected table directories in the lake: $unknown"

for reader in arrow duckdb; do
    X=$T/export-$reader
    "$PY" "$E2E_DIR/export_tables.py" parquet-$reader "$PQ" "$X" >"$X.out" 2>"$X.err" ||
        { cat "$X.err" >&2; check_failed "reading the lake with $reader reported problems (above)"; }
    sed 's/^/    /' "$X.out"
    grep -q ": $nfiles files," "$X.out" || check_failed "$reader did not read all $nfiles files"
    cp "$T/jsonl/recently_viewed.jsonl" "$X/"
    compare_with_model "$X" "${I[@]}"
done
# the events table of both readings against one model run
"$PY" "$E2E_DIR/export_tables.py" events-check "$T/export-arrow,$T/export-duckdb" "${I[@]}" >"$T/events.out" 2>&1 ||
    { cat "$T/events.out" >&2; check_failed "the lake's events table differs from the model's accepted events"; }
grep '^events' "$T/events.out" | sed 's/^/    /'

# the held lake: exactly one file in every hour directory, nothing left as a temp file,
# and the same tables as the model
multi=$(find "$PQ2" -type f -name '*.parquet' -printf '%h\n' | sort | uniq -d | head -3)
[ -z "$multi" ] || check_failed "roll_interval=1h: more than one file in $multi"
stray=$(find "$PQ2" -type f ! -name '*.parquet' | head -3)
[ -z "$stray" ] || check_failed "roll_interval=1h: files other than .parquet left: $stray"
nheld=$(find "$PQ2" -type f -name '*.parquet' | wc -l)
note "lake with roll_interval=1h: $nheld files, against $nfiles rolled every epoch"
X=$T/export-held
"$PY" "$E2E_DIR/export_tables.py" parquet-arrow "$PQ2" "$X" >"$X.out" 2>"$X.err" ||
    { cat "$X.err" >&2; check_failed "reading the held lake reported problems (above)"; }
cp "$T/jsonl/recently_viewed.jsonl" "$X/"
compare_with_model "$X" "${I[@]}"
"$PY" "$E2E_DIR/export_tables.py" events-check "$X" "${I[@]}" >"$T/events-held.out" 2>&1 ||
    { cat "$T/events-held.out" >&2; check_failed "the held lake's events table differs from the model's accepted events"; }

# the two readers agree with each other too (same rows in the same file order)
for f in "$T/export-arrow"/*.jsonl; do
    cmp -s "$f" "$T/export-duckdb/$(basename "$f")" || check_failed "pyarrow and DuckDB read $(basename "$f" .jsonl) differently"
done
finish
