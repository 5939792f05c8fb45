"""Long fuzz run over every schema adapter and every service's command parser.

The CI tests (``schemas_robustness_test.py``, ``commands_fuzz_test.py``) try a
few hundred inputs per target (and ``command_dispatch_fuzz_test.py`` the
services' command handling); this script keeps mutating for as long as it is
given, to find the rare input those miss:

    .venv/bin/python benchmarks/fuzz_adapters.py --seconds 60        # per target
    .venv/bin/python benchmarks/fuzz_adapters.py --quick             # smoke, ~10 s

Targets: the decoders of ev44, f144, da00, x5f2 and ad00 (each fed mutations
of a valid payload: truncations, bit flips, byte overwrites, insertions,
deletions, splices with other schemas, random bytes), the upstream path as a
service runs it (:class:`~ess.livedata.kafka.source.KafkaSource` over a fake
consumer, which must count every input as decoded or rejected with a reason),
and each dummy service's job-protocol processor taking mutated facility
commands (``handle_command``: it answers or ignores, never raises). Any
exception other than the expected rejection is printed
with the input (hex) and makes the exit code 1. Prints a markdown table:
inputs tried, accepted, rejected, and the rejection reasons seen.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc

from ess.livedata.config import load_config
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch, LogSample
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.streams import Topology
from ess.livedata.kafka.decoders import UpstreamDecoder
from ess.livedata.kafka.schemas import (
    DECODERS,
    DecodeError,
    encode_ad00,
    encode_da00,
    encode_ev44,
    encode_f144,
    encode_x5f2,
)
from ess.livedata.kafka.source import KafkaSource
from ess.livedata.processing.job_bindings import (
    detector_jobs,
    monitor_jobs,
    reduction_jobs,
    timeseries_jobs,
)
from ess.livedata.processing.job_protocol import JobProtocolProcessor
from ess.livedata.processing.timeseries import caps_from_config
from ess.livedata.protocol import (
    Heartbeat,
    ResponseKind,
    ServiceMessage,
    ServiceState,
)


def samples() -> dict[str, bytes]:
    """One valid payload per schema, with source names the dummy instrument has."""
    events = EventBatch(
        reference_time=np.array([1_700_000_000_000_000_000, 1_700_000_000_071_428_571]),
        reference_time_index=np.array([0, 3], dtype=np.int32),
        time_of_arrival=np.array([1, 2, 3, 4, 5], dtype=np.int32),
        pixel_id=np.array([1, 2, 3, 4, 5], dtype=np.int32),
        message_id=7,
    )
    spectrum = sc.DataArray(
        sc.array(dims=["toa"], values=[1.0, 2.0], variances=[1.0, 4.0], unit="counts"),
        coords={"toa": sc.array(dims=["toa"], values=[0.0, 1.0, 2.0], unit="ms")},
    )
    image = sc.DataArray(
        sc.array(dims=["y", "x"], values=np.arange(6.0).reshape(2, 3), unit="counts")
    )
    status = Heartbeat.of(
        ServiceMessage(
            instrument="dummy",
            service_name="monitor_data",
            worker_id="w",
            state=ServiceState.RUNNING,
            started_at=1,
            active_job_count=2,
            batch_interval_s=1.0,
        ),
        software_version="0",
        host_name="h",
        process_id=1,
    )
    return {
        "ev44": encode_ev44("monitor1", events),
        "ev44 detector": encode_ev44("panel_0", events),
        "f144": encode_f144("motor_x", LogSample(5, np.array([1.0, np.nan]))),
        "da00": encode_da00("monitor1", 9, spectrum),
        "x5f2": encode_x5f2(status),
        "ad00": encode_ad00("camera", 4, image),
    }


def mutate(rng: random.Random, payload: bytes, others: list[bytes]) -> bytes:
    """One random mutation (sometimes several) of ``payload``."""
    data = bytearray(payload)
    for _ in range(rng.choice((1, 1, 1, 2, 3, 8))):
        how = rng.randrange(8)
        if how == 0 and data:
            del data[rng.randrange(len(data)) :]
        elif how == 1 and data:
            bit = rng.randrange(len(data) * 8)
            data[bit // 8] ^= 1 << (bit % 8)
        elif how == 2 and data:
            data[rng.randrange(len(data))] = rng.choice((0, 0xFF, 0x7F, 0x80, 1))
        elif how == 3:
            at = rng.randrange(len(data) + 1)
            data[at:at] = rng.randbytes(rng.randrange(1, 9))
        elif how == 4 and data:
            at = rng.randrange(len(data))
            del data[at : at + rng.randrange(1, 9)]
        elif how == 5:
            other = rng.choice(others)
            cut = rng.randrange(min(len(data), len(other)) + 1)
            data = data[:cut] + other[cut:]
        elif how == 6 and len(data) >= 4:
            # A 4-byte little-endian field set to an absurd value.
            at = rng.randrange(len(data) - 3)
            value = rng.choice((0, 1, 2**31 - 1, 2**32 - 1, 2**31, len(data)))
            data[at : at + 4] = value.to_bytes(4, "little")
        else:
            data = bytearray(rng.randbytes(rng.randrange(0, 64)))
    return bytes(data)


class CommandRefused(Exception):
    """A command a service ignored or answered with ERR."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def command_call(processor: JobProtocolProcessor) -> Callable[[bytes], None]:
    """Feed one command to ``processor``; refusals raise :class:`CommandRefused`."""

    def call(payload: bytes) -> None:
        stream = StreamId(StreamKind.LIVEDATA_COMMANDS, "")
        responses = processor.handle_command(Message(0, stream, payload))
        refused = [r.value for r in responses if r.value.response is ResponseKind.ERR]
        if refused:
            raise CommandRefused(refused[0].message or "ERR")
        if not responses:
            raise CommandRefused("ignored")

    return call


