#!/usr/bin/env bash
# 0301 — `shopstream report --lake DIR`: generated data (with duplicates, late and invalid
# events) through the engine into a Parquet lake and JSONL at once; the report read back
# from the lake must equal an independent computation in Python: from the JSONL tables of
# the same run (hourly_sales, sessions, data_quality, dlq, late; themselves compared with
# the model first) and, for the figures of the lake-only events table (top products, funnel
# per day), from the accepted events of the independent model (model.py) over the same inputs. Exact equality for money and
# counts; averages and rates to the precision printed (half up). Then the CSV and table
# formats, and bad usage.
source "$(dirname "$0")/lib.sh"
need_bin
N=200000
[ "$E2E_QUICK" = 1 ] && N=30000

D=$T/gen
mkdir -p "$D"
"$SHOPSTREAM_BIN" produce --out-dir "$D" --events "$N" --seed 3 --duplicates 0.01 --late 0.01 --invalid 0.01 \
    2>"$T/produce.stderr" || { tail -n 20 "$T/produce.stderr" >&2; fail "shopstream produce failed"; }
I=(promotions="$D/promotions.jsonl" orders="$D/orders.csv" clicks="$D/clicks.jsonl")
A=(); for s in "${I[@]}"; do A+=(--input "$s"); done
LAKE=$T/lake
run_engine "$T/out" "${A[@]}" --sink "parquet:$LAKE"
# the JSONL tables the report is checked against must themselves be the model's
compare_with_model "$T/out" "${I[@]}"
[ -d "$LAKE/events" ] || fail "the parquet sink wrote no events table under $LAKE"

# 1. JSON: every figure against the independent computation
rc=0
"$SHOPSTREAM_BIN" report --lake "$LAKE" --format json >"$T/report.json" 2>"$T/report.stderr" || rc=$?
[ $rc -eq 0 ] || { cat "$T/report.stderr" >&2; fail "report --format json exited $rc"; }
[ -s "$T/report.stderr" ] && check_failed "report wrote to stderr without a terminal or --progress: $(head -c 300 "$T/report.stderr")"

"$PY" - "$E2E_DIR" "$T/report.json" "$T/out" "${I[@]}" <<'PYEOF' || check_failed "report figures differ from the independent computation"
import collections, json, sys
from decimal import Decimal
from fractions import Fraction

e2e, report_path, out = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, e2e)
import model

R = json.load(open(report_path), parse_float=Decimal)
bad = []
def check(what, got, want):
    if got != want:
        bad.append("%s: report %r, expected %r" % (what, got, want))

def load(t):
    try:
        return [json.loads(l) for l in open("%s/%s.jsonl" % (out, t)) if l.strip()]
    except FileNotFoundError:
        return []

def cents(money_text):            # "12.35" -> 1235, exactly
    d = Decimal(money_text) * 100
    assert d == d.to_integral_value(), money_text
    return int(d)

