"""Command line for the local Kafka broker.

``run`` keeps a broker in the foreground for demos and manual testing, on
localhost:9092 where livedata's defaults point, so nothing needs exporting;
``fetch`` only fills the jar cache (e.g. in a CI setup step, so that the
first test does not pay for Maven).
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .broker import KAFKA_VERSION, LocalBrokerError, LocalKafkaBroker, fetch_kafka

logger = logging.getLogger("ess.livedata.kafka.local_broker")

DEFAULT_PORT = 9092
"""Port of ``localhost:9092``, where ``KAFKA*_BOOTSTRAP_SERVERS`` default to."""


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {port}")
    return port


def is_free(port: int) -> bool:
    """Whether the broker could listen on 127.0.0.1:``port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As Java's server sockets do: a port in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def client_port(requested: int | None, default: int = DEFAULT_PORT) -> int | None:
    """``--port`` if given (0: any free port), else ``default`` if free.

    ``None`` lets the broker take a free port.
    """
    if requested is not None:
        return requested or None
    return default if is_free(default) else None


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
        "--port",
        type=_port,
        help=f"client port on 127.0.0.1; 0 takes a free one (default: {DEFAULT_PORT},"
        " or a free one if that is taken)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keeps topics and offsets across runs (default: a temporary "
        "directory, removed on exit)",
    )
    return parser


def _run(requested_port: int | None, data_dir: Path | None) -> int:
    # SIGTERM (e.g. from a process manager) stops the broker like Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    port = client_port(requested_port)
    broker = LocalKafkaBroker(port=port, data_dir=data_dir)
    if requested_port is None and port is None:
        logger.warning(
            "Port %d is taken; listening on %s instead (export the variables below)",
            DEFAULT_PORT,
            broker.bootstrap_servers,
        )
    try:
        broker.start()
        for variable in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA2_BOOTSTRAP_SERVERS"):
            print(f"export {variable}={broker.bootstrap_servers}", flush=True)
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
