"""Creating confluent-kafka clients from :class:`KafkaSettings`.

Broker outages: every client reports connection failures and recoveries to
the :class:`BrokerWatch` of its broker, which logs an outage once (one
WARNING when the first client loses the broker, one INFO when every client
that lost it is connected again) instead of librdkafka's line per retry.
Clients retry for as long as the outage lasts; nothing here gives up.

Offsets: see :class:`LiveConsumer`. Start-up: :func:`require_brokers` turns
an unreachable broker or rejected credentials into one
:class:`BrokerUnavailable` line naming the variables, within
:data:`STARTUP_TIMEOUT_S`, before a program starts waiting for data.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from confluent_kafka import (
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka import Message as KafkaMessage
from confluent_kafka.admin import AdminClient, NewTopic

from ess.livedata.config import ConfigError

from .settings import KafkaSettings

logger = logging.getLogger(__name__)
_librdkafka_logger = logging.getLogger(f"{__name__}.librdkafka")

_CONNECTION_ERRORS = {
    KafkaError._TRANSPORT,
    KafkaError._ALL_BROKERS_DOWN,
    KafkaError._RESOLVE,
    KafkaError._AUTHENTICATION,
    KafkaError._SSL,
    KafkaError.SASL_AUTHENTICATION_FAILED,
}
_AUTHENTICATION_ERRORS = {
    KafkaError._AUTHENTICATION,
    KafkaError.SASL_AUTHENTICATION_FAILED,
}
_ADDRESS = re.compile(r"^\S+/\S+: ")
_TIMING = re.compile(r" \(after \d+ms in state \w+\)$")
STATISTICS_INTERVAL_MS = 1000
"""How often clients report whether they are connected (for :class:`BrokerWatch`)."""


class BrokerWatch:
    """Connection state of one broker (cluster) across all clients using it.

    One per bootstrap address, see :meth:`for_settings`. ``outages`` counts
    periods in which at least one client had lost the broker.
    """

    _watches: dict[str, BrokerWatch] = {}
    _registry_lock = threading.Lock()

    def __init__(
        self, bootstrap_servers: str, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.outages = 0
        self._monotonic = monotonic
        self._down: set[str] = set()
        self._since: float | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: KafkaSettings) -> BrokerWatch:
        with cls._registry_lock:
            key = settings.bootstrap_servers
            if key not in cls._watches:
                cls._watches[key] = cls(key)
            return cls._watches[key]

    @property
    def down(self) -> bool:
        """Whether some client has lost the broker and not reconnected yet."""
        return bool(self._down)

    def lost(self, client: str, reason: str) -> None:
        """``client`` cannot reach the broker; logs only the outage's first loss."""
        with self._lock:
            first = not self._down
            self._down.add(client)
            if first:
                self.outages += 1
                self._since = self._monotonic()
        if first:
            logger.warning(
                "lost connection to Kafka at %s (%s): %s; retrying until it is"
                " back, results published so far stay on their topics",
                self.bootstrap_servers,
                client,
                reason,
            )
        else:
            logger.debug(
                "%s: still no Kafka at %s: %s", client, self.bootstrap_servers, reason
            )

    def reachable(self, client: str) -> None:
        """``client`` is connected; logs the end of an outage once all are."""
        with self._lock:
            if client not in self._down:
                return
            self._down.discard(client)
            if self._down:
                return
            since, self._since = self._since, None
        elapsed = self._monotonic() - since if since is not None else 0.0
        logger.info(
            "Kafka at %s reachable again after %.1f s", self.bootstrap_servers, elapsed
        )


class _ClientLog:
    """librdkafka's log lines: connection failures go to the watch, not the log."""

    def __init__(self, client: str, watch: BrokerWatch) -> None:
        self._client = client
        self._watch = watch

    def log(self, level: int, fmt: str, *args: Any) -> None:
        # confluent-kafka calls log(level, "%s [%s] %s", facility, name, text).
        facility = args[0] if args else ""
        if facility == "FAIL":
            # Reported (once per outage) through error_cb and the watch.
            level = logging.DEBUG
        _librdkafka_logger.log(level, "%s: " + fmt, self._client, *args)


def watched(
    settings: KafkaSettings,
    client: str,
    also_on_error: Callable[[KafkaError], None] = lambda _error: None,
) -> dict[str, Any]:
    """Client configuration reporting connection state to the broker's watch.

    ``also_on_error`` sees every error too, e.g. for a dashboard's banner.
    """
    watch = BrokerWatch.for_settings(settings)

    def on_error(error: KafkaError) -> None:
        also_on_error(error)
        if error.code() in _CONNECTION_ERRORS:
            watch.lost(client, error.str())
        else:
            logger.warning("%s: Kafka error: %s", client, error.str())

    def on_stats(raw: str) -> None:
        try:
            brokers = json.loads(raw).get("brokers", {})
        except ValueError:
            return
        if any(b.get("state") == "UP" for b in brokers.values()):
            watch.reachable(client)

    return {
        "error_cb": on_error,
        "stats_cb": on_stats,
        "statistics.interval.ms": STATISTICS_INTERVAL_MS,
        "logger": _ClientLog(client, watch),
    }


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
    return watermarks(consumer, partition, timeout_s)[1]


