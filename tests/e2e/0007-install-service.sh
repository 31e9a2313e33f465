#!/usr/bin/env bash
# 0007 — `make install` and the systemd service it installs, run the way systemd runs it.
#
# 1. `make install PREFIX=P` puts the binary, the unit, the docs and the example
#    configuration in place with the modes a package would give them; the unit names
#    P's paths, and `systemd-analyze verify` (systemd's own parser, which also checks that
#    ExecStart's binary exists) accepts it without a warning. `make uninstall` removes what
#    install put there and keeps the configuration, as a package removal keeps conffiles.
# 2. A staged install (`DESTDIR=D PREFIX=/usr`, as a package build does) puts the
#    configuration in /etc, and a second install does not overwrite a configuration the
#    operator edited.
# 3. The service as systemd would start it: the command line of the installed unit's
#    ExecStart, the environment of its EnvironmentFile only (KAFKA_BROKERS and the test's
#    overrides written there), its state directory as the working directory, against a
#    real broker holding generated clicks (2 % duplicates, 2 % invalid) and empty
#    promotions and orders topics. Once /metrics counts every record and /readyz is 200,
#    the unit's KillSignal stops it, as `systemctl stop` does. Asserted: exit 0 within the
#    unit's TimeoutStopSec; the lake in the state directory holds exactly the model's
#    accepted events; the SQLite database there holds every dead letter of the model
#    once, and the dead-letter topic as many; the group committed every record; the stop
#    left a savepoint in the state directory (savepoint.path of the example). lateness=4h (from the environment file) as
#    in 0405: no record can be late under any interleaving of the partitions.
# 4. The example configuration without KAFKA_BROKERS in the environment exits 2 naming
#    the variable, an exit the unit does not restart (RestartPreventExitStatus).
# requires: kafka
source "$(dirname "$0")/lib.sh"
need_bin
N=40000
[ "$E2E_QUICK" = 1 ] && N=20000

