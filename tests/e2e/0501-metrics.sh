#!/usr/bin/env bash
# 0501 — the operations endpoint (metrics: sink, DESIGN §8) on a live run: clicks arrive
# on stdin from a pacer over ~10 s, so /metrics, /readyz and the JSON API are scraped
# while the run is going; at the end (the sink lingers until the final /metrics scrape)
# every counter must equal what the run wrote: JSONL line counts per table, dlq reasons,
# late lines, data_quality sums, the produce summary, the stdin offsets; /api/windows
# the newest windows of each windowed table (provisional mid-run, the files' final rows
# at the end), /api/users/{id}/recently-viewed every user's last recently_viewed row,
# and / the dashboard page.
source "$(dirname "$0")/lib.sh"
need_bin
N=20000
[ "$E2E_QUICK" = 1 ] && N=6000

G=$T/gen
mkdir -p "$G"
"$SHOPSTREAM_BIN" produce --out-dir "$G" --events "$N" --seed 11 --duplicates 0.02 --late 0.02 --invalid 0.02 \
    2>"$G.stderr" || { tail -n 5 "$G.stderr" >&2; fail "shopstream produce failed"; }
summary=$(grep 'msg="done"' "$G.stderr") || fail "no produce summary in $G.stderr"
sum_of() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$summary"; }

# --- helpers: HTTP GET with python (status on the first line, then the body) ---------
cat >"$T/get.py" <<'PYEOF'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
        status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
sys.stdout.write("%d\n" % status)
sys.stdout.write(body.decode())
PYEOF
get() { "$PY" "$T/get.py" "http://127.0.0.1:$PORT$1" 2>/dev/null; }
status_is() { [ "$(get "$1" | head -n 1)" = "$2" ]; }

# A Prometheus text-format (0.0.4) parser: HELP/TYPE before samples, label escapes,
# histogram suffixes; writes "name{sorted labels} value" lines for easy lookup.
cat >"$T/prom.py" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read().split("\n", 1)[1]  # drop the status line
assert text.endswith("\n"), "page does not end with a newline"
types, helps, out = {}, set(), []
name_re = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
for ln, line in enumerate(text[:-1].split("\n"), 1):
    def bad(why): sys.exit("line %d: %s: %r" % (ln, why, line))
    if line.startswith("# HELP "):
        helps.add(line.split(" ")[2]); continue
    if line.startswith("# TYPE "):
        _, _, n, t = line.split(" ")
        if t not in ("counter", "gauge", "histogram", "summary", "untyped"): bad("type")
        if n in types: bad("family declared twice")
        if n not in helps: bad("TYPE without HELP")
        types[n] = t; continue
    if line.startswith("#") or not line: bad("unexpected line")
    m = name_re.match(line)
    if not m: bad("no metric name")
    name, i, labels = m.group(0), m.end(), {}
    if i < len(line) and line[i] == "{":
        i += 1
        while line[i] != "}":
            lm = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="').match(line, i)
            if not lm: bad("label")
            i, val = lm.end(), []
            while line[i] != '"':
                if line[i] == "\\":
                    esc = {"\\": "\\", '"': '"', "n": "\n"}.get(line[i + 1])
                    if esc is None: bad("bad escape")
                    val.append(esc); i += 2
                else:
                    val.append(line[i]); i += 1
            labels[lm.group(1)] = "".join(val); i += 1
            if line[i] == ",": i += 1
        i += 1
    if line[i] != " ": bad("no space before value")
    v = line[i + 1:]
    if v not in ("+Inf", "-Inf", "NaN"):
        try: float(v)
        except ValueError: bad("value")
    fam = name
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and types.get(name[:-len(suf)]) == "histogram": fam = name[:-len(suf)]
    if fam not in types: bad("sample before its TYPE line")
    if types[fam] == "counter" and not name.endswith("_total"): bad("counter without _total")
    out.append("%s{%s} %s" % (name, ",".join('%s="%s"' % kv for kv in sorted(labels.items())), v))
print("\n".join(out))
PYEOF
# val FILE 'name{labels}' : the value of one sample in a parsed page (empty when absent)
val() { awk -v k="$2" '{ v = $NF; $NF = ""; sub(/ $/, ""); if ($0 == k) print v }' "$1"; }

