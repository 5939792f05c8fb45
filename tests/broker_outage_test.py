"""Broker outage: the service survives, logs it once, reconnects, counts exactly once.

A dedicated broker (its own port and data directory) is stopped for about
10 s under a running monitor_data while the test keeps producing pulses;
the producer buffers them and delivers them once the broker is back. The
service must stay up, log the outage as one WARNING (not one per retry),
log the recovery, and end with a cumulative spectrum holding exactly the
events the broker acknowledged: none lost, none counted twice.

``--max-lag-s 60``: the pulses buffered during the outage arrive ~10 s late
and must be counted, not skipped (skipping is tested in backpressure_test).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from conftest import private_broker, wait_until_consuming
from reliability_helpers import (
    INSTRUMENT,
    SERVICE,
    LiveProducerThread,
    PulseProducer,
    ledger_of,
    start_monitor_service,
)

from ess.livedata.kafka.local_broker import LocalKafkaBroker
from ess.livedata.testing.readers import LivedataReader

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

OUTAGE_S = 10


@pytest.fixture(scope="module")
def outage_broker(tmp_path_factory) -> Iterator[LocalKafkaBroker]:
    """A broker of this module only, so stopping it disturbs no other test."""
    with private_broker(tmp_path_factory.mktemp("outage-kafka")) as broker:
        yield broker


def test_service_survives_broker_outage_and_counts_each_event_once(
    outage_broker, tmp_path
):
    servers = outage_broker.bootstrap_servers
    service = start_monitor_service(servers, tmp_path, "--max-lag-s", "60")
    reader = LivedataReader(servers, INSTRUMENT)
    producer = PulseProducer(servers, events_per_pulse=100)
    thread = LiveProducerThread(producer)
    try:
        wait_until_consuming(reader, SERVICE, partitions=2)
        thread.start()
        reader.wait_for(
            lambda: ledger_of(reader.latest_report(SERVICE)).received > 0,
            what="first counted events",
        )

        outage_broker.stop()
        time.sleep(OUTAGE_S)
        assert service.process.poll() is None, service.log()
        outage_broker.start()

        time.sleep(3)  # some live data after the outage too
        thread.finish()
        delivered = producer.delivered_events
        assert producer.failed_messages == 0

        def all_counted():
            status = reader.latest_report(SERVICE)
            ledger = ledger_of(status)
            data = reader.latest("monitor_histogram/monitor1/cumulative")
            return (
                ledger.received == delivered
                and data is not None
                and data.sum().value == delivered
                and (status, ledger)
            )

        status, ledger = reader.wait_for(
            all_counted, timeout=60, what=f"exactly {delivered} events counted"
        )
        assert ledger.counted == delivered
        assert ledger.skipped == 0
        assert ledger.balanced
        assert status.counters["windows_skipped"] == 0
        # The service's own clients reconnected: status is published again.
        assert status.state == "running"
    finally:
        if thread.is_alive():
            thread.finish()
        reader.close()
        code = service.stop()
    assert code == 0, service.log()
    log = service.log()
    assert "Traceback" not in log
    warnings = [line for line in log.splitlines() if re.search(r" WARNING ", line)]
    lost = [line for line in warnings if "lost connection to Kafka" in line]
    assert len(lost) == 1, "\n".join(warnings)
    assert "reachable again" in log
    # Not a flood: one line per retry over 10 s would be dozens.
    assert len(warnings) <= 5, "\n".join(warnings)
    assert " ERROR " not in log, log
