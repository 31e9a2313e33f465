#!/usr/bin/env bash
# 0202 — the Redis sink through the real engine, against a private redis-server
# (scripts/redis-test-server: AOF, own port on 127.0.0.1, removed at the end).
#  1. A full generated run (duplicates, late, invalid; small epochs) into DB 0.
#  2. Paced clicks (~30 s through a pipe) into DB 1, Redis shut down and started again in
#     the middle of the run: the engine logs the retries, pauses, recovers and finishes.
# After each run, everything the key layout of src/sink/redis_sink.c defines is compared
# with the model: recent:{user} lists equal the final recently-viewed lists (TTL set);
# window hashes and ZSETs equal the final window rows; windows:{table} indexes; alerts list
# and alerts:count; dlq:count, late:count, sessions:count, promo_matches:count; the
# data_quality minutes' totals; the run hash. Nothing lost, nothing counted twice.
# requires: redis
source "$(dirname "$0")/lib.sh"
need_bin
N=100000; EVENTS=120000; PACE_S=30
[ "$E2E_QUICK" = 1 ] && { N=20000; EVENTS=20000; PACE_S=25; }

RT="$REPO_DIR/scripts/redis-test-server"
RDIR="$T/redis"
ENGINE_PID=""
_redis_cleanup() {
    [ -n "$ENGINE_PID" ] && kill "$ENGINE_PID" 2>/dev/null
    "$RT" stop "$RDIR" >/dev/null 2>&1 || true
    _e2e_cleanup
}
trap _redis_cleanup EXIT
PORT=$("$RT" start "$RDIR") || fail "cannot start redis-server"
note "server redis://127.0.0.1:$PORT"
r() { redis-cli -h 127.0.0.1 -p "$PORT" -n "$1" "${@:2}" 2>/dev/null; }

# ---- the checker: Redis (a minimal RESP client) against the model -----------------------
cat >"$T/redis_check.py" <<'PY'
import os, socket, sys, json
from collections import Counter
sys.path.insert(0, os.environ["E2E_DIR"])
import model as M

port, db = int(sys.argv[1]), int(sys.argv[2])
cfg, inputs, _ = M.parse_args(sys.argv[3:])
T = M.Model(cfg).run(inputs).tables()

sock = socket.create_connection(("127.0.0.1", port))
rf = sock.makefile("rb")
def enc(*a):
    out = [b"*%d\r\n" % len(a)]
    for x in a:
        x = x if isinstance(x, bytes) else str(x).encode("utf-8", "surrogateescape")
        out.append(b"$%d\r\n%s\r\n" % (len(x), x))
    return b"".join(out)
def reply():
    line = rf.readline()
    t, rest = line[:1], line[1:-2]
    if t == b"+": return rest.decode()
    if t == b"-": raise RuntimeError(rest.decode())
    if t == b":": return int(rest)
    if t == b"$":
        n = int(rest)
        if n < 0: return None
        data = rf.read(n + 2)[:-2]
        return data.decode("utf-8", "surrogateescape")
    if t == b"*":
        n = int(rest)
        return None if n < 0 else [reply() for _ in range(n)]
    raise RuntimeError("bad reply %r" % line)
def many(cmds):  # pipelined
    out = []
    for i in range(0, len(cmds), 2000):
        chunk = cmds[i:i + 2000]
        sock.sendall(b"".join(enc(*c) for c in chunk))
        out.extend(reply() for _ in chunk)
    return out
def one(*c): return many([c])[0]
one("SELECT", db)

problems = []
def bad(msg):
    problems.append(msg)
def s(v):  # a model value as the sink writes it into a hash field
    if isinstance(v, M.Num): return v.text
    if v is True: return "true"
    if v is False: return "false"
    return v
P = "shopstream:"
keys = set(one("KEYS", P + "*"))

# recently viewed: the final lists, TTL set (24 h after the last write)
rv = T["recently_viewed"]
want_recent = {P + "recent:" + r["user_id"]: r for r in rv}
got_lists = many([("LRANGE", k, 0, -1) for k in want_recent])
ttls = many([("PTTL", k) for k in want_recent])
nl = 0
for (k, r), got, ttl in zip(want_recent.items(), got_lists, ttls):
    if r["_expired"] and not got:
        continue  # dropped by the TTL under the last finite W: the engine may emit the drop
    nl += 1
    if got != r["products"]:
        bad("%s: expected %s got %s" % (k, r["products"], got))
    elif not (0 < ttl <= 24 * 3600 * 1000):
        bad("%s: PTTL %s, expected 0 < ttl <= 86400000" % (k, ttl))
extra = [k for k in keys if k.startswith(P + "recent:") and k not in want_recent]
if extra:
    bad("%d recent:* keys of users without a list, e.g. %s" % (len(extra), extra[:3]))

