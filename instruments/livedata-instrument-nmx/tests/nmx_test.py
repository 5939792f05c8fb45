"""NMX's production streams, its panels placed in code and their views."""

from __future__ import annotations

import numpy as np
import pytest

from ess.livedata.core.conformance import conformance_problems
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.streams import Topology
from ess.livedata.ess.checks import log_route_problems
from ess.livedata.fake.detectors import PixelSampler, bank_events_per_pulse
from ess.livedata.instruments.nmx.plugin import TABLES
from ess.livedata.processing.detectors import make_view_images

PANEL = 1280 * 1280
BANKS = {
    # name: (production topic, first detector number)
    f"detector_panel_{i}": (f"nmx_detector_p{i}", i * PANEL + 1)
    for i in range(3)
}


@pytest.fixture(scope="module")
def nmx():
    return load_instrument("nmx")


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_every_panel_is_source_nmx_on_its_own_production_topic(nmx, bank):
    mapping = nmx.stream_mapping(Topology.PRODUCTION)
    assert mapping.resolve(BANKS[bank][0], "nmx") == StreamId(
        StreamKind.DETECTOR_EVENTS, bank
    )
    assert mapping.resolve("nmx_detector", bank) is None


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_dev_panels_share_one_topic_under_their_own_names(nmx, bank):
    mapping = nmx.stream_mapping(Topology.DEV)
    assert mapping.resolve("nmx_detector", bank) == StreamId(
        StreamKind.DETECTOR_EVENTS, bank
    )


@pytest.mark.parametrize(
    ("topology", "sources"),
    [(Topology.PRODUCTION, ("cbm1", "cbm2")), (Topology.DEV, ("monitor1", "monitor2"))],
)
def test_monitors_are_cbm_in_production_and_numbered_in_dev(nmx, topology, sources):
    mapping = nmx.stream_mapping(topology)
    resolved = [mapping.resolve("nmx_beam_monitor", s) for s in sources]
    assert resolved == [
        StreamId(StreamKind.MONITOR_EVENTS, "monitor1"),
        StreamId(StreamKind.MONITOR_EVENTS, "monitor2"),
    ]


@pytest.mark.parametrize(
    ("topic", "source", "name"),
    [
        (
            "nmx_choppers",
            "NMX-ChpSy1:Chop-WLS-202:Spd_S",
            "WLS-2B_chopper/rotation_speed_setpoint",
        ),
        (
            "nmx_motion",
            "SIM_nmx:detector_panel_1:transformations:stageZ",
            "detector_panel_1/stageZ",
        ),
        ("nmx_sample_env", "SIM_nmx:entry:sample:temperature", "temperature"),
        (
            "tn_data_general",
            "A2T-130LWU:PBI-BCM-001:PulseChargeR",
            "neutron_prod_info/pulse_charge",
        ),
    ],
)
def test_production_logs_are_keyed_by_their_epics_names(nmx, topic, source, name):
    mapping = nmx.stream_mapping(Topology.PRODUCTION)
    assert mapping.resolve(topic, source) == StreamId(StreamKind.LOG, name)


def test_every_log_is_routed_as_its_tables_say(nmx):
    assert len(nmx.instrument.logs) == 64  # every f144 of the production table
    assert log_route_problems(nmx, TABLES) == []


def test_no_geometry_file_is_declared(nmx):
    assert nmx.instrument.geometry_files is None


def test_passes_conformance(nmx):
    assert conformance_problems(nmx) == []


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_panels_hold_their_computed_ranges(nmx, bank):
    first = BANKS[bank][1]
    numbers = nmx.instrument.detector(bank).detector_number.values
    assert np.array_equal(numbers, np.arange(first, first + PANEL))


def test_panel_view_is_the_1280_square_with_every_pixel_once(nmx):
    detector = nmx.instrument.detector("detector_panel_1")
    images = make_view_images(detector, nmx.instrument.sample_position)
    counts = np.zeros(detector.pixel_count, dtype=np.int64)
    counts[1] = 5  # x = 0, y = 1 in the layout's order (x slowest)
    image = images["panel_xy"].image(counts)
    assert dict(image.sizes) == {"y": 1280, "x": 1280}
    assert image["y", 1]["x", 0].value == 5
    assert image.sum().value == 5


def test_fakes_draw_inside_every_panel(nmx):
    shapes = nmx.fake_data_shapes()
    for bank in nmx.instrument.detectors:
        sampler = PixelSampler(bank, shapes, nmx.instrument.sample_position)
        drawn = sampler.sample(10_000, np.random.default_rng(1))
        first = BANKS[bank.name][1]
        assert first <= drawn.min()
        assert drawn.max() < first + PANEL


def test_rate_at_the_peak_is_upstreams_fake_rate_per_panel(nmx):
    names = [bank.name for bank in nmx.instrument.detectors]
    counts = bank_events_per_pulse(names, nmx.fake_data_shapes(), 10_000)
    assert counts == [10_000] * 3  # equal panels share equally
    assert sum(counts) * 14 == TABLES.peak_event_rate
