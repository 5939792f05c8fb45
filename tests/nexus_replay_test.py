"""Replaying a NeXus file's events through the real services.

A file generated with the dummy instrument's banks and monitors, with known
per-pixel and per-monitor counts spread over irregular pulses, is replayed
by ``fake_detectors --nexus-file`` and ``fake_monitors --nexus-file``; the
services' cumulative results must equal the file's counts exactly. Every
time of arrival in the file is inside the services' default TOA range.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import wait_until_consuming

from ess.livedata.testing.nexus_files import (
    Bank,
    Component,
    NexusEvents,
    random_counts,
    write_nexus_file,
)

pytestmark = pytest.mark.kafka

# The dummy instrument's banks: ids run along the last dim, as in its
# logical views ``xy`` (y, x) and ``tubes`` (tube, pixel).
BANKS = {
    "panel_0": (Bank("panel_0", 1, (128, 128)), "xy"),
    "tubes_1": (Bank("tubes_1", 100_001, (48, 64)), "tubes"),
}
MONITOR_COUNTS = {"monitor1": 3_000, "monitor2": 1_234}
PULSES = 30


@pytest.fixture(scope="module")
def run_file(tmp_path_factory) -> tuple[str, NexusEvents]:
    events = NexusEvents(
        pulses=PULSES,
        detector_counts={
            name: random_counts(bank, 0.8, seed=i)
            for i, (name, (bank, _)) in enumerate(BANKS.items())
        },
        monitor_counts=MONITOR_COUNTS,
    )
    path = tmp_path_factory.mktemp("nexus") / "run.nxs"
    write_nexus_file(
        path,
        [bank for bank, _ in BANKS.values()],
        [Component(name, (0.0, 0.0, -5.0)) for name in MONITOR_COUNTS],
        events=events,
        seed=3,
    )
    return str(path), events


def test_replayed_detector_events_give_the_files_counts(start, reader, run_file):
    path, events = run_file
    start("detector_data", "--dev")
    wait_consuming(reader, "detector_data")
    fake = start("fake_detectors", "--nexus-file", path, "--speedup", "5")
    assert fake.wait(timeout=60) == 0, fake.log()
    assert f"replayed {2 * PULSES} messages" in fake.log()

    def cumulative(name: str):
        return reader.latest(f"{name}_{BANKS[name][1]}/{name}/cumulative")

    def complete() -> bool:
        return all(
            (image := cumulative(name)) is not None
            and image.sum().value == counts.sum()
            for name, counts in events.detector_counts.items()
        )

    reader.wait_for(complete, timeout=30, what="cumulative images of the file")
    for name, counts in events.detector_counts.items():
        np.testing.assert_array_equal(cumulative(name).values, counts)


def test_replayed_monitor_events_give_the_files_counts(start, reader, run_file):
    path, _ = run_file
    start("monitor_data", "--dev")
    wait_consuming(reader, "monitor_data")
    fake = start("fake_monitors", "--nexus-file", path, "--speedup", "inf")
    assert fake.wait(timeout=60) == 0, fake.log()

    def totals() -> dict[str, float | None]:
        found: dict[str, float | None] = {}
        for name in MONITOR_COUNTS:
            data = reader.latest(f"monitor_histogram/{name}/cumulative")
            found[name] = None if data is None else data.sum().value
        return found

    reader.wait_for(
        lambda: totals() == MONITOR_COUNTS, timeout=30, what="monitor totals"
    )


def test_a_file_without_matching_groups_is_one_line(start, run_file, tmp_path):
    write_nexus_file(tmp_path / "other.nxs", [Bank("front", 1, (2, 2))])
    fake = start("fake_detectors", "--nexus-file", str(tmp_path / "other.nxs"))
    assert fake.wait(timeout=30) == 1
    lines = fake.log().strip().splitlines()
    assert lines[-1].startswith("error: ")
    assert (
        "no NXdetector with NXevent_data is a detector bank of instrument"
        in (lines[-1])
    )
    assert "Traceback" not in fake.log()


def wait_consuming(reader, service: str) -> None:
    """Data and command partitions assigned: nothing sent is missed."""
    wait_until_consuming(reader, service, partitions=2)
