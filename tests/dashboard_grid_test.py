"""Plot grids in headless Chromium: logs, editing cells, sharing, restarts.

Real services publish through the broker; the dashboard keeps its grids in
the test's state directory. Screenshots go to the test's temporary
directory; their paths are printed (``pytest -s``).
"""

from __future__ import annotations

import pytest
import yaml
from browser_helpers import (
    caption_total,
    configure,
    open_dashboard,
    open_tab,
    screenshot,
    wait_for,
)
from conftest import wait_until_consuming
from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MOTION = "timeseries_data/motion1/history"
CURRENT = "monitor_histogram/monitor1/current"
CUMULATIVE = "monitor_histogram/monitor1/cumulative"

MODEL_TYPES = """() => Bokeh.documents.flatMap(
    doc => [...doc.all_models].map(m => String(m).split("(")[0]))"""
"""The Bokeh model types on the page (``String(model)`` is ``Type(id)``)."""


def session(browser: Browser, url: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    open_dashboard(page, url)
    return page


def caption(page: Page, output: str):
    return page.locator(f'.ld-caption[data-output="{output}"]').first


def test_log_history_on_a_local_datetime_axis(
    start, reader, dashboard, browser, tmp_path
):
    start("timeseries", "--dev")
    wait_until_consuming(reader, "timeseries", partitions=2)
    start("fake_logdata")
    page = session(browser, dashboard("monitors")[0])
    open_tab(page, "Logs")
    motion = caption(page, MOTION)
    wait_for(
        lambda: motion.count() and motion.get_attribute("data-latest-time"),
        "the motion1 history",
    )
    assert "local" in motion.inner_text()
    assert "e+18" not in motion.inner_text()
    types = page.evaluate(MODEL_TYPES)
    assert "DatetimeAxis" in types, sorted(set(types))
    screenshot(page, tmp_path / "grid-logs.png")


def test_cells_are_edited_shared_and_kept_across_a_restart(
    start,
    reader,
    dashboard,
    browser,
    tmp_path,
):
    start("monitor_data", "--dev")
    wait_until_consuming(reader, "monitor_data", partitions=2)
    start("fake_monitors", "--mode", "ev44", "--events-per-pulse", "300")
    url, program = dashboard("monitors")
    first, second = session(browser, url), session(browser, url)
    wait_for(lambda: caption_total(first, CUMULATIVE), "the monitors grid")

    # Add a table of monitor1's counts; the other session gets it too.
    configure(first, "Add cell", **{"Cell title": "Counts", "Plotter": "table"})
    for page in (first, second):
        wait_for(
            lambda p=page: p.get_by_role("button", name="Remove Counts").count(),
            "the added cell in both sessions",
        )
    row = first.locator(f'tr[data-output="{CURRENT}"]')
    wait_for(lambda: row.count() and "waiting" not in row.inner_text(), "a count")

    # Configure: the last 30 s of monitor1 as a rate on a log axis.
    configure(
        first,
        "Configure monitor1 current",
        **{
            "Window": "last",
            "Last N s": "30",
            "y scale": "log",
            "Rate (per s)": "tick",
        },
    )
    for page in (first, second):
        wait_for(
            lambda p=page: "counts/s in" in caption(p, CURRENT).inner_text(),
            "the configured cell in both sessions",
        )
    screenshot(first, tmp_path / "grid-configured.png")

    # A binning sent is a job configuration the store keeps.
    bins = first.get_by_label("Bins", exact=True)
    bins.fill("40")
    bins.press("Enter")
    first.get_by_role("button", name="Apply TOA binning").click()
    wait_for(
        lambda: first.locator('.ld-feedback [data-outcome="accepted"]').count(),
        "the binning to be accepted",
    )

    # YAML: the download holds the grid; a bad upload says what is wrong.
    with first.expect_download() as download:
        first.get_by_role("button", name="Download grid").click()
    saved = yaml.safe_load(download.value.path().read_text())
    assert saved["name"] == "Monitors"
    assert "Counts" in [cell["title"] for cell in saved["cells"]]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [")
    first.locator('input[type="file"]').set_input_files(str(bad))
    message = first.locator(".ld-grid-message .ld-invalid")
    wait_for(lambda: message.count(), "the upload error")
    assert message.inner_text().startswith("Upload failed: not YAML")

    # Restart: the grid, its options and the binning are still there.
    for page in (first, second):
        page.context.close()
    assert program.stop() == 0, program.log()
    url, _ = dashboard("monitors")
    first, second = session(browser, url), session(browser, url)
    wait_for(
        lambda: "counts/s in" in caption(first, CURRENT).inner_text(),
        "the configured cell after the restart",
    )
    assert first.get_by_label("Bins", exact=True).input_value() == "40"
    screenshot(first, tmp_path / "grid-after-restart.png")

    # Remove the added cell: both sessions lose it.
    first.get_by_role("button", name="Remove Counts").click()
    for page in (first, second):
        wait_for(
            lambda p=page: not p.get_by_role("button", name="Remove Counts").count(),
            "the removed cell gone in both sessions",
        )
    screenshot(second, tmp_path / "grid-second-session.png")
