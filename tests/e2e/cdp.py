"""cdp.py — drives headless Chromium over the DevTools protocol on a pipe
(--remote-debugging-pipe: JSON messages ending in NUL on fds 3 and 4), with the Python
standard library only, for the dashboard's end-to-end test (0502) and its screenshots.

A Page is one tab. Its API requests can be held (Fetch domain, response stage): the test
then lets the page's poll through one request at a time and reads the DOM between polls,
so that what the page shows is compared with exactly the answers it was given. Console
messages, uncaught exceptions and failed loads are collected in Page.problems.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time


class CDPError(Exception):
    pass


class Browser:
    def __init__(self, binary="chromium", timeout=30):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="cdp-profile-")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # the child's fds 3 and 4 are dup2'd from fds numbered above them, so that no
        # dup2 onto itself leaves close-on-exec set
        hi_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD_CLOEXEC, 10)
        hi_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_chrome_r)
        os.close(from_chrome_w)

        def child():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--user-data-dir=" + self.profile, "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking", "--disable-sync",
             "--hide-scrollbars", "--mute-audio", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=child, pass_fds=(3, 4))
        os.close(hi_r)
        os.close(hi_w)
        self.buf = b""
        self.next_id = 0
        self.events = []  # (session, method, params) not yet taken by a Page

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.to_chrome, self.from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read(self, deadline):
        """one message, or None when the deadline passed"""
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.from_chrome], [], [], left)
            if r:
                chunk = os.read(self.from_chrome, 1 << 20)
                if not chunk:
                    raise CDPError("chromium closed the pipe (exit %s)" % self.proc.poll())
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self.to_chrome, data):]
        deadline = time.monotonic() + self.timeout
        while True:
            m = self._read(deadline)
            if m is None:
                raise CDPError("no answer to %s within %ss" % (method, self.timeout))
            if m.get("id") == mid:
                if "error" in m:
                    raise CDPError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            if "method" in m:
                self.events.append((m.get("sessionId"), m["method"], m.get("params", {})))

    def wait_event(self, timeout):
        """the next event (session, method, params), or None after timeout seconds"""
        if self.events:
            return self.events.pop(0)
        m = self._read(time.monotonic() + timeout)
        while m is not None and "method" not in m:
            m = self._read(time.monotonic() + timeout)
        return None if m is None else (m.get("sessionId"), m["method"], m.get("params", {}))

    def page(self, width, height, hold=None):
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        return Page(self, session, width, height, hold)


class Page:
    def __init__(self, browser, session, width, height, hold):
        self.b, self.s = browser, session
        self.hold = hold            # URL path prefixes whose answers wait for release
        self.held = []              # paused requests: (requestId, path)
        self.answers = []           # (path, status, body text) of every answer let through
        self.problems = []          # console errors/warnings, exceptions, failed loads
        self.loaded = False
        for d in ("Page", "Runtime", "Log"):
            self.cmd(d + ".enable")
        self.cmd("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.cmd("Fetch.enable", {"patterns": [{"urlPattern": "*/api/*", "requestStage": "Response"}]})

    def cmd(self, method, params=None):
        return self.b.send(method, params, self.s)

    def _event(self, method, p):
        if method == "Fetch.requestPaused":
            path = "/" + p["request"]["url"].split("/", 3)[3]
            if self.hold and any(path.startswith(h) for h in self.hold):
                self.held.append((p["requestId"], path, p.get("responseStatusCode")))
            else:
                self._release(p["requestId"], path, p.get("responseStatusCode"))
        elif method == "Runtime.consoleAPICalled" and p["type"] in ("error", "warning", "assert"):
            self.problems.append("console.%s: %s" % (p["type"], " ".join(
                str(a.get("value", a.get("description", ""))) for a in p["args"])))
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            self.problems.append("exception: %s" % d.get("exception", {}).get("description", d.get("text")))
        elif method == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
            e = p["entry"]
            self.problems.append("log %s: %s %s" % (e["level"], e["text"], e.get("url", "")))
        elif method == "Page.loadEventFired":
            self.loaded = True

    def _release(self, rid, path, status):
        body = self.cmd("Fetch.getResponseBody", {"requestId": rid})
        text = base64.b64decode(body["body"]).decode() if body.get("base64Encoded") else body["body"]
        self.answers.append((path, status, text))
        self.cmd("Fetch.continueResponse", {"requestId": rid})

    def pump(self, timeout=0.05):
        """handles the events that came in; waits up to timeout for the first one"""
        ev = self.b.wait_event(timeout)
        while ev is not None:
            if ev[0] == self.s:
                self._event(ev[1], ev[2])
            ev = self.b.wait_event(0)

    def js(self, expr):
        """the value of a JavaScript expression (awaited when a promise)"""
        r = self.cmd("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise CDPError("%s: %s" % (expr[:80], r["exceptionDetails"]))
        return r["result"].get("value")

    def until(self, what, cond, timeout=30, release=False):
        """pumps events (letting one held request through per round when release) until
        cond() is true"""
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            if cond():
                return
            if time.monotonic() > deadline:
                raise CDPError("timed out after %ss waiting for %s" % (timeout, what))
            if release and self.held:
                self._release(*self.held.pop(0))

    def goto(self, url):
        self.loaded = False
        self.cmd("Page.navigate", {"url": url})
        self.until("the page to load", lambda: self.loaded)

    def polls(self):
        return int(self.js("document.body.dataset.polls || 0"))

    def step_poll(self, timeout=30):
        """lets the page's held API requests through until one more poll has completed;
        the next poll's requests are held, so the DOM stays as this poll left it.
        Returns the answers of that poll by path."""
        first, n = len(self.answers), self.polls()
        self.until("poll %d to complete" % (n + 1), lambda: self.polls() > n, timeout, release=True)
        return {path: (status, text) for path, status, text in self.answers[first:]}

    def screenshot(self, path, full=True):
        params = {"format": "png"}
        if full:
            m = self.cmd("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": m["width"], "height": m["height"], "scale": 1}
            params["captureBeyondViewport"] = True
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.cmd("Page.captureScreenshot", params)["data"]))