# --- the run: promotions and orders from files, then clicks paced on stdin ----------
cat >"$T/pacer.py" <<'PYEOF'
import sys, time
lines = open(sys.argv[1], "rb").readlines()
secs, steps = float(sys.argv[2]), 100
per = -(-len(lines) // steps)
for k in range(0, len(lines), per):
    sys.stdout.buffer.write(b"".join(lines[k:k + per])); sys.stdout.flush()
    time.sleep(secs / steps)  # the pacing is the point: a run that lasts ~10 s
PYEOF
OUT=$T/out
"$PY" "$T/pacer.py" "$G/clicks.jsonl" 10 | "$SHOPSTREAM_BIN" run --input "promotions=$G/promotions.jsonl" \
    --input "orders=$G/orders.csv" --input clicks=- --set epoch.interval=500ms \
    --sink "jsonl:$OUT" --sink "metrics:127.0.0.1:0?linger=60s&recently_viewed=on" 2>"$T/run.stderr" &
RUN_PID=$!
trap 'kill $RUN_PID 2>/dev/null; _e2e_cleanup' EXIT

poll_until 30 "the metrics sink to log its port" metrics_listening "$T/run.stderr"
note "metrics on 127.0.0.1:$PORT"

status_is /healthz 200 || check_failed "/healthz is not 200"
[ "$(get /healthz | tail -n +2)" = "ok" ] || check_failed "/healthz body is not ok"
poll_until 30 "/readyz to answer 200" status_is /readyz 200
nf=$(get /no/such/thing)
[ "$(head -n 1 <<<"$nf")" = 404 ] && grep -q '"error":' <<<"$nf" || check_failed "unknown path: not a 404 JSON error: $nf"

# mid-run: some clicks counted, not all, the run not complete; the page parses
NCLICKS=$(sum_of clicks)
mid_run() {
    get /metrics >"$T/mid.txt" && "$PY" "$T/prom.py" "$T/mid.txt" >"$T/mid.parsed" || return 1
    local c; c=$(val "$T/mid.parsed" 'shopstream_records_total{stream="clicks"}')
    [ -n "$c" ] && [ "$c" -gt 0 ] && [ "$c" -lt "$NCLICKS" ] && [ "$(val "$T/mid.parsed" 'shopstream_run_complete{}')" = 0 ]
}
poll_until 30 "a mid-run scrape (0 < clicks < $NCLICKS, run not complete)" mid_run
note "mid-run: clicks=$(val "$T/mid.parsed" 'shopstream_records_total{stream="clicks"}') epochs=$(val "$T/mid.parsed" 'shopstream_epochs_total{}')"
[ -n "$(val "$T/mid.parsed" 'shopstream_input_next_offset{partition="2",source="-"}')" ] \
    || check_failed "mid-run: no shopstream_input_next_offset for stdin (source \"-\", partition 2)"
[ -n "$(val "$T/mid.parsed" 'shopstream_partition_max_ts_ms{partition="2",source="-"}')" ] \
    || check_failed "mid-run: no shopstream_partition_max_ts_ms for stdin"
grep -q '^# TYPE shopstream_consumer_lag gauge$' "$T/mid.txt" || check_failed "no consumer_lag family"
grep -q '^shopstream_consumer_lag{' "$T/mid.txt" && check_failed "consumer_lag sample for inputs whose lag is unknown"
status_is /readyz 200 || check_failed "/readyz not 200 mid-run"
# mid-run the windows are open (lateness 15 min > the data's span): /api/windows shows
# them provisional, with rows; the dashboard page is served as written
get /api/windows >"$T/mid-windows.json"
"$PY" - "$T/mid-windows.json" <<'PYEOF' || check_failed "mid-run /api/windows: $(head -c 300 "$T/mid-windows.json")"
import json, sys
status, text = open(sys.argv[1]).read().split("\n", 1)
w = json.loads(text)
assert status == "200", status
assert sorted(w) == ["category_revenue", "funnel", "hourly_sales", "trending_products"], sorted(w)
cr = w["category_revenue"]
assert cr and not cr[0]["final"] and cr[0]["rows"], cr[:1]
assert all(r["final"] is False and r["window_start"] == cr[0]["window_start"] for r in cr[0]["rows"])
PYEOF
get / >"$T/dashboard.out"
[ "$(head -n 1 "$T/dashboard.out")" = 200 ] && cmp -s <(tail -n +2 "$T/dashboard.out") "$E2E_DIR/../../src/server/dashboard.html" ||
    check_failed "/ does not serve src/server/dashboard.html"

# the end: the JSON API first (it does not end the linger), then the final /metrics
complete() { get /api/stats >"$T/stats.json" && grep -q '"complete":true' "$T/stats.json"; }
poll_until 60 "the run to complete (/api/stats complete=true)" complete
get /api/alerts >"$T/alerts.json"
get /api/quality >"$T/quality.json"
get /api/windows >"$T/windows.json"
# every user's list, as the last recently_viewed row of the user (the final epoch
# expires nothing; the data spans less than recent.ttl); an unknown user is a 404
"$PY" - "$OUT" "$PORT" <<'PYEOF' || check_failed "/api/users/{id}/recently-viewed differs from recently_viewed.jsonl"
import json, sys, urllib.parse, urllib.request, urllib.error
out, port = sys.argv[1:]
last = {}
for l in open(out + "/recently_viewed.jsonl", encoding="utf-8"):
    r = json.loads(l); last[r["user_id"]] = r
def get(user):
    url = "http://127.0.0.1:%s/api/users/%s/recently-viewed" % (port, urllib.parse.quote(user, safe=""))
    try:
        with urllib.request.urlopen(url, timeout=10) as resp: return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e: return e.code, json.loads(e.read())
bad = [u for u, row in last.items() if get(u) != (200, row)]
for u in bad[:5]: print("    user %s: got %r, want %r" % (u, get(u), last[u]))
status, body = get("no-such-user")
if status != 404 or "error" not in body: bad.append("no-such-user"); print("    unknown user: %d %r" % (status, body))
print("    api: %d users' lists compared" % len(last))
sys.exit(1 if bad or len(last) < 100 else 0)
PYEOF
get /metrics >"$T/final.txt"
rc=0
wait $RUN_PID || rc=$?
trap _e2e_cleanup EXIT
[ $rc -eq 0 ] || { tail -n 20 "$T/run.stderr" >&2; fail "shopstream run exited $rc"; }
"$PY" "$T/prom.py" "$T/final.txt" >"$T/final.parsed" || fail "final /metrics does not parse: $(cat "$T/final.parsed")"
F=$T/final.parsed
[ "$(val "$F" 'shopstream_run_complete{}')" = 1 ] || check_failed "final scrape: run_complete is not 1"

eq() { # WHAT GOT WANT
    if [ "$2" != "$3" ]; then check_failed "$1: metrics say '$2', expected '$3'"; fi
}
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
for s in clicks promotions orders; do
    eq "records_total{stream=$s}" "$(val "$F" "shopstream_records_total{stream=\"$s\"}")" "$(sum_of $s)"
done
eq "records sum" $(( $(val "$F" 'shopstream_records_total{stream="clicks"}') + $(val "$F" 'shopstream_records_total{stream="promotions"}') \
    + $(val "$F" 'shopstream_records_total{stream="orders"}') )) "$(sum_of events)"
eq "invalid (produce summary)" "$(awk '/^shopstream_records_invalid_total/ { s += $NF } END { print s }' "$F")" "$(sum_of invalid)"
eq "invalid (dlq.jsonl)" "$(awk '/^shopstream_records_invalid_total/ { s += $NF } END { print s }' "$F")" "$(lines "$OUT/dlq.jsonl")"
eq "valid" "$(val "$F" 'shopstream_records_valid_total{}')" $(( $(sum_of events) - $(lines "$OUT/dlq.jsonl") ))
for r in malformed missing_field unknown_type bad_ts bad_amount; do
    want=$("$PY" -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)['reason'].startswith(sys.argv[2])))" \
        "$OUT/dlq.jsonl" "${r%_field}")
    eq "invalid_total{reason=$r}" "$(val "$F" "shopstream_records_invalid_total{reason=\"$r\"}")" "$want"
