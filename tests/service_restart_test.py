"""Service restart: cumulative starts again at the live end; nothing is replayed.

The documented choice (docs/reliability.md): a restarted service keeps no
state and commits no offsets, so it starts at the end of each partition; its
cumulative result restarts, and the result's ``start_time`` (later than
anything before the restart) is the visible marker. Data produced while it
was down is never counted; neither is anything the previous instance counted.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import wait_until_consuming
from reliability_helpers import (
    PULSE_NS,
    SERVICE,
    PulseProducer,
    ledger_of,
    start_monitor_service,
)

pytestmark = pytest.mark.slow
EVENTS = 100


def pulses_from_now(count: int) -> tuple[int, int]:
    """First pulse time (the next pulse slot) and the one after the last."""
    first = (time.time_ns() // PULSE_NS + 1) * PULSE_NS
    return first, first + count * PULSE_NS


def wait_for_cumulative(reader, total: int):
    def found():
        data = reader.latest("monitor_histogram/monitor1/cumulative")
        status = reader.latest_report(SERVICE)
        return (
            data is not None
            and data.sum().value == total
            and ledger_of(status).received == total
            and (data, status)
        )

    return reader.wait_for(found, timeout=30, what=f"cumulative of {total} events")


def test_restart_counts_only_new_data_from_a_later_start_time(
    bootstrap, reader, tmp_path
):
    producer = PulseProducer(bootstrap, events_per_pulse=EVENTS, seed=3)

    first = start_monitor_service(bootstrap, tmp_path / "first")
    try:
        wait_until_consuming(reader, SERVICE, partitions=2)
        start, _ = pulses_from_now(28)
        producer.backlog(start, 28)
        producer.flush()
        before, status_before = wait_for_cumulative(reader, 28 * EVENTS)
    finally:
        assert first.stop() == 0, first.log()

    # Produced while no service runs: must never be counted.
    down_start, down_end = pulses_from_now(14)
    producer.backlog(down_start, 14)
    producer.flush()

    second = start_monitor_service(bootstrap, tmp_path / "second")
    try:
        reader.wait_for(
            lambda: (
                (s := reader.latest_report(SERVICE)) is not None
                and s.pid == second.process.pid
                and s.counters.get("assigned_partitions", 0) >= 2
            ),
            timeout=60,
            what="the restarted service to be assigned",
        )
        new_start, _ = pulses_from_now(14)
        new_start = max(new_start, down_end + 1_000_000_000)  # a later window
        producer.backlog(new_start, 14)
        producer.flush()
        after, status_after = wait_for_cumulative(reader, 14 * EVENTS)
    finally:
        assert second.stop() == 0, second.log()

    assert status_after.pid != status_before.pid
    assert status_after.message.started_at > status_before.message.started_at
    start_time = after.coords["start_time"].value.astype("datetime64[ns]")
    assert start_time > before.coords["end_time"].value
    assert start_time >= np.datetime64(down_end // 1_000_000_000 * 1_000_000_000, "ns")
    ledger = ledger_of(status_after)
    assert ledger.received == ledger.counted == 14 * EVENTS
    assert "assigned dummy_beam_monitor[0]@" in second.log()
    assert "(live end)" in second.log()
