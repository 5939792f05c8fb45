"""Driving dashboards in Debian's headless Chromium, shared by browser tests.

Plain functions, not fixtures, so a test that runs its browser inside a
private network namespace (``spec_example_test.py``) can use them too.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
APT_INSTALL = ROOT / "scripts/apt_install.sh"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]


SLOW_UNDER_LOAD_S = 150
"""Wait for a browser round trip: a drawn ROI goes browser -> dashboard ->
Kafka -> service -> Kafka -> browser; on a loaded 2-core machine that once
took over 60 s."""


@contextmanager
def headless_chromium() -> Iterator[Browser]:
    """Headless Chromium (Debian's), installed first if it is missing."""
    if not CHROMIUM.exists():
        subprocess.run(
            ["sh", str(APT_INSTALL), str(CHROMIUM), "chromium", "chromium-driver"],
            check=True,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def screenshot(page: Page, path: Path) -> None:
    page.wait_for_timeout(2000)  # let figures rebuilt by a click finish drawing
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def caption_total(page: Page, output: str) -> float | None:
    """Counts the page shows under the plot of ``output`` (None while waiting)."""
    caption = page.locator(f'.ld-caption[data-output="{output}"]')
    if caption.count() == 0 or "waiting" in (caption.get_attribute("class") or ""):
        return None
    return float(caption.get_attribute("data-total"))


def open_dashboard(page: Page, url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            page.goto(url)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_tab(page: Page, name: str) -> None:
    """Open a tab of the dashboard (only the open tab is drawn)."""
    page.locator(".bk-tab", has_text=name).first.click()


def configure(page: Page, opener: str, **fields: str) -> None:
    """Open a cell's form with button ``opener``, set ``fields`` (label:
    value, ``tick`` for a checkbox) and save."""
    page.get_by_role("button", name=opener).click()
    for label, value in fields.items():
        if value == "tick":  # the form's one checkbox
            page.locator('input[type="checkbox"]').first.check()
            continue
        widget = page.get_by_label(label, exact=True)
        if widget.evaluate("e => e.tagName") == "SELECT":
            widget.select_option(value)
        else:
            widget.fill(value)
            widget.press("Enter")
    page.get_by_role("button", name="Save cell").click()
