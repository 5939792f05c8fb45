"""pytest plugin: a real Kafka broker per test session, and topic helpers.

Tests run against the upstream Apache Kafka broker (see
:mod:`ess.livedata.kafka.local_broker`) because consumer groups, size limits
and broker outages behave in ways no mock reproduces. Starting a broker takes
seconds, so one serves the whole session and tests stay apart by using their
own topics (:func:`kafka_topic_factory`).

Set ``LIVEDATA_TEST_KAFKA_BOOTSTRAP=host:port`` to use a broker that is
already running instead, e.g. one from
``python -m ess.livedata.kafka.local_broker run`` to skip the start-up in an
edit-test loop. Tests that need the broker are marked ``kafka`` automatically,
so ``-m "not kafka"`` runs everything else without Java.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

import pytest
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaException,
    Message,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic

from ess.livedata.kafka.local_broker import LocalKafkaBroker, MissingToolError

logger = logging.getLogger(__name__)

BOOTSTRAP_ENV = "LIVEDATA_TEST_KAFKA_BOOTSTRAP"
_TOPIC_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ExternalKafkaBroker:
    """A broker this session did not start, so it cannot be restarted."""

    bootstrap_servers: str


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "kafka: needs the real Kafka broker (added automatically)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Marking by fixture use means no test can forget the marker, so
    # ``-m "not kafka"`` reliably runs without Java and Maven.
    for item in items:
        if "kafka_broker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kafka)


@pytest.fixture(scope="session")
def kafka_broker(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LocalKafkaBroker | ExternalKafkaBroker]:
    """The session's broker: ``.bootstrap_servers``, and ``.restart()`` if ours.

    Its data and ``broker.log`` stay in pytest's temporary directory for
    post-mortems.
    """
    external = os.environ.get(BOOTSTRAP_ENV)
    if external:
        yield ExternalKafkaBroker(external)
        return
    broker = LocalKafkaBroker(data_dir=tmp_path_factory.mktemp("kafka"))
    try:
        broker.start()
    except MissingToolError as err:
        pytest.fail(
            f"{err}\nAlternatively set {BOOTSTRAP_ENV}=host:port to use a running "
            "broker, or deselect these tests with -m 'not kafka'.",
            pytrace=False,
        )
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def local_kafka_broker(
    kafka_broker: LocalKafkaBroker | ExternalKafkaBroker,
) -> LocalKafkaBroker:
    """The session's broker if this session started it, else skip.

    For tests that restart the broker (outages) or rely on its configuration
    (e.g. 16 MiB messages), which an external broker may not allow.
    """
    if not isinstance(kafka_broker, LocalKafkaBroker):
        pytest.skip(f"needs a broker started by this session ({BOOTSTRAP_ENV} set)")
    return kafka_broker


@pytest.fixture
def kafka_topic_factory(
    kafka_broker: LocalKafkaBroker | ExternalKafkaBroker,
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., str]]:
    """Create topics that belong to the requesting test only.

    The broker is shared by the session, so unique names (test name plus a
    random suffix) keep tests independent without any cleanup between them;
    the topics are still deleted afterwards to keep the broker small.
    Call as ``create(name="", *, partitions=1, config=None) -> topic``.
    """
    admin = AdminClient(
        {"bootstrap.servers": kafka_broker.bootstrap_servers}, logger=logger
    )
    created: list[str] = []

    def create(
        name: str = "",
        *,
        partitions: int = 1,
        config: Mapping[str, str] | None = None,
    ) -> str:
        base = _TOPIC_UNSAFE.sub("-", name or request.node.name)[:200]
        topic = f"{base}-{uuid.uuid4().hex[:8]}"
        new = NewTopic(topic, partitions, 1, config=dict(config or {}))
        admin.create_topics([new], operation_timeout=10)[topic].result(timeout=15)
        created.append(topic)
        return topic

    yield create
    if not created:
        return
    for topic, future in admin.delete_topics(created, operation_timeout=10).items():
        try:
            future.result(timeout=15)
        except (KafkaException, TimeoutError) as err:
            logger.warning("Could not delete test topic %s: %s", topic, err)


@pytest.fixture
def unique_topic(kafka_topic_factory: Callable[..., str]) -> str:
    """A fresh single-partition topic for the requesting test."""
    return kafka_topic_factory()


def consume_all(
    bootstrap_servers: str,
    topics: str | Iterable[str],
    *,
    min_messages: int,
    timeout: float = 30.0,
    config: Mapping[str, object] | None = None,
) -> list[Message]:
    """Read ``topics`` from the beginning until ``min_messages`` have arrived.

    Partitions are assigned directly rather than through a consumer group:
    no rebalance wait per call, and no committed offsets left behind that
    could change what the code under test consumes.

    Parameters
    ----------
    bootstrap_servers:
        E.g. ``kafka_broker.bootstrap_servers``.
    topics:
        One topic or several; all their partitions are read.
    min_messages:
        Return once at least this many have been read. Messages delivered in
        the same batch are returned too, so the result can be longer.
    timeout:
        Seconds to wait for ``min_messages``.
    config:
        Extra consumer settings.

    Raises
    ------
    LookupError
        A topic does not exist.
    TimeoutError
        Fewer than ``min_messages`` arrived in time; says how many did.
    """
    names = [topics] if isinstance(topics, str) else list(topics)
    deadline = time.monotonic() + timeout
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"consume-all-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            **(config or {}),
        },
        logger=logger,
    )
    try:
        assignment = []
        for name in names:
            metadata = consumer.list_topics(name, timeout=timeout).topics.get(name)
            if metadata is None or metadata.error is not None:
                raise LookupError(f"topic {name!r} does not exist")
            assignment += [
                TopicPartition(name, p, OFFSET_BEGINNING) for p in metadata.partitions
            ]
        consumer.assign(assignment)
        messages: list[Message] = []
        while len(messages) < min_messages:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"read {len(messages)} of {min_messages} messages from "
                    f"{names} in {timeout} s"
                )
            for msg in consumer.consume(1000, timeout=min(0.5, remaining)):
                if msg.error() is not None:
                    raise KafkaException(msg.error())
                messages.append(msg)
        return messages
    finally:
        consumer.close()
