import json

from confluent_kafka import KafkaError

from ess.livedata.core.commands import (
    CommandResponse,
    Reset,
    ResponseStatus,
    SetToaBinning,
)
from ess.livedata.dashboard.commands import RESPONSE_TIMEOUT_S, Outcome, describe


def test_sent_command_is_the_documented_envelope(backend, producer):
    body = SetToaBinning(target="monitor1", toa_min=1, toa_max=2, bins=3)
    command_id = backend.sender.send("monitor_data", body)
    ((topic, payload, _),) = producer.produced
    assert topic == "dummy_livedata_commands"
    assert json.loads(payload) == {
        "command_id": command_id,
        "service": "monitor_data",
        "body": {
            "target": "monitor1",
            "action": "set_toa_binning",
            "toa_min": 1.0,
            "toa_max": 2.0,
            "bins": 3,
            "unit": "ms",
        },
    }


def test_target_none_is_left_out(backend, producer):
    backend.sender.send("monitor_data", Reset())
    body = json.loads(producer.produced[0][1])["body"]
    assert body == {"action": "reset"}


def test_outcomes_over_time(backend, store, clock):
    command_id = backend.sender.send("monitor_data", Reset())
    record = store.command(command_id)
    assert describe(record, clock.now).outcome is Outcome.PENDING
    late = describe(record, clock.now + RESPONSE_TIMEOUT_S + 1)
    assert late.outcome is Outcome.UNANSWERED
    assert "monitor_data" in late.text
    store.put_response(
        CommandResponse(
            command_id=command_id,
            service="monitor_data",
            status=ResponseStatus.REJECTED,
            reason="unknown monitor 'x'",
        )
    )
    rejected = describe(store.command(command_id), clock.now)
    assert rejected.outcome is Outcome.REJECTED
    assert "unknown monitor 'x'" in rejected.text


def test_accepted(backend, store, clock):
    command_id = backend.sender.send("monitor_data", Reset())
    store.put_response(
        CommandResponse(
            command_id=command_id, service="monitor_data", status="accepted"
        )
    )
    assert describe(store.command(command_id), clock.now).outcome is Outcome.ACCEPTED


def test_delivery_failure_is_reported(backend, store, producer, clock):
    producer.fail = KafkaError(KafkaError._MSG_TIMED_OUT)
    command_id = backend.sender.send("monitor_data", Reset())
    outcome = describe(store.command(command_id), clock.now)
    assert outcome.outcome is Outcome.UNDELIVERED
    assert "not delivered" in outcome.text
