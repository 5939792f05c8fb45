"""Detector geometry read from generated NeXus files, as the services use it."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

import h5py
import numpy as np
import pytest

from ess.livedata.core.geometry_files import (
    CACHE_DIR_VARIABLE,
    DATA_DIR_VARIABLE,
    OVERRIDE_VARIABLE,
    GeometryFileError,
)
from ess.livedata.core.instrument import (
    DetectorBank,
    GeometricView,
    GeometryFile,
    GeometryFiles,
    Instrument,
    LogicalView,
    Monitor,
    ProjectionKind,
)
from ess.livedata.core.nexus_geometry import (
    NexusDetector,
    instrument_geometry,
    read_nexus_geometry,
    with_file_positions,
)
from ess.livedata.core.plugins import LoadedInstrument, create_plugin_manager
from ess.livedata.processing.detectors import make_view_images
from ess.livedata.testing.nexus_files import (
    Bank,
    Component,
    NexusEvents,
    PixelBank,
    bank_positions,
    random_counts,
    write_nexus_file,
)

BANKS = [
    Bank("rear", 1, (8, 6), rotation_deg=0.0, distance_mm=5000.0),
    Bank("left", 1001, (5, 4), rotation_deg=35.0, direction=(0.6, 0.0, 0.8)),
    Bank("right", 2001, (3, 7), rotation_deg=-50.0, direction=(-1.0, 0.2, 0.5)),
]
MONITORS = [Component("monitor_1", (0.0, 0.0, -3.5)), Component("monitor_2", (0, 0, 8))]


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path))
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "cache"))


@pytest.fixture
def geometry_file(tmp_path, request) -> GeometryFiles:
    """A geometry file declared like a plugin would, named per test."""
    name = f"{request.node.name}.nxs"
    checksum = write_nexus_file(tmp_path / name, BANKS, MONITORS)
    return GeometryFiles(
        files=(GeometryFile(name, datetime(2020, 1, 1, tzinfo=UTC), checksum),)
    )


def test_pixel_positions_follow_the_transformation_chain(tmp_path):
    write_nexus_file(tmp_path / "g.nxs", BANKS, MONITORS)
    geometry = read_nexus_geometry(tmp_path / "g.nxs")
    assert sorted(geometry.detectors) == ["left", "rear", "right"]
    for bank in BANKS:
        loaded = geometry.detectors[bank.name]
        assert loaded.dims == ("dim_0", "dim_1")  # the file does not name them
        assert loaded.coords["detector_number"].dtype == "int32"
        np.testing.assert_array_equal(
            loaded.coords["detector_number"].values, bank.detector_number
        )
        position = loaded.coords["position"]
        assert position.unit == "m"
        np.testing.assert_allclose(position.values, bank_positions(bank), atol=1e-12)
    # The rotation did act: the flat panel (4 columns 1 cm apart) is tilted
    # by 35 degrees out of its z plane.
    z = geometry.detectors["left"].coords["position"].values[..., 2]
    assert np.ptp(z) == pytest.approx(0.03 * np.sin(np.deg2rad(35.0)))


def test_a_flat_bank_without_events_is_read(tmp_path):
    """Flat detector numbers, as in the facility's files (packages fold them)."""
    positions = np.random.default_rng(1).random((30, 3))
    numbers = np.arange(5, 35, dtype=np.int32)
    write_nexus_file(tmp_path / "g.nxs", [PixelBank("flat", numbers, positions)])
    loaded = read_nexus_geometry(tmp_path / "g.nxs").detectors["flat"]
    assert loaded.dims == ("detector_number",)
    np.testing.assert_array_equal(loaded.coords["detector_number"].values, numbers)
    np.testing.assert_allclose(loaded.coords["position"].values, positions)


