#!/usr/bin/env bash
# 0006 — stdin as a stream (README: `-` is stdin; `epoch.interval` commits at least that
# often; SIGTERM finishes the current epoch): a pipe that goes quiet is "nothing now",
# not a read that blocks the engine until the writer's next bytes. Stdin here is a FIFO
# the test holds open (a pipe to the engine), written in steps.
# 1. Clicks on stdin in two bursts: the first burst (ending with a malformed marker
#    line) must be committed while the pipe is open and quiet — its dlq rows exactly
#    the model's for those lines, its closed windows the model's rows — then the second
#    burst and EOF: every table equals the model over all lines.
# 2. SIGTERM while the pipe is quiet: a clicks file, then promotions on stdin, gzip
#    compressed (one whole member, the pipe kept open after it). Once the promotions
#    are committed, SIGTERM must stop the run at once with exit 0, and the outputs must
#    equal the model over the lines sent. The promotions' ts lie 2 h past the clicks,
#    so W has closed every window and session of the clicks before the stop (a stop
#    does not emit what is still open, the model at its end would): the comparison is
#    exact.
# 3. A gzip input cut short ends like a stop (README): the outputs of every complete
#    line before the cut are committed, then exit 1 naming the problem. The same clicks
#    file, then promotions from a gzip file cut in the middle: every table equals the
#    model over the clicks and the promotions' complete lines. And the case as a user
#    meets it, clicks.jsonl.gz cut short alone (on stdin), default settings: its dlq
#    rows and data_quality totals are the model's for the complete lines.
source "$(dirname "$0")/lib.sh"
need_bin
N=20000
[ "$E2E_QUICK" = 1 ] && N=6000

# ---- shared data ------------------------------------------------------------------------
# clicks over ~50 min of event time (windows close while the first burst is read), few
# users and products (sessions, the join, alerts), 2 % of each defect
C=$T/clicks.jsonl
"$SHOPSTREAM_BIN" produce --stream clicks --out "$C" --events "$N" --rate $((N / 3000)) --seed 61 \
    --users 2000 --products 300 --duplicates 0.02 --late 0.02 --invalid 0.02 2>"$T/produce.err" ||
    { cat "$T/produce.err" >&2; fail "produce --stream clicks"; }

# gen_promos.py CLICKS K SEED: K promotions of products clicked in the last 2 minutes of
# the clicks' event time (held for the join), running over the clicks, with ts 2 h after
# the clicks' last one (so that W closes every click window), every 97th invalid
# (bad_amount), then a malformed marker line. The promo_ids carry random digits so that
# gzip cannot shrink the file to nothing.
cat >"$T/gen_promos.py" <<'PYEOF'
import json, random, sys
from datetime import datetime, timezone
path, k, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
def ms(v):
    if isinstance(v, int): return v
    return int(datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000)
ev = []
for line in open(path):
    try:
        r = json.loads(line); ev.append((ms(r["ts"]), r["product_id"]))
    except Exception:
        pass
lo, hi = min(t for t, _ in ev), max(t for t, _ in ev)
recent = sorted({p for t, p in ev if t >= hi - 120000 and isinstance(p, str)}) or ["p1"]
for i in range(k):
    row = {"promo_id": "pr-%d-%d-%08x" % (seed, i, rnd.getrandbits(32)), "product_id": rnd.choice(recent),
           "discount_pct": 150 if i % 97 == 13 else rnd.choice([5, 10, 15, 20, 25]),
           "starts_at": lo - rnd.randrange(3600000), "ends_at": hi + rnd.randrange(1, 86400000),
           "ts": hi + 7200000 + i}
    print(json.dumps(row, separators=(",", ":")))
print("marker: not a JSON object")
PYEOF

# committed_match OUT MODEL_DIR MAX_OFFSET: OUT's dlq rows are exactly the model's rows
# with offset <= MAX_OFFSET, and OUT has category_revenue rows, each equal to the model's
# row of its window and category (a final window cannot change later: later events in
# it are late).
cat >"$T/committed.py" <<'PYEOF'
import json, os, sys
out, model, upto = sys.argv[1], sys.argv[2], int(sys.argv[3])
def rows(d, t):
    p = os.path.join(d, t + ".jsonl")
    return [json.loads(l) for l in open(p) if l.strip()] if os.path.exists(p) else []
bad = []
got = sorted(json.dumps(r, sort_keys=True) for r in rows(out, "dlq"))
want = sorted(json.dumps(r, sort_keys=True) for r in rows(model, "dlq") if r["offset"] <= upto)
if got != want:
    bad.append("dlq: %d rows committed, the model has %d for lines 1..%d" % (len(got), len(want), upto))
