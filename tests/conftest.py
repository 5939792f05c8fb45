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
from ess.livedata.core.plugins import LoadedInstrument, load_instrument
from ess.livedata.core.status import ServiceStatus
from ess.livedata.core.streams import LIVEDATA_TOPIC_SUFFIX, Topology
from ess.livedata.fake.detectors import bank_events_per_pulse
from ess.livedata.kafka.clients import ensure_topics
from ess.livedata.kafka.local_broker import LocalKafkaBroker, MissingToolError
from ess.livedata.kafka.settings import KafkaSettings
from ess.livedata.testing.processes import Program
from ess.livedata.testing.readers import LivedataReader

INSTRUMENT = "dummy"


def create_instrument_topics(
    servers: str,
    partitions: Mapping[str, int] = {},
    instrument: str = INSTRUMENT,
    topology: Topology = Topology.DEV,
) -> None:
    """An instrument's topics (default dummy, dev); ``partitions`` by topic, else one."""
    settings = KafkaSettings(bootstrap_servers=servers)
    mapping = load_instrument(instrument).stream_mapping(topology)
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


def run_fakes_through_services(
    loaded: LoadedInstrument,
    bootstrap: str,
    log_dir: Path,
    topology: Topology,
    pulses: int,
    events_per_pulse: int,
) -> None:
    """Run the instrument's detector_data and monitor_data, then its fakes for
    ``pulses`` pulses, all on ``topology``; every bank's and monitor's ledger
    must receive every event, count some and balance."""
    create_instrument_topics(bootstrap, instrument=loaded.name, topology=topology)
    mapping = loaded.stream_mapping(topology)
    dev = ["--dev"] if topology is Topology.DEV else []
    expected = {
        ("detector_data", StreamKind.DETECTOR_EVENTS): loaded.instrument.detectors,
        ("monitor_data", StreamKind.MONITOR_EVENTS): loaded.instrument.monitors,
    }
    reader = LivedataReader(bootstrap, loaded.name)
    services = [
        _program(loaded.name, service, bootstrap, log_dir, *dev)
        for service, _ in expected
    ]
    try:
        for service, kind in expected:
            topics = mapping.input_topics([kind])
            wait_until_consuming(reader, service, partitions=len(topics) + 1)
        fake_args = [
            "--pulses",
            str(pulses),
            "--events-per-pulse",
            str(events_per_pulse),
        ]
        if topology is Topology.PRODUCTION:
            fake_args.append("--production-topics")
        fakes = [
            _program(loaded.name, fake, bootstrap, log_dir, *fake_args)
            for fake in ("fake_detectors", "fake_monitors")
        ]
        for fake in fakes:
            assert fake.wait(timeout=120) == 0, fake.log_tail()
        names = [bank.name for bank in loaded.instrument.detectors]
        per_pulse = dict(
            zip(
                names,
                bank_events_per_pulse(
                    names, loaded.fake_data_shapes(), events_per_pulse
                ),
                strict=True,
            )
        )
        for (service, _), items in expected.items():
            sources = [item.name for item in items]
            received = [pulses * per_pulse.get(s, events_per_pulse) for s in sources]
            ledger = _full_ledger(
                reader, service, dict(zip(sources, received, strict=True))
            )
            for source in sources:
                assert ledger[source]["balanced"], (service, source, ledger[source])
                assert ledger[source]["counted"] > 0, (service, source, ledger[source])
        for program in services:
            assert program.stop() == 0, program.log_tail()
    finally:
        for program in services:
            program.stop()
        reader.close()


def _program(instrument: str, module: str, bootstrap: str, log_dir, *args) -> Program:
    return Program(
        f"ess.livedata.services.{module}",
        ["--instrument", instrument, *args],
        bootstrap_servers=bootstrap,
        log_dir=log_dir,
    )


def _full_ledger(
    reader: LivedataReader, service: str, received: dict[str, int]
) -> dict:
    """The service's ledger once every source has received its events."""

    def complete() -> dict | None:
        status = reader.latest_status(service)
        ledger = status.details.get("ledger", {}) if status else {}
        counts = {s: ledger.get(s, {}).get("received") for s in received}
        return ledger if counts == received else None

    return reader.wait_for(complete, timeout=60, what=f"{service} ledgers")


def response_to(reader: LivedataReader, command_id: str) -> dict:
    return reader.wait_for(
        lambda: next(
            (r for r in reader.responses if r["command_id"] == command_id), None
        ),
        what=f"response to {command_id}",
    )


def latest_by_worker(
    reader: LivedataReader, service: str, pids: set[int]
) -> dict[int, ServiceStatus]:
    """The newest heartbeat of each of a service's workers (by pid)."""
    latest: dict[int, ServiceStatus] = {}
    for status in reader.status:
        if status.service == service and status.pid in pids:
            latest[status.pid] = status
    return latest


def wait_for_assignment(
    reader: LivedataReader, service: str, partitions_by_pid: dict[int, int]
) -> None:
    """Until each worker's heartbeat shows this many assigned partitions
    (its data partitions plus its own command-topic partition)."""

    def assigned() -> bool:
        latest = latest_by_worker(reader, service, set(partitions_by_pid))
        return len(latest) == len(partitions_by_pid) and all(
            latest[pid].counters.get("assigned_partitions") == n
            for pid, n in partitions_by_pid.items()
        )

    reader.wait_for(assigned, timeout=90, what=f"assignment {partitions_by_pid}")


def wait_for_ledgers(
    reader: LivedataReader,
    service: str,
    pids: set[int],
    received: Mapping[str, int],
    base: Mapping[str, int] = {},
) -> dict[int, dict[str, dict]]:
    """Until the workers' ledgers together received ``received[source]``
    more events than ``base[source]`` for every source; the ledgers by pid."""

    def done() -> dict[int, dict[str, dict]] | None:
        latest = latest_by_worker(reader, service, pids)
        ledgers = {pid: s.details.get("ledger", {}) for pid, s in latest.items()}
        for source, total in received.items():
            got = sum(
                ledger.get(source, {}).get("received", 0) for ledger in ledgers.values()
            )
            if got - base.get(source, 0) != total:
                return None
        return ledgers

    return reader.wait_for(done, timeout=60, what=f"ledgers to reach {received}")
