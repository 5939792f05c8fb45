"""The dashboard process's single Kafka consumer, feeding the shared store.

Browser sessions never talk to Kafka: ten open pages cost the broker exactly
what one does. The consumer uses a group of its own (every dashboard process
must see every message) and starts each partition a little before its end,
so a page opened while a service is idle still shows its last results.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka import Message as KafkaMessage

from ess.livedata.kafka.clients import high_watermark, watched
from ess.livedata.kafka.livedata_topics import (
    Headers,
    LivedataTopic,
    ResultMessage,
    decode_record,
)
from ess.livedata.kafka.rejections import RejectionLog
from ess.livedata.kafka.schemas.errors import DecodeError
from ess.livedata.kafka.settings import KafkaSettings
from ess.livedata.protocol import Heartbeat, Response, ServiceMessage

from .store import LiveStore

logger = logging.getLogger(__name__)

BACKLOG: Mapping[LivedataTopic, int] = {
    LivedataTopic.DATA: 500,
    LivedataTopic.HEARTBEAT: 200,
    LivedataTopic.RESPONSES: 0,
}
"""Messages replayed per partition on start: enough for the latest of each
output, and a round of job heartbeats to re-adopt running jobs from."""

PROBE_INTERVAL_S = 3.0
"""How often the broker is asked for metadata to tell if it is reachable."""

_BROKER_DOWN = {
    KafkaError._ALL_BROKERS_DOWN,
    KafkaError._TRANSPORT,
    KafkaError._RESOLVE,
}


def apply_record(
    store: LiveStore,
    topic: LivedataTopic,
    payload: bytes,
    timestamp_ms: int,
    headers: Headers | None = None,
) -> None:
    """Decode one record of a livedata topic into the store; a result's
    ``livedata-worker`` header says which worker's part it is.

    Raises
    ------
    DecodeError
        The payload is not what its topic carries.
    """
    message = decode_record(topic, payload, headers)
    if isinstance(message, ResultMessage):
        store.put_result(
            message.key, message.timestamp_ns, message.data, message.worker
        )
    elif isinstance(message, Heartbeat):
        status = message.status.message
        if isinstance(status, ServiceMessage):
            store.put_service(status, timestamp_ms / 1000)
        else:
            store.put_job(status, timestamp_ms / 1000)
    elif isinstance(message, Response):
        store.put_response(message)


class KafkaFeed:
    """A daemon thread consuming an instrument's livedata topics into a store.

    Parameters
    ----------
    settings:
        Downstream broker settings (``KAFKA2_*``).
    instrument:
        Instrument name; selects the ``{instrument}_livedata_*`` topics.
    store:
        Where decoded results, heartbeats and responses go.
    on_tick:
        Called on every loop iteration from the feed thread; used to serve the
        shared producer's delivery callbacks without another thread.
    """

    def __init__(
        self,
        settings: KafkaSettings,
        instrument: str,
        store: LiveStore,
        on_tick: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._on_tick = on_tick
        self._topics = {topic.of(instrument): topic for topic in BACKLOG}
        self.group_id = f"{instrument}_dashboard_{uuid.uuid4().hex[:8]}"
        config = settings.client_config() | settings.consumer
        config |= {
            "group.id": self.group_id,
            # Tells the broker's group listing which process a consumer is.
            "client.id": f"livedata-dashboard-{socket.gethostname()}-{os.getpid()}",
            "enable.auto.commit": False,
            # Topics created after start (by services in --dev) are found soon.
            "topic.metadata.refresh.interval.ms": 5000,
            "auto.offset.reset": "earliest",
        }
        # A lost broker is logged once per outage, not per retry.
        config |= watched(settings, f"dashboard {self.group_id}", self._on_error)
        self._consumer = Consumer(config)
        self._rejections = RejectionLog()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="livedata-kafka-feed", daemon=True
        )

    def start(self) -> None:
        self._consumer.subscribe(sorted(self._topics), on_assign=self._on_assign)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop consuming and leave the consumer group."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for partition in partitions:
            high = high_watermark(consumer, partition)
            # Below the log start (retention) "earliest" moves it up to there.
            partition.offset = max(0, high - BACKLOG[self._topics[partition.topic]])
        consumer.assign(partitions)
        logger.info(
            "dashboard consuming %s",
            ", ".join(f"{p.topic}[{p.partition}]@{p.offset}" for p in partitions),
        )

    def _on_error(self, error: KafkaError) -> None:
        if error.code() in _BROKER_DOWN:
            self._store.set_broker(False, error.str())

    def _run(self) -> None:
        next_probe = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_probe:
                    self._probe()
                    next_probe = time.monotonic() + PROBE_INTERVAL_S
                for record in self._consumer.consume(500, 0.2):
                    self._handle(record)
                self._on_tick()
            except Exception:
                # Sessions keep showing the last state; the probe reports
                # the broker. Never let the only consumer die.
                logger.exception("dashboard Kafka feed failed; retrying in 1 s")
                self._stop.wait(1.0)
        self._consumer.close()

    def _probe(self) -> None:
        try:
            self._consumer.list_topics(timeout=2)
        except KafkaException as error:
            self._store.set_broker(False, str(error.args[0]))
        else:
            self._store.set_broker(True)

    def _handle(self, record: KafkaMessage) -> None:
        error = record.error()
        if error is not None:
            if error.code() != KafkaError._PARTITION_EOF:
                logger.debug("consumer error: %s", error)
            return
        topic = record.topic()
        if topic is None:  # typed optional for error events, handled above
            return
        _, timestamp_ms = record.timestamp()
        try:
            apply_record(
                self._store,
                self._topics[topic],
                record.value() or b"",
                max(timestamp_ms, 0),
                # confluent_kafka's type also allows a dict; a consumer's
                # record has a list of (str, bytes) pairs.
                record.headers(),  # type: ignore[arg-type]
            )
        except DecodeError as rejected:
            self._rejections.reject(rejected, where=f"topic {topic}")
        except Exception as error:
            # A record the store cannot take must not cost the rest of the
            # consumed batch: counted and logged like an undecodable one.
            unusable = DecodeError(
                "unusable record", f"{type(error).__name__}: {error}"
            )
            self._rejections.reject(unusable, where=f"topic {topic}")
