"""KafkaSource over a fake consumer: how it polls, decodes and counts."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import KafkaError

from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.kafka.schemas.errors import DecodeError
from ess.livedata.kafka.source import KafkaSource

_STREAM = StreamId(StreamKind.DETECTOR_EVENTS, "panel_0")


class Record:
    def __init__(self, payload: bytes = b"ok", error: KafkaError | None = None):
        self._payload = payload
        self._error = error

    def error(self) -> KafkaError | None:
        return self._error

    def topic(self) -> str:
        return "dummy_detector"

    def value(self) -> bytes:
        return self._payload

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_700_000_000_000)


class Consumer:
    """Hands out queued records like ``Consumer.consume`` and records each call.

    ``arriving`` records show up only once a call waits (timeout > 0), as
    records that reach the client while it blocks.
    """

    def __init__(self, queued: int = 0, arriving: int = 0) -> None:
        self.queued = [Record() for _ in range(queued)]
        self.arriving = [Record() for _ in range(arriving)]
        self.calls: list[tuple[int, float]] = []

    def consume(self, num_messages: int, timeout: float) -> list[Any]:
        self.calls.append((num_messages, timeout))
        if timeout > 0:
            self.queued += self.arriving
            self.arriving = []
        taken, self.queued = self.queued[:num_messages], self.queued[num_messages:]
        return taken


class Decoder:
    def decode(self, topic: str, payload: bytes, kafka_timestamp_ns: int) -> Message:
        if payload == b"bad":
            raise DecodeError("malformed ev44 payload", "test")
        return Message(kafka_timestamp_ns, _STREAM, payload)


def test_queued_records_are_taken_without_waiting() -> None:
    consumer = Consumer(queued=3)
    source = KafkaSource(consumer, Decoder(), batch_size=10, poll_timeout_s=0.5)
    assert len(source._poll()) == 3
    assert consumer.calls == [(10, 0)]


def test_empty_queue_waits_for_the_first_record_then_drains() -> None:
    consumer = Consumer(arriving=4)
    source = KafkaSource(consumer, Decoder(), batch_size=10, poll_timeout_s=0.5)
    assert len(source._poll()) == 4
    assert consumer.calls == [(10, 0), (1, 0.5), (9, 0)]


def test_batch_size_bounds_one_poll() -> None:
    consumer = Consumer(arriving=25)
    source = KafkaSource(consumer, Decoder(), batch_size=10, poll_timeout_s=0.5)
    assert len(source._poll()) == 10
    assert len(source._poll()) == 10
    assert consumer.calls[-1] == (10, 0)


def test_quiet_topic_waits_once_per_poll() -> None:
    consumer = Consumer()
    source = KafkaSource(consumer, Decoder(), batch_size=10, poll_timeout_s=0.5)
    assert source._poll() == []
    assert consumer.calls == [(10, 0), (1, 0.5)]


def test_zero_timeout_never_waits() -> None:
    consumer = Consumer(arriving=2)
    source = KafkaSource(consumer, Decoder(), batch_size=10, poll_timeout_s=0)
    assert source._poll() == []
    assert consumer.calls == [(10, 0)]


def test_batch_of_one_does_not_drain() -> None:
    consumer = Consumer(arriving=2)
    source = KafkaSource(consumer, Decoder(), batch_size=1, poll_timeout_s=0.5)
    assert len(source._poll()) == 1
    assert consumer.calls == [(1, 0), (1, 0.5)]


def test_messages_are_decoded_with_the_broker_timestamp_in_ns() -> None:
    source = KafkaSource(Consumer(queued=2), Decoder())
    messages = source.get_messages()
    assert [m.timestamp for m in messages] == [1_700_000_000_000 * 1_000_000] * 2
    assert source.counters()["kafka_messages"] == 2
    assert source.counters()["kafka_bytes"] == 4


@pytest.mark.parametrize(
    ("code", "counted"), [(KafkaError._PARTITION_EOF, 0), (KafkaError._TRANSPORT, 1)]
)
def test_broker_errors_are_counted_except_partition_eof(code, counted) -> None:
    consumer = Consumer()
    consumer.queued = [Record(error=KafkaError(code)), Record()]
    source = KafkaSource(consumer, Decoder())
    assert len(source.get_messages()) == 1
    assert source.counters()["kafka_errors"] == counted
    assert source.counters()["kafka_messages"] == 1


def test_rejected_payloads_are_counted_by_reason_not_raised() -> None:
    consumer = Consumer()
    consumer.queued = [Record(b"bad"), Record(), Record(b"bad")]
    source = KafkaSource(consumer, Decoder())
    assert len(source.get_messages()) == 1
    counters = source.counters()
    assert counters["messages_rejected"] == 2
    assert counters["rejected.malformed ev44 payload"] == 2
    assert counters["assigned_partitions"] == 0
