"""Fake area-detector frames: one ad00 image per camera per pulse.

As the facility's fake: a Gaussian spot circling the image centre once
every 140 frames (10 s at 14 Hz) on Poisson noise, sent as uint16. Frames
come from a random generator of their own, so adding cameras does not
change the events the detector fakes draw for a given seed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import scipp as sc
from confluent_kafka import Producer

from ess.livedata.core.instrument import AreaDetector
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.streams import InputStreamKey, StreamMapping
from ess.livedata.kafka.schemas.ad00 import encode_ad00

from .cli import produce

FRAMES_PER_TURN = 140
SPOT_SIGMA = 15.0
SPOT_PEAK = 500.0
NOISE_MEAN = 5.0


def fake_frame(
    shape: tuple[int, int], index: int, rng: np.random.Generator
) -> np.ndarray:
    """Frame ``index`` of a camera of ``shape``: the spot where it is then,
    on noise, as uint16 counts."""
    y, x = np.ogrid[: shape[0], : shape[1]]
    angle = 2 * np.pi * index / FRAMES_PER_TURN
    radius = min(shape) // 6
    cy = shape[0] // 2 + radius * np.sin(angle)
    cx = shape[1] // 2 + radius * np.cos(angle)
    spot = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * SPOT_SIGMA**2))
    noise = rng.poisson(lam=NOISE_MEAN, size=shape)
    return (SPOT_PEAK * spot + noise).astype(np.uint16)


def frame_payload(source_name: str, pulse_ns: int, frame: np.ndarray) -> bytes:
    image = sc.DataArray(
        sc.array(dims=["dim_0", "dim_1"], values=frame.astype(np.int32), unit="counts")
    )
    return encode_ad00(source_name, pulse_ns, image)


def image_rng(seed: int | None) -> np.random.Generator:
    """The frames' generator: seeded apart from the events' one."""
    return np.random.default_rng(None if seed is None else [seed, 1])


def camera_keys(
    cameras: Sequence[AreaDetector], mapping: StreamMapping
) -> list[tuple[InputStreamKey, AreaDetector]]:
    return [
        (mapping.key_for(StreamId(StreamKind.AREA_DETECTOR, c.name)), c)
        for c in cameras
    ]


def with_frames(
    groups: Iterator[list[int]],
    producer: Producer,
    cameras: Sequence[tuple[InputStreamKey, AreaDetector]],
    rng: np.random.Generator,
) -> Iterator[list[int]]:
    """``groups`` of pulse times, producing each pulse's frame of every
    camera before the group is handed on (to send its events)."""
    index = 0
    for group in groups:
        for pulse in group:
            for key, camera in cameras:
                frame = fake_frame(camera.shape, index, rng)
                produce(
                    producer, key.topic, frame_payload(key.source_name, pulse, frame)
                )
            index += 1
        yield group
