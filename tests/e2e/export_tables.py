#!/usr/bin/env python3
"""export_tables.py — reads the tables a storage sink wrote back out of the store and
writes them as OUT_DIR/<table>.jsonl in the JSONL encoding of docs/SEMANTICS.md §11,
so that compare.py can compare them row by row with the model.

    export_tables.py sqlite DB OUT_DIR
    export_tables.py postgres OUT_DIR          (connection: PGHOST/PGPORT/PGUSER/PGDATABASE,
                                                or --url URL before OUT_DIR)
    export_tables.py parquet-arrow DIR OUT_DIR  (every DIR/<table>/**/*.parquet via pyarrow)
    export_tables.py parquet-duckdb DIR OUT_DIR (the same files via DuckDB, independently)
    export_tables.py events-check OUT_DIR[,OUT_DIR...] MODEL_ARGS...
                                               OUT_DIR/events.jsonl against the model's
                                               accepted clicks and orders (DESIGN §5 events);
                                               several directories share one model run

Values are turned into the §11 text with as little interpretation as the store allows,
so a wrong stored value shows as a difference: money as the 2-decimal text the store
holds ("12.35"), timestamps ISO with milliseconds and Z, ratios as 4-decimal numbers,
booleans, integers, JSON columns (detail, products) as a string holding the JSON text,
null as null. The SQL sinks keep provisional window rows (final = false) and update them
in place: only rows with final = true are exported, and every table that still holds a
final = false row after the run is reported. A stored type that is not the contract's
(an integer column holding text, a money DECIMAL of scale 3, ...) is reported too.

Exit status: 0 exported and nothing to report; 1 exported, but provisional rows remain
or a stored type is wrong (stderr says which); 2 bad usage or unreadable store.
"""
import datetime
import decimal
import glob
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M  # noqa: E402

# Column kinds, from DESIGN §5 (names in model.COLUMNS order).
TS_COLS = {"window_start", "window_end", "session_start", "session_end", "click_ts", "ts",
           "minute_start", "last_view_ts", "watermark"}
MONEY_COLS = {"revenue", "discount_pct", "amount", "price"}
RATIO_COLS = {"view_to_cart", "cart_to_purchase", "quality_score"}
BOOL_COLS = {"final", "converted"}
JSON_COLS = {"detail", "products"}
INT_COLS = {"orders", "units", "views", "cart_adds", "buyers", "rank", "purchases", "viewers",
            "carters", "duration_s", "events", "total", "valid", "malformed", "missing_field",
            "unknown_type", "bad_ts", "bad_amount", "late", "duplicates", "partition", "offset",
            "quantity"}

EVENTS_COLUMNS = ["event_id", "ts", "event_type", "user_id", "session_id", "product_id", "category",
                  "price", "quantity", "order_id"]
COLUMNS = dict(M.COLUMNS)
COLUMNS["events"] = EVENTS_COLUMNS
WINDOWED = M.WINDOWED


def kind(col):
    for k, s in (("ts", TS_COLS), ("money", MONEY_COLS), ("ratio", RATIO_COLS), ("bool", BOOL_COLS),
                 ("json", JSON_COLS), ("int", INT_COLS)):
        if col in s:
            return k
    return "str"


class Raw:
    """Text written into the JSON line as is (a ratio number exactly as stored)."""
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text


NUM_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def ratio_value(text):
    # a stored ratio that is not a plain decimal number stays a string: it then differs
    return Raw(text) if NUM_RE.fullmatch(text) else text


