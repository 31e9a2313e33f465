#!/usr/bin/env python3
"""compare.py — checks an engine run's JSONL output against the reference model.

    compare.py OUT_DIR [--skip TABLE]... [--set key=value]... [--format json|csv] [--stdin FILE] STREAM=PATH...

The input arguments are those given to `shopstream run` (same order, same config);
`--stdin FILE` names the file that was fed to an input given as `-`.
Every table is compared row by row by primary key (dlq / late by source, partition,
offset): missing rows, extra rows, and differing columns with both values. data_quality
is compared as run totals (its minutes are wall-clock time), recently_viewed by the last
row per user; a table named by --skip is not compared (data_quality after a crash replay, which
counts the replayed records again). Also checked: keys in the column order of the contract, final = true on
every windowed row, no primary key twice. Exit status 0 only when everything matches.
"""
import os
import re
import sys
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M  # noqa: E402

MAX_SHOWN = 8
DQ_COUNTS = ["total", "valid", "malformed", "missing_field", "unknown_type", "bad_ts",
             "bad_amount", "late", "duplicates"]


def show(v):
    return M.to_json(v) if not isinstance(v, (dict, list)) else repr(M.plain(v))


def load_table(out_dir, table, problems):
    """Rows of OUT_DIR/<table>.jsonl, JSON columns parsed; a missing file is no rows."""
    path = os.path.join(out_dir, table + ".jsonl")
    rows = []
    if not os.path.exists(path):
        return rows
    cols = M.COLUMNS[table]
    order_bad = 0
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            line = raw.decode("utf-8", "surrogateescape").rstrip("\n")
            if not line.strip():
                continue
            try:
                pairs = M.json.loads(line, parse_float=M.Num, parse_int=M.Num,
                                     parse_constant=M._no_constant, object_pairs_hook=list)
            except ValueError as e:
                problems.append("%s.jsonl:%d: not JSON (%s): %s" % (table, n, e, line[:200]))
                continue
            if not isinstance(pairs, list) or any(not isinstance(p, tuple) for p in pairs):
                problems.append("%s.jsonl:%d: not a JSON object: %s" % (table, n, line[:200]))
                continue
            names = [k for k, _ in pairs]
            if names != cols:
                order_bad += 1
                if order_bad <= 2:
                    problems.append("%s.jsonl:%d: keys %s, contract says %s" % (table, n, names, cols))
            row = {}
            for k, v in pairs:
                if (table, k) in M.JSON_COLUMNS:
                    if isinstance(v, str):
                        try:
                            v = M.json.loads(v, parse_float=M.Num, parse_int=M.Num,
                                             parse_constant=M._no_constant)
                        except ValueError:
                            problems.append("%s.jsonl:%d: column %s is not JSON text: %r" % (table, n, k, v))
                    else:
                        problems.append("%s.jsonl:%d: column %s must be a string holding JSON" % (table, n, k))
                row[k] = v
            row["_line"] = n
            rows.append(row)
    if order_bad > 2:
        problems.append("%s.jsonl: %d rows with keys out of contract order" % (table, order_bad))
    return rows


def keyof(table, row):
    return tuple(row.get(k) for k in M.KEYS[table])


def compare_rows(table, exp, got, problems, stats):
    """Row-by-row comparison by primary key."""
    cols = M.COLUMNS[table]
    exp_by = {}
    for r in exp:
        k = keyof(table, r)
        if k in exp_by:
            problems.append("%s: MODEL produced key %s twice" % (table, k))
        exp_by[k] = r
    got_by = {}
    dup = 0
    for r in got:
        k = keyof(table, r)
        if k in got_by:
            dup += 1
            if dup <= MAX_SHOWN:
                problems.append("%s: key %s appears twice (lines %d and %d)"
                                % (table, _k(k), got_by[k]["_line"], r["_line"]))
        got_by[k] = r
    missing = [k for k in exp_by if k not in got_by]
    extra = [k for k in got_by if k not in exp_by]
    differ = 0
    for k, e in exp_by.items():
        g = got_by.get(k)
        if g is None:
            continue
        diffs = [(c, e.get(c), g.get(c)) for c in cols if e.get(c) != g.get(c)]
        if diffs:
            differ += 1
            if differ <= MAX_SHOWN:
                problems.append("%s %s: " % (table, _k(k)) + "; ".join(
                    "%s expected %s got %s" % (c, show(a), show(b)) for c, a, b in diffs))
    for k in missing[:MAX_SHOWN]:
        problems.append("%s: missing row %s: %s" % (table, _k(k), _row(exp_by[k], cols)))
    for k in extra[:MAX_SHOWN]:
        problems.append("%s: extra row %s: %s" % (table, _k(k), _row(got_by[k], cols)))
    stats[table] = (len(exp), len(got), len(missing), len(extra), differ + dup)
    return not (missing or extra or differ or dup)


