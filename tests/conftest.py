"""Fixtures for cross-distribution tests that run real services over Kafka."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from ess.livedata.core.message import StreamKind
from ess.livedata.core.streams import LIVEDATA_TOPIC_SUFFIX, Topology
from ess.livedata.kafka.clients import ensure_topics
from ess.livedata.kafka.local_broker import LocalKafkaBroker, MissingToolError
from ess.livedata.kafka.settings import KafkaSettings
from ess.livedata.testing.processes import Program
from ess.livedata.testing.readers import LivedataReader

INSTRUMENT = "dummy"


def create_instrument_topics(
    servers: str, partitions: Mapping[str, int] = {}, instrument: str = INSTRUMENT
) -> None:
    """An instrument's dev topics (default dummy); ``partitions`` by topic, else one."""
    from ess.livedata.core.plugins import load_instrument

    settings = KafkaSettings(bootstrap_servers=servers)
    mapping = load_instrument(instrument).stream_mapping(Topology.DEV)
    topics = {key.topic for key in mapping.inputs}
    topics |= {f"{instrument}_{suffix}" for suffix in LIVEDATA_TOPIC_SUFFIX.values()}
    for topic, count in partitions.items():
        ensure_topics(settings, [topic], partitions=count)
    ensure_topics(settings, topics - set(partitions))


@pytest.fixture
def bootstrap(kafka_broker) -> str:
    """Bootstrap servers, with the dummy instrument's dev topics created."""
    create_instrument_topics(kafka_broker.bootstrap_servers)
    return kafka_broker.bootstrap_servers


@contextmanager
def private_broker(
    data_dir: Path, partitions: Mapping[str, int] = {}, **options: Any
) -> Iterator[LocalKafkaBroker]:
    """A broker of one test module, with the instrument's topics, for tests
    that stop it, secure it or partition a topic, which must not disturb the
    session broker. ``options`` go to :class:`LocalKafkaBroker`."""
    broker = LocalKafkaBroker(data_dir=data_dir, **options)
    try:
        broker.start()
    except MissingToolError as err:
        pytest.fail(f"{err} (or deselect with -m 'not kafka')", pytrace=False)
    try:
        create_instrument_topics(broker.bootstrap_servers, partitions)
        yield broker
    finally:
        broker.close()


@pytest.fixture
def reader(bootstrap) -> Iterator[LivedataReader]:
    reader = LivedataReader(bootstrap, INSTRUMENT)
    try:
        yield reader
    finally:
        reader.close()


@pytest.fixture
def start(bootstrap, tmp_path) -> Iterator[Callable[..., Program]]:
    """Start ``python -m ess.livedata.services.<name> --instrument dummy ...``."""
    programs: list[Program] = []

    def start(name: str, *args: str) -> Program:
        program = Program(
            f"ess.livedata.services.{name}",
            ["--instrument", INSTRUMENT, *args],
            bootstrap_servers=bootstrap,
            log_dir=tmp_path,
        )
        programs.append(program)
        return program

    try:
        yield start
    finally:
        for program in programs:
            program.stop()


@pytest.fixture
def send_command(bootstrap) -> Iterator[Callable[[str, dict], str]]:
    """Send a command body to a service; returns the command id."""
    producer = Producer({"bootstrap.servers": bootstrap})
    topic = f"{INSTRUMENT}_{LIVEDATA_TOPIC_SUFFIX[StreamKind.LIVEDATA_COMMANDS]}"

    def send(service: str, body: dict) -> str:
        command_id = uuid.uuid4().hex
        payload = {"command_id": command_id, "service": service, "body": body}
        producer.produce(topic, json.dumps(payload).encode())
        producer.flush(10)
        return command_id

    yield send
    producer.flush(10)


def wait_until_consuming(reader: LivedataReader, service: str, partitions: int) -> None:
    """Wait for the service's heartbeat to show its partitions assigned."""

    def ready():
        status = reader.latest_status(service)
        assigned = status.counters.get("assigned_partitions", 0) if status else 0
        return assigned >= partitions

    reader.wait_for(ready, timeout=60, what=f"{service} to be assigned partitions")


def response_to(reader: LivedataReader, command_id: str) -> dict:
    return reader.wait_for(
        lambda: next(
            (r for r in reader.responses if r["command_id"] == command_id), None
        ),
        what=f"response to {command_id}",
    )
