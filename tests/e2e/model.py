#!/usr/bin/env python3
"""model.py — the independent reference computation of docs/SEMANTICS.md.

The end-to-end tests run build/shopstream over some inputs and compare every output
table with what this model computes from the same inputs. It is written only from
docs/SEMANTICS.md and shared/DESIGN.md, directly and without cleverness, so that a
disagreement points at a real defect on one side.

Why the model may compute some results "at the end" although the engine emits them
as the watermark W moves: a window or session is emitted only when no on-time event
can still change it (a window when end <= W, a session when end + gap < W, and every
accepted event has ts >= W). So the final window rows are the aggregates over all
accepted events, and the final sessions are the gap-sessionization of each user's
accepted events. What does depend on W or on arrival order — lateness, the join
(held clicks expire by max_ts of their partition), velocity alerts (purchases seen so
far), the recently-viewed TTL — is simulated record by record, as §3 says.

Usage as a program:
    model.py [--set key=value]... [--format json|csv] [--stdin FILE] STREAM=PATH... [--out DIR]
writes DIR/<table>.jsonl (expected rows) or prints row counts.
"""
import bisect
import glob
import gzip
import json
import os
import re
import sys
from decimal import Decimal, InvalidOperation

NEG = -(1 << 80)  # -infinity for timestamps / watermark
POS = 1 << 80     # +infinity
SCALE = 10000     # money: int ten-thousandths

TABLES = ["category_revenue", "hourly_sales", "trending_products", "funnel", "sessions",
          "promo_matches", "alerts", "data_quality", "recently_viewed", "dlq", "late"]

COLUMNS = {
    "category_revenue": ["window_start", "category", "window_end", "revenue", "orders", "units",
                         "views", "cart_adds", "buyers", "final"],
    "hourly_sales": ["window_start", "category", "window_end", "revenue", "orders", "units",
                     "buyers", "final"],
    "trending_products": ["window_start", "product_id", "window_end", "rank", "views", "cart_adds",
                          "purchases", "revenue", "final"],
    "funnel": ["window_start", "window_end", "viewers", "carters", "buyers", "view_to_cart",
               "cart_to_purchase", "final"],
    "sessions": ["user_id", "session_start", "session_end", "duration_s", "events", "views",
                 "cart_adds", "purchases", "revenue", "converted"],
    "promo_matches": ["event_id", "promo_id", "user_id", "product_id", "discount_pct", "click_ts"],
    "alerts": ["alert_id", "kind", "user_id", "order_id", "amount", "ts", "detail"],
    "data_quality": ["minute_start", "total", "valid", "malformed", "missing_field", "unknown_type",
                     "bad_ts", "bad_amount", "late", "duplicates", "quality_score"],
    "recently_viewed": ["user_id", "products", "last_view_ts"],
    "dlq": ["reason", "stream", "source", "partition", "offset", "record"],
    "late": ["stream", "source", "partition", "offset", "ts", "watermark", "record"],
}
JSON_COLUMNS = {("alerts", "detail"), ("recently_viewed", "products")}

# primary keys (DESIGN §5); dlq / late by their origin
KEYS = {
    "category_revenue": ["window_start", "category"],
    "hourly_sales": ["window_start", "category"],
    "trending_products": ["window_start", "product_id"],
    "funnel": ["window_start"],
    "sessions": ["user_id", "session_start"],
    "promo_matches": ["event_id", "promo_id"],
    "alerts": ["alert_id"],
    "data_quality": ["minute_start"],
    "recently_viewed": ["user_id"],
    "dlq": ["source", "partition", "offset"],
    "late": ["source", "partition", "offset"],
}
WINDOWED = {"category_revenue", "hourly_sales", "trending_products", "funnel"}


class Num:
    """A JSON number kept as its exact source text (so that exactness and encoding
    can both be checked)."""
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __eq__(self, other):
        return isinstance(other, Num) and other.text == self.text

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(("Num", self.text))

    def __repr__(self):
        return self.text

    def is_int(self):
        return re.fullmatch(r"-?[0-9]+", self.text) is not None


def _no_constant(name):
    raise ValueError("not JSON: " + name)


def json_loads_exact(text):
    return json.loads(text, parse_float=Num, parse_int=Num, parse_constant=_no_constant)


# ---------------------------------------------------------------- configuration

