"""Fake detector banks: one ev44 message per bank per pulse, and one ad00
frame per area detector per pulse (:mod:`.area_detectors`).

Pixels are drawn with probabilities from the instrument's fake detector
pattern (beam spot and rings in scattering angle) on top of a uniform
background; times of arrival from its detector TOA shape.

For load tests (see ``benchmarks/e2e``) the producers have three options,
read from the parsed arguments (:func:`add_load_test_options`): several
pulses per message, faster than real time, and a pool of pre-encoded
messages of which only the pulse times and message id change per send
(:class:`Ev44Template`), so one Python process produces tens of millions of
events per second instead of drawing and encoding every event.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
from confluent_kafka import Producer
from streaming_data_types.fbschemas.eventdata_ev44.Event44Message import (
    Event44Message,
)

from ess.livedata.config import ConfigError
from ess.livedata.core.fake_shapes import BeamSpot, FakeDataShapes, Ring, ToaShape
from ess.livedata.core.instrument import DetectorBank
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.core.streams import StreamMapping
from ess.livedata.kafka.schemas.ev44 import encode_ev44

from .area_detectors import camera_keys, image_rng, with_frames
from .cli import _positive_float, _positive_int, events_per_pulse, produce
from .pulses import PULSE_NS, RateLog, pulses
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


@dataclass(frozen=True)
class LoadOptions:
    """How a fake producer is driven in load tests; the defaults are normal use.

    Parameters
    ----------
    pulses_per_message:
        Pulses batched into one ev44 message (``reference_time`` has one
        entry per pulse); a message is sent once its last pulse is due.
    messages_per_pulse:
        The opposite: each pulse's events of a source split into this many
        messages, all with the pulse's reference time, like an event
        formation unit sending whenever its buffer is full. Only one of the
        two may exceed 1.
    speedup:
        Pulse clock speed relative to 14 Hz wall time; ``inf`` sends as fast
        as the producer can. Pulse times stay 1/14 s apart, so data time runs
        ahead of the wall clock.
    payload_pool:
        If positive, draw and encode this many pulses' messages per source
        once and send them in turn with new pulse times
        (:class:`Ev44Template`); 0 draws and encodes every message (the data
        tests can regenerate).
    """

    pulses_per_message: int = 1
    messages_per_pulse: int = 1
    speedup: float = 1.0
    payload_pool: int = 0

    def __post_init__(self) -> None:
        if self.pulses_per_message > 1 and self.messages_per_pulse > 1:
            raise ValueError("batch pulses or split them, not both")

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> LoadOptions:
        return cls(
            pulses_per_message=getattr(args, "pulses_per_message", 1),
            messages_per_pulse=getattr(args, "messages_per_pulse", 1),
            speedup=getattr(args, "speedup", 1.0),
            payload_pool=getattr(args, "payload_pool", 0),
        )


ALL_MODES = "all"
DETECTOR_MODES = (ALL_MODES, "ev44", "ad00")
"""What ``fake_detectors --mode`` sends: banks' ev44 events and area
detectors' ad00 frames (``all``), or one of them as the facility's fake."""


def add_mode_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode",
        choices=DETECTOR_MODES,
        default=ALL_MODES,
        help="ev44: detector banks' events; ad00: area detectors' images; "
        "all: both (default)",
    )


def add_load_test_options(parser: argparse.ArgumentParser) -> None:
    """Add the :class:`LoadOptions` flags to a fake producer's parser."""
    group = parser.add_argument_group("load tests")
    group.add_argument(
        "--pulses-per-message",
        type=_positive_int,
        default=1,
        help="pulses batched into one message per source (default: 1)",
    )
    group.add_argument(
        "--messages-per-pulse",
        type=_positive_int,
        default=1,
        help="messages each pulse's events of a source are split into (default: 1)",
    )
    group.add_argument(
        "--speedup",
        type=_positive_float,
        default=1.0,
        help="pulse clock relative to 14 Hz; 'inf' as fast as possible (default: 1)",
    )
    group.add_argument(
        "--payload-pool",
        type=int,
        default=0,
        help="pre-encode this many pulses' messages per source and re-send them "
        "with new pulse times (default: 0, draw and encode every message)",
    )


def pulse_groups(
    stop: threading.Event,
    count: int | None = None,
    per_message: int = 1,
    speedup: float = 1.0,
) -> Iterator[list[int]]:
    """Pulse times (ns) in groups of ``per_message``, each once its last is due.

    At ``speedup == 1`` this is :func:`~.pulses.pulses` on the wall clock;
    otherwise pulse times continue 1/14 s apart from the next pulse slot but
    are emitted ``speedup`` times faster (without pause for ``inf``). A last,
    shorter group is yielded if ``count`` is not a multiple of ``per_message``.
    """
    if speedup == 1.0:
        source = pulses(stop, count)
    else:
        source = _fast_pulses(stop, count, speedup)
    group: list[int] = []
    for pulse in source:
        group.append(pulse)
        if len(group) == per_message:
            yield group
            group = []
    if group:
        yield group


