#!/usr/bin/env bash
# bench/ab.sh A_BIN B_BIN [FILE] — two builds of shopstream over the same input, in
# alternating runs (A B A B ...), for telling a change from this VM's drift (its speed moves
# 10-20 % within an hour, docs/PERFORMANCE.md). Each run is `run --input clicks=FILE --sink
# jsonl:OUT`; it records the wall time, the CPU time of the operators' thread (the main
# thread, the one that sets the pace) and of the whole process. It prints every run, then the
# median of each figure per build and the median of the per-pair ratios B/A: a pair runs
# minutes apart at most, so its ratio is what slow drift spoils least; then in how many pairs
# B was the faster, with a sign test's p (the chance of so uneven a split were neither build
# faster: ten pairs need 9 of 10 for p < 0.05, six pairs all six). Not pass/fail.
# AB_PAIRS (default 6) pairs; FILE defaults to the bench's 5M-event file (make bench makes it).
# Extra environment for one side: AB_ENV_A / AB_ENV_B (e.g. AB_ENV_B=MALLOC_CONF=thp:always).
set -euo pipefail
A=$1
B=$2
REPO=$(cd "$(dirname "$0")/.." && pwd)
FILE=${3:-$REPO/.cache/bench/clicks-5000000.jsonl}
PAIRS=${AB_PAIRS:-6}
[ -x "$A" ] && [ -x "$B" ] || { echo "usage: bench/ab.sh A_BIN B_BIN [FILE]" >&2; exit 2; }
[ -r "$FILE" ] || { echo "bench/ab.sh: cannot read $FILE (make bench generates it)" >&2; exit 2; }
W=$(mktemp -d "${TMPDIR:-/tmp}/ab.XXXXXX")
trap 'rm -rf "$W"' EXIT
HZ=$(getconf CLK_TCK)

# one_run LABEL BIN ENV: prints "LABEL wall main all" (seconds)
one_run() {
    local label=$1 bin=$2 envs=$3 t0 t1 pid main=0 all=0 s a
    rm -rf "$W/out"
    t0=$(date +%s%N)
    # shellcheck disable=SC2086 # envs is a list of NAME=VALUE words
    env $envs "$bin" run --input clicks="$FILE" --sink "jsonl:$W/out" >/dev/null 2>"$W/err" &
    pid=$!
    # the last reading before the process ends: utime + stime of the main thread and of all
    while kill -0 "$pid" 2>/dev/null; do
        s=$(awk '{print $14 + $15}' "/proc/$pid/task/$pid/stat" 2>/dev/null || true)
        a=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || true)
        [ -n "$s" ] && main=$s
        [ -n "$a" ] && all=$a
        sleep 0.02
    done
    wait "$pid" || { echo "bench/ab.sh: $bin failed: $(tail -3 "$W/err")" >&2; exit 1; }
    t1=$(date +%s%N)
    awk -v l="$label" -v w=$((t1 - t0)) -v m="$main" -v a="$all" -v hz="$HZ" \
        'BEGIN { printf "%s %.3f %.2f %.2f\n", l, w / 1e9, m / hz, a / hz }'
}

echo "A: $A${AB_ENV_A:+ ($AB_ENV_A)}"
echo "B: $B${AB_ENV_B:+ ($AB_ENV_B)}"
echo "input: $FILE, $PAIRS pairs (run, wall s, operators' thread CPU s, all threads CPU s)"
for p in $(seq 1 "$PAIRS"); do
    # the pair's order alternates too, so that neither side always runs on a warmer cache
    if [ $((p % 2)) -eq 1 ]; then
        one_run A "$A" "${AB_ENV_A:-}" | tee -a "$W/runs"
        one_run B "$B" "${AB_ENV_B:-}" | tee -a "$W/runs"
    else
        one_run B "$B" "${AB_ENV_B:-}" | tee -a "$W/runs"
        one_run A "$A" "${AB_ENV_A:-}" | tee -a "$W/runs"
    fi
done
awk '
function median(v, n,    i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
# the chance of a split at least this uneven between k and n - k if neither build were faster
function sign_p(k, n,    i, c, t, p) {
    if (k > n - k) k = n - k
    c = 1; t = 0
    for (i = 0; i <= k; i++) { t += c; c = c * (n - i) / (i + 1) }
    p = 2 * t / 2 ^ n
    return p > 1 ? 1 : p
}
{ k = ++n[$1]; w[$1, k] = $2; m[$1, k] = $3; c[$1, k] = $4 }
END {
    for (s = 0; s < 2; s++) {
        side = s ? "B" : "A"
        for (i = 1; i <= n[side]; i++) { x[i] = w[side, i]; y[i] = m[side, i]; z[i] = c[side, i] }
        printf "median %s: wall %.3f s, operators %.2f s, all %.2f s\n", side, median(x, n[side]), median(y, n[side]), median(z, n[side])
    }
    for (i = 1; i <= n["A"]; i++) { x[i] = w["B", i] / w["A", i]; y[i] = m["B", i] / m["A", i]; z[i] = c["B", i] / c["A", i] }
    printf "median B/A of the pairs: wall %.3f, operators %.3f, all %.3f\n", median(x, n["A"]), median(y, n["A"]), median(z, n["A"])
    for (i = 1; i <= n["A"]; i++) { fw += x[i] < 1; fm += y[i] < 1; fa += z[i] < 1 }
    printf "B faster in: wall %d, operators %d, all %d of %d pairs (sign test, two-sided p: %.2f, %.2f, %.2f)\n", fw, fm, fa, n["A"], sign_p(fw, n["A"]), sign_p(fm, n["A"]), sign_p(fa, n["A"])
}' "$W/runs"
