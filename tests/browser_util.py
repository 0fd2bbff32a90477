"""Helpers for the real-browser checks: a `streamlit run` server on a free port and Debian's headless Chromium.

Shared by tests/test_browser.py and benchmarks/bench_app.py. No browser is downloaded: Playwright drives the
system's `chromium` (CI installs it with apt-get).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}
PLOTLY = '[data-testid="stPlotlyChart"] .js-plotly-plot .main-svg'  # a chart that Plotly has drawn
EXCEPTION = '[data-testid="stException"]'


def chromium_path() -> str | None:
    """Debian's chromium, or None when it is not installed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`streamlit run app.py` on 127.0.0.1, its output kept in a log file."""

    def __init__(self, home: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.home, self.log_path, self.extra_env = home, log, env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> float:
        """Start the server and wait until /_stcore/health answers "ok"; returns the moment it did."""
        env = {**os.environ, "MTLREC_HOME": str(self.home), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        env.update(self.extra_env)
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port)]
        command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        self.home.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # closed in stop()
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {self.process.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as reply:
                    if reply.read().decode().strip() == "ok":
                        return time.perf_counter()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"streamlit was not healthy after {timeout:.0f} s:\n{self.output()}")

    def output(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if getattr(self, "_log", None) is not None:
            self._log.close()


@contextmanager
def running_server(home: Path, log: Path) -> Iterator[Server]:
    server = Server(home, log)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def chromium(executable: str) -> Iterator:
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def new_page(browser) -> Iterator:
    """A page in a fresh browser context (no cookies, no cache) at the screenshot viewport."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    try:
        yield context.new_page()
    finally:
        context.close()


@contextmanager
def browser_page(executable: str) -> Iterator:
    """A page of a browser of its own."""
    with chromium(executable) as browser, new_page(browser) as page:
        yield page


def wait_until_idle(page, timeout: float = 30_000) -> None:
    """Wait until the script run is over (the app root carries Streamlit's script and connection states)."""
    page.wait_for_timeout(100)  # a click's rerun starts only after its message reaches the server
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.dataset.testScriptState === "notRunning" && app.dataset.testConnectionState === "CONNECTED";
        }""",
        timeout=timeout,
    )


def wait_for_charts(page, minimum: int = 1, timeout: float = 30_000) -> int:
    """Wait until at least `minimum` Plotly charts are drawn and their count stops changing; returns the count."""
    page.wait_for_function(
        f"() => document.querySelectorAll({PLOTLY!r}).length >= {minimum}",
        timeout=timeout,
    )
    count, stable_since = -1, time.monotonic()
    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        now = page.locator(PLOTLY).count()
        if now != count:
            count, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since > 0.6:
            break
        page.wait_for_timeout(150)
    page.wait_for_timeout(400)  # Plotly's transitions
    return count


def wait_for_title(page, title: str, timeout: float = 60_000) -> None:
    """Wait for a page's title; fail at once, with its text, when an exception box shows up instead."""
    heading = page.get_by_role("heading", name=title, exact=True).first
    exception = page.locator(EXCEPTION).first
    heading.or_(exception).first.wait_for(timeout=timeout)
    if exception.is_visible():
        raise AssertionError(f"an exception instead of the {title!r} page:\n{exception.inner_text()[:3000]}")


def page_problems(page) -> list[str]:
    """Exception boxes and tracebacks on the page (empty when the page is clean)."""
    problems = []
    boxes = page.locator(EXCEPTION)
    for i in range(boxes.count()):
        problems.append("exception box: " + boxes.nth(i).inner_text()[:2000])
    text = page.locator('[data-testid="stApp"]').inner_text()
    if "Traceback" in text:
        start = text.index("Traceback")
        problems.append("traceback text: " + text[start : start + 2000])
    return problems
