"""A dashboard backend without Kafka: a store, and a producer that only records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ess.livedata.core.plugins import load_instrument
from ess.livedata.dashboard.backend import Backend
from ess.livedata.dashboard.commands import CommandSender
from ess.livedata.dashboard.control import JobControl
from ess.livedata.dashboard.grid_model import templates
from ess.livedata.dashboard.grid_store import GridStore
from ess.livedata.dashboard.store import LiveStore


class RecordingProducer:
    """Stands in for confluent_kafka.Producer; ``fail`` makes deliveries fail."""

    def __init__(self) -> None:
        self.produced: list[tuple[str, bytes]] = []
        self.fail: Any = None

    def produce(
        self,
        topic: str,
        value: bytes,
        on_delivery: Callable[..., None] | None = None,
    ) -> None:
        self.produced.append((topic, value))
        if on_delivery is not None:
            on_delivery(self.fail, None)

    def on(self, topic: str) -> list[bytes]:
        """Values produced to ``topic``, oldest first."""
        return [value for t, value in self.produced if t == topic]

    def poll(self, _timeout: float) -> int:
        return 0

    def flush(self, _timeout: float) -> int:
        return 0


class Clock:
    """Settable wall clock for the store."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> LiveStore:
    return LiveStore(clock=clock)


@pytest.fixture
def producer() -> RecordingProducer:
    return RecordingProducer()


@pytest.fixture
def backend(store: LiveStore, producer: RecordingProducer, tmp_path) -> Backend:
    """The backend sessions get, minus the Kafka feed (no thread, no broker);
    its grids are kept in the test's temporary directory."""
    loaded = load_instrument("dummy")
    grids = GridStore(tmp_path / "state", loaded.name, templates(loaded))
    sender = CommandSender(producer, "dummy", store)
    control = JobControl(store.jobs, sender, grids.remember_job)
    broker = "localhost:9092 (KAFKA_BOOTSTRAP_SERVERS)"
    return Backend(loaded, store, sender, control, None, producer, broker, grids)
