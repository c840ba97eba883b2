"""Headless Chromium driven over the DevTools protocol, for tests of pages served on loopback.

    with Chromium() as browser:
        browser.navigate(url)
        browser.wait_for("document.querySelector('#log').children.length > 0")
        browser.evaluate("document.title")

Chromium runs with a fresh profile in a temporary directory and with everything that would
reach the network on its own turned off; names other than localhost resolve to nothing, so
only the loopback pages a test serves can load. A test skips when chromium is not installed.
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from sockit_test import DEFAULT_TIMEOUT
from websocket_client import TEXT, WebSocket

CHROMIUM = shutil.which("chromium")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
    "--disable-extensions", "--disable-sync", "--disable-domain-reliability",
    "--disable-client-side-phishing-detection", "--disable-breakpad", "--metrics-recording-only",
    "--safebrowsing-disable-auto-update", "--password-store=basic", "--use-mock-keychain",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]",
    "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
)


class JavaScriptError(Exception):
    """An expression threw; the message is Chromium's description of the exception."""


class Chromium:
    """A headless Chromium and a DevTools session on its one page. Use as a context manager;
    flags are added to Chromium's command line.

    .events holds the protocol events received so far ((method, params)), among them console
    messages (Runtime.consoleAPICalled), uncaught exceptions (Runtime.exceptionThrown) and the
    browser's own log, which reports Content-Security-Policy violations (Log.entryAdded).
    """

    def __init__(self, timeout=DEFAULT_TIMEOUT, flags=()):
        if CHROMIUM is None:
            raise unittest.SkipTest("chromium is not installed")
        self.timeout = timeout
        self.flags = tuple(flags)
        self.events = []
        self._next_id = 0
        self._profile = self._proc = self._page = None

    def __enter__(self):
        self._profile = tempfile.mkdtemp(prefix="sockit-chromium-")
        try:
            with open(self.log_path, "wb") as log:
                self._proc = subprocess.Popen(
                    [CHROMIUM, *FLAGS, *self.flags, f"--user-data-dir={self._profile}",
                     "about:blank"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
            port = self._devtools_port()
            self._page = WebSocket.connect(("127.0.0.1", port), self._page_path(port),
                                           timeout=self.timeout)
            for domain in ("Page", "Runtime", "Log"):
                self.call(f"{domain}.enable")
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, *exc):
        self._stop()

    @property
    def log_path(self):
        """Chromium's stdout and stderr, for a failing test's message."""
        return os.path.join(self._profile, "chromium.log")

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def _devtools_port(self):
        """The port Chromium writes to DevToolsActivePort once it listens."""
        path = os.path.join(self._profile, "DevToolsActivePort")
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"chromium exited {self._proc.returncode}: {self.log()}")
            try:
                with open(path) as f:
                    first = f.readline()
                if first.endswith("\n"):
                    return int(first)
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"chromium wrote no DevToolsActivePort: {self.log()}")

    def _page_path(self, port):
        """The DevTools WebSocket path of the page Chromium opened, once it lists one."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=self.timeout)
            try:
                connection.request("GET", "/json/list")
                targets = json.loads(connection.getresponse().read())
            finally:
                connection.close()
            for target in targets:
                if target["type"] == "page":
                    url = target["webSocketDebuggerUrl"]
                    return url[url.index("/devtools/"):]
            time.sleep(0.05)
        raise TimeoutError(f"chromium listed no page: {self.log()}")

    def _stop(self):
        if self._page is not None:
            self._page.sock.close()
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(timeout=DEFAULT_TIMEOUT)
            # Its helpers (zygote, renderer) share the session Chromium started as leader.
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    def call(self, method, **params):
        """Sends one DevTools command and returns its result; events that arrive meanwhile go
        to .events. Raises RuntimeError when Chromium answers with an error."""
        self._next_id += 1
        ident = self._next_id
        self._page.send_text(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{method}: no answer after {self.timeout}s")
            opcode, payload = self._page.recv_message(left)
            if opcode != TEXT:
                continue
            message = json.loads(payload)
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            if "method" in message:
                self.events.append((message["method"], message.get("params", {})))

    def navigate(self, url):
        """Loads url and waits until the document is complete."""
        result = self.call("Page.navigate", url=url)
        if result.get("errorText"):
            raise RuntimeError(f"navigate {url}: {result['errorText']}")
        self.wait_for(f"location.href === {json.dumps(url)} && document.readyState === 'complete'")

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (a promise is awaited), as JSON
        gives it. Raises JavaScriptError when it throws."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise JavaScriptError(details.get("exception", {}).get("description", details["text"]))
        return result["result"].get("value")

    def wait_for(self, expression, timeout=None):
        """Evaluates expression until it is truthy (as JavaScript sees it) and returns its
        value; TimeoutError when it stays falsy for timeout seconds."""
        timeout = timeout or self.timeout
        deadline = time.monotonic() + timeout
        wrapped = f"Promise.resolve({expression}).then(v => v ? {{value: v}} : null)"
        while (found := self.evaluate(wrapped)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"still falsy after {timeout}s: {expression}")
            time.sleep(0.05)
        return found["value"]

    def problems(self):
        """Console errors, uncaught exceptions and browser log errors (CSP violations among
        them) seen so far, as text."""
        found = []
        for method, params in self.events:
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(details.get("exception", {}).get("description", details["text"]))
            elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
                found.append(" ".join(str(a.get("value", a.get("description")))
                                      for a in params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                found.append(f"{entry['text']} ({entry.get('url', '')})")
        return found
