"""``--sink png`` beside the Kafka-sink instance of the same service."""

from __future__ import annotations

import re
import time

from conftest import wait_until_consuming
from monitor_e2e_test import run_fake

SERVICE = "monitor_data"
WORKFLOW = "monitor_histogram"
PARTITIONS = 2  # the data topic and the command topic


def wait_until_png_consuming(program, partitions: int) -> None:
    """Its heartbeats go to its log: wait for one with the partitions assigned."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assigned = re.findall(r'"assigned_partitions":(\d+)', program.log())
        if assigned and int(assigned[-1]) >= partitions:
            return
        time.sleep(0.5)
    raise AssertionError(f"png instance never consumed:\n{program.log_tail()}")


def test_png_instance_and_kafka_instance_both_receive_all_data(start, reader, tmp_path):
    png_dir = tmp_path / "png"
    kafka = start(SERVICE, "--dev")
    png = start(SERVICE, "--dev", "--sink", "png", "--png-dir", str(png_dir))
    wait_until_consuming(reader, SERVICE, partitions=PARTITIONS)
    wait_until_png_consuming(png, PARTITIONS)

    run_fake(start, pulses=20, seed=5)
    for monitor in ("monitor1", "monitor2"):
        reader.wait_for(
            lambda m=monitor: reader.latest(f"{WORKFLOW}/{m}/cumulative") is not None,
            timeout=30,
            what=f"{monitor} from the Kafka instance",
        )
        latest = png_dir / WORKFLOW / monitor / "cumulative" / "latest.png"
        deadline = time.monotonic() + 30
        while not latest.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert latest.exists(), png.log_tail()
    assert png.stop() == 0, png.log()
    assert kafka.stop() == 0, kafka.log()
