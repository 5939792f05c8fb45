"""A dashboard that loses its broker logs a few lines a minute, not a flood.

librdkafka reports a lost broker several times a second per client; it used
to reach the dashboard's log as about 18 ERROR lines a second. The outage is
logged once (the broker watch), and any fault that repeats is limited to a
line per cause every 10 s (the rate-limiting log filter). A dashboard whose
broker is unreachable at start-up exits instead (startup_failures_test), so
this one starts with a private broker that is then stopped.
"""

from __future__ import annotations

import socket
import time

import pytest
from conftest import INSTRUMENT, private_broker

from ess.livedata.testing.processes import Program

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

WATCH_S = 30
MAX_LINES = 5
"""Lines allowed in WATCH_S: the outage's warning plus a few limited repeats."""


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_log(program: Program, text: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in program.log():
        assert program.running(), program.log()
        assert time.monotonic() < deadline, f"no {text!r} in:\n{program.log()}"
        time.sleep(0.5)


def test_dashboard_without_its_broker_logs_a_few_lines(tmp_path):
    with private_broker(tmp_path / "kafka") as broker:
        dashboard = Program(
            "ess.livedata.dashboard.monitors",
            ["--instrument", INSTRUMENT, "--port", str(unused_port())],
            bootstrap_servers=broker.bootstrap_servers,
            log_dir=tmp_path,
        )
        try:
            wait_for_log(dashboard, "Monitors dashboard for dummy at http")
            before = len(dashboard.log().splitlines())
            broker.stop()
            wait_for_log(dashboard, "lost connection to Kafka")
            time.sleep(WATCH_S)
            assert dashboard.running(), dashboard.log()
            lines = dashboard.log().splitlines()[before:]
        finally:
            code = dashboard.stop()
    assert code == 0, dashboard.log()
    assert len(lines) <= MAX_LINES, "\n".join(lines)
