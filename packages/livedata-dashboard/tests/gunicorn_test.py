"""The user guide's gunicorn commands, run exactly as written, all at once.

The session broker stands in for the deployment's: a dashboard whose broker
is unreachable at start-up stops gunicorn with one line instead (see
tests/startup_failures_test.py).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

DASHBOARDS = {"monitors": 5007, "detectors": 5008, "reduction": 5009}
TITLES = {"monitors": "Monitors", "detectors": "Detectors", "reduction": "Reduction"}

pytestmark = pytest.mark.slow


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def fetch(url: str, timeout_s: float, server: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"{url} not served in {timeout_s} s:\n{log.read_text()}")
            time.sleep(0.3)


async def bokeh_handshake(port: int, token: str) -> str:
    """Open the page's websocket like a browser does; returns the first message."""
    request = HTTPRequest(
        f"ws://127.0.0.1:{port}/ws", headers={"Origin": f"http://localhost:{port}"}
    )
    connection = await websocket_connect(request, subprotocols=["bokeh", token])
    try:
        return await connection.read_message()
    finally:
        connection.close()
        while await connection.read_message() is not None:
            pass  # the closing handshake ends with None; then the socket is shut


@pytest.fixture
def gunicorn_env(kafka_broker) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GUNICORN", "LIVEDATA_DASHBOARD"))
        and key not in ("PORT", "WEB_CONCURRENCY")
    }
    env["LIVEDATA_INSTRUMENT"] = "dummy"
    env["KAFKA2_BOOTSTRAP_SERVERS"] = kafka_broker.bootstrap_servers
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_all_three_gunicorn_commands_serve_their_dashboards(tmp_path, gunicorn_env):
    busy = [port for port in (*DASHBOARDS.values(), 8000) if port_in_use(port)]
    if busy:
        pytest.fail(f"ports {busy} are in use; the gunicorn test needs them free")
    servers: dict[str, tuple[subprocess.Popen, Path]] = {}
    try:
        for name in DASHBOARDS:
            log = tmp_path / f"gunicorn-{name}.log"
            with log.open("w") as out:
                # The user guide's command line, word for word.
                command = f"gunicorn ess.livedata.dashboard.{name}_wsgi:application"
                servers[name] = (
                    subprocess.Popen(
                        command.split(),
                        cwd=tmp_path,
                        env=gunicorn_env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    ),
                    log,
                )
        for name, port in DASHBOARDS.items():
            server, log = servers[name]
            page = fetch(f"http://127.0.0.1:{port}/", 60, server, log)
            assert f"<title>livedata dummy: {TITLES[name]}</title>" in page
            assert "static/js/bokeh.min.js" in page
            token = re.search(r'"token":"([^"]+)"', page).group(1)
            assert '"msgtype": "ACK"' in asyncio.run(bokeh_handshake(port, token))
            assert "Listening at: http://127.0.0.1:" + str(port) in log.read_text()
        assert not port_in_use(8000), "gunicorn also bound its default port"
    finally:
        processes = []
        for server, _ in servers.values():
            if server.poll() is None:
                processes += [psutil.Process(server.pid)]
                processes += processes[-1].children(recursive=True)
                server.send_signal(signal.SIGTERM)
        codes = {}
        for name, (server, log) in servers.items():
            try:
                codes[name] = server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                codes[name] = f"killed after 30 s:\n{log.read_text()}"
    assert codes == dict.fromkeys(DASHBOARDS, 0)
    _, alive = psutil.wait_procs(processes, timeout=10)
    assert alive == [], f"orphaned processes: {alive}"


def test_unknown_instrument_stops_gunicorn_with_one_line(tmp_path, gunicorn_env):
    """A worker that cannot start must not be restarted forever."""
    gunicorn_env["LIVEDATA_INSTRUMENT"] = "nope"
    result = subprocess.run(
        [
            "gunicorn",
            "--bind",
            f"127.0.0.1:{unused_port()}",
            "ess.livedata.dashboard.monitors_wsgi:application",
        ],
        cwd=tmp_path,
        env=gunicorn_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3  # gunicorn's "worker failed to boot"
    assert "error: unknown instrument 'nope'" in result.stderr
    assert result.stderr.count("Booting worker") == 1
