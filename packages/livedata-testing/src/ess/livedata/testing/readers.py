"""Reading livedata's own topics back in tests: data, status, responses.

Decoding and keeping the newest of each is :mod:`ess.livedata.kafka.own_topics`,
the one reader the dashboard, the demo and the benchmarks use too; this adds
the test's consumer and waiting.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import scipp as sc
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from ess.livedata.core.status import ServiceStatus
from ess.livedata.kafka.clients import high_watermark
from ess.livedata.kafka.own_topics import LivedataView, decode_record, kind_of_topic


@dataclass
class LivedataReader:
    """Collects everything published on an instrument's livedata topics.

    Starts at the current end of each topic, so a test sees only what its
    own services publish. ``data`` holds every message as published (one
    part per worker of a scaled-out service); :meth:`latest` combines the
    workers' parts as the dashboard does.
    """

    bootstrap_servers: str
    instrument: str
    view: LivedataView = field(default_factory=LivedataView)

    def __post_init__(self) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap_servers,
                "group.id": f"test-reader-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
            }
        )
        topics = [
            f"{self.instrument}_livedata_{k}" for k in ("data", "status", "responses")
        ]
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers})
        metadata = admin.list_topics(timeout=10).topics
        partitions = []
        for topic in topics:
            if topic not in metadata:  # e.g. no command answered yet: starts at 0
                partitions.append(TopicPartition(topic, 0, 0))
                continue
            for p in metadata[topic].partitions:
                high = high_watermark(self._consumer, TopicPartition(topic, p))
                partitions.append(TopicPartition(topic, p, max(high, 0)))
        self._consumer.assign(partitions)

    @property
    def data(self) -> dict[str, list[sc.DataArray]]:
        """Every part received per result name, in arrival order."""
        return {n: [r.data for r in parts] for n, parts in self.view.results.items()}

    @property
    def status(self) -> list[ServiceStatus]:
        return self.view.statuses

    @property
    def responses(self) -> list[dict[str, Any]]:
        return [r.model_dump(mode="json") for r in self.view.responses]

    def poll(self, duration: float = 0.2) -> None:
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            for record in self._consumer.consume(500, 0.05):
                if record.error():
                    continue
                kind = kind_of_topic(record.topic())
                if kind is None:
                    continue
                self.view.add(decode_record(kind, record.value(), record.headers()))

    def wait_for(
        self, condition: Callable[[], Any], timeout: float = 30, what: str = ""
    ) -> Any:
        """Poll until ``condition()`` is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.poll()
            result = condition()
            if result:
                return result
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")

    def latest(self, name: str) -> sc.DataArray | None:
        """What the dashboard shows for ``name``: the workers' parts combined."""
        return self.view.latest(name)

    def latest_status(self, service: str) -> ServiceStatus | None:
        return self.view.latest_status(service)

    def close(self) -> None:
        self._consumer.close()
