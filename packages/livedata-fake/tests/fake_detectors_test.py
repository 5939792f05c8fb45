from dataclasses import fields, replace

import numpy as np
import pytest

from ess.livedata.core.fake_shapes import DEFAULT_FAKE_DATA_SHAPES, BeamSpot, Ring
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import load_instrument
from ess.livedata.fake.detectors import (
    Ev44Template,
    PixelSampler,
    bank_events_per_pulse,
    draw_events,
    pixel_probabilities,
    pulse_batch,
    scattering_angle,
)
from ess.livedata.kafka.schemas.ev44 import decode_ev44, encode_ev44

LOADED = load_instrument("dummy")
SHAPES = LOADED.fake_data_shapes()


@pytest.fixture(scope="module")
def instrument():
    return LOADED.instrument


def angles(instrument, bank_name):
    bank = instrument.detector(bank_name)
    positions = bank.geometry.coords["position"].values.reshape(-1, 3)
    return scattering_angle(positions, instrument.sample_position)


def counts_per_pixel(instrument, bank_name, n, seed=1):
    bank = instrument.detector(bank_name)
    sampler = PixelSampler(bank, SHAPES, instrument.sample_position)
    pixel_id, toa = draw_events(
        sampler, SHAPES.detector_toa, n, np.random.default_rng(seed)
    )
    numbers = bank.detector_number.values.ravel()
    index = np.searchsorted(numbers, pixel_id)
    return np.bincount(index, minlength=numbers.size), pixel_id, toa


@pytest.mark.parametrize("bank_name", ["panel_0", "tubes_1"])
def test_pixel_ids_are_the_banks_own(instrument, bank_name):
    bank = instrument.detector(bank_name)
    _, pixel_id, toa = counts_per_pixel(instrument, bank_name, 50_000)
    assert pixel_id.dtype == np.int32
    assert np.isin(pixel_id, bank.detector_number.values).all()
    assert toa.dtype == np.int32
    assert (toa >= 0).all()
    assert toa.max() < SHAPES.detector_toa.frame_ms * 1e6


def test_ring_is_visible_on_the_tubes(instrument):
    [ring] = [f for f in SHAPES.detector_pattern if isinstance(f, Ring)]
    two_theta = angles(instrument, "tubes_1")
    counts, _, _ = counts_per_pixel(instrument, "tubes_1", 200_000)
    on_ring = np.abs(two_theta - ring.two_theta_rad) < ring.width_rad
    far = np.abs(two_theta - ring.two_theta_rad) > 5 * ring.width_rad
    assert on_ring.any()
    assert counts[on_ring].mean() > 10 * counts[far].mean()
    assert counts[far].mean() > 0  # the uniform background


def test_beam_spot_is_at_the_centre_of_the_panel(instrument):
    two_theta = angles(instrument, "panel_0")
    counts, _, _ = counts_per_pixel(instrument, "panel_0", 200_000)
    centre = two_theta < 0.01
    edge = two_theta > 0.08
    assert counts[centre].mean() > 10 * counts[edge].mean()


def test_same_seed_same_events(instrument):
    first = counts_per_pixel(instrument, "tubes_1", 1000, seed=5)
    second = counts_per_pixel(instrument, "tubes_1", 1000, seed=5)
    np.testing.assert_array_equal(first[1], second[1])
    np.testing.assert_array_equal(first[2], second[2])


def test_probabilities_add_background_and_fall_back_to_uniform():
    two_theta = np.linspace(0.0, 0.3, 301)
    probability = pixel_probabilities(two_theta, (BeamSpot(0.01),), background=0.2)
    assert probability.sum() == pytest.approx(1.0)
    assert probability.min() == pytest.approx(0.2 / two_theta.size, rel=1e-6)
    far_away = pixel_probabilities(two_theta + 100.0, (Ring(0.1, 0.001),), 0.2)
    np.testing.assert_allclose(far_away, 1.0 / two_theta.size)


def _same_events(payload: bytes, expected: bytes) -> None:
    source, batch = decode_ev44(payload)
    expected_source, expected_batch = decode_ev44(expected)
    assert source == expected_source
    for field in fields(EventBatch):
        assert np.array_equal(
            getattr(batch, field.name), getattr(expected_batch, field.name)
        ), field.name


@pytest.mark.parametrize(("pulses", "pixels"), [(1, True), (3, True), (2, False)])
def test_stamped_template_is_what_encode_ev44_gives(pulses, pixels) -> None:
    rng = np.random.default_rng(pulses)
    toa = [rng.integers(0, 71_000_000, n).astype(np.int32) for n in (5, 0, 7)[:pulses]]
    pixel_id = [rng.integers(1, 100, t.size).astype(np.int32) for t in toa]
    if not pixels:
        pixel_id = [np.empty(0, dtype=np.int32)] * pulses
    template = Ev44Template("panel_0", pulse_batch([0] * pulses, toa, pixel_id, 0))
    times = [1_700_000_000_000_000_000 + i * 71_428_571 for i in range(pulses)]
    first = template.stamp(times, 12)
    expected = encode_ev44("panel_0", pulse_batch(times, toa, pixel_id, 12))
    _same_events(first, expected)
    assert first == expected
    later = [t + 10**9 for t in times]
    second = template.stamp(later, 13)
    _same_events(second, encode_ev44("panel_0", pulse_batch(later, toa, pixel_id, 13)))
    _same_events(first, expected)  # earlier messages are copies, not views


def test_stamping_fewer_pulses_sends_their_events_only() -> None:
    toa = [np.arange(n, dtype=np.int32) for n in (3, 4, 5)]
    pixel_id = [t + 1 for t in toa]
    template = Ev44Template("panel_0", pulse_batch([0, 0, 0], toa, pixel_id, 0))
    payload = template.stamp([10, 20], 5)
    _same_events(
        payload, encode_ev44("panel_0", pulse_batch([10, 20], toa[:2], pixel_id[:2], 5))
    )


def test_banks_share_the_events_by_the_instruments_shares():
    shapes = replace(DEFAULT_FAKE_DATA_SHAPES, detector_share={"a": 3.0, "b": 1.0})
    assert bank_events_per_pulse(["a", "b", "c"], shapes, 100) == [180, 60, 60]
    assert bank_events_per_pulse(["x", "y"], DEFAULT_FAKE_DATA_SHAPES, 7) == [7, 7]