done
eq "late_total (late.jsonl)" "$(val "$F" 'shopstream_records_late_total{}')" "$(lines "$OUT/late.jsonl")"
dq_sum() { "$PY" -c "import json,sys; print(sum(json.loads(l)[sys.argv[2]] for l in open(sys.argv[1])))" "$OUT/data_quality.jsonl" "$1"; }
eq "duplicates_total (data_quality)" "$(val "$F" 'shopstream_duplicates_total{}')" "$(dq_sum duplicates)"
eq "duplicates_total (produce summary)" "$(val "$F" 'shopstream_duplicates_total{}')" "$(sum_of duplicates)"
eq "late_total (data_quality)" "$(val "$F" 'shopstream_records_late_total{}')" "$(dq_sum late)"
for t in category_revenue hourly_sales trending_products funnel sessions promo_matches alerts data_quality \
         recently_viewed dlq late; do
    eq "rows_out_total{table=$t}" "$(val "$F" "shopstream_rows_out_total{table=\"$t\"}")" "$(lines "$OUT/$t.jsonl")"
done
eq "rows_out_total{table=events}" "$(val "$F" 'shopstream_rows_out_total{table="events"}')" 0
eq "stdin next offset" "$(val "$F" 'shopstream_input_next_offset{partition="2",source="-"}')" $(( NCLICKS + 1 ))
eq "orders next offset" "$(val "$F" "shopstream_input_next_offset{partition=\"1\",source=\"$G/orders.csv\"}")" \
    $(( $(lines "$G/orders.csv") + 1 ))
