"""Replaying the ``NXevent_data`` of a NeXus file into Kafka as ev44.

Each pulse of each event group (``event_time_zero`` with its slice of
``event_id`` and ``event_time_offset``) becomes one ev44 message, so pulse
structure and detector numbers are kept. Pulse times are shifted so the
first pulse is the next 14 Hz slot and are sent on the wall clock at their
spacing in the file divided by ``--speedup`` (``inf``: as fast as
possible). Groups are matched to the instrument by name: an ``NXdetector`` to
the bank whose geometry is that group (:class:`NexusDetector`) or that has
its name, an ``NXmonitor`` to the monitor of its name; source names and
topics come from the instrument's stream mapping.

The file is read with scippnexus a chunk of pulses at a time, so a long run
is streamed rather than loaded whole.
"""

from __future__ import annotations

import argparse
import heapq
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from confluent_kafka import Producer

from ess.livedata.config import ConfigError
from ess.livedata.core.instrument import DetectorBank, Instrument
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.nexus_geometry import NexusDetector
from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.core.streams import StreamMapping
from ess.livedata.kafka.schemas.ev44 import encode_ev44

from .cli import _positive_float, produce
from .detectors import pulse_batch
from .pulses import PULSE_NS, RateLog

logger = logging.getLogger(__name__)
PULSES_PER_READ = 140
_NO_PIXELS = np.empty(0, dtype=np.int32)


def add_replay_options(parser: argparse.ArgumentParser) -> None:
    """``--nexus-file`` and ``--speedup`` of the fake producers."""
    group = parser.add_argument_group("replay")
    group.add_argument(
        "--nexus-file",
        type=Path,
        help="replay the NXevent_data of this NeXus file instead of drawing events",
    )
    group.add_argument(
        "--speedup",
        type=_positive_float,
        default=1.0,
        help="pace relative to real time (to the file's pulse times when "
        "replaying); 'inf' as fast as possible (default: 1)",
    )


@dataclass(frozen=True)
class Pulse:
    """One pulse of one event group, as in the file."""

    time_ns: int
    stream: StreamId
    event_id: np.ndarray
    time_of_arrival: np.ndarray


def event_streams(
    path: Path, instrument: Instrument, kind: StreamKind
) -> dict[str, StreamId]:
    """NeXus path of each event group that belongs to a stream of ``kind``."""
    import scippnexus as snx

    if kind == StreamKind.DETECTOR_EVENTS:
        nx_class, what = snx.NXdetector, "detector bank"
        names = {_nexus_group(bank): bank.name for bank in instrument.detectors}
    else:
        nx_class, what = snx.NXmonitor, "monitor"
        names = {monitor.name: monitor.name for monitor in instrument.monitors}
    streams: dict[str, StreamId] = {}
    with _open(path) as root:
        for entry in root[snx.NXentry].values():
            for nx_instrument in entry[snx.NXinstrument].values():
                for name, group in nx_instrument[nx_class].items():
                    events = group[snx.NXevent_data]
                    if not events:
                        continue
                    if name not in names:
                        logger.warning("skipping %s: no such stream", group.name)
                        continue
                    for event_group in events.values():
                        streams[event_group.name] = StreamId(kind, names[name])
    if not streams:
        raise ConfigError(
            f"{path}: no {nx_class.__name__} with NXevent_data is a {what} of "
            f"instrument {instrument.name!r} "
            f"(expected groups: {', '.join(sorted(names)) or 'none'})"
        )
    return streams


def _nexus_group(bank: DetectorBank) -> str:
    geometry = bank.make_geometry
    return geometry.group if isinstance(geometry, NexusDetector) else bank.name


def _open(path: Path):  # -> snx.File
    import scippnexus as snx

    try:
        return snx.File(path, "r")
    except OSError as error:
        raise ConfigError(f"cannot read NeXus file {path}: {error}") from None


def read_pulses(path: Path, group: str, stream: StreamId) -> Iterator[Pulse]:
    """The pulses of the ``NXevent_data`` at ``group``, in file order, read
    :data:`PULSES_PER_READ` at a time."""
    with _open(path) as root:
        events = root[group]
        total = events.sizes["event_time_zero"]
        for start in range(0, total, PULSES_PER_READ):
            chunk = events["event_time_zero", start : start + PULSES_PER_READ]
            times = chunk.coords["event_time_zero"].to(unit="ns").values
            parts = chunk.bins.constituents
            content = parts["data"].coords
            ids = content["event_id"].values.astype(np.int32, copy=False)
            toa = content["event_time_offset"].to(unit="ns", dtype="int64").values
            toa = toa.astype(np.int32)
            for t, a, b in zip(
                times, parts["begin"].values, parts["end"].values, strict=True
            ):
                yield Pulse(int(t.astype("int64")), stream, ids[a:b], toa[a:b])


def replay(
    args: argparse.Namespace,
    loaded: LoadedInstrument,
    mapping: StreamMapping,
    producer: Producer,
    stop: threading.Event,
    kind: StreamKind,
) -> None:
    """Send every pulse of the file's event groups of ``kind``, paced."""
    path: Path = args.nexus_file
    if not path.is_file():
        raise ConfigError(f"NeXus file {path} not found")
    streams = event_streams(path, loaded.instrument, kind)
    keys = {stream: mapping.key_for(stream) for stream in set(streams.values())}
    logger.info(
        "replaying %s: %s",
        path,
        ", ".join(f"{g} -> {s.name}" for g, s in streams.items()),
    )
    pulses = heapq.merge(
        *(read_pulses(path, group, stream) for group, stream in streams.items()),
        key=lambda pulse: pulse.time_ns,
    )
    message_ids = dict.fromkeys(keys, 0)
    rate = RateLog(f"replay {path.name}")
    first_file_ns: int | None = None
    shift = 0
    started = time.monotonic()
    for pulse in pulses:
        if first_file_ns is None:
            first_file_ns = pulse.time_ns
            shift = (time.time_ns() // PULSE_NS + 1) * PULSE_NS - first_file_ns
        due = started + (pulse.time_ns - first_file_ns) / 1e9 / args.speedup
        delay = due - time.monotonic()
        if (delay > 0 and stop.wait(delay)) or stop.is_set():
            break
        key = keys[pulse.stream]
        pixels = pulse.event_id if kind == StreamKind.DETECTOR_EVENTS else _NO_PIXELS
        batch = pulse_batch(
            [pulse.time_ns + shift],
            [pulse.time_of_arrival],
            [pixels],
            message_ids[pulse.stream],
        )
        message_ids[pulse.stream] += 1
        produce(producer, key.topic, encode_ev44(key.source_name, batch))
        producer.poll(0)
        rate.add(1, pulse.time_of_arrival.size)
    logger.info("replayed %d messages with %d events", rate.messages, rate.events)


def replay_detectors(
    args: argparse.Namespace,
    loaded: LoadedInstrument,
    mapping: StreamMapping,
    producer: Producer,
    stop: threading.Event,
) -> None:
    replay(args, loaded, mapping, producer, stop, StreamKind.DETECTOR_EVENTS)


def replay_monitors(
    args: argparse.Namespace,
    loaded: LoadedInstrument,
    mapping: StreamMapping,
    producer: Producer,
    stop: threading.Event,
) -> None:
    replay(args, loaded, mapping, producer, stop, StreamKind.MONITOR_EVENTS)