# The build under test: the sanitizer pass installs its own binary.
BUILD=${SHOPSTREAM_BUILD:-$(dirname "$SHOPSTREAM_BIN")}
case "$BUILD" in "$REPO_DIR"/*) BUILD=${BUILD#"$REPO_DIR"/} ;; esac
mk() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$REPO_DIR" BUILD="$BUILD" "$@"; }

# ---- 1. make install PREFIX=P ---------------------------------------------------------------
P=$T/prefix
mk install PREFIX="$P" >"$T/install.out" 2>&1 || { cat "$T/install.out" >&2; fail "make install PREFIX=$P failed"; }
listing() { (cd "$1" && find . -mindepth 1 \( -type f -o -type l \) -printf '%m %p\n' | sort -k2); }
want="600 ./etc/shopstream/env
644 ./etc/shopstream/shopstream.yaml
755 ./bin/shopstream
644 ./lib/systemd/system/shopstream.service
644 ./share/doc/shopstream/README.md
644 ./share/doc/shopstream/SEMANTICS.md
644 ./share/doc/shopstream/examples/env
644 ./share/doc/shopstream/examples/shopstream.yaml"
got=$(listing "$P")
[ "$got" = "$(sort -k2 <<<"$want")" ] || check_failed "make install PREFIX=P installed:
$got
  expected:
$(sort -k2 <<<"$want")"
cmp -s "$P/bin/shopstream" "$REPO_DIR/$BUILD/shopstream" || check_failed "the installed binary is not $BUILD/shopstream"
U=$P/lib/systemd/system/shopstream.service
unit() { sed -n "s/^$1=//p" "$U"; }
[ "$(unit ExecStart)" = "$P/bin/shopstream run -c $P/etc/shopstream/shopstream.yaml" ] ||
    check_failed "unit ExecStart is '$(unit ExecStart)'"
[ "$(unit EnvironmentFile)" = "-$P/etc/shopstream/env" ] || check_failed "unit EnvironmentFile is '$(unit EnvironmentFile)'"
grep -q '@[A-Z]*@' "$U" && check_failed "placeholders left in the unit: $(grep '@[A-Z]*@' "$U")"
v=$(systemd-analyze verify --man=no "$U" 2>&1) || check_failed "systemd-analyze verify failed: $v"
[ -z "$v" ] || check_failed "systemd-analyze verify warns: $v"

# ---- 2. a staged install for a package, and the operator's configuration kept ----------------
D=$T/stage
mk install DESTDIR="$D" PREFIX=/usr >"$T/stage.out" 2>&1 || { cat "$T/stage.out" >&2; fail "make install DESTDIR PREFIX=/usr failed"; }
for f in usr/bin/shopstream usr/lib/systemd/system/shopstream.service etc/shopstream/shopstream.yaml etc/shopstream/env; do
    [ -f "$D/$f" ] || check_failed "DESTDIR install lacks /$f"
done
[ "$(sed -n 's/^ExecStart=//p' "$D/usr/lib/systemd/system/shopstream.service")" = \
  "/usr/bin/shopstream run -c /etc/shopstream/shopstream.yaml" ] || check_failed "PREFIX=/usr unit does not run /usr/bin with /etc"
echo "lateness: 1h   # the operator's" >>"$D/etc/shopstream/shopstream.yaml"
echo "KAFKA_BROKERS=mine:9092" >>"$D/etc/shopstream/env"
mk install DESTDIR="$D" PREFIX=/usr >"$T/stage2.out" 2>&1 || { cat "$T/stage2.out" >&2; fail "second make install failed"; }
grep -q "the operator's" "$D/etc/shopstream/shopstream.yaml" || check_failed "a second install overwrote the operator's shopstream.yaml"
grep -q "mine:9092" "$D/etc/shopstream/env" || check_failed "a second install overwrote the operator's env"

# ---- 3. the service, run as systemd runs it -------------------------------------------------
kafka_clicks_topic 7
"$KT" topic "$KDIR" promotions 1 || fail "cannot create topic promotions"
"$KT" topic "$KDIR" orders 1 || fail "cannot create topic orders"
for t in alerts promo_matches shopstream_dlq shopstream_late; do "$KT" topic "$KDIR" $t 1 || fail "cannot create topic $t"; done
"$PY" "$E2E_DIR/model.py" --set lateness=4h clicks="$G" --out "$T/model" >/dev/null || fail "model failed"
ENVF=$(unit EnvironmentFile); ENVF=${ENVF#-}
cat >>"$ENVF" <<EOF
KAFKA_BROKERS=$B
SHOPSTREAM_LISTEN=127.0.0.1:0
SHOPSTREAM_GROUP=e2e-0007
SHOPSTREAM_LATENESS=4h
EOF
STATE=$T/state   # StateDirectory=shopstream, WorkingDirectory=%S/shopstream
mkdir -p "$STATE"
read -r -a CMD <<<"$(unit ExecStart)"
mapfile -t ENVV < <(grep -v '^[[:space:]]*\(#\|$\)' "$ENVF")
SIG=$(unit KillSignal); SIG=${SIG#SIG}
STOP_S=$(unit TimeoutStopSec)
# the sanitizers' settings of the test run still apply under env -i
KEEP=(PATH=/usr/bin:/bin)
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do [ -z "${!v:-}" ] || KEEP+=("$v=${!v}"); done
(cd "$STATE" && exec env -i "${KEEP[@]}" "${ENVV[@]}" "${CMD[@]}") 2>"$T/service.stderr" &
SP=$!; PIDS+=("$SP")
port() { PORT=$(sed -n 's/.*comp=server.metrics msg="listening" addr=127.0.0.1:\([0-9]*\).*/\1/p' "$T/service.stderr"); [ -n "$PORT" ]; }
alive() { kill -0 "$SP" 2>/dev/null || { tail -n 20 "$T/service.stderr" >&2; fail "the service exited by itself"; }; }
port_logged() { alive; port; }
poll_until 60 "the service's metrics endpoint (http.listen from the example configuration)" port_logged
note "service: ${CMD[*]} (metrics on 127.0.0.1:$PORT)"
read_all() {
    alive
    local n
    n=$(curl -sf "http://127.0.0.1:$PORT/metrics" | sed -n 's/^shopstream_records_total{stream="clicks"} //p')
    [ "${n:-0}" -ge "$N" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 200 ]
}
poll_until 180 "the service to read all $N clicks" read_all
kill "-$SIG" "$SP"
timeout "$STOP_S" tail --pid="$SP" -f /dev/null || fail "the service did not exit within the unit's TimeoutStopSec=$STOP_S of SIG$SIG"
rc=0; wait "$SP" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$T/service.stderr" >&2; fail "the service exited $rc on SIG$SIG, expected 0"; }
grep -q 'msg="stopped"' "$T/service.stderr" || check_failed "the service did not log that it stopped"
[ -s "$STATE/savepoint" ] && grep -q 'msg="savepoint written' "$T/service.stderr" ||
    check_failed "the stopped service left no savepoint in its state directory (savepoint.path of the example)"
