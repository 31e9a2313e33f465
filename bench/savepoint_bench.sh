#!/usr/bin/env bash
# bench/savepoint_bench.sh [BUILD] — what periodic savepoints cost the engine, forked
# (savepoint.fork=true, the default) next to written on the engine's thread (false), in the
# same run (not pass/fail). Starts a private broker (scripts/kafka-test-server), writes
# BENCH_SAVEPOINT_EVENTS (default 5 000 000) generated clicks to a 3-partition topic, then
# reads it BENCH_SAVEPOINT_RUNS times (default 2) in each mode, alternating, each as a new
# consumer group, with `--exit-at-end`, a JSONL sink and a savepoint every second. For each
# run it prints the wall time, the savepoints published, the last one's size, how long the
# engine stopped for them (in all and at most: the fork, or the whole write) and the longest
# write. From the engine's `savepoint written` debug lines.
set -euo pipefail
BUILD=${1:-build}
EVENTS=${BENCH_SAVEPOINT_EVENTS:-5000000}
RUNS=${BENCH_SAVEPOINT_RUNS:-2}
REPO=$(cd "$(dirname "$0")/.." && pwd)
SS="$BUILD/shopstream"
case "$SS" in /*) ;; *) SS="$PWD/$SS" ;; esac
KT="$REPO/scripts/kafka-test-server"
W=$(mktemp -d "${TMPDIR:-/tmp}/savepoint-bench.XXXXXX")
trap '"$KT" stop "$W/kafka" >/dev/null 2>&1 || true; rm -rf "$W"' EXIT

B=$("$KT" start "$W/kafka")
"$KT" topic "$W/kafka" clicks 3
"$SS" produce --stream clicks --events "$EVENTS" --seed 7 --duplicates 0.01 --late 0.01 --invalid 0.01 \
    --brokers "$B" --topic clicks >"$W/produce.log" 2>&1
echo "$EVENTS events in topic clicks (3 partitions); a savepoint every second"
for r in $(seq 1 "$RUNS"); do
    for fork in true false; do
        g="sp-$fork-$r"
        s=$(date +%s.%N)
        "$SS" run --input "clicks=kafka://$B/clicks" -X "group.id=$g" --exit-at-end --sink "jsonl:$W/out-$g" \
            --set "savepoint.path=$W/$g/savepoint" --set savepoint.interval=1s --set "savepoint.fork=$fork" \
            --set log.level=debug >"$W/$g.log" 2>&1
        e=$(date +%s.%N)
        grep 'msg="savepoint written"' "$W/$g.log" |
            sed -E 's/.* bytes=([0-9]+) ms=([0-9]+) pause_ms=([0-9]+).*/\1 \2 \3/' |
            awk -v f="$fork" -v s="$s" -v e="$e" '
                { n++; b = $1; if ($2 > w) w = $2; p += $3; if ($3 > mp) mp = $3 }
                END { printf "savepoint.fork=%-5s %6.2f s wall  %2d savepoints, last %5.1f MB  engine paused %5d ms in all, %4d ms at most  longest write %4d ms\n",
                             f, e - s, n, b / 1e6, p, mp, w }'
    done
done
