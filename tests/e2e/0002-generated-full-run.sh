#!/usr/bin/env bash
# 0002 — generated data (shopstream produce, with duplicates, late and invalid events)
# through the whole engine, compared row by row with the model: JSON clicks, CSV clicks,
# and clicks read from standard input. Clicks are given last so that they drive the
# watermark (the generator's late events are then really late, §4). Last, a dense run:
# few users and products over more than a day of event time.
source "$(dirname "$0")/lib.sh"
need_bin
N=300000
[ "$E2E_QUICK" = 1 ] && N=30000

produce() { # DIR SEED [ARGS...]
    local dir=$1 seed=$2; shift 2
    mkdir -p "$dir"
    "$SHOPSTREAM_BIN" produce --out-dir "$dir" --events "$N" --seed "$seed" \
        --duplicates 0.02 --late 0.02 --invalid 0.02 "$@" 2>"$dir.stderr" \
        || { tail -n 20 "$dir.stderr" >&2; fail "shopstream produce --out-dir $dir --seed $seed $* failed"; }
}
need_files() {
    local f
    for f in "$@"; do [ -s "$f" ] || fail "produce did not write $f"; done
}

# 1. JSON lines
G=$T/gen
produce "$G" 42
need_files "$G/promotions.jsonl" "$G/clicks.jsonl" "$G/orders.csv"
I=(promotions="$G/promotions.jsonl" orders="$G/orders.csv" clicks="$G/clicks.jsonl")
A=(); for s in "${I[@]}"; do A+=(--input "$s"); done
run_engine "$T/json" "${A[@]}"
compare_with_model "$T/json" "${I[@]}"
# the generated data must exercise what it claims to
"$PY" - "$T/json" <<'PYEOF' || check_failed "generated data does not exercise late/duplicate/invalid events"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/data_quality.jsonl") if l.strip()]
tot = {k: sum(r[k] for r in rows) for k in ("total", "late", "duplicates", "valid")}
print("    totals:", tot)
sys.exit(0 if tot["late"] > 0 and tot["duplicates"] > 0 and tot["valid"] < tot["total"] else 1)
PYEOF
# ... and what produce reports it injected is what the run finds (README, quick start): every
# invalid record a dead letter, every duplicate dropped; late rows only from the clicks, read last
"$PY" - "$T/json" "$G.stderr" <<'PYEOF' || check_failed "the run's counts do not match what produce injected"
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/data_quality.jsonl") if l.strip()]
tot = {k: sum(r[k] for r in rows) for k in ("total", "valid", "late", "duplicates")}
made = {k: int(v) for k, v in re.findall(r" (\w+)=(\d+)", open(sys.argv[2]).read().splitlines()[-1])}
dlq = sum(1 for l in open(sys.argv[1] + "/dlq.jsonl") if l.strip())
print("    produce:", made, "run:", tot, "dlq:", dlq)
ok = tot["total"] == made["events"] and dlq == made["invalid"] == tot["total"] - tot["valid"]
ok = ok and tot["duplicates"] == made["duplicates"] and 0 < tot["late"] <= made["late"]
sys.exit(0 if ok else 1)
PYEOF

# 2. CSV clicks
GC=$T/gencsv
produce "$GC" 7 --format csv
need_files "$GC/promotions.jsonl" "$GC/clicks.csv" "$GC/orders.csv"
I=(promotions="$GC/promotions.jsonl" orders="$GC/orders.csv" clicks="$GC/clicks.csv")
A=(); for s in "${I[@]}"; do A+=(--input "$s"); done
run_engine "$T/csv" "${A[@]}"
compare_with_model "$T/csv" "${I[@]}"

# 3. clicks from standard input (source "-")
mkdir -p "$T/stdin"
rc=0
"$SHOPSTREAM_BIN" run --input "promotions=$G/promotions.jsonl" --input "orders=$G/orders.csv" \
    --input clicks=- --sink "jsonl:$T/stdin" < "$G/clicks.jsonl" 2>"$T/stdin.stderr" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$T/stdin.stderr" >&2; fail "run with --input clicks=- exited $rc"; }
compare_with_model "$T/stdin" promotions="$G/promotions.jsonl" orders="$G/orders.csv" clicks=- --stdin "$G/clicks.jsonl"
# 4. few users and products over a long stretch of event time (about 28 h at full size):
#    long per-user histories (sessions, velocity, recently viewed with truncation) and
#    many hourly / funnel windows.
GD=$T/dense
produce "$GD" 9 --users 300 --products 100 --rate 3
need_files "$GD/promotions.jsonl" "$GD/clicks.jsonl" "$GD/orders.csv"
I=(promotions="$GD/promotions.jsonl" orders="$GD/orders.csv" clicks="$GD/clicks.jsonl")
A=(); for s in "${I[@]}"; do A+=(--input "$s"); done
run_engine "$T/dense-out" "${A[@]}"
compare_with_model "$T/dense-out" "${I[@]}"
finish
