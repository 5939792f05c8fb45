"""Publishing livedata's outputs to Kafka in the facility's protocol.

da00 results (named by their result key) and NICOS device values, x5f2
service and job heartbeats, JSON responses and commands.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from ess.livedata.core.message import Message, StreamKind
from ess.livedata.protocol import ResultKey

from .livedata_topics import CODECS, LivedataTopic, NicosValue, ResultMessage
from .worker_header import worker_headers

logger = logging.getLogger(__name__)


_TOPICS: Mapping[StreamKind, LivedataTopic] = {
    StreamKind.LIVEDATA_DATA: LivedataTopic.DATA,
    StreamKind.LIVEDATA_NICOS: LivedataTopic.NICOS_DATA,
    StreamKind.LIVEDATA_HEARTBEAT: LivedataTopic.HEARTBEAT,
    StreamKind.LIVEDATA_RESPONSES: LivedataTopic.RESPONSES,
    StreamKind.LIVEDATA_COMMANDS: LivedataTopic.COMMANDS,
}


def encode(message: Message[Any]) -> bytes:
    """``message``'s payload, by its topic's codec (one table: ``CODECS``)."""
    kind = message.stream.kind
    value = message.value
    if kind is StreamKind.LIVEDATA_DATA:
        key = ResultKey.from_source_name(message.stream.name)
        value = ResultMessage(key, message.timestamp, value)
    elif kind is StreamKind.LIVEDATA_NICOS:
        value = NicosValue(message.stream.name, message.timestamp, value)
    return CODECS[_TOPICS[kind]].encode(value)


class KafkaSink:
    """A :class:`~ess.livedata.core.loop.MessageSink` producing to Kafka.

    Data messages are keyed by result key so all updates of one output land
    in one partition, in order; the other topics are unkeyed, as the
    facility's (they have one partition). Data messages carry the ``worker``
    in a header,
    so readers can combine the parts that workers of one service publish
    under one name. Delivery failures are counted and logged, not raised: a
    broker outage must not stop processing.
    """

    def __init__(
        self, producer: Producer, topics: Mapping[StreamKind, str], worker: str = ""
    ) -> None:
        self._producer = producer
        self._topics = dict(topics)
        self._data_headers = worker_headers(worker)
        self.delivered = 0
        self.failed = 0

    def _on_delivery(self, error: KafkaError | None, _record: Any) -> None:
        if error is None:
            self.delivered += 1
        else:
            self.failed += 1
            if self.failed <= 5 or self.failed % 100 == 0:
                logger.warning("delivery failed (%d so far): %s", self.failed, error)

    def publish_messages(self, messages: Sequence[Message[Any]]) -> None:
        for message in messages:
            kind = message.stream.kind
            try:
                payload = encode(message)
            except (ValueError, TypeError) as error:
                # A result da00 cannot carry: lose this update, not the service.
                reason = f"cannot encode {message.stream}: {error}"
                self._on_delivery(KafkaError(KafkaError._FAIL, reason), None)
                continue
            if kind is StreamKind.LIVEDATA_DATA:
                key, headers = message.stream.name, self._data_headers
            else:
                key, headers = None, []
            self._produce(self._topics[kind], key, payload, headers)
        self._producer.poll(0)

    def _produce(
        self,
        topic: str,
        key: str | None,
        payload: bytes,
        headers: list[tuple[str, bytes]],
    ) -> None:
        def produce() -> None:
            self._producer.produce(
                topic,
                payload,
                key=key.encode() if key is not None else None,
                # confluent_kafka types headers as an invariant list of
                # (str, str | bytes | None): a list of (str, bytes) is valid.
                headers=headers,  # type: ignore[arg-type]
                on_delivery=self._on_delivery,
            )

        try:
            try:
                produce()
            except BufferError:
                # Local queue full: wait for deliveries to drain, retry once.
                self._producer.flush(5)
                produce()
        except (BufferError, KafkaException) as error:
            # E.g. a result over the size limit: lose this update, not the loop.
            self._on_delivery(KafkaError(KafkaError._FAIL, f"{topic}: {error}"), None)

    def flush(self, timeout_s: float = 10.0) -> int:
        """Wait for outstanding deliveries; returns how many are still queued."""
        return self._producer.flush(timeout_s)
