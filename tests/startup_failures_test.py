"""Every program's start-up faults: one line naming the variable, exit != 0.

A broker that is not listening, or whose name does not resolve (the default
``kafka-staging:9092`` of ``LIVEDATA_ENV=staging`` and ``kafka:9092`` of
``production``), and bad ``LIVEDATA_*`` values end services (with and without
``--dev``), fakes, dashboards (development mode and gunicorn) and the demo
with one ``error:`` line on stderr and no traceback. Each program waits at
most ``STARTUP_TIMEOUT_S`` for a broker; the subprocess timeout below only
guards against a hang.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from browser_helpers import unused_port

pytestmark = pytest.mark.slow

HANG_GUARD_S = 120
BIN = Path(sys.executable).parent
LIVE = "<live broker>"
"""Placeholder for the session broker's address, filled in by the test."""


DEAD = f"127.0.0.1:{unused_port()}"


@dataclass(frozen=True)
class Case:
    argv: list[str]
    env: dict[str, str]
    names: tuple[str, ...]
    """What the one line must name: the variable and its value."""
    code: int = 1
    extra_stderr: bool = field(default=False)
    """gunicorn logs its own lines around the worker's one error line."""


def module(name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", name, "--instrument", "dummy", *args]


def service(name: str, *args: str) -> list[str]:
    return module(f"ess.livedata.services.{name}", *args)


def gunicorn() -> list[str]:
    """The gunicorn command on a port of its own: the cases run side by side."""
    return [
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{unused_port()}",
        "ess.livedata.dashboard.monitors_wsgi:application",
    ]


UNREACHABLE = ("KAFKA_BOOTSTRAP_SERVERS", DEAD)
UNREACHABLE2 = ("KAFKA2_BOOTSTRAP_SERVERS", DEAD)
DEAD_UP = {"KAFKA_BOOTSTRAP_SERVERS": DEAD}
DEAD_DOWN = {"KAFKA_BOOTSTRAP_SERVERS": LIVE, "KAFKA2_BOOTSTRAP_SERVERS": DEAD}

CASES = {
    "monitor_data": Case(service("monitor_data"), DEAD_UP, UNREACHABLE),
    "detector_data --dev": Case(
        service("detector_data", "--dev"), DEAD_UP, UNREACHABLE
    ),
    "timeseries --dev, downstream dead": Case(
        service("timeseries", "--dev"), DEAD_DOWN, UNREACHABLE2
    ),
    "data_reduction, staging": Case(
        service("data_reduction"),
        {"LIVEDATA_ENV": "staging"},
        ("KAFKA_BOOTSTRAP_SERVERS", "kafka-staging:9092", "resolve"),
    ),
    "monitor_data --dev, production": Case(
        service("monitor_data", "--dev"),
        {"LIVEDATA_ENV": "production"},
        ("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"),
    ),
    "fake_monitors": Case(service("fake_monitors"), DEAD_UP, UNREACHABLE),
    "fake_detectors": Case(service("fake_detectors"), DEAD_UP, UNREACHABLE),
    "fake_logdata, staging": Case(
        service("fake_logdata"),
        {"LIVEDATA_ENV": "staging"},
        ("KAFKA_BOOTSTRAP_SERVERS", "kafka-staging:9092"),
    ),
    "dashboard": Case(
        module("ess.livedata.dashboard.monitors", "--port", str(unused_port())),
        {"KAFKA2_BOOTSTRAP_SERVERS": DEAD},
        UNREACHABLE2,
    ),
    "dashboard under gunicorn": Case(
        gunicorn(),
        {"LIVEDATA_INSTRUMENT": "dummy", "KAFKA2_BOOTSTRAP_SERVERS": DEAD},
        UNREACHABLE2,
        code=3,  # gunicorn's "worker failed to boot": no restart loop
        extra_stderr=True,
    ),
    "demo": Case([str(BIN / "livedata"), "demo"], DEAD_UP, UNREACHABLE),
    "SASL to a PLAINTEXT listener": Case(
        service("monitor_data", "--dev"),
        {
            "KAFKA_BOOTSTRAP_SERVERS": LIVE,
            "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "KAFKA_SASL_MECHANISM": "PLAIN",
            "KAFKA_SASL_USERNAME": "alice",
            "KAFKA_SASL_PASSWORD": "alice-Pw-7f3a9c",
        },
        ("KAFKA_BOOTSTRAP_SERVERS", LIVE, "KAFKA_SECURITY_PROTOCOL", "SASL handshake"),
    ),
    "LIVEDATA_LOG_LEVEL=LOUD, service": Case(
        service("monitor_data"),
        {"LIVEDATA_LOG_LEVEL": "LOUD"},
        ("LIVEDATA_LOG_LEVEL",),
        2,
    ),
    "LIVEDATA_LOG_LEVEL=LOUD, fake": Case(
        service("fake_monitors"), {"LIVEDATA_LOG_LEVEL": "loud"}, ("LOUD",), 2
    ),
    "LIVEDATA_LOG_LEVEL=LOUD, gunicorn": Case(
        gunicorn(),
        {"LIVEDATA_INSTRUMENT": "dummy", "LIVEDATA_LOG_LEVEL": "LOUD"},
        ("LIVEDATA_LOG_LEVEL", "LOUD"),
        code=3,
        extra_stderr=True,
    ),
    "LIVEDATA_ENV=bogus": Case(
        service("detector_data"), {"LIVEDATA_ENV": "bogus"}, ("LIVEDATA_ENV", "bogus")
    ),
    "LIVEDATA_CACHE_DIR unusable, demo": Case(
        [str(BIN / "livedata"), "demo"],
        {"LIVEDATA_CACHE_DIR": "/proc/livedata-no-cache"},
        ("LIVEDATA_CACHE_DIR",),
    ),
    "LIVEDATA_INSTRUMENT unknown, gunicorn": Case(
        gunicorn(),
        {"LIVEDATA_INSTRUMENT": "nope"},
        ("unknown instrument 'nope'",),
        code=3,
        extra_stderr=True,
    ),
}


def clean_env() -> dict[str, str]:
    """The test's environment without any Kafka, livedata or gunicorn settings."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KAFKA", "LIVEDATA_", "GUNICORN"))
    }


@dataclass(frozen=True)
class Outcome:
    code: int | None
    """None: still running after ``HANG_GUARD_S``, then killed."""
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def outcomes(kafka_broker, tmp_path_factory) -> dict[str, Outcome]:
    """Every case's program, all started at once: most of them wait out a
    broker's timeout, which they can do side by side."""
    live = kafka_broker.bootstrap_servers
    started = {}
    for name, case in CASES.items():
        directory = tmp_path_factory.mktemp("case")
        env = clean_env() | {
            key: value.replace(LIVE, live) for key, value in case.env.items()
        }
        with open(directory / "out", "w") as out, open(directory / "err", "w") as err:
            process = subprocess.Popen(
                case.argv,
                cwd=directory,  # gunicorn reads ./gunicorn.conf.py if there is one
                env=env,
                stdout=out,
                stderr=err,
                text=True,
            )
        started[name] = (process, directory)
    deadline = time.monotonic() + HANG_GUARD_S
    outcomes = {}
    for name, (process, directory) in started.items():
        try:
            code = process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            code = None
        outcomes[name] = Outcome(
            code, (directory / "out").read_text(), (directory / "err").read_text()
        )
    return outcomes


@pytest.mark.parametrize("name", CASES)
def test_start_up_fault_is_one_line_naming_the_variable(name, outcomes, kafka_broker):
    case, result = CASES[name], outcomes[name]
    live = kafka_broker.bootstrap_servers
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.code == case.code, output
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, output
    if not case.extra_stderr:
        assert lines == errors, output
    for named in case.names:
        assert named.replace(LIVE, live) in errors[0], errors[0]
    assert "alice-Pw" not in output
