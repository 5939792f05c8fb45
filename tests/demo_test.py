"""``livedata demo``: starts what a profile needs and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil


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
    alive = [
        pid
        for pid in children
        if psutil.pid_exists(pid)
        and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]
    assert alive == []