mk = {(r["window_start"], r["category"]): r for r in rows(model, "category_revenue")}
cr = rows(out, "category_revenue")
if not cr:
    bad.append("no category_revenue row committed")
for r in cr:
    if mk.get((r["window_start"], r["category"])) != r:
        bad.append("category_revenue %s %s: %s, model %s" % (r["window_start"], r["category"], r,
                                                            mk.get((r["window_start"], r["category"]))))
print("    committed while quiet: dlq %d rows, category_revenue %d rows" % (len(got), len(cr)))
for b in bad[:8]:
    print("    " + b)
sys.exit(1 if bad else 0)
PYEOF

# open_pipe NAME: a FIFO $T/NAME held open for writing on fd 3 (read-write, so opening it
# does not wait for the reader); start the reader with 3>&- so that closing fd 3 here is
# its EOF.
open_pipe() {
    rm -f "$T/$1"
    mkfifo "$T/$1" || fail "mkfifo"
    exec 3<>"$T/$1"
}
ms_now() { date +%s%3N; }

# ---- 1. clicks on stdin: the first burst committed while the pipe is quiet -------------
H=$((N / 2))
head -n "$H" "$C" >"$T/burst1.jsonl"
echo '{"marker": not json' >>"$T/burst1.jsonl"
tail -n +$((H + 1)) "$C" >"$T/burst2.jsonl"
cat "$T/burst1.jsonl" "$T/burst2.jsonl" >"$T/all.jsonl"
"$PY" "$E2E_DIR/model.py" clicks=- --stdin "$T/all.jsonl" --out "$T/model1" >/dev/null || fail "model over all.jsonl"

O1=$T/o1
mkdir -p "$O1"
open_pipe in1
"$SHOPSTREAM_BIN" run --input clicks=- --sink "jsonl:$O1" <"$T/in1" 3>&- 2>"$O1.stderr" &
P1=$!
cat "$T/burst1.jsonl" >&3
quiet_committed() {
    kill -0 "$P1" 2>/dev/null || fail "the run over a quiet stdin exited: $(tail -n 3 "$O1.stderr")"
    grep -q "\"offset\":$((H + 1)),\"record\"" "$O1/dlq.jsonl" 2>/dev/null && [ -s "$O1/category_revenue.jsonl" ]
}
t0=$(ms_now)
poll_until 60 "the first burst committed while stdin is open and quiet" quiet_committed
note "first burst committed $(($(ms_now) - t0)) ms after it was written, stdin still open"
"$PY" "$T/committed.py" "$O1" "$T/model1" $((H + 1)) ||
    check_failed "what was committed while stdin was quiet is not the model's for the first burst"
cat "$T/burst2.jsonl" >&3
exec 3>&-
rc=0
wait "$P1" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$O1.stderr" >&2; fail "the run over stdin exited $rc"; }
compare_with_model "$O1" clicks=- --stdin "$T/all.jsonl"

# ---- 2. SIGTERM while stdin is quiet ---------------------------------------------------
"$PY" "$T/gen_promos.py" "$C" 300 7 >"$T/promos.jsonl" || fail "gen_promos.py"
KP=$(wc -l <"$T/promos.jsonl")
O2=$T/o2
mkdir -p "$O2"
open_pipe in2
"$SHOPSTREAM_BIN" run --input clicks="$C" --input promotions=- --sink "jsonl:$O2" <"$T/in2" 3>&- 2>"$O2.stderr" &
P2=$!
gzip -c "$T/promos.jsonl" >&3
promos_committed() {
    kill -0 "$P2" 2>/dev/null || fail "the run over a quiet stdin exited: $(tail -n 3 "$O2.stderr")"
    grep -q "\"source\":\"-\",\"partition\":1,\"offset\":$KP," "$O2/dlq.jsonl" 2>/dev/null
}
poll_until 60 "the promotions read from stdin committed while it is open and quiet" promos_committed
t0=$(ms_now)
kill -TERM "$P2"
timeout 60 tail -s 0.05 --pid="$P2" -f /dev/null || fail "the run did not exit within 60 s of SIGTERM"
stop_ms=$(($(ms_now) - t0))
rc=0
wait "$P2" || rc=$?
exec 3>&-
note "SIGTERM with stdin quiet: exit $rc after $stop_ms ms"
[ $rc -eq 0 ] || { tail -n 20 "$O2.stderr" >&2; fail "SIGTERM with stdin quiet: exit $rc, expected 0"; }
[ "$stop_ms" -le 5000 ] || check_failed "SIGTERM with stdin quiet took $stop_ms ms to stop (more than 5 s)"
grep -q 'msg="stopped"' "$O2.stderr" || check_failed "the run stopped by SIGTERM does not log msg=\"stopped\""
compare_with_model "$O2" clicks="$C" promotions=- --stdin "$T/promos.jsonl"