eq "watermark" "$(val "$F" 'shopstream_watermark_ms{}')" "+Inf"
epochs=$(val "$F" 'shopstream_epochs_total{}')
[ "$epochs" -ge 5 ] || check_failed "only $epochs epochs in a ~10 s run with epoch.interval=500ms"
# when the last epoch was handed over, every earlier one was durable (no sink holds rows here)
eq "durable epoch" "$(val "$F" 'shopstream_epoch_durable{}')" $(( $(val "$F" 'shopstream_epoch{}') - 1 ))
eq "commit histogram count" "$(val "$F" 'shopstream_commit_duration_seconds_count{}')" $(( epochs - 1 ))
eq "commit histogram +Inf" "$(val "$F" 'shopstream_commit_duration_seconds_bucket{le="+Inf"}')" $(( epochs - 1 ))
awk '/^shopstream_commit_duration_seconds_bucket/ { if ($NF < prev) bad = 1; prev = $NF } END { exit bad }' "$F" \
    || check_failed "commit histogram buckets are not cumulative"
# each sink's commits (the engine's timing, per sink): one per epoch but the last, as above
for sk in jsonl metrics; do
    eq "sink commit count{sink=$sk}" "$(val "$F" "shopstream_sink_commit_duration_seconds_count{sink=\"$sk\"}")" $(( epochs - 1 ))
done
# operator state: live mid-run, all of it evicted once the bounded run has ended
[ "$(val "$T/mid.parsed" 'shopstream_state_keys{operator="sessions"}')" -gt 0 ] 2>/dev/null ||
    check_failed "mid-run: no live sessions in shopstream_state_keys"
for op in dedup category_revenue hourly_sales trending funnel sessions promo_join alerts recently_viewed; do
    eq "final state_keys{operator=$op}" "$(val "$F" "shopstream_state_keys{operator=\"$op\"}")" 0
done
# counters never go down between the mid-run and the final scrape
while read -r k v; do
    case "$k" in *_total*) fv=$(val "$F" "$k"); [ -n "$fv" ] && [ "$fv" -ge "$v" ] || check_failed "$k went from $v to '$fv'" ;; esac
done < <(awk '{ v = $NF; $NF = ""; sub(/ $/, ""); print $0, v }' "$T/mid.parsed")

# the JSON API against the files
"$PY" - "$T/stats.json" "$T/alerts.json" "$T/quality.json" "$OUT" "$F" "$T/windows.json" <<'PYEOF' || check_failed "JSON API differs from the outputs"
import json, sys
stats_f, alerts_f, quality_f, out, parsed, windows_f = sys.argv[1:]
def body(f):
    status, text = open(f).read().split("\n", 1)
    return int(status), json.loads(text)
ok = True
def expect(what, got, want):
    global ok
    if got != want:
        print("    %s: got %r, want %r" % (what, got, want)); ok = False
s_status, st = body(stats_f)
expect("/api/stats status", s_status, 200)
expect("complete", st["complete"], True)
expect("watermark", st["watermark"], "+inf")
dlq = [json.loads(l) for l in open(out + "/dlq.jsonl")]
expect("invalid", st["invalid"], len(dlq))
expect("late", st["late"], sum(1 for _ in open(out + "/late.jsonl")))
expect("records", st["records"], st["valid"] + st["invalid"])
stdin = [p for p in st["positions"] if p["source"] == "-"]
expect("stdin positions", len(stdin), 1)
expect("stdin lag", stdin[0]["lag"], None)
a_status, alerts = body(alerts_f)
want = [json.loads(l) for l in open(out + "/alerts.jsonl")][-100:]
expect("/api/alerts status", a_status, 200)
expect("/api/alerts (last 100 of alerts.jsonl)", alerts, want)
q_status, q = body(quality_f)
dq = [json.loads(l) for l in open(out + "/data_quality.jsonl")]
expect("/api/quality status", q_status, 200)
expect("/api/quality (last data_quality row)", q, dq[-1])
# /api/windows: the three newest windows of each windowed table, final at the end, each
# with the rows the table's file has for that window, in its order
w_status, windows = body(windows_f)
expect("/api/windows status", w_status, 200)
for table, shown in windows.items():
    rows = [json.loads(l) for l in open("%s/%s.jsonl" % (out, table))]
    starts = sorted({r["window_start"] for r in rows}, reverse=True)[:3]
    want = [{"window_start": s, "final": True, "rows": [r for r in rows if r["window_start"] == s]} for s in starts]
    expect("/api/windows %s" % table, shown, want)
print("    api: %d alerts, quality %s, epoch %d" % (len(alerts), q["quality_score"], st["epoch"]))
sys.exit(0 if ok else 1)
PYEOF
note "final: records=$(sum_of events) invalid=$(lines "$OUT/dlq.jsonl") late=$(lines "$OUT/late.jsonl") epochs=$epochs"
finish
