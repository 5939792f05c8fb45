"""Scale-out: two detector_data workers split a partitioned topic between them.

Workers of one service share the consumer group ``{instrument}_{service}``,
so Kafka assigns each partition of the input topic to exactly one of them;
there is no coordinator of our own. Each worker then counts and publishes
only the events of its partitions, under the same output names as the other
worker. What is checked here, through the real broker and the real fake
producer:

- with two workers on a 2-partition ``dummy_detector`` topic both receive
  events, and the sum of their per-bank ledgers (``received``, ``counted``;
  cumulative per worker, told apart by pid in their heartbeats) equals the
  events produced;
- summing every published ``*_current`` image and TOA spectrum over both
  workers gives exactly the per-pixel counts of the events produced;
- the reader's ``latest`` of each ``*_cumulative`` image, which combines the
  two workers' parts as the dashboard does (told apart by the
  ``livedata-worker`` header), is exactly those per-pixel counts;
- one worker alone (the other stopped, so it takes both partitions) counts
  the same events again to the same totals and the same image.

Workers run with the default ``max_lag_s``: they load their compiled
kernels before subscribing (``processing.warm_up``), so a fresh worker's
first window is not late for it.

The test starts a broker of its own: the session broker's ``dummy_detector``
has one partition, and partitions can only be added, never removed, so
changing it would leak into other tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
import scipp as sc
from conftest import (
    CONTROL_PARTITIONS,
    private_broker,
    wait_for_assignment,
    wait_for_ledgers,
)

from ess.livedata.core.plugins import load_instrument
from ess.livedata.fake.detectors import PixelSampler, draw_events
from ess.livedata.processing.detectors import DEFAULT_BINNING
from ess.livedata.testing.processes import Program
from ess.livedata.testing.readers import LivedataReader

pytestmark = pytest.mark.kafka

INSTRUMENT = "dummy"
SERVICE = "detector_data"
PARTITIONS = 2
DATA_TOPICS = (f"{INSTRUMENT}_detector", f"{INSTRUMENT}_area_detector")
"""What detector_data reads of the dummy: events and area-detector frames.
Both get PARTITIONS partitions, so that each of two workers is assigned one
of each and a worker alone all of them."""
ALONE = len(DATA_TOPICS) * PARTITIONS
SHARED = len(DATA_TOPICS)
PULSES = 28
EVENTS_PER_PULSE = 500
SEED = 11
# The logical view of each bank of the dummy instrument (no fold/transpose,
# so the image is the bank's detector_number array).
LOGICAL_VIEW = {"panel_0": "xy", "tubes_1": "tubes"}


@pytest.fixture(scope="module")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of this module's own with 2-partition data topics."""
    partitions = dict.fromkeys(DATA_TOPICS, PARTITIONS)
    data_dir = tmp_path_factory.mktemp("scaleout-kafka")
    with private_broker(data_dir, partitions) as broker:
        yield broker.bootstrap_servers


def expected_counts() -> dict[str, np.ndarray]:
    """Per-pixel counts (detector_number order) of what fake_detectors sends,
    TOA within the default binning, by repeating its draws."""
    loaded = load_instrument(INSTRUMENT)
    instrument, shapes = loaded.instrument, loaded.fake_data_shapes()
    samplers = [
        PixelSampler(bank, shapes, instrument.sample_position)
        for bank in instrument.detectors
    ]
    rng = np.random.default_rng(SEED)
    hi = round(DEFAULT_BINNING.toa_max * DEFAULT_BINNING.unit.ns)
    counts = {
        bank.name: np.zeros(bank.detector_number.shape, dtype=np.int64)
        for bank in instrument.detectors
    }
    for _ in range(PULSES):
        for bank, sampler in zip(instrument.detectors, samplers, strict=True):
            pixel_id, toa = draw_events(
                sampler, shapes.detector_toa, EVENTS_PER_PULSE, rng
            )
            numbers = bank.detector_number.values.ravel()
            index = np.searchsorted(numbers, pixel_id[(toa >= 0) & (toa < hi)])
            counts[bank.name] += np.bincount(index, minlength=numbers.size).reshape(
                bank.detector_number.shape
            )
    return counts


def run_fake(start: Callable[..., Program]) -> None:
    fake = start(
        "fake_detectors",
        "--pulses",
        str(PULSES),
        "--seed",
        str(SEED),
        "--events-per-pulse",
        str(EVENTS_PER_PULSE),
    )
    assert fake.wait(timeout=60) == 0, fake.log()


