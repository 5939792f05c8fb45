"""``python -m ess.livedata.dashboard.<name>``: one-line errors, page, clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from ess.livedata.dashboard.wsgi import DashboardApplication


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ess.livedata.dashboard.monitors", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    ("args", "env", "message", "code"),
    [
        (["--instrument", "nope"], {}, "unknown instrument 'nope'", 2),
        ([], {"LIVEDATA_INSTRUMENT": ""}, "no instrument given", 2),
        (["--instrument", "dummy", "--port", "70000"], {}, "--port must be", 2),
        (
            ["--instrument", "dummy"],
            {"KAFKA2_BOOTSTRAP_SERVERS": "not a server"},
            "KAFKA2_BOOTSTRAP_SERVERS is invalid",
            1,
        ),
    ],
)
def test_expected_failures_are_one_line(args, env, message, code):
    result = run(*args, env=env)
    assert result.returncode == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]


def test_port_in_use_is_one_line(kafka_broker):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(
            "--instrument",
            "dummy",
            "--port",
            str(port),
            env={"KAFKA2_BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers},
        )
    assert result.returncode == 1
    assert f"error: cannot listen on 127.0.0.1:{port}" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serves_and_stops_cleanly(kafka_broker, tmp_path, stop):
    """The page is served; SIGINT and SIGTERM both end with 0."""
    port = unused_port()
    log = tmp_path / "dashboard.log"
    env = {**os.environ, "KAFKA2_BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers}
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ess.livedata.dashboard.monitors",
                "--instrument",
                "dummy",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 60
        page = ""
        while not page:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
                    page = response.read().decode()
            except OSError:
                time.sleep(0.3)
        # The document itself comes over the websocket; the browser tests
        # check what it shows.
        assert "<title>livedata dummy: Monitors</title>" in page
    finally:
        process.send_signal(stop)
        code = process.wait(30)
    assert code == 0, log.read_text()


def test_wsgi_application_explains_itself_to_other_servers():
    started = []
    body = b"".join(DashboardApplication("monitors")({}, lambda *a: started.append(a)))
    assert started[0][0].startswith("500")
    assert b"DashboardWorker" in body
    assert b"python -m ess.livedata.dashboard.monitors" in body


def test_wsgi_modules_name_their_dashboards():
    from ess.livedata.dashboard import detectors_wsgi, monitors_wsgi, reduction_wsgi

    assert monitors_wsgi.application.load().name == "monitors"
    assert detectors_wsgi.application.load().name == "detectors"
    assert reduction_wsgi.application.load().name == "reduction"
