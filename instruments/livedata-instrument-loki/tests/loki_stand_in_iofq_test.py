"""esssans's I(Q) on LOKI's stand-in geometry and fake data: the demo's case.

The stand-in file holds every bank shaped like its layout (not flat as the
facility's) with the straws' pixel cylinders; the fake rear-bank events put a
silver behenate ring where 6 Å scatters to its first peak, so I(Q) must peak
there (wavelength now comes from essreduce's table for the real ESS pulse,
not from time of arrival, hence a tolerance of two bins).
"""

import numpy as np
import pytest

from ess.livedata.core.job_commands import parse_params
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.ess.stand_in import on_stand_in_geometry
from ess.livedata.fake.detectors import PixelSampler, draw_events
from ess.livedata.fake.toa import sample_toa
from ess.livedata.instruments.loki.fake_data import SILVER_BEHENATE_Q
from ess.livedata.reduction.lookup_table_cache import CACHE_DIR_VARIABLE

REAR = StreamId(StreamKind.DETECTOR_EVENTS, "loki_detector_0")
MONITOR = StreamId(StreamKind.MONITOR_EVENTS, "beam_monitor_m1")


@pytest.fixture(scope="module")
def loki(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_DIR_VARIABLE, str(tmp_path_factory.mktemp("tables")))
        with on_stand_in_geometry("loki", tmp_path_factory.mktemp("geometry")) as it:
            yield it


def batch(pixel_id: np.ndarray, toa: np.ndarray) -> EventBatch:
    return EventBatch(
        reference_time=np.array([0], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=toa,
        pixel_id=pixel_id,
    )


def test_silver_behenate_peak_is_at_its_q(loki):
    shapes = loki.fake_data_shapes()
    sampler = PixelSampler(
        loki.instrument.detector(REAR.name), shapes, loki.instrument.sample_position
    )
    spec = loki.workflow_specs["i_of_q/v2"]
    params = {"q_min": 0.05, "q_max": 0.2, "q_bins": 30}
    job = loki.workflow_factories()["i_of_q/v2"](
        parse_params(spec, {**params, "transmission_mode": "constant"}), (REAR,)
    )
    job.wait()
    rng = np.random.default_rng(1)
    for _ in range(3):
        pixel_id, toa = draw_events(sampler, shapes.detector_toa, 50_000, rng)
        monitor = sample_toa(shapes.monitor_toa, 25_000, rng)
        job.accumulate(
            {
                REAR: [batch(pixel_id, toa)],
                MONITOR: [batch(np.empty(0, dtype=np.int32), monitor)],
            }
        )
    i_of_q = job.finalize()["i_of_q"]
    edges = i_of_q.coords["Q"].values
    centres = (edges[1:] + edges[:-1]) / 2
    peak = centres[np.nanargmax(i_of_q.values)]
    assert peak == pytest.approx(SILVER_BEHENATE_Q, abs=2 * (edges[1] - edges[0]))
