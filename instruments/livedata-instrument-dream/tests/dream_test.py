"""DREAM's production streams, its views on stand-in geometry, its geometry files."""

from __future__ import annotations

import dataclasses
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
from ess.livedata.instruments.dream.plugin import TABLES
from ess.livedata.processing.detectors import make_view_images

BANKS = {
    # name: (production topic, first detector number, last)
    "mantle_detector": ("dream_detector_mantle", 229_377, 720_896),
    "endcap_backward_detector": ("dream_detector_bwec", 71_681, 229_376),
    "endcap_forward_detector": ("dream_detector_fwec", 1, 71_680),
    "high_resolution_detector": ("dream_detector_hr", 1_122_337, 1_523_680),
    "sans_detector": ("dream_detector_sans", 720_929, 1_122_272),
}


@pytest.fixture(scope="module")
def dream(tmp_path_factory):
    """DREAM on a stand-in geometry file with the fake detector ranges."""
    with on_stand_in_geometry("dream", tmp_path_factory.mktemp("geometry")) as it:
        yield it


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_every_bank_is_source_dream_on_its_own_production_topic(bank):
    mapping = load_instrument("dream").stream_mapping(Topology.PRODUCTION)
    stream = StreamId(StreamKind.DETECTOR_EVENTS, bank)
    assert mapping.resolve(BANKS[bank][0], "dream") == stream
    assert mapping.resolve("dream_detector", bank) is None


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_dev_banks_share_one_topic_under_their_own_names(bank):
    mapping = load_instrument("dream").stream_mapping(Topology.DEV)
    stream = StreamId(StreamKind.DETECTOR_EVENTS, bank)
    assert mapping.resolve("dream_detector", bank) == stream


@pytest.mark.parametrize(
    ("topology", "sources"),
    [(Topology.PRODUCTION, ("cbm1", "cbm2")), (Topology.DEV, ("monitor1", "monitor2"))],
)
def test_monitors_are_cbm_in_production_and_numbered_in_dev(topology, sources):
    mapping = load_instrument("dream").stream_mapping(topology)
    resolved = [mapping.resolve("dream_beam_monitor", s) for s in sources]
    assert resolved == [
        StreamId(StreamKind.MONITOR_EVENTS, "monitor_bunker"),
        StreamId(StreamKind.MONITOR_EVENTS, "monitor_cave"),
    ]


@pytest.mark.parametrize(
    ("topic", "source", "name"),
    [
        ("dream_choppers", "DREAM-ChpSy2:Chop-T0-101:TotDly", "T0_chopper/delay"),
        (
            "dream_choppers",
            "DREAM-ChpSy1:Chop-PSC-101:Spd_S",
            "pulse_shaping_chopper1/rotation_speed_setpoint",
        ),
        (
            "tn_data_general",
            "A2T-130LWU:PBI-BCM-001:PulseChargeR",
            "neutron_prod_info/pulse_charge",
        ),
        (
            "dream_motion",
            "DREAM-ColSl3:MC-SlZp-01:PzMtr.RBV",
            "slit_set_3/blade_top/value",
        ),
    ],
)
def test_production_logs_are_keyed_by_their_epics_names(topic, source, name):
    mapping = load_instrument("dream").stream_mapping(Topology.PRODUCTION)
    assert mapping.resolve(topic, source) == StreamId(StreamKind.LOG, name)


def test_every_chopper_streams_its_speed_setpoint_and_delay():
    names = {log.name for log in load_instrument("dream").instrument.logs}
    choppers = ("pulse_shaping_chopper1", "pulse_shaping_chopper2", "band_chopper")
    choppers += ("overlap_chopper", "T0_chopper")
    for chopper in choppers:
        assert {f"{chopper}/rotation_speed_setpoint", f"{chopper}/delay"} <= names


def test_every_log_is_routed_as_its_tables_say():
    loaded = load_instrument("dream")
    assert len(loaded.instrument.logs) == 70  # every f144 of the production table
    assert log_route_problems(loaded, TABLES) == []


