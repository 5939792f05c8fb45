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

from .log_rate import RateLimitFilter
from .plugins import (
    LoadedInstrument,
    PluginLoadError,
    UnknownInstrumentError,
    load_instrument,
)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_LEVEL_ENV = "LIVEDATA_LOG_LEVEL"
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
        default=env_log_level(),
        type=str.upper,
        choices=LOG_LEVELS,
        help="logging verbosity (default: INFO)",
    )
    return parser


def env_log_level() -> str:
    """``LIVEDATA_LOG_LEVEL`` in upper case, else ``INFO``; checked by
    :func:`configure_logging`, since argparse does not check defaults."""
    return os.environ.get(LOG_LEVEL_ENV, "INFO").upper()


def configure_logging(level: str) -> None:
    """Log to stderr, each fault at a bounded rate (see :mod:`.log_rate`).

    ``--log-level`` is checked by argparse, so a level not in
    :data:`LOG_LEVELS` came from ``LIVEDATA_LOG_LEVEL``: one line, exit 2.
    """
    if level not in LOG_LEVELS:
        fail(
            f"{LOG_LEVEL_ENV}={level!r} is not a log level: use one of"
            f" {', '.join(LOG_LEVELS)}",
            EXIT_USAGE,
        )
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RateLimitFilter) for f in handler.filters):
            handler.addFilter(RateLimitFilter())


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
