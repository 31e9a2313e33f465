#!/usr/bin/env bash
# 0411 — librdkafka's security properties passed through verbatim, against a broker whose only
# client listener is SASL_SSL: SCRAM-SHA-512 over TLS with a CA of its own
# (KAFKA_TEST_SECURE=sasl_ssl scripts/kafka-test-server start: CA and certificate made with
# openssl, user alice created at format time with a random password).
#
#   - the listener is really secured: kcat without the settings gets no metadata, and the
#     certificate it serves verifies against the test's CA (openssl s_client);
#   - `shopstream produce --brokers B -X security.protocol=SASL_SSL -X sasl.mechanisms=...
#     -X sasl.username -X sasl.password -X ssl.ca.location` writes N generated clicks (2 %
#     duplicates, 3 % invalid) to a 3-partition topic: read back with kcat over SASL_SSL, the
#     topic holds exactly the lines `produce --out` writes with the same options;
#   - `shopstream run -c FILE.yml` with the same settings as kafka.* keys of the YAML file
#     (the password as "${E2E_KAFKA_PASSWORD}", from the environment, as a deployment keeps it),
#     --exit-at-end, `--sink jsonl:DIR` and `--sink kafka://B?...` (the sink has no settings
#     of its own: it gets the file's): exit 0; its dlq/late rows name the Kafka message that
#     holds their record; mapped to file lines, every JSONL table equals the model over the
#     file (lateness 4h, more than the data's span, so that no table depends on how the 3
#     partitions interleave: see 0401); the dead-letter topic, read back with kcat over
#     SASL_SSL, holds one message per model dlq row (reason, stream and record as
#     multisets) and the alerts topic the rows of alerts.jsonl;
#   - a wrong password: exit 2 at once (well within kafka.connect_timeout=10s), the error
#     saying that the brokers refused authentication, with librdkafka's reason; a CA that did
#     not sign the broker's certificate: exit 1 after kafka.connect_timeout=5s, naming the
#     failed verification; no security settings at all: exit 1, naming security.protocol;
#   - the password appears in no log of any of these runs, nor in --print-config's output.
# requires: kafka
source "$(dirname "$0")/lib.sh"
need_bin
command -v kcat >/dev/null || fail "kcat not found (scripts/install-deps installs it)"
command -v openssl >/dev/null || fail "openssl not found"
N=40000
[ "$E2E_QUICK" = 1 ] && N=10000

KAFKA_TEST_SECURE=sasl_ssl kafka_broker_start
CA=$KDIR/tls/ca.pem
KUSER=$(cat "$KDIR/sasl.user")
KPASS=$(cat "$KDIR/sasl.password")
[ -s "$CA" ] && [ -n "$KUSER" ] && [ -n "$KPASS" ] || fail "the secure broker left no CA, user or password in $KDIR"
note "SASL_SSL (SCRAM-SHA-512) listener, CA $CA, user $KUSER"
for t in clicks s_alerts s_pm s_dlq s_late; do "$KT" topic "$KDIR" "$t" 3 || fail "cannot create topic $t"; done

# ---- the listener takes nothing but SASL_SSL, with a certificate from our CA
if timeout 20 kcat -b "$B" -L -m 5 >"$T/plain.out" 2>&1; then
    check_failed "kcat without security settings got the metadata of $B"
fi
timeout 20 openssl s_client -connect "$B" -CAfile "$CA" -verify_return_error -verify_ip 127.0.0.1 \
    </dev/null >"$T/s_client.out" 2>&1 || { tail -n 5 "$T/s_client.out" >&2; check_failed "openssl s_client: no TLS with a certificate that verifies against $CA"; }
grep -q 'Verify return code: 0 (ok)' "$T/s_client.out" || check_failed "the broker's certificate does not verify against the CA"

SEC=(-X security.protocol=SASL_SSL -X sasl.mechanisms=SCRAM-SHA-512 -X "sasl.username=$KUSER"
     -X "sasl.password=$KPASS" -X "ssl.ca.location=$CA")
kdump() { # TOPIC FILE: every message of TOPIC as kcat -J lines, read over SASL_SSL
    timeout 120 kcat -F "$KDIR/kcat.conf" -C -b "$B" -t "$1" -o beginning -e -q -J >"$2" 2>"$2.err" ||
        { cat "$2.err" >&2; fail "kcat could not read topic $1 over SASL_SSL"; }
}

# ---- produce over SASL_SSL
GEN=(--stream clicks --events "$N" --seed 47 --duplicates 0.02 --invalid 0.03 --rate 250)
G=$T/clicks.jsonl
"$SHOPSTREAM_BIN" produce --out "$G" "${GEN[@]}" 2>"$T/p.err" || { cat "$T/p.err" >&2; fail "produce --out"; }
"$SHOPSTREAM_BIN" produce --brokers "$B" "${GEN[@]}" "${SEC[@]}" 2>"$T/pk.err" ||
    { tail -n 5 "$T/pk.err" >&2; fail "produce --brokers over SASL_SSL"; }