def money(c):                      # 1235 -> "12.35"
    sign = "-" if c < 0 else ""
    c = abs(c)
    return "%s%d.%02d" % (sign, c // 100, c % 100)

def rnd(num, den, places):         # exact, half up, as printed; None when den == 0
    if den == 0:
        return None
    unit = 10 ** places
    q = (num * unit * 2 + den) // (2 * den)
    return "%d.%0*d" % (q // unit, places, q % unit)

def dec(v):                        # a report number as printed
    return None if v is None else str(v)

def bkey(s):                       # byte order of product ids / categories
    return s.encode("utf-8", "surrogateescape")

# -- lake: row counts per table equal the JSONL tables of the same run
lake = {r["table"]: r for r in R["lake"]["tables"]}
for t in ("category_revenue", "hourly_sales", "trending_products", "funnel", "sessions", "promo_matches",
          "alerts", "data_quality", "dlq", "late"):
    check("lake rows of " + t, lake[t]["rows"], len(load(t)))

# -- category_daily from hourly_sales.jsonl
agg = collections.defaultdict(lambda: [0, 0, 0])
for r in load("hourly_sales"):
    assert r["final"] is True
    a = agg[(r["window_start"][:10], r["category"])]
    a[0] += cents(r["revenue"]); a[1] += r["orders"]; a[2] += r["units"]
rows = sorted(agg.items(), key=lambda kv: (kv[0][0], -kv[1][0], bkey(kv[0][1])))
want = [{"day": d, "category": c, "revenue": money(v[0]), "orders": v[1], "units": v[2]} for (d, c), v in rows]
check("category_daily.rows", R["category_daily"]["rows"], want)
tot = [sum(v[i] for v in agg.values()) for i in range(3)]
check("category_daily.total", R["category_daily"]["total"],
      {"day": "all", "category": "all", "revenue": money(tot[0]), "orders": tot[1], "units": tot[2]})
print("    category_daily: %d rows, revenue %s" % (len(want), money(tot[0])))

# -- the accepted events (the lake's events table), from the independent model
events = []
class Capture(model.Model):
    def on_event(self, e, p, W):
        events.append((e.type, e.ts, e.user_id, e.product_id, e.price, e.qty))
        return super().on_event(e, p, W)
cfg, inputs, _ = model.parse_args(sys.argv[4:])
Capture(cfg).run(inputs)
check("lake rows of events", lake["events"]["rows"], len(events))

def price_cents(p):                # DECIMAL(18,2) as the lake stores it: half away from zero
    q, r = divmod(abs(p), 100)
    if r >= 50:
        q += 1
    return q if p >= 0 else -q

prod = collections.defaultdict(lambda: [0, 0, 0, 0])   # revenue cents, orders, units, views
DAY = 86400000
days = collections.defaultdict(lambda: [set(), set(), set()])
overall = [set(), set(), set()]
bit = {"view": 0, "cart_add": 1, "purchase": 2}
for typ, ts, uid, pid, price, qty in events:
    if typ == "view":
        prod[pid][3] += 1
    elif typ == "purchase":
        prod[pid][0] += price_cents(price) * qty
        prod[pid][1] += 1
        prod[pid][2] += qty
    if typ in bit:
        days[ts // DAY][bit[typ]].add(uid)
        overall[bit[typ]].add(uid)

def top(key, cond):
    ps = sorted((p for p in prod if cond(prod[p])), key=lambda p: (-key(prod[p]), bkey(p)))[:10]
    return [{"rank": i + 1, "product_id": p, "revenue": money(prod[p][0]), "orders": prod[p][1],
             "units": prod[p][2], "views": prod[p][3]} for i, p in enumerate(ps)]
check("top_products_by_revenue", R["top_products_by_revenue"]["rows"], top(lambda a: a[0], lambda a: a[1] > 0))
check("top_products_by_views", R["top_products_by_views"]["rows"], top(lambda a: a[3], lambda a: a[3] > 0))

def day_text(d):
    y, m, dd = model.civil_from_days(d)
    return "%04d-%02d-%02d" % (y, m, dd)

def frow(day, s):
    v, c, b = (len(x) for x in s)
    return {"day": day, "viewers": v, "carters": c, "buyers": b, "view_to_cart": rnd(c, v, 4),
            "cart_to_purchase": rnd(b, c, 4)}
def as_printed(rows):
    return [dict(r, view_to_cart=dec(r["view_to_cart"]), cart_to_purchase=dec(r["cart_to_purchase"])) for r in rows]
check("funnel.days", as_printed(R["funnel"]["days"]), [frow(day_text(d), days[d]) for d in sorted(days)])
check("funnel.overall", as_printed([R["funnel"]["overall"]])[0], frow("all", overall))
print("    funnel: %d days, overall viewers %d carters %d buyers %d" % ((len(days),) + tuple(len(x) for x in overall)))

# -- sessions from sessions.jsonl
g = {True: [0, 0, 0, 0, 0], False: [0, 0, 0, 0, 0]}   # n, duration, views, events, revenue cents
for r in load("sessions"):
    a = g[r["converted"]]
    a[0] += 1; a[1] += r["duration_s"]; a[2] += r["views"]; a[3] += r["events"]; a[4] += cents(r["revenue"])
allg = [g[True][i] + g[False][i] for i in range(5)]
def grow(name, a):
    return {"group": name, "sessions": a[0], "share": rnd(a[0], allg[0], 4), "avg_duration_s": rnd(a[1], a[0], 2),
            "avg_views": rnd(a[2], a[0], 2), "avg_events": rnd(a[3], a[0], 2), "revenue": money(a[4])}
got = [dict(r, share=dec(r["share"]), avg_duration_s=dec(r["avg_duration_s"]), avg_views=dec(r["avg_views"]),
            avg_events=dec(r["avg_events"])) for r in R["sessions"]["groups"]]
check("sessions.groups", got, [grow("converters", g[True]), grow("non_converters", g[False]), grow("all", allg)])
c, n = g[True], g[False]
ratio = rnd(c[1] * n[0], n[1] * c[0], 2) if c[0] else None
s = R["sessions"]["summary"]
check("sessions.summary", {k: dec(v) if k in ("converted_share", "duration_ratio") else v for k, v in s.items()},
      {"sessions": allg[0], "converted": c[0], "converted_share": rnd(c[0], allg[0], 4), "duration_ratio": ratio})
print("    sessions: %d, converted %d, avg duration converters %s s vs %s s: ratio %s" % (
    allg[0], c[0], rnd(c[1], c[0], 2), rnd(n[1], n[0], 2), ratio))

# -- data quality from data_quality / dlq / late
cols = ("total", "valid", "malformed", "missing_field", "unknown_type", "bad_ts", "bad_amount", "late", "duplicates")
dq = {k: sum(r[k] for r in load("data_quality")) for k in cols}
dlq, late = load("dlq"), load("late")
want = dict(dq, invalid=dq["total"] - dq["valid"], quality_score=rnd(dq["valid"], dq["total"], 4),
            dlq_rows=len(dlq), late_rows=len(late))
got = dict(R["data_quality"]["totals"])
got["quality_score"] = dec(got["quality_score"])
check("data_quality.totals", got, want)
def counted(rows, key, name):
    cnt = collections.Counter(r[key] for r in rows)
    return [{name: k, "count": v} for k, v in sorted(cnt.items(), key=lambda kv: (-kv[1], bkey(kv[0])))]
check("data_quality.invalid_by_reason", R["data_quality"]["invalid_by_reason"], counted(dlq, "reason", "reason"))
check("data_quality.late_by_stream", R["data_quality"]["late_by_stream"], counted(late, "stream", "stream"))
if not (dq["late"] > 0 and dq["duplicates"] > 0 and dq["valid"] < dq["total"] and len(want) > 0):
    bad.append("the generated data does not exercise late, duplicate and invalid events: %r" % dq)
print("    data_quality:", {k: want[k] for k in ("total", "valid", "late", "duplicates", "quality_score")})

for b in bad:
    print("    " + b[:2000], file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF

# 2. CSV: parses; one block per JSON block, same values
rc=0
"$SHOPSTREAM_BIN" report --lake "$LAKE" --format csv >"$T/report.csv" 2>/dev/null || rc=$?
[ $rc -eq 0 ] || fail "report --format csv exited $rc"
"$PY" - "$T/report.json" "$T/report.csv" <<'PYEOF' || check_failed "CSV report does not match the JSON report"
import csv, io, json, sys
R = json.load(open(sys.argv[1]), parse_float=lambda t: t)
blocks = open(sys.argv[2]).read().rstrip("\n").split("\n\n")
want = []
for sec, body in R.items():
    for name, v in body.items():
        want.append(("%s.%s" % (sec, name), v if isinstance(v, list) else [v]))
bad = 0
if len(blocks) != len(want):
    print("    %d CSV blocks, %d JSON blocks" % (len(blocks), len(want))); sys.exit(1)
def text(v):
    return "" if v is None else str(v)
for blk, (name, rows) in zip(blocks, want):
    recs = list(csv.reader(io.StringIO(blk)))
    head, data = recs[0], recs[1:]
    if head[0] != "section" or len(data) != len(rows):
        print("    block %s: header %r, %d rows for %d" % (name, head, len(data), len(rows))); bad += 1; continue
    for rec, row in zip(data, rows):
        exp = [name] + [text(row[k]) for k in head[1:]]
        if rec != exp or list(row) != head[1:]:
            print("    block %s: %r != %r" % (name, rec, exp)); bad += 1; break
sys.exit(1 if bad else 0)
PYEOF

# 3. the default table: section titles, aligned columns
rc=0
"$SHOPSTREAM_BIN" report --lake "$LAKE" >"$T/report.txt" 2>/dev/null || rc=$?
[ $rc -eq 0 ] || fail "report (table) exited $rc"
"$PY" - "$T/report.json" "$T/report.txt" <<'PYEOF' || check_failed "table report is not aligned or lacks figures"
import json, sys
R = json.load(open(sys.argv[1]))
lines = open(sys.argv[2]).read().split("\n")
bad = []
# groups of lines between blank lines; drop titles (underlined with '=') and block names
groups, cur = [], []
for i, l in enumerate(lines):
    if not l:
        if cur: groups.append(cur)
        cur = []
        continue
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    if nxt and set(nxt) == {"="}:
        if len(nxt) != len(l): bad.append("underline of %r" % l)
        continue
    if set(l) == {"="} or (" " not in l.strip()):
        continue
    cur.append(l)
if cur: groups.append(cur)
for gr in groups:
    if len({len(l) for l in gr}) != 1:
        bad.append("lines of unequal width: " + " | ".join(gr[:3]))
text = "\n".join(lines)
for title in ("per category per day", "Top products by revenue", "Top products by views", "Funnel",
              "converters", "Data quality"):
    if title not in text: bad.append("no section " + title)
tot = R["category_daily"]["total"]
if not any(l.split()[:2] == ["all", "all"] and tot["revenue"] in l.split() for l in lines):
    bad.append("no total line with revenue " + tot["revenue"])
hdr = [l for l in lines if l.split()[:2] == ["day", "category"]]
if not hdr or hdr[0].split() != ["day", "category", "revenue", "orders", "units"]:
    bad.append("category header %r" % hdr[:1])
for b in bad: print("    " + b)
print("    table: %d aligned blocks" % len(groups))
sys.exit(1 if bad else 0)
PYEOF

# 4. bad usage and a missing lake
rc=0; "$SHOPSTREAM_BIN" report --lake "$T/nonexistent" >/dev/null 2>"$T/e1" || rc=$?
[ $rc -eq 1 ] || check_failed "missing lake: exit $rc, expected 1"
[ "$(wc -l <"$T/e1")" -eq 1 ] && grep -q "$T/nonexistent" "$T/e1" || check_failed "missing lake: want one line naming it, got: $(cat "$T/e1")"
rc=0; "$SHOPSTREAM_BIN" report --lake "$LAKE" --bogus >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || check_failed "bad flag: exit $rc, expected 2"
rc=0; "$SHOPSTREAM_BIN" report --lake "$LAKE" --format xml >/dev/null 2>"$T/e2" || rc=$?
[ $rc -eq 2 ] && grep -q xml "$T/e2" || check_failed "bad --format: exit $rc, expected 2 naming the value"
rc=0; "$SHOPSTREAM_BIN" report >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || check_failed "no --lake: exit $rc, expected 2"
mkdir -p "$T/empty"
rc=0; "$SHOPSTREAM_BIN" report --lake "$T/empty" >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || check_failed "a directory that is no lake: exit $rc, expected 1"
# progress on request
rc=0; "$SHOPSTREAM_BIN" report --lake "$LAKE" --progress --format json >/dev/null 2>"$T/e4" || rc=$?
grep -q "rows/s" "$T/e4" || check_failed "--progress printed no progress: $(head -c 200 "$T/e4")"
# sums beyond int64 ten-thousandths: two orders of 500000000000000.00 (each fits a row: 5e18
# ten-thousandths) in two hours, by two users, of one product. Every total is
# 1000000000000000.00; the sums wrapped around to negative amounts before.
BIG=$T/big
mkdir -p "$BIG"
printf '%s\n' 'order_id,customer_id,product_id,category,price,quantity,order_ts' \
    'B1,U1,P1,c,500000000000000.00,1,2026-11-27T10:00:00Z' 'B2,U2,P1,c,500000000000000.00,1,2026-11-27T11:00:00Z' \
    >"$BIG/orders.csv"
run_engine "$BIG/out" --input orders="$BIG/orders.csv" --sink "parquet:$BIG/lake"
rc=0; "$SHOPSTREAM_BIN" report --lake "$BIG/lake" --format json >"$BIG/report.json" 2>"$BIG/report.stderr" || rc=$?
[ $rc -eq 0 ] || check_failed "report over the lake of two large orders: exit $rc: $(head -c 300 "$BIG/report.stderr")"
"$PY" - "$BIG/report.json" <<'PYEOF' || check_failed "report sums beyond int64 (above)"
import json, sys
r = json.load(open(sys.argv[1]))
want = "1000000000000000.00"
got = {"category_daily total": [r["category_daily"]["total"]["revenue"]],
       "top product P1": [x["revenue"] for x in r["top_products_by_revenue"]["rows"] if x["product_id"] == "P1"],
       "converters' sessions": [x["revenue"] for x in r["sessions"]["groups"] if x["group"] == "converters"]}
bad = {k: v for k, v in got.items() if v != [want]}
for k, v in bad.items():
    print("    %s: revenue %s, expected %s" % (k, v, want))
sys.exit(1 if bad else 0)
PYEOF
# a corrupt file is refused by name
f=$(find "$LAKE/sessions" -name '*.parquet' | head -n 1)
head -c 100 "$f" > "$f.x" && mv "$f.x" "$f"
rc=0; "$SHOPSTREAM_BIN" report --lake "$LAKE" >/dev/null 2>"$T/e3" || rc=$?
[ $rc -eq 1 ] && grep -q "$f" "$T/e3" || check_failed "corrupt file: exit $rc, want 1 naming $f: $(cat "$T/e3")"
finish
