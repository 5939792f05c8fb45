"""Fake detector banks: one ev44 message per bank per pulse.

Pixels are drawn with probabilities from the instrument's fake detector
pattern (beam spot and rings in scattering angle) on top of a uniform
background; times of arrival from its detector TOA shape.
"""

from __future__ import annotations

import argparse
import logging
import threading

import numpy as np
from confluent_kafka import Producer

from ess.livedata.core.fake_shapes import BeamSpot, FakeDataShapes, Ring, ToaShape
from ess.livedata.core.instrument import DetectorBank
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.core.streams import StreamMapping
from ess.livedata.kafka.schemas.ev44 import encode_ev44

from .cli import events_per_pulse, produce
from .pulses import RateLog, pulses
from .toa import sample_toa

logger = logging.getLogger(__name__)


def scattering_angle(
    positions: np.ndarray, sample_position: tuple[float, float, float]
) -> np.ndarray:
    """Angle (rad) between the beam (+z) and the sample-to-pixel direction."""
    relative = positions - np.asarray(sample_position)
    return np.arctan2(np.hypot(relative[:, 0], relative[:, 1]), relative[:, 2])


def pixel_probabilities(
    two_theta: np.ndarray, pattern: tuple[BeamSpot | Ring, ...], background: float
) -> np.ndarray:
    """Probability of each pixel: the pattern's share plus a uniform background.

    The pattern is normalised per bank, so a bank that sees only a feature's
    tail still shows it; a bank that sees nothing of it gets background only.
    """
    intensity = np.zeros_like(two_theta)
    for feature in pattern:
        centre = feature.two_theta_rad if isinstance(feature, Ring) else 0.0
        offset = (two_theta - centre) / feature.width_rad
        intensity += feature.weight * np.exp(-0.5 * offset**2)
    uniform = np.full(two_theta.shape, 1.0 / two_theta.size)
    total = intensity.sum()
    if not total > 0:
        return uniform
    return (1.0 - background) * intensity / total + background * uniform


class PixelSampler:
    """Draws pixel ids of one bank; the cumulative distribution is built once."""

    def __init__(
        self,
        bank: DetectorBank,
        shapes: FakeDataShapes,
        sample_position: tuple[float, float, float],
    ) -> None:
        self.bank = bank.name
        self._numbers = bank.detector_number.values.ravel().astype(np.int32)
        positions = bank.geometry.coords["position"].to(unit="m").values
        two_theta = scattering_angle(positions.reshape(-1, 3), sample_position)
        probability = pixel_probabilities(
            two_theta, shapes.detector_pattern, shapes.detector_background
        )
        self._cdf = np.cumsum(probability)
        self._cdf /= self._cdf[-1]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` pixel ids (int32), by inverse-transform sampling."""
        return self._numbers[np.searchsorted(self._cdf, rng.random(n), side="right")]


def draw_events(
    sampler: PixelSampler, toa_shape: ToaShape, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One pulse of one bank: pixel ids, then times of arrival (this order).

    Tests regenerate what the producer sent by repeating these draws with the
    same seed, bank by bank and pulse by pulse.
    """
    return sampler.sample(n, rng), sample_toa(toa_shape, n, rng)


def run_detectors(
    args: argparse.Namespace,
    loaded: LoadedInstrument,
    mapping: StreamMapping,
    producer: Producer,
    stop: threading.Event,
) -> None:
    n_events = events_per_pulse(args)
    shapes = loaded.fake_data_shapes()
    rng = np.random.default_rng(args.seed)
    instrument = loaded.instrument
    banks = [
        (
            mapping.key_for(StreamId(StreamKind.DETECTOR_EVENTS, bank.name)),
            PixelSampler(bank, shapes, instrument.sample_position),
        )
        for bank in instrument.detectors
    ]
    rate = RateLog("fake_detectors")
    for message_id, pulse in enumerate(pulses(stop, args.pulses)):
        for key, sampler in banks:
            pixel_id, toa = draw_events(sampler, shapes.detector_toa, n_events, rng)
            batch = EventBatch(
                reference_time=np.array([pulse], dtype=np.int64),
                reference_time_index=np.array([0], dtype=np.int32),
                time_of_arrival=toa,
                pixel_id=pixel_id,
                message_id=message_id,
            )
            produce(producer, key.topic, encode_ev44(key.source_name, batch))
        producer.poll(0)
        rate.add(len(banks), len(banks) * n_events)
    logger.info("sent %d messages with %d events", rate.messages, rate.events)
