# lib.sh — shared helpers of the end-to-end tests (sourced by each tests/e2e/NNNN-*.sh).
#
# Every test gets its own temporary directory ($T), removed when the test exits;
# fail() ends the test with a message; poll_until waits for a condition without
# sleeping blindly (it re-checks the condition until a deadline).
set -u
set -o pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$E2E_DIR/../.." && pwd)
: "${SHOPSTREAM_BIN:=$REPO_DIR/build/shopstream}"
case "$SHOPSTREAM_BIN" in /*) ;; *) SHOPSTREAM_BIN="$REPO_DIR/$SHOPSTREAM_BIN" ;; esac
export SHOPSTREAM_BIN
E2E_QUICK=${E2E_QUICK:-0}
PY=${PYTHON:-python3}
TEST_NAME=$(basename "$0" .sh)

T=$(mktemp -d "${TMPDIR:-/tmp}/e2e-$TEST_NAME.XXXXXX")
# Commands that stop what a helper started (a server), run last registered first by
# _e2e_cleanup, which every test's exit trap ends with.
E2E_CLEANUPS=()
_e2e_cleanup() {
    local i
    for ((i = ${#E2E_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${E2E_CLEANUPS[$i]}" >/dev/null 2>&1 || true; done
    if [ "${E2E_KEEP:-0}" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap _e2e_cleanup EXIT

fail() {
    echo "FAIL $TEST_NAME: $*" >&2
    exit 1
}

# check_failed MSG: records a failed check and goes on, so that one run of a test shows
# every difference; `finish` (the test's last line) then exits non-zero.
E2E_FAILED=0
check_failed() {
    echo "FAIL $TEST_NAME: $*" >&2
    E2E_FAILED=$((E2E_FAILED + 1))
}
finish() {
    [ "$E2E_FAILED" -eq 0 ] || { echo "FAIL $TEST_NAME: $E2E_FAILED check(s) failed" >&2; exit 1; }
    exit 0
}

note() { echo "  $TEST_NAME: $*"; }

# need_bin: the test cannot run without the engine binary.
need_bin() {
    [ -x "$SHOPSTREAM_BIN" ] || fail "no engine binary at $SHOPSTREAM_BIN (run make first)"
}

# metrics_listening ERRFILE: true once the metrics: sink of a run logging to ERRFILE has
# logged the port it listens on (on 127.0.0.1, port 0 asked for), which it sets in PORT.
metrics_listening() {
    PORT=$(sed -n 's/.*comp=server.metrics msg="listening" addr=127.0.0.1:\([0-9]*\).*/\1/p' "$1")
    [ -n "$PORT" ]
}

# poll_until TIMEOUT_SECONDS DESCRIPTION COMMAND...: runs COMMAND until it succeeds or
# the deadline passes (then fails the test naming DESCRIPTION). Between attempts it
# waits for a short, growing interval on `read -t` of a never-written pipe instead of
# calling sleep, so no fixed delay is assumed anywhere.
# kafka_clicks_topic SEED: starts the test broker in $T/kafka (sets KT, KDIR, B; at exit
# the processes in PIDS are killed and the broker stops), then writes $N generated clicks
# (2 % duplicates, 2 % invalid, seed SEED) to the file $G = $T/clicks.jsonl and, the same,
# to a 3-partition topic "clicks". kafka_clicks_file SEED does the same but leaves the topic
# empty, for a test that writes it in steps.
kafka_clicks_topic() {
    kafka_clicks_file "$1"
    "$SHOPSTREAM_BIN" produce --brokers "$B" "${KAFKA_GEN[@]}" 2>"$T/pk.err" || { cat "$T/pk.err" >&2; fail "produce --brokers"; }
}
kafka_clicks_file() {
    kafka_broker_start
    "$KT" topic "$KDIR" clicks 3 || fail "cannot create topic clicks"
    KAFKA_GEN=(--stream clicks --events "$N" --seed "$1" --duplicates 0.02 --invalid 0.02 --rate 250)
    G=$T/clicks.jsonl
    "$SHOPSTREAM_BIN" produce --out "$G" "${KAFKA_GEN[@]}" 2>"$T/p.err" || { cat "$T/p.err" >&2; fail "produce --out"; }
}
# kafka_broker_start: only the broker of kafka_clicks_topic (KT, KDIR, B, PIDS, the cleanup).
kafka_broker_start() {
    KT="$REPO_DIR/scripts/kafka-test-server"
    KDIR="$T/kafka"
    PIDS=()
    trap _kafka_clicks_cleanup EXIT
    B=$("$KT" start "$KDIR" 2>"$T/kafka-start.err") || { cat "$T/kafka-start.err" >&2; fail "cannot start the Kafka test broker"; }
    note "broker $B"
}
_kafka_clicks_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    "$KT" stop "$KDIR" >/dev/null 2>&1 || true
    _e2e_cleanup
}

