"""BEER's production streams, its banks placed in code, its views and fakes."""

from __future__ import annotations

import numpy as np
import pytest

from ess.livedata.core.conformance import conformance_problems
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.streams import Topology
from ess.livedata.ess.checks import log_route_problems
from ess.livedata.ess.instrument import is_ess_instrument
from ess.livedata.fake.detectors import PixelSampler, bank_events_per_pulse
from ess.livedata.instruments.beer.plugin import TABLES
from ess.livedata.processing.detectors import make_view_images

BANKS = {
    # name: (production source on beer_detector, first detector number, side)
    "beer_detector_s2": ("detector_a", 1, -1),
    "beer_detector_n2": ("detector_b", 12_000_001, +1),
}
PIXELS = 12_000_000


@pytest.fixture(scope="module")
def beer():
    """BEER, its banks built once (12 M pixels each)."""
    loaded = load_instrument("beer")
    for bank in loaded.instrument.detectors:
        assert bank.geometry is not None
    return loaded


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_banks_are_detector_a_and_b_on_one_production_topic(bank):
    mapping = load_instrument("beer").stream_mapping(Topology.PRODUCTION)
    stream = StreamId(StreamKind.DETECTOR_EVENTS, bank)
    assert mapping.resolve("beer_detector", BANKS[bank][0]) == stream
    assert mapping.resolve("beer_detector", bank) is None


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_dev_banks_go_by_their_own_names(bank):
    mapping = load_instrument("beer").stream_mapping(Topology.DEV)
    stream = StreamId(StreamKind.DETECTOR_EVENTS, bank)
    assert mapping.resolve("beer_detector", bank) == stream


@pytest.mark.parametrize(
    ("topology", "sources"),
    [
        (Topology.PRODUCTION, ("cbm1", "cbm2", "hereon")),
        (Topology.DEV, ("monitor1", "monitor2", "monitor3")),
    ],
)
def test_three_monitors(topology, sources):
    mapping = load_instrument("beer").stream_mapping(topology)
    resolved = [mapping.resolve("beer_beam_monitor", s) for s in sources]
    assert resolved == [
        StreamId(StreamKind.MONITOR_EVENTS, name) for name in ("cbm1", "cbm2", "hereon")
    ]


@pytest.mark.parametrize(
    ("topic", "source", "name"),
    [
        ("beer_choppers", "TODO42", "fc1a_chopper/delay"),
        ("beer_motion", "beer_source_x", "slit_set_3/x_gap"),
        ("beer_motion", "TODO70", "hexapod/rotary_stage/value"),
        (
            "tn_data_general",
            "A2T-130LWU:PBI-BCM-001:PulseChargeR",
            "neutron_prod_info/pulse_charge",
        ),
    ],
)
def test_production_logs_are_keyed_by_their_facts_sources(topic, source, name):
    """Most BEER sources are still upstream's placeholders TODO<n>."""
    mapping = load_instrument("beer").stream_mapping(Topology.PRODUCTION)
    assert mapping.resolve(topic, source) == StreamId(StreamKind.LOG, name)


def test_every_log_is_routed_as_its_tables_say():
    loaded = load_instrument("beer")
    assert len(loaded.instrument.logs) == 78  # every f144 of the production table
    assert log_route_problems(loaded, TABLES) == []


def test_no_geometry_file_is_declared_and_banks_are_placed_in_code():
    instrument = load_instrument("beer").instrument
    assert instrument.geometry_files is None
    assert is_ess_instrument(instrument)


def test_passes_conformance(beer):
    assert conformance_problems(beer) == []


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_banks_hold_their_real_ranges(beer, bank):
    _, first, _ = BANKS[bank]
    numbers = beer.instrument.detector(bank).detector_number.values
    assert numbers.dtype == np.int32
    assert numbers.size == PIXELS
    assert (numbers[0], numbers[-1]) == (first, first + PIXELS - 1)
    assert np.all(np.diff(numbers[:: PIXELS // 1000]) > 0)


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_banks_face_each_other_2_m_from_the_sample(beer, bank):
    side = BANKS[bank][2]
    position = beer.instrument.detector(bank).geometry.coords["position"].values
    first_panel = position[: PIXELS // 12]
    assert np.allclose(first_panel[:, 0], 2.0 * side)
    assert np.ptp(first_panel[:, 1]) == pytest.approx(0.999)
    assert np.ptp(position[:, 0]) == pytest.approx(0.019)


@pytest.mark.parametrize(
    ("view", "shape"),
    [
        ("bank", {"y": 250, "x": 250}),
        ("panels", {"panel": 12, "y": 125, "x": 125}),
    ],
)
def test_views_are_upstreams_downsampled_panels(beer, view, shape):
    detector = beer.instrument.detector("beer_detector_n2")
    images = make_view_images(detector, beer.instrument.sample_position)
    counts = np.zeros(PIXELS, dtype=np.int64)
    counts.reshape(12, 1000, 1000)[3, :8, :4] = 1  # panel 3, top-left corner
    image = images[view].image(counts)
    assert dict(image.sizes) == shape
    assert image.sum().value == 32
    corner = image["panel", 3] if view == "panels" else image
    assert corner["y", 0]["x", 0].value == (32 if view == "panels" else 16)


def test_fakes_draw_inside_every_bank(beer):
    shapes = beer.fake_data_shapes()
    for bank in beer.instrument.detectors:
        sampler = PixelSampler(bank, shapes, beer.instrument.sample_position)
        drawn = sampler.sample(10_000, np.random.default_rng(1))
        first = BANKS[bank.name][1]
        assert first <= drawn.min()
        assert drawn.max() < first + PIXELS


def test_rate_at_the_peak_over_the_banks_gives_the_facts_rate(beer):
    """The facts' fakes: 10000 events per message and bank at 14 Hz."""
    names = [bank.name for bank in beer.instrument.detectors]
    counts = bank_events_per_pulse(names, beer.fake_data_shapes(), 10_000)
    assert counts == [10_000, 10_000]
    assert sum(counts) * 14 == pytest.approx(TABLES.peak_event_rate)