def watermarks(
    consumer: Consumer, partition: TopicPartition, timeout_s: float = 15
) -> tuple[int, int]:
    """Oldest offset still held and the next offset to be produced, retrying
    while a new topic's partition has no leader yet."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            low, high = consumer.get_watermark_offsets(partition, timeout=5)
            return low, high
        except KafkaException as error:
            kafka_error = error.args[0]
            transient = kafka_error.retriable() or kafka_error.code() in _NO_LEADER_YET
            if not transient or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class ResumePositions:
    """Next offset per partition that this process has consumed from.

    The in-memory half of :class:`LiveConsumer`'s offset policy: a partition
    assigned again in the same process continues where it stopped, so a
    rebalance (e.g. after a broker outage longer than the session timeout)
    neither replays nor loses messages; a partition this process never read
    starts at its live end.
    """

    def __init__(self) -> None:
        self._next: dict[tuple[str, int], int] = {}

    def record(self, records: Sequence[KafkaMessage]) -> None:
        for record in records:
            if record.error() is not None:
                continue
            topic, partition, offset = (
                record.topic(),
                record.partition(),
                record.offset(),
            )
            # Typed optional for error events; set on every message.
            if topic is not None and partition is not None and offset is not None:
                self._next[(topic, partition)] = offset + 1

    def start_offset(self, partition: TopicPartition, low: int, high: int) -> int:
        """Where to start ``partition`` given its current watermarks."""
        resume = self._next.get((partition.topic, partition.partition))
        if resume is None or resume > high:
            return high  # new to us, or the topic was re-created: live end
        if resume < low:
            logger.warning(
                "%s[%d]: messages %d..%d were deleted by retention before this"
                " service read them",
                partition.topic,
                partition.partition,
                resume,
                low - 1,
            )
            return low
        return resume

    def resumes(self, partition: TopicPartition) -> bool:
        return (partition.topic, partition.partition) in self._next


class LiveConsumer:
    """A consumer that starts every partition new to it at its current end.

    Live processing is about the present: on first assignment each partition
    is positioned at its high watermark, queried from the broker right then,
    so everything produced after :attr:`assigned` lists the partition is
    seen, and nothing older is replayed. Workers of one service share a group
    id, so Kafka itself spreads the partitions among them.

    Offset policy (see ``docs/reliability.md``): nothing is committed, so a
    restarted service starts at the live end. Within one process the position
    is kept in memory (:class:`ResumePositions`): across a broker restart the
    client simply continues, and a partition assigned again after a
    rebalance continues at the next offset this process has not consumed, so
    every message is delivered exactly once to this process. A partition
    that moves to *another* worker starts at the live end there.
    """

    def __init__(
        self, settings: KafkaSettings, group_id: str, topics: Iterable[str]
    ) -> None:
        config = settings.client_config() | settings.consumer
        config["group.id"] = group_id
        config["enable.auto.commit"] = False
        config |= watched(settings, f"consumer {group_id}")
        self._consumer = Consumer(config)
        self._positions = ResumePositions()
        self.assigned: list[TopicPartition] = []
        self._consumer.subscribe(
            sorted(set(topics)), on_assign=self._on_assign, on_revoke=self._on_revoke
        )

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        described = []
        for partition in partitions:
            try:
                low, high = watermarks(consumer, partition)
            except KafkaException as error:
                # Raising here would end the service; the broker resolves
                # OFFSET_END itself once it is reachable.
                logger.warning(
                    "%s[%d]: no watermarks (%s); starting at the end",
                    partition.topic,
                    partition.partition,
                    error,
                )
                partition.offset = OFFSET_END
                described.append(f"{partition.topic}[{partition.partition}]@end")
                continue
            resumed = self._positions.resumes(partition)
            partition.offset = self._positions.start_offset(partition, low, high)
            how = "resumed" if resumed else "live end"
            described.append(
                f"{partition.topic}[{partition.partition}]@{partition.offset} ({how})"
            )
        consumer.assign(partitions)
        self.assigned = list(partitions)
        logger.info("assigned %s", ", ".join(described))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        revoked = {(p.topic, p.partition) for p in partitions}
        self.assigned = [
            p for p in self.assigned if (p.topic, p.partition) not in revoked
        ]

    def consume(self, num_messages: int, timeout: float) -> list[KafkaMessage]:
        records = self._consumer.consume(num_messages, timeout)
        self._positions.record(records)
        return records

    def close(self) -> None:
        self._consumer.close()


def make_producer(settings: KafkaSettings, name: str = "producer") -> Producer:
    """A producer reporting its connection state to the broker's watch."""
    config = settings.client_config() | settings.producer
    return Producer(config | watched(settings, name))


class _CheckLog:
    def log(self, level: int, fmt: str, *args: Any) -> None:
        _librdkafka_logger.debug(fmt, *args)


