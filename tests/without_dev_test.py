"""Services run as ``services.md`` lists them, without ``--dev``, fed by the fakes.

The dummy instrument's production topology equals its dev topology, so the
fake producers (which publish the dev one) feed a service started either
way; before, every message was rejected as an unknown source.
"""

from __future__ import annotations

import pytest
from conftest import wait_until_consuming

CASES = {
    "monitor_data": (
        ("fake_monitors", "--mode", "ev44"),
        "monitor_histogram/monitor1/cumulative",
    ),
    "detector_data": (("fake_detectors",), "panel_0_xy/panel_0/cumulative"),
    "timeseries": (("fake_logdata",), "timeseries_data/temperature/history"),
}


@pytest.mark.kafka
@pytest.mark.parametrize("service", sorted(CASES))
def test_service_without_dev_processes_what_the_fakes_publish(start, reader, service):
    fake, output = CASES[service]
    start(service)
    wait_until_consuming(reader, service, partitions=2)  # data topic and commands
    start(*fake)
    reader.wait_for(lambda: reader.latest(output) is not None, timeout=60, what=output)
    reader.wait_for(
        lambda: reader.latest_report(service).counters.get("messages_received", 0),
        what=f"{service} to count messages",
    )
    assert reader.latest_report(service).counters.get("messages_rejected", 0) == 0