note "produce: $(grep -o 'msg="done".*' "$T/pk.err")"

# ---- run: the same settings from a YAML file, a JSONL and a Kafka sink
cat >"$T/secure.yml" <<EOF
lateness: 4h
kafka.group_id: e2e-0411
kafka.connect_timeout: 10s
kafka.security.protocol: SASL_SSL
kafka.sasl.mechanisms: SCRAM-SHA-512
kafka.sasl.username: "$KUSER"
kafka.sasl.password: "\${E2E_KAFKA_PASSWORD}"
kafka.ssl.ca.location: "$CA"
EOF
! grep -qF -- "$KPASS" "$T/secure.yml" || fail "secure.yml holds the password"
export E2E_KAFKA_PASSWORD=$KPASS
"$SHOPSTREAM_BIN" run -c "$T/secure.yml" --input clicks="kafka://$B/clicks" --print-config >"$T/print-config.out" 2>&1 ||
    { cat "$T/print-config.out" >&2; check_failed "--print-config with the secure settings"; }
grep -q 'kafka.security.protocol: "SASL_SSL"' "$T/print-config.out" && grep -q 'kafka.sasl.password: (set, hidden)' "$T/print-config.out" ||
    check_failed "--print-config does not show the settings as expected (security.protocol, a hidden password)"
OUT=$T/out
mkdir -p "$OUT"
SINK="kafka://$B?alerts=s_alerts&promo_matches=s_pm&dlq=s_dlq&late=s_late"
t0=$SECONDS
rc=0
timeout 120 "$SHOPSTREAM_BIN" run -c "$T/secure.yml" --input clicks="kafka://$B/clicks" --exit-at-end \
    --sink "jsonl:$OUT" --sink "$SINK" 2>"$OUT.stderr" || rc=$?
[ $rc -eq 0 ] || { tail -n 20 "$OUT.stderr" >&2; fail "run over SASL_SSL exited $rc"; }
note "run over SASL_SSL: exit 0 in $((SECONDS - t0))s, $(grep -o 'msg="done".*' "$OUT.stderr" | head -1)"

D=$T/dump
mkdir -p "$D"
for t in clicks s_alerts s_dlq s_late; do kdump "$t" "$D/$t.json"; done
"$PY" "$E2E_DIR/model.py" --set lateness=4h clicks="$G" --out "$T/model" >/dev/null || fail "the model failed"

# the topic is the file; the engine's rows map to file lines; the topics are the tables
"$PY" - "$G" "$D" "$OUT" "$T/mapped" "$T/model" <<'PYEOF' || check_failed "topics over SASL_SSL vs the file, the tables and the model (above)"
import json, os, shutil, sys
from collections import Counter, defaultdict
gen, dump, out, mapped, model = sys.argv[1:6]
bad = []
msgs = lambda t: [json.loads(l) for l in open(os.path.join(dump, t + ".json"), encoding="utf-8") if l.strip()]
rows = lambda d, t: [l.rstrip("\n") for l in open(os.path.join(d, t + ".jsonl"), encoding="utf-8") if l.strip()] \
    if os.path.exists(os.path.join(d, t + ".jsonl")) else []
lines = [(n, l.rstrip("\n")) for n, l in enumerate(open(gen, encoding="utf-8"), 1) if l.strip()]
clicks = msgs("clicks")
if Counter(m["payload"] for m in clicks) != Counter(l for _, l in lines):
    bad.append("topic clicks (%d messages) does not hold the %d lines of the file" % (len(clicks), len(lines)))
if sorted({m["partition"] for m in clicks}) != [0, 1, 2]:
    bad.append("topic clicks: records in partitions %s, expected 0, 1, 2" % sorted({m["partition"] for m in clicks}))
# (topic, partition, offset) -> file line: equal records matched in order
at, by_val = {}, defaultdict(list)
for n, l in lines:
    by_val[l].append(n)
for m in sorted(clicks, key=lambda m: (m["partition"], m["offset"])):
    if by_val[m["payload"]]:
        at[("clicks", m["partition"], m["offset"])] = (m["payload"], by_val[m["payload"]].pop(0))
os.makedirs(mapped, exist_ok=True)
for name in os.listdir(out):
    if name in ("dlq.jsonl", "late.jsonl"):
        with open(os.path.join(out, name), encoding="utf-8") as fh, open(os.path.join(mapped, name), "w") as w:
            for l in fh:
                r = json.loads(l)
                k = (r["source"], r["partition"], r["offset"])
                if k not in at or at[k][0] != r["record"]:
                    bad.append("%s row whose origin %s does not hold its record" % (name, k))
                    continue
                r["source"], r["partition"], r["offset"] = gen, 0, at[k][1]
                w.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
    else:
        shutil.copyfile(os.path.join(out, name), os.path.join(mapped, name))
