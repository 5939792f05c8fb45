"""Back-pressure: a service that fell behind skips to live data, counting exactly.

Two ways of falling behind, both with ``--max-lag-s 3``:

- a backlog: 30 s of pulses (data time) produced as fast as possible, then
  live pulses, as after a stall upstream or a slow start;
- a starved service: SIGSTOP for 6 s while pulses keep coming, then SIGCONT.

Either way the service must skip the old windows, count every skipped event
(``received == counted + ... + skipped``, ``received`` equal to everything
the broker acknowledged), publish the totals in its status, and go back to
normal processing with a data lag under the threshold.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from conftest import wait_until_consuming
from reliability_helpers import (
    PULSE_NS,
    SERVICE,
    LiveProducerThread,
    PulseProducer,
    ledger_of,
)

pytestmark = pytest.mark.slow

MAX_LAG_S = 3


def wait_for_catch_up(reader, delivered: int) -> tuple:
    """The status once every delivered event is in the ledger, and the result."""

    def settled():
        status = reader.latest_report(SERVICE)
        ledger = ledger_of(status)
        return ledger.received == delivered and (status, ledger)

    return reader.wait_for(settled, timeout=60, what=f"{delivered} events received")


def assert_exact(reader, status, ledger, delivered: int) -> None:
    assert ledger.received == delivered
    assert ledger.balanced
    assert ledger.skipped > 0
    assert ledger.counted + ledger.skipped == delivered  # all TOA in range
    assert status.counters["events_skipped"] == ledger.skipped
    assert status.counters["windows_skipped"] > 0
    cumulative = reader.latest("monitor_histogram/monitor1/cumulative")
    assert cumulative.sum().value == ledger.counted


def wait_until_live(reader) -> None:
    """Processing normally again, with a small data lag."""

    def live():
        status = reader.latest_report(SERVICE)
        return (
            status is not None
            and status.counters.get("windows_skipped", 0) > 0
            and not status.details.skipping
            and status.details.data_lag_s is not None
            and status.details.data_lag_s < MAX_LAG_S
        )

    reader.wait_for(live, timeout=30, what="the service to be live again")


def test_backlog_is_skipped_then_live_data_is_processed(start, reader, bootstrap):
    start(SERVICE, "--dev", "--max-lag-s", str(MAX_LAG_S))
    wait_until_consuming(reader, SERVICE, partitions=2)
    producer = PulseProducer(bootstrap, events_per_pulse=200, seed=1)
    now = time.time_ns()
    producer.backlog(now - 30 * 1_000_000_000, pulses=30 * 14)
    thread = LiveProducerThread(producer)
    thread.start()
    try:
        wait_until_live(reader)
        time.sleep(2)  # a few live windows after catching up
    finally:
        thread.finish()
    status, ledger = wait_for_catch_up(reader, producer.delivered_events)
    assert_exact(reader, status, ledger, producer.delivered_events)
    # The 30 s backlog is far behind: at least ~26 s of it must be skipped.
    assert ledger.skipped >= 26 * 14 * 200


def test_starved_service_skips_what_it_missed(start, reader, bootstrap):
    service = start(SERVICE, "--dev", "--max-lag-s", str(MAX_LAG_S))
    wait_until_consuming(reader, SERVICE, partitions=2)
    producer = PulseProducer(bootstrap, events_per_pulse=200, seed=2)
    thread = LiveProducerThread(producer)
    thread.start()
    try:
        time.sleep(2)
        os.kill(service.process.pid, signal.SIGSTOP)
        try:
            time.sleep(6)
        finally:
            os.kill(service.process.pid, signal.SIGCONT)
        wait_until_live(reader)
        time.sleep(2)
    finally:
        thread.finish()
    status, ledger = wait_for_catch_up(reader, producer.delivered_events)
    assert_exact(reader, status, ledger, producer.delivered_events)
    # Stopped 6 s with a 3 s threshold: a few seconds of pulses are skipped.
    assert ledger.skipped >= 2 * round(1e9 / PULSE_NS) * 200
    log = service.log()
    assert log.count("falling behind") >= 1
    assert "caught up: skipped" in log
