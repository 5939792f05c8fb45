"""Reading livedata's own topics back in tests: data, status, responses."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import scipp as sc
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from ess.livedata.core.combine import OutputCombiner
from ess.livedata.core.status import ServiceStatus
from ess.livedata.kafka.clients import high_watermark
from ess.livedata.kafka.schemas.da00 import decode_da00
from ess.livedata.kafka.schemas.x5f2 import decode_x5f2
from ess.livedata.kafka.worker_header import worker_of


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
    data: dict[str, list[sc.DataArray]] = field(default_factory=dict)
    status: list[ServiceStatus] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._combiner = OutputCombiner()
        self._latest: dict[str, sc.DataArray] = {}
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

    def poll(self, duration: float = 0.2) -> None:
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            for record in self._consumer.consume(500, 0.05):
                if record.error():
                    continue
                self._store(record.topic(), record.value(), worker_of(record.headers()))

    def _store(self, topic: str, payload: bytes, worker: str) -> None:
        if topic.endswith("_data"):
            name, _, data = decode_da00(payload)
            self.data.setdefault(name, []).append(data)
            self._latest[name] = self._combiner.add(name, worker, data)
        elif topic.endswith("_status"):
            status = decode_x5f2(payload)
            self._combiner.heartbeat(status)
            self.status.append(status)
        else:
            self.responses.append(json.loads(payload))

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
        return self._latest.get(name)

    def latest_status(self, service: str) -> ServiceStatus | None:
        matching = [s for s in self.status if s.service == service]
        return matching[-1] if matching else None

    def close(self) -> None:
        self._consumer.close()
