"""Command line for the local Kafka broker.

``run`` keeps a broker in the foreground for demos and manual testing;
``fetch`` only fills the jar cache (e.g. in a CI setup step, so that the
first test does not pay for Maven).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .broker import KAFKA_VERSION, LocalBrokerError, LocalKafkaBroker, fetch_kafka

logger = logging.getLogger("ess.livedata.kafka.local_broker")


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 1-65535: {port}")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ess.livedata.kafka.local_broker",
        description=f"Run a local single-node Apache Kafka {KAFKA_VERSION} broker "
        "(KRaft), fetched from Maven Central with Maven and run on Java 17+.",
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=("run", "fetch"),
        default="run",
        help="run: start a broker and keep it in the foreground until Ctrl-C or "
        "SIGTERM (default); fetch: only download the jars into the cache",
    )
    parser.add_argument(
        "--port", type=_port, help="client port on 127.0.0.1 (default: a free one)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keeps topics and offsets across runs (default: a temporary "
        "directory, removed on exit)",
    )
    return parser


def _run(port: int | None, data_dir: Path | None) -> int:
    # SIGTERM (e.g. from a process manager) stops the broker like Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    broker = LocalKafkaBroker(port=port, data_dir=data_dir)
    try:
        broker.start()
        print(f"KAFKA_BOOTSTRAP_SERVERS={broker.bootstrap_servers}", flush=True)
        logger.info("Broker log: %s. Press Ctrl-C to stop.", broker.log_path)
        while broker.is_running:
            time.sleep(0.5)
        logger.error("Kafka broker exited unexpectedly; see %s", broker.log_path)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C must not abort the clean shutdown half-way.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        broker.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        if args.command == "fetch":
            print(fetch_kafka())
            return 0
        return _run(args.port, args.data_dir)
    except LocalBrokerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C during fetch
        return 130


if __name__ == "__main__":
    sys.exit(main())
