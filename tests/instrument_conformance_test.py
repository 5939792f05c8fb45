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
from conftest import run_fakes_through_services

from ess.livedata.core.conformance import conformance_problems, factory_problems
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.plugins import (
    LoadedInstrument,
    installed_instruments,
)
from ess.livedata.core.streams import Topology
from ess.livedata.ess.stand_in import on_stand_in_geometry
from ess.livedata.fake.area_detectors import fake_frame
from ess.livedata.fake.detectors import PixelSampler
from ess.livedata.processing.detectors import make_view_images

INSTRUMENTS = installed_instruments()
PULSES = 42  # 3 s at 14 Hz: a few windows
EVENTS_PER_PULSE = 200


@pytest.fixture(scope="module", params=INSTRUMENTS)
def loaded(request, tmp_path_factory) -> Iterator[LoadedInstrument]:
    """The instrument, on stand-in geometry if it reads geometry files."""
    with on_stand_in_geometry(request.param, tmp_path_factory.mktemp("geo")) as it:
        yield it


def test_the_built_in_instruments_are_installed():
    assert {"dummy", "loki", "nmx", "odin", "tbl"} <= set(INSTRUMENTS)


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
        (StreamKind.AREA_DETECTOR, instrument.area_detectors),
    ):
        for item in items:
            key = mapping.key_for(StreamId(kind, item.name))
            assert mapping.resolve(key.topic, key.source_name) == StreamId(
                kind, item.name
            )


def test_specs_and_factories_pair_up(loaded):
    assert factory_problems(loaded) == []
    assert set(loaded.workflow_factories()) == set(loaded.reduction_specs)


def test_every_view_builds(loaded):
    instrument = loaded.instrument
    for bank in instrument.detectors:
        images = make_view_images(bank, instrument.sample_position)
        assert set(images) == {view.name for view in bank.views}


def test_fakes_exist_for_every_detector_and_monitor(loaded):
    """The fake producers' dev sources, a pixel sampler per bank and a frame
    per area detector."""
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
    for camera in instrument.area_detectors:
        mapping.key_for(StreamId(StreamKind.AREA_DETECTOR, camera.name))
        frame = fake_frame(camera.shape, 0, np.random.default_rng(0))
        assert frame.shape == camera.shape


@pytest.mark.kafka
def test_a_fake_run_balances_the_ledgers(loaded, kafka_broker, tmp_path):
    run_fakes_through_services(
        loaded,
        kafka_broker.bootstrap_servers,
        tmp_path,
        Topology.DEV,
        pulses=PULSES,
        events_per_pulse=EVENTS_PER_PULSE,
    )