# window tables: one hash per row (its columns but those in the key), the ZSET of the window, the windows index
def check_window_table(table, keycol, scorecol, whole):
    cols = M.COLUMNS[table]
    rows = T[table]
    by_ws = {}
    hk = []
    for r in rows:
        k = P + table + ":" + r["window_start"] + (":" + r[keycol] if keycol else "")
        hk.append(k)
        by_ws.setdefault(r["window_start"], []).append(r)
    got = many([("HGETALL", k) for k in hk])
    nd = 0
    for k, r, g in zip(hk, rows, got):
        gd = dict(zip(g[0::2], g[1::2]))
        gd.pop("committed_at", None)
        wd = {c: s(r[c]) for c in cols[1:] if r[c] is not None and c != keycol}  # the key holds the rest
        if gd != wd:
            nd += 1
            if nd <= 5:
                bad("%s: expected %s got %s" % (k, wd, gd))
    if nd > 5:
        bad("%s: %d hashes differ" % (table, nd))
    if keycol:
        wss = sorted(by_ws)
        zs = many([("ZRANGE", P + table + ":" + ws, 0, -1, "WITHSCORES") for ws in wss])
        for ws, z in zip(wss, zs):
            g = sorted(zip(z[0::2], z[1::2]))
            if scorecol == "revenue":
                w = sorted((r[keycol], str(int(r["revenue"].replace(".", "")))) for r in by_ws[ws])
            else:
                w = sorted((r[keycol], s(r[scorecol])) for r in by_ws[ws])
            if g != w:
                bad("%s:%s ZSET: expected %s got %s" % (table, ws, w[:25], g[:25]))
        pref = P + table + ":"
        stale = [k for k in keys if k.startswith(pref) and k not in set(hk) and k.count(":") >= 4
                 and k[len(pref):] not in by_ws]
        # a top list (whole) that was replaced takes the hashes of the products that left it
        # along: otherwise they stay as rows with final = false and a rank another product holds
        if stale:
            bad("%s: %d hashes without a final row%s, e.g. %s" % (table, len(stale),
                " (products that left a top list)" if whole else "", stale[:3]))
    idx = one("ZRANGE", P + "windows:" + table, 0, -1)
    if sorted(idx) != sorted(by_ws):
        bad("windows:%s: expected %d window starts, got %d (%s)" % (table, len(by_ws), len(idx),
            sorted(set(idx) ^ set(by_ws))[:4]))
    return len(rows)

counts = {}
counts["category_revenue"] = check_window_table("category_revenue", "category", "revenue", False)
counts["hourly_sales"] = check_window_table("hourly_sales", "category", "revenue", False)
counts["trending_products"] = check_window_table("trending_products", "product_id", "rank", True)
counts["funnel"] = check_window_table("funnel", None, None, False)

# counters
def hash_counts(key):
    g = one("HGETALL", P + key)
    return {k: int(v) for k, v in zip(g[0::2], g[1::2])}
def expect_counts(key, want):
    got = hash_counts(key)
    want = {k: v for k, v in want.items() if v}
    if got != want:
        bad("%s: expected %s got %s" % (key, dict(sorted(want.items())), dict(sorted(got.items()))))
al = [a for a in T["alerts"]]
expect_counts("alerts:count", Counter(a["kind"] for a in al))
expect_counts("dlq:count", Counter(d["reason"] for d in T["dlq"]))
expect_counts("promo_matches:count", Counter(m["promo_id"] for m in T["promo_matches"]))
se = T["sessions"]
expect_counts("sessions:count", {"sessions": len(se), "converted": sum(1 for x in se if x["converted"])})
late = one("GET", P + "late:count")
if int(late or 0) != len(T["late"]):
    bad("late:count: expected %d got %s" % (len(T["late"]), late))
# the alerts list: the newest min(n, 1000), each one of the model's alerts
lst = one("LRANGE", P + "alerts", 0, -1)
want_alerts = {a["alert_id"]: a for a in al}
if len(lst) != min(1000, len(al)):
    bad("alerts list: %d entries, expected %d" % (len(lst), min(1000, len(al))))
for text in lst:
    a = json.loads(text)
    w = want_alerts.get(a.get("alert_id"))
    if w is None:
        bad("alerts list: unexpected %s" % text); continue
    a["detail"] = json.loads(a["detail"])
    wd = {k: M.plain(v) for k, v in w.items()}
    if a != wd:
        bad("alerts list: expected %s got %s" % (wd, a))
# data quality: the minutes' totals; the run hash
dqk = [k for k in keys if k.startswith(P + "data_quality:")]
tot = Counter()
for g in many([("HGETALL", k) for k in dqk]):
    d = dict(zip(g[0::2], g[1::2]))
    for c in M.COLUMNS["data_quality"][1:-1]:
        tot[c] += int(d.get(c, 0))
dq = T["data_quality"][0]
for c in M.COLUMNS["data_quality"][1:-1]:
    if tot[c] != int(dq[c].text):
        bad("data_quality totals: %s expected %s got %d" % (c, dq[c].text, tot[c]))
