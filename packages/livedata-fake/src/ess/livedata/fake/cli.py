"""Command line and Kafka wiring shared by the fake producers."""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Callable

from confluent_kafka import Producer

from ess.livedata.core.cli import (
    base_parser,
    configure_logging,
    instrument_from_args,
    run_cli,
    stop_on_signals,
)
from ess.livedata.core.nexus_geometry import with_file_positions
from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.core.streams import StreamMapping, Topology
from ess.livedata.kafka.clients import ensure_topics, make_producer, require_brokers
from ess.livedata.kafka.settings import upstream_settings

from .pulses import PULSE_HZ

logger = logging.getLogger(__name__)


def fake_base_parser(name: str, description: str) -> argparse.ArgumentParser:
    """Options every fake producer has: instrument, seed, topic structure."""
    parser = base_parser(f"python -m ess.livedata.services.{name}", description)
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument(
        "--production-topics",
        action="store_true",
        help="produce on production topics and source names instead of the dev ones",
    )
    return parser


def fake_parser(
    name: str, description: str, default_events_per_pulse: int
) -> argparse.ArgumentParser:
    """Options of the 14 Hz event producers: also event rate and pulse count."""
    parser = fake_base_parser(name, description)
    rate = parser.add_mutually_exclusive_group()
    rate.add_argument(
        "--events-per-pulse",
        type=_positive_int,
        default=default_events_per_pulse,
        help=f"events per pulse per source; detector banks split the same total "
        f"by the instrument's shares (default: {default_events_per_pulse})",
    )
    rate.add_argument(
        "--rate",
        type=_positive_float,
        help="events per second per source, split like --events-per-pulse "
        "(alternative to it)",
    )
    parser.add_argument(
        "--pulses", type=_positive_int, default=None, help="stop after this many pulses"
    )
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def events_per_pulse(args: argparse.Namespace) -> int:
    if args.rate is not None:
        return max(1, round(args.rate / PULSE_HZ))
    return args.events_per_pulse


Run = Callable[
    [argparse.Namespace, LoadedInstrument, StreamMapping, Producer, threading.Event],
    None,
]


def run_fake(args: argparse.Namespace, run: Run) -> None:
    """Connect to the upstream broker and run until done or Ctrl-C."""
    configure_logging(args.log_level)

    def main() -> None:
        loaded = with_file_positions(instrument_from_args(args))
        topology = Topology.PRODUCTION if args.production_topics else Topology.DEV
        mapping = loaded.stream_mapping(topology)
        settings = upstream_settings()
        require_brokers(settings)  # unreachable or rejected: one line, exit 1
        ensure_topics(settings, {k.topic for k in mapping.inputs})
        producer = make_producer(settings, f"{args.instrument} fake producer")
        stop = stop_on_signals(lambda: None)
        logger.info(
            "producing to upstream %s (%s topics)", settings.describe(), topology.value
        )
        try:
            run(args, loaded, mapping, producer, stop)
        finally:
            remaining = producer.flush(10)
            if remaining:
                logger.warning("%d messages not delivered at exit", remaining)

    run_cli(main)


def produce(producer: Producer, topic: str, payload: bytes) -> None:
    """Produce, waiting for the local queue to drain when it is full."""
    try:
        producer.produce(topic, payload)
    except BufferError:
        producer.flush(5)
        producer.produce(topic, payload)