def enc(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    raise TypeError("cannot encode %r" % (v,))


def ms_to_iso(ms):
    return M.fmt_ts(ms)


class Export:
    def __init__(self, out_dir):
        self.out = out_dir
        os.makedirs(out_dir, exist_ok=True)
        self.problems = []
        self.summary = []

    def problem(self, msg):
        if len(self.problems) < 50:
            self.problems.append(msg)

    def write(self, table, rows, provisional=0):
        """rows: lists of python values in COLUMNS[table] order, already §11-shaped."""
        cols = COLUMNS[table]
        with open(os.path.join(self.out, table + ".jsonl"), "w", encoding="utf-8",
                  errors="surrogateescape") as fh:
            for r in rows:
                fh.write("{" + ",".join('"%s":%s' % (c, enc(v)) for c, v in zip(cols, r)) + "}\n")
        self.summary.append("%s %d%s" % (table, len(rows),
                                         " (%d not final)" % provisional if provisional else ""))
        if provisional:
            self.problem("%s: %d rows still have final = false after the run" % (table, provisional))

    def finish(self, what):
        print("export %s -> %s: %s" % (what, self.out, ", ".join(self.summary)))
        for p in self.problems:
            print("export %s: %s" % (what, p), file=sys.stderr)
        return 1 if self.problems else 0


# ---------------------------------------------------------------- SQLite

def export_sqlite(db, out_dir):
    import sqlite3
    if not os.path.exists(db):
        raise SystemExit("export: no SQLite database %s" % db)
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    con.text_factory = lambda b: b.decode("utf-8", "surrogateescape")
    ex = Export(out_dir)
    have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table in M.TABLES:
        if table not in have:
            ex.problem("table %s does not exist" % table)
            continue
        cols = COLUMNS[table]
        sql = "SELECT " + ", ".join('"%s"' % c for c in cols) + ' FROM "%s"' % table
        rows, prov = [], 0
        for rec in con.execute(sql):
            row = []
            for c, v in zip(cols, rec):
                k = kind(c)
                if v is None:
                    row.append(None)
                elif k in ("int", "bool"):
                    if not isinstance(v, int):
                        ex.problem("%s.%s holds %r (%s), expected an integer" % (table, c, v, type(v).__name__))
                        row.append(str(v))
                    elif k == "bool":
                        if v not in (0, 1):
                            ex.problem("%s.%s holds %d, expected 0 or 1" % (table, c, v))
                        row.append(v != 0)
                    else:
                        row.append(v)
                else:
                    if not isinstance(v, str):
                        ex.problem("%s.%s holds %r (%s), expected TEXT" % (table, c, v, type(v).__name__))
                        v = str(v)
                    row.append(ratio_value(v) if k == "ratio" else v)
            if table in WINDOWED and row[cols.index("final")] is not True:
                prov += 1
                continue
            rows.append(row)
        ex.write(table, rows, prov)
    return ex.finish("sqlite " + db)


# ---------------------------------------------------------------- PostgreSQL

def pg_expr(c):
    q = '"%s"' % c
    k = kind(c)
    if k == "ts":
        # ISO with milliseconds in UTC, whatever the session time zone
        return "to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS %s" % (q, q)
    if k in ("money", "ratio", "json"):
        return "%s::text AS %s" % (q, q)
    return q


def export_postgres(out_dir, url=None):
    ex = Export(out_dir)
    base = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"] + (["-d", url] if url else [])

    def query(sql):
        p = subprocess.run(base + ["-c", sql], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise SystemExit("export: psql failed (%s): %s" % (sql[:120], p.stderr.decode(errors="replace")))
        return p.stdout.decode("utf-8")

    have = set(query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").split())
    for table in M.TABLES:
        if table not in have:
            ex.problem("table %s does not exist" % table)
            continue
        cols = COLUMNS[table]
        # one JSON object per line (row_to_json escapes newlines inside values)
        sql = "SELECT row_to_json(t) FROM (SELECT %s FROM \"%s\") t" % (", ".join(pg_expr(c) for c in cols), table)
        rows, prov = [], 0
        for line in query(sql).split("\n"):
            if not line:
                continue
            obj = json.loads(line, parse_float=str, parse_int=int)
            row = []
            for c in cols:
                v = obj[c]
                k = kind(c)
                if v is not None and k == "ratio":
                    v = ratio_value(v)
                elif v is not None and k == "int" and (isinstance(v, bool) or not isinstance(v, int)):
                    ex.problem("%s.%s holds %r, expected an integer" % (table, c, v))
                elif v is not None and k == "bool" and not isinstance(v, bool):
                    ex.problem("%s.%s holds %r, expected a boolean" % (table, c, v))
                row.append(v)
            if table in WINDOWED and row[cols.index("final")] is not True:
                prov += 1
                continue
            rows.append(row)
        ex.write(table, rows, prov)
    return ex.finish("postgresql")


# ---------------------------------------------------------------- Parquet

def parquet_files(pq_dir, table):
    return sorted(glob.glob(os.path.join(pq_dir, table, "**", "*.parquet"), recursive=True))


def parquet_tables(pq_dir):
    """Tables the parquet sink writes: all but the state stream recently_viewed."""
    return [t for t in M.TABLES if t != "recently_viewed"] + ["events"]


def check_decimal_scale(ex, table, c, scale, where):
    want = 2 if kind(c) == "money" else 4
    if scale != want:
        ex.problem("%s: column %s is DECIMAL with scale %d, expected %d" % (where, c, scale, want))


def arrow_value(ex, table, c, v, where):
    k = kind(c)
    if v is None:
        return None
    if k == "ts":
        if isinstance(v, datetime.datetime):
            if v.tzinfo is None:
                ex.problem("%s: column %s is a timestamp without UTC adjustment" % (where, c))
                v = v.replace(tzinfo=datetime.timezone.utc)
            d = v - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
            return ms_to_iso((d.days * 86400 + d.seconds) * 1000 + d.microseconds // 1000)
        ex.problem("%s: column %s holds %r, expected a timestamp" % (where, c, v))
        return str(v)
    if k in ("money", "ratio"):
        if not isinstance(v, decimal.Decimal):
            ex.problem("%s: column %s holds %r, expected a DECIMAL" % (where, c, v))
            return str(v)
        return Raw(str(v)) if k == "ratio" else str(v)
    if k == "bool":
        if not isinstance(v, bool):
            ex.problem("%s: column %s holds %r, expected a boolean" % (where, c, v))
        return v
    if k == "int":
        if isinstance(v, bool) or not isinstance(v, int):
            ex.problem("%s: column %s holds %r, expected an integer" % (where, c, v))
            return str(v)
        return v
    if not isinstance(v, str):
        ex.problem("%s: column %s holds %r, expected a string" % (where, c, v))
        return str(v)
    return v


def export_parquet_arrow(pq_dir, out_dir):
    import pyarrow as pa
    import pyarrow.parquet as pq
    ex = Export(out_dir)
    nfiles = 0
    for table in parquet_tables(pq_dir):
        cols = COLUMNS[table]
        rows, prov = [], 0
        for f in parquet_files(pq_dir, table):
            nfiles += 1
            where = os.path.relpath(f, pq_dir)
            t = pq.ParquetFile(f).read()  # one file: no hive partition columns
            if t.schema.names != cols:
                ex.problem("%s: columns %s, contract says %s" % (where, t.schema.names, cols))
                continue
            for field in t.schema:
                if pa.types.is_decimal(field.type):
                    check_decimal_scale(ex, table, field.name, field.type.scale, where)
                if pa.types.is_timestamp(field.type) and field.type.tz not in ("UTC", "+00:00"):
                    ex.problem("%s: column %s is %s, expected a UTC-adjusted timestamp" % (where, field.name, field.type))
            for rec in t.to_pylist():
                row = [arrow_value(ex, table, c, rec[c], where) for c in cols]
                if table in WINDOWED and row[cols.index("final")] is not True:
                    prov += 1
                    continue
                rows.append(row)
        ex.write(table, rows, prov)
    ex.summary.insert(0, "%d files" % nfiles)
    return ex.finish("parquet (pyarrow) " + pq_dir)


def export_parquet_duckdb(pq_dir, out_dir):
    import duckdb
    con = duckdb.connect()
    con.execute("SET threads = 1")
    ex = Export(out_dir)
    nfiles = 0
    for table in parquet_tables(pq_dir):
        cols = COLUMNS[table]
        rows, prov = [], 0
        for f in parquet_files(pq_dir, table):
            nfiles += 1
            where = os.path.relpath(f, pq_dir)
            desc = con.execute("DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)", [f]).fetchall()
            names = [d[0] for d in desc]
            if names != cols:
                ex.problem("%s: columns %s, contract says %s" % (where, names, cols))
                continue
            exprs, kinds = [], []
            for name, typ, *_ in desc:
                t = typ.upper()
                q = '"%s"' % name
                k = kind(name)
                if k == "ts":
                    if t != "TIMESTAMP WITH TIME ZONE":
                        ex.problem("%s: column %s is %s, expected TIMESTAMP WITH TIME ZONE" % (where, name, typ))
                    exprs.append("epoch_ms(%s)" % q)
                elif k in ("money", "ratio"):
                    m = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", t)
                    if not m:
                        ex.problem("%s: column %s is %s, expected DECIMAL" % (where, name, typ))
                    else:
                        check_decimal_scale(ex, table, name, int(m.group(2)), where)
                    exprs.append(q)
                else:
                    want = {"bool": "BOOLEAN", "int": "BIGINT"}.get(k, "VARCHAR")
                    if t != want and not (k == "int" and t == "INTEGER"):
                        ex.problem("%s: column %s is %s, expected %s" % (where, name, typ, want))
                    exprs.append(q)
                kinds.append(k)
            sql = "SELECT %s FROM read_parquet(?, hive_partitioning = false)" % ", ".join(exprs)
            for rec in con.execute(sql, [f]).fetchall():
                row = []
                for c, k, v in zip(cols, kinds, rec):
                    if v is None:
                        row.append(None)
                    elif k == "ts":
                        row.append(ms_to_iso(v))
                    elif k in ("money", "ratio"):
                        row.append(Raw(str(v)) if k == "ratio" else str(v))
                    else:
                        row.append(v)
                if table in WINDOWED and row[cols.index("final")] is not True:
                    prov += 1
                    continue
                rows.append(row)
        ex.write(table, rows, prov)
    ex.summary.insert(0, "%d files" % nfiles)
    return ex.finish("parquet (duckdb) " + pq_dir)


# ---------------------------------------------------------------- the events table

def expected_events(argv):
    """The model's accepted clicks and orders (those its operators see), as events rows."""
    orig_validate = M.validate

    class Ev(M.Event):
        __slots__ = ("session_id",)

    def validate(stream, f):
        saved = M.Event
        M.Event = Ev
        try:
            reason, ev = orig_validate(stream, f)
        finally:
            M.Event = saved
        if ev is not None:
            sid = f.get("session_id")
            ev.session_id = sid[0] if sid is not None else None
        return reason, ev

    rows = []

    class Rec(M.Model):
        def on_event(self, e, p, W):
            rows.append(dict(event_id=e.event_id, ts=M.fmt_ts(e.ts), event_type=e.type, user_id=e.user_id,
                             session_id=e.session_id, product_id=e.product_id, category=e.category,
                             price=None if e.price is None else M.fmt_money(e.price),
                             quantity=M.Num(str(e.qty)), order_id=e.order_id))
            return super().on_event(e, p, W)

    M.validate = validate
    try:
        cfg, inputs, _ = M.parse_args(argv)
        Rec(cfg).run(inputs)
    finally:
        M.validate = orig_validate
    return rows


def events_check(out_dirs, argv):
    """out_dirs: one or more directories (comma separated), each checked against one model run."""
    import compare as C
    M.COLUMNS["events"] = EVENTS_COLUMNS
    M.KEYS["events"] = ["event_id"]
    exp = expected_events(argv)
    all_ok = True
    for out_dir in out_dirs.split(","):
        problems, stats = [], {}
        got = C.load_table(out_dir, "events", problems)
        ok = C.compare_rows("events", exp, got, problems, stats) and not problems
        e, g, mi, xt, df = stats["events"]
        print("events %s: expected %d got %d missing %d extra %d differing %d" % (out_dir, e, g, mi, xt, df))
        for p in problems:
            print("  " + p)
        all_ok = all_ok and ok
    return 0 if all_ok else 1


def main(argv):
    try:
        if len(argv) == 3 and argv[0] == "sqlite":
            return export_sqlite(argv[1], argv[2])
        if len(argv) == 2 and argv[0] == "postgres":
            return export_postgres(argv[1])
        if len(argv) == 4 and argv[0] == "postgres" and argv[1] == "--url":
            return export_postgres(argv[3], argv[2])
        if len(argv) == 3 and argv[0] == "parquet-arrow":
            return export_parquet_arrow(argv[1], argv[2])
        if len(argv) == 3 and argv[0] == "parquet-duckdb":
            return export_parquet_duckdb(argv[1], argv[2])
        if len(argv) >= 3 and argv[0] == "events-check":
            return events_check(argv[1], argv[2:])
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            return 2
        raise
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
