"""ODIN's production streams, its image view on stand-in geometry, its geometry file."""

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
from ess.livedata.instruments.odin.plugin import TABLES
from ess.livedata.processing.detectors import make_view_images

PIXELS = 4096 * 4096


@pytest.fixture(scope="module")
def odin(tmp_path_factory):
    """ODIN on a stand-in geometry file with the fake detector range."""
    with on_stand_in_geometry("odin", tmp_path_factory.mktemp("geometry")) as it:
        yield it


@pytest.mark.parametrize("topology", list(Topology))
def test_timepix3_is_source_timepix3_on_the_detector_topic(topology):
    mapping = load_instrument("odin").stream_mapping(topology)
    assert mapping.resolve("odin_detector", "timepix3") == StreamId(
        StreamKind.DETECTOR_EVENTS, "timepix3"
    )


@pytest.mark.parametrize(
    ("topology", "sources"),
    [(Topology.PRODUCTION, ("cbm1", "cbm2")), (Topology.DEV, ("monitor1", "monitor2"))],
)
def test_monitors_are_cbm_in_production_and_numbered_in_dev(topology, sources):
    mapping = load_instrument("odin").stream_mapping(topology)
    resolved = [mapping.resolve("odin_beam_monitor", s) for s in sources]
    assert resolved == [
        StreamId(StreamKind.MONITOR_EVENTS, "monitor1"),
        StreamId(StreamKind.MONITOR_EVENTS, "monitor2"),
    ]


@pytest.mark.parametrize(
    ("topic", "source", "name"),
    [
        ("odin_motion", "ODIN-AncGon:MC-Rot-01:Mtr.VAL", "anc_goniometer/target_value"),
        ("odin_motion", "ODIN-AncGon:MC-Rot-01:Mtr.DMOV", "anc_goniometer/idle_flag"),
        (
            "tn_data_general",
            "A2T-130LWU:PBI-BCM-001:PulseChargeR",
            "neutron_prod_info/pulse_charge",
        ),
    ],
)
def test_production_logs_are_keyed_by_their_epics_names(topic, source, name):
    mapping = load_instrument("odin").stream_mapping(Topology.PRODUCTION)
    assert mapping.resolve(topic, source) == StreamId(StreamKind.LOG, name)


def test_dropped_streams_on_unreadable_topics_are_left_out():
    topics = {log.topic for log in TABLES.logs}
    assert "odin_misc_devices" not in topics
    assert "odin_nicos_devices" not in topics


def test_every_log_is_routed_as_its_tables_say():
    loaded = load_instrument("odin")
    assert len(loaded.instrument.logs) == 274  # every f144 of the production table
    assert log_route_problems(loaded, TABLES) == []


def test_geometry_file_is_declared_with_date_and_md5():
    files = load_instrument("odin").instrument.geometry_files
    assert files.registry_url.startswith("https://github.com/scipp/esslivedata/")
    assert [(f.name, f.checksum) for f in files.files] == [
        ("geometry-odin-2025-09-25.nxs", "md5:5615a6203813b4ab84a191f7478ceb3c")
    ]
    chosen = choose_geometry_file(files, datetime(2026, 1, 1, tzinfo=UTC))
    assert chosen.file.name == "geometry-odin-2025-09-25.nxs"


def test_passes_conformance_on_stand_in_geometry(odin):
    assert conformance_problems(odin) == []


def test_timepix3_holds_its_fake_range(odin):
    numbers = odin.instrument.detector("timepix3").detector_number.values
    assert np.array_equal(numbers, np.arange(1, PIXELS + 1))


def test_image_sums_8_by_8_pixels_into_512_by_512(odin):
    detector = odin.instrument.detector("timepix3")
    images = make_view_images(detector, odin.instrument.sample_position)
    counts = np.zeros(PIXELS, dtype=np.int64)
    # dim_0 (x) is slowest: pixel (x=9, y=17) is 9 * 4096 + 17, in bin (1, 2).
    counts[9 * 4096 + 17] = 3
    counts[:] += 1
    image = images["odin_detector_xy"].image(counts)
    assert dict(image.sizes) == {"y": 512, "x": 512}
    assert image["y", 2]["x", 1].value == 64 + 3
    assert image["y", 1]["x", 2].value == 64
    assert image.sum().value == PIXELS + 3


def test_fakes_draw_inside_the_panel(odin):
    bank = odin.instrument.detector("timepix3")
    sampler = PixelSampler(
        bank, odin.fake_data_shapes(), odin.instrument.sample_position
    )
    drawn = sampler.sample(10_000, np.random.default_rng(1))
    assert drawn.min() >= 1
    assert drawn.max() <= PIXELS


def test_rate_at_the_peak_is_upstreams_fake_rate():
    counts = bank_events_per_pulse(
        ["timepix3"], load_instrument("odin").fake_data_shapes(), 10_000
    )
    assert counts[0] * 14 == TABLES.peak_event_rate