def _k(k):
    return "(" + ", ".join(show(x) for x in k) + ")"


def _row(r, cols):
    return "{" + ", ".join("%s: %s" % (c, show(r.get(c))) for c in cols) + "}"


def compare(out_dir, argv, quiet=False, skip=()):
    cfg, inputs, _ = M.parse_args(argv)
    for inp in inputs:
        if not all(os.path.exists(f) for f in M.input_files(inp.path)):
            raise SystemExit("compare: input %s does not exist" % inp.path)
    T = M.Model(cfg).run(inputs).tables()
    problems = []
    stats = {}
    ok = True
    if not os.path.isdir(out_dir):
        problems.append("output directory %s does not exist" % out_dir)
        ok = False
    for table in M.TABLES:
        if table in skip:
            continue
        nprob = len(problems)
        got = load_table(out_dir, table, problems)
        exp = T[table]
        good = True
        if table in M.WINDOWED:
            notfinal = [r for r in got if r.get("final") is not True]
            if notfinal:
                good = False
                problems.append("%s: %d rows without final=true (first at line %d)"
                                % (table, len(notfinal), notfinal[0]["_line"]))
        if table == "data_quality":
            # Keyed by minute: a minute's row may come again, from a run resumed from a
            # savepoint within that minute or just after it (README "Savepoints"), holding
            # the minute's counts so far; the last row of a minute is the minute's, and no
            # count of it may go down.
            last = {}
            for r in got:
                bad_num = False
                for c in DQ_COUNTS:
                    v = r.get(c)
                    if not isinstance(v, M.Num) or not v.is_int():
                        problems.append("data_quality line %d: %s is %s" % (r["_line"], c, show(v)))
                        good, bad_num = False, True
                if bad_num:
                    continue
                m = r.get("minute_start")
                prev = last.get(m)
                if prev is not None:
                    down = [c for c in DQ_COUNTS if int(r[c].text) < int(prev[c].text)]
                    if down:
                        problems.append("data_quality: minute %s again (line %d) with fewer %s than before"
                                        % (show(m), r["_line"], ", ".join(down)))
                        good = False
                last[m] = r
            tot = {c: sum(int(r[c].text) for r in last.values()) for c in DQ_COUNTS}
            for r in got:
                t, v = r.get("total"), r.get("valid")
                if isinstance(t, M.Num) and isinstance(v, M.Num) and int(t.text) > 0:
                    want = M.ratio(int(v.text), int(t.text))
                    if r.get("quality_score") != want:
                        problems.append("data_quality line %d: quality_score %s, valid/total gives %s"
                                        % (r["_line"], show(r.get("quality_score")), show(want)))
                        good = False
            e = exp[0]
            diffs = ["%s expected %s got %d" % (c, e[c].text, tot[c]) for c in DQ_COUNTS
                     if int(e[c].text) != tot[c]]
            if diffs:
                good = False
                problems.append("data_quality totals: " + "; ".join(diffs))
            stats[table] = ("totals", len(got), 0, 0, len(diffs))
        elif table == "recently_viewed":
            last = {}
            for r in got:
                last[r.get("user_id")] = r
            got_rows = list(last.values())
            # a list expired by the TTL before the end may show as its final list or as an
            # empty list (the engine may have emitted the drop); both satisfy §9. Either way
            # last_view_ts is that list's (§9 defines no other, and the column is not nullable).
            exp_rows = []
            for e in exp:
                g = last.get(e["user_id"])
                if e["_expired"] and g is not None and g.get("products") == []:
                    exp_rows.append(dict(e, products=[]))
                else:
                    exp_rows.append(e)
            good = compare_rows(table, exp_rows, got_rows, problems, stats) and good
        elif table == "alerts":
            quality = [r for r in got if r.get("kind") == "quality"]
            other = [r for r in got if r.get("kind") != "quality"]
            good = compare_rows(table, exp, other, problems, stats) and good
            if quality:
                problems.append("(info) alerts: %d quality alerts not compared (processing time)" % len(quality))
        else:
            good = compare_rows(table, exp, got, problems, stats) and good
        if len(problems) > nprob and good:
            # only format problems (key order, JSON text) were found
            good = all(p.startswith("(info)") for p in problems[nprob:])
        ok = ok and good
    if not quiet:
        print("compare %s (model over %s)" % (out_dir, " ".join(i.stream + "=" + i.source for i in inputs)))
        for table in M.TABLES:
            s = stats.get(table)
            if s is None:
                continue
            e, g, mi, ex, df = s
            flag = "ok " if not (mi or ex or df) else "BAD"
            print("  %s %-18s expected %-7s got %-7d missing %-5d extra %-5d differing %d"
                  % (flag, table, e, g, mi, ex, df))
        for p in problems:
            print("  " + p)
        print("compare: %s" % ("match" if ok else "MISMATCH"))
    return ok, problems


