"""Per-message cost of the service path, stage by stage, without Kafka.

    .venv/bin/python benchmarks/e2e/per_message.py [--quick]

What a detector_data service spends on one ev44 message after librdkafka has
delivered it: ``decode_ev44``, the whole ``UpstreamDecoder.decode`` (schema
id, stream mapping, Message), the loop's bookkeeping (window assignment and
pending list, as ``ProcessingLoop._accept``), and ``DetectorCounts.add_events``
(the numba kernel and its wrapper), for 1k, 10k and 100k events per message
of the dummy instrument's panel. Median of repeated blocks, single thread.

It also times ``fast_decode_ev44`` below, a prototype that reads the ev44
flatbuffer's vtable with ``struct`` and ``np.frombuffer`` instead of the
generated FlatBuffers accessors (about 35 Python calls per message), and
checks it against ``decode_ev44`` on valid and on corrupted payloads (same
result, or DecodeError when ``decode_ev44`` raises it).
"""

from __future__ import annotations

import argparse
import statistics
import struct
import time
from collections.abc import Callable

import numpy as np

from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.streams import Topology
from ess.livedata.core.window import WindowClock
from ess.livedata.fake.detectors import PixelSampler, draw_events, pulse_batch
from ess.livedata.kafka.decoders import UpstreamDecoder
from ess.livedata.kafka.schemas.errors import DecodeError
from ess.livedata.kafka.schemas.ev44 import decode_ev44, encode_ev44
from ess.livedata.processing.detectors import DEFAULT_BINNING, DetectorCounts

_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U16 = struct.Struct("<H")
_I64 = struct.Struct("<q")


def fast_decode_ev44(payload: bytes) -> tuple[str, EventBatch]:
    """ev44 by reading the flatbuffer layout directly; bounds-checked.

    Fields of Event44Message in vtable order: source_name, message_id,
    reference_time, reference_time_index, time_of_flight, pixel_id.
    """
    size = len(payload)
    if size < 8 or payload[4:8] != b"ev44":
        raise DecodeError("unexpected schema id", repr(bytes(payload[4:8])))
    try:
        (table,) = _U32.unpack_from(payload, 0)
        (back,) = _I32.unpack_from(payload, table)
        vtable = table - back
        (vt_size,) = _U16.unpack_from(payload, vtable)
        if vtable < 0 or vtable + vt_size > size or vt_size < 4:
            raise DecodeError("malformed ev44 payload", "vtable out of bounds")
        fields = (vt_size - 4) // 2
        offsets = struct.unpack_from(f"<{fields}H", payload, vtable + 4)

        def field(i: int) -> int:
            return offsets[i] if i < fields else 0

        def vector(i: int, dtype: str, itemsize: int) -> np.ndarray:
            o = field(i)
            if o == 0:
                return np.empty(0, dtype=dtype)
            at = table + o
            start = at + _U32.unpack_from(payload, at)[0]
            (n,) = _U32.unpack_from(payload, start)
            if start + 4 + n * itemsize > size:
                raise DecodeError("malformed ev44 payload", "vector past the end")
            return np.frombuffer(payload, dtype=dtype, count=n, offset=start + 4)

        o = field(0)
        if o == 0:
            raise DecodeError("malformed ev44 payload", "no source name")
        name_vector = vector(0, "u1", 1)
        message_id = _I64.unpack_from(payload, table + field(1))[0] if field(1) else 0
        batch = EventBatch(
            reference_time=vector(2, "<i8", 8),
            reference_time_index=vector(3, "<i4", 4),
            time_of_arrival=vector(4, "<i4", 4),
            pixel_id=vector(5, "<i4", 4),
            message_id=message_id,
        )
        source_name = name_vector.tobytes().decode()
    except DecodeError:
        raise
    except (struct.error, ValueError, UnicodeDecodeError) as err:
        detail = f"{type(err).__name__}: {err}"
        raise DecodeError("malformed ev44 payload", detail) from err
    index = batch.reference_time_index
    n_events = batch.size
    if index.size != batch.reference_time.size:
        raise DecodeError("inconsistent ev44 payload", "index/time sizes differ")
    if batch.pixel_id.size not in (0, n_events):
        raise DecodeError("inconsistent ev44 payload", "pixel ids")
    if index.size == 1:  # the usual case: no np.diff needed
        if index[0] != 0:
            raise DecodeError("inconsistent ev44 payload", "events before first pulse")
    elif index.size:
        if index[0] != 0 or index[-1] > n_events or np.any(np.diff(index) < 0):
            raise DecodeError("inconsistent ev44 payload", "reference_time_index")
    elif n_events:
        raise DecodeError("inconsistent ev44 payload", "events before first pulse")
    return source_name, batch


