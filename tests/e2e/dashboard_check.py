"""dashboard_check.py URL OUT_DIR EVENTS [SHOTS_DIR] — the dashboard in headless Chromium
against a live run (e2e 0502): what the page shows equals the API answers it was given
and, once the run is complete, the JSONL files.

The page's API requests are held (cdp.Page.step_poll): each poll is let through whole,
then the DOM is read before the next one may start, so every figure on the page is
compared with the very answers that poll received. The expected text is computed here
from those answers, independently of the page's JavaScript: integers grouped by
thousands, money strings grouped as text, ratios as percentages, times as UTC.
Exits 1 naming each difference.
"""
import calendar
import datetime
import json
import os
import sys
from decimal import ROUND_HALF_UP, Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402

URL, OUT, EVENTS = sys.argv[1], sys.argv[2], int(sys.argv[3])
SHOTS = sys.argv[4] if len(sys.argv) > 4 else None
TABLES = {"cr": "category_revenue", "tp": "trending_products", "fn": "funnel", "hs": "hourly_sales"}
failures = []


def expect(what, got, want):
    if got != want:
        failures.append(what)
        print("    %s:\n      page: %r\n      want: %r" % (what, got, want))


def num(v):
    return "–" if v is None else "{:,}".format(v)


def money(s):
    if s is None:
        return "–"
    sign, s = ("-", s[1:]) if s.startswith("-") else ("", s)
    i, _, f = s.partition(".")
    return sign + "{:,}".format(int(i)) + ("." + f if f else "")


def pct(r):
    return "–" if r is None else "%.2f %%" % (100 * r)


def ms(iso):
    """2026-11-24T08:42:05.467Z -> ms since the epoch"""
    day = datetime.datetime.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return calendar.timegm(day.timetuple()) * 1000 + int(iso[20:23])


