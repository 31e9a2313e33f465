#!/usr/bin/env bash
# 0005 — every size and threshold of DESIGN §4 away from its default. The other tests run
# the default configuration (0003 once with 5-minute revenue windows); here each round
# draws a configuration from its seed: any of lateness, session gap, join grace, the
# four window sizes, the trending slide and top N, the alert thresholds and the
# recently-viewed size and TTL, from 0 s / 1 s / one event up to a day or a hundred. It
# hands them to the engine alternately through --set, a nested YAML file (-c) and
# SHOPSTREAM_* environment variables, over generated data whose defect rates (0-30 %),
# user and product counts and input order also vary, and compares every table with the
# model run with the same settings. A setting the engine ignored, read from the wrong
# place or applied with an off-by-one shows as differing rows.
source "$(dirname "$0")/lib.sh"
need_bin
ROUNDS=16
[ "$E2E_QUICK" = 1 ] && ROUNDS=6

# plan.py SEED DIR: writes DIR/produce (produce flags), DIR/settings (KEY=VALUE lines),
# DIR/inputs (STREAM=PATH lines, in the order the engine reads them) and DIR/via.
cat > "$T/plan.py" <<'PYEOF'
import random, sys
seed, d = int(sys.argv[1]), sys.argv[2]
r = random.Random(seed)
choices = {
    "lateness": ["0s", "1s", "30s", "2m", "15m", "1h"],
    "sessions.gap": ["1s", "1m", "5m", "30m", "2h"],
    "join.grace": ["0s", "10s", "2m", "1h"],
    "windows.category_revenue": ["1s", "7s", "1m", "5m", "1h", "1d"],
    "windows.hourly_sales": ["1m", "1h", "1d"],
    "windows.funnel": ["1m", "1h", "1d"],
    "windows.trending.top": ["1", "3", "20", "100"],
    "alerts.high_value.threshold": ["0.01", "100.00", "1000", "999999.99"],
    "alerts.velocity.count": ["1", "2", "5", "50"],
    "alerts.velocity.range": ["1s", "1m", "10m", "1h"],
    "recent.size": ["1", "5", "20", "100"],
    "recent.ttl": ["1s", "1m", "1h", "24h"],
}
sliding = [("1m", "1m"), ("10m", "5m"), ("6m", "2m"), ("1h", "10m"), ("1s", "1s"), ("30s", "10s")]
settings = [(k, r.choice(v)) for k, v in choices.items() if r.random() < 0.6]
if r.random() < 0.5:
    size, slide = r.choice(sliding)
    settings += [("windows.trending.size", size), ("windows.trending.slide", slide)]
produce = ["--events", str(r.choice([3000, 20000])), "--seed", str(seed),
           "--duplicates", r.choice(["0", "0.03", "0.2"]), "--late", r.choice(["0", "0.03", "0.2"]),
           "--invalid", r.choice(["0", "0.03", "0.3"])]
if r.random() < 0.4:
    produce += ["--users", "50", "--products", "30"]
inputs = ["promotions=promotions.jsonl", "orders=orders.csv", "clicks=clicks.jsonl"]
r.shuffle(inputs)
open(d + "/produce", "w").write("\n".join(produce) + "\n")
open(d + "/settings", "w").write("".join("%s=%s\n" % kv for kv in settings))
open(d + "/inputs", "w").write("\n".join(inputs) + "\n")
open(d + "/via", "w").write(["set", "yaml", "env"][seed % 3] + "\n")
PYEOF

# yaml SETTINGS_FILE: the settings as nested YAML (a.b.c: v -> a: {b: {c: v}})
yaml_of() {
    "$PY" - "$1" <<'PYEOF'
import sys
tree = {}
for line in open(sys.argv[1]):
    key, _, val = line.rstrip("\n").partition("=")
    node = tree
    parts = key.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = val
def dump(node, ind):
    for k, v in node.items():
        if isinstance(v, dict):
            print("%s%s:" % (ind, k)); dump(v, ind + "  ")
        else:
            print('%s%s: "%s"' % (ind, k, v))
dump(tree, "")
PYEOF
}

for round in $(seq 1 "$ROUNDS"); do
    seed=$((5000 + round))
    R=$T/r$round
    mkdir -p "$R"
    "$PY" "$T/plan.py" "$seed" "$R" || fail "plan.py $seed"
    mapfile -t P < "$R/produce"
    mapfile -t S < "$R/settings"
    mapfile -t I < "$R/inputs"
    via=$(cat "$R/via")
    "$SHOPSTREAM_BIN" produce --out-dir "$R/gen" "${P[@]}" 2>"$R/produce.err" ||
        { tail -n 5 "$R/produce.err" >&2; fail "produce ${P[*]}"; }
    A=(); M=()
    for s in "${I[@]}"; do A+=(--input "${s%%=*}=$R/gen/${s#*=}"); M+=("${s%%=*}=$R/gen/${s#*=}"); done
    SETS=(); for kv in "${S[@]}"; do SETS+=(--set "$kv"); done
    ENV=()
    case $via in
        set) A+=("${SETS[@]}") ;;
        yaml) yaml_of "$R/settings" > "$R/config.yml"; A+=(-c "$R/config.yml") ;;
        env) for kv in "${S[@]}"; do
                 k=${kv%%=*}; k=${k//./_}; k=${k//-/_}
                 ENV+=("SHOPSTREAM_${k^^}=${kv#*=}")
             done ;;
    esac
    note "round $round (seed $seed, via $via): ${S[*]:-defaults}; ${P[*]}; inputs ${I[*]}"
    env "${ENV[@]}" "$SHOPSTREAM_BIN" run "${A[@]}" --sink "jsonl:$R/out" 2>"$R/out.stderr" ||
        { tail -n 20 "$R/out.stderr" >&2; check_failed "round $round: shopstream run exited non-zero"; continue; }
    compare_with_model "$R/out" "${SETS[@]}" "${M[@]}" || true
done
finish