def current_sums(
    reader: LivedataReader, skip: dict[str, int] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Per bank: the sum of all its logical view's ``current`` images, and
    the total of all that view's ``toa_current`` spectra (both workers, all windows),
    leaving out the first ``skip[name]`` messages of each output."""
    skip = skip or {}
    images: dict[str, np.ndarray] = {}
    toa: dict[str, int] = {}
    for bank, view in LOGICAL_VIEW.items():
        name = f"{bank}_{view}/{bank}/current"
        messages = reader.data.get(name, [])[skip.get(name, 0) :]
        if messages:
            images[bank] = sum(m.values for m in messages)
        name = f"{bank}_{view}/{bank}/toa_current"
        messages = reader.data.get(name, [])[skip.get(name, 0) :]
        toa[bank] = int(sum(m.sum().value for m in messages))
    return images, toa


def output_counts(reader: LivedataReader) -> dict[str, int]:
    return {name: len(messages) for name, messages in reader.data.items()}


def test_two_workers_count_what_one_counts(start, reader):
    expected = expected_counts()
    produced = PULSES * EVENTS_PER_PULSE
    worker_a = start(SERVICE, "--dev")
    wait_for_assignment(
        reader,
        SERVICE,
        {worker_a.process.pid: CONTROL_PARTITIONS[SERVICE] + ALONE},
    )
    worker_b = start(SERVICE, "--dev")
    pids = {worker_a.process.pid, worker_b.process.pid}
    # After the rebalance each worker has one partition of each data topic
    # (+ control).
    wait_for_assignment(
        reader, SERVICE, dict.fromkeys(pids, CONTROL_PARTITIONS[SERVICE] + SHARED)
    )

    run_fake(start)
    ledgers = wait_for_ledgers(
        reader, SERVICE, pids, dict.fromkeys(LOGICAL_VIEW, produced)
    )
    for bank, image in expected.items():
        per_worker = [ledgers[pid][bank] for pid in pids]
        # Both partitions were used: each worker saw part of the data.
        assert all(ledger.received > 0 for ledger in per_worker), per_worker
        assert all(ledger.balanced for ledger in per_worker), per_worker
        assert sum(ledger.counted for ledger in per_worker) == image.sum(), per_worker

    def published() -> bool:
        _, toa = current_sums(reader)
        return all(toa[bank] == image.sum() for bank, image in expected.items())

    reader.wait_for(published, timeout=30, what="all windows of both workers")
    images, _ = current_sums(reader)
    for bank, image in expected.items():
        np.testing.assert_array_equal(images[bank], image)

    def cumulative(bank: str) -> sc.DataArray | None:
        return reader.latest(f"{bank}_{LOGICAL_VIEW[bank]}/{bank}/cumulative")

    reader.wait_for(
        lambda: all(
            (c := cumulative(bank)) is not None and c.sum().value == image.sum()
            for bank, image in expected.items()
        ),
        timeout=30,
        what="both workers' cumulative images combined",
    )
    for bank, image in expected.items():
        np.testing.assert_array_equal(cumulative(bank).values, image)
    two_workers = {pid: ledgers[pid] for pid in pids}

    # One worker alone: the other leaves the group, the first takes over.
    assert worker_b.stop() == 0
    wait_for_assignment(
        reader,
        SERVICE,
        {worker_a.process.pid: CONTROL_PARTITIONS[SERVICE] + ALONE},
    )
    before = output_counts(reader)
    base = {
        bank: ledger.received
        for bank, ledger in two_workers[worker_a.process.pid].items()
    }
    run_fake(start)
    alone = wait_for_ledgers(
        reader,
        SERVICE,
        {worker_a.process.pid},
        dict.fromkeys(LOGICAL_VIEW, produced),
        base,
    )
    for bank, image in expected.items():
        counted = alone[worker_a.process.pid][bank].counted
        counted -= two_workers[worker_a.process.pid][bank].counted
        assert counted == sum(two_workers[pid][bank].counted for pid in pids)
        assert counted == image.sum()

    def published_alone() -> bool:
        _, toa = current_sums(reader, before)
        return all(toa[bank] == image.sum() for bank, image in expected.items())

    reader.wait_for(published_alone, timeout=30, what="all windows of one worker")
    images, _ = current_sums(reader, before)
    for bank, image in expected.items():
        np.testing.assert_array_equal(images[bank], image)
    assert worker_a.stop() == 0
