"""Defaults that make ``gunicorn ess.livedata.dashboard.<name>_wsgi:application`` work.

gunicorn binds its socket before it imports the application, and reads its
configuration only from the command line, ``GUNICORN_CMD_ARGS`` and
``./gunicorn.conf.py``. The user guide's bare command sets none of them, so
gunicorn would listen on 127.0.0.1:8000 with workers that cannot serve
websockets. The ``livedata_dashboard_gunicorn.pth`` file installed with this
distribution calls :func:`apply` when a Python process starts as gunicorn;
for one of the dashboard applications it fills in, through
``GUNICORN_CMD_ARGS``, the settings the user did not give: the dashboard's
port, one worker, and :class:`~.gunicorn_worker.DashboardWorker`. Anything
given explicitly wins, and a gunicorn configuration file turns this off
(see ADR 0003).

Must stay cheap and must never raise: it runs during interpreter start-up.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .serve_settings import DEFAULT_PORTS, ServeSettingsError, serve_settings

if TYPE_CHECKING:
    from gunicorn.config import Config

WORKER_CLASS = "ess.livedata.dashboard.gunicorn_worker.DashboardWorker"
CMD_ARGS_ENV = "GUNICORN_CMD_ARGS"
APPLICATIONS = {
    f"ess.livedata.dashboard.{name}_wsgi:application": name for name in DEFAULT_PORTS
}


def gunicorn_arguments(orig_argv: Sequence[str]) -> list[str] | None:
    """Arguments after ``gunicorn`` (console script or ``-m gunicorn``), if any.

    Only the program position is looked at (after the interpreter and its
    options), so a gunicorn in some other program's arguments does not count.
    """
    args = list(orig_argv[1:])
    while args and args[0].startswith("-") and args[0] not in ("-m", "-c"):
        args.pop(0)
    if args[:2] == ["-m", "gunicorn"]:
        return args[2:]
    if args and Path(args[0]).name == "gunicorn":
        return args[1:]
    return None


def _explicit_settings(config: Config, args: Sequence[str]) -> set[str] | None:
    """gunicorn settings named in ``args``; None if gunicorn would reject them."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            parsed = config.parser().parse_args(list(args))
    except SystemExit:
        return None  # invalid or --help/--version: gunicorn itself will answer
    return {key for key, value in vars(parsed).items() if value is not None}


def _control_socket(config: Config, dashboard: str) -> list[str]:
    """A control socket of the dashboard's own (gunicorn >= 24 has one per user).

    Three dashboards started by one user would otherwise take the same
    ``gunicorn.ctl`` from each other.
    """
    setting = config.settings.get("control_socket")
    if setting is None or not setting.default:
        return []
    path = Path(setting.default).with_name(f"gunicorn-livedata-{dashboard}.ctl")
    return ["--control-socket", str(path)]


def default_arguments(
    args: Sequence[str], environ: Mapping[str, str], cwd: Path
) -> list[str]:
    """gunicorn options to add for a dashboard command line; empty for others."""
    dashboard = next((APPLICATIONS[a] for a in args if a in APPLICATIONS), None)
    if dashboard is None:
        return []
    from gunicorn.config import Config

    config = Config()
    cli = _explicit_settings(config, args)
    env = _explicit_settings(config, shlex.split(environ.get(CMD_ARGS_ENV, "")))
    if cli is None or env is None:
        return []
    given = cli | env
    if "config" in given or (cwd / "gunicorn.conf.py").is_file():
        return []  # a configuration file owns the configuration
    defaults: list[str] = []
    if "worker_class" not in given:
        defaults += ["--worker-class", WORKER_CLASS]
    if not given & {"control_socket", "control_socket_disable"}:
        defaults += _control_socket(config, dashboard)
    if "workers" not in given and "WEB_CONCURRENCY" not in environ:
        defaults += ["--workers", "1"]
    if "bind" not in given and "PORT" not in environ:
        try:
            settings = serve_settings(dashboard, environ)
        except ServeSettingsError:
            return defaults  # the worker reports the bad setting when it starts
        defaults += ["--bind", f"{settings.address}:{settings.port}"]
    return defaults


def apply(
    orig_argv: Sequence[str] | None = None,
    environ: MutableMapping[str, str] | None = None,
    cwd: Path | None = None,
) -> None:
    """Add the missing defaults to ``GUNICORN_CMD_ARGS`` of this process.

    Idempotent: defaults already added count as given the second time.
    """
    environ = os.environ if environ is None else environ
    try:
        args = gunicorn_arguments(sys.orig_argv if orig_argv is None else orig_argv)
        if args is None:
            return
        extra = default_arguments(args, environ, Path.cwd() if cwd is None else cwd)
    except Exception:
        return
    if extra:
        current = environ.get(CMD_ARGS_ENV, "")
        environ[CMD_ARGS_ENV] = f"{shlex.join(extra)} {current}".strip()