def _fast_pulses(
    stop: threading.Event, count: int | None, speedup: float
) -> Iterator[int]:
    first = (time.time_ns() // PULSE_NS + 1) * PULSE_NS
    period_s = PULSE_NS / 1e9 / speedup
    started = time.monotonic()
    emitted = 0
    while not stop.is_set() and (count is None or emitted < count):
        if math.isfinite(period_s) and period_s > 0:
            delay = started + emitted * period_s - time.monotonic()
            if delay > 0 and stop.wait(delay):
                return
        yield first + emitted * PULSE_NS
        emitted += 1


def pulse_batch(
    reference_time: Sequence[int],
    toa: Sequence[np.ndarray],
    pixel_id: Sequence[np.ndarray],
    message_id: int,
) -> EventBatch:
    """One message's batch from per-pulse arrays (pixel ids may be empty)."""
    sizes = [part.size for part in toa]
    index = np.concatenate([[0], np.cumsum(sizes[:-1])]).astype(np.int32)
    return EventBatch(
        reference_time=np.asarray(reference_time, dtype=np.int64),
        reference_time_index=index,
        time_of_arrival=np.concatenate(toa).astype(np.int32, copy=False),
        pixel_id=np.concatenate(pixel_id).astype(np.int32, copy=False),
        message_id=message_id,
    )


def group_batches(
    group: Sequence[int],
    toa: Sequence[np.ndarray],
    pixel_id: Sequence[np.ndarray],
    messages_per_pulse: int,
    message_id: int,
) -> list[EventBatch]:
    """The messages of one source for one group of pulses (arrays per pulse).

    One message for the whole group, or with ``messages_per_pulse > 1`` (one
    pulse per group) that many consecutive slices of the pulse's events.
    """
    if messages_per_pulse == 1:
        return [pulse_batch(group, toa, pixel_id, message_id)]
    if len(group) != 1:
        raise ValueError("a pulse can only be split when it is alone in its group")
    events, pixels = toa[0], pixel_id[0]
    bounds = np.linspace(0, events.size, messages_per_pulse + 1).round().astype(int)
    return [
        pulse_batch(
            group,
            [events[a:b]],
            [pixels[a:b] if pixels.size else pixels],
            message_id + i,
        )
        for i, (a, b) in enumerate(itertools.pairwise(bounds))
    ]


class Ev44Template:
    """An encoded ev44 message that is re-sent with new pulse times.

    Drawing a detector pulse's events costs about 0.3 us per event (108 ms
    for 357k events) and encoding them 5 ns per event; stamping writes
    ``reference_time`` and ``message_id`` in place and copies the encoded
    bytes once (0.3 ms for 2.9 MB), so sending is limited by the Kafka client
    and the broker, not by Python.
    """

    def __init__(self, source_name: str, batch: EventBatch) -> None:
        self.source_name = source_name
        self.batch = batch
        # A non-zero id makes sure the field is present (flatbuffers omits
        # defaults unless forced; serialise_ev44 forces them, but be safe).
        payload = encode_ev44(source_name, replace(batch, message_id=1))
        table = Event44Message.GetRootAs(payload, 0)._tab
        message_id_at = table.Pos + table.Offset(6)
        reference_time_at = table.Vector(table.Offset(8))
        self._buffer = bytearray(payload)
        self._message_id = np.frombuffer(
            self._buffer, dtype="<i8", count=1, offset=message_id_at
        )
        self._reference_time = np.frombuffer(
            self._buffer,
            dtype="<i8",
            count=batch.reference_time.size,
            offset=reference_time_at,
        )
        if self._message_id[0] != 1 or not np.array_equal(
            self._reference_time, batch.reference_time
        ):
            raise RuntimeError("could not locate the ev44 header fields to stamp")

    @property
    def pulses(self) -> int:
        return int(self.batch.reference_time.size)

    @property
    def events(self) -> int:
        return self.batch.size

    def stamp(self, reference_time: Sequence[int], message_id: int) -> bytes:
        """The message with these pulse times; fewer pulses re-encode a prefix."""
        if len(reference_time) != self.pulses:
            return self._encode_prefix(reference_time, message_id)
        self._reference_time[:] = reference_time
        self._message_id[0] = message_id
        return bytes(self._buffer)

    def _encode_prefix(self, reference_time: Sequence[int], message_id: int) -> bytes:
        n = len(reference_time)
        index = self.batch.reference_time_index
        end = int(index[n]) if n < index.size else self.events
        pixel_id = self.batch.pixel_id
        batch = EventBatch(
            reference_time=np.asarray(reference_time, dtype=np.int64),
            reference_time_index=index[:n].copy(),
            time_of_arrival=self.batch.time_of_arrival[:end],
            pixel_id=pixel_id[:end] if pixel_id.size else pixel_id,
            message_id=message_id,
        )
        return encode_ev44(self.source_name, batch)


def bank_events_per_pulse(
    banks: Sequence[str], shapes: FakeDataShapes, per_source: int
) -> list[int]:
    """Events per pulse of each bank: ``per_source`` each, or the same total
    split by the instrument's ``detector_share`` (at least 1 per bank)."""
    weights = np.array([shapes.detector_share.get(name, 1.0) for name in banks])
    total = per_source * len(banks)
    return [max(1, round(total * w / weights.sum())) for w in weights]


def detector_templates(
    banks: Sequence[tuple[str, PixelSampler, int]],
    toa_shape: ToaShape,
    options: LoadOptions,
    rng: np.random.Generator,
) -> list[list[list[Ev44Template]]]:
    """Pre-encoded messages, ``[pool entry][bank][message of the group]``.

    ``banks`` are (source name, sampler, events per pulse); each pool entry is
    one group of ``options.pulses_per_message`` pulses.
    """
    placeholder = [0] * options.pulses_per_message
    pool = []
    for _ in range(options.payload_pool):
        entry = []
        for source_name, sampler, n_events in banks:
            drawn = [
                draw_events(sampler, toa_shape, n_events, rng) for _ in placeholder
            ]
            batches = group_batches(
                placeholder,
                [d[1] for d in drawn],
                [d[0] for d in drawn],
                options.messages_per_pulse,
                0,
            )
            entry.append([Ev44Template(source_name, b) for b in batches])
        pool.append(entry)
    return pool


def send_groups(
    producer: Producer,
    topics: Sequence[str],
    groups: Iterator[list[int]],
    pool: list[list[list[Ev44Template]]],
    encode: Callable[[list[int], int], list[list[bytes]]],
    rate: RateLog,
    events_per_pulse: int,
    messages_per_group: int = 1,
) -> None:
    """Produce each group of pulses to each source's topic.

    ``events_per_pulse`` counts all sources' events of one pulse.
    Payloads come from ``pool`` (stamped with the group's pulse times) if it
    is not empty, else from ``encode(group, first message id)``; both give a
    list of ``messages_per_group`` messages per source. Message ids count
    each source's messages (the group index with one message per group).
    """
    for index, group in enumerate(groups):
        first_id = index * messages_per_group
        if pool:
            payloads = [
                [t.stamp(group, first_id + i) for i, t in enumerate(templates)]
                for templates in pool[index % len(pool)]
            ]
        else:
            payloads = encode(group, first_id)
        for topic, messages in zip(topics, payloads, strict=True):
            for payload in messages:
                produce(producer, topic, payload)
        producer.poll(0)
        rate.add(
            sum(len(messages) for messages in payloads), events_per_pulse * len(group)
        )


def run_detectors(
    args: argparse.Namespace,
    loaded: LoadedInstrument,
    mapping: StreamMapping,
    producer: Producer,
    stop: threading.Event,
) -> None:
    options = LoadOptions.from_args(args)
    shapes = loaded.fake_data_shapes()
    rng = np.random.default_rng(args.seed)
    instrument = loaded.instrument
    mode = getattr(args, "mode", ALL_MODES)
    event_banks = instrument.detectors if mode in (ALL_MODES, "ev44") else ()
    cameras = instrument.area_detectors if mode in (ALL_MODES, "ad00") else ()
    if mode == "ad00" and not cameras:
        raise ConfigError(f"--mode ad00: {instrument.name} has no area detectors")
    counts = bank_events_per_pulse(
        [bank.name for bank in event_banks], shapes, events_per_pulse(args)
    )
    banks = [
        (
            mapping.key_for(StreamId(StreamKind.DETECTOR_EVENTS, bank.name)),
            PixelSampler(bank, shapes, instrument.sample_position),
            n_events,
        )
        for bank, n_events in zip(event_banks, counts, strict=True)
    ]
    pool = detector_templates(
        [(key.source_name, s, n) for key, s, n in banks],
        shapes.detector_toa,
        options,
        rng,
    )

    def encode(group: list[int], message_id: int) -> list[list[bytes]]:
        # Pulse by pulse, bank by bank: the order tests repeat to regenerate
        # what was sent.
        drawn = [
            [draw_events(s, shapes.detector_toa, n, rng) for _, s, n in banks]
            for _ in group
        ]
        payloads = []
        for i, (key, _, _) in enumerate(banks):
            batches = group_batches(
                group,
                [pulse[i][1] for pulse in drawn],
                [pulse[i][0] for pulse in drawn],
                options.messages_per_pulse,
                message_id,
            )
            payloads.append([encode_ev44(key.source_name, b) for b in batches])
        return payloads

    rate = RateLog("fake_detectors")
    groups = pulse_groups(
        stop, args.pulses, options.pulses_per_message, options.speedup
    )
    if cameras:
        groups = with_frames(
            groups, producer, camera_keys(cameras, mapping), image_rng(args.seed)
        )
    send_groups(
        producer,
        [key.topic for key, _, _ in banks],
        groups,
        pool,
        encode,
        rate,
        sum(counts),
        options.messages_per_pulse,
    )
    logger.info("sent %d messages with %d events", rate.messages, rate.events)