# kafka_groups KDIR BROKER ARGS...: Kafka's own consumer-group tool (kafka-consumer-groups),
# from the test broker's install, with ARGS after --bootstrap-server BROKER
kafka_groups() {
    local kdir=$1 broker=$2
    shift 2
    java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlog4j.configuration="file:$kdir/tools-log4j.properties" \
        -cp "${KAFKA_CACHE:-$REPO_DIR/.cache/kafka}/lib/*" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
        --bootstrap-server "$broker" "$@"
}

# kafka_committed KDIR BROKER GROUP TOPIC: the group's committed offsets of TOPIC,
# "partition offset" per line
kafka_committed() {
    kafka_groups "$1" "$2" --describe --group "$3" 2>/dev/null |
        awk -v t="$4" '$2 == t && $4 ~ /^[0-9]+$/ { print $3, $4 }' | sort -n
}

# kafka_write_lines FILE TOPIC KEY [FROM [TO]]: lines FROM..TO (default: all) of FILE to TOPIC,
# keyed by their JSON field KEY, so that a user's records keep one partition and their order, as
# `produce` keys them (kcat's partitioner; a fresh client, which sees the topic's partitions as they
# are now). A line without that key goes with an empty one.
kafka_write_lines() {
    "$PY" - "$1" "${4:-1}" "${5:-0}" "$3" >"$T/part.kv" <<'PYEOF' || fail "cannot key lines ${4:-1}-${5:-} of $1"
import json, sys
path, lo, hi, field = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
out = sys.stdout.buffer
with open(path, "rb") as f:
    for n, line in enumerate(f, 1):
        if n < lo or (hi and n > hi):
            continue
        try:
            r = json.loads(line)
            key = r.get(field) if isinstance(r, dict) else None
        except ValueError:
            key = None
        key = key if isinstance(key, str) and "\t" not in key and "\n" not in key else ""
        out.write(key.encode() + b"\t" + line.rstrip(b"\n") + b"\n")
PYEOF
    timeout 120 kcat -P -b "$B" -t "$2" -K $'\t' -X queue.buffering.max.ms=5 <"$T/part.kv" 2>"$T/kcat.err" ||
        { cat "$T/kcat.err" >&2; fail "kcat could not write lines ${4:-1}-${5:-} of $1 to $2"; }
}

# pg_start: a private PostgreSQL for this test under $T/pg (scripts/pg-test-server), stopped
# when the test exits; sets PGT, PGDIR, URL and psql's PG* variables. The server runs as an
# unprivileged user when we are root, so $T is opened to it.
pg_start() {
    chmod 755 "$T"
    PGT="$REPO_DIR/scripts/pg-test-server"
    PGDIR="$T/pg"
    E2E_CLEANUPS+=("\"$PGT\" stop \"$PGDIR\"")
    URL=$("$PGT" start "$PGDIR") || fail "cannot start PostgreSQL"
    eval "$("$PGT" env "$PGDIR")"
    note "PostgreSQL $URL"
}

# pg_outage SECONDS PID LOG: crashes the pg_start server (pg_ctl stop -m immediate), waits
# until the engine PID logs in LOG that it paused its input for the PostgreSQL sink, keeps
# the server down SECONDS more (the outage under test has a length, so this one wait is a
# sleep), checks the engine is still running and starts the server on the same port.
pg_outage() {
    local secs=$1 pid=$2 log=$3 down
    "$PGT" kill "$PGDIR" || fail "cannot stop PostgreSQL"
    down=$(date +%s)
    _pg_paused() { grep -q 'sink unavailable, input paused, retrying.*sink=postgresql' "$log"; }
    poll_until 30 "the engine to pause its input for the PostgreSQL sink" _pg_paused
    sleep "$secs"
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$log" >&2; fail "the engine exited while PostgreSQL was down"; }
    "$PGT" start "$PGDIR" >/dev/null || fail "cannot restart PostgreSQL"
    note "PostgreSQL back after $(( $(date +%s) - down ))s"
}

# lake_events_match LAKE WHAT MODEL_ARGS...: the lake's events table (read with pyarrow into
# $T/export) equals the model's accepted events; a difference fails the check named WHAT.
lake_events_match() {
    local lake=$1 what=$2 x=$T/export; shift 2
    "$PY" "$E2E_DIR/export_tables.py" parquet-arrow "$lake" "$x" >"$x.out" 2>"$x.err" ||
        { cat "$x.err" >&2; check_failed "$what: reading the lake reported problems (above)"; }
    "$PY" "$E2E_DIR/export_tables.py" events-check "$x" "$@" >"$x.events" 2>&1 ||
        { cat "$x.events" >&2; check_failed "$what: the lake's events table differs from the model's accepted events"; }
    sed 's/^/    /' "$x.events"
}

