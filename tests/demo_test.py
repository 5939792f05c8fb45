"""``livedata demo``: starts what a profile needs and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest


def test_demo_runs_monitor_profile_and_stops_cleanly_on_sigterm(kafka_broker, tmp_path):
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers}
    env.pop("KAFKA2_BOOTSTRAP_SERVERS", None)
    out = tmp_path / "demo.out"
    with out.open("w") as stream:
        demo = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ess.livedata.demo",
                "--instrument",
                "dummy",
                "--profile",
                "monitor",
                "--log-dir",
                str(tmp_path / "logs"),
            ],
            stdout=stream,
            stderr=subprocess.STDOUT,
            env=env,
        )
        children: set[int] = set()
        deadline = time.monotonic() + 90
        text = ""
        while time.monotonic() < deadline:
            children |= {
                c.pid for c in psutil.Process(demo.pid).children(recursive=True)
            }
            text = out.read_text()
            if "monitor_data     running" in text and "ev/s" in text:
                break
            time.sleep(0.5)
        assert "monitor_data     running" in text, text
        assert "starting a local Kafka broker" not in text
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(60) == 0, out.read_text()
    assert "all stopped" in out.read_text()
    assert {"fake_monitors.log", "monitor_data.log"} <= {
        p.name for p in (tmp_path / "logs").iterdir()
    }
    assert alive(children) == []


def demo_command() -> list[str]:
    return [sys.executable, "-m", "ess.livedata.demo", "--profile", "monitor"]


def without_kafka_variables(tmp: Path) -> dict[str, str]:
    """The demo starts its own broker; its temp files go under ``tmp``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA")}
    return {**env, "TMPDIR": str(tmp)}


def wait_until_running(pid: int, out: Path) -> set[int]:
    """Wait for the demo's summary; returns its descendants seen meanwhile."""
    children: set[int] = set()
    deadline = time.monotonic() + 120
    text = ""
    while time.monotonic() < deadline:
        children |= {c.pid for c in psutil.Process(pid).children(recursive=True)}
        text = out.read_text()
        if "monitor_data     running" in text:
            return children
        time.sleep(0.5)
    raise AssertionError(f"demo never ran monitor_data:\n{text}")


def alive(pids: set[int]) -> list[int]:
    result = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                result.append(pid)
        except psutil.NoSuchProcess:
            pass
    return result


def wait_until_gone(pids: set[int]) -> list[int]:
    """The processes of ``pids`` still alive after a bounded wait."""
    deadline = time.monotonic() + 60
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive(pids)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_demo_removes_its_broker_data_when_signalled(tmp_path, sig):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "demo.out"
    with out.open("w") as stream:
        demo = subprocess.Popen(
            demo_command(),
            stdout=stream,
            stderr=subprocess.STDOUT,
            env=without_kafka_variables(tmp),
        )
        children = wait_until_running(demo.pid, out)
        assert list(tmp.glob("livedata-demo-*/broker/kraft-logs"))  # data exists
        demo.send_signal(sig)
        assert demo.wait(120) == 0, out.read_text()
    assert wait_until_gone(children) == []
    assert "all stopped" in out.read_text()
    assert list(tmp.glob("livedata-demo-*/broker")) == []
    assert list(tmp.glob("livedata-kafka-*")) == []


def test_demo_stops_cleanly_when_its_parent_is_killed(tmp_path):
    """As when nox, which started it, gets SIGKILL."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "demo.out"
    launcher = "import subprocess, sys; subprocess.Popen(sys.argv[1:]).wait()"
    with out.open("w") as stream:
        parent = subprocess.Popen(
            [sys.executable, "-c", launcher, *demo_command()],
            stdout=stream,
            stderr=subprocess.STDOUT,
            env=without_kafka_variables(tmp),
        )
        children = wait_until_running(parent.pid, out)
        parent.kill()
        assert parent.wait(10) == -signal.SIGKILL
    assert wait_until_gone(children) == [], out.read_text()
    assert "all stopped" in out.read_text()
    assert list(tmp.glob("livedata-demo-*/broker")) == []


def test_data_of_a_killed_demo_is_removed_by_the_next_start(kafka_broker, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "demo.out"
    with out.open("w") as stream:
        demo = subprocess.Popen(
            demo_command(),
            stdout=stream,
            stderr=subprocess.STDOUT,
            env=without_kafka_variables(tmp),
        )
        children = wait_until_running(demo.pid, out)
        demo.kill()
        assert demo.wait(10) == -signal.SIGKILL
    # Its children die with it (the kernel's parent-death signal) ...
    assert wait_until_gone(children) == []
    # ... but it could not delete the broker's data.
    left = [p.parent for p in tmp.glob("livedata-demo-*/broker")]
    assert len(left) == 1
    # The next demo (here on the session's broker, briefly) removes it.
    env = {
        **without_kafka_variables(tmp),
        "KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers,
    }
    result = subprocess.run(
        [*demo_command(), "--duration", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"removed {left[0]}, left by a demo that was killed" in result.stdout
    assert not left[0].exists()
    assert list(tmp.glob("livedata-demo-*/broker")) == []
