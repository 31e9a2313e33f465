#!/usr/bin/env python3
"""parquet_check.py — reader-side check of a Parquet file written by shopstream.

Reads FILE with pyarrow AND duckdb, turns every value into one canonical form and
fails (exit 1, message on stderr) unless both readers return exactly the same rows.
Then prints the rows as JSON lines (one object per row, keys in column order):

  null -> null, strings -> strings, integers -> integers, booleans -> true/false,
  DECIMAL(p,s) -> a string with exactly s decimals ("-12.35"),
  TIMESTAMP -> integer milliseconds since the epoch (UTC).

  parquet_check.py FILE            rows (after the pyarrow == duckdb check)
  parquet_check.py --stats FILE    one JSON line per row group and column: the column
                                   statistics as pyarrow reads them (physical min/max),
                                   codec, encodings, dictionary page size
  parquet_check.py --schema FILE   one JSON object: created_by, rows, row groups, and per
                                   column physical/logical/converted type and repetition

JSON is printed with ensure_ascii=False and separators (",", ":") so a C test can
build the same text byte for byte.
"""
import decimal
import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def fmt_decimal(d, scale):
    if d is None:
        return None
    return format(decimal.Decimal(d), "." + str(scale) + "f")


def arrow_rows(path):
    t = pq.ParquetFile(path).read()  # a single file: no hive partition columns
    cols = []
    for i, field in enumerate(t.schema):
        col = t.column(i)
        typ = field.type
        if pa.types.is_timestamp(typ):
            per_ms = {"s": None, "ms": 1, "us": 1000, "ns": 1000000}[typ.unit]
            vals = col.cast(pa.int64()).to_pylist()
            vals = [None if v is None else (v * 1000 if per_ms is None else v // per_ms) for v in vals]
        elif pa.types.is_decimal(typ):
            vals = [fmt_decimal(v, typ.scale) for v in col.to_pylist()]
        else:
            vals = col.to_pylist()
        cols.append(vals)
    names = t.schema.names
    return names, [dict(zip(names, r)) for r in zip(*cols)] if cols else []


def duck_rows(path):
    import duckdb  # only the row check needs it; --stats / --schema start faster

    con = duckdb.connect()
    con.execute("SET threads=1")
    desc = con.execute("DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)", [path]).fetchall()
    exprs, kinds = [], []
    for name, typ, *_ in desc:
        q = '"' + name.replace('"', '""') + '"'
        t = typ.upper()
        if t.startswith("TIMESTAMP"):
            exprs.append("epoch_ms(" + q + ")")
            kinds.append(("ts", None))
        elif t.startswith("DECIMAL"):
            scale = int(t[t.index(",") + 1:t.index(")")])
            exprs.append(q)
            kinds.append(("dec", scale))
        else:
            exprs.append(q)
            kinds.append(("plain", None))
    sql = "SELECT " + ", ".join(exprs) + " FROM read_parquet(?, hive_partitioning = false)"
    out = []
    names = [d[0] for d in desc]
    for r in con.execute(sql, [path]).fetchall():
        row = {}
        for name, (kind, scale), v in zip(names, kinds, r):
            if kind == "dec":
                v = fmt_decimal(v, scale)
            row[name] = v
        out.append(row)
    return names, out


def stats(path):
    f = pq.ParquetFile(path)
    md = f.metadata
    for i in range(md.num_row_groups):
        rg = md.row_group(i)
        for j in range(rg.num_columns):
            c = rg.column(j)
            s = c.statistics
            o = {"rg": i, "col": c.path_in_schema, "rows": rg.num_rows, "num_values": c.num_values,
                 "compression": c.compression, "encodings": list(c.encodings),
                 "has_dictionary_page": c.has_dictionary_page}
            if c.has_dictionary_page:
                # the dictionary page (header included) sits just before the data pages
                o["dict_page_bytes"] = c.data_page_offset - c.dictionary_page_offset
            if s is None:
                o["stats"] = None
            else:
                o["null_count"] = s.null_count if s.has_null_count else None
                o["has_min_max"] = s.has_min_max
                if s.has_min_max:
                    mn, mx = s.min_raw, s.max_raw
                    if isinstance(mn, bytes):
                        mn, mx = mn.decode("utf-8"), mx.decode("utf-8")
                    o["min"], o["max"] = mn, mx
            print(dumps(o))


def schema(path):
    f = pq.ParquetFile(path)
    md = f.metadata
    cols = []
    for j in range(md.num_columns):
        c = f.schema.column(j)
        cols.append({"name": c.name, "physical": c.physical_type, "logical": str(c.logical_type),
                     "converted": c.converted_type, "max_def": c.max_definition_level})
    print(dumps({"created_by": md.created_by, "rows": md.num_rows, "row_groups": md.num_row_groups,
                 "columns": cols}))


def main(argv):
    if len(argv) == 3 and argv[1] == "--stats":
        stats(argv[2])
        return 0
    if len(argv) == 3 and argv[1] == "--schema":
        schema(argv[2])
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = argv[1]
    an, arows = arrow_rows(path)
    dn, drows = duck_rows(path)
    if an != dn:
        print("column names differ: pyarrow %s, duckdb %s" % (an, dn), file=sys.stderr)
        return 1
    if len(arows) != len(drows):
        print("row counts differ: pyarrow %d, duckdb %d" % (len(arows), len(drows)), file=sys.stderr)
        return 1
    for i, (a, d) in enumerate(zip(arows, drows)):
        if a != d or [type(x) for x in a.values()] != [type(x) for x in d.values()]:
            print("row %d differs:\n pyarrow %s\n duckdb  %s" % (i, dumps(a), dumps(d)), file=sys.stderr)
            return 1
    w = sys.stdout.write
    for r in arows:
        w(dumps(r))
        w("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
