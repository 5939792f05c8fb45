"""The ``livedata`` command: ``livedata demo --instrument dummy``."""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from ess.livedata.core.cli import (
    base_parser,
    configure_logging,
    instrument_from_args,
    run_cli,
    stop_on_signals,
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


def run_demo(args: argparse.Namespace) -> None:
    configure_logging(args.log_level)

    def main() -> None:
        loaded = instrument_from_args(args)
        if args.log_dir:
            args.log_dir.mkdir(parents=True, exist_ok=True)
        ensure_geometry(loaded, args.log_dir or Path(tempfile.mkdtemp()))
        demo = Demo(
            loaded.name,
            programs_for(args.profile or list(PROFILES)),
            bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
            log_dir=args.log_dir,
        )
        stop = threading.Event()
        stop_on_signals(stop.set)
        demo.run(stop, args.duration)

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
