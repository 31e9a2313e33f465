"""pace.py FILE SECONDS: writes FILE's lines to stdout evenly over SECONDS of real time.

Used by the outage tests to keep a run going while a server is stopped and started: when the
engine pauses its input (a sink is down) the pipe fills and the writes block, which is the
backpressure under test."""
import sys
import time

lines = open(sys.argv[1], "rb").read().splitlines(keepends=True)
dur = float(sys.argv[2])
out = sys.stdout.buffer
t0 = time.monotonic()
i = 0
while i < len(lines):
    due = min(len(lines), int((time.monotonic() - t0) / dur * len(lines)) + 1)
    if due > i:
        out.write(b"".join(lines[i:due]))
        out.flush()  # blocks while the engine has paused its input: the pipe is full
        i = due
    else:
        time.sleep(0.01)  # the pace itself, not a wait for a condition
