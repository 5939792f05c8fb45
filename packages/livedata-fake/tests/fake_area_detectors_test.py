"""Fake area-detector frames: the facility's moving spot on noise, as ad00."""

from unittest.mock import Mock

import numpy as np

from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.streams import Topology
from ess.livedata.fake.area_detectors import (
    FRAMES_PER_TURN,
    camera_keys,
    fake_frame,
    frame_payload,
    image_rng,
    with_frames,
)
from ess.livedata.kafka.schemas.ad00 import decode_ad00

SHAPE = (256, 256)


def spot(frame: np.ndarray) -> tuple[int, int]:
    return np.unravel_index(np.argmax(frame), frame.shape)


def test_frames_are_uint16_counts_with_a_spot_that_circles():
    rng = np.random.default_rng(1)
    first = fake_frame(SHAPE, 0, rng)
    quarter = fake_frame(SHAPE, FRAMES_PER_TURN // 4, rng)
    assert first.dtype == np.uint16
    assert first.shape == SHAPE
    radius = min(SHAPE) // 6
    # Frame 0: right of the centre; a quarter turn later: above it.
    assert np.allclose(spot(first), (128, 128 + radius), atol=3)
    assert np.allclose(spot(quarter), (128 + radius, 128), atol=3)
    # Poisson noise of mean 5 away from the spot.
    assert 4.5 < first[:40, :40].mean() < 5.5


def test_frames_repeat_with_the_seed_and_differ_without():
    assert np.array_equal(
        fake_frame(SHAPE, 3, image_rng(7)), fake_frame(SHAPE, 3, image_rng(7))
    )
    assert not np.array_equal(
        fake_frame(SHAPE, 3, image_rng(7)), fake_frame(SHAPE, 3, image_rng(8))
    )


def test_payload_is_ad00_as_detector_data_decodes_it():
    frame = fake_frame((4, 6), 0, np.random.default_rng(0))
    source, timestamp, image = decode_ad00(frame_payload("area_panel", 123, frame))
    assert (source, timestamp) == ("area_panel", 123)
    assert image.dims == ("dim_0", "dim_1")
    assert image.unit == "counts"
    np.testing.assert_array_equal(image.values, frame)


def test_every_pulse_sends_a_frame_of_every_camera_before_its_events():
    loaded = load_instrument("dummy")
    keys = camera_keys(
        loaded.instrument.area_detectors, loaded.stream_mapping(Topology.DEV)
    )
    producer = Mock()
    groups = with_frames(iter([[10, 20], [30]]), producer, keys, image_rng(0))
    assert next(groups) == [10, 20]
    assert producer.produce.call_count == 2  # before the group is handed on
    assert list(groups) == [[30]]
    sent = [call.args for call in producer.produce.call_args_list]
    assert [topic for topic, _ in sent] == ["dummy_area_detector"] * 3
    decoded = [decode_ad00(payload) for _, payload in sent]
    assert [(s, t) for s, t, _ in decoded] == [("area_panel", t) for t in (10, 20, 30)]
    assert all(image.shape == (256, 256) for _, _, image in decoded)
