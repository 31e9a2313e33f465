#!/usr/bin/env bash
# 0502 — the live dashboard (`/`, DESIGN §8) in a real browser: headless Chromium, driven
# over the DevTools protocol (tests/e2e/cdp.py, standard library only), against a run
# whose clicks arrive on stdin from a pacer over ~16 s (3 polls need ~6 s of it;
# the rest is margin for a slow machine). Each poll of the page is let
# through whole and the page read before the next (tests/e2e/dashboard_check.py): every
# figure shown (counters, watermark, records/s, dead-letter reasons, partitions, sinks,
# operator state, the windows' tabs and rows with the all-categories totals, alerts,
# quality) must equal, as formatted text, the answers that poll got. Mid-run, each table
# shows its last final window while open ones are listed as tabs (lateness 30 s, so that
# 1 min windows close during the run), and a click on an open tab shows its provisional
# rows; at the end each table's window is the newest in its JSONL file, row for row, as
# are the final windows shown mid-run; a recently-viewed lookup typed into the form shows
# the user's last recently_viewed row; an unknown user shows the API's message; the
# browser reports no console error, exception or failed load (but that user's 404).
# requires: chromium
source "$(dirname "$0")/lib.sh"
need_bin
CHROMIUM=${CHROMIUM:-chromium}
command -v "$CHROMIUM" >/dev/null || fail "no $CHROMIUM (scripts/install-deps installs Debian's chromium)"
export CHROMIUM
N=20000
[ "$E2E_QUICK" = 1 ] && N=8000

G=$T/gen
mkdir -p "$G"
# 20 events/s of event time: 20000 events span ~17 min, so 1 min windows close mid-run;
# 400 users, so that lists of recently viewed products are long
"$SHOPSTREAM_BIN" produce --out-dir "$G" --events "$N" --rate 20 --users 400 --seed 12 \
    --duplicates 0.01 --late 0.01 --invalid 0.01 2>"$G.stderr" || { tail -n 5 "$G.stderr" >&2; fail "shopstream produce failed"; }
EVENTS=$(sed -n 's/.*msg="done".* events=\([0-9]*\).*/\1/p' "$G.stderr")
[ -n "$EVENTS" ] || fail "no events= in the produce summary ($G.stderr)"

OUT=$T/out
"$PY" "$E2E_DIR/pace.py" "$G/clicks.jsonl" 16 | "$SHOPSTREAM_BIN" run --input "promotions=$G/promotions.jsonl" \
    --input "orders=$G/orders.csv" --input clicks=- --set epoch.interval=500ms --set lateness=30s \
    --sink "jsonl:$OUT" --sink "metrics:127.0.0.1:0?linger=120s&recently_viewed=on" 2>"$T/run.stderr" &
RUN_PID=$!
trap 'kill $RUN_PID 2>/dev/null; _e2e_cleanup' EXIT

poll_until 30 "the metrics sink to log its port" metrics_listening "$T/run.stderr"
note "dashboard on 127.0.0.1:$PORT, $EVENTS events"

SHOTS=""
[ "${E2E_KEEP:-0}" = 1 ] && SHOTS=$T
"$PY" "$E2E_DIR/dashboard_check.py" "http://127.0.0.1:$PORT" "$OUT" "$EVENTS" $SHOTS ||
    check_failed "the dashboard differs from the API or the files (above)"

# the final /metrics scrape ends the linger
"$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10).read()' \
    "http://127.0.0.1:$PORT/metrics" || check_failed "no final /metrics scrape"
rc=0
wait $RUN_PID || rc=$?
trap _e2e_cleanup EXIT
[ $rc -eq 0 ] || { tail -n 20 "$T/run.stderr" >&2; fail "shopstream run exited $rc"; }
finish
