"""The ``livedata`` command: ``livedata demo --instrument dummy``."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from collections.abc import Sequence
from pathlib import Path

from ess.livedata.core.cli import (
    base_parser,
    configure_logging,
    fail,
    instrument_from_args,
    run_cli,
    stop_on_signals,
)
from ess.livedata.core.processes import signal_when_parent_dies
from ess.livedata.kafka.clients import require_brokers
from ess.livedata.kafka.local_broker import LocalBrokerError
from ess.livedata.kafka.settings import (
    KafkaSettings,
    downstream_settings,
    upstream_settings,
)

from .geometry import ensure_geometry
from .profiles import PROFILES, programs_for
from .runner import Demo


def demo_parser(prog: str) -> argparse.ArgumentParser:
    parser = base_parser(
        prog, "Run broker, fake data, services and dashboards locally."
    )
    parser.set_defaults(instrument=os.environ.get("LIVEDATA_INSTRUMENT", "dummy"))
    parser.add_argument(
        "--profile",
        action="append",
        choices=sorted(PROFILES),
        help="start only this group (repeatable; default: all)",
    )
    parser.add_argument("--log-dir", type=Path, help="folder for the programs' logs")
    parser.add_argument(
        "--duration", type=float, help="stop by itself after this many seconds"
    )
    return parser


def _given_brokers() -> list[KafkaSettings]:
    """The brokers the environment names; none means the demo starts one."""
    given = []
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        given.append(upstream_settings())
    if os.environ.get("KAFKA2_BOOTSTRAP_SERVERS"):
        given.append(downstream_settings())
    return given


def run_demo(args: argparse.Namespace) -> None:
    configure_logging(args.log_level)

    def main() -> None:
        loaded = instrument_from_args(args)
        given = _given_brokers()
        if given:
            # One line now rather than every program failing on its own.
            require_brokers(*given)
        demo = Demo(
            loaded.name,
            programs_for(args.profile or list(PROFILES)),
            bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
            log_dir=args.log_dir,
            prepare=lambda workdir: ensure_geometry(loaded, workdir),
        )
        stop = threading.Event()
        # Stop cleanly on any signal that asks to stop, also when the terminal
        # closes or whatever started the demo (a shell, nox) is killed.
        stop_on_signals(stop.set, (signal.SIGINT, signal.SIGTERM, signal.SIGHUP))
        signal_when_parent_dies(signal.SIGTERM)
        try:
            demo.run(stop, args.duration)
        except LocalBrokerError as error:  # e.g. no Java: one line, not a trace
            fail(str(error))

    run_cli(main)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="livedata", description="livedata tools")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "demo",
        parents=[demo_parser("livedata demo")],
        add_help=False,
        help="run the live demo",
    )
    args = parser.parse_args(argv)
    run_demo(args)
