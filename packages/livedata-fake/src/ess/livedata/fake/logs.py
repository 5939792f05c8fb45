"""Fake f144 log streams, each behaving as its declaration suggests.

A stream's behaviour follows from its declared unit, so a new instrument gets
plausible logs without extra declarations:

- a length or an angle is a motor: it rests (readback at 1 Hz), then ramps to
  a random target at constant speed and settles with a damped overshoot
  (10 Hz while moving);
- a temperature drifts slowly around room temperature with readout noise
  (1 Hz);
- a stream without unit is a two-state switch such as a shutter: it toggles
  every ~20 s and is sent on change plus a 10 s keep-alive;
- anything else drifts like a temperature, around 1 in its unit.

Behaviours are written in a reference unit and scaled to the declared unit
(f144 has no unit field; consumers take it from the instrument). Samples are
a pure function of the seed and the start time, so tests can regenerate
exactly what was sent.
"""

from __future__ import annotations

import argparse
import heapq
import logging
import math
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import scipp as sc
from confluent_kafka import Producer

from ess.livedata.core.instrument import LogStream
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import LogSample
from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.core.streams import StreamMapping
from ess.livedata.kafka.schemas.f144 import encode_f144

from .cli import produce
from .pulses import RateLog

logger = logging.getLogger(__name__)
NS_PER_S = 1_000_000_000

Samples = Iterator[tuple[int, float | int]]
"""(time in ns since the epoch, value) in time order, endless."""


class Behaviour(Protocol):
    def samples(self, rng: np.random.Generator, start_ns: int) -> Samples: ...


def _ns(seconds: float) -> int:
    return round(seconds * NS_PER_S)


@dataclass(frozen=True)
class Motor:
    """Rests at a position, ramps to a random target in ``[low, high]``, settles."""

    low: float
    high: float
    speed: float
    """Reference units per second."""
    scale: float = 1.0
    moving_hz: float = 10.0
    idle_hz: float = 1.0
    idle_samples: tuple[int, int] = (3, 9)
    """Rest between moves, in idle samples: at least the first, below the second."""
    settle_s: float = 1.0
    overshoot: float = 0.02
    """Of the distance moved."""

    def samples(self, rng: np.random.Generator, start_ns: int) -> Samples:
        t = start_ns
        position = rng.uniform(self.low, self.high)
        while True:
            for _ in range(rng.integers(*self.idle_samples)):
                yield t, position * self.scale
                t += _ns(1 / self.idle_hz)
            target = rng.uniform(self.low, self.high)
            for s in self._profile(position, target):
                yield t, s * self.scale
                t += _ns(1 / self.moving_hz)
            position = target

    def _profile(self, start: float, target: float) -> Iterator[float]:
        distance = target - start
        duration = abs(distance) / self.speed
        period = 0.4  # s, of the damped oscillation around the target
        steps = math.ceil((duration + self.settle_s) * self.moving_hz)
        for k in range(steps):
            s = k / self.moving_hz
            if s < duration:
                yield start + distance * s / duration
            else:
                after = s - duration
                ring = math.exp(-after / (period / 2)) * math.cos(
                    2 * math.pi * after / period
                )
                yield target + self.overshoot * distance * ring


@dataclass(frozen=True)
class Drift:
    """Mean-reverting random walk around ``centre`` plus readout noise."""

    centre: float
    step: float
    """Random-walk step per square-root second."""
    noise: float
    relax_s: float = 60.0
    scale: float = 1.0
    rate_hz: float = 1.0

    def samples(self, rng: np.random.Generator, start_ns: int) -> Samples:
        dt = 1 / self.rate_hz
        t = start_ns
        level = self.centre
        while True:
            yield t, (level + self.noise * rng.standard_normal()) * self.scale
            level += (self.centre - level) * dt / self.relax_s
            level += self.step * math.sqrt(dt) * rng.standard_normal()
            t += _ns(dt)


@dataclass(frozen=True)
class Toggle:
    """0/1 switch: changes every ``period_s`` (uniform), sent on change and kept alive."""

    period_s: tuple[float, float] = (15.0, 25.0)
    keepalive_s: float = 10.0

    def samples(self, rng: np.random.Generator, start_ns: int) -> Samples:
        state = 0
        t = start_ns
        next_change = t + _ns(rng.uniform(*self.period_s))
        while True:
            yield t, state
            keepalive = t + _ns(self.keepalive_s)
            if next_change <= keepalive:
                t = next_change
                state = 1 - state
                next_change = t + _ns(rng.uniform(*self.period_s))
            else:
                t = keepalive


_BY_UNIT: tuple[tuple[str, Motor | Drift], ...] = (
    ("m", Motor(low=-0.05, high=0.05, speed=0.01)),
    ("deg", Motor(low=-30.0, high=30.0, speed=5.0)),
    ("K", Drift(centre=295.0, step=0.05, noise=0.005)),
)
"""Reference unit and behaviour of declared units convertible to it."""

_OTHER = Drift(centre=1.0, step=0.001, noise=0.0001)


def behaviour_for(log: LogStream) -> Behaviour:
    """How the fake produces ``log``, in the log's declared unit."""
    if log.unit is None:
        return Toggle()
    for reference, behaviour in _BY_UNIT:
        try:
            scale = float(sc.scalar(1.0, unit=reference).to(unit=log.unit).value)
        except sc.UnitError:
            continue
        return replace(behaviour, scale=scale)
    return _OTHER


def log_samples(
    logs: Sequence[LogStream], seed: int | None, start_ns: int
) -> Iterator[tuple[LogStream, LogSample]]:
    """Samples of all ``logs`` merged in time order, endless and reproducible.

    Every stream draws from its own generator spawned from ``seed``, so one
    stream's samples do not depend on the others. Every stream's first sample
    is at ``start_ns``.
    """
    seeds = np.random.SeedSequence(seed).spawn(len(logs))
    streams = [
        _stream(log, np.random.default_rng(s), start_ns)
        for log, s in zip(logs, seeds, strict=True)
    ]
    return heapq.merge(*streams, key=lambda item: item[1].time)


def _stream(
    log: LogStream, rng: np.random.Generator, start_ns: int
) -> Iterator[tuple[LogStream, LogSample]]:
    for t, value in behaviour_for(log).samples(rng, start_ns):
        yield log, LogSample(t, value)


def run_logs(
    args: argparse.Namespace,
    loaded: LoadedInstrument,
    mapping: StreamMapping,
    producer: Producer,
    stop: threading.Event,
) -> None:
    """Send every log stream's samples when the wall clock reaches their time.

    Starts at the next whole second; stops after ``args.seconds`` of data time
    (if given) or when ``stop`` is set.
    """
    logs = loaded.instrument.logs
    keys = {
        log.name: mapping.key_for(StreamId(StreamKind.LOG, log.name)) for log in logs
    }
    start = (time.time_ns() // NS_PER_S + 1) * NS_PER_S
    end = None if args.seconds is None else start + _ns(args.seconds)
    rate = RateLog("fake_logdata")
    for log, sample in log_samples(logs, args.seed, start):
        if end is not None and sample.time >= end:
            break
        delay = (sample.time - time.time_ns()) / NS_PER_S
        if (delay > 0 and stop.wait(delay)) or stop.is_set():
            break
        key = keys[log.name]
        produce(producer, key.topic, encode_f144(key.source_name, sample))
        producer.poll(0)
        rate.add(1, 1)
    logger.info("sent %d log values", rate.messages)