def per_call(
    function: Callable[[], object], min_time: float = 0.2, blocks: int = 9
) -> float:
    """Median seconds per call over ``blocks`` blocks of back-to-back calls."""
    function()
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            function()
        if time.perf_counter() - start > min_time / 10:
            break
        n *= 2
    times = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(n):
            function()
        times.append((time.perf_counter() - start) / n)
    return statistics.median(times)


def check_fast_decoder(payloads: list[bytes], rng: np.random.Generator) -> int:
    """Same as decode_ev44 on valid payloads; on corrupted ones only
    DecodeError, and the same result whenever both accept; returns cases."""
    cases = 0
    for payload in payloads:
        variants = [payload]
        for _ in range(200):
            corrupt = bytearray(payload)
            kind = rng.integers(3)
            if kind == 0:
                corrupt = corrupt[: rng.integers(len(corrupt))]
            else:
                for _ in range(rng.integers(1, 4)):
                    at = rng.integers(min(len(corrupt), 128))
                    corrupt[at] = rng.integers(256)
            variants.append(bytes(corrupt))
        for variant in variants:
            cases += 1
            try:
                expected = decode_ev44(variant)
            except DecodeError:
                expected = None
            try:
                found = fast_decode_ev44(variant)
            except DecodeError:
                found = None
            if variant is payload:
                assert found is not None, "fast decoder rejected a valid payload"
            if expected is None or found is None:
                continue  # corrupted: either may reject what the other accepts
            name, batch = expected
            assert found[0] == name
            for attr in ("reference_time", "reference_time_index", "time_of_arrival"):
                assert np.array_equal(getattr(found[1], attr), getattr(batch, attr))
            assert np.array_equal(found[1].pixel_id, batch.pixel_id)
            assert found[1].message_id == batch.message_id
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    min_time = 0.02 if args.quick else 0.2
    loaded = load_instrument("dummy")
    instrument, shapes = loaded.instrument, loaded.fake_data_shapes()
    bank = instrument.detector("panel_0")
    sampler = PixelSampler(bank, shapes, instrument.sample_position)
    rng = np.random.default_rng(1)
    mapping = loaded.stream_mapping(Topology.DEV)
    decoder = UpstreamDecoder(mapping)
    topic = mapping.key_for(StreamId(StreamKind.DETECTOR_EVENTS, "panel_0")).topic
    counts = DetectorCounts(bank, instrument.sample_position, DEFAULT_BINNING)
    now = time.time_ns()
    clock = WindowClock(length_ns=1_000_000_000, max_skew_ns=600 * 10**9)
    pending: dict[int, dict[StreamId, list]] = {}
    payloads = []
    print("| events/msg | stage | us/message | messages/s per core |")
    print("|---:|---|---:|---:|")
    for n in (1_000, 10_000, 100_000):
        pixel_id, toa = draw_events(sampler, shapes.detector_toa, n, rng)
        batch = pulse_batch([now], [toa], [pixel_id], 7)
        payload = encode_ev44("panel_0", batch)
        payloads.append(payload)
        message = decoder.decode(topic, payload, 0)

        def accept(message=message) -> None:
            index = clock.assign(message.stream, message.timestamp)
            pending.setdefault(index, {}).setdefault(message.stream, []).append(message)
            if len(pending[index][message.stream]) > 1000:
                pending.clear()

        stages = {
            "decode_ev44": lambda p=payload: decode_ev44(p),
            "fast_decode_ev44 (prototype)": lambda p=payload: fast_decode_ev44(p),
            "UpstreamDecoder.decode": lambda p=payload: decoder.decode(topic, p, 0),
            "loop bookkeeping (assign + pending)": accept,
            "DetectorCounts.add_events": lambda b=message.value: counts.add_events(b),
        }
        total = 0.0
        for stage, function in stages.items():
            seconds = per_call(function, min_time)
            if stage not in ("decode_ev44", "fast_decode_ev44 (prototype)"):
                total += seconds
            print(f"| {n:,} | {stage} | {seconds * 1e6:.1f} | {1 / seconds:,.0f} |")
        print(
            f"| {n:,} | **sum without Kafka** | {total * 1e6:.1f} | {1 / total:,.0f} |"
        )
    monitor = pulse_batch(
        [now, now + 71_428_571, now + 142_857_142],
        [toa[:10], toa[10:30], toa[30:31]],
        [np.empty(0, dtype=np.int32)] * 3,
        3,
    )
    empty = pulse_batch([now], [toa[:0]], [pixel_id[:0]], 0)
    checked = [payloads[0], encode_ev44("monitor1", monitor), encode_ev44("x", empty)]
    cases = check_fast_decoder(checked, rng)
    print(f"\nfast_decode_ev44 agrees with decode_ev44 on {cases} payloads")


if __name__ == "__main__":
    main()