def parse_duration(s):
    s = s.strip()
    m = re.fullmatch(r"([0-9]+)(ms|s|m|min|h|d)?", s)
    if not m:
        raise ValueError("bad duration: %r" % s)
    n = int(m.group(1))
    mult = {None: 1, "ms": 1, "s": 1000, "m": 60000, "min": 60000, "h": 3600000, "d": 86400000}
    return n * mult[m.group(2)]


def parse_money_cfg(s):
    v = parse_money_text(s.strip())
    if v is None:
        raise ValueError("bad money: %r" % s)
    return v


class Config:
    def __init__(self):
        self.lateness = 15 * 60000
        self.gap = 30 * 60000
        self.grace = 2 * 60000
        self.cr = 60000
        self.hs = 3600000
        self.tr_size = 10 * 60000
        self.tr_slide = 60000
        self.tr_top = 20
        self.funnel = 3600000
        self.hv_threshold = 1000 * SCALE
        self.vel_count = 5
        self.vel_range = 10 * 60000
        self.recent_size = 20
        self.recent_ttl = 24 * 3600000
        self.max_record = 16 << 20

    KEYMAP = {
        "lateness": ("lateness", parse_duration),
        "sessions.gap": ("gap", parse_duration),
        "join.grace": ("grace", parse_duration),
        "windows.category_revenue": ("cr", parse_duration),
        "windows.hourly_sales": ("hs", parse_duration),
        "windows.trending.size": ("tr_size", parse_duration),
        "windows.trending.slide": ("tr_slide", parse_duration),
        "windows.trending.top": ("tr_top", int),
        "windows.funnel": ("funnel", parse_duration),
        "alerts.high_value.threshold": ("hv_threshold", parse_money_cfg),
        "alerts.velocity.count": ("vel_count", int),
        "alerts.velocity.range": ("vel_range", parse_duration),
        "recent.size": ("recent_size", int),
        "recent.ttl": ("recent_ttl", parse_duration),
        "input.max_record_bytes": ("max_record", int),
    }

    def set(self, key, value):
        if key not in self.KEYMAP:
            raise KeyError("model: unknown config key %r" % key)
        attr, conv = self.KEYMAP[key]
        setattr(self, attr, conv(value))


# ---------------------------------------------------------------- value parsing

def days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    z += 719468
    era = z // 146097  # Python's // floors already (C's z - 146096 would count twice)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d


def days_in_month(y, m):
    if m == 2:
        leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
        return 29 if leap else 28
    return 30 if m in (4, 6, 9, 11) else 31


ISO_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
                    r"(?:\.([0-9]+))?(Z|[+-][0-9]{2}:?[0-9]{2})")
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def in_ts_range(ms):
    """§2 bad_ts: only the instants from 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z."""
    lo = days_from_civil(0, 1, 1) * 86400000
    hi = days_from_civil(10000, 1, 1) * 86400000 - 1
    return ms if lo <= ms <= hi else None


def parse_ts(val):
    """val is (text, kind) with kind 'str' | 'num' | 'other'. Returns ms or None."""
    text, kind = val
    if kind not in ("num", "str"):
        return None
    if re.fullmatch(r"-?[0-9]+", text):
        return in_ts_range(int(text))
    if kind != "str":
        return None
    m = ISO_RE.fullmatch(text)
    if not m:
        return None
    y, mo, d, hh, mi, ss = (int(m.group(i)) for i in range(1, 7))
    if not (1 <= mo <= 12 and 1 <= d <= days_in_month(y, mo) and hh <= 23 and mi <= 59 and ss <= 59):
        return None
    frac = m.group(7) or ""
    ms = int((frac + "000")[:3])
    zone = m.group(8)
    off = 0
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        oh, om = int(digits[:2]), int(digits[2:])
        if oh > 23 or om > 59:
            return None
        off = sign * (oh * 3600 + om * 60) * 1000
    return in_ts_range(((days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss) * 1000 + ms) - off)


MONEY_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def parse_money_text(text):
    if not MONEY_RE.fullmatch(text):
        return None
    try:
        d = Decimal(text) * SCALE
    except InvalidOperation:
        return None
    if d != d.to_integral_value():
        return None  # more than 4 fractional digits that are not zero
    v = int(d)
    return v if INT64_MIN <= v <= INT64_MAX else None


def parse_money(val):
    text, kind = val
    if kind not in ("str", "num"):
        return None
    return parse_money_text(text)


def parse_quantity(val):
    text, kind = val
    if kind == "num":
        ok = re.fullmatch(r"-?[0-9]+", text)
    elif kind == "str":
        ok = re.fullmatch(r"[0-9]+", text)
    else:
        ok = None
    if not ok:
        return None
    v = int(text)
    return v if -(1 << 31) <= v < (1 << 31) else None


