"""``python -m ess.livedata.dashboard.<name>``: a dashboard in development mode."""

from __future__ import annotations

import argparse
import logging
import signal
from collections.abc import Sequence

from ess.livedata.core.cli import (
    EXIT_USAGE,
    base_parser,
    configure_logging,
    fail,
    instrument_from_args,
    run_cli,
)
from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.kafka.settings import downstream_settings

from .backend import Backend
from .serve_settings import (
    ADDRESS_ENV,
    DEFAULT_ADDRESS,
    PORT_ENV,
    ServeSettings,
    ServeSettingsError,
    serve_settings,
)
from .server import Dashboard, create_server

logger = logging.getLogger(__name__)


def dashboard_parser(dashboard: Dashboard) -> argparse.ArgumentParser:
    parser = base_parser(
        f"python -m ess.livedata.dashboard.{dashboard.name}",
        f"Serve the {dashboard.title} dashboard (Panel, development mode).",
    )
    parser.add_argument(
        "--address",
        default=None,
        help=f"address to listen on (default: ${ADDRESS_ENV} or {DEFAULT_ADDRESS})",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"port to listen on (default: ${PORT_ENV} or the dashboard's own)",
    )
    return parser


def settings_from_args(dashboard: Dashboard, args: argparse.Namespace) -> ServeSettings:
    """Serve settings, or exit with one line if they are invalid."""
    try:
        return serve_settings(dashboard.name, address=args.address, port=args.port)
    except ServeSettingsError as error:
        fail(str(error), EXIT_USAGE)
    raise AssertionError("unreachable")


def serve(
    dashboard: Dashboard, loaded: LoadedInstrument, settings: ServeSettings
) -> None:
    """Serve until SIGINT or SIGTERM, then leave Kafka cleanly."""
    backend = Backend.start(loaded, downstream_settings())
    try:
        try:
            server = create_server(dashboard, backend, settings)
        except OSError as error:
            fail(f"cannot listen on {settings.address}:{settings.port}: {error}")
        server.start()
        loop = server.io_loop

        def stop(signum: int, _frame: object) -> None:
            logger.info("received %s, stopping", signal.Signals(signum).name)
            # Tornado's IOLoop is an AsyncIOLoop (since 5.0); its base class
            # is what create_server's type says.
            loop.asyncio_loop.call_soon_threadsafe(loop.stop)  # type: ignore[attr-defined]

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        logger.info(
            "%s dashboard for %s at http://%s:%d/",
            dashboard.title,
            loaded.name,
            settings.address,
            settings.port,
        )
        loop.start()
        server.stop()
    finally:
        backend.stop()


def main(dashboard: Dashboard, argv: Sequence[str] | None = None) -> None:
    args = dashboard_parser(dashboard).parse_args(argv)
    configure_logging(args.log_level)

    def run() -> None:
        loaded = instrument_from_args(args)
        serve(dashboard, loaded, settings_from_args(dashboard, args))

    run_cli(run)
