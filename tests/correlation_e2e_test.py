"""A correlation cell of the plot grid filling in headless Chromium.

fake_monitors -> monitor_data and fake_logdata -> timeseries -> Kafka ->
monitors dashboard: the dummy's Monitors grid ends with a correlation cell,
each window's monitor1 counts against the ``motion1`` motor (1-D); the test
configures it against ``motion1`` and ``temperature`` (2-D).
"""

from __future__ import annotations

import pytest
from browser_helpers import configure, open_dashboard, screenshot, wait_for
from conftest import wait_until_consuming

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CAPTION = '.ld-correlation[data-output="monitor_histogram/monitor1/counts_total"]'
CELL = "monitor1 counts against motion1"


def paired(session) -> int:
    caption = session.locator(CAPTION)
    return int(caption.get_attribute("data-paired")) if caption.count() else 0


def test_correlation_cell_fills_against_fake_motor_and_temperature(
    start,
    reader,
    dashboard,
    page,
    tmp_path,
):
    url = dashboard("monitors")[0]  # imports Panel while the services start
    start("monitor_data", "--dev")
    start("timeseries", "--dev")
    wait_until_consuming(reader, "monitor_data", partitions=2)
    wait_until_consuming(reader, "timeseries", partitions=2)
    start("fake_monitors", "--mode", "ev44", "--events-per-pulse", "100")
    start("fake_logdata")
    open_dashboard(page, url)

    first = wait_for(lambda: paired(page), "windows paired with motion1", timeout=90)
    wait_for(lambda: paired(page) >= first + 3, "the correlation to fill")
    cell = page.locator(".ld-cell", has=page.locator(CAPTION))
    assert cell.locator(".bk-Canvas").count() == 1
    assert "against motion1: " in page.locator(CAPTION).inner_text()
    assert "outputs paired" in page.locator(CAPTION).inner_text()
    screenshot(page, tmp_path / "correlation-1d.png")

    configure(page, f"Configure {CELL}", **{"Y log": "temperature"})
    wait_for(
        lambda: (
            "motion1 and temperature" in page.locator(CAPTION).inner_text()
            and paired(page) >= 3
        ),
        "the 2-D correlation to fill",
    )
    screenshot(page, tmp_path / "correlation-2d.png")