# ---- 3. a gzip input cut short ---------------------------------------------------------
# the complete lines of a cut gzip: what zlib inflates from it, up to the last newline
complete_lines() {
    "$PY" - "$1" "$2" <<'PYEOF'
import sys, zlib
data = zlib.decompressobj(31).decompress(open(sys.argv[1], "rb").read())
open(sys.argv[2], "wb").write(data[:data.rfind(b"\n") + 1])
PYEOF
}
"$PY" "$T/gen_promos.py" "$C" 6000 8 >"$T/promos-long.jsonl" || fail "gen_promos.py"
mkdir -p "$T/cut" "$T/lines"
gzip -c "$T/promos-long.jsonl" >"$T/promos-long.jsonl.gz"
size=$(wc -c <"$T/promos-long.jsonl.gz")
head -c $((size * 2 / 5)) "$T/promos-long.jsonl.gz" >"$T/cut/promos.jsonl"
complete_lines "$T/cut/promos.jsonl" "$T/lines/promos.jsonl"
kept=$(wc -l <"$T/lines/promos.jsonl")
[ "$kept" -gt 100 ] && [ "$kept" -lt 6000 ] || fail "the cut gzip holds $kept complete lines"
# the engine reads the cut gzip under the name the model reads its complete lines by
O3=$T/o3
mkdir -p "$O3"
rc=0
(cd "$T/cut" && "$SHOPSTREAM_BIN" run --input clicks="$C" --input promotions=promos.jsonl --sink "jsonl:$O3") \
    2>"$O3.stderr" || rc=$?
note "promotions gzip cut after $kept complete lines: exit $rc"
[ $rc -eq 1 ] || { tail -n 5 "$O3.stderr" >&2; check_failed "a gzip input cut short: exit $rc, expected 1"; }
grep -q 'shopstream run: input promos.jsonl: the gzip data is cut short' "$O3.stderr" ||
    check_failed "a gzip input cut short does not say so: $(tail -n 1 "$O3.stderr")"
cd "$T/lines" || fail "cd"
compare_with_model "$O3" clicks="$C" promotions=promos.jsonl
cd - >/dev/null || fail "cd"

# the user's case: clicks.jsonl.gz cut short alone (here on stdin), default epoch settings
mkdir -p "$T/cut1"
gzip -c "$C" | head -c $(($(gzip -c "$C" | wc -c) / 2)) >"$T/cut1/clicks.jsonl.gz"
complete_lines "$T/cut1/clicks.jsonl.gz" "$T/clicks-complete.jsonl"
kept=$(wc -l <"$T/clicks-complete.jsonl")
O4=$T/o4
mkdir -p "$O4"
rc=0
"$SHOPSTREAM_BIN" run --input clicks=- --sink "jsonl:$O4" <"$T/cut1/clicks.jsonl.gz" 2>"$O4.stderr" || rc=$?
[ $rc -eq 1 ] || { tail -n 5 "$O4.stderr" >&2; check_failed "clicks.jsonl.gz cut short: exit $rc, expected 1"; }
grep -q 'shopstream run: input -: the gzip data is cut short' "$O4.stderr" ||
    check_failed "clicks.jsonl.gz cut short does not say so: $(tail -n 1 "$O4.stderr")"
"$PY" "$E2E_DIR/model.py" clicks=- --stdin "$T/clicks-complete.jsonl" --out "$T/model4" >/dev/null || fail "model"
"$PY" - "$O4" "$T/model4" "$kept" <<'PYEOF' || check_failed "clicks.jsonl.gz cut short: the outputs of its complete lines"
import json, os, sys
out, model, kept = sys.argv[1], sys.argv[2], int(sys.argv[3])
def rows(d, t):
    p = os.path.join(d, t + ".jsonl")
    return [json.loads(l) for l in open(p) if l.strip()] if os.path.exists(p) else []
dlq = sorted(json.dumps(r, sort_keys=True) for r in rows(out, "dlq"))
want = sorted(json.dumps(r, sort_keys=True) for r in rows(model, "dlq"))
total = sum(r["total"] for r in rows(out, "data_quality"))
print("    clicks gzip cut after %d complete lines: dlq %d rows (model %d), data_quality total %d" %
      (kept, len(dlq), len(want), total))
