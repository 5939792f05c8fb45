"""Events per second of NeXus replay against the live fake, same broker, same run.

Writes a NeXus file with the dummy instrument's two banks and ``--pulses``
pulses of ``--events-per-pulse`` events per bank, then runs, one after the
other against one local broker, each ``--repeats`` times:

- ``replay``: ``fake_detectors --nexus-file F --speedup inf``;
- ``live fake``: ``fake_detectors --mode ev44 --events-per-pulse N --pulses P
  --speedup inf`` (drawing and encoding every message, as in normal use).

The rate is the events the producer reports sent divided by the span of the
Kafka timestamps (producer create time) of its first and last message, so
process start-up and file opening do not count.

    .venv/bin/python benchmarks/nexus_replay_throughput.py [--pulses 280]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
from pathlib import Path

import numpy as np
from confluent_kafka import Consumer, TopicPartition

from ess.livedata.kafka.clients import ensure_topics, high_watermark
from ess.livedata.kafka.local_broker import LocalKafkaBroker
from ess.livedata.kafka.settings import KafkaSettings
from ess.livedata.testing.nexus_files import Bank, NexusEvents, write_nexus_file
from ess.livedata.testing.processes import Program

TOPIC = "dummy_detector"
BANKS = [Bank("panel_0", 1, (64, 64)), Bank("tubes_1", 100_001, (48, 64))]
SENT = re.compile(r"(?:replayed|sent) (\d+) messages with (\d+) events")


def write_file(path: Path, pulses: int, events_per_pulse: int) -> int:
    """Per-pixel counts summing to ``pulses * events_per_pulse`` per bank."""
    rng = np.random.default_rng(0)
    counts = {}
    for bank in BANKS:
        pixels = bank.shape[0] * bank.shape[1]
        total = pulses * events_per_pulse
        counts[bank.name] = rng.multinomial(total, np.full(pixels, 1 / pixels))
        counts[bank.name] = counts[bank.name].reshape(bank.shape)
    write_nexus_file(path, BANKS, [], events=NexusEvents(pulses, counts))
    return len(BANKS) * pulses * events_per_pulse


def timestamp_ms(bootstrap: str, offset: int) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench"})
    try:
        consumer.assign([TopicPartition(TOPIC, 0, offset)])
        while (record := consumer.poll(10)) is None or record.error():
            pass
        return record.timestamp()[1]
    finally:
        consumer.close()


def run(bootstrap: str, log_dir: Path, args: list[str]) -> float:
    """Events per second of one producer run."""
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench"})
    first = high_watermark(probe, TopicPartition(TOPIC, 0))
    program = Program(
        "ess.livedata.services.fake_detectors",
        ["--instrument", "dummy", *args],
        bootstrap_servers=bootstrap,
        log_dir=log_dir,
    )
    if program.wait(timeout=600) != 0:
        raise RuntimeError(program.log_tail())
    last = high_watermark(probe, TopicPartition(TOPIC, 0)) - 1
    probe.close()
    events = int(SENT.findall(program.log())[-1][1])
    span_s = (timestamp_ms(bootstrap, last) - timestamp_ms(bootstrap, first)) / 1e3
    return events / span_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pulses", type=int, default=280)
    parser.add_argument("--events-per-pulse", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, LocalKafkaBroker() as broker:
        directory = Path(scratch)
        bootstrap = broker.bootstrap_servers
        ensure_topics(KafkaSettings(bootstrap_servers=bootstrap), [TOPIC])
        total = write_file(
            directory / "run.nxs", options.pulses, options.events_per_pulse
        )
        size_mb = (directory / "run.nxs").stat().st_size / 1e6
        print(
            f"{options.pulses} pulses x 2 banks x {options.events_per_pulse:,} events"
        )
        print(f"= {total:,} events per run; file {size_mb:.0f} MB\n")
        runs = {
            "replay": ["--nexus-file", str(directory / "run.nxs")],
            "live fake": [
                "--mode",  # events only, as the replay (no area-detector frames)
                "ev44",
                "--pulses",
                str(options.pulses),
                "--events-per-pulse",
                str(options.events_per_pulse),
            ],
        }
        rates: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(options.repeats):  # interleaved, so load drifts hit both
            for name, args in runs.items():
                rate = run(bootstrap, directory, [*args, "--speedup", "inf"])
                rates[name].append(rate)
        print("| producer | median | min | max |")
        print("|---|---:|---:|---:|")
        for name, values in rates.items():
            print(
                f"| {name} | {statistics.median(values) / 1e6:.2f} M events/s | "
                f"{min(values) / 1e6:.2f} | {max(values) / 1e6:.2f} |"
            )


if __name__ == "__main__":
    main()
