"""A gunicorn worker that serves a dashboard's Bokeh server on gunicorn's sockets.

gunicorn keeps what it is good at (binding, forking, restarting a dead
worker, signals, graceful stop); the worker runs Tornado, which carries the
websockets Bokeh needs and no WSGI worker can. The worker is also the
dashboard process: it owns the one Kafka consumer all its sessions share.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from types import FrameType

from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker
from tornado.ioloop import IOLoop, PeriodicCallback

from ess.livedata.config import ConfigError
from ess.livedata.core.cli import (
    configure_logging,
    env_log_level,
    instrument_from_args,
)
from ess.livedata.kafka.clients import require_brokers
from ess.livedata.kafka.settings import downstream_settings

from .backend import Backend
from .serve_settings import ServeSettings, ServeSettingsError, serve_settings
from .server import create_server
from .wsgi import DashboardApplication


def _settings(name: str, sockets: list[socket.socket]) -> ServeSettings:
    """Serve settings matching where gunicorn actually listens."""
    configured = serve_settings(name)
    tcp = [s.getsockname() for s in sockets if isinstance(s.getsockname(), tuple)]
    address, port = (tcp[0][0], tcp[0][1]) if tcp else (configured.address, 0)
    others = tuple(f"localhost:{p}" for _, p, *_ in tcp[1:])
    return ServeSettings(address, port, configured.allow_origin + others)


class DashboardWorker(Worker):
    """Runs the dashboard named by the loaded ``application`` until told to stop."""

    def run(self) -> None:
        application = self.wsgi
        if not isinstance(application, DashboardApplication):
            self.log.error(
                "%s serves only ess.livedata.dashboard.<name>_wsgi:application",
                type(self).__name__,
            )
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
        sockets = [getattr(s, "sock", s) for s in self.sockets]
        # Every start-up fault stops gunicorn (WORKER_BOOT_ERROR) with one
        # line: a restarted worker would fail the same way, forever.
        try:
            configure_logging(env_log_level())
            instrument = os.environ.get("LIVEDATA_INSTRUMENT")
            loaded = instrument_from_args(argparse.Namespace(instrument=instrument))
            kafka = downstream_settings()
            # Before Panel's import (seconds): a dead broker fails sooner.
            require_brokers(kafka)
            dashboard = application.load()
            settings = _settings(dashboard.name, sockets)
            backend = Backend.start(loaded, kafka)
        except SystemExit:  # one-line error already printed
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
        except (ConfigError, ServeSettingsError) as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
        except Exception:
            self.log.exception("cannot start the %s dashboard", application.name)
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
        try:
            for s in sockets:
                s.setblocking(False)
            server = create_server(dashboard, backend, settings, sockets)
            self._install_stop_signals()
            server.start()
            loop = IOLoop.current()
            PeriodicCallback(self._watch, 1000).start()
            self.log.info(
                "%s dashboard for %s on %s",
                dashboard.title,
                loaded.name,
                ", ".join(str(s.getsockname()) for s in sockets),
            )
            loop.start()
            server.stop()
        finally:
            backend.stop()

    def _install_stop_signals(self) -> None:
        # Panel installs its own SIGINT handler; gunicorn's arbiter sends
        # SIGTERM (graceful) or SIGQUIT/SIGINT (fast). All stop the loop
        # through _watch, so the Kafka consumer always leaves its group.
        for signum in (signal.SIGTERM, signal.SIGQUIT, signal.SIGINT):
            signal.signal(signum, self.handle_exit)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.alive = False

    def handle_quit(self, sig: int, frame: FrameType | None) -> None:
        self.alive = False

    def _watch(self) -> None:
        """gunicorn's liveness heartbeat; stop when asked or orphaned."""
        self.notify()
        if not self.alive or self.ppid != os.getppid():
            IOLoop.current().stop()
