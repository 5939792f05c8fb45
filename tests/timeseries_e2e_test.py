"""fake_logdata / hand-made f144 -> timeseries -> da00, through the real broker."""

from __future__ import annotations

import time
from itertools import takewhile

import matplotlib.image
import numpy as np
import pytest
import scipp as sc
from confluent_kafka import Producer
from conftest import (
    INSTRUMENT,
    job_command,
    response_to,
    wait_until_consuming,
    workflow_config,
)

from ess.livedata.core.payloads import EventBatch, LogSample
from ess.livedata.core.plugins import load_instrument
from ess.livedata.fake.logs import log_samples
from ess.livedata.kafka.schemas.ev44 import encode_ev44
from ess.livedata.kafka.schemas.f144 import encode_f144
from ess.livedata.protocol import LogLedger, ResponseKind

SERVICE = "timeseries"
WORKFLOW = "timeseries_data"
TOPIC = f"{INSTRUMENT}_motion"  # dev topology: every log on one topic
S = 1_000_000_000
LOGS = load_instrument(INSTRUMENT).instrument.logs


def produced(seed: int, start_ns: int, seconds: int) -> dict[str, list[LogSample]]:
    """Regenerate what fake_logdata sent: same seed, same start."""
    samples = takewhile(
        lambda item: item[1].time < start_ns + seconds * S,
        log_samples(LOGS, seed, start_ns),
    )
    by_name: dict[str, list[LogSample]] = {log.name: [] for log in LOGS}
    for log, sample in samples:
        by_name[log.name].append(sample)
    return by_name


def times(data: sc.DataArray) -> list[int]:
    return data.coords["time"].values.astype(np.int64).tolist()


def history(reader, name: str) -> sc.DataArray | None:
    return reader.latest(f"{WORKFLOW}/{name}/history")


def wait_for_points(reader, name: str, expected_times: list[int]) -> sc.DataArray:
    def found():
        data = history(reader, name)
        # A tuple, because a DataArray has no truth value.
        return (data,) if data is not None and times(data) == expected_times else ()

    [data] = reader.wait_for(
        found, what=f"{name} history with {len(expected_times)} points"
    )
    return data


def wait_for_ledger(reader, name: str, received: int) -> LogLedger:
    return reader.wait_for(
        lambda: (
            (report := reader.latest_report(SERVICE)) is not None
            and name in report.details.ledger
            and report.details.ledger[name].received == received
            and report.details.ledger[name]
        ),
        what=f"{name} ledger to count {received} samples",
    )


