"""Wiring a service: command line, instrument, Kafka or PNG sink, the loop."""

from __future__ import annotations

import argparse
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ess.livedata.config import ConfigError, load_config
from ess.livedata.core.cli import (
    base_parser,
    configure_logging,
    instrument_from_args,
    run_cli,
    stop_on_signals,
)
from ess.livedata.core.loop import (
    MessageSink,
    MessageSource,
    ProcessingLoop,
    WindowProcessor,
)
from ess.livedata.core.message import Message, StreamKind
from ess.livedata.core.nexus_geometry import with_file_positions
from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.core.status import new_worker_id, worker_service_id
from ess.livedata.core.streams import Topology
from ess.livedata.core.window import WindowClock
from ess.livedata.kafka.clients import (
    LiveConsumer,
    ensure_topics,
    make_producer,
    require_brokers,
)
from ess.livedata.kafka.decoders import UpstreamDecoder
from ess.livedata.kafka.settings import (
    describe_brokers,
    downstream_settings,
    upstream_settings,
)
from ess.livedata.kafka.sink import KafkaSink
from ess.livedata.kafka.source import ConsumerLike, Decoder, KafkaSource

from .warm_up import warm_up

logger = logging.getLogger(__name__)

ProcessorFactory = Callable[[LoadedInstrument], WindowProcessor]
PNG_KEEP = 100  # timestamped PNGs kept per output: 100 s of a 1 s window


def service_parser(service: str, description: str) -> argparse.ArgumentParser:
    parser = base_parser(f"python -m ess.livedata.services.{service}", description)
    parser.add_argument(
        "--dev",
        action="store_true",
        help="simplified topic structure, as used by the fake data producers",
    )
    parser.add_argument(
        "--sink",
        choices=("kafka", "png"),
        default="kafka",
        help="publish results to Kafka (default) or write them as PNG files",
    )
    parser.add_argument(
        "--png-dir",
        type=Path,
        default=Path("livedata-png"),
        help="folder for --sink png (default: ./livedata-png)",
    )
    parser.add_argument(
        "--png-keep",
        type=_positive_int,
        default=PNG_KEEP,
        metavar="N",
        help="for --sink png: files kept per output besides latest.png, older"
        f" ones are deleted (default: {PNG_KEEP})",
    )
    parser.add_argument(
        "--max-lag-s",
        type=_max_lag,
        default=None,
        metavar="SECONDS",
        help="skip windows whose data is older than this to catch up with live"
        " data, counting their events as skipped; 'off' never skips"
        " (default: max_lag_s of the services configuration)",
    )
    return parser


_OFF = -1.0


def _max_lag(text: str) -> float:
    if text.lower() in ("off", "none", "null"):
        return _OFF
    try:
        value = float(text)
    except ValueError:
        message = f"expected seconds or 'off', got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def data_group(instrument: str, service: str, sink: str) -> str:
    """The consumer group of a service's data topics.

    Kafka-sink workers of a service share a group, so Kafka splits the
    partitions among them. A PNG instance is a viewer beside them: in that
    group it would take partitions from the workers (or get none and write
    nothing), so each PNG instance has a group of its own and sees all data.
    """
    group = f"{instrument}_{service}"
    return group if sink == "kafka" else f"{group}_{sink}_{uuid.uuid4().hex[:8]}"


def max_lag_s(args: argparse.Namespace, defaults: dict[str, Any]) -> float | None:
    """The back-pressure threshold: ``--max-lag-s``, else the configuration's."""
    if args.max_lag_s is not None:
        return None if args.max_lag_s == _OFF else args.max_lag_s
    value = defaults.get("max_lag_s")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"max_lag_s must be a positive number or null, not {value!r}")
    return float(value)