def _parse_row(table, text):
    pairs = M.json.loads(text, parse_float=M.Num, parse_int=M.Num, parse_constant=M._no_constant,
                         object_pairs_hook=list)
    out = []
    for k, v in pairs:
        if (table, k) in M.JSON_COLUMNS and isinstance(v, str):
            v = M.json.loads(v, parse_float=M.Num, parse_int=M.Num)
        out.append((k, v))
    return out


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _matches(cell, value):
    """A selector KEY=VALUE against a cell: a number by its value (offset=025 selects 25),
    anything else as text. None when VALUE is no number but the cell is one."""
    if isinstance(cell, M.Num):
        if not _NUMBER.fullmatch(value):
            return None
        return Decimal(cell.text) == Decimal(value)
    return (cell if isinstance(cell, str) else show(cell)) == value


def expect_rows(argv):
    """--expect-row OUT TABLE JSON [KEY=VALUE]...: the rows of OUT/TABLE.jsonl whose columns
    have those values (numbers by value, other columns as text) must be exactly one, equal to
    JSON (same keys, same order, same values; numbers compared as written). JSON may be
    'none': no such row. An unknown table or column, a KEY=VALUE without '=', a missing
    OUT/TABLE.jsonl (the sink creates every table's file) or a number column selected by a
    value that is no number cannot be checked: exit 2."""
    if len(argv) < 3:
        print("--expect-row OUT TABLE JSON|none KEY=VALUE...: got %r" % (argv,))
        return 2
    out, table, want = argv[0], argv[1], argv[2]
    if table not in M.COLUMNS:
        print("--expect-row: no table %r (tables: %s)" % (table, " ".join(M.TABLES)))
        return 2
    conds = [c.split("=", 1) for c in argv[3:]]
    for c in conds:
        if len(c) != 2 or c[0] not in M.COLUMNS[table]:
            print("--expect-row %s: %r is no KEY=VALUE with a column of %s (%s)"
                  % (table, "=".join(c), table, " ".join(M.COLUMNS[table])))
            return 2
    path = os.path.join(out, table + ".jsonl")
    if not os.path.exists(path):
        print("--expect-row: no %s (the jsonl sink creates every table's file)" % path)
        return 2
    found = []
    for line in open(path, encoding="utf-8"):
        if not line.strip():
            continue
        row = _parse_row(table, line)
        d = dict(row)
        hit = True
        for k, v in conds:
            m = _matches(d.get(k), v) if k in d else False
            if m is None:
                print("--expect-row %s: %s=%s, but %s is a number (%s)" % (table, k, v, k, d[k].text))
                return 2
            hit = hit and m
        if hit:
            found.append((row, line.rstrip("\n")))
    if table == "recently_viewed":
        found = found[-1:]  # a state stream: the last row per user is its list
    sel = " ".join("%s=%s" % (k, v) for k, v in conds)
    if want == "none":
        if found:
            print("%s: expected no row %s, got %s" % (table, sel, found[0][1]))
            return 1
        return 0
    if len(found) != 1:
        print("%s: expected one row %s, got %d%s" % (table, sel, len(found),
              "".join("\n  " + f[1] for f in found)))
        return 1
    if found[0][0] != _parse_row(table, want):
        print("%s row %s:\n  expected %s\n  got      %s" % (table, sel, want, found[0][1]))
        return 1
    return 0


def main(argv):
    if argv[:1] == ["--expect-row"]:
        return expect_rows(argv[1:])
    if len(argv) < 1:
        print(__doc__)
        return 2
    skip, rest = [], argv[1:]
    while rest[:1] == ["--skip"] and len(rest) > 1:
        if rest[1] not in M.TABLES:
            print("--skip: no table %r (tables: %s)" % (rest[1], " ".join(M.TABLES)))
            return 2
        skip.append(rest[1])
        rest = rest[2:]
    ok, _ = compare(argv[0], rest, skip=skip)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
