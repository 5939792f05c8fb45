"""ESTIA's production streams, its views on stand-in geometry, its geometry file."""

from __future__ import annotations

import numpy as np
import pytest

from ess.livedata.core.conformance import conformance_problems
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.streams import Topology
from ess.livedata.ess.checks import log_route_problems
from ess.livedata.ess.stand_in import on_stand_in_geometry
from ess.livedata.fake.detectors import PixelSampler
from ess.livedata.instruments.estia.plugin import TABLES
from ess.livedata.processing.detectors import make_view_images

DETECTOR = StreamId(StreamKind.DETECTOR_EVENTS, "multiblade_detector")
MONITOR = StreamId(StreamKind.MONITOR_EVENTS, "cbm1")


@pytest.fixture(scope="module")
def estia(tmp_path_factory):
    """ESTIA on a stand-in geometry file with the stated fake range."""
    with on_stand_in_geometry("estia", tmp_path_factory.mktemp("geometry")) as it:
        yield it


def test_the_detector_is_source_multiblade_in_production():
    mapping = load_instrument("estia").stream_mapping(Topology.PRODUCTION)
    assert mapping.resolve("estia_detector", "multiblade") == DETECTOR
    assert mapping.resolve("estia_detector", "multiblade_detector") is None


def test_dev_detector_goes_by_its_own_name():
    mapping = load_instrument("estia").stream_mapping(Topology.DEV)
    assert mapping.resolve("estia_detector", "multiblade_detector") == DETECTOR


@pytest.mark.parametrize(
    ("topology", "source"), [(Topology.PRODUCTION, "cbm1"), (Topology.DEV, "monitor1")]
)
def test_one_monitor_cbm1(topology, source):
    loaded = load_instrument("estia")
    assert [m.name for m in loaded.instrument.monitors] == ["cbm1"]
    mapping = loaded.stream_mapping(topology)
    assert mapping.resolve("estia_beam_monitor", source) == MONITOR


@pytest.mark.parametrize(
    ("topic", "source", "name"),
    [
        ("estia_choppers", "ESTIA-ChpSy1:Chop-BWC-101:Spd_R", "bwc/rotation_speed"),
        ("estia_motion", "ESTIA-DtRot:MC-RotZ01:Mtr.RBV", "detector_rotation/value"),
        ("estia_motion", "ESTIA-SpSl:MC-SlZp:Mtr.RBV", "sample_slit/blade_top/value"),
        (
            "tn_data_general",
            "A2T-130LWU:PBI-BCM-001:PulseChargeR",
            "neutron_prod_info/pulse_charge",
        ),
    ],
)
def test_production_logs_are_keyed_by_their_epics_names(topic, source, name):
    mapping = load_instrument("estia").stream_mapping(Topology.PRODUCTION)
    assert mapping.resolve(topic, source) == StreamId(StreamKind.LOG, name)


def test_every_log_is_routed_as_its_tables_say():
    loaded = load_instrument("estia")
    assert len(loaded.instrument.logs) == 62  # every f144 of the production table
    assert log_route_problems(loaded, TABLES) == []


def test_the_geometry_file_is_declared_with_its_date_and_md5():
    files = load_instrument("estia").instrument.geometry_files
    assert files.registry_url.startswith("https://github.com/scipp/esslivedata/")
    assert [
        (f.name, f.valid_from.date().isoformat(), f.checksum) for f in files.files
    ] == [
        (
            "geometry-estia-2025-12-16.nxs",
            "2025-12-16",
            "md5:07d33010189a50ee46ee5f649f848ca5",
        )
    ]


def test_passes_conformance_on_stand_in_geometry(estia):
    assert conformance_problems(estia) == []


def test_the_bank_holds_the_stated_fake_range(estia):
    numbers = estia.instrument.detector("multiblade_detector").detector_number.values
    assert np.array_equal(numbers, np.arange(98_305, 196_609))


@pytest.mark.parametrize(
    ("view", "shape"),
    [
        ("angle_strip", {"blade_wire": 1536, "strip": 64}),
        ("blade_wire", {"blade": 48, "wire": 32}),
        ("xy", {"y": 192, "x": 64}),
    ],
)
def test_views_have_the_detectors_shape(estia, view, shape):
    detector = estia.instrument.detector("multiblade_detector")
    images = make_view_images(detector, estia.instrument.sample_position)
    image = images[view].image(np.ones(detector.pixel_count, dtype=np.int64))
    assert dict(image.sizes) == shape
    assert image.sum().value == pytest.approx(detector.pixel_count)


def test_angle_axis_runs_blade_by_blade(estia):
    """Counts in one blade land in that blade's 32 rows of the angle axis."""
    detector = estia.instrument.detector("multiblade_detector")
    images = make_view_images(detector, estia.instrument.sample_position)
    counts = np.zeros(detector.pixel_count, dtype=np.int64)
    layout = counts.reshape(64, 48, 32)  # strip, blade, wire
    layout[:, 5, :] = 1
    image = images["angle_strip"].image(counts)
    rows = image.sum("strip").values
    assert rows[5 * 32 : 6 * 32].tolist() == [64] * 32
    assert rows.sum() == 64 * 32


def test_fakes_draw_inside_the_bank_and_favour_the_specular_line(estia):
    detector = estia.instrument.detector("multiblade_detector")
    sampler = PixelSampler(
        detector, estia.fake_data_shapes(), estia.instrument.sample_position
    )
    drawn = sampler.sample(50_000, np.random.default_rng(1))
    assert drawn.min() >= 98_305
    assert drawn.max() <= 196_608
    hits = np.bincount(drawn - 98_305, minlength=detector.pixel_count)
    per_blade = hits.reshape(64, 48, 32).sum(axis=(0, 2))
    # The stand-in spans y 0..0.4 m at z = 4 m: 3 degrees is y = 0.21 m
    # (blade 25) on the beam's vertical plane, a little lower off it.
    assert per_blade.argmax() in (24, 25)
    assert per_blade.max() > 3 * np.median(per_blade)