class MergedSource:
    """Several sources polled in turn, e.g. upstream data and downstream commands.

    Each step polls every source once, so the waits of all sources add up:
    see :func:`data_and_commands` for the split that keeps one wait per step.
    """

    def __init__(self, sources: Sequence[MessageSource]) -> None:
        self._sources = sources

    def get_messages(self) -> list[Message[Any]]:
        return [m for source in self._sources for m in source.get_messages()]

    def counters(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for source in self._sources:
            for key, value in source.counters().items():
                totals[key] = totals.get(key, 0) + value
        return totals


def data_and_commands(
    data: ConsumerLike, commands: ConsumerLike, decoder: Decoder
) -> MergedSource:
    """The service's input: data waiting up to its poll timeout, commands not.

    The command topic is nearly always empty, so a wait there added the poll
    timeout to every loop step while data queued up: a step takes at most one
    batch, so that capped a service at about 9k small messages/s. The data
    source's wait alone paces the loop: a quiet data topic still sleeps there
    rather than spinning, and a command is picked up within one step.
    """
    return MergedSource(
        [
            KafkaSource(data, decoder),
            KafkaSource(commands, decoder, poll_timeout_s=0),
        ]
    )


class LoggingStatusSink:
    """Status for ``--sink png``: heartbeats go to the log, data to the PNG sink."""

    _LOGGED = (StreamKind.LIVEDATA_HEARTBEAT, StreamKind.LIVEDATA_RESPONSES)

    def __init__(self, inner: MessageSink) -> None:
        self._inner = inner

    def publish_messages(self, messages: Sequence[Message[Any]]) -> None:
        for message in messages:
            if message.stream.kind in self._LOGGED:
                logger.info(
                    "%s: %s", message.stream.kind, message.value.model_dump_json()
                )
        self._inner.publish_messages(
            [m for m in messages if m.stream.kind is StreamKind.LIVEDATA_DATA]
        )


def run_service(
    service: str,
    description: str,
    make_processor: ProcessorFactory,
    input_kinds: Iterable[StreamKind],
    argv: Sequence[str] | None = None,
    warm_kernels: Callable[[], None] | None = None,
) -> None:
    """Parse arguments and run ``service`` until SIGINT/SIGTERM.

    ``warm_kernels`` (see :mod:`.warm_up`) runs before the service
    subscribes, so that its first window does not compile them.
    """
    args = service_parser(service, description).parse_args(argv)
    configure_logging(args.log_level)
    run_cli(lambda: _run(service, args, make_processor, set(input_kinds), warm_kernels))


def _run(
    service: str,
    args: argparse.Namespace,
    make_processor: ProcessorFactory,
    input_kinds: set[StreamKind],
    warm_kernels: Callable[[], None] | None,
) -> None:
    # The geometry file (if any) is read here, at start-up: a missing file is
    # a one-line start-up error, and the first message does not wait for it.
    loaded = with_file_positions(instrument_from_args(args))
    topology = Topology.DEV if args.dev else Topology.PRODUCTION
    mapping = loaded.stream_mapping(topology)
    defaults = load_config("services")
    max_lag = max_lag_s(args, defaults)
    upstream, downstream = upstream_settings(), downstream_settings()
    # An unreachable broker or rejected credentials end the program here,
    # with one line, rather than leaving it waiting for data that cannot come.
    require_brokers(upstream, downstream)
    data_topics = mapping.input_topics(input_kinds)
    command_topics = [mapping.output_topic(StreamKind.LIVEDATA_COMMANDS)]
    if StreamKind.LIVEDATA_ROI in input_kinds:
        command_topics.append(mapping.output_topic(StreamKind.LIVEDATA_ROI))
    if args.dev:
        ensure_topics(upstream, data_topics)
        ensure_topics(downstream, mapping.outputs.values())
    if warm_kernels is not None:
        warm_up(warm_kernels)
    decoder = UpstreamDecoder(mapping)
    group = f"{loaded.name}_{service}"
    data_consumer = LiveConsumer(
        upstream, data_group(loaded.name, service, args.sink), data_topics
    )
    # Every instance must see every command: a group of its own.
    command_consumer = LiveConsumer(
        downstream, f"{group}_commands_{uuid.uuid4().hex[:8]}", command_topics
    )
    source = data_and_commands(data_consumer, command_consumer, decoder)
    producer = None
    png_sink = None
    worker_id = new_worker_id()
    if args.sink == "png":
        from .png_sink import PngSink

        png_sink = PngSink(args.png_dir, keep=args.png_keep)
        sink: MessageSink = LoggingStatusSink(png_sink)
        logger.info("writing PNG files under %s", args.png_dir.resolve())
    else:
        producer = make_producer(downstream, f"{group} producer")
        worker = worker_service_id(loaded.name, service, worker_id)
        sink = KafkaSink(producer, mapping.outputs, worker)
    clock = WindowClock(
        length_ns=int(defaults["window_ms"]) * 1_000_000,
        max_skew_ns=int(defaults["max_clock_skew_s"]) * 1_000_000_000,
        stale_after_s=float(defaults["stale_stream_s"]),
    )
    loop = ProcessingLoop(
        service=service,
        instrument=loaded.name,
        source=source,
        sink=sink,
        processor=make_processor(loaded),
        clock=clock,
        heartbeat_interval_s=int(defaults["heartbeat_interval_ms"]) / 1000,
        version=version("livedata-services"),
        max_lag_s=max_lag,
        worker_id=worker_id,
        stream_stats=decoder.stream_counts.take,
    )
    stop_on_signals(loop.stop)
    logger.info(
        "%s for %s (%s topics) consuming %s; %s; max lag %s",
        service,
        loaded.name,
        topology.value,
        ", ".join(data_topics),
        describe_brokers(upstream, downstream),
        "off" if max_lag is None else f"{max_lag:g} s",
    )
    started = time.monotonic()
    try:
        loop.run()
    finally:
        data_consumer.close()
        command_consumer.close()
        if producer is not None:
            producer.flush(10)
        if png_sink is not None:
            png_sink.close()
        logger.info("%s stopped after %.1f s", service, time.monotonic() - started)
