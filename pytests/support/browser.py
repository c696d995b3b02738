"""Open a page in Debian's headless chromium over the DevTools protocol, network off.

Playwright cannot download its browsers here, so the tests drive /usr/bin/chromium
directly: start it with a free debugging port and a throw-away profile, talk to the
page over a websocket (websocket-client), and collect what a person would notice:
console errors, uncaught exceptions, every network request, and a screenshot.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

CHROMIUM = os.environ.get("SEGMART_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    # belt and braces next to the offline emulation: no name resolves, no proxy is asked
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--no-proxy-server",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome:", "devtools:")


def chromium_or_skip() -> str:
    import pytest

    if not (Path(CHROMIUM).is_file() and shutil.which(CHROMIUM)):
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)")
    return CHROMIUM


@dataclass
class PageResult:
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    values: Any = None
    numbers: Any = None
    pdf: bytes = b""

    @property
    def external_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """One headless chromium with one page; use as a context manager."""

    def __init__(self, width: int = 1366, height: int = 900) -> None:
        self.width, self.height = width, height
        self.profile = tempfile.mkdtemp(prefix="segmart-chromium-")
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                *FLAGS,
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.ws = websocket.create_connection(self._page_socket(), timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def _page_socket(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=2) as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode}")
            time.sleep(0.2)
        raise RuntimeError("chromium's DevTools endpoint did not come up in 30 s")

    def send(self, method: str, **params: Any) -> dict:
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("method") == method:
                return message
            self.events.append(message)
        raise TimeoutError(f"no {method} within {timeout}s")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, path: Path, probe: str | None = None, settle: float = 1.5, shot_height: int = 2400) -> PageResult:
        """Load a local file with the network emulated offline; run `probe` (JS) once it has loaded."""
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.send(f"{domain}.enable")
        self.send(
            "Network.emulateNetworkConditions", offline=True, latency=0, downloadThroughput=-1, uploadThroughput=-1
        )
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.events.clear()
        self.send("Page.navigate", url=path.resolve().as_uri())
        self.wait_for("Page.loadEventFired", timeout=120)
        time.sleep(settle)  # plotly draws after load; let it finish
        out = PageResult()
        out.values = self.evaluate(probe) if probe else None
        self.send("Runtime.evaluate", expression="1")  # drain pending events
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.console_errors.append(
                    " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                )
            elif method == "Runtime.exceptionThrown":
                out.exceptions.append(json.dumps(params.get("exceptionDetails", {}))[:500])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                out.console_errors.append(params["entry"].get("text", ""))
            elif method == "Network.requestWillBeSent":
                out.requests.append(params["request"]["url"])
        shot = self.send(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": self.width, "height": min(self.page_height(), shot_height), "scale": 1},
        )
        out.screenshot = base64.b64decode(shot["data"])
        return out

    def print_pdf(self) -> bytes:
        """The page printed on A4 portrait with the page's own print styles."""
        result = self.send(
            "Page.printToPDF", paperWidth=8.27, paperHeight=11.69, printBackground=True, preferCSSPageSize=True
        )
        return base64.b64decode(result["data"])

    def page_height(self) -> int:
        return int(self.evaluate("document.documentElement.scrollHeight"))

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# every plotly chart: drawn (an SVG with marks in it), and the data it holds
CHART_PROBE = """
(() => {
  const charts = [...document.querySelectorAll('.js-plotly-plot')].map(div => {
    const svg = div.querySelector('svg.main-svg');
    const marks = div.querySelectorAll(
      '.overplot .point path, .overplot path.js-line, .overplot .heatmaplayer image, .pielayer .slice path'
    ).length;
    return {id: div.id, svg: !!svg, marks: marks, width: svg ? svg.getBoundingClientRect().width : 0,
            data: (div.data || []).map(t => ({type: t.type, z: t.z || null, y: t.y || null, x: t.x || null}))};
  });
  return {charts: charts, declared: Number(document.querySelector('meta[name=segmart-charts]').content),
          text: document.body.innerText, html: document.documentElement.outerHTML.length};
})()
"""
