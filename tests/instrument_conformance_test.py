"""Conformance of every installed instrument plugin.

Parametrised over :func:`installed_instruments`, so an instrument gets these
checks by being installed: its definition passes
:func:`conformance_problems` (unique int32 detector numbers, finite
positions, every stream mapped in both topologies, ...), its specs and
factories pair up, every bank's views build, the fakes can produce every
detector and monitor, and a 10 s live fake run through the real
``detector_data`` and ``monitor_data`` services is fully accounted for in
their counts ledgers.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from conftest import create_instrument_topics, wait_until_consuming

from ess.livedata.core.conformance import conformance_problems, factory_problems
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.plugins import (
    LoadedInstrument,
    installed_instruments,
    load_instrument,
)
from ess.livedata.core.streams import Topology
from ess.livedata.fake.detectors import PixelSampler
from ess.livedata.processing.detectors import make_view_images
from ess.livedata.testing.processes import Program
from ess.livedata.testing.readers import LivedataReader

INSTRUMENTS = installed_instruments()
PULSES = 140  # 10 s at 14 Hz
EVENTS_PER_PULSE = 200


@pytest.fixture(scope="module", params=INSTRUMENTS)
def loaded(request) -> LoadedInstrument:
    return load_instrument(request.param)


def test_the_built_in_instruments_are_installed():
    assert {"dummy", "loki"} <= set(INSTRUMENTS)


def test_definition_has_no_problems(loaded):
    assert conformance_problems(loaded) == []


def test_detector_numbers_are_unique_int32_across_banks(loaded):
    ids = np.concatenate(
        [b.detector_number.values.ravel() for b in loaded.instrument.detectors]
    )
    assert np.unique(ids).size == ids.size
    assert ids.min() >= np.iinfo(np.int32).min
    assert ids.max() <= np.iinfo(np.int32).max


@pytest.mark.parametrize("topology", list(Topology))
def test_every_stream_resolves(loaded, topology):
    mapping = loaded.stream_mapping(topology)
    instrument = loaded.instrument
    for kind, items in (
        (StreamKind.DETECTOR_EVENTS, instrument.detectors),
        (StreamKind.MONITOR_EVENTS, instrument.monitors),
        (StreamKind.LOG, instrument.logs),
    ):
        for item in items:
            key = mapping.key_for(StreamId(kind, item.name))
            assert mapping.resolve(key.topic, key.source_name) == StreamId(
                kind, item.name
            )


def test_specs_and_factories_pair_up(loaded):
    assert factory_problems(loaded) == []
    assert set(loaded.workflow_factories()) == set(loaded.workflow_specs)


def test_every_view_builds(loaded):
    instrument = loaded.instrument
    for bank in instrument.detectors:
        images = make_view_images(bank, instrument.sample_position)
        assert set(images) == {view.name for view in bank.views}


def test_fakes_exist_for_every_detector_and_monitor(loaded):
    """The fake producers' dev sources, and a pixel sampler per bank."""
    mapping = loaded.stream_mapping(Topology.DEV)
    shapes = loaded.fake_data_shapes()
    instrument = loaded.instrument
    for bank in instrument.detectors:
        mapping.key_for(StreamId(StreamKind.DETECTOR_EVENTS, bank.name))
        sampler = PixelSampler(bank, shapes, instrument.sample_position)
        drawn = sampler.sample(1000, np.random.default_rng(0))
        assert np.isin(drawn, bank.detector_number.values).all()
    for monitor in instrument.monitors:
        mapping.key_for(StreamId(StreamKind.MONITOR_EVENTS, monitor.name))


@pytest.fixture
def services(loaded, kafka_broker, tmp_path) -> Iterator[tuple[str, LivedataReader]]:
    """detector_data and monitor_data for the instrument, consuming."""
    bootstrap = kafka_broker.bootstrap_servers
    create_instrument_topics(bootstrap, instrument=loaded.name)
    reader = LivedataReader(bootstrap, loaded.name)
    programs = [
        _program(loaded.name, service, bootstrap, tmp_path, "--dev")
        for service in ("detector_data", "monitor_data")
    ]
    try:
        for service in ("detector_data", "monitor_data"):
            wait_until_consuming(reader, service, partitions=2)
        yield bootstrap, reader
        for program in programs:
            assert program.stop() == 0, program.log_tail()
    finally:
        for program in programs:
            program.stop()
        reader.close()


@pytest.mark.kafka
def test_a_10s_fake_run_balances_the_ledgers(loaded, services, tmp_path):
    bootstrap, reader = services
    fakes = [
        _program(
            loaded.name,
            fake,
            bootstrap,
            tmp_path,
            "--pulses",
            str(PULSES),
            "--events-per-pulse",
            str(EVENTS_PER_PULSE),
        )
        for fake in ("fake_detectors", "fake_monitors")
    ]
    for fake in fakes:
        assert fake.wait(timeout=120) == 0, fake.log_tail()
    produced = PULSES * EVENTS_PER_PULSE
    expected = {
        "detector_data": [b.name for b in loaded.instrument.detectors],
        "monitor_data": [m.name for m in loaded.instrument.monitors],
    }
    for service, sources in expected.items():

        def complete(service=service, sources=sources) -> dict | None:
            status = reader.latest_status(service)
            ledger = status.details.get("ledger", {}) if status else {}
            received = [ledger.get(s, {}).get("received") for s in sources]
            return ledger if received == [produced] * len(sources) else None

        ledger = reader.wait_for(
            complete, timeout=60, what=f"{service} ledgers of {loaded.name}"
        )
        for source in sources:
            assert ledger[source]["balanced"], (service, source, ledger[source])
            assert ledger[source]["counted"] > 0, (service, source, ledger[source])


def _program(instrument: str, module: str, bootstrap: str, log_dir, *args) -> Program:
    return Program(
        f"ess.livedata.services.{module}",
        ["--instrument", instrument, *args],
        bootstrap_servers=bootstrap,
        log_dir=log_dir,
    )