def test_monitors_source_and_sample_are_placed(tmp_path):
    sample = Component("sample", (0.0, 0.1, 0.0))
    write_nexus_file(tmp_path / "g.nxs", BANKS[:1], MONITORS, sample=sample)
    geometry = read_nexus_geometry(tmp_path / "g.nxs")
    assert sorted(geometry.monitors) == ["monitor_1", "monitor_2"]
    np.testing.assert_allclose(geometry.monitors["monitor_1"].values, [0, 0, -3.5])
    np.testing.assert_allclose(geometry.monitors["monitor_2"].values, [0, 0, 8])
    np.testing.assert_allclose(geometry.source.values, [0, 0, -25])
    np.testing.assert_allclose(geometry.sample.values, [0, 0.1, 0])


def test_event_data_in_the_file_is_not_geometry(tmp_path):
    events = NexusEvents(
        pulses=3, detector_counts={"rear": random_counts(BANKS[0], 2.0, 1)}
    )
    write_nexus_file(tmp_path / "run.nxs", BANKS, MONITORS, events=events)
    geometry = read_nexus_geometry(tmp_path / "run.nxs")
    assert set(geometry.detectors["rear"].coords) == {"detector_number", "position"}
    assert geometry.detectors["rear"].sum().value == 0


def test_a_bank_takes_its_geometry_and_views_from_the_file(geometry_file):
    bank = DetectorBank(
        name="left",
        source_name="left_source",
        make_geometry=NexusDetector(geometry_file, "left", dims=("y", "x")),
        views=(
            LogicalView(name="pixels", transpose=("x", "y")),
            GeometricView("xy", ProjectionKind.XY_PLANE, resolution=(4, 5)),
        ),
    )
    assert bank.pixel_id_range() == (1001, 1020)
    images = make_view_images(bank, (0.0, 0.0, 0.0))
    assert set(images) == {"pixels", "xy"}
    assert bank.geometry.dims == ("y", "x")


def test_a_bank_naming_the_wrong_number_of_dims_is_refused(geometry_file):
    with pytest.raises(GeometryFileError, match="has 2 dims"):
        NexusDetector(geometry_file, "left", dims=("pixel",))()


def test_loaded_once_per_process_and_logged_with_the_rule(geometry_file, caplog):
    caplog.set_level(logging.INFO, logger="ess.livedata.core.nexus_geometry")
    first = NexusDetector(geometry_file, "rear")()
    second = NexusDetector(geometry_file, "right")()
    assert first.shape == (8, 6)
    assert second.shape == (3, 7)
    assert instrument_geometry(geometry_file) is instrument_geometry(geometry_file)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1
    name = geometry_file.files[0].name
    assert f"{name}: valid from 2020-01-01T00:00:00+00:00 until open-ended" in lines[0]


def test_a_malformed_file_is_one_line(tmp_path):
    write_nexus_file(tmp_path / "broken.nxs", BANKS[:1])
    with h5py.File(tmp_path / "broken.nxs", "r+") as f:
        del f["entry/instrument/rear/detector_number"]
    checksum = (
        "sha256:" + hashlib.sha256((tmp_path / "broken.nxs").read_bytes()).hexdigest()
    )
    valid = datetime(2020, 1, 1, tzinfo=UTC)
    files = GeometryFiles(files=(GeometryFile("broken.nxs", valid, checksum),))
    with pytest.raises(GeometryFileError) as error:
        NexusDetector(files, "rear")()
    assert "\n" not in str(error.value)
    assert str(error.value).startswith(
        f"geometry file {tmp_path / 'broken.nxs'} cannot be read: KeyError"
    )


def test_an_unknown_group_names_the_file_and_what_it_has(geometry_file):
    with pytest.raises(GeometryFileError, match=r"no NXdetector 'front' \(has: left"):
        NexusDetector(geometry_file, "front")()


def test_services_get_source_sample_and_monitors_placed_from_the_file(geometry_file):
    instrument = Instrument(
        "t",
        monitors=(Monitor("monitor_1", "m1"), Monitor("elsewhere", "m9", (1, 2, 3))),
        source_position=(0.0, 0.0, -99.0),
        geometry_files=geometry_file,
    )
    loaded = LoadedInstrument(instrument, create_plugin_manager())
    placed = with_file_positions(loaded).instrument
    assert placed.source_position == (0.0, 0.0, -25.0)
    assert placed.sample_position == (0.0, 0.0, 0.0)
    assert placed.monitor("monitor_1").position == (0.0, 0.0, -3.5)
    assert placed.monitor("elsewhere").position == (1, 2, 3)  # not in the file


