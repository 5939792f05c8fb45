"""Dashboards in headless Chromium against the real broker and services.

fake_monitors -> monitor_data -> Kafka -> dashboard -> browser. Screenshots go
to the test's temporary directory; their paths are printed (``pytest -s``).
Chromium is installed by ``scripts/apt_install.sh``
when missing (needs root).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from browser_helpers import (
    SLOW_UNDER_LOAD_S,
    caption_total,
    open_dashboard,
    screenshot,
    wait_for,
)
from confluent_kafka.admin import AdminClient
from conftest import INSTRUMENT, private_broker, wait_until_consuming
from reliability_helpers import PulseProducer

from ess.livedata.dashboard.grid_store import STATE_DIR_ENV

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CUMULATIVE = "monitor_histogram/monitor1/cumulative"
"""The published result as the test reader names it, and its plot on the
page (the current monitor_histogram job on monitor1)."""


def test_monitor_plots_update_and_reset_drops_cumulative(
    start, reader, dashboard, page, tmp_path
):
    start("monitor_data", "--dev")
    wait_until_consuming(reader, "monitor_data", partitions=2)
    start("fake_monitors", "--mode", "ev44", "--events-per-pulse", "500")
    open_dashboard(page, dashboard("monitors")[0])

    first = wait_for(lambda: caption_total(page, CUMULATIVE), "cumulative counts")
    grown = wait_for(
        lambda: (t := caption_total(page, CUMULATIVE)) > first and t,
        "the cumulative plot to update",
    )
    assert page.locator(".bk-Canvas").count() >= 4
    status = page.locator('tr[data-service="monitor_data"]')
    assert "running" in status.inner_text()
    assert "events/s" in status.inner_text()
    screenshot(page, tmp_path / "monitors-live.png")

    wait_for(lambda: caption_total(page, CUMULATIVE) > 10 * 500 * 14, "3 windows")
    before = caption_total(page, CUMULATIVE)
    page.get_by_role("button", name="Reset cumulative").click()
    wait_for(
        lambda: page.locator('.ld-feedback [data-outcome="accepted"]').count(),
        "the service to accept the reset",
    )
    after = wait_for(
        lambda: (t := caption_total(page, CUMULATIVE)) < before and t,
        "the cumulative counts to drop",
    )
    assert grown > first
    assert after < before
    # What the service publishes agrees with the page.
    reader.wait_for(
        lambda: reader.latest(CUMULATIVE).sum().value < before,
        what="published cumulative below the pre-reset total",
    )
    screenshot(page, tmp_path / "monitors-after-reset.png")


def test_invalid_binning_is_explained_and_valid_one_applied(
    start, reader, dashboard, page, tmp_path
):
    start("monitor_data", "--dev")
    wait_until_consuming(reader, "monitor_data", partitions=2)
    start("fake_monitors", "--mode", "ev44", "--events-per-pulse", "200")
    open_dashboard(page, dashboard("monitors")[0])
    wait_for(lambda: caption_total(page, CUMULATIVE), "cumulative counts")

    toa_max = page.get_by_label("TOA max")
    toa_max.fill("-5")
    toa_max.press("Enter")
    page.get_by_role("button", name="Apply TOA binning").click()
    invalid = page.locator('.ld-feedback [data-outcome="invalid"]')
    wait_for(lambda: invalid.count(), "the inline validation error")
    assert "stop must be greater than start" in invalid.inner_text()
    toa_max.fill("50")
    toa_max.press("Enter")
    bins = page.get_by_label("Bins", exact=True)
    bins.fill("50")
    bins.press("Enter")
    page.get_by_role("button", name="Apply TOA binning").click()
    wait_for(
        lambda: page.locator('.ld-feedback [data-outcome="accepted"]').count(),
        "the binning to be accepted",
    )
    reader.wait_for(
        lambda: reader.latest(CUMULATIVE).sizes == {"time_of_arrival": 50},
        what="50 bins",
    )
    assert reader.latest(CUMULATIVE).coords["time_of_arrival"].values[-1] == 50
    readback = page.locator(".ld-readback")
    wait_for(lambda: "50 bins" in readback.inner_text(), "the readback")
    screenshot(page, tmp_path / "monitors-50-bins.png")


def test_skipped_events_reach_the_status_strip(
    start, reader, bootstrap, dashboard, page, tmp_path
):
    """Back-pressure on the page: a backlog older than ``--max-lag-s`` is
    skipped, and the status strip shows exactly the events the service
    counted as skipped, and that it is skipping."""
    start("monitor_data", "--dev", "--max-lag-s", "3")
    wait_until_consuming(reader, "monitor_data", partitions=2)
    open_dashboard(page, dashboard("monitors")[0])
    row = page.locator('tr[data-service="monitor_data"]')
    wait_for(
        lambda: row.count() and "none · max lag 3 s" in row.inner_text(),
        "the status strip to show nothing skipped",
        timeout=SLOW_UNDER_LOAD_S,
    )
    # 10 s of pulses from 30 s ago: every window is too old to be processed.
    producer = PulseProducer(bootstrap, events_per_pulse=100, seed=3)
    producer.backlog(time.time_ns() - 30 * 1_000_000_000, pulses=10 * 14)
    producer.flush()
    delivered = producer.delivered_events
    wait_for(
        lambda: row.get_attribute("data-events-skipped") == str(delivered),
        f"{delivered} skipped events on the page",
        timeout=SLOW_UNDER_LOAD_S,
    )
    assert row.get_attribute("data-skipping") == "true"
    assert f"skipping now · {delivered:,} events in" in row.inner_text()
    banner = page.locator(".ld-banner.warning", has_text="falling behind")
    assert f"{delivered:,} events skipped" in banner.inner_text()
    # The service's own count agrees with the page.
    reader.wait_for(
        lambda: (
            reader.latest_report("monitor_data").counters["events_skipped"] == delivered
        ),
        timeout=SLOW_UNDER_LOAD_S,
        what=f"{delivered} events_skipped in the heartbeat",
    )
    screenshot(page, tmp_path / "monitors-skipping.png")


def consumers_of(bootstrap: str, pid: int) -> list[str]:
    """Groups on the broker with a member of process ``pid`` (one per member)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    groups = [g.group_id for g in admin.list_consumer_groups().result().valid]
    if not groups:
        return []
    described = admin.describe_consumer_groups(groups)
    return [
        group
        for group, future in described.items()
        for member in future.result().members
        if member.client_id.endswith(f"-{pid}")
    ]


