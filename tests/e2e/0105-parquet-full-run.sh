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

# each table read as one Hive-partitioned dataset, as analysts do (DuckDB hive_partitioning,
# pyarrow.dataset with dt a date32 and hour an int32): dt is a DATE, a filter on it works,
# dt/hour equal the UTC date and hour of the row's time column, and a dlq row without an
# hour has both null (a partition value such as "unknown" turned dt into text for the
# whole table, and made a date filter or a typed read fail on it). The lake above commits
# an epoch every N/10 records; a third lake gets the run in the default 2 s epochs, so that
# dead letters land in the last epoch, whose W = +inf has no hour: they go under the hour of
# the newest valid event time instead, and no dlq file lies outside a dated partition.
PQ3=$T/lake-one-epoch
run_engine "$T/jsonl-one-epoch" "${A[@]}" --sink "parquet:$PQ3"
undated=$(find "$PQ3/dlq" "$PQ/dlq" -name '*.parquet' | grep -vE '/dt=[0-9]{4}-[0-9]{2}-[0-9]{2}/hour=[0-9]{2}/' | head -3)
[ -z "$undated" ] || check_failed "dlq files outside a dt=YYYY-MM-DD/hour=HH partition: $undated"
for lake in "$PQ" "$PQ3"; do
"$PY" - "$lake" <<'PYEOF' || check_failed "$lake read as Hive-partitioned datasets (above)"
import sys, duckdb, pyarrow as pa, pyarrow.dataset as ds
lake = sys.argv[1]
typed = ds.partitioning(pa.schema([("dt", pa.date32()), ("hour", pa.int32())]), flavor="hive")
tcol = {"category_revenue": "window_start", "hourly_sales": "window_start", "trending_products": "window_start",
        "funnel": "window_start", "sessions": "session_start", "promo_matches": "click_ts", "alerts": "ts",
        "data_quality": "minute_start", "events": "ts", "late": "ts", "dlq": None}
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
bad = 0
for t, c in tcol.items():
    src = "read_parquet('%s/%s/**/*.parquet', hive_partitioning = true, union_by_name = true)" % (lake, t)
    types = {r[0]: r[1] for r in con.execute("DESCRIBE SELECT * FROM " + src).fetchall()}
    dated = con.execute("SELECT count(dt) FROM " + src).fetchone()[0]  # a type needs a value
    if dated and types.get("dt") != "DATE":
        print("    %s: DuckDB reads dt as %s, not DATE" % (t, types.get("dt"))); bad += 1
    try:  # a filter on the date, and pyarrow with the partition columns typed
        con.execute("SELECT count(*) FROM %s WHERE dt >= DATE '2000-01-01'" % src).fetchone()
        ds.dataset("%s/%s" % (lake, t), partitioning=typed).to_table()
    except Exception as e:
        print("    %s: %s" % (t, str(e).splitlines()[0])); bad += 1
    if c:
        n = con.execute("SELECT count(*) FROM %s WHERE dt IS DISTINCT FROM CAST(%s AS DATE) "
                        "OR CAST(hour AS INT) IS DISTINCT FROM hour(%s)" % (src, c, c)).fetchone()[0]
        if n:
            print("    %s: %d rows under another dt/hour than their %s" % (t, n, c)); bad += 1
    else:
        n = con.execute("SELECT count(*) FROM %s WHERE (dt IS NULL) <> (hour IS NULL)" % src).fetchone()[0]
        if n:
            print("    %s: %d rows with only one of dt, hour null" % (t, n)); bad += 1
sys.exit(1 if bad else 0)
PYEOF
done

# the two readers agree with each other too (same rows in the same file order)
for f in "$T/export-arrow"/*.jsonl; do
    cmp -s "$f" "$T/export-duckdb/$(basename "$f")" || check_failed "pyarrow and DuckDB read $(basename "$f" .jsonl) differently"
done
finish