def next_second() -> int:
    return (time.time_ns() // S + 1) * S


def test_fake_logdata_arrives_unchanged_in_order_with_units(start, reader):
    start(SERVICE, "--dev")
    wait_until_consuming(reader, SERVICE, partitions=2)
    seconds, seed = 4, 21
    fake = start("fake_logdata", "--seconds", str(seconds), "--seed", str(seed))
    assert fake.wait(timeout=60) == 0, fake.log()

    reader.wait_for(
        lambda: all(history(reader, log.name) is not None for log in LOGS),
        what="a history of every log stream",
    )
    start_ns = min(times(history(reader, log.name))[0] for log in LOGS)
    expected = produced(seed, start_ns, seconds)
    for log in LOGS:
        samples = expected[log.name]
        data = wait_for_points(reader, log.name, [s.time for s in samples])
        np.testing.assert_array_equal(data.values, [s.value for s in samples])
        assert data.unit == (None if log.unit is None else sc.Unit(log.unit))
        latest = reader.latest(f"{WORKFLOW}/{log.name}/latest")
        assert latest.ndim == 0
        assert latest.value == samples[-1].value
        assert latest.coords["time"].value == np.datetime64(samples[-1].time, "ns")
        assert latest.coords["end_time"].value > latest.coords["time"].value
        ledger = wait_for_ledger(reader, log.name, len(samples))
        assert ledger.stored == ledger.points == len(samples)
        assert ledger.balanced
    assert len(expected["motor_x"]) >= seconds
    assert len(expected["temperature"]) == seconds


def test_disorder_duplicates_and_bad_input_leave_good_output_unchanged(
    start, reader, bootstrap
):
    start(SERVICE, "--dev")
    wait_until_consuming(reader, SERVICE, partitions=2)
    base = next_second()
    step = S // 10
    motor = [(base + k * step, float(k)) for k in range(10)]
    # A wrong value first at 3 and 5: the later, correct one must win.
    duplicates = [(motor[3][0], -3.0), (motor[5][0], -5.0)]
    sent_motor = [motor[k] for k in (0, 1)] + duplicates[:1] + [motor[4]]
    sent_motor += duplicates[1:] + [motor[k] for k in (2, 3, 5, 9, 6, 8, 7)]
    temperature = [(base, 295.0), (base + step, float("nan")), (base + 2 * step, 296.0)]
    arrays = [(base + 3 * step, np.array([1.0, 2.0])), (base + 4 * step, np.ones(2))]
    truncated = encode_f144("motor_x", LogSample(base, 1.0))[:30]
    batch = EventBatch(
        reference_time=np.array([base], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=np.array([1], dtype=np.int32),
        pixel_id=np.empty(0, dtype=np.int32),
    )
    bad = [
        b"garbage that is no flatbuffer",
        b"",
        truncated,
        encode_ev44("motor_x", batch),
        encode_f144("no_such_log", LogSample(base, 1.0)),
    ]

    producer = Producer({"bootstrap.servers": bootstrap})
    for t, value in sent_motor:
        producer.produce(TOPIC, encode_f144("motor_x", LogSample(t, value)))
        producer.produce(TOPIC, bad[t // step % len(bad)])
    for t, value in temperature + arrays:
        producer.produce(TOPIC, encode_f144("temperature", LogSample(t, value)))
    producer.flush(10)

    data = wait_for_points(reader, "motor_x", [t for t, _ in motor])
    assert data.values.tolist() == [v for _, v in motor]
    ledger = wait_for_ledger(reader, "motor_x", len(motor) + len(duplicates))
    assert ledger.stored == len(motor)
    assert ledger.duplicates_replaced == len(duplicates)
    assert ledger.out_of_order == 4  # 2, 6, 8 and 7 arrived after a later one
    assert ledger.rejected == 0
    assert ledger.balanced

    data = wait_for_points(reader, "temperature", [t for t, _ in temperature])
    np.testing.assert_array_equal(data.values, [v for _, v in temperature])
    ledger = wait_for_ledger(reader, "temperature", len(temperature) + len(arrays))
    assert ledger.rejected == len(arrays)
    assert ledger.nan == 1
    assert ledger.balanced
    status = reader.latest_report(SERVICE)
    assert "shape (2,)" in status.details.problems["temperature"]
    assert "motor_x" not in status.details.problems
    status = reader.wait_for(
        lambda: (
            (s := reader.latest_report(SERVICE))
            and s.counters.get("messages_rejected") == len(sent_motor)
            and s
        ),
        what="every bad payload counted",
    )
    per_reason = {k: v for k, v in status.counters.items() if k.startswith("rejected.")}
    assert sum(per_reason.values()) == len(sent_motor)
    assert status.counters["rejected.unknown source"] >= 1
    assert set(status.details.ledger) == {log.name for log in LOGS}


def test_window_drops_points_exactly_its_length_older_than_newest(
    start, reader, bootstrap, send_commands
):
    start(SERVICE, "--dev")
    wait_until_consuming(reader, SERVICE, partitions=2)
    caps = workflow_config(WORKFLOW, "motor_x", {"length_s": 2})
    accepted = response_to(reader, send_commands(caps))
    assert (accepted.response, accepted.device) == (ResponseKind.ACK, "motor_x")
    bad_caps = workflow_config(WORKFLOW, "temperature", {"max_points": 10**7})
    rejected = response_to(reader, send_commands(bad_caps))
    assert (rejected.response, rejected.device) == (ResponseKind.ERR, "temperature")
    assert "max_points" in rejected.message

    base = next_second()
    half = S // 2
    producer = Producer({"bootstrap.servers": bootstrap})
    for k in range(5):  # 0, 0.5, ..., 2 s: the first is exactly 2 s older
        sample = LogSample(base + k * half, float(k))
        producer.produce(TOPIC, encode_f144("motor_x", sample))
    producer.flush(10)
    data = wait_for_points(reader, "motor_x", [base + k * half for k in range(1, 5)])
    assert data.values.tolist() == [1.0, 2.0, 3.0, 4.0]
    ledger = wait_for_ledger(reader, "motor_x", 5)
    assert ledger.evicted == 1
    assert ledger.balanced
    caps_now = reader.latest_report(SERVICE).details.caps
    assert caps_now["motor_x"].length_s == 2.0
    assert caps_now["temperature"].length_s == 300.0

    reset = response_to(reader, send_commands(job_command("reset", workflow=WORKFLOW)))
    assert (reset.response, reset.device) == (ResponseKind.ACK, "all")
    producer.produce(TOPIC, encode_f144("motor_x", LogSample(base + 5 * half, 5.0)))
    producer.flush(10)
    data = wait_for_points(reader, "motor_x", [base + 5 * half])
    assert data.values.tolist() == [5.0]


def test_png_sink_plots_time_against_values(start, tmp_path):
    png_dir = tmp_path / "png"
    service = start(SERVICE, "--dev", "--sink", "png", "--png-dir", str(png_dir))
    # The service may take a few seconds to join its group; the fake runs longer.
    fake = start("fake_logdata", "--seconds", "10", "--seed", "3")
    assert fake.wait(timeout=60) == 0, fake.log()
    folder = png_dir / WORKFLOW / "motor_x" / "history"
    deadline = time.monotonic() + 30
    while not (folder / "latest.png").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert service.stop() == 0, service.log()
    image = matplotlib.image.imread(folder / "latest.png")
    assert image.shape == (450, 700, 4)
    colours = np.unique(image.reshape(-1, 4), axis=0)
    assert len(colours) > 20
    assert len(list(folder.glob("*Z.png"))) >= 1
    assert (png_dir / WORKFLOW / "motor_x" / "latest" / "latest.png").exists()
    assert "livedata_heartbeat:" in service.log()


@pytest.mark.parametrize("bad", [["--seconds", "-1"], ["--rate", "5"]])
def test_fake_logdata_refuses_bad_options(start, bad):
    fake = start("fake_logdata", *bad)
    assert fake.wait(timeout=30) == 2


def test_fake_logdata_stops_cleanly_on_ctrl_c(start):
    fake = start("fake_logdata")
    deadline = time.monotonic() + 30
    while "fake_logdata:" not in fake.log() and time.monotonic() < deadline:
        time.sleep(0.2)  # until the first rate line: it is producing
    assert fake.stop() == 0, fake.log()
    assert "Traceback" not in fake.log()
    assert "sent " in fake.log()
