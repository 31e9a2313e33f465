"""kafka_origins.py — for the Kafka end-to-end tests: the engine's per-record rows name their
origin as a topic's (partition, offset), the model's as the line of the file the topic was
written from. This module reads a topic dump and maps one onto the other.

    PYTHONPATH="$E2E_DIR" python3 - ... <<'PYEOF'
    from kafka_origins import Dump, rows, model_dlq_by_origin
"""
import json
from collections import Counter, defaultdict


class Dump:
    """A topic as `kcat -C -J -e` printed it: one JSON object per message."""

    def __init__(self, path):
        self.by = defaultdict(list)   # payload -> [(partition, offset)]
        self.at = {}                  # (partition, offset) -> payload
        self.occ = defaultdict(list)  # event_id (orders: order_id) -> [(partition, offset)] of every record holding it
        self.end = defaultdict(int)   # partition -> the offset after its last message
        for line in open(path):
            m = json.loads(line)
            po = (m["partition"], m["offset"])
            self.by[m["payload"]].append(po)
            self.at[po] = m["payload"]
            self.end[po[0]] = max(self.end[po[0]], po[1] + 1)
            try:
                r = json.loads(m["payload"])
            except ValueError:
                continue
            if isinstance(r, dict):
                eid = r.get("event_id", r.get("order_id"))
                if isinstance(eid, str):
                    self.occ[eid].append(po)

    def __len__(self):
        return len(self.at)

    def origins_of_lines(self, path):
        """Line number of the file the topic was written from -> (partition, offset).

        Records are matched by content; identical ones (exact redeliveries) in line order
        and (partition, offset) order, which agree because every key keeps one partition."""
        lines = defaultdict(list)
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            if line.strip():
                lines[line.rstrip("\n")].append(n)
        origin = {}
        for payload, ns in lines.items():
            for n, po in zip(ns, sorted(self.by[payload])):
                origin[n] = po
        return origin


def rows(out_dir, table, pred=lambda r: True):
    """The rows of OUT_DIR/TABLE.jsonl that pred accepts; none when the file is absent."""
    try:
        with open("%s/%s.jsonl" % (out_dir, table)) as f:
            return [r for r in (json.loads(line) for line in f if line.strip()) if pred(r)]
    except FileNotFoundError:
        return []


def by_key(rs, key, what, bad):
    """{key(r): r} over the rows rs, where each key must occur once: a key seen more than
    once (a row emitted twice, which a dict would hide) is added to bad, named by what."""
    for k, n in Counter(key(r) for r in rs).items():
        if n > 1:
            bad.append("%s: row %s %d times" % (what, k, n))
    return {key(r): r for r in rs}


def model_dlq_by_origin(model_dir, origins):
    """The model's dlq rows as the engine writes them when it reads each stream from a topic,
    keyed by (topic, partition, offset). origins: stream -> (topic, Dump.origins_of_lines of the
    file the model read for that stream)."""
    by_origin = {}
    for r in rows(model_dir, "dlq"):
        topic, line_origin = origins[r["stream"]]
        r["source"], (r["partition"], r["offset"]) = topic, line_origin[r["offset"]]
        by_origin[(topic, r["partition"], r["offset"])] = r
    return by_origin
