"""The ``application`` objects that ``<name>_wsgi`` modules give gunicorn.

A Bokeh dashboard needs websockets, which WSGI cannot carry. The object is
therefore what :class:`~.gunicorn_worker.DashboardWorker` serves (it names
the dashboard; the worker runs its Tornado server on gunicorn's sockets),
and, as a WSGI callable, a page that explains the setup to anyone serving it
with another worker. Importing it is cheap: Panel loads only in the worker.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .gunicorn_defaults import WORKER_CLASS
from .serve_settings import DEFAULT_PORTS

if TYPE_CHECKING:
    from .server import Dashboard

StartResponse = Callable[..., Any]


class DashboardApplication:
    """A dashboard as gunicorn's application.

    Parameters
    ----------
    name:
        ``monitors``, ``detectors`` or ``reduction``: the module
        ``ess.livedata.dashboard.<name>`` whose ``DASHBOARD`` is served.
    """

    def __init__(self, name: str) -> None:
        if name not in DEFAULT_PORTS:
            raise ValueError(f"unknown dashboard {name!r}")
        self.name = name

    def load(self) -> Dashboard:
        """The dashboard definition; imports Panel and HoloViews."""
        return importlib.import_module(f"ess.livedata.dashboard.{self.name}").DASHBOARD

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        body = (
            f"The livedata {self.name} dashboard needs websockets, which WSGI "
            f"workers cannot serve. Run it with gunicorn's worker class "
            f"{WORKER_CLASS} (the default for the bare command "
            f"'gunicorn ess.livedata.dashboard.{self.name}_wsgi:application'), "
            f"or with 'python -m ess.livedata.dashboard.{self.name}'.\n"
        ).encode()
        start_response(
            "500 Internal Server Error",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]
