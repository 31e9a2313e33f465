#!/usr/bin/env bash
# 0410 — a record too big for the Kafka output topics neither stops the pipeline nor is lost.
#
# The input topic takes 10 MB messages; the dead-letter and late topics only 200,000 bytes
# (max.message.bytes). Written to the input: small valid views, a small malformed record,
# a 1.5 MB malformed one, a valid view with an 800 KB field that arrives late, and a record
# without event_type whose user_id (its dead letter's key) is 1.2 MB.
# Asserted: the run exits 0 (--exit-at-end); the big dead letter and the big late row are cut
# to fit, each with a `truncated` header giving the record's size, and what they keep is the
# record's first bytes (whole UTF-8 characters in the late row's JSON); the small dead
# letter is whole and has no such header; the JSONL sink keeps both records whole; the cut
# is logged; the dead letter whose user_id is too long for a key has none. Before, the
# broker's MSG_SIZE_TOO_LARGE was retried as an outage for ever.
# requires: kafka
source "$(dirname "$0")/lib.sh"
need_bin
kafka_broker_start
"$KT" topic "$KDIR" in 1 max.message.bytes=10000000 || fail "cannot create topic in"
for t in dlq late; do "$KT" topic "$KDIR" "$t" 1 max.message.bytes=200000 || fail "cannot create topic $t"; done
for t in alerts promo_matches; do "$KT" topic "$KDIR" "$t" 1 || fail "cannot create topic $t"; done
python3 - "$T" <<'PY'
import json, sys
t = sys.argv[1]
def view(eid, user, ts, **extra):
    return json.dumps(dict(event_id=eid, event_type="view", user_id=user, product_id="p1", ts=ts, **extra),
                      ensure_ascii=False)
big_bad = '{"event_id":"e9","user_id":"u9","junk":"' + "x" * 1500000   # no closing: malformed
# no event_type (missing_field), and a user_id far too long to be a message key
big_user = '{"event_id":"e6","user_id":"' + "u" * 1200000 + '","product_id":"p1","ts":"2026-11-27T11:00:03Z"}'
big_late = view("e4", "u4", "2026-11-27T10:00:01Z", junk="\u00e9" * 400000)
lines = [view("e1", "u1", "2026-11-27T10:00:00Z"), view("e2", "u2", "2026-11-27T11:00:00Z"),
         '{"event_id":"e3",', big_late, big_bad, view("e5", "u5", "2026-11-27T11:00:02Z"), big_user]
with open(t + "/in.jsonl", "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
with open(t + "/big_bad", "w", encoding="utf-8") as f: f.write(big_bad)
with open(t + "/big_late", "w", encoding="utf-8") as f: f.write(big_late)
with open(t + "/big_user", "w", encoding="utf-8") as f: f.write(big_user)
PY
kcat -P -b "$B" -t in -X message.max.bytes=10000000 -l "$T/in.jsonl" || fail "kcat -P"
timeout 150 "$SHOPSTREAM_BIN" run --input clicks="kafka://$B/in" --set kafka.group_id=e2e-0410 --exit-at-end \
    --sink "kafka://$B?dlq=dlq&late=late" --sink "jsonl:$T/out" 2>"$T/run.stderr" ||
    { tail -n 5 "$T/run.stderr" >&2; fail "run: exit $?"; }
for t in dlq late; do
    kcat -C -b "$B" -t "$t" -e -o beginning -X fetch.message.max.bytes=10000000 -J >"$T/$t.json" 2>/dev/null ||
        fail "kcat -C $t"
done
python3 - "$T" <<'PY' || check_failed "the Kafka outputs of the oversized records are wrong"
import json, sys
t = sys.argv[1]
def msgs(name):
    """The topic's distinct messages: an epoch retried after a refusal produces again
    what its failed attempt delivered (at-least-once)."""
    seen, out = set(), []
    for l in open(t + "/" + name + ".json", encoding="utf-8"):
        if not l.strip():
            continue
        m = json.loads(l)
        k = (m["key"], m["payload"], json.dumps(m.get("headers")))
        if k not in seen:
            seen.add(k)
            out.append(m)
    return out
def headers(m):
    h = m.get("headers") or []
    return dict(zip(h[0::2], h[1::2]))
big_bad = open(t + "/big_bad", encoding="utf-8").read()
big_late = open(t + "/big_late", encoding="utf-8").read()
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("  0410: " + what, file=sys.stderr)
        ok = False
dlq = msgs("dlq")
big_user = open(t + "/big_user", encoding="utf-8").read()
check(len(dlq) == 3, "expected 3 dead letters, got %d" % len(dlq))
small = [m for m in dlq if m["payload"] == '{"event_id":"e3",']
check(len(small) == 1 and "truncated" not in headers(small[0]), "the small dead letter is not there whole")
user = [m for m in dlq if headers(m).get("offset") == "6"]
check(len(user) == 1 and user[0]["key"] is None and headers(user[0]).get("reason") == "missing_event_type"
      and headers(user[0]).get("truncated") == str(len(big_user)) and big_user.startswith(user[0]["payload"]),
      "the dead letter with a 1.2 MB user_id: %r" % ([(m["key"] and len(m["key"]), headers(m)) for m in user],))
big = [m for m in dlq if m["payload"] != '{"event_id":"e3",' and headers(m).get("offset") != "6"]
if big:
    m = big[0]
    check(headers(m).get("truncated") == str(len(big_bad.encode())), "big dead letter headers: %r" % headers(m))
    check(0 < len(m["payload"]) <= 200000 and big_bad.startswith(m["payload"]),
          "big dead letter: %d bytes, not a prefix of the record" % len(m["payload"]))
    check(headers(m).get("reason") == "malformed" and headers(m).get("offset") == "4", "big dead letter: %r" % headers(m))
late = msgs("late")
check(len(late) == 1, "expected 1 late message, got %d" % len(late))
if late:
    m = late[0]
    row = json.loads(m["payload"])
    check(headers(m).get("truncated") == str(len(big_late.encode())), "late headers: %r" % headers(m))
    check(len(m["payload"].encode()) <= 200000 and 90000 < len(row["record"].encode()) and big_late.startswith(row["record"]),
          "late row: a record of %d bytes, not a prefix of the original" % len(row["record"].encode()))
    check(m["key"] == "u4" and row["offset"] == 3, "late message: key %r, offset %r" % (m["key"], row["offset"]))
recs = [json.loads(l)["record"] for l in open(t + "/out/dlq.jsonl", encoding="utf-8")]
check(big_bad in recs and big_user in recs, "the JSONL dead letters do not hold the big records whole")
lates = [json.loads(l)["record"] for l in open(t + "/out/late.jsonl", encoding="utf-8")]
check(lates == [big_late], "the JSONL late rows do not hold the big record whole")
sys.exit(0 if ok else 1)
PY
grep -q "msg=\"records cut to fit Kafka's message size" "$T/run.stderr" || check_failed "the cut was not logged"
note "$(grep -m1 -o "records cut to fit Kafka's message size.*" "$T/run.stderr" | cut -c1-40)..., $(grep -c "sink unavailable" "$T/run.stderr") retry warning(s)"
finish
