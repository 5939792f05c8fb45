"""Reading livedata's own topics back in tests: data, heartbeats, responses,
NICOS values.

Decoding and keeping the newest of each is
:mod:`ess.livedata.kafka.livedata_topics`, the one reader the dashboard, the
demo and the benchmarks use too; this adds the test's consumer and waiting.
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

from ess.livedata.kafka.clients import high_watermark
from ess.livedata.kafka.livedata_topics import (
    LivedataTopic,
    LivedataView,
    ServiceReport,
    decode_record,
)
from ess.livedata.protocol import Response

READ = (
    LivedataTopic.DATA,
    LivedataTopic.HEARTBEAT,
    LivedataTopic.RESPONSES,
    LivedataTopic.NICOS_DATA,
)
"""The topics services write and tests read back."""


@dataclass
class LivedataReader:
    """Collects everything published on an instrument's livedata topics.

    Starts at the current end of each topic, so a test sees only what its
    own services publish. :attr:`data` holds every part as published (one per
    worker of a scaled-out service); :meth:`latest` combines the workers'
    parts as the dashboard does. Outputs are named ``workflow/source/output``
    (e.g. ``monitor_histogram/monitor1/current``), whatever their job number.
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
        self._topics = {topic.of(self.instrument): topic for topic in READ}
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers})
        metadata = admin.list_topics(timeout=10).topics
        partitions = []
        for topic in self._topics:
            if topic not in metadata:  # e.g. no command answered yet: starts at 0
                partitions.append(TopicPartition(topic, 0, 0))
                continue
            for p in metadata[topic].partitions:
                high = high_watermark(self._consumer, TopicPartition(topic, p))
                partitions.append(TopicPartition(topic, p, max(high, 0)))
        self._consumer.assign(partitions)

    @property
    def data(self) -> dict[str, list[sc.DataArray]]:
        """Every part received per output name, in arrival order."""
        data: dict[str, list[sc.DataArray]] = {}
        for parts in self.view.parts.values():
            for part in parts:
                data.setdefault(part.short_name, []).append(part.data)
        return data

    @property
    def reports(self) -> list[ServiceReport]:
        """Every service heartbeat, in arrival order."""
        return self.view.reports

    @property
    def responses(self) -> list[Response]:
        return self.view.responses

    def poll(self, duration: float = 0.2) -> None:
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            for record in self._consumer.consume(500, 0.05):
                if record.error():
                    continue
                topic = self._topics[record.topic()]
                self.view.add(decode_record(topic, record.value(), record.headers()))

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
        """What the dashboard shows for ``workflow/source/output``: the
        workers' parts combined."""
        return self.view.latest(name)

    def latest_report(self, service: str) -> ServiceReport | None:
        """The newest service heartbeat of ``service``, from any worker."""
        return self.view.latest_report(service)

    def close(self) -> None:
        self._consumer.close()