# ---------------------------------------------------------------- decoding (§2)

# canonical field -> input name, per stream
FIELDS = {
    "clicks": [("event_id", "event_id"), ("event_type", "event_type"), ("user_id", "user_id"),
               ("session_id", "session_id"), ("product_id", "product_id"), ("category", "category"),
               ("price", "price"), ("quantity", "quantity"), ("order_id", "order_id"), ("ts", "ts")],
    "orders": [("order_id", "order_id"), ("user_id", "customer_id"), ("product_id", "product_id"),
               ("category", "category"), ("price", "price"), ("quantity", "quantity"),
               ("ts", "order_ts")],
    "promotions": [("promo_id", "promo_id"), ("product_id", "product_id"),
                   ("discount_pct", "discount_pct"), ("starts_at", "starts_at"),
                   ("ends_at", "ends_at"), ("ts", "ts")],
}
REQUIRED = {
    "clicks": ["event_id", "event_type", "user_id", "product_id", "ts"],
    "orders": ["order_id", "user_id", "product_id", "price", "ts"],
    "promotions": ["promo_id", "product_id", "discount_pct", "starts_at", "ends_at", "ts"],
}
TYPES = ("view", "cart_add", "cart_remove", "purchase")


class Event:
    __slots__ = ("stream", "type", "ts", "price", "qty", "event_id", "user_id", "product_id",
                 "category", "order_id", "promo_id", "discount", "starts_at", "ends_at", "amount")


def validate(stream, f):
    """f maps canonical field -> (text, kind) or None (missing). Returns (reason, Event)."""
    for name in REQUIRED[stream]:
        if f.get(name) is None:
            return "missing_" + name, None
    ev = Event()
    ev.stream = stream
    if stream == "clicks":
        ev.type = f["event_type"][0]
        if ev.type not in TYPES:
            return "unknown_type", None
        if ev.type == "purchase" and f.get("price") is None:
            return "missing_price", None
    elif stream == "orders":
        ev.type = "purchase"
    else:
        ev.type = "promotion"
    ts = parse_ts(f["ts"])
    if ts is None:
        return "bad_ts", None
    ev.ts = ts
    if stream == "promotions":
        ev.starts_at = parse_ts(f["starts_at"])
        ev.ends_at = parse_ts(f["ends_at"])
        if ev.starts_at is None or ev.ends_at is None:
            return "bad_ts", None
        disc = parse_money(f["discount_pct"])
        if disc is None or disc < 0 or disc > 100 * SCALE:
            return "bad_amount", None
        ev.promo_id = f["promo_id"][0]
        ev.product_id = f["product_id"][0]
        ev.discount = disc
        return None, ev
    price = None
    if f.get("price") is not None:
        price = parse_money(f["price"])
        if price is None:
            return "bad_amount", None
    qty = 1
    if f.get("quantity") is not None:
        qty = parse_quantity(f["quantity"])
        if qty is None:
            return "bad_amount", None
    if ev.type == "purchase" and (price < 0 or qty <= 0 or price * qty > INT64_MAX):
        return "bad_amount", None
    ev.price = price
    ev.qty = qty
    ev.amount = price * qty if ev.type == "purchase" else 0
    if stream == "orders":
        ev.event_id = f["order_id"][0]
        ev.order_id = f["order_id"][0]
    else:
        ev.event_id = f["event_id"][0]
        ev.order_id = f["order_id"][0] if f.get("order_id") is not None else None
    ev.user_id = f["user_id"][0]
    ev.product_id = f["product_id"][0]
    ev.category = f["category"][0] if f.get("category") is not None else ""
    return None, ev


def json_value(v):
    """A JSON value of a known field -> (text, kind), None (missing), or 'malformed'."""
    if v is None:
        return None
    if isinstance(v, (dict, list)):
        return "malformed"
    if isinstance(v, Num):
        return (v.text, "num")
    if isinstance(v, bool):
        return ("true" if v else "false", "other")
    if v == "":
        return None
    return (v, "str")


ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)")


