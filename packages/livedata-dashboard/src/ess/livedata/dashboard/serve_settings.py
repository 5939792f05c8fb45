"""Where a dashboard listens: its port, bind address and allowed origins.

Imported by the gunicorn start-up hook, so it imports nothing heavy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_PORTS = {"monitors": 5007, "detectors": 5008, "reduction": 5009}
"""The ports the user guide gives for each dashboard."""

ADDRESS_ENV = "LIVEDATA_DASHBOARD_ADDRESS"
PORT_ENV = "LIVEDATA_DASHBOARD_PORT"
ORIGIN_ENV = "LIVEDATA_DASHBOARD_ALLOW_ORIGIN"
DEFAULT_ADDRESS = "127.0.0.1"


class ServeSettingsError(ValueError):
    """An invalid address, port or origin setting."""


@dataclass(frozen=True)
class ServeSettings:
    """Bind address and port of one dashboard, and extra websocket origins.

    Bokeh refuses websocket connections from pages whose host it does not
    know; ``localhost`` and ``127.0.0.1`` on the port are always allowed, a
    dashboard reached under another name needs it in ``allow_origin``.
    """

    address: str
    port: int
    allow_origin: tuple[str, ...] = ()

    def websocket_origins(self) -> list[str]:
        local = [f"localhost:{self.port}", f"127.0.0.1:{self.port}"]
        return local + [o for o in self.allow_origin if o not in local]


def _port(text: str, source: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise ServeSettingsError(
            f"{source} must be a port number, got {text!r}"
        ) from None
    if not 0 < port < 65536:
        raise ServeSettingsError(f"{source} must be within 1..65535, got {port}")
    return port


def serve_settings(
    dashboard: str,
    environ: Mapping[str, str] = os.environ,
    *,
    address: str | None = None,
    port: int | None = None,
) -> ServeSettings:
    """Settings from arguments, else ``LIVEDATA_DASHBOARD_*``, else defaults.

    Raises
    ------
    ServeSettingsError
        A port that is not a number in 1..65535.
    """
    if port is None:
        port = (
            _port(environ[PORT_ENV], PORT_ENV)
            if environ.get(PORT_ENV)
            else DEFAULT_PORTS[dashboard]
        )
    else:
        port = _port(str(port), "--port")
    origins = tuple(
        o.strip() for o in environ.get(ORIGIN_ENV, "").split(",") if o.strip()
    )
    return ServeSettings(
        address=address or environ.get(ADDRESS_ENV) or DEFAULT_ADDRESS,
        port=port,
        allow_origin=origins,
    )
