"""Bad input interleaved with good data: good output unchanged, bad counted."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from confluent_kafka import Producer
from conftest import response_to, wait_until_consuming

from ess.livedata.core.payloads import EventBatch, LogSample
from ess.livedata.kafka.schemas.ev44 import encode_ev44
from ess.livedata.kafka.schemas.f144 import encode_f144

SERVICE = "monitor_data"
TOPIC = "dummy_beam_monitor"
PULSE_NS = round(1e9 / 14)


def ev44(source: str, pulse: int, toa_ms: list[float]) -> bytes:
    batch = EventBatch(
        reference_time=np.array([pulse], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=(np.array(toa_ms) * 1e6).astype(np.int32),
        pixel_id=np.empty(0, dtype=np.int32),
    )
    return encode_ev44(source, batch)


def test_bad_messages_and_commands_are_counted_and_harmless(
    start, reader, bootstrap, send_command
):
    start(SERVICE, "--dev")
    wait_until_consuming(reader, SERVICE, partitions=2)
    producer = Producer({"bootstrap.servers": bootstrap})
    first = (time.time_ns() // PULSE_NS + 1) * PULSE_NS
    pulses = 28
    good_toa = [1.0, 10.0, 20.0, 30.0, 70.0]
    bad_data = {
        "garbage": b"\x00\x01garbage bytes that are no flatbuffer",
        "truncated": ev44("monitor1", first, good_toa)[:37],
        "wrong schema": encode_f144("monitor1", LogSample(first, 1.0)),
        "unknown source": ev44("monitor9", first, good_toa),
        "empty": b"",
    }
    for i in range(pulses):
        pulse = first + i * PULSE_NS
        producer.produce(TOPIC, ev44("monitor1", pulse, good_toa))
        producer.produce(TOPIC, list(bad_data.values())[i % len(bad_data)])
    producer.flush(10)
    bad_commands = [
        b"{not json",
        json.dumps({"service": SERVICE, "body": {"action": "explode"}}).encode(),
        json.dumps(
            {
                "service": SERVICE,
                "body": {
                    "action": "set_toa_binning",
                    "toa_min": 5,
                    "toa_max": 1,
                    "bins": 10,
                },
            }
        ).encode(),
    ]
    for payload in bad_commands:
        producer.produce("dummy_livedata_commands", payload)
    producer.flush(10)
    ok = response_to(reader, send_command(SERVICE, {"action": "start"}))
    assert ok["status"] == "accepted"

    def totals():
        status = reader.latest_status(SERVICE)
        data = reader.latest(f"{SERVICE}/monitor1/cumulative")
        if status is None or data is None:
            return None
        expected = pulses * len(good_toa)
        ledger = status.details["ledger"].get("monitor1", {})
        done = status.counters.get("messages_rejected", 0) == pulses
        done = done and ledger.get("received") == expected
        return done and data.sum().value == expected and status

    status = reader.wait_for(totals, timeout=30, what="all messages processed")
    counters = status.counters
    per_reason = {k: v for k, v in counters.items() if k.startswith("rejected.")}
    assert sum(per_reason.values()) == pulses
    assert counters["rejected.unknown source"] == pytest.approx(
        pulses / len(bad_data), abs=1
    )
    assert status.details["commands_rejected"] == len(bad_commands)
    ledger = status.details["ledger"]["monitor1"]
    assert ledger["received"] == ledger["counted"] == pulses * len(good_toa)
    assert "monitor9" not in status.details["ledger"]
    rejected = [r for r in reader.responses if r["status"] == "rejected"]
    assert len(rejected) == len(bad_commands)