# the dead-letter topic: the model's invalid records, each once
h = lambda m: dict(zip((m.get("headers") or [])[0::2], (m.get("headers") or [])[1::2]))
dlq = msgs("s_dlq")
got = Counter((h(m).get("reason"), h(m).get("stream"), m["payload"] or "") for m in dlq)
want = Counter((r["reason"], r["stream"], r["record"]) for r in map(json.loads, rows(model, "dlq")))
if got != want:
    bad.append("dead-letter topic: %d messages, the model has %d invalid records; %d missing, %d extra"
               % (len(dlq), sum(want.values()), sum((want - got).values()), sum((got - want).values())))
if len(dlq) != len(rows(out, "dlq")):
    bad.append("dead-letter topic: %d messages, dlq.jsonl %d rows" % (len(dlq), len(rows(out, "dlq"))))
for t, table in (("s_alerts", "alerts"), ("s_late", "late")):
    if Counter(m["payload"] for m in msgs(t)) != Counter(rows(out, table)):
        bad.append("topic %s differs from %s.jsonl (%d messages, %d rows)" % (t, table, len(msgs(t)), len(rows(out, table))))
print("    over SASL_SSL: clicks %d messages = the file; dead-letter topic %d messages = dlq.jsonl = the model's %d"
      " invalid records; alerts topic %d = alerts.jsonl" % (len(clicks), len(dlq), sum(want.values()), len(msgs("s_alerts"))))
if not want:
    bad.append("no invalid records: the test exercises too little")
for b in bad[:12]:
    print("FAIL", b)
sys.exit(1 if bad else 0)
PYEOF
# lateness 4h makes every table independent of the partitions' interleaving only if the
# data spans less than that (computed, not assumed)
"$PY" - "$G" <<'PYEOF' || check_failed "the generated clicks span 4 h or more: the comparison would depend on interleaving"
import json, sys
from datetime import datetime
ts = []
for l in open(sys.argv[1], encoding="utf-8"):
    try:
        t = json.loads(l)["ts"]
        ts.append(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() if isinstance(t, str) else t / 1000)
    except Exception:
        pass
sys.exit(0 if ts and max(ts) - min(ts) < 4 * 3600 else 1)
PYEOF
compare_with_model "$T/mapped" --set lateness=4h clicks="$G"

# ---- settings that cannot work: bounded, and saying why
# expect_refused NAME RC SECONDS TEXT YAML_SED: the run with secure.yml edited by YAML_SED
# exits RC within SECONDS, its last line containing TEXT
expect_refused() {
    local name=$1 want=$2 secs=$3 text=$4 yml=$T/$1.yml rc=0 t0=$SECONDS
    sed "$5" "$T/secure.yml" >"$yml"
    timeout 60 "$SHOPSTREAM_BIN" run -c "$yml" --input clicks="kafka://$B/clicks" --exit-at-end \
        --sink "jsonl:$T/out-$name" --sink "$SINK" 2>"$T/$name.stderr" || rc=$?
    local took=$((SECONDS - t0)) last
    last=$(tail -n 1 "$T/$name.stderr")
    [ "$rc" -eq "$want" ] || check_failed "$name: exit $rc, expected $want"
    [ "$took" -le "$secs" ] || check_failed "$name: took ${took}s, more than ${secs}s"
    case "$last" in *"$text"*) ;; *) check_failed "$name: the error does not say \"$text\": $last" ;; esac
    note "$name: exit $rc in ${took}s: ${last:0:200}"
}
expect_refused wrong-password 2 8 "refused authentication (check sasl.mechanisms, sasl.username and sasl.password)" \
    's/^kafka.sasl.password: .*/kafka.sasl.password: "not-the-password"/'
grep -q 'SASL authentication error: Authentication failed' "$T/wrong-password.stderr" ||
    check_failed "wrong-password: librdkafka's reason is not in the error"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other-ca.key" -out "$T/other-ca.pem" -days 1 \
    -subj "/CN=another CA" >"$T/other-ca.log" 2>&1 || { cat "$T/other-ca.log" >&2; fail "openssl: cannot make a second CA"; }
expect_refused other-ca 1 20 "certificate verify failed" \
    "s|^kafka.ssl.ca.location: .*|kafka.ssl.ca.location: \"$T/other-ca.pem\"|; s/^kafka.connect_timeout: .*/kafka.connect_timeout: 5s/"
expect_refused plaintext 1 20 "security.protocol" "/^kafka\.\(security\|sasl\|ssl\)\./d; s/^kafka.connect_timeout: .*/kafka.connect_timeout: 5s/"

# ---- no secret in any log
leaks=$(grep -lF -- "$KPASS" "$T"/*.err "$T"/*.stderr "$T"/*.out 2>/dev/null)
[ -z "$leaks" ] || check_failed "the password appears in $(echo $leaks)"
finish