class Target:
    """One fuzz target: counts accepted inputs, rejection reasons and crashes."""

    def __init__(self, name: str, call: Callable[[bytes], Any]) -> None:
        self.name = name
        self.call = call
        self.tried = 0
        self.accepted = 0
        self.reasons: Counter[str] = Counter()
        self.crashes: list[str] = []

    def run(self, payload: bytes) -> None:
        self.tried += 1
        try:
            self.call(payload)
        except (DecodeError, CommandRefused) as rejected:
            reason = getattr(rejected, "reason", str(rejected))
            self.reasons[reason.split(":")[0][:60]] += 1
            return
        except Exception:
            if len(self.crashes) < 5:
                self.crashes.append(
                    f"{self.name}: input {payload[:200].hex()}\n{traceback.format_exc()}"
                )
            self.reasons["CRASH"] += 1
            return
        self.accepted += 1


class ListConsumer:
    """A consumer handing KafkaSource one prepared record per call."""

    def __init__(self) -> None:
        self.records: list[Any] = []

    def consume(self, num_messages: int, timeout: float) -> list[Any]:
        out, self.records = self.records, []
        return out


class FakeRecord:
    def __init__(self, topic: str, payload: bytes) -> None:
        self._topic = topic
        self._payload = payload

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return self._topic

    def value(self) -> bytes:
        return self._payload

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_700_000_000_000)


def source_target(topic: str) -> tuple[Target, Callable[[], None]]:
    """The service's upstream path; checks every input is counted exactly once."""
    mapping = load_instrument("dummy").stream_mapping(Topology.DEV)
    consumer = ListConsumer()
    source = KafkaSource(consumer, UpstreamDecoder(mapping))

    def call(payload: bytes) -> None:
        consumer.records = [FakeRecord(topic, payload)]
        if not source.get_messages():
            raise DecodeError("rejected by KafkaSource")

    def check() -> None:
        counters = source.counters()
        assert counters["kafka_messages"] == target.tried
        assert counters["messages_rejected"] == target.tried - target.accepted, counters
        # Report the source's own counters: what a service's status shows.
        target.reasons = Counter(
            {
                k.removeprefix("rejected."): v
                for k, v in counters.items()
                if k.startswith("rejected.")
            }
        )

    target = Target(f"KafkaSource({topic})", call)
    return target, check


CORPUS = Path(__file__).parents[1] / "packages/livedata-protocol/tests/corpus"


def command_inputs(rng: random.Random) -> Callable[[], bytes]:
    """The recorded facility commands, their fields given hostile values, and
    byte-level mutations of the results."""
    valid = [
        json.loads(p.read_bytes())
        for p in sorted((CORPUS / "livedata_commands").glob("*.bin"))
    ]
    values = [0, -1, 1e308, float("nan"), float("inf"), 10**9, 2**63, "", "x" * 70,
              None, [], {}, [[0, 0]] * 40, True, "dummy/panel_0_xy/1"]  # fmt: skip

    def make() -> bytes:
        command = json.loads(json.dumps(rng.choice(valid)))
        target = command.get("params") or command
        for _ in range(rng.randrange(3)):
            key = rng.choice([*target, "extra"])
            if rng.random() < 0.3 and key in target:
                del target[key]
            else:
                target[key] = rng.choice(values)
        payload = json.dumps(command).encode()
        if rng.random() < 0.5:
            payload = mutate(rng, payload, [b"[" * 2000, b'{"a":' * 300])
        return payload

    return make


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="per target")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="1 s per target")
    args = parser.parse_args(argv)
    seconds = 1.0 if args.quick else args.seconds
    rng = random.Random(args.seed)
    valid = samples()
    payloads = list(valid.values())

    runs: list[tuple[Target, Callable[[], bytes], Callable[[], None] | None]] = []
    # Rejections are counted here; their (rate-limited) log lines are noise.
    logging.getLogger("ess.livedata.kafka").setLevel(logging.ERROR)
    logging.getLogger("ess.livedata.processing").setLevel(logging.ERROR)
    for schema, decoder in sorted(DECODERS.items()):
        sample = valid[schema]
        runs.append(
            (Target(schema, decoder), lambda s=sample: mutate(rng, s, payloads), None)
        )
    for topic in ("dummy_beam_monitor", "dummy_motion", "dummy_detector"):
        target, check = source_target(topic)
        runs.append(
            (target, lambda: mutate(rng, rng.choice(payloads), payloads), check)
        )
    commands = command_inputs(rng)
    dummy = load_instrument("dummy")
    caps = caps_from_config(load_config("services"))
    for service, processor in (
        ("monitor_data", monitor_jobs(dummy)),
        ("detector_data", detector_jobs(dummy)),
        ("timeseries", timeseries_jobs(dummy, caps)),
        ("data_reduction", reduction_jobs(dummy)),
    ):
        runs.append(
            (
                Target(f"handle_command({service})", command_call(processor)),
                commands,
                None,
            )
        )

    print("| target | inputs | accepted | rejected | reasons (top 4) |")
    print("|---|---:|---:|---:|---|")
    crashes: list[str] = []
    for target, make, check in runs:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for _ in range(200):
                target.run(make())
        if check is not None:
            check()
        top = ", ".join(f"{r} ({n})" for r, n in target.reasons.most_common(4))
        rejected = target.tried - target.accepted
        print(
            f"| {target.name} | {target.tried} | {target.accepted} | {rejected} | {top} |"
        )
        crashes += target.crashes
    for crash in crashes:
        print(crash, file=sys.stderr)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
