"""Bad input interleaved with good data: good output unchanged, bad counted."""

from __future__ import annotations

import json
import time
import uuid

import numpy as np
import pytest
from confluent_kafka import Producer
from conftest import (
    INSTRUMENT,
    response_to,
    wait_until_consuming,
    workflow_config,
)

from ess.livedata.core.payloads import EventBatch, LogSample
from ess.livedata.kafka.livedata_topics import LivedataTopic
from ess.livedata.kafka.schemas.ev44 import encode_ev44
from ess.livedata.kafka.schemas.f144 import encode_f144
from ess.livedata.protocol import ResponseKind, encode_command

SERVICE = "monitor_data"
WORKFLOW = "monitor_histogram"
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
    start, reader, bootstrap, send_commands
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
    inverted = {"start": 5, "stop": 1, "num_bins": 10, "unit": "ms"}
    unparsable = [
        b"{not json",
        json.dumps({"kind": "job_command", "action": "explode"}).encode(),
        json.dumps(
            {"command_id": "old", "service": SERVICE, "body": {"action": "reset"}}
        ).encode(),
    ]
    invalid = workflow_config(
        WORKFLOW, "monitor1", {"toa_edges": inverted}, message_id=str(uuid.uuid4())
    )
    for payload in [*unparsable, encode_command(invalid)]:
        producer.produce(LivedataTopic.COMMANDS.of(INSTRUMENT), payload)
    producer.flush(10)
    # A valid command after the bad ones is still answered; on monitor2,
    # which gets no data here, so monitor1's accumulation is untouched.
    ok = response_to(reader, send_commands(workflow_config(WORKFLOW, "monitor2")))
    assert (ok.response, ok.device) == (ResponseKind.ACK, "monitor2")

    def totals():
        report = reader.latest_report(SERVICE)
        data = reader.latest(f"{WORKFLOW}/monitor1/cumulative")
        if report is None or data is None:
            return None
        expected = pulses * len(good_toa)
        ledger = report.details.ledger.get("monitor1")
        done = report.counters.get("messages_rejected", 0) == pulses
        done = done and ledger is not None and ledger.received == expected
        return done and data.sum().value == expected and report

    report = reader.wait_for(totals, timeout=30, what="all messages processed")
    counters = report.counters
    per_reason = {k: v for k, v in counters.items() if k.startswith("rejected.")}
    assert sum(per_reason.values()) == pulses
    assert counters["rejected.unknown source"] == pytest.approx(
        pulses / len(bad_data), abs=1
    )
    assert report.details.commands_rejected == len(unparsable) + 1
    ledger = report.details.ledger["monitor1"]
    assert ledger.received == ledger.counted == pulses * len(good_toa)
    assert "monitor9" not in report.details.ledger
    # Only the command in the protocol's form is answered: ERR, with why.
    (refused,) = [r for r in reader.responses if r.response is ResponseKind.ERR]
    assert (refused.message_id, refused.device) == (invalid.message_id, "monitor1")
    assert "stop must be greater than start" in refused.message