STARTUP_TIMEOUT_S = 10.0
"""How long a program waits for its broker(s) at start-up before it gives up."""


class BrokerUnavailable(ConfigError):
    """A broker cannot be used at start-up; one line naming the variables."""


def require_brokers(
    *settings: KafkaSettings, timeout_s: float = STARTUP_TIMEOUT_S
) -> None:
    """Connect once to each distinct broker before a program starts.

    A program that cannot reach its broker at start-up is misconfigured far
    more often than unlucky (a wrong address, a name that does not resolve
    in this environment, credentials the broker rejects), so it ends with
    one line instead of waiting, or failing later with a traceback. Once a
    program is running, its clients retry through outages for as long as
    they last (see :class:`BrokerWatch`).

    Raises
    ------
    BrokerUnavailable
        Within ``timeout_s`` in total: one line naming the variables to fix
        (e.g. ``KAFKA_BOOTSTRAP_SERVERS`` and its address) and the broker's
        reason; never a password.
    """
    deadline = time.monotonic() + timeout_s
    checked: list[dict[str, Any]] = []
    for one in settings:
        if one.client_config() not in checked:
            checked.append(one.client_config())
            _require_broker(one, deadline, timeout_s)


def _require_broker(settings: KafkaSettings, deadline: float, timeout_s: float) -> None:
    errors: list[KafkaError] = []
    admin = AdminClient(
        settings.client_config() | {"error_cb": errors.append, "logger": _CheckLog()}
    )
    reason: KafkaError | None = None
    while True:
        try:
            admin.list_topics(timeout=min(0.5, max(deadline - time.monotonic(), 0.01)))
            return
        except KafkaException as error:
            reason = reason or error.args[0]
        admin.poll(0)
        for reported in errors:
            _raise_if_rejected(settings, reported)
            if reported.code() != KafkaError._ALL_BROKERS_DOWN:
                reason = reported  # librdkafka's own words: refused, unresolvable
        errors.clear()
        if time.monotonic() >= deadline:
            raise BrokerUnavailable(
                f"{_where(settings)} is not reachable within {timeout_s:g} s:"
                f" {_reason(reason)}"
            )


def _where(settings: KafkaSettings) -> str:
    variable = settings.variable("BOOTSTRAP_SERVERS")
    return f"Kafka at {settings.bootstrap_servers} ({variable})"


_SUPPORTED_MECHANISMS = re.compile(r"broker's supported mechanisms: ?([^(]*)")


def _raise_if_rejected(settings: KafkaSettings, error: KafkaError) -> None:
    where = _where(settings)
    handshake = _SUPPORTED_MECHANISMS.search(error.str())
    if error.code() in _AUTHENTICATION_ERRORS and handshake:
        offered = handshake.group(1).strip()
        mechanism = f"{settings.variable('SASL_MECHANISM')}={settings.sasl_mechanism}"
        if not offered:
            raise BrokerUnavailable(
                f"{where} did not complete the SASL handshake and offers no"
                " mechanism: that listener may not speak SASL; check"
                f" {settings.variable('SECURITY_PROTOCOL')}="
                f"{settings.security_protocol} and the address"
            )
        raise BrokerUnavailable(
            f"{where} does not offer SASL mechanism {mechanism}, only"
            f" {offered}: check {settings.variable('SASL_MECHANISM')}"
        )
    if error.code() in _AUTHENTICATION_ERRORS:
        user = settings.sasl_username or ""
        raise BrokerUnavailable(
            f"{where} rejected the credentials of user {user!r}: check"
            f" {settings.variable('SASL_USERNAME')} and"
            f" {settings.variable('SASL_PASSWORD')} (mechanism"
            f" {settings.variable('SASL_MECHANISM')}={settings.sasl_mechanism}):"
            f" {_reason(error)}"
        )
    if error.code() == KafkaError._SSL:
        raise BrokerUnavailable(
            f"{where}: TLS handshake failed: check"
            f" {settings.variable('SECURITY_PROTOCOL')} and"
            f" {settings.variable('SSL_CA_LOCATION')}: {_reason(error)}"
        )


def _reason(error: KafkaError | None) -> str:
    """The broker's words, without librdkafka's address prefix and timing."""
    if error is None:
        return "no answer"
    return _TIMING.sub("", _ADDRESS.sub("", error.str()))


def ensure_topics(
    settings: KafkaSettings,
    topics: Iterable[str],
    *,
    partitions: int = 1,
    timeout_s: float = 10,
) -> None:
    """Create missing topics; existing ones are left as they are.

    Raises
    ------
    BrokerUnavailable
        The broker does not answer or refuses to create a topic.
    """
    admin = AdminClient(settings.client_config() | {"logger": _CheckLog()})
    try:
        existing = set(admin.list_topics(timeout=timeout_s).topics)
    except KafkaException as error:
        raise BrokerUnavailable(
            f"{_where(settings)} lists no topics: {_reason(error.args[0])}"
        ) from None
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
                raise BrokerUnavailable(
                    f"{_where(settings)} cannot create topic {topic}:"
                    f" {_reason(error.args[0])}"
                ) from None
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
