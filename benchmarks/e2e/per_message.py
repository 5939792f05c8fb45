"""Per-message cost of the service path, stage by stage, without Kafka.

    .venv/bin/python benchmarks/e2e/per_message.py [--quick]

What a detector_data service spends on one ev44 message after librdkafka has
delivered it: ``decode_ev44``, the whole ``UpstreamDecoder.decode`` (schema
id, stream mapping, Message), the loop's bookkeeping (window assignment and
pending list, as ``ProcessingLoop._accept``), and ``DetectorCounts.add_events``
(the numba kernel and its wrapper), for 1k, 10k and 100k events per message
of the dummy instrument's panel. Median of repeated blocks, single thread.

Then the whole path at once: ``KafkaSource`` over an in-memory consumer,
``ProcessingLoop`` and ``DetectorProcessor`` (windows closed and published to
a sink that drops them), 1k-event messages of both banks, per message.

Every stage is also timed with the code before the changes of
``baselines.py`` (the generated-accessor ev44 decoder, stream resolution on
every message), in the same run and interleaved, because this machine is
shared and only same-run ratios compare.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from baselines import generated_decode_ev44, patched

from ess.livedata.core.loop import ProcessingLoop
from ess.livedata.core.message import StreamId
from ess.livedata.core.plugins import LoadedInstrument, load_instrument
from ess.livedata.core.streams import Topology
from ess.livedata.core.window import WindowClock
from ess.livedata.fake.detectors import (
    Ev44Template,
    PixelSampler,
    draw_events,
    pulse_batch,
)
from ess.livedata.kafka.decoders import UpstreamDecoder
from ess.livedata.kafka.schemas.ev44 import decode_ev44
from ess.livedata.processing.detectors import (
    DEFAULT_BINNING,
    DetectorCounts,
    DetectorProcessor,
)
from ess.livedata.processing.service import data_and_commands

BEFORE = ["generated_ev44", "streams_unremembered"]
TOPIC = "dummy_detector"


def calls_per_block(function: Callable[[], object], min_time: float) -> int:
    """Back-to-back calls that take about ``min_time / 10``."""
    function()
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            function()
        if time.perf_counter() - start > min_time / 10:
            return n
        n *= 2


def per_call_pair(
    now: Callable[[], object],
    before: Callable[[], object],
    min_time: float = 0.2,
    blocks: int = 9,
) -> tuple[float, float]:
    """Median seconds per call of each, over blocks that alternate between them.

    ``before`` runs with the code of ``BEFORE`` patched in; alternating
    blocks keeps both under the same load of the shared machine.
    """
    n_now = calls_per_block(now, min_time)
    with patched(BEFORE):
        n_before = calls_per_block(before, min_time)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(blocks):
        for function, n, found, old in (
            (now, n_now, times[0], []),
            (before, n_before, times[1], BEFORE),
        ):
            with patched(old):
                start = time.perf_counter()
                for _ in range(n):
                    function()
                found.append((time.perf_counter() - start) / n)
    return statistics.median(times[0]), statistics.median(times[1])


def template(
    loaded: LoadedInstrument, bank: str, n: int, rng: np.random.Generator
) -> Ev44Template:
    """A message of ``n`` events of ``bank``, as the fake producer sends it."""
    instrument, shapes = loaded.instrument, loaded.fake_data_shapes()
    sampler = PixelSampler(
        instrument.detector(bank), shapes, instrument.sample_position
    )
    pixel_id, toa = draw_events(sampler, shapes.detector_toa, n, rng)
    return Ev44Template(bank, pulse_batch([0], [toa], [pixel_id], 0))


def stages(loaded: LoadedInstrument, min_time: float) -> None:
    """One table row per stage and message size, now and before."""
    instrument = loaded.instrument
    rng = np.random.default_rng(1)
    mapping = loaded.stream_mapping(Topology.DEV)
    counts = DetectorCounts(
        instrument.detector("panel_0"), instrument.sample_position, DEFAULT_BINNING
    )
    clock = WindowClock(length_ns=1_000_000_000, max_skew_ns=600 * 10**9)
    pending: dict[int, dict[StreamId, list]] = {}
    print("| events/msg | stage | us/message now | before | before/now |")
    print("|---:|---|---:|---:|---:|")
    for n in (1_000, 10_000, 100_000):
        payload = template(loaded, "panel_0", n, rng).stamp([time.time_ns()], 7)
        message = UpstreamDecoder(mapping).decode(TOPIC, payload, 0)

        def accept(message=message) -> None:
            index = clock.assign(message.stream, message.timestamp)
            pending.setdefault(index, {}).setdefault(message.stream, []).append(message)
            if len(pending[index][message.stream]) > 1000:
                pending.clear()

        def upstream(p: bytes = payload) -> Callable[[], object]:
            decoder = UpstreamDecoder(mapping)  # new: nothing remembered yet
            return lambda: decoder.decode(TOPIC, p, 0)

        rows: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
            "decode_ev44": (
                lambda p=payload: decode_ev44(p),
                lambda p=payload: generated_decode_ev44(p),
            ),
            "UpstreamDecoder.decode": (upstream(), upstream()),
            "loop bookkeeping (assign + pending)": (accept, accept),
            "DetectorCounts.add_events": (lambda b=message.value: counts.add_events(b),)
            * 2,
        }
        totals = [0.0, 0.0]
        for stage, (now, before) in rows.items():
            seconds = per_call_pair(now, before, min_time)
            if stage != "decode_ev44":
                totals = [t + s for t, s in zip(totals, seconds, strict=True)]
            print(_row(f"{n:,}", stage, seconds))
        print(_row(f"{n:,}", "**sum without Kafka**", totals))


def _row(events: str, stage: str, seconds: Sequence[float]) -> str:
    now, before = seconds
    return (
        f"| {events} | {stage} | {now * 1e6:.1f} | {before * 1e6:.1f} |"
        f" {before / now:.2f} |"
    )


class _Record:
    """What ``KafkaSource`` reads of a confluent_kafka Message.

    ``value()`` copies the payload, as confluent_kafka does from librdkafka's
    fetch buffer, so the decoder reads freshly written memory as in a
    service: the prepared payloads (100+ MB) are cold in cache and TLB, and
    reading them in place cost ~10 µs more per message on this VM.
    """

    __slots__ = ("_payload", "_timestamp_ms")

    def __init__(self, payload: bytes, timestamp_ms: int) -> None:
        self._payload = bytearray(payload)
        self._timestamp_ms = timestamp_ms

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return TOPIC

    def value(self) -> bytes:
        return bytes(self._payload)

    def timestamp(self) -> tuple[int, int]:
        return (1, self._timestamp_ms)


class _Consumer:
    """Hands out prepared records like ``Consumer.consume``, never waiting."""

    def __init__(self, records: Sequence[_Record]) -> None:
        self.records = records
        self.at = 0

    def consume(self, num_messages: int, timeout: float) -> list[Any]:
        taken = self.records[self.at : self.at + num_messages]
        self.at += len(taken)
        return list(taken)


class _DropSink:
    def publish_messages(self, messages: Sequence[Any]) -> None:
        pass


def whole_loop(records: Sequence[_Record], loaded: LoadedInstrument) -> float:
    """Seconds per message through source, loop and detector processor."""
    data = _Consumer(records)
    loop = ProcessingLoop(
        service="detector_data",
        instrument="dummy",
        source=data_and_commands(
            data, _Consumer([]), UpstreamDecoder(loaded.stream_mapping(Topology.DEV))
        ),
        sink=_DropSink(),
        processor=DetectorProcessor(loaded.instrument),
        clock=WindowClock(length_ns=1_000_000_000, max_skew_ns=600 * 10**9),
    )
    start = time.perf_counter()
    while data.at < len(records):
        loop.step()
    return (time.perf_counter() - start) / len(records)


def loop_records(
    loaded: LoadedInstrument, pulses: int, per_pulse: int
) -> list[_Record]:
    """1k-event messages of both banks, ``per_pulse`` per bank and 14 Hz pulse."""
    rng = np.random.default_rng(2)
    templates = [template(loaded, bank, 1_000, rng) for bank in ("panel_0", "tubes_1")]
    first = (time.time_ns() // 10**9 - pulses // 14 - 2) * 10**9
    records = []
    for pulse in range(pulses):
        reference_time = first + pulse * 71_428_571
        for bank in templates:
            for i in range(per_pulse):
                payload = bank.stamp([reference_time], i)
                records.append(_Record(payload, reference_time // 1_000_000))
    return records


def loop_table(loaded: LoadedInstrument, quick: bool) -> None:
    """The whole path per message, now and before, alternating, medians."""
    records = loop_records(loaded, 28 if quick else 70, 100)
    whole_loop(records[:2000], loaded)  # compile the kernels
    now, before = [], []
    for _ in range(2 if quick else 5):
        now.append(whole_loop(records, loaded))
        with patched(BEFORE):
            before.append(whole_loop(records, loaded))
    now_s, before_s = statistics.median(now), statistics.median(before)
    print(
        f"\nWhole path (KafkaSource, ProcessingLoop, DetectorProcessor; "
        f"{len(records):,} messages of 1k events, median of {len(now)} runs):"
        f" now {now_s * 1e6:.1f} us/message ({1 / now_s:,.0f}/s per core),"
        f" before {before_s * 1e6:.1f} us ({1 / before_s:,.0f}/s),"
        f" before/now {before_s / now_s:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    loaded = load_instrument("dummy")
    stages(loaded, 0.02 if args.quick else 0.2)
    loop_table(loaded, args.quick)


if __name__ == "__main__":
    main()