sys.exit(0 if dlq == want and want and total == kept else 1)
PYEOF
# A line that never ends (/dev/zero) is cut at input.max_record_bytes and the rest skipped
# a chunk per poll, so the run still commits and stops at SIGINT (exit 0, its dead letter
# committed). Before, one poll read on for ever, deaf to the signal, and memory grew.
PIDS=()
signal_when 'a line longer than input.max_record_bytes' INT "$T/zero.err" \
    "$SHOPSTREAM_BIN" run --input clicks=/dev/zero --sink "jsonl:$T/zero"
[ "$SIGNALLED_RC" -eq 0 ] || { tail -n 5 "$T/zero.err" >&2; check_failed "/dev/zero stopped by SIGINT: exit $SIGNALLED_RC"; }
[ "$(wc -l <"$T/zero/dlq.jsonl")" -eq 1 ] && grep -q '"reason":"malformed".*"offset":1,' "$T/zero/dlq.jsonl" ||
    check_failed "/dev/zero: the cut line is not the one dead letter"
note "/dev/zero: cut, skipped, stopped by SIGINT in ${SIGNALLED_S}s"
# SIGHUP (the terminal of an interactive run closed) stops as gracefully; started with it
# ignored, as `nohup` starts a command, it is left ignored and SIGTERM stops the run.
signal_when 'a line longer than input.max_record_bytes' HUP "$T/hup.err" \
    "$SHOPSTREAM_BIN" run --input clicks=/dev/zero --sink "jsonl:$T/hup"
[ "$SIGNALLED_RC" -eq 0 ] && grep -q 'msg="stopped"' "$T/hup.err" ||
    { tail -n 5 "$T/hup.err" >&2; check_failed "/dev/zero stopped by SIGHUP: exit $SIGNALLED_RC, expected 0 and a graceful stop"; }
[ "$(wc -l <"$T/hup/dlq.jsonl")" -eq 1 ] || check_failed "/dev/zero stopped by SIGHUP: its dead letter was not committed"
(trap '' HUP; exec "$SHOPSTREAM_BIN" run --input clicks=/dev/zero --sink "jsonl:$T/nohup") 2>"$T/nohup.err" &
np=$!; PIDS+=("$np")
poll_until 60 "the nohup'd run to cut its line" grep -qs 'a line longer than input.max_record_bytes' "$T/nohup.err"
# /proc says how the process treats SIGHUP (bit 0 of each mask), with no race against a
# signal's delivery: ignored, not caught
hup_bit() { local m; m=$(awk -v k="$1:" '$1 == k { print $2 }' "/proc/$np/status"); echo $(( 0x${m:-0} & 1 )); }
[ "$(hup_bit SigIgn)" = 1 ] && [ "$(hup_bit SigCgt)" = 0 ] ||
    check_failed "a run started with SIGHUP ignored does not leave it ignored: $(grep '^Sig\(Ign\|Cgt\)' "/proc/$np/status" | tr '\n' ' ')"
kill -HUP "$np"
kill -TERM "$np"
timeout 60 tail --pid="$np" -f /dev/null || fail "the nohup'd run did not exit within 60 s of SIGTERM"
rc=0; wait "$np" || rc=$?
[ $rc -eq 0 ] || check_failed "the nohup'd run exited $rc on SIGTERM"
grep -c 'msg="stopping' "$T/nohup.err" | grep -qx 1 || check_failed "the nohup'd run did not stop once, on SIGTERM"
note "SIGHUP: graceful stop in ${SIGNALLED_S}s; ignored under nohup"
# One process writes a jsonl: directory at a time: a second run into the directory of a
# run still going is refused (exit 2) before it truncates anything, and once the first has
# stopped its directory can be written again. Before, both ran: the second truncated the
# first's files and their rows interleaved, and both exited 0.
L=$T/locked
mkfifo "$T/lock.fifo"
"$SHOPSTREAM_BIN" run --input clicks="$T/lock.fifo" --sink "jsonl:$L" --sink "sqlite:$T/locked.db" 2>"$T/lock1.err" &
first=$!
PIDS+=("$first")
exec 7>"$T/lock.fifo"
head -n 50 "$C" >&7
poll_until 30 "the first run to open its sink" test -e "$L/sessions.jsonl"
rc=0
"$SHOPSTREAM_BIN" run --input clicks="$C" --sink "jsonl:$L" 2>"$T/lock2.err" || rc=$?
[ $rc -eq 2 ] && grep -q "another process is writing $L (it holds the directory's lock)" "$T/lock2.err" ||
    check_failed "a second run into a directory in use: exit $rc: $(tail -n 1 "$T/lock2.err")"