def lone_surrogate_escape(line):
    """True when a \\u escape anywhere in the (syntactically valid) record is a high
    surrogate not followed by a \\u low surrogate, or a low surrogate without a high one
    before it: such a string has no UTF-8 form (§2 malformed), yet json.loads accepts it.
    The escapes themselves are inspected, not the decoded strings."""
    pending = None  # end of a high surrogate escape waiting for its low half
    for m in ESCAPE.finditer(line):
        u = int(m.group(1), 16) if m.group(1) else None
        is_low = u is not None and 0xDC00 <= u <= 0xDFFF
        if pending is not None:
            if not (is_low and m.start() == pending):
                return True
            pending = None
            continue
        if is_low:
            return True
        if u is not None and 0xD800 <= u <= 0xDBFF:
            pending = m.end()
    return pending is not None


def nul_escape(line):
    """True when a \\u0000 escape is anywhere in the record (§2 malformed: PostgreSQL's
    text cannot hold NUL), in a field read or not, a key or a value."""
    return any(m.group(1) and int(m.group(1), 16) == 0 for m in ESCAPE.finditer(line))


def json_fields(stream, line):
    """A JSON record -> its fields for validate, or 'malformed'."""
    try:
        obj = json_loads_exact(line)
    except (ValueError, RecursionError):
        return "malformed"
    if not isinstance(obj, dict):
        return "malformed"
    if lone_surrogate_escape(line) or nul_escape(line):
        return "malformed"
    f = {}
    for canon, name in FIELDS[stream]:
        v = json_value(obj.get(name))
        if v == "malformed":
            return "malformed"
        f[canon] = v
    return f


def decode_json(stream, line):
    f = json_fields(stream, line)
    if f == "malformed":
        return "malformed", None
    return validate(stream, f)


def record_user(stream, line):
    """The user a JSON record names, valid or not (§11: the key of its dead-letter or
    late message): the user_id field's text when the record is not malformed and has
    one, else None."""
    f = json_fields(stream, line)
    if f == "malformed" or f.get("user_id") is None:
        return None
    return f["user_id"][0]


def split_csv(line):
    """One CSV line (RFC 4180 quoting, no embedded newlines) -> list of str, or None."""
    out = []
    i, n = 0, len(line)
    while True:
        if i < n and line[i] == '"':
            i += 1
            buf = []
            while True:
                j = line.find('"', i)
                if j < 0:
                    return None  # unterminated quote
                buf.append(line[i:j])
                if j + 1 < n and line[j + 1] == '"':
                    buf.append('"')
                    i = j + 2
                    continue
                i = j + 1
                break
            out.append("".join(buf))
            if i == n:
                return out
            if line[i] != ",":
                return None
            i += 1
        else:
            j = line.find(",", i)
            if j < 0:
                out.append(line[i:])
                return out
            out.append(line[i:j])
            i = j + 1


class CsvDecoder:
    def __init__(self, stream):
        self.stream = stream
        self.header = None
        self.pos = {}

    def set_header(self, line):
        if line.startswith("\ufeff"):  # a UTF-8 byte order mark (§2)
            line = line[1:]
        cols = split_csv(line) or []
        self.header = cols
        self.pos = {}
        for i, c in enumerate(cols):
            self.pos[c] = i  # a repeated name: the last wins, as for JSON keys

    def decode(self, line):
        cols = split_csv(line)
        if cols is None or len(cols) != len(self.header) or "\0" in line:
            return "malformed", None
        f = {}
        for canon, name in FIELDS[self.stream]:
            i = self.pos.get(name)
            if i is None or cols[i] == "":
                f[canon] = None
            else:
                f[canon] = (cols[i], "str")
        return validate(self.stream, f)


# ---------------------------------------------------------------- encodings (§11)

def fmt_ts(ms):
    days, rem = divmod(ms, 86400000)
    y, m, d = civil_from_days(days)
    hh, rem = divmod(rem, 3600000)
    mi, rem = divmod(rem, 60000)
    ss, mss = divmod(rem, 1000)
    # a year before 0000 (a sliding window that opens before the earliest valid ts) is
    # "-0001": ISO 8601's signed year, four digits after the sign
    year = "-%04d" % -y if y < 0 else "%04d" % y
    return "%s-%02d-%02dT%02d:%02d:%02d.%03dZ" % (year, m, d, hh, mi, ss, mss)


