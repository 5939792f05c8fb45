"""Load generator: the fake monitor/detector producers with their load-test options.

    python loadgen.py detectors --instrument dummy --events-per-pulse 357143 \\
        --payload-pool 4 [--pulses-per-message 1] [--speedup inf] [--pulses N] \\
        [--production-topics] [--producer-config JSON] [--report out.json]

Runs ``ess.livedata.fake.{detectors,monitors}.run_*`` (the code behind
``python -m ess.livedata.services.fake_detectors``) with the options of
``add_load_test_options``, which the fake producers' command lines do not
expose yet. Producer settings are the packaged upstream ones, with
``--producer-config`` (JSON) merged in: ``{"sticky.partitioning.linger.ms":
0}`` spreads a burst of messages over all partitions. ``--report``
writes what was sent and how long it took, including the final flush, and
the events it holds (exact with one pulse per message).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ess.livedata.core.cli import (
    configure_logging,
    instrument_from_args,
    run_cli,
    stop_on_signals,
)
from ess.livedata.core.nexus_geometry import with_file_positions
from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.core.streams import Topology
from ess.livedata.fake.cli import events_per_pulse, fake_parser
from ess.livedata.fake.detectors import (
    add_load_test_options,
    bank_events_per_pulse,
    run_detectors,
)
from ess.livedata.fake.monitors import run_monitors
from ess.livedata.kafka.clients import ensure_topics, make_producer
from ess.livedata.kafka.settings import upstream_settings

logger = logging.getLogger("loadgen")


class CountingProducer:
    """Wraps a confluent-kafka Producer to count what is produced."""

    def __init__(self, producer: Any) -> None:
        self._producer = producer
        self.messages = 0
        self.bytes = 0
        self.first_ns: int | None = None
        self.first_payload: bytes | None = None

    def produce(self, topic: str, value: bytes, *args: Any, **kwargs: Any) -> None:
        self._producer.produce(topic, value, *args, **kwargs)
        if self.first_ns is None:
            self.first_ns = time.time_ns()
            self.first_payload = value
        self.messages += 1
        self.bytes += len(value)

    def poll(self, timeout: float) -> int:
        return self._producer.poll(timeout)

    def flush(self, timeout: float) -> int:
        return self._producer.flush(timeout)

    def __len__(self) -> int:
        return len(self._producer)


def first_pulse(payload: bytes | None) -> int | None:
    if payload is None:
        return None
    from ess.livedata.kafka.schemas.ev44 import decode_ev44

    return int(decode_ev44(payload)[1].reference_time[0])


def events_per_group(args: Any, loaded: LoadedInstrument) -> int:
    """Events one pulse of all sources holds: detector banks split the total
    by their shares (rounded per bank), monitors get the same each."""
    per_source = events_per_pulse(args)
    if args.kind == "monitors":
        return per_source * len(loaded.instrument.monitors)
    names = [bank.name for bank in loaded.instrument.detectors]
    return sum(bank_events_per_pulse(names, loaded.fake_data_shapes(), per_source))


def main() -> None:
    parser = fake_parser("loadgen", "Load generator for the e2e benchmarks.", 1000)
    parser.add_argument("kind", choices=("detectors", "monitors"))
    parser.add_argument("--report", type=Path, default=None)
    parser.add_argument("--producer-config", type=json.loads, default={})
    add_load_test_options(parser)
    args = parser.parse_args()
    args.mode = "ev44"
    configure_logging(args.log_level)
    run = run_detectors if args.kind == "detectors" else run_monitors

    def body() -> None:
        loaded = with_file_positions(instrument_from_args(args))
        mapping = loaded.stream_mapping(
            Topology.PRODUCTION if args.production_topics else Topology.DEV
        )
        per_pulse = events_per_group(args, loaded)
        sources = (
            len(loaded.instrument.detectors)
            if args.kind == "detectors"
            else len(loaded.instrument.monitors)
        )
        settings = upstream_settings()
        settings = replace(settings, producer=settings.producer | args.producer_config)
        ensure_topics(settings, {k.topic for k in mapping.inputs})
        producer = CountingProducer(make_producer(settings))
        stop: threading.Event = stop_on_signals(lambda: None)
        started = time.monotonic()
        try:
            run(args, loaded, mapping, producer, stop)
        finally:
            remaining = producer.flush(30)
            seconds = time.monotonic() - started
            if args.report is not None:
                groups = producer.messages // (sources * args.messages_per_pulse)
                report = {
                    "messages": producer.messages,
                    "bytes": producer.bytes,
                    "undelivered": remaining,
                    "seconds": seconds,
                    "end_ns": time.time_ns(),
                    "first_produce_ns": producer.first_ns,
                    "first_pulse_ns": first_pulse(producer.first_payload),
                    "events_per_pulse": args.events_per_pulse,
                    "sources": sources,
                    "events": groups * args.pulses_per_message * per_pulse,
                    "pulses_per_message": args.pulses_per_message,
                }
                args.report.write_text(json.dumps(report))

    run_cli(body)


if __name__ == "__main__":
    main()
