"""TBL's production streams, its views on stand-in geometry, its geometry files."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from ess.livedata.core.conformance import conformance_problems
from ess.livedata.core.geometry_files import choose_geometry_file
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.streams import Topology
from ess.livedata.ess.checks import log_route_problems
from ess.livedata.ess.stand_in import on_stand_in_geometry
from ess.livedata.fake.detectors import PixelSampler, bank_events_per_pulse
from ess.livedata.instruments.tbl.plugin import TABLES
from ess.livedata.processing.detectors import make_view_images

BANKS = {
    # name: (production topic, source name, first detector number, count)
    "timepix3_detector": ("tbl_detector_tpx3", "timepix3", 1, 4096 * 4096),
    "multiblade_detector": ("tbl_detector_mb", "multiblade", 16_777_217, 28_672),
    "he3_detector_bank0": ("tbl_detector_3he", "bank0", 16_805_889, 400),
    "he3_detector_bank1": ("tbl_detector_3he", "bank1", 16_806_289, 400),
    "ngem_detector": ("tbl_detector_ngem", "tbl-ngem", 16_806_689, 32_768),
}


@pytest.fixture(scope="module")
def tbl(tmp_path_factory):
    """TBL on a stand-in geometry file with the fake detector ranges."""
    with on_stand_in_geometry("tbl", tmp_path_factory.mktemp("geometry")) as it:
        yield it


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_every_detector_has_its_own_production_route(bank):
    mapping = load_instrument("tbl").stream_mapping(Topology.PRODUCTION)
    topic, source, _, _ = BANKS[bank]
    assert mapping.resolve(topic, source) == StreamId(StreamKind.DETECTOR_EVENTS, bank)


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_dev_detectors_share_one_topic_under_their_own_names(bank):
    mapping = load_instrument("tbl").stream_mapping(Topology.DEV)
    stream = StreamId(StreamKind.DETECTOR_EVENTS, bank)
    assert mapping.resolve("tbl_detector", bank) == stream


def test_the_area_detector_is_no_bank():
    names = {bank.name for bank in load_instrument("tbl").instrument.detectors}
    assert names == set(BANKS)
    mapping = load_instrument("tbl").stream_mapping(Topology.PRODUCTION)
    assert mapping.resolve("tbl_area_detector_orca", "hama_kfk1") is None


@pytest.mark.parametrize(
    ("topology", "source"), [(Topology.PRODUCTION, "cbm1"), (Topology.DEV, "monitor1")]
)
def test_the_monitor_is_cbm1_in_production_and_monitor1_in_dev(topology, source):
    mapping = load_instrument("tbl").stream_mapping(topology)
    assert mapping.resolve("tbl_beam_monitor", source) == StreamId(
        StreamKind.MONITOR_EVENTS, "monitor_1"
    )


@pytest.mark.parametrize("chopper", ["bwc_1", "bwc_2"])
def test_every_chopper_streams_its_speed_setpoint_and_delay(chopper):
    mapping = load_instrument("tbl").stream_mapping(Topology.PRODUCTION)
    number = {"bwc_1": 101, "bwc_2": 102}[chopper]
    for suffix, name in (("Spd_S", "rotation_speed_setpoint"), ("TotDly", "delay")):
        source = f"TBL-ChpSy1:Chop-BWC-{number}:{suffix}"
        assert mapping.resolve("tbl_choppers", source) == StreamId(
            StreamKind.LOG, f"{chopper}/{name}"
        )


def test_every_log_is_routed_as_its_tables_say():
    loaded = load_instrument("tbl")
    assert len(loaded.instrument.logs) == 34  # every f144 of the production table
    assert log_route_problems(loaded, TABLES) == []


def test_geometry_files_are_declared_with_dates_and_md5():
    files = load_instrument("tbl").instrument.geometry_files
    assert [(f.name, f.valid_from.date().isoformat()) for f in files.files] == [
        ("geometry-tbl-2025-12-03.nxs", "2025-12-03"),
        ("geometry-tbl-2026-07-01.nxs", "2026-07-01"),
    ]
    chosen = choose_geometry_file(files, datetime(2026, 3, 1, tzinfo=UTC))
    assert chosen.file.checksum == "md5:040a70659155eb386245755455ee3e62"


def test_passes_conformance_on_stand_in_geometry(tbl):
    assert conformance_problems(tbl) == []


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_detectors_hold_their_disjoint_fake_ranges(tbl, bank):
    _, _, first, count = BANKS[bank]
    numbers = tbl.instrument.detector(bank).detector_number.values
    assert np.array_equal(numbers, np.arange(first, first + count))


@pytest.mark.parametrize(
    ("bank", "view", "shape"),
    [
        ("timepix3_detector", "tbl_detector_timepix3", {"y": 512, "x": 512}),
        (
            "multiblade_detector",
            "multiblade_detector_view",
            {"blade_wire": 448, "strip": 64},
        ),
        ("he3_detector_bank0", "he3_detector_view", {"tube": 4, "pixel": 100}),
        ("he3_detector_bank1", "xy", None),
        ("ngem_detector", "ngem_detector_view", {"dim_1": 128, "dim_2": 128}),
    ],
)
def test_views_show_every_count_once(tbl, bank, view, shape):
    detector = tbl.instrument.detector(bank)
    images = make_view_images(detector, tbl.instrument.sample_position)
    image = images[view].image(np.ones(detector.pixel_count, dtype=np.int64))
    if shape is not None:
        assert dict(image.sizes) == shape
    assert image.sum().value == pytest.approx(detector.pixel_count)


def test_fakes_draw_inside_every_detector(tbl):
    shapes = tbl.fake_data_shapes()
    for bank in tbl.instrument.detectors:
        sampler = PixelSampler(bank, shapes, tbl.instrument.sample_position)
        drawn = sampler.sample(10_000, np.random.default_rng(1))
        _, _, first, count = BANKS[bank.name]
        assert drawn.min() >= first
        assert drawn.max() < first + count


def test_every_detector_gets_upstreams_fake_rate():
    names = [bank.name for bank in load_instrument("tbl").instrument.detectors]
    counts = bank_events_per_pulse(
        names, load_instrument("tbl").fake_data_shapes(), 10_000
    )
    assert counts == [10_000] * len(names)
    assert sum(counts) * 14 == TABLES.peak_event_rate
