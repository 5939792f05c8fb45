"""Consuming Kafka messages and turning them into livedata messages."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from confluent_kafka import KafkaError
from confluent_kafka import Message as KafkaMessage

from ess.livedata.core.message import Message

from .rejections import RejectionLog
from .schemas.errors import DecodeError

logger = logging.getLogger(__name__)


class Decoder(Protocol):
    """Turns one Kafka record into a livedata message or raises DecodeError."""

    def decode(
        self, topic: str, payload: bytes, kafka_timestamp_ns: int
    ) -> Message[Any]: ...


class ConsumerLike(Protocol):
    def consume(self, num_messages: int, timeout: float) -> list[KafkaMessage]: ...


def _assigned_partitions(consumer: ConsumerLike) -> int:
    return len(getattr(consumer, "assigned", ()))


class KafkaSource:
    """A :class:`~ess.livedata.core.loop.MessageSource` over a Kafka consumer.

    Decoding errors, unknown sources and broker-side errors are counted and
    logged through :class:`RejectionLog`; they never escape ``get_messages``.
    """

    def __init__(
        self,
        consumer: ConsumerLike,
        decoder: Decoder,
        *,
        batch_size: int = 1000,
        poll_timeout_s: float = 0.05,
    ) -> None:
        self._consumer = consumer
        self._decoder = decoder
        self._batch_size = batch_size
        self._poll_timeout_s = poll_timeout_s
        self._rejections = RejectionLog()
        self._received = 0
        self._bytes = 0
        self._broker_errors = 0

    def _poll(self) -> list[KafkaMessage]:
        """What is queued, else wait up to the timeout for the first record.

        ``consume(n, timeout)`` only returns early once it has ``n`` records,
        so a single call with the batch size waits the whole timeout whenever
        fewer are queued: every loop step took the full poll timeout, which
        added half of it to latency on average and capped a service at
        ``batch_size`` records per timeout. Blocking for one record and then
        draining without waiting returns as soon as data is there.
        """
        records = self._consumer.consume(self._batch_size, 0)
        if records or self._poll_timeout_s <= 0:
            return records
        records = self._consumer.consume(1, self._poll_timeout_s)
        if records and self._batch_size > 1:
            records += self._consumer.consume(self._batch_size - 1, 0)
        return records

    def get_messages(self) -> Sequence[Message[Any]]:
        records = self._poll()
        messages = []
        for record in records:
            error = record.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    self._broker_errors += 1
                    logger.warning("Kafka consumer error: %s", error)
                continue
            self._received += 1
            topic = record.topic() or ""
            payload = record.value() or b""
            self._bytes += len(payload)
            _, timestamp_ms = record.timestamp()
            try:
                messages.append(
                    self._decoder.decode(
                        topic, payload, max(timestamp_ms, 0) * 1_000_000
                    )
                )
            except DecodeError as rejected:
                self._rejections.reject(rejected, where=f"topic {topic}")
        return messages

    def counters(self) -> dict[str, int]:
        counters = {
            "kafka_messages": self._received,
            "kafka_bytes": self._bytes,
            "kafka_errors": self._broker_errors,
            "assigned_partitions": _assigned_partitions(self._consumer),
        }
        counters.update(self._rejections.as_counters())
        return counters
