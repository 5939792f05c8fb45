"""Command-line conventions shared by every livedata program.

Expected failures (unknown instrument, bad configuration) end with one line
on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable

from ess.livedata.config import ConfigError

from .plugins import (
    LoadedInstrument,
    PluginLoadError,
    UnknownInstrumentError,
    load_instrument,
)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
EXIT_USAGE = 2


def base_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """Parser with ``--instrument`` and ``--log-level``.

    ``--instrument`` defaults to ``LIVEDATA_INSTRUMENT`` so containers and
    gunicorn deployments can set it through the environment.
    """
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "--instrument",
        default=os.environ.get("LIVEDATA_INSTRUMENT"),
        help="instrument plugin to load (default: $LIVEDATA_INSTRUMENT)",
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("LIVEDATA_LOG_LEVEL", "INFO").upper(),
        type=str.upper,
        choices=LOG_LEVELS,
        help="logging verbosity (default: INFO)",
    )
    return parser


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def fail(message: str, code: int = 1) -> None:
    """Print one line to stderr and exit."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def instrument_from_args(args: argparse.Namespace) -> LoadedInstrument:
    """Load the instrument named on the command line, or exit with one line."""
    if not args.instrument:
        fail(
            "no instrument given: pass --instrument or set LIVEDATA_INSTRUMENT",
            EXIT_USAGE,
        )
    try:
        return load_instrument(args.instrument)
    except UnknownInstrumentError as error:
        fail(str(error), EXIT_USAGE)
    except PluginLoadError as error:
        fail(str(error))
    raise AssertionError("unreachable")


def run_cli(main: Callable[[], None]) -> None:
    """Run ``main`` turning configuration errors into one-line failures."""
    try:
        main()
    except ConfigError as error:
        fail(str(error))
    except KeyboardInterrupt:
        raise SystemExit(130) from None


def stop_on_signals(
    stop: Callable[[], None],
    signals: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM),
) -> threading.Event:
    """Call ``stop`` on any of ``signals``; returns an event set at that moment."""
    stopped = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        logging.getLogger(__name__).info(
            "received %s, stopping", signal.Signals(signum).name
        )
        stopped.set()
        stop()

    for sig in signals:
        signal.signal(sig, handler)
    return stopped