@pytest.mark.alone  # ten Chromium sessions fill both cores
def test_ten_sessions_share_one_kafka_consumer(bootstrap, dashboard, browser, tmp_path):
    url, program = dashboard("monitors")
    contexts = [browser.new_context() for _ in range(10)]
    try:
        pages = [context.new_page() for context in contexts]
        for session in pages:
            open_dashboard(session, url)
        # Each session is live: its one-line status strip has left its first
        # "waiting" state (no service runs here, so it says what is missing).
        for session in pages:
            session.wait_for_selector(".ld-summary", timeout=60_000)
            wait_for(
                lambda s=session: not s.locator(".ld-summary.info").count(),
                "every session's status strip to update",
            )
        found = wait_for(
            lambda: consumers_of(bootstrap, program.process.pid),
            "the dashboard's consumer",
        )
        assert len(found) == 1, found  # one group, one member, for ten sessions
        screenshot(pages[-1], tmp_path / "monitors-tenth-session.png")
    finally:
        for context in contexts:
            context.close()


def test_lost_broker_is_a_banner_not_a_blank_page(dashboard, page, tmp_path):
    """A broker unreachable at start-up ends the dashboard (one line, see
    startup_failures_test); one that goes away later is shown in the page."""
    with private_broker(tmp_path / "kafka") as broker:
        open_dashboard(page, dashboard("monitors", broker.bootstrap_servers)[0])
        broker.stop()
        banner = page.locator(".ld-banner.error")
        wait_for(
            lambda: banner.count() and "unreachable" in banner.first.inner_text(),
            "the unreachable-broker banner",
        )
        assert page.locator(".bk-Canvas").count() >= 4  # the plots are still there
        screenshot(page, tmp_path / "monitors-no-broker.png")


def test_gunicorn_command_serves_the_live_dashboard(
    start, reader, bootstrap, page, tmp_path
):
    """``LIVEDATA_INSTRUMENT=dummy gunicorn ...monitors_wsgi:application`` on 5007."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 5007)) == 0:
            pytest.fail("port 5007 is in use; the gunicorn command needs it")
    start("monitor_data", "--dev")
    wait_until_consuming(reader, "monitor_data", partitions=2)
    start("fake_monitors", "--mode", "ev44", "--events-per-pulse", "200")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GUNICORN", "LIVEDATA_DASHBOARD"))
    }
    env |= {
        STATE_DIR_ENV: str(tmp_path / "state"),
        "LIVEDATA_INSTRUMENT": INSTRUMENT,
        "KAFKA2_BOOTSTRAP_SERVERS": bootstrap,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        gunicorn = subprocess.Popen(
            ["gunicorn", "ess.livedata.dashboard.monitors_wsgi:application"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        open_dashboard(page, "http://localhost:5007/")
        first = wait_for(lambda: caption_total(page, CUMULATIVE), "data via gunicorn")
        wait_for(lambda: caption_total(page, CUMULATIVE) > first, "live updates")
        screenshot(page, tmp_path / "monitors-gunicorn.png")
    finally:
        workers = psutil.Process(gunicorn.pid).children(recursive=True)
        gunicorn.terminate()
        code = gunicorn.wait(30)
        _, alive = psutil.wait_procs(workers, timeout=10)
    assert code == 0, log.read_text()
    assert alive == []


def test_detector_grid_shows_every_bank_view(start, reader, dashboard, page, tmp_path):
    """The detectors entry point opens on its grid with every view's image.
    Drawing ROIs there is ``dashboard_roi_status_test``'s round trip."""
    start("detector_data", "--dev")
    wait_until_consuming(reader, "detector_data", partitions=2)
    start("fake_detectors", "--events-per-pulse", "2000")
    url, _ = dashboard("detectors")
    open_dashboard(page, url)
    for bank, view in (
        ("panel_0", "xy"),
        ("panel_0", "plane"),
        ("tubes_1", "tubes"),
        ("tubes_1", "mantle"),
    ):
        shown = f"{bank}_{view}/{bank}/cumulative"
        wait_for(lambda s=shown: caption_total(page, s), f"the {shown} image")
    screenshot(page, tmp_path / "detectors-grid.png")