def mib(n):
    """n / 2^20 to 1 place as JavaScript's toFixed rounds it: a tie (n / 2^20 is exact)
    goes up"""
    return str((Decimal(n) / Decimal(1048576)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def utc(iso):
    if not iso:
        return "–"
    t = iso.replace("T", " ")
    t = t[:-5] if t.endswith(".000Z") else t[:-1] if t.endswith("Z") else t
    return t + " UTC"


def total(rows, *cols):
    """the all-categories row: revenue summed exactly, counts summed"""
    return ["all categories", money(str(sum(Decimal(r["revenue"]) for r in rows)))] + \
        [num(sum(r[c] for r in rows)) for c in cols] + [""]


def row_cells(key, r):
    if key == "cr":
        return [r["category"], money(r["revenue"]), num(r["orders"]), num(r["units"]), num(r["views"]),
                num(r["cart_adds"]), num(r["buyers"])]
    if key == "tp":
        return [str(r["rank"]), r["product_id"], num(r["views"]), num(r["cart_adds"]), num(r["purchases"]),
                money(r["revenue"])]
    if key == "fn":
        return [num(r["viewers"]), num(r["carters"]), num(r["buyers"]), pct(r["view_to_cart"]),
                pct(r["cart_to_purchase"])]
    return [r["category"], money(r["revenue"]), num(r["orders"]), num(r["units"]), num(r["buyers"])]


def want_rows(key, rows):
    out = [row_cells(key, r) for r in rows]
    if key == "cr" and rows:
        out.append(total(rows, "orders", "units", "views", "cart_adds"))
    if key == "hs" and rows:
        out.append(total(rows, "orders", "units"))
    return out or [["no rows yet"]]


SNAPSHOT_JS = """(() => {
  const rows = (id) => [...document.querySelectorAll("#" + id + " tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent));
  const text = (id) => document.getElementById(id).textContent;
  const out = {};
  for (const id of ["epoch", "watermark", "records", "invalid", "late", "duplicates", "quality", "rate", "state"]) out[id] = text(id);
  for (const id of ["reasons", "positions", "sinks", "opstate", "alerts", "cr", "tp", "fn", "hs"]) out[id + "_rows"] = rows(id);
  for (const k of ["cr", "tp", "fn", "hs"]) {
    const el = document.getElementById(k + "-when");
    out[k + "_tabs"] = [...el.querySelectorAll(".tabs button")].map((b) => [b.textContent, b.getAttribute("aria-pressed"), b.dataset.start]);
    const span = el.querySelector(".span"), badge = el.querySelector(".badge"), note = el.querySelector(".note");
    out[k + "_span"] = span ? span.textContent : null;
    out[k + "_badge"] = badge ? badge.textContent : null;
    out[k + "_note"] = note ? note.textContent : null;
  }
  return out;
})()"""


class Checker:
    def __init__(self, page):
        self.page = page
        self.last = None  # (records, commit time) as the page keeps it, for records/s

    def poll(self):
        """one poll let through; its answers parsed; the page as it left it"""
        answers = self.page.step_poll()
        a = {}
        for path, (status, text) in answers.items():
            if status != 200:
                failures.append(path)
                print("    %s answered %s: %s" % (path, status, text[:200]))
            a[path] = json.loads(text)
        return a, self.page.js(SNAPSHOT_JS)

    def check(self, when, a, d):
        """every figure of snapshot d against the poll's answers a"""
        s, w, alerts = a["/api/stats"], a["/api/windows"], a["/api/alerts"]
        expect(when + ": state", d["state"], "run complete" if s["complete"] else "running")
        for k in ("epoch", "records", "invalid", "late", "duplicates"):
            expect(when + ": " + k, d[k], num(s[k]))
        expect(when + ": watermark", d["watermark"], utc(s["watermark"]) if s["watermark_ms"] is not None
               else "+∞ (all input read)" if s["watermark"] == "+inf" else "none yet")
        # records/s: the records between the last two commits the page saw, over their times
        at = ms(s["last_commit"]) if s["last_commit"] else None
        if s["complete"]:
            expect(when + ": records/s", d["rate"], "0")
        elif self.last and at is not None and self.last[1] is not None and at > self.last[1]:
            rate = max(0.0, (s["records"] - self.last[0]) * 1000 / (at - self.last[1]))
            expect(when + ": records/s", d["rate"], num(int(rate + 0.5)))
        if not self.last or at != self.last[1]:
            self.last = (s["records"], at)
        expect(when + ": dead letter reasons", d["reasons_rows"],
               [[k.replace("_", " "), num(n)] for k, n in s["invalid_by_reason"].items() if n > 0] or [["no rows yet"]])
        expect(when + ": partitions", d["positions_rows"],
               [[p["source"], str(p["partition"]), num(p["next_offset"]), num(p["lag"]), utc(p["max_ts"])]
                for p in s["positions"]] or [["no rows yet"]])
        expect(when + ": sinks", d["sinks_rows"], [[k["sink"], num(k["last_commit_ms"])] for k in s["sinks"]])
        expect(when + ": operator state", d["opstate_rows"],
               [[o["operator"], num(o["keys"]), mib(o["bytes"])] for o in s["state"]])
        last20 = sorted(alerts[-20:], key=lambda x: x["ts"], reverse=True)
        expect(when + ": alerts", d["alerts_rows"],
               [[utc(x["ts"]), x["kind"].replace("_", " "), x["user_id"], money(x["amount"])] for x in last20]
               or [["no rows yet"]])
        if "/api/quality" in a:
            expect(when + ": quality", d["quality"], "%.2f %%" % (100 * a["/api/quality"]["quality_score"]))
        shown = {}
        for key, table in TABLES.items():
            wins = w[table]
            win = next((x for x in wins if x["final"]), wins[0] if wins else None)
            shown[key] = win
            expect(when + ": %s tabs" % table, d[key + "_tabs"],
                   [[x["window_start"][11:16] + (" final" if x["final"] else " open"),
                     "true" if x is win else "false", x["window_start"]] for x in reversed(wins)])
            if win is None:
                continue
            end = win["rows"][0]["window_end"]
            expect(when + ": %s window" % table, (d[key + "_span"], d[key + "_badge"]),
                   (utc(win["window_start"])[:-4] + " – " + end[11:19] + " UTC",
                    "final" if win["final"] else "provisional"))
            expect(when + ": %s note" % table, d[key + "_note"] is not None, not win["final"])
            if not win["final"] and d[key + "_note"]:
                # an open window's note says which window is the last final one
                closed = next((x for x in wins if x["final"]), None)
                tail = ("the last final window is %s (green tab)" % closed["window_start"][11:16] if closed
                        else "no window of this table has closed yet")
                expect(when + ": %s note ends" % table, d[key + "_note"].endswith(tail), True)
            expect(when + ": %s rows of %s" % (table, win["window_start"]), d[key + "_rows"], want_rows(key, win["rows"]))
        return shown


def main():
    b = cdp.Browser(os.environ.get("CHROMIUM", "chromium"))
    try:
        page = b.page(1400, 900, hold=("/api/stats", "/api/windows", "/api/alerts", "/api/quality"))
        page.goto(URL + "/")
        ck = Checker(page)

        # --- mid-run: polls until one shows a final window next to open ones -----------
        mid_final, n = {}, 0
        while True:
            a, d = ck.poll()
            n += 1
            shown = ck.check("poll %d" % n, a, d)
            if a["/api/stats"]["complete"]:
                failures.append("mid-run")
                print("    the run completed before a poll showed a final window next to open ones")
                break
            cr = a["/api/windows"]["category_revenue"]
            if n >= 3 and any(x["final"] for x in cr) and not cr[0]["final"]:
                mid_final = {k: v for k, v in shown.items() if v and v["final"]}
                # a click on the newest open window's tab shows it, provisional
                page.js('document.querySelector(\'#cr-when button[data-start="%s"]\').click()' % cr[0]["window_start"])
                d = page.js(SNAPSHOT_JS)
                expect("open tab clicked: rows", d["cr_rows"], want_rows("cr", cr[0]["rows"]))
                expect("open tab clicked: badge", d["cr_badge"], "provisional")
                expect("open tab clicked: pressed", [t[1] for t in d["cr_tabs"]][-1], "true")
                closed = next(x for x in cr if x["final"])
                expect("open tab clicked: note", (d["cr_note"] or "").endswith(
                    "the last final window is %s (green tab)" % closed["window_start"][11:16]), True)
                if SHOTS:
                    page.screenshot(os.path.join(SHOTS, "dashboard-mid-run.png"))
                break
        print("    mid-run: %d polls compared; final windows shown: %s" % (
            n, ", ".join("%s %s" % (TABLES[k], v["window_start"]) for k, v in sorted(mid_final.items()))))

        # --- the end: a fresh page (no tab picked) once the run is complete -----------
        page.goto(URL + "/")
        ck.last = None
        while True:
            a, d = ck.poll()
            n += 1
            shown = ck.check("poll %d" % n, a, d)
            if a["/api/stats"]["complete"]:
                break
        expect("records shown at the end", d["records"], num(EVENTS))
        for key, table in TABLES.items():
            rows = [json.loads(line) for line in open(os.path.join(OUT, table + ".jsonl"), encoding="utf-8")]
            newest = max(r["window_start"] for r in rows)
            expect("end: %s shows its newest window" % table, shown[key] and shown[key]["window_start"], newest)
            expect("end: %s rows vs %s.jsonl" % (table, table), d[key + "_rows"],
                   want_rows(key, [r for r in rows if r["window_start"] == newest]))
            if key in mid_final:
                ws = mid_final[key]["window_start"]
                expect("mid-run final %s %s vs %s.jsonl" % (table, ws, table), mid_final[key]["rows"],
                       [r for r in rows if r["window_start"] == ws])

        # --- a recently-viewed lookup, typed and submitted as a user would ------------
        last = {}
        for line in open(os.path.join(OUT, "recently_viewed.jsonl"), encoding="utf-8"):
            r = json.loads(line)
            last[r["user_id"]] = r
        user, row = max(last.items(), key=lambda kv: (len(json.loads(kv[1]["products"])), kv[0]))
        page.js("document.getElementById('user').focus()")
        page.cmd("Input.insertText", {"text": user})
        page.js("document.querySelector('#user-form button').click()")
        page.until("the lookup's list", lambda: page.js("!!document.getElementById('user-products')"), 30)
        got = page.js("[document.querySelector('#user-result div').textContent,"
                      " [...document.querySelectorAll('#user-products li')].map((li) => li.textContent)]")
        expect("lookup %s" % user, got, ["%s, last view %s:" % (user, utc(row["last_view_ts"])), json.loads(row["products"])])
        api = [json.loads(t) for p, st, t in page.answers if p.startswith("/api/users/")]
        expect("lookup %s: the API's answer vs recently_viewed.jsonl" % user, api[-1:], [row])
        page.js("document.getElementById('user').value = 'no-such-user';"
                "document.querySelector('#user-form button').click()")
        page.until("the unknown user's answer shown", lambda: page.answers[-1][0].startswith("/api/users/no-such-user")
                   and page.js("!document.getElementById('user-products')"), 30)
        status, text = page.answers[-1][1:]
        expect("unknown user: status", status, 404)
        expect("unknown user: message shown", page.js("document.getElementById('user-result').textContent"),
               json.loads(text)["error"])
        if SHOTS:
            page.screenshot(os.path.join(SHOTS, "dashboard-end.png"))
        # the one failed load the page may report is that 404
        page.pump(0.2)
        problems = [p for p in page.problems if "/api/users/no-such-user/recently-viewed" not in p]
        expect("browser console: errors and warnings", problems, [])
        print("    end: %d polls compared in all; lookup %s: %d products; %d console problems" % (
            n, user, len(json.loads(row["products"])), len(problems)))
    finally:
        b.close()
    sys.exit(1 if failures else 0)


main()