def test_geometry_files_are_declared_with_dates_and_md5():
    files = load_instrument("dream").instrument.geometry_files
    assert files.registry_url.startswith("https://github.com/scipp/esslivedata/")
    assert [(f.name, f.valid_from.date().isoformat()) for f in files.files] == [
        ("geometry-dream-2025-01-01.nxs", "2025-01-01"),
        ("geometry-dream-no-shape-2025-05-01.nxs", "2025-05-01"),
        ("geometry-dream-no-shape-2026-06-09.nxs", "2026-06-09"),
    ]
    assert all(
        f.checksum.startswith("md5:") and len(f.checksum) == 36 for f in files.files
    )
    chosen = choose_geometry_file(files, datetime(2026, 1, 1, tzinfo=UTC))
    assert chosen.file.name == "geometry-dream-no-shape-2025-05-01.nxs"


def test_passes_conformance_on_stand_in_geometry(dream):
    assert conformance_problems(dream) == []


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_banks_hold_their_fake_ranges(dream, bank):
    _, first, last = BANKS[bank]
    numbers = dream.instrument.detector(bank).detector_number.values
    assert np.array_equal(numbers, np.arange(first, last + 1))


@pytest.mark.parametrize(
    ("bank", "view", "shape"),
    [
        ("mantle_detector", "strip_sector", {"strip": 256, "module_segment": 30}),
        ("mantle_detector", "wire_sector", {"wire": 32, "module_segment": 30}),
        ("endcap_forward_detector", "wire_sector", {"wire": 16, "module_segment": 140}),
        (
            "endcap_backward_detector",
            "strip_sector",
            {"strip": 16, "module_segment": 308},
        ),
        ("sans_detector", "strip_other", {"strip": 32, "other": 12542}),
        ("high_resolution_detector", "strip_other", {"strip": 32, "other": 12542}),
    ],
)
def test_logical_views_fold_the_layout_and_sum_the_rest(dream, bank, view, shape):
    detector = dream.instrument.detector(bank)
    images = make_view_images(detector, dream.instrument.sample_position)
    counts = np.ones(detector.pixel_count, dtype=np.int64)
    image = images[view].image(counts)
    assert dict(image.sizes) == shape
    assert image.sum().value == detector.pixel_count


def test_mantle_projects_onto_its_cylinder(dream):
    mantle = dream.instrument.detector("mantle_detector")
    images = make_view_images(mantle, dream.instrument.sample_position)
    image = images["cylinder"].image(np.ones(mantle.pixel_count, dtype=np.int64))
    assert set(image.dims) == {"y", "phi"}
    assert image.sum().value == pytest.approx(mantle.pixel_count)


def test_fakes_draw_inside_every_bank(dream):
    shapes = dream.fake_data_shapes()
    for bank in dream.instrument.detectors:
        sampler = PixelSampler(bank, shapes, dream.instrument.sample_position)
        drawn = sampler.sample(10_000, np.random.default_rng(1))
        _, first, last = BANKS[bank.name]
        assert first <= drawn.min()
        assert drawn.max() <= last


def test_fake_banks_share_the_events_like_their_pixels(dream):
    names = [bank.name for bank in dream.instrument.detectors]
    counts = bank_events_per_pulse(names, dream.fake_data_shapes(), 10_000)
    shares = dict(zip(names, counts, strict=True))
    assert abs(sum(counts) - 50_000) <= len(names)  # rounding per bank
    assert shares["mantle_detector"] == round(50_000 * 491_520 / 1_523_584)
    assert shares["endcap_forward_detector"] < shares["endcap_backward_detector"]


def test_rate_at_the_peak_over_the_banks_gives_dreams_peak_rate(dream):
    names = [bank.name for bank in dream.instrument.detectors]
    per_source = round(TABLES.peak_event_rate / len(names) / 14)  # --rate 1.5e7
    counts = bank_events_per_pulse(names, dream.fake_data_shapes(), per_source)
    assert sum(counts) * 14 == pytest.approx(7.5e7, rel=1e-4)


def test_a_log_routed_elsewhere_than_its_table_says_is_a_problem():
    first, *rest = TABLES.logs
    moved = dataclasses.replace(first, source="SOMEWHERE:ELSE")
    tables = dataclasses.replace(TABLES, logs=(moved, *rest))
    problems = log_route_problems(load_instrument("dream"), tables)
    assert len(problems) == 1
    assert first.name in problems[0]
    assert "SOMEWHERE:ELSE" in problems[0]
