"""What the start-up hook adds to a gunicorn command line."""

import shlex
from pathlib import Path

import pytest

from ess.livedata.dashboard.gunicorn_defaults import (
    WORKER_CLASS,
    apply,
    default_arguments,
    gunicorn_arguments,
)

APP = "ess.livedata.dashboard.monitors_wsgi:application"


def settings(args: list[str]) -> dict[str, str]:
    """Option -> value of a defaults list (e.g. {'--bind': '127.0.0.1:5007'})."""
    return dict(zip(args[::2], args[1::2], strict=True))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/venv/bin/python", "/venv/bin/gunicorn", APP], [APP]),
        (["/venv/bin/python", "-m", "gunicorn", "-w", "2", APP], ["-w", "2", APP]),
        (["/venv/bin/python", "-m", "pytest", "gunicorn"], None),
        (["/venv/bin/python", "-u", "/venv/bin/gunicorn", APP], [APP]),
        (["/venv/bin/python", "script.py", "/bin/gunicorn"], None),
        (["/venv/bin/python", "-c", "gunicorn"], None),
    ],
)
def test_recognises_gunicorn_processes(argv, expected):
    assert gunicorn_arguments(argv) == expected


def test_bare_command_gets_port_worker_and_one_worker(tmp_path):
    added = settings(default_arguments([APP], {}, tmp_path))
    assert added["--bind"] == "127.0.0.1:5007"
    assert added["--worker-class"] == WORKER_CLASS
    assert added["--workers"] == "1"


@pytest.mark.parametrize(
    ("name", "port"), [("monitors", 5007), ("detectors", 5008), ("reduction", 5009)]
)
def test_each_dashboard_has_its_port(tmp_path, name, port):
    app = f"ess.livedata.dashboard.{name}_wsgi:application"
    assert settings(default_arguments([app], {}, tmp_path))["--bind"] == (
        f"127.0.0.1:{port}"
    )


def test_address_and_port_from_environment(tmp_path):
    environ = {
        "LIVEDATA_DASHBOARD_ADDRESS": "0.0.0.0",
        "LIVEDATA_DASHBOARD_PORT": "6000",
    }
    assert settings(default_arguments([APP], environ, tmp_path))["--bind"] == (
        "0.0.0.0:6000"
    )


@pytest.mark.parametrize(
    ("args", "environ", "absent"),
    [
        (["-b", "0.0.0.0:80", APP], {}, "--bind"),
        (["--bind=0.0.0.0:80", APP], {}, "--bind"),
        ([APP], {"PORT": "80"}, "--bind"),
        ([APP], {"GUNICORN_CMD_ARGS": "--bind 0.0.0.0:80"}, "--bind"),
        (["-w", "3", APP], {}, "--workers"),
        ([APP], {"WEB_CONCURRENCY": "3"}, "--workers"),
        (["-k", "sync", APP], {}, "--worker-class"),
    ],
)
def test_explicit_settings_win(tmp_path, args, environ, absent):
    added = settings(default_arguments(args, environ, tmp_path))
    assert absent not in added
    assert added  # the other defaults are still added


def test_configuration_file_or_other_app_or_bad_options_add_nothing(tmp_path):
    assert default_arguments(["-c", "my.conf.py", APP], {}, tmp_path) == []
    assert default_arguments(["--no-such-option", APP], {}, tmp_path) == []
    assert default_arguments(["other.module:app"], {}, tmp_path) == []
    (tmp_path / "gunicorn.conf.py").write_text("bind = '0.0.0.0:1'\n")
    assert default_arguments([APP], {}, tmp_path) == []


def test_apply_is_idempotent_and_keeps_user_arguments(tmp_path):
    environ = {"GUNICORN_CMD_ARGS": "--access-logfile -"}
    argv = ["python", "/venv/bin/gunicorn", APP]
    apply(argv, environ, tmp_path)
    once = environ["GUNICORN_CMD_ARGS"]
    apply(argv, environ, tmp_path)  # site-packages can be processed twice
    assert environ["GUNICORN_CMD_ARGS"] == once
    assert shlex.split(once)[-2:] == ["--access-logfile", "-"]
    assert "--bind" in once


def test_apply_never_raises(tmp_path):
    environ = {"LIVEDATA_DASHBOARD_PORT": "not-a-port"}
    apply(["python", "/venv/bin/gunicorn", APP], environ, tmp_path)
    assert "--bind" not in environ.get("GUNICORN_CMD_ARGS", "")
    apply(["python"], {}, Path("/nonexistent"))