def fmt_money(v):
    """ten-thousandths -> 2 decimals, half away from zero."""
    neg = v < 0
    cents = (abs(v) + 50) // 100
    s = "%d.%02d" % (cents // 100, cents % 100)
    return "-" + s if neg and cents else s


def ratio(num, den):
    """num/den rounded half up to 4 decimals, as a JSON number; None when den is 0."""
    if den == 0:
        return None
    t = (2 * num * 10000 + den) // (2 * den)
    return Num("%d.%04d" % (t // 10000, t % 10000))


# ---------------------------------------------------------------- the run

class Input:
    def __init__(self, stream, path, source=None, fmt=None):
        self.stream = stream
        self.path = path          # where the model reads the bytes
        self.source = source if source is not None else path  # what the engine reports
        self.fmt = fmt            # 'json' | 'csv'


def input_files(path):
    """The files an input path names (src/source/input_files.c): itself when it exists and
    is no directory; else a directory's regular files whose names do not start with a dot,
    or the regular files a glob pattern matches; in byte order of their paths."""
    if path == "-" or (os.path.exists(path) and not os.path.isdir(path)):
        return [path]
    if os.path.isdir(path):
        pattern = path.rstrip("/") + "/*"
    elif any(c in path for c in "*?["):
        pattern = path
    else:
        return [path]
    return sorted((f for f in glob.glob(pattern) if os.path.isfile(f)), key=os.fsencode)


def read_lines(path):
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:2] == b"\x1f\x8b":  # gzip, told by its first bytes as the engine does
        data = gzip.decompress(data)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for i, raw in enumerate(lines, 1):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        yield i, raw


class Model:
    def __init__(self, cfg=None):
        self.cfg = cfg or Config()
        c = self.cfg
        self.W = NEG
        self.dq = dict(total=0, valid=0, malformed=0, missing_field=0, unknown_type=0, bad_ts=0,
                       bad_amount=0, late=0, duplicates=0)
        self.dlq = []
        self.late = []
        self.seen_events = {}  # id -> ts of its first accepted occurrence (§3 step 3)
        self.seen_promos = {}
        self.cr = {}      # (start, cat) -> [revenue, orders, units, views, carts, buyers set]
        self.hs = {}      # (start, cat) -> [revenue, orders, units, buyers set]
        self.tr = {}      # (start, pid) -> [views, carts, purchases, revenue]
        self.fn = {}      # start -> [viewers, carters, buyers] sets
        self.user_events = {}   # user -> [(ts, type, amount)]
        self.promos = {}  # product -> [promotion events]
        self.clicks = {}  # product -> [(ts, event_id, user_id, partition)]
        self.matches = {}
        self.alerts = {}
        self.purch = {}   # user -> ([ts sorted], [amount])
        self.armed = {}
        self.recent = {}  # user -> {product: ts}
        self.recent_last = {}
        self.max_ts = []
        self.finished = []
        self.tr_range = (c.tr_size, c.tr_slide)

    # -- watermark (§4)
    def recompute_w(self):
        live = [self.max_ts[p] for p in range(len(self.max_ts)) if not self.finished[p]]
        if not live:
            self.W = POS
            return
        w = min(live)
        if w != NEG:
            w -= self.cfg.lateness
        if w > self.W:
            self.W = w

    def run(self, inputs):
        n = len(inputs)
        self.max_ts = [NEG] * n
        self.finished = [False] * n
        for p, inp in enumerate(inputs):
            fmt = inp.fmt or ("csv" if inp.path.endswith(".csv") else "json")
            csvdec = CsvDecoder(inp.stream) if fmt == "csv" else None
            # one partition through every file the input names, each with its own line
            # numbers, name and (CSV) header
            files = [inp] if inp.source == "-" else [Input(inp.stream, f, f, inp.fmt) for f in input_files(inp.path)]
            for inp, lineno, raw in ((f, n, r) for f in files for n, r in read_lines(f.path)):
                if lineno == 1 and csvdec is not None:
                    csvdec.header = None
                if len(raw) > self.cfg.max_record:
                    # input.max_record_bytes: the line's first bytes, a malformed dead letter
                    self.record(inp, p, lineno, raw[:self.cfg.max_record].decode("utf-8", "replace"),
                                "malformed", None)
                    continue
                if not raw.strip():
                    continue
                if csvdec is not None and csvdec.header is None:
                    csvdec.set_header(raw.decode("utf-8", "surrogateescape"))
                    continue
                try:
                    line, utf8 = raw.decode("utf-8"), True
                except UnicodeDecodeError:
                    # §2 malformed; text sinks show each maximal invalid subpart as U+FFFD,
                    # which is what Python's "replace" writes
                    line, utf8 = raw.decode("utf-8", "replace"), False
                if csvdec is not None:
                    reason, ev = csvdec.decode(line)
                else:
                    reason, ev = decode_json(inp.stream, line)
                if not utf8 and reason != "malformed":
                    reason, ev = "malformed", None
                self.record(inp, p, lineno, line, reason, ev)
            self.finished[p] = True
            self.final_w = self.W  # the last finite W seen (before the end makes it +inf)
            self.recompute_w()
        if n == 0:
            self.final_w = NEG
        return self

    # -- §3
    def record(self, inp, p, lineno, line, reason, ev):
        dq = self.dq
        dq["total"] += 1
        if reason is not None:
            key = "missing_field" if reason.startswith("missing_") else reason
            dq[key] += 1
            self.dlq.append(dict(reason=reason, stream=inp.stream, source=inp.source, partition=p,
                                 offset=lineno, record=line))
            return
        dq["valid"] += 1
        W = self.W
        if ev.ts < W:
            dq["late"] += 1
            self.late.append(dict(stream=inp.stream, source=inp.source, partition=p, offset=lineno,
                                  ts=fmt_ts(ev.ts), watermark=fmt_ts(W), record=line))
            return
        # a duplicate iff the id's first accepted occurrence has ts >= W; an id whose
        # first occurrence fell below W is forgotten, and this one is the new first
        seen, key = (self.seen_promos, ev.promo_id) if ev.stream == "promotions" \
            else (self.seen_events, ev.event_id)
        if seen.get(key, NEG - 1) >= W:
            dq["duplicates"] += 1
            return
        seen[key] = ev.ts
        if ev.stream == "promotions":
            self.on_promotion(ev)
        else:
            self.on_event(ev, p, W)
        if ev.ts > self.max_ts[p]:
            self.max_ts[p] = ev.ts
            self.recompute_w()

    def on_promotion(self, q):
        self.promos.setdefault(q.product_id, []).append(q)
        held = self.clicks.get(q.product_id)
        if not held:
            return
        keep = []
        for c in held:
            cts, eid, uid, cp = c
            if cts + self.cfg.grace < self.max_ts[cp]:
                continue  # expired: no longer held (max_ts never decreases)
            keep.append(c)
            if q.starts_at <= cts < q.ends_at:
                self.add_match(eid, uid, q, cts)
        self.clicks[q.product_id] = keep

    def add_match(self, eid, uid, q, cts):
        key = (eid, q.promo_id)
        assert key not in self.matches
        self.matches[key] = dict(event_id=eid, promo_id=q.promo_id, user_id=uid,
                                 product_id=q.product_id, discount_pct=fmt_money(q.discount),
                                 click_ts=fmt_ts(cts))

    def on_event(self, e, p, W):
        c = self.cfg
        t = e.type
        ts = e.ts
        # tumbling windows
        s = ts // c.cr * c.cr
        a = self.cr.get((s, e.category))
        if a is None:
            a = self.cr[(s, e.category)] = [0, 0, 0, 0, 0, set()]
        s2 = ts // c.hs * c.hs
        b = self.hs.get((s2, e.category))
        if b is None:
            b = self.hs[(s2, e.category)] = [0, 0, 0, set()]
        s3 = ts // c.funnel * c.funnel
        fn = self.fn.get(s3)
        if fn is None:
            fn = self.fn[s3] = [set(), set(), set()]
        size, slide = self.tr_range
        trs = []
        k = (ts - size) // slide + 1
        while k * slide <= ts:
            key = (k * slide, e.product_id)
            r = self.tr.get(key)
            if r is None:
                r = self.tr[key] = [0, 0, 0, 0]
            trs.append(r)
            k += 1
        if t == "view":
            a[3] += 1
            fn[0].add(e.user_id)
            for r in trs:
                r[0] += 1
        elif t == "cart_add":
            a[4] += 1
            fn[1].add(e.user_id)
            for r in trs:
                r[1] += 1
        elif t == "purchase":
            amt = e.amount
            a[0] += amt
            a[1] += 1
            a[2] += e.qty
            a[5].add(e.user_id)
            b[0] += amt
            b[1] += 1
            b[2] += e.qty
            b[3].add(e.user_id)
            fn[2].add(e.user_id)
            for r in trs:
                r[2] += 1
                r[3] += amt
        # sessions: computed at the end from all accepted events (see the module comment)
        self.user_events.setdefault(e.user_id, []).append((ts, t, e.amount))
        # join
        if t in ("view", "cart_add") and e.stream == "clicks":
            for q in self.promos.get(e.product_id, ()):
                if q.starts_at <= ts < q.ends_at:
                    self.add_match(e.event_id, e.user_id, q, ts)
            held = self.clicks.setdefault(e.product_id, [])
            held.append((ts, e.event_id, e.user_id, p))
            if len(held) >= 64 and len(held) & (len(held) - 1) == 0:
                # drop clicks no longer held (their expiry is final: max_ts never decreases)
                mt = self.max_ts
                self.clicks[e.product_id] = [h for h in held if h[0] + c.grace >= mt[h[3]]]
        # alerts
        if t == "purchase":
            self.on_purchase(e)
        # recently viewed
        if t == "view":
            lst = self.recent.get(e.user_id)
            if lst is not None and self.recent_last[e.user_id] + c.recent_ttl < W:
                lst = None  # dropped by the TTL; this view starts a new list
            if lst is None:
                lst = self.recent[e.user_id] = {}
                self.recent_last[e.user_id] = NEG
            old = lst.get(e.product_id)
            if old is None or ts > old:
                lst[e.product_id] = ts
            if ts > self.recent_last[e.user_id]:
                self.recent_last[e.user_id] = ts
            if len(lst) > 4 * c.recent_size + 16:
                keep = sorted(lst.items(), key=lambda kv: (-kv[1], kv[0].encode("utf-8", "surrogateescape")))
                self.recent[e.user_id] = dict(keep[:c.recent_size])

    def on_purchase(self, e):
        c = self.cfg
        amt = e.amount
        if amt >= c.hv_threshold:
            aid = "high_value_order:" + e.event_id
            self.alerts[aid] = dict(alert_id=aid, kind="high_value_order", user_id=e.user_id,
                                    order_id=e.order_id, amount=fmt_money(amt), ts=fmt_ts(e.ts),
                                    detail={"threshold": fmt_money(c.hv_threshold)})
        # velocity (§8): before = purchases accepted earlier with ts in (t - range, t]
        tss, amts = self.purch.setdefault(e.user_id, ([], []))
        hi = bisect.bisect_right(tss, e.ts)
        lo = bisect.bisect_right(tss, e.ts - c.vel_range)
        before = hi - lo
        in_range_sum = sum(amts[lo:hi])
        tss.insert(hi, e.ts)
        amts.insert(hi, amt)
        if before < c.vel_count:
            self.armed[e.user_id] = True
        count = before + 1
        if count >= c.vel_count and self.armed.get(e.user_id, True):
            aid = "velocity:" + e.user_id + ":" + e.event_id
            self.alerts[aid] = dict(alert_id=aid, kind="velocity", user_id=e.user_id,
                                    order_id=e.order_id,
                                    amount=fmt_money(in_range_sum + amt),
                                    ts=fmt_ts(e.ts),
                                    detail={"count": Num(str(count)),
                                            "range_ms": Num(str(c.vel_range))})
            self.armed[e.user_id] = False

    # ------------------------------------------------------------ results
    def tables(self):
        """Expected rows per table: dicts whose values are str / int / bool / None / Num,
        money and timestamps already encoded as §11 strings, JSON columns as structures.
        recently_viewed rows carry an extra '_expired' flag (see compare.py)."""
        c = self.cfg
        T = {t: [] for t in TABLES}
        for (s, cat), a in self.cr.items():
            T["category_revenue"].append(dict(
                window_start=fmt_ts(s), category=cat, window_end=fmt_ts(s + c.cr),
                revenue=fmt_money(a[0]), orders=a[1], units=a[2], views=a[3], cart_adds=a[4],
                buyers=len(a[5]), final=True))
        for (s, cat), b in self.hs.items():
            T["hourly_sales"].append(dict(
                window_start=fmt_ts(s), category=cat, window_end=fmt_ts(s + c.hs),
                revenue=fmt_money(b[0]), orders=b[1], units=b[2], buyers=len(b[3]), final=True))
        per_win = {}
        for (s, pid), r in self.tr.items():
            per_win.setdefault(s, []).append((pid, r))
        for s, lst in per_win.items():
            lst.sort(key=lambda x: (-x[1][0], x[0].encode("utf-8", "surrogateescape")))
            for rank, (pid, r) in enumerate(lst[:c.tr_top], 1):
                T["trending_products"].append(dict(
                    window_start=fmt_ts(s), product_id=pid, window_end=fmt_ts(s + c.tr_size),
                    rank=rank, views=r[0], cart_adds=r[1], purchases=r[2], revenue=fmt_money(r[3]),
                    final=True))
        for s, (v, ca, bu) in self.fn.items():
            T["funnel"].append(dict(
                window_start=fmt_ts(s), window_end=fmt_ts(s + c.funnel), viewers=len(v),
                carters=len(ca), buyers=len(bu), view_to_cart=ratio(len(ca), len(v)),
                cart_to_purchase=ratio(len(bu), len(ca)), final=True))
        for uid, evs in self.user_events.items():
            evs.sort(key=lambda x: x[0])
            cur = None
            for ts, t, amt in evs:
                if cur is None or ts - cur[1] > c.gap:
                    if cur is not None:
                        T["sessions"].append(session_row(uid, cur))
                    cur = [ts, ts, 0, 0, 0, 0, 0]
                cur[1] = ts
                cur[2] += 1
                if t == "view":
                    cur[3] += 1
                elif t == "cart_add":
                    cur[4] += 1
                elif t == "purchase":
                    cur[5] += 1
                    cur[6] += amt
            if cur is not None:
                T["sessions"].append(session_row(uid, cur))
        T["promo_matches"] = list(self.matches.values())
        T["alerts"] = list(self.alerts.values())
        dq = dict(self.dq)
        dq["quality_score"] = ratio(dq["valid"], dq["total"]) if dq["total"] else None
        T["data_quality"] = [dq]
        for uid, lst in self.recent.items():
            items = sorted(lst.items(), key=lambda kv: (-kv[1], kv[0].encode("utf-8", "surrogateescape")))
            items = items[:c.recent_size]
            last = self.recent_last[uid]
            T["recently_viewed"].append(dict(
                user_id=uid, products=[pid for pid, _ in items], last_view_ts=fmt_ts(last),
                _expired=last + c.recent_ttl < self.final_w))
        T["dlq"] = self.dlq
        T["late"] = self.late
        for t in T:
            for row in T[t]:
                for k, v in row.items():
                    if isinstance(v, int) and not isinstance(v, bool):
                        row[k] = Num(str(v))
        return T


def session_row(uid, cur):
    start, end, n, v, ca, pu, rev = cur
    return dict(user_id=uid, session_start=fmt_ts(start), session_end=fmt_ts(end),
                duration_s=(end - start) // 1000, events=n, views=v, cart_adds=ca, purchases=pu,
                revenue=fmt_money(rev), converted=pu > 0)


# ---------------------------------------------------------------- command line

def parse_args(argv, stdin_file=None):
    """STREAM=PATH specs plus --set k=v, --format F, --stdin FILE (the bytes fed to '-')."""
    cfg = Config()
    fmt = None
    specs = []
    extra = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--set", "--format", "--stdin", "--out"):
            if i + 1 >= len(argv):
                raise SystemExit("model: %s needs a value" % a)
            v = argv[i + 1]
            i += 2
            if a == "--set":
                k, _, val = v.partition("=")
                cfg.set(k, val)
            elif a == "--format":
                fmt = v
            elif a == "--stdin":
                stdin_file = v
            else:
                extra["out"] = v
            continue
        if "=" not in a:
            raise SystemExit("model: expected STREAM=PATH, got %r" % a)
        specs.append(a)
        i += 1
    inputs = []
    for s in specs:
        stream, _, path = s.partition("=")
        if stream not in FIELDS:
            raise SystemExit("model: unknown stream %r" % stream)
        if path == "-":
            if not stdin_file:
                raise SystemExit("model: input '-' needs --stdin FILE")
            inputs.append(Input(stream, stdin_file, "-", fmt or "json"))
        else:
            f = "csv" if path.endswith(".csv") else (fmt or "json")
            inputs.append(Input(stream, path, path, f))
    return cfg, inputs, extra


def to_json(v):
    if isinstance(v, Num):
        return v.text
    if isinstance(v, (dict, list)):
        return json.dumps(json.dumps(plain(v), separators=(",", ":")))
    return json.dumps(v, ensure_ascii=False)


def plain(v):
    if isinstance(v, Num):
        return int(v.text) if v.is_int() else float(v.text)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def main(argv):
    cfg, inputs, extra = parse_args(argv)
    T = Model(cfg).run(inputs).tables()
    out = extra.get("out")
    for t in TABLES:
        if out:
            os.makedirs(out, exist_ok=True)
            with open(os.path.join(out, t + ".jsonl"), "w") as fh:
                for row in T[t]:
                    fh.write("{" + ",".join('"%s":%s' % (k, to_json(row.get(k))) for k in COLUMNS[t]) + "}\n")
        print("%-18s %d" % (t, len(T[t])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
