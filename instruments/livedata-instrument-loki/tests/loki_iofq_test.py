"""I(Q) from fake LOKI events, generated in-process with the fake producers' code."""

import numpy as np
import pytest

from ess.livedata.core.job_commands import parse_params
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.ess.stand_in import on_stand_in_geometry
from ess.livedata.fake.detectors import PixelSampler, draw_events
from ess.livedata.fake.toa import sample_toa
from ess.livedata.instruments.loki.fake_data import SILVER_BEHENATE_Q
from ess.livedata.kafka.schemas.da00 import decode_da00, encode_da00

REAR = StreamId(StreamKind.DETECTOR_EVENTS, "loki_detector_0")
MONITOR = StreamId(StreamKind.MONITOR_EVENTS, "beam_monitor_m1")
Q_PARAMS = {"q_min": 0.05, "q_max": 0.2, "q_bins": 75}


@pytest.fixture(scope="module")
def loki(tmp_path_factory):
    """LOKI on stand-in geometry: rear and middle banks as published."""
    with on_stand_in_geometry("loki", tmp_path_factory.mktemp("geometry")) as it:
        yield it


def batch(pixel_id: np.ndarray, toa: np.ndarray) -> EventBatch:
    return EventBatch(
        reference_time=np.array([0], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=toa,
        pixel_id=pixel_id,
    )


def fake_windows(loki, windows: int, events: int, seed: int = 1):
    """Rear-bank and incident-monitor events as the fake producers draw them."""
    shapes = loki.fake_data_shapes()
    instrument = loki.instrument
    sampler = PixelSampler(
        instrument.detector(REAR.name), shapes, instrument.sample_position
    )
    rng = np.random.default_rng(seed)
    for _ in range(windows):
        pixel_id, toa = draw_events(sampler, shapes.detector_toa, events, rng)
        monitor = sample_toa(shapes.monitor_toa, events // 2, rng)
        yield {
            REAR: [batch(pixel_id, toa)],
            MONITOR: [batch(np.empty(0, dtype=np.int32), monitor)],
        }


def i_of_q_job(loki, **params):
    spec = loki.workflow_specs["i_of_q/v1"]
    factory = loki.workflow_factories()["i_of_q/v1"]
    return factory(parse_params(spec, {**Q_PARAMS, **params}), (REAR,))


def test_silver_behenate_peak_is_at_its_q(loki):
    workflow = i_of_q_job(loki)
    for window in fake_windows(loki, windows=4, events=50_000):
        workflow.accumulate(window)
    i_of_q = workflow.finalize()["i_of_q"]
    edges = i_of_q.coords["Q"].values
    centres = (edges[1:] + edges[:-1]) / 2
    peak = centres[np.argmax(i_of_q.values)]
    assert peak == pytest.approx(SILVER_BEHENATE_Q, abs=2 * (edges[1] - edges[0]))
    assert str(i_of_q.unit) == "dimensionless"
    assert i_of_q.variances is not None


def test_i_of_q_is_normalised_by_the_monitor_in_the_band(loki):
    [window] = fake_windows(loki, windows=1, events=20_000)
    doubled = {**window, MONITOR: window[MONITOR] * 2}
    once, twice = i_of_q_job(loki), i_of_q_job(loki)
    once.accumulate(window)
    twice.accumulate(doubled)
    single, double = once.finalize(), twice.finalize()
    np.testing.assert_allclose(
        single["i_of_q"].values, 2 * double["i_of_q"].values, rtol=1e-12
    )
    in_band = single["monitor_wavelength"].sum().value
    counts = window[MONITOR][0].size
    assert 0.9 * counts < in_band <= counts


def test_a_narrow_band_and_reset_change_the_result(loki):
    window = next(fake_windows(loki, windows=1, events=20_000))
    wide, narrow = i_of_q_job(loki), i_of_q_job(loki, wavelength_min=5.9)
    for workflow in (wide, narrow):
        workflow.accumulate(window)
    wide_counts = wide.finalize()["detector_wavelength"].sum().value
    narrow_counts = narrow.finalize()["detector_wavelength"].sum().value
    assert narrow_counts < 0.8 * wide_counts
    wide.clear()
    wide.accumulate(window)
    assert wide.finalize()["detector_wavelength"].sum().value == wide_counts


def test_outputs_can_be_published_as_da00(loki):
    workflow = i_of_q_job(loki)
    for window in fake_windows(loki, windows=1, events=1000):
        workflow.accumulate(window)
    for name, data in workflow.finalize().items():
        _, _, decoded = decode_da00(encode_da00(name, 0, data))
        assert set(decoded.coords) == set(data.coords), name
        np.testing.assert_array_equal(decoded.values, data.values)