# ... and an SQLite file: the second run used to open it, and its first commit fenced out
# the first run (exit 1), which had been writing it all along
rc=0
"$SHOPSTREAM_BIN" run --input clicks="$C" --sink "sqlite:$T/locked.db" 2>"$T/lock2.err" || rc=$?
[ $rc -eq 2 ] && grep -q "another process is writing $T/locked.db (it holds the database file's lock)" "$T/lock2.err" ||
    check_failed "a second run into an SQLite file in use: exit $rc: $(tail -n 1 "$T/lock2.err")"
exec 7>&-
wait "$first" || check_failed "the first run failed: $(tail -n 1 "$T/lock1.err")"
head -n 50 "$C" >"$T/lock50.jsonl"
"$SHOPSTREAM_BIN" run --input clicks="$T/lock50.jsonl" --sink "jsonl:$T/lock-ref" 2>/dev/null || fail "reference run"
for t in sessions category_revenue trending_products; do
    cmp -s "$L/$t.jsonl" "$T/lock-ref/$t.jsonl" || check_failed "the first run's $t differs from a run of its 50 lines alone"
done
"$SHOPSTREAM_BIN" run --input clicks="$C" --sink "jsonl:$L" 2>"$T/lock3.err" ||
    check_failed "the directory could not be written after the first run ended: $(tail -n 1 "$T/lock3.err")"
"$SHOPSTREAM_BIN" run --input clicks="$C" --sink "sqlite:$T/locked.db" 2>"$T/lock3.err" ||
    check_failed "the SQLite file could not be written after the first run ended: $(tail -n 1 "$T/lock3.err")"
note "a second run into a directory or an SQLite file in use: exit 2"

# A crash reports itself (README "Operations"): a run on a quiet FIFO is sent SIGSEGV (as a
# fault would raise it); it must log comp=crash lines naming the signal and its sender, with a
# stack whose frames name the binary, and still die of SIGSEGV (exit 139). The sanitizer
# builds keep ASan's own report instead: there only the death is checked.
mkfifo "$T/crash.fifo"
"$SHOPSTREAM_BIN" run --input clicks="$T/crash.fifo" --sink "jsonl:$T/crash" 2>"$T/crash.err" &
victim=$!
PIDS+=("$victim")
exec 7>"$T/crash.fifo"
head -n 20 "$C" >&7
poll_until 30 "the run to open its sink" test -e "$T/crash/sessions.jsonl"
# its threads are named, for `top -H`, gdb and the report's thread= (README "Operations")
threads=$(cat /proc/"$victim"/task/*/comm 2>/dev/null | sort | tr '\n' ' ')
for want in shopstream ss-decode ss-commit; do
    case " $threads" in *" $want "*) ;; *) check_failed "no thread named $want among the run's: $threads" ;; esac
done
kill -SEGV "$victim"
rc=0
wait "$victim" 2>/dev/null || rc=$?
exec 7>&-
case "$(dirname "$SHOPSTREAM_BIN")" in
*/san) [ $rc -ne 0 ] || check_failed "a run sent SIGSEGV exited 0" ;;
*)
    [ $rc -eq 139 ] || check_failed "a run sent SIGSEGV exited $rc, expected 139 (killed by the signal)"
    grep -q "comp=crash msg=\"shopstream crashed.*signal=SIGSEGV sent_by_pid=$$ " "$T/crash.err" ||
        check_failed "no crash report naming SIGSEGV and its sender (pid $$): $(head -c 400 "$T/crash.err")"
    frames=$(grep -c "^$SHOPSTREAM_BIN(+0x[0-9a-f]*)" "$T/crash.err" || true)
    [ "$frames" -ge 3 ] || check_failed "the crash report's stack has $frames frames of the binary"
    off=$(grep -m1 -o "^$SHOPSTREAM_BIN(+0x[0-9a-f]*)" "$T/crash.err" | sed 's/.*(+\(0x[0-9a-f]*\))/\1/')
    # (a signal sent to the process lands on the main thread unless it is busy with another)
    grep -Eq 'comp=crash .* thread="(shopstream|ss-decode|ss-commit)"' "$T/crash.err" ||
        check_failed "the crash report does not name the thread: $(grep -m1 comp=crash "$T/crash.err")"
    note "threads: $threads; crash report: exit $rc, $frames frames of the binary; addr2line names the first $(addr2line -f -e "$SHOPSTREAM_BIN" "$off" 2>/dev/null | head -1)"
    ;;
esac

finish
