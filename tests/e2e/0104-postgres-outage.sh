#!/usr/bin/env bash
# 0104 — PostgreSQL stopped for 20 s in the middle of a run. Generated clicks (with
# duplicates, late and invalid records) are fed through a pipe at a fixed pace, so the run
# lasts ~40 s: `pace.py FILE | shopstream run --input clicks=- --sink postgresql://...
# --sink jsonl:OUT`. Once the engine has committed epochs (and provisional window rows are
# visible), the server is crashed (pg_ctl stop -m immediate), kept down for 20 s, and
# started again on the same port. The engine must log the retries, pause, recover and
# finish; then every PostgreSQL table equals the model row by row (nothing lost, nothing
# duplicated, no row left provisional), and so does the jsonl sink of the same run.
# requires: postgres
source "$(dirname "$0")/lib.sh"
need_bin
EVENTS=100000; PACE_S=40
[ "$E2E_QUICK" = 1 ] && { EVENTS=20000; PACE_S=35; }
OUTAGE_S=20

ENGINE_PID=""
_engine_cleanup() {
    [ -n "$ENGINE_PID" ] && kill "$ENGINE_PID" 2>/dev/null
    _e2e_cleanup
}
trap _engine_cleanup EXIT
pg_start
q() { psql -X -q -At -F'|' -c "$1" 2>/dev/null; }

IN=$T/clicks.jsonl
"$SHOPSTREAM_BIN" produce --stream clicks --out "$IN" --events "$EVENTS" --seed 41 \
    --duplicates 0.02 --late 0.02 --invalid 0.02 2>"$T/produce.stderr" || fail "produce failed"


OUT=$T/jsonl
mkdir -p "$OUT"
"$PY" "$E2E_DIR/pace.py" "$IN" "$PACE_S" |
    "$SHOPSTREAM_BIN" run --input clicks=- --set epoch.interval=1s --sink "$URL" --sink "jsonl:$OUT" \
        2>"$T/run.stderr" &
ENGINE_PID=$!
START=$(date +%s)
alive() { kill -0 "$ENGINE_PID" 2>/dev/null; }

# the run is under way: epochs committed and provisional window rows in the tables
committed() { [ "$(q "SELECT coalesce(max(epoch), 0) >= 2 FROM shopstream_epoch")" = t ]; }
provisional() { [ "$(q "SELECT count(*) > 0 FROM category_revenue WHERE NOT final")" = t ]; }
poll_until 30 "two epochs committed to PostgreSQL" committed
poll_until 30 "provisional category_revenue rows in PostgreSQL" provisional
alive || fail "the engine ended before the outage (run shorter than expected)"
before=$(q "SELECT epoch FROM shopstream_epoch")

note "PostgreSQL stopped $(( $(date +%s) - START ))s after the start (epoch $before committed)"
pg_outage "$OUTAGE_S" "$ENGINE_PID" "$T/run.stderr"

# the run ends by itself (bounded stdin); allow the pace plus the catch-up
rc=0
ended() { ! alive; }
poll_until $((PACE_S + 60)) "the engine to finish" ended
wait "$ENGINE_PID" || rc=$?
ENGINE_PID=""
[ $rc -eq 0 ] || { tail -n 20 "$T/run.stderr" >&2; fail "shopstream run exited $rc after the outage"; }
n_retry=$(grep -c 'sink unavailable, input paused, retrying.*sink=postgresql' "$T/run.stderr")
grep -q 'sink recovered, input resumed.*sink=postgresql' "$T/run.stderr" ||
    check_failed "no 'sink recovered, input resumed sink=postgresql' in the engine's log"
note "engine logged $n_retry retry warning(s) and recovered; run took $(( $(date +%s) - START ))s"
grep 'sink unavailable' "$T/run.stderr" | head -n 1 | cut -c1-200 | sed 's/^/    /'

X=$T/export
"$PY" "$E2E_DIR/export_tables.py" postgres "$X" >"$T/export.out" 2>"$T/export.err" ||
    { cat "$T/export.err" >&2; check_failed "export from PostgreSQL reported problems (above)"; }
sed 's/^/    /' "$T/export.out"
compare_with_model "$X" clicks=- --stdin "$IN"
compare_with_model "$OUT" clicks=- --stdin "$IN"
after=$(q "SELECT epoch FROM shopstream_epoch")
[ "${after:-0}" -gt "${before:-0}" ] || check_failed "no epoch committed after the outage ($before -> $after)"
got=$(q "SELECT source, partition, next_offset FROM shopstream_offsets")
want="-|0|$(( $(wc -l <"$IN") + 1 ))"
[ "$got" = "$want" ] || check_failed "shopstream_offsets: expected $want, got $got"
finish
