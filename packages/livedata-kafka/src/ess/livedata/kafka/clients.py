"""Creating confluent-kafka clients from :class:`KafkaSettings`."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka import Message as KafkaMessage
from confluent_kafka.admin import AdminClient, NewTopic

from .settings import KafkaSettings

logger = logging.getLogger(__name__)


_NO_LEADER_YET = {
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
}


def high_watermark(
    consumer: Consumer, partition: TopicPartition, timeout_s: float = 15
) -> int:
    """Offset the next produced message will get, retrying while a new
    topic's partition has no leader yet."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            _, high = consumer.get_watermark_offsets(partition, timeout=5)
            return high
        except KafkaException as error:
            kafka_error = error.args[0]
            transient = kafka_error.retriable() or kafka_error.code() in _NO_LEADER_YET
            if not transient or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class LiveConsumer:
    """A consumer that starts every assigned partition at its current end.

    Live processing is about the present: on assignment each partition is
    positioned at its high watermark, queried from the broker right then, so
    everything produced after :attr:`assigned` lists the partition is seen,
    and nothing older is replayed. Workers of one service share a group id,
    so Kafka itself spreads the partitions among them.
    """

    def __init__(
        self, settings: KafkaSettings, group_id: str, topics: Iterable[str]
    ) -> None:
        config = settings.client_config() | settings.consumer
        config["group.id"] = group_id
        config["enable.auto.commit"] = False
        self._consumer = Consumer(config, logger=logger)
        self.assigned: list[TopicPartition] = []
        self._consumer.subscribe(
            sorted(set(topics)), on_assign=self._on_assign, on_revoke=self._on_revoke
        )

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for partition in partitions:
            partition.offset = high_watermark(consumer, partition)
        consumer.assign(partitions)
        self.assigned = list(partitions)
        logger.info(
            "assigned %s",
            ", ".join(f"{p.topic}[{p.partition}]@{p.offset}" for p in partitions),
        )

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        revoked = {(p.topic, p.partition) for p in partitions}
        self.assigned = [
            p for p in self.assigned if (p.topic, p.partition) not in revoked
        ]

    def consume(self, num_messages: int, timeout: float) -> list[KafkaMessage]:
        return self._consumer.consume(num_messages, timeout)

    def close(self) -> None:
        self._consumer.close()


def make_producer(settings: KafkaSettings) -> Producer:
    return Producer(settings.client_config() | settings.producer, logger=logger)


def ensure_topics(
    settings: KafkaSettings,
    topics: Iterable[str],
    *,
    partitions: int = 1,
    timeout_s: float = 10,
) -> None:
    """Create missing topics; existing ones are left as they are."""
    admin = AdminClient(settings.client_config())
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    missing = sorted(set(topics) - existing)
    if not missing:
        return
    futures = admin.create_topics(
        [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing],
        operation_timeout=timeout_s,
    )
    for topic, future in futures.items():
        try:
            future.result()
            logger.info("created topic %s", topic)
        except KafkaException as error:
            if error.args[0].code() != error.args[0].TOPIC_ALREADY_EXISTS:
                raise
    _wait_for_leaders(admin, missing, timeout_s)


def _wait_for_leaders(admin: AdminClient, topics: list[str], timeout_s: float) -> None:
    """Creation returns before partitions have leaders; clients need them."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        metadata = admin.list_topics(timeout=timeout_s).topics
        if all(
            t in metadata
            and metadata[t].partitions
            and all(p.leader >= 0 for p in metadata[t].partitions.values())
            for t in topics
        ):
            return
        time.sleep(0.1)
    raise TimeoutError(f"topics {topics} have no leader after {timeout_s} s")
