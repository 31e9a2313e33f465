#!/usr/bin/env bash
# 0406 — the production path, Kafka to PostgreSQL, through a PostgreSQL outage: the engine
# pauses the topic's partitions while the sink retries, resumes them when it is back, and
# nothing is lost or written twice.
#
# Data: generated clicks (2 % duplicates, 2 % invalid) in a 3-partition topic; lateness 4h
# so that no record can be late under any interleaving (see 0401). The run (--exit-at-end,
# epochs of 1 s) is slowed down on purpose by a small prefetch (-X queued.min.messages=1000:
# librdkafka 2.0.2 then fetches about 1 000 records per partition per second), so that the
# outage falls mid-stream. Once two epochs are in PostgreSQL, the server is crashed
# (pg_ctl stop -m immediate), kept down for 20 s and started again on the same port.
# Asserted: the engine logged the pause and the recovery and exited 0; every table read
# back from PostgreSQL equals the model row by row (dlq rows, whose origins are Kafka
# coordinates here, by record and reason); no row is left provisional; the group committed
# the end of every partition.
# requires: kafka postgres
source "$(dirname "$0")/lib.sh"
need_bin
N=100000
[ "$E2E_QUICK" = 1 ] && N=60000
OUTAGE_S=20

kafka_clicks_topic 43
pg_start
q() { psql -X -q -At -F'|' -c "$1" 2>/dev/null; }
"$PY" "$E2E_DIR/model.py" --set lateness=4h clicks="$G" --out "$T/model" >/dev/null || fail "model failed"

"$SHOPSTREAM_BIN" run --input clicks="kafka://$B/clicks" --exit-at-end --set lateness=4h \
    --set kafka.group_id=e2e-0406 --set epoch.interval=1s -X queued.min.messages=1000 \
    --sink "$URL" 2>"$T/run.stderr" &
P=$!; PIDS+=("$P")
START=$(date +%s)
alive() { kill -0 "$P" 2>/dev/null; }
two_epochs() {
    alive || { tail -n 5 "$T/run.stderr" >&2; fail "the run ended before the outage (it read faster than the test expects)"; }
    [ "$(q "SELECT coalesce(max(epoch), 0) >= 2 FROM shopstream_epoch")" = t ]
}
poll_until 60 "two epochs committed to PostgreSQL" two_epochs
before=$(q "SELECT count(*) FROM dlq")
note "PostgreSQL stopped $(( $(date +%s) - START ))s after the start ($before of $(wc -l <"$T/model/dlq.jsonl") dlq rows in)"
pg_outage "$OUTAGE_S" "$P" "$T/run.stderr"
rc=0
timeout 300 tail --pid="$P" -f /dev/null || fail "the run did not finish within 300 s after PostgreSQL came back"
wait "$P" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$T/run.stderr" >&2; fail "the run exited $rc after the outage"; }
grep -q 'sink recovered, input resumed.*sink=postgresql' "$T/run.stderr" ||
    check_failed "no 'sink recovered, input resumed sink=postgresql' in the engine's log"
! grep -q 'leaving group\|poll interval' "$T/run.stderr" ||
    check_failed "the consumer left its group during the outage: $(grep -m1 'leaving group\|poll interval' "$T/run.stderr")"
[ "$before" -lt "$(wc -l <"$T/model/dlq.jsonl")" ] || check_failed "every dlq row was in before the outage: nothing tested"

X=$T/export
"$PY" "$E2E_DIR/export_tables.py" postgres "$X" >"$T/export.out" 2>"$T/export.err" ||
    { cat "$T/export.err" >&2; check_failed "export from PostgreSQL reported problems (above)"; }
sed 's/^/    /' "$T/export.out"
# dlq by record and reason (its origins are Kafka coordinates, the model's file lines);
# then the model's dlq stands in for it, so that compare.py checks every other table
"$PY" - "$X/dlq.jsonl" "$T/model/dlq.jsonl" <<'PYEOF' || check_failed "the dlq table after the outage"
import json, sys
from collections import Counter
got = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
g = Counter((r["record"], r["reason"]) for r in got)
w = Counter((r["record"], r["reason"]) for r in want)
print("    dlq: %d rows, model %d; %d missing, %d extra" % (len(got), len(want), sum((w - g).values()), sum((g - w).values())))
sys.exit(0 if g == w else 1)
PYEOF
cp "$T/model/dlq.jsonl" "$X/dlq.jsonl"
compare_with_model "$X" --set lateness=4h clicks="$G"
c=$(kafka_committed "$KDIR" "$B" e2e-0406.clicks clicks | awk '{ s += $2 } END { print s + 0 }')
[ "$c" -eq "$N" ] || check_failed "the group committed offsets summing to $c, expected the $N records of the topic"
finish
