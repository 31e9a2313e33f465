#!/usr/bin/env python3
"""halfopen_proxy.py PORT_FILE TARGET_HOST TARGET_PORT — a TCP proxy that can cut its
clients off while the server still sees them: the half-open connection that a network
partition, a NAT that dropped its state or a crashed middlebox leaves behind.

It listens on 127.0.0.1 (a free port, written to PORT_FILE) and forwards each client to the
target. On SIGUSR1 it closes every client-side socket (the client reads EOF at once) and
keeps every server-side one open and unread: the server keeps the session, and whatever the
session holds (a PostgreSQL advisory lock), until its own keepalives give up. New clients
are forwarded as before. For e2e 0101."""
import signal
import socket
import sys
import threading

port_file, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
lock = threading.Lock()
clients = []   # client-side sockets still forwarded
kept = []      # server-side sockets of cut clients: never closed, never read again


def pipe(src, dst, cut):
    try:
        while not cut.is_set():
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass


def serve(c):
    s = socket.create_connection((host, port))
    cut = threading.Event()
    with lock:
        clients.append((c, s, cut))
    threading.Thread(target=pipe, args=(c, s, cut), daemon=True).start()
    threading.Thread(target=pipe, args=(s, c, cut), daemon=True).start()


def on_cut(signum, frame):
    with lock:
        for c, s, cut in clients:
            cut.set()
            kept.append(s)
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        clients.clear()


signal.signal(signal.SIGUSR1, on_cut)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(16)
with open(port_file + ".tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
import os
os.rename(port_file + ".tmp", port_file)
while True:
    try:
        c, _ = ls.accept()
    except InterruptedError:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