# signal_when PATTERN SIG ERRFILE CMD...: runs CMD in the background (stderr to ERRFILE),
# sends SIG once ERRFILE matches PATTERN (within 60 s), waits at most 60 s for it to exit
# and sets SIGNALLED_RC to its exit status and SIGNALLED_S to the seconds it took to stop.
signal_when() {
    local pat=$1 sig=$2 errf=$3; shift 3
    "$@" 2>"$errf" &
    local pid=$! t0
    PIDS+=("$pid")
    poll_until 60 "'$pat' from $1 $2" grep -q "$pat" "$errf"
    t0=$SECONDS
    kill "-$sig" "$pid"
    timeout 60 tail --pid="$pid" -f /dev/null || fail "$1 $2 did not exit within 60 s of SIG$sig"
    SIGNALLED_RC=0
    wait "$pid" || SIGNALLED_RC=$?
    SIGNALLED_S=$((SECONDS - t0))
}

# stop_produce SIG ERRFILE PRODUCE_ARGS...: SIG to `shopstream produce ARGS` once it reports
# progress; it must exit 0 and log msg="stopped" (a stopped produce ends on a whole record,
# delivered).
stop_produce() {
    local sig=$1 errf=$2; shift 2
    signal_when 'msg="progress"\|produce: progress' "$sig" "$errf" "$SHOPSTREAM_BIN" produce "$@"
    [ "$SIGNALLED_RC" -eq 0 ] || { tail -n 5 "$errf" >&2; fail "produce stopped by SIG$sig: exit $SIGNALLED_RC, expected 0"; }
    grep -q 'msg="stopped"' "$errf" || check_failed "produce stopped by SIG$sig does not log msg=\"stopped\""
}

poll_until() {
    local timeout=$1 what=$2; shift 2
    local deadline=$(( $(date +%s) + timeout )) pause=0.05
    while :; do
        if "$@"; then return 0; fi
        if [ "$(date +%s)" -ge "$deadline" ]; then fail "timed out after ${timeout}s waiting for: $what"; fi
        read -r -t "$pause" <> <(:) || true
        pause=$(awk -v p="$pause" 'BEGIN { p *= 2; if (p > 1) p = 1; print p }')
    done
}

# run_engine OUT_DIR ARGS...: runs `shopstream run ARGS --sink jsonl:OUT_DIR`, keeping
# stderr in OUT_DIR.stderr; fails the test when the engine exits non-zero.
run_engine() {
    local out=$1; shift
    mkdir -p "$out"
    local rc=0
    "$SHOPSTREAM_BIN" run "$@" --sink "jsonl:$out" 2>"$out.stderr" || rc=$?
    if [ $rc -ne 0 ]; then
        tail -n 20 "$out.stderr" >&2
        fail "shopstream run $* exited $rc"
    fi
}

# compare_with_model OUT_DIR MODEL_ARGS...: the model over the same inputs must match.
compare_with_model() {
    local out=$1; shift
    "$PY" "$E2E_DIR/compare.py" "$out" "$@" > "$out.compare" 2>&1
    local rc=$?
    if [ $rc -ne 0 ]; then
        cat "$out.compare" >&2
        check_failed "engine output in $out differs from the model ($*)"
        return 1
    fi
    sed -n '1p;$p' "$out.compare" | sed 's/^/    /'
}

# expect_row OUT TABLE 'JSON ROW' KEY=VALUE...: the one row of OUT/TABLE.jsonl selected by
# the key values must be exactly this row (hand-computed values, independent of the model;
# keys in contract order, numbers compared as written). 'none' means: no such row.
expect_row() {
    local msg
    msg=$("$PY" "$E2E_DIR/compare.py" --expect-row "$@") || { check_failed "$msg"; return 1; }
}

# build_driver NAME: compiles tests/e2e/drivers/NAME.c against the library next to
# $SHOPSTREAM_BIN (with the sanitizers when that is build/san) into $T/NAME; prints the path.
build_driver() {
    local name=$1 build lib san=""
    build=$(dirname "$SHOPSTREAM_BIN")
    lib="$build/libshopstream.a"
    [ -f "$lib" ] || fail "no $lib (run make first)"
    case "$build" in */san) san="-fsanitize=address,undefined" ;; esac
    cc -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -O1 -g $san -I"$REPO_DIR/src" \
        "$E2E_DIR/drivers/$name.c" "$lib" \
        $(pkg-config --libs rdkafka hiredis yaml-0.1 libmicrohttpd libzstd sqlite3 libpq libxxhash) \
        -lsnappy -lpthread -lm -o "$T/$name" >&2 || fail "cannot build the driver $name"
    echo "$T/$name"
}
