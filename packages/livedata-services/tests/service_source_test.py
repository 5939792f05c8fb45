"""The service's input: one wait per loop step, on the data topic."""

from __future__ import annotations

from typing import Any

from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.processing.service import data_and_commands


class Record:
    def __init__(self, topic: str) -> None:
        self._topic = topic

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return self._topic

    def value(self) -> bytes:
        return b"x"

    def timestamp(self) -> tuple[int, int]:
        return (1, 1)


class Consumer:
    """Records the timeout of every ``consume`` call; hands out queued records."""

    def __init__(self, topic: str, queued: int = 0) -> None:
        self.queued = [Record(topic) for _ in range(queued)]
        self.timeouts: list[float] = []

    def consume(self, num_messages: int, timeout: float) -> list[Any]:
        self.timeouts.append(timeout)
        taken, self.queued = self.queued[:num_messages], self.queued[num_messages:]
        return taken


class Decoder:
    def decode(self, topic: str, payload: bytes, kafka_timestamp_ns: int) -> Message:
        return Message(kafka_timestamp_ns, StreamId(StreamKind.LOG, topic), payload)


def test_quiet_topics_wait_on_the_data_consumer_only() -> None:
    data, commands = Consumer("data"), Consumer("commands")
    source = data_and_commands(data, commands, Decoder())
    for _ in range(3):
        assert source.get_messages() == []
    # One wait per step, so an idle loop sleeps rather than spins.
    assert [t for t in data.timeouts if t > 0] == [0.05] * 3
    assert commands.timeouts == [0, 0, 0]


def test_data_and_commands_arrive_in_the_same_step() -> None:
    data, commands = Consumer("data", queued=5), Consumer("commands", queued=1)
    source = data_and_commands(data, commands, Decoder())
    messages = source.get_messages()
    assert [m.stream.name for m in messages] == ["data"] * 5 + ["commands"]
    assert data.timeouts == [0]
    assert commands.timeouts == [0]
    assert source.counters()["kafka_messages"] == 6
