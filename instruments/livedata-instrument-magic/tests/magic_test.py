"""MAGIC's production streams, its views on stand-in geometry, its geometry file."""

from __future__ import annotations

import numpy as np
import pytest

from ess.livedata.core.conformance import conformance_problems
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.streams import Topology
from ess.livedata.ess.checks import log_route_problems
from ess.livedata.ess.stand_in import on_stand_in_geometry
from ess.livedata.fake.detectors import PixelSampler, bank_events_per_pulse
from ess.livedata.instruments.magic.plugin import TABLES
from ess.livedata.processing.detectors import make_view_images

BANKS = {
    # name: (production topic, first detector number, last, (wire, strip, segment))
    "magic_detector_a": ("magic_detector_a", 1, 491_520, (32, 128, 120)),
    "magic_detector_b": ("magic_detector_b", 491_521, 622_592, (32, 16, 256)),
}


@pytest.fixture(scope="module")
def magic(tmp_path_factory):
    """MAGIC on a stand-in geometry file with its detector ranges."""
    with on_stand_in_geometry("magic", tmp_path_factory.mktemp("geometry")) as it:
        yield it


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_both_banks_are_source_magic_on_their_own_production_topic(bank):
    mapping = load_instrument("magic").stream_mapping(Topology.PRODUCTION)
    stream = StreamId(StreamKind.DETECTOR_EVENTS, bank)
    assert mapping.resolve(BANKS[bank][0], "magic") == stream
    assert mapping.resolve("magic_detector", bank) is None


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_dev_banks_share_one_topic_under_their_own_names(bank):
    mapping = load_instrument("magic").stream_mapping(Topology.DEV)
    stream = StreamId(StreamKind.DETECTOR_EVENTS, bank)
    assert mapping.resolve("magic_detector", bank) == stream


@pytest.mark.parametrize(
    ("topology", "source"), [(Topology.PRODUCTION, "cbm1"), (Topology.DEV, "monitor1")]
)
def test_the_monitor_is_named_after_its_nexus_group(topology, source):
    mapping = load_instrument("magic").stream_mapping(topology)
    assert mapping.resolve("magic_beam_monitor", source) == StreamId(
        StreamKind.MONITOR_EVENTS, "beam_monitor_1"
    )


def test_the_dropped_log_is_left_out():
    """Its topic, magic_nicos_devices, is not readable in production."""
    topics = {log.topic for log in TABLES.logs}
    assert topics == {"magic_choppers", "magic_motion", "tn_data_general"}


@pytest.mark.parametrize(
    ("topic", "source", "name"),
    [
        ("magic_motion", "MAGIC-DtRot:MC-RotZ-01.RBV", "detector_a_rotation/value"),
        ("magic_motion", "MAGIC-DtRot:MC-RotZ-02.RBV", "detector_b_rotation/value"),
        (
            "magic_choppers",
            "MAGIC-ChpSy1:Chop-BC-201:Spd_R",
            "bandwidth_chopper/rotation_speed",
        ),
        (
            "tn_data_general",
            "CrS-CMS:Cryo-TT-82025:MeasValue",
            "neutron_prod_info/cryo_tt_82025_temperature",
        ),
    ],
)
def test_production_logs_are_keyed_by_their_epics_names(topic, source, name):
    mapping = load_instrument("magic").stream_mapping(Topology.PRODUCTION)
    assert mapping.resolve(topic, source) == StreamId(StreamKind.LOG, name)


def test_every_log_is_routed_as_its_tables_say():
    loaded = load_instrument("magic")
    assert len(loaded.instrument.logs) == 142  # every f144 of the production table
    assert log_route_problems(loaded, TABLES) == []


def test_the_geometry_file_is_declared_with_its_date_and_md5():
    files = load_instrument("magic").instrument.geometry_files
    assert files.registry_url.startswith("https://github.com/scipp/esslivedata/")
    assert [
        (f.name, f.valid_from.date().isoformat(), f.checksum) for f in files.files
    ] == [
        (
            "geometry-magic-2026-08-03.nxs",
            "2026-08-03",
            "md5:d74c943d7b80c81916df2d23eb4d8045",
        )
    ]


def test_passes_conformance_on_stand_in_geometry(magic):
    assert conformance_problems(magic) == []


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_banks_hold_their_ranges(magic, bank):
    _, first, last, _ = BANKS[bank]
    numbers = magic.instrument.detector(bank).detector_number.values
    assert np.array_equal(numbers, np.arange(first, last + 1))


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_views_fold_wire_strip_segment(magic, bank):
    wires, strips, segments = BANKS[bank][3]
    detector = magic.instrument.detector(bank)
    images = make_view_images(detector, magic.instrument.sample_position)
    ones = np.ones(detector.pixel_count, dtype=np.int64)
    expected = {
        "strip_segment": {"strip": strips, "segment": segments},
        "wire_segment": {"wire": wires, "segment": segments},
        "strip": {"strip": strips},
        "cylinder": {"y": strips, "phi": segments},
    }
    for view, shape in expected.items():
        image = images[view].image(ones)
        assert dict(image.sizes) == shape, view
        assert image.sum().value == pytest.approx(detector.pixel_count), view


def test_segment_runs_fastest_and_wire_slowest(magic):
    """detector_number runs in C order over (wire, strip, segment)."""
    detector = magic.instrument.detector("magic_detector_a")
    images = make_view_images(detector, magic.instrument.sample_position)
    counts = np.zeros(detector.pixel_count, dtype=np.int64)
    counts[:120] = 1  # wire 0, strip 0, every segment
    wire = images["wire_segment"].image(counts)
    assert wire["wire", 0].values.tolist() == [1] * 120
    assert wire.sum().value == 120
    assert images["strip"].image(counts).values.tolist() == [120] + [0] * 127


def test_fakes_draw_inside_every_bank(magic):
    shapes = magic.fake_data_shapes()
    for bank in magic.instrument.detectors:
        sampler = PixelSampler(bank, shapes, magic.instrument.sample_position)
        drawn = sampler.sample(10_000, np.random.default_rng(1))
        _, first, last, _ = BANKS[bank.name]
        assert first <= drawn.min()
        assert drawn.max() <= last


def test_rate_at_the_peak_over_the_banks_gives_the_facts_rate(magic):
    """The facts' fakes: 10000 events per message and bank at 14 Hz."""
    names = [bank.name for bank in magic.instrument.detectors]
    counts = bank_events_per_pulse(names, magic.fake_data_shapes(), 10_000)
    assert sum(counts) * 14 == pytest.approx(TABLES.peak_event_rate, rel=1e-4)
    assert counts[0] == round(20_000 * 491_520 / 622_592)
