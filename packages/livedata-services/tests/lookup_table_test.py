"""The wavelength lookup table computed from choppers with ``tof``, and its cache."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipp as sc
from scipp.testing import assert_identical

from ess.livedata.reduction.chopper_setting import (
    DiskChopperSetting,
    LookupTableSetting,
)
from ess.livedata.reduction.lookup_table import compute_lookup_table
from ess.livedata.reduction.lookup_table_cache import (
    CACHE_DIR_VARIABLE,
    LookupTableCache,
    default_cache_dir,
)

H_OVER_MN = 3956.034  # m Å / s: flight time (s) = L (m) * wavelength (Å) / H_OVER_MN
BAND_CHOPPER = DiskChopperSetting(
    name="band",
    distance_m=6.0,
    frequency_hz=14.0,
    phase_deg=30.0,
    slit_begin_deg=(0.0,),
    slit_end_deg=(120.0,),
    radius_m=0.3,
    slit_height_m=0.1,
)
# Short flight paths and wavelengths up to 10 Å: every neutron arrives within
# its own pulse period, so nothing wraps and the table is monotonic.
SMALL = LookupTableSetting(
    choppers=(BAND_CHOPPER,),
    ltotal_min_m=8.0,
    ltotal_max_m=12.0,
    neutrons=50_000,
    seed=7,
    wavelength_max_angstrom=10.0,
)


@pytest.fixture(scope="module")
def small_table():
    return compute_lookup_table(SMALL)


def _finite_rows(array: sc.DataArray, dim: str):
    """Each 1-D slice along ``dim``: coordinate and value where finite."""
    other = next(d for d in array.dims if d != dim)
    values = array.transpose([other, dim]).values
    for row in values:
        finite = np.isfinite(row)
        yield array.coords[dim].values[finite], row[finite]


def test_table_covers_the_flight_paths_and_one_pulse_period(small_table):
    array = small_table.array
    assert array.unit == "angstrom"
    distance = array.coords["distance"].to(unit="m").values
    assert distance.min() <= 8.0
    assert distance.max() >= 12.0
    eto = array.coords["event_time_offset"].to(unit="ms").values
    assert eto[0] == 0.0
    assert eto[-1] == pytest.approx(1000 / 14)


def test_table_is_finite_only_where_the_chopper_lets_neutrons_through(small_table):
    finite = np.isfinite(small_table.array.values)
    assert 0.05 < finite.mean() < 0.95
    assert np.isfinite(small_table.array.variances[finite]).all()


def test_wavelength_grows_with_arrival_time_and_shrinks_with_distance(small_table):
    """Beyond the first millisecond: before it only the source spectrum's
    shortest wavelengths arrive, so the bins' mean is pinned to that edge.
    Along distance a 0.1 m step changes the wavelength less than the Monte
    Carlo noise of a bin's mean, so that is checked over 1 m steps."""
    array = small_table.array
    array = array[array.coords["event_time_offset"] > sc.scalar(1000.0, unit="us")]
    for _, wavelengths in _finite_rows(array, "event_time_offset"):
        assert (np.diff(wavelengths) > 0).all()
    for _, wavelengths in _finite_rows(array["distance", ::10], "distance"):
        assert (np.diff(wavelengths) < 0).all()


def test_wavelengths_match_flight_times_from_the_pulse(small_table):
    """Arrival minus flight time is a birth time within the 5 ms ESS pulse."""
    array = small_table.array.transpose(["distance", "event_time_offset"])
    distance = array.coords["distance"].to(unit="m").values[:, None]
    eto = array.coords["event_time_offset"].to(unit="s").values[None, :]
    birth = eto - distance * array.values / H_OVER_MN
    birth = birth[np.isfinite(birth)]
    half_bin = 125e-6
    assert birth.min() > -half_bin
    assert birth.max() < 5e-3 + half_bin


def test_equal_settings_give_equal_tables(small_table):
    assert_identical(compute_lookup_table(SMALL).array, small_table.array)


def test_key_changes_with_any_setting():
    moved = dataclasses.replace(BAND_CHOPPER, phase_deg=31.0)
    assert SMALL.key == dataclasses.replace(SMALL).key
    assert dataclasses.replace(SMALL, choppers=(moved,)).key != SMALL.key
    assert dataclasses.replace(SMALL, neutrons=50_001).key != SMALL.key


def test_second_get_hits_memory_then_disk_and_other_setting_misses(tmp_path):
    cache = LookupTableCache(tmp_path)
    first = cache.get(SMALL)
    assert first.origin == "computed"
    assert cache.path(SMALL).is_file()
    again = cache.get(SMALL)
    assert again.origin == "memory"
    assert again.table is first.table

    restarted = LookupTableCache(tmp_path).get(SMALL)
    assert restarted.origin == "disk"
    assert_identical(restarted.table.array, first.table.array)
    assert restarted.table.pulse_stride == first.table.pulse_stride

    other = dataclasses.replace(
        SMALL, choppers=(dataclasses.replace(BAND_CHOPPER, phase_deg=60.0),)
    )
    missed = cache.get(other)
    assert missed.origin == "computed"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{SMALL.key}.h5", f"{other.key}.h5"]
    )
    assert not sc.identical(missed.table.array, first.table.array)


def test_cache_dir_comes_from_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv(CACHE_DIR_VARIABLE)
    assert default_cache_dir().parts[-2:] == ("livedata", "lookup-tables")
