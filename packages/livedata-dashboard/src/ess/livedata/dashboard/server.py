"""The Panel (Bokeh/Tornado) server of a dashboard, on its own or gunicorn's sockets."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import panel as pn
from bokeh.server import server as bokeh_server
from bokeh.server.server import Server

from .backend import Backend
from .page import Page, session_factory
from .serve_settings import ServeSettings


@dataclass(frozen=True)
class Dashboard:
    """One kind of dashboard.

    Parameters
    ----------
    name:
        ``monitors``, ``detectors`` or ``reduction``; selects the default port.
    title:
        Shown in the browser tab and the page header.
    build:
        Builds one session's page from the process's backend.
    """

    name: str
    title: str
    build: Callable[[Backend], Page]


@contextlib.contextmanager
def _bind_to(sockets: Sequence[socket.socket]) -> Iterator[None]:
    """Make Bokeh's Server take ``sockets`` instead of binding its own.

    ``bokeh.server.server.Server`` binds through the module's
    ``bind_sockets(address, port)``; handing it sockets that gunicorn already
    listens on keeps everything else (origins, prefixes, Panel's handlers)
    exactly as for a server that bound them itself.
    """
    original = bokeh_server.bind_sockets
    bound = sockets[0].getsockname()[1]
    bokeh_server.bind_sockets = lambda address, port: (list(sockets), bound)
    try:
        yield
    finally:
        bokeh_server.bind_sockets = original


def create_server(
    dashboard: Dashboard,
    backend: Backend,
    settings: ServeSettings,
    sockets: Sequence[socket.socket] = (),
) -> Server:
    """A server for ``dashboard``, not yet started.

    Parameters
    ----------
    sockets:
        Listening sockets to serve on (gunicorn's); when empty the server
        binds ``settings.address:settings.port`` itself.

    Raises
    ------
    OSError
        The address cannot be bound, e.g. the port is in use.
    """
    kwargs = {
        "port": settings.port,
        "address": settings.address,
        "websocket_origin": settings.websocket_origins(),
        "title": f"livedata {backend.loaded.name}: {dashboard.title}",
        "show": False,
        "start": False,
        "verbose": False,
    }
    apps = {"/": session_factory(dashboard.build, backend)}
    if not sockets:
        return pn.serve(apps, **kwargs)
    with _bind_to(sockets):
        return pn.serve(apps, **kwargs)