def test_without_geometry_files_nothing_is_read():
    loaded = LoadedInstrument(Instrument("t"), create_plugin_manager())
    assert with_file_positions(loaded) is loaded


def test_a_missing_file_fails_at_start_up_in_one_line(tmp_path):
    valid = datetime(2020, 1, 1, tzinfo=UTC)
    files = GeometryFiles(files=(GeometryFile("absent.nxs", valid, "md5:00"),))
    instrument = Instrument("t", geometry_files=files)
    loaded = LoadedInstrument(instrument, create_plugin_manager())
    with pytest.raises(GeometryFileError) as error:
        with_file_positions(loaded)
    assert "\n" not in str(error.value)
    assert f"absent.nxs not found in {DATA_DIR_VARIABLE}={tmp_path}" in str(error.value)


def test_an_override_file_replaces_the_declared_ones_unchecked(
    tmp_path, monkeypatch, caplog
):
    caplog.set_level(logging.INFO, logger="ess.livedata.core.nexus_geometry")
    write_nexus_file(tmp_path / "stand-in.nxs", BANKS)
    monkeypatch.setenv(OVERRIDE_VARIABLE, str(tmp_path / "stand-in.nxs"))
    valid = datetime(2020, 1, 1, tzinfo=UTC)
    files = GeometryFiles(files=(GeometryFile("absent.nxs", valid, "md5:00"),))
    rear = NexusDetector(files, "rear")()
    np.testing.assert_array_equal(
        rear.coords["detector_number"].values, BANKS[0].detector_number
    )
    assert [r.getMessage() for r in caplog.records] == [
        f"geometry from {tmp_path / 'stand-in.nxs'}: "
        f"{OVERRIDE_VARIABLE} overrides the declared files (unchecked)"
    ]


def test_an_override_naming_no_file_fails_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv(OVERRIDE_VARIABLE, str(tmp_path / "none.nxs"))
    valid = datetime(2020, 1, 1, tzinfo=UTC)
    files = GeometryFiles(files=(GeometryFile("absent.nxs", valid, "md5:00"),))
    with pytest.raises(GeometryFileError, match=f"{OVERRIDE_VARIABLE}=.*none.nxs: no"):
        instrument_geometry(files)


def test_a_logged_transformation_is_taken_at_its_newest_value(tmp_path):
    """A motor in the chain (ESTIA's detector arm) logs its angle as an
    ``NXlog``; the geometry is where it stands now."""
    bank = Bank("arm", 1, (2, 3), distance_mm=4000.0)
    write_nexus_file(tmp_path / "g.nxs", [bank])
    with h5py.File(tmp_path / "g.nxs", "r+") as f:
        transformations = f["entry/instrument/arm/transformations"]
        arm = transformations.create_group("arm_angle")
        arm.attrs.update(
            NX_class="NXlog",
            transformation_type="rotation",
            vector=(0.0, 1.0, 0.0),
            depends_on=".",
        )
        arm.create_dataset("value", data=[10.0, 90.0]).attrs["units"] = "deg"
        time = arm.create_dataset("time", data=[0, 1_000_000_000])
        time.attrs.update(units="ns", start="1970-01-01T00:00:00Z")
        transformations["location"].attrs["depends_on"] = "arm_angle"
    position = (
        read_nexus_geometry(tmp_path / "g.nxs").detectors["arm"].coords["position"]
    )
    # Turned by 90 degrees about y, the bank 4 m along z now lies 4 m along x.
    np.testing.assert_allclose(
        position.values,
        bank_positions(bank) @ np.array([[0, 0, -1], [0, 1, 0], [1, 0, 0]]),
        atol=1e-9,
    )
