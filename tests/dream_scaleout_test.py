"""DREAM's detector_data scaled out on its production topology: two workers.

DREAM's peak rate is above one process (``docs/scale-out.md``), so its
detector topics are partitioned and several ``detector_data`` workers share
them in one consumer group. Here, through a broker of this module's own,
every DREAM bank topic (``dream_detector_mantle``, ...; source ``dream``) has
two partitions; two workers run without ``--dev`` on a stand-in geometry
file, and ``fake_detectors --production-topics`` sends every bank's events.
Checked: each worker is assigned one partition of every bank topic, both
receive events of every bank, and per bank the two ledgers together received
exactly the events produced and each balances.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import (
    CONTROL_PARTITIONS,
    _program,
    create_instrument_topics,
    private_broker,
    wait_for_assignment,
    wait_for_ledgers,
)

from ess.livedata.core.message import StreamKind
from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.core.streams import Topology
from ess.livedata.ess.stand_in import on_stand_in_geometry
from ess.livedata.fake.detectors import bank_events_per_pulse
from ess.livedata.testing.readers import LivedataReader

pytestmark = pytest.mark.kafka

SERVICE = "detector_data"
PARTITIONS = 2
PULSES = 28
EVENTS_PER_PULSE = 2000


@pytest.fixture(scope="module")
def dream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedInstrument]:
    with on_stand_in_geometry("dream", tmp_path_factory.mktemp("geo")) as loaded:
        yield loaded


@pytest.fixture(scope="module")
def bootstrap(dream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of this module's own, DREAM's bank topics in 2 partitions."""
    mapping = dream.stream_mapping(Topology.PRODUCTION)
    banks = mapping.input_topics([StreamKind.DETECTOR_EVENTS])
    with private_broker(tmp_path_factory.mktemp("dream-scaleout-kafka")) as broker:
        create_instrument_topics(
            broker.bootstrap_servers,
            dict.fromkeys(banks, PARTITIONS),
            instrument="dream",
            topology=Topology.PRODUCTION,
        )
        yield broker.bootstrap_servers


def test_two_workers_share_dreams_banks_and_balance(dream, bootstrap, tmp_path):
    names = [bank.name for bank in dream.instrument.detectors]
    per_pulse = bank_events_per_pulse(names, dream.fake_data_shapes(), EVENTS_PER_PULSE)
    produced = {name: PULSES * n for name, n in zip(names, per_pulse, strict=True)}
    reader = LivedataReader(bootstrap, "dream")
    workers = [
        _program("dream", SERVICE, bootstrap, tmp_path) for _ in range(PARTITIONS)
    ]
    try:
        pids = {worker.process.pid for worker in workers}
        # One partition of each of the five bank topics, plus commands and ROI.
        wait_for_assignment(
            reader,
            SERVICE,
            dict.fromkeys(pids, len(names) + CONTROL_PARTITIONS[SERVICE]),
        )
        fake = _program(
            "dream",
            "fake_detectors",
            bootstrap,
            tmp_path,
            "--production-topics",
            "--pulses",
            str(PULSES),
            "--events-per-pulse",
            str(EVENTS_PER_PULSE),
        )
        assert fake.wait(timeout=60) == 0, fake.log_tail()
        ledgers = wait_for_ledgers(reader, SERVICE, pids, produced)
        for name in names:
            per_worker = [ledgers[pid][name] for pid in pids]
            assert all(entry.received > 0 for entry in per_worker), per_worker
            assert all(entry.balanced for entry in per_worker), per_worker
        for worker in workers:
            assert worker.stop() == 0, worker.log_tail()
    finally:
        for worker in workers:
            worker.stop()
        reader.close()
