"""Creating confluent-kafka clients from :class:`KafkaSettings`."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from .settings import KafkaSettings

logger = logging.getLogger(__name__)


def make_consumer(
    settings: KafkaSettings, group_id: str, topics: Iterable[str]
) -> Consumer:
    """A consumer in ``group_id`` subscribed to ``topics``.

    Workers of one service share a group id, so Kafka itself spreads the
    partitions among them.
    """
    config = settings.client_config() | settings.consumer
    config["group.id"] = group_id
    consumer = Consumer(config, logger=logger)
    consumer.subscribe(sorted(set(topics)))
    return consumer


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