run = dict(zip(*[iter(one("HGETALL", P + "run"))] * 2))
want_run = {"records": int(dq["total"].text), "valid": int(dq["valid"].text),
            "invalid": int(dq["total"].text) - int(dq["valid"].text), "late": int(dq["late"].text),
            "duplicates": int(dq["duplicates"].text)}
got_run = {k: int(run.get(k, -1)) for k in want_run}
if got_run != want_run:
    bad("run: expected %s got %s" % (want_run, got_run))
if run.get("epoch") != one("GET", P + "epoch"):
    bad("run.epoch %s but epoch %s" % (run.get("epoch"), one("GET", P + "epoch")))

print("  redis db %d: %d recent lists, %s window rows, %d alerts, %d sessions, %d dlq, %d late, epoch %s"
      % (db, nl, counts, len(al), len(se), len(T["dlq"]), len(T["late"]), run.get("epoch")))
for p in problems[:40]:
    print("  " + p)
sys.exit(1 if problems else 0)
PY
export E2E_DIR
check_redis() { # DB MODEL_ARGS...
    "$PY" "$T/redis_check.py" "$PORT" "$@" >"$T/check-$1.out" 2>&1
    local rc=$?
    cat "$T/check-$1.out" | sed 's/^/  /'
    [ $rc -eq 0 ] || check_failed "Redis db $1 differs from the model (above)"
}

# ---- 1. a full generated run -----------------------------------------------------------------
G=$T/gen
mkdir -p "$G"
"$SHOPSTREAM_BIN" produce --out-dir "$G" --events "$N" --seed 53 \
    --duplicates 0.02 --late 0.02 --invalid 0.02 2>"$G.stderr" || fail "produce failed"
I=(promotions="$G/promotions.jsonl" orders="$G/orders.csv" clicks="$G/clicks.jsonl")
A=(); for s in "${I[@]}"; do A+=(--input "$s"); done
run_engine "$T/jsonl" "${A[@]}" --set epoch.events=$((N / 10)) --sink "redis://127.0.0.1:$PORT/0"
check_redis 0 "${I[@]}"

# ---- 2. Redis restarted in the middle of a paced run --------------------------------------
IN=$T/clicks.jsonl
"$SHOPSTREAM_BIN" produce --stream clicks --out "$IN" --events "$EVENTS" --seed 59 \
    --duplicates 0.02 --late 0.02 --invalid 0.02 2>"$T/produce.stderr" || fail "produce failed"
mkdir -p "$T/paced"
"$PY" "$E2E_DIR/pace.py" "$IN" "$PACE_S" |
    "$SHOPSTREAM_BIN" run --input clicks=- --set epoch.interval=1s --sink "redis://127.0.0.1:$PORT/1" \
        --sink "jsonl:$T/paced" 2>"$T/run.stderr" &
ENGINE_PID=$!
START=$(date +%s)
alive() { kill -0 "$ENGINE_PID" 2>/dev/null; }
committed() { [ "$(r 1 GET shopstream:epoch)" -ge 2 ] 2>/dev/null; }
poll_until 30 "two epochs committed to Redis" committed
alive || fail "the engine ended before the restart (run shorter than expected)"
before=$(r 1 GET shopstream:epoch)
"$RT" stop "$RDIR" >/dev/null || fail "cannot stop redis-server"
DOWN=$(date +%s)
note "Redis shut down $((DOWN - START))s after the start (epoch $before committed)"
retrying() { grep -q 'sink unavailable, input paused, retrying.*sink=redis' "$T/run.stderr"; }
poll_until 30 "the engine to report the Redis sink unavailable" retrying
# the outage itself: Redis stays down for a few more seconds while the engine backs off
sleep 5
alive || { tail -n 20 "$T/run.stderr" >&2; fail "the engine exited while Redis was down"; }
"$RT" start "$RDIR" >/dev/null || fail "cannot restart redis-server"
note "Redis back after $(( $(date +%s) - DOWN ))s"
ended() { ! alive; }
poll_until $((PACE_S + 60)) "the engine to finish" ended
rc=0; wait "$ENGINE_PID" || rc=$?
ENGINE_PID=""
[ $rc -eq 0 ] || { tail -n 20 "$T/run.stderr" >&2; fail "shopstream run exited $rc after the Redis restart"; }
grep -q 'sink recovered, input resumed.*sink=redis' "$T/run.stderr" ||
    check_failed "no 'sink recovered, input resumed sink=redis' in the engine's log"
after=$(r 1 GET shopstream:epoch)
[ "${after:-0}" -gt "${before:-0}" ] || check_failed "no epoch committed after the restart ($before -> $after)"
note "engine retried and recovered; epochs $before -> $after; run took $(( $(date +%s) - START ))s"
check_redis 1 clicks=- --stdin "$IN"
compare_with_model "$T/paced" clicks=- --stdin "$IN"
finish
