"""LOKI's production streams, its banks on stand-in geometry, its geometry files."""

from __future__ import annotations

import numpy as np
import pytest
import scipp as sc

from ess.livedata.core.conformance import conformance_problems
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.plugins import installed_instruments, load_instrument
from ess.livedata.core.streams import Topology
from ess.livedata.ess.stand_in import on_stand_in_geometry
from ess.livedata.processing.detectors import make_view_images

BANKS = [
    # name, tubes per layer, first detector number
    ("loki_detector_0", 56, 1),
    ("loki_detector_1", 16, 802_817),
    ("loki_detector_2", 12, 1_032_193),
    ("loki_detector_3", 16, 1_204_225),
    ("loki_detector_4", 12, 1_433_601),
    ("loki_detector_5", 28, 1_605_633),
    ("loki_detector_6", 32, 2_007_041),
    ("loki_detector_7", 20, 2_465_793),
    ("loki_detector_8", 32, 2_752_513),
]


@pytest.fixture(scope="module")
def loki(tmp_path_factory):
    with on_stand_in_geometry("loki", tmp_path_factory.mktemp("geometry")) as it:
        yield it


def test_loki_is_installed_through_its_entry_point():
    assert "loki" in installed_instruments()


@pytest.mark.parametrize(("bank", "index"), [(b[0], i) for i, b in enumerate(BANKS)])
def test_each_bank_is_source_caen_on_its_own_topic(bank, index):
    prod = load_instrument("loki").stream_mapping(Topology.PRODUCTION)
    dev = load_instrument("loki").stream_mapping(Topology.DEV)
    stream = StreamId(StreamKind.DETECTOR_EVENTS, bank)
    assert prod.resolve(f"loki_detector_bank{index}", "caen") == stream
    assert dev.resolve("loki_detector", bank) == stream


def test_monitors_are_cbm1_to_5_in_production_and_numbered_in_dev():
    loaded = load_instrument("loki")
    prod = loaded.stream_mapping(Topology.PRODUCTION)
    dev = loaded.stream_mapping(Topology.DEV)
    for n in range(5):
        stream = StreamId(StreamKind.MONITOR_EVENTS, f"beam_monitor_m{n}")
        assert prod.resolve("loki_beam_monitor", f"cbm{n + 1}") == stream
        assert dev.resolve("loki_beam_monitor", f"monitor{n + 1}") == stream


def test_every_production_log_is_keyed_by_its_epics_name():
    loaded = load_instrument("loki")
    prod = loaded.stream_mapping(Topology.PRODUCTION)
    logs = loaded.instrument.logs
    assert len(logs) == 123  # the f144 streams of the production lookup table
    carriage = StreamId(StreamKind.LOG, "detector_carriage/value")
    assert prod.resolve("loki_motion", "LOKI-DtCar1:MC-LinX-01:Mtr.RBV") == carriage
    for log in logs:
        sc.Unit(log.unit)
        key = prod.key_for(StreamId(StreamKind.LOG, log.name))
        assert key.source_name == log.source_name


def test_geometry_files_are_the_seven_dated_ones():
    files = load_instrument("loki").instrument.geometry_files
    assert len(files.files) == 7
    assert files.files[-1].name == "geometry-loki-2026-05-08.nxs"
    assert files.files[-1].checksum == "md5:4edc75ba015e7916dfc23e8d78f9cca6"


def test_passes_conformance_on_stand_in_geometry(loki):
    assert conformance_problems(loki) == []


@pytest.mark.parametrize(("bank", "tubes", "first"), BANKS)
def test_banks_have_512_pixel_straws_from_their_first_number(loki, bank, tubes, first):
    detector = loki.instrument.detector(bank)
    assert detector.pixel_count == 4 * tubes * 7 * 512
    assert detector.pixel_id_range() == (first, first + detector.pixel_count - 1)
    images = make_view_images(detector, loki.instrument.sample_position)
    image = images["straws"].image(np.ones(detector.pixel_count, dtype=np.int64))
    assert set(image.sizes.values()) == {tubes * 7, 512}
    assert image.sum().value == 4 * tubes * 7 * 512


def test_rear_bank_straws_are_a_metre_long_and_centred_on_the_beam(loki):
    position = loki.instrument.detector("loki_detector_0").geometry.coords["position"]
    x = position.values[..., 0]
    assert x.max() - x.min() == pytest.approx(1.0, abs=0.01)
    assert x.mean() == pytest.approx(0.0, abs=1e-9)
    z = position.values[..., 2]
    assert z.min() > 5.0
    assert z.max() < 5.1


def test_middle_banks_leave_the_beam_to_the_rear_bank(loki):
    for name, _, _ in BANKS[1:5]:
        position = loki.instrument.detector(name).geometry.coords["position"].values
        radius = np.hypot(position[..., 0], position[..., 1])
        assert radius.min() > 0.2, name
