"""BIFROST's 45 triplet streams as one bank, its logs, views and geometry."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import scipp as sc

from ess.livedata.core.conformance import conformance_problems
from ess.livedata.core.geometry_files import OVERRIDE_VARIABLE
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.nexus_geometry import read_nexus_geometry
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.streams import Topology
from ess.livedata.ess.stand_in import on_stand_in_geometry
from ess.livedata.processing.detectors import make_view_images

DETECTOR = StreamId(StreamKind.DETECTOR_EVENTS, "unified_detector")


@pytest.fixture(scope="module")
def bifrost(tmp_path_factory):
    with on_stand_in_geometry("bifrost", tmp_path_factory.mktemp("geometry")) as it:
        yield it


def test_every_triplet_source_feeds_the_one_bank_in_production():
    mapping = load_instrument("bifrost").stream_mapping(Topology.PRODUCTION)
    for arc in range(5):
        for triplet in range(9):
            source = f"arc={arc};triplet={triplet}"
            assert mapping.resolve("bifrost_detector", source) == DETECTOR


def test_dev_triplet_names_feed_the_bank_too():
    mapping = load_instrument("bifrost").stream_mapping(Topology.DEV)
    sources = [k.source_name for k, s in mapping.inputs.items() if s == DETECTOR]
    assert len(sources) == 45
    assert mapping.resolve("bifrost_detector", "125_channel_1_1_triplet") == DETECTOR


@pytest.mark.parametrize(
    ("topology", "prefix"), [(Topology.PRODUCTION, "cbm"), (Topology.DEV, "monitor")]
)
def test_five_monitors(topology, prefix):
    mapping = load_instrument("bifrost").stream_mapping(topology)
    names = ["psc_monitor", "overlap_monitor", "bandwidth_monitor"]
    names += ["normalization_monitor", "elastic_monitor"]
    for n, name in enumerate(names, start=1):
        assert mapping.resolve("bifrost_beam_monitor", f"{prefix}{n}") == StreamId(
            StreamKind.MONITOR_EVENTS, name
        )


def test_logs_include_choppers_and_the_detector_tank_angle():
    loaded = load_instrument("bifrost")
    mapping = loaded.stream_mapping(Topology.PRODUCTION)
    names = {log.name for log in loaded.instrument.logs}
    assert len(names) == 116  # the f144 streams of the production lookup table
    for log in loaded.instrument.logs:
        sc.Unit(log.unit)
    assert mapping.resolve(
        "bifrost_choppers", "BIFRO-ChpSy1:Chop-PSC-101:Spd_S"
    ) == StreamId(StreamKind.LOG, "pulse_shaping_chopper_1/rotation_speed_setpoint")
    for chopper in ("pulse_shaping", "frame_overlap", "bandwidth"):
        for n in (1, 2):
            assert f"{chopper}_chopper_{n}/delay" in names
    assert "detector_tank_angle_r0/value" in names


def test_geometry_is_pinned_to_the_file_with_a_sound_detector_chain():
    files = load_instrument("bifrost").instrument.geometry_files
    assert [f.name for f in files.files] == ["geometry-bifrost-2025-01-01.nxs"]
    assert files.files[0].checksum == "md5:ae3caa99dd56de9495b9321eea4e4fef"


def test_passes_conformance_on_stand_in_geometry(bifrost):
    assert conformance_problems(bifrost) == []


def test_the_bank_gathers_the_triplet_groups_in_detector_number_order(bifrost):
    detector = bifrost.instrument.detector("unified_detector")
    assert np.array_equal(detector.detector_number.values, np.arange(1, 13501))
    geometry = read_nexus_geometry(Path(os.environ[OVERRIDE_VARIABLE]))
    assert len(geometry.detectors) == 45
    # Arc 1, channel 1: tubes 0..2 of 100 pixels, 900 ids apart.
    first = geometry.detector("123_channel_1_1_triplet").coords["detector_number"]
    expected = [np.arange(1, 101) + 900 * tube for tube in range(3)]
    assert np.array_equal(np.sort(first.values.ravel()), np.concatenate(expected))


@pytest.mark.parametrize(
    ("view", "sizes"),
    [
        ("unified", {"arc_tube": 15, "channel_pixel": 900}),
        ("arc_channel", {"arc": 5, "channel": 9}),
    ],
)
def test_logical_views(bifrost, view, sizes):
    detector = bifrost.instrument.detector("unified_detector")
    images = make_view_images(detector, bifrost.instrument.sample_position)
    image = images[view].image(np.ones(13500, dtype=np.int64))
    assert dict(image.sizes) == sizes
    assert image.sum().value == 13500