[ -f "$STATE/shopstream.db" ] && [ -d "$STATE/lake" ] || check_failed "the state directory lacks shopstream.db or lake/: $(ls "$STATE")"
lake_events_match "$STATE/lake" "the service's lake" --set lateness=4h clicks="$G"
"$PY" - "$STATE/shopstream.db" "$T/model/dlq.jsonl" <<'PYEOF' || check_failed "the service's dead letters in SQLite"
import json, sqlite3, sys
from collections import Counter
db = sqlite3.connect(sys.argv[1])
got = Counter(db.execute("SELECT record, reason FROM dlq"))
want = Counter((r["record"], r["reason"]) for r in map(json.loads, open(sys.argv[2])) if r)
print("    dlq in SQLite: %d rows, model %d" % (sum(got.values()), sum(want.values())))
sys.exit(0 if got == want else 1)
PYEOF
want_dlq=$(grep -c . "$T/model/dlq.jsonl")
got=$(timeout 60 kcat -C -b "$B" -t shopstream_dlq -e -q -f '%s\n' | grep -c .)
[ "$got" -eq "$want_dlq" ] || check_failed "the dead-letter topic holds $got records, the model has $want_dlq dead letters"
c=$(kafka_committed "$KDIR" "$B" e2e-0007.clicks clicks | awk '{ s += $2 } END { print s + 0 }')
[ "$c" -eq "$N" ] || check_failed "the stopped service committed offsets summing to $c, expected the $N records of the topic"
note "stopped by SIG$SIG: exit 0, committed $c of $N"

# ---- 4. a missing variable is a configuration error, not restarted ---------------------------
rc=0
(cd "$STATE" && env -i "${KEEP[@]}" "${CMD[@]}") 2>"$T/noenv.stderr" || rc=$?
[ $rc -eq 2 ] || { cat "$T/noenv.stderr" >&2; check_failed "without KAFKA_BROKERS the service exited $rc, expected 2"; }
grep -q 'KAFKA_BROKERS' "$T/noenv.stderr" || check_failed "the error does not name KAFKA_BROKERS: $(cat "$T/noenv.stderr")"
[ "$(unit RestartPreventExitStatus)" = 2 ] || check_failed "the unit restarts on exit 2"

# ---- uninstall keeps the configuration --------------------------------------------------------
mk uninstall PREFIX="$P" >"$T/uninstall.out" 2>&1 || { cat "$T/uninstall.out" >&2; fail "make uninstall failed"; }
got=$(listing "$P")
[ "$got" = "$(printf '%s\n' "600 ./etc/shopstream/env" "644 ./etc/shopstream/shopstream.yaml")" ] ||
    check_failed "after make uninstall: $got"
finish
