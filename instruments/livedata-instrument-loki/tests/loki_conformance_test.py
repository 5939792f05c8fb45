import numpy as np
import pytest

from ess.livedata.core.conformance import conformance_problems
from ess.livedata.core.plugins import installed_instruments, load_instrument
from ess.livedata.instruments.loki.geometry import PIXELS_PER_STRAW


@pytest.fixture(scope="module")
def loki():
    return load_instrument("loki")


def test_loki_is_installed_through_its_entry_point():
    assert "loki" in installed_instruments()


def test_loki_passes_conformance(loki):
    assert conformance_problems(loki) == []


def test_detector_numbers_are_unique_across_all_banks(loki):
    ids = np.concatenate(
        [bank.detector_number.values.ravel() for bank in loki.instrument.detectors]
    )
    assert np.unique(ids).size == ids.size


@pytest.mark.parametrize(
    ("bank", "tubes", "first", "depth_m"),
    [
        ("loki_detector_0", 56, 1, (5.0, 5.1)),
        ("loki_detector_1", 16, 802_817, (2.89, 3.03)),
        ("loki_detector_2", 12, 1_032_193, (3.31, 3.45)),
        ("loki_detector_3", 16, 1_204_225, (2.89, 3.03)),
        ("loki_detector_4", 12, 1_433_601, (3.31, 3.45)),
    ],
)
def test_banks_follow_the_published_layout(loki, bank, tubes, first, depth_m):
    geometry = loki.instrument.detector(bank).geometry
    assert geometry.sizes == {"straw": 4 * tubes * 7, "pixel": PIXELS_PER_STRAW}
    assert loki.instrument.detector(bank).pixel_id_range()[0] == first
    position = geometry.coords["position"].values
    assert np.all(np.isfinite(position))
    z = position[..., 2]
    assert depth_m[0] < z.min()
    assert z.max() < depth_m[1]


def test_rear_bank_straws_are_a_metre_long_and_centred_on_the_beam(loki):
    position = loki.instrument.detector("loki_detector_0").geometry.coords["position"]
    x = position.values[..., 0]
    assert x.max() - x.min() == pytest.approx(1.0, abs=0.01)
    assert x.mean() == pytest.approx(0.0, abs=1e-9)


def test_middle_banks_leave_the_beam_to_the_rear_bank(loki):
    for bank in loki.instrument.detectors[1:]:
        position = bank.geometry.coords["position"].values
        radius = np.hypot(position[..., 0], position[..., 1])
        assert radius.min() > 0.2, bank.name
