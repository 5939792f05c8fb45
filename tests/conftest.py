"""Fixtures for cross-distribution tests that run real services over Kafka."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import headless_chromium, unused_port, wait_for
from confluent_kafka import OFFSET_END, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from playwright.sync_api import Browser, Page

from ess.livedata.core.message import StreamKind
from ess.livedata.core.plugins import LoadedInstrument, load_instrument
from ess.livedata.core.streams import Topology
from ess.livedata.dashboard.grid_store import STATE_DIR_ENV
from ess.livedata.fake.detectors import bank_events_per_pulse
from ess.livedata.kafka.clients import ensure_topics
from ess.livedata.kafka.livedata_topics import LivedataTopic, ServiceReport
from ess.livedata.kafka.local_broker import LocalKafkaBroker, MissingToolError
from ess.livedata.kafka.settings import KafkaSettings
from ess.livedata.protocol import (
    JobAction,
    JobCommand,
    JobId,
    JobMessage,
    JobState,
    Ledger,
    ReductionJob,
    Response,
    ServiceName,
    WorkflowConfig,
    WorkflowId,
    encode_command,
)
from ess.livedata.testing.processes import Program
from ess.livedata.testing.readers import LivedataReader

INSTRUMENT = "dummy"
CONTROL_PARTITIONS = {"detector_data": 2, "monitor_data": 1}
"""Partitions a worker of each service is assigned besides its data: the
commands topic and, for detector_data, the ROI topic (one partition each),
which every worker reads whole."""


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
    topics |= {topic.of(instrument) for topic in LivedataTopic}
    for topic, count in partitions.items():
        ensure_topics(settings, [topic], partitions=count)
    ensure_topics(settings, topics - set(partitions))


def forget_livedata_history(servers: str, instrument: str = INSTRUMENT) -> None:
    """Delete every record on the instrument's livedata topics.

    A dashboard replays recent heartbeats and results on start; on the
    session broker those include services that earlier test modules stopped,
    which it rightly reports. A module that checks the page is healthy starts
    from here instead.
    """
    admin = AdminClient({"bootstrap.servers": servers})
    topics = [topic.of(instrument) for topic in LivedataTopic]
    metadata = admin.list_topics(timeout=10).topics
    partitions = [
        TopicPartition(topic, p, OFFSET_END)
        for topic in topics
        if topic in metadata
        for p in metadata[topic].partitions
    ]
    for future in admin.delete_records(partitions, request_timeout=10).values():
        future.result()


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


@contextmanager
def program_starter(
    bootstrap_servers: str, log_dir: Path, instrument: str = INSTRUMENT
) -> Iterator[Callable[..., Program]]:
    """Start ``python -m ess.livedata.services.<name> --instrument <instrument>
    ...``; every program started is stopped on exit."""
    programs: list[Program] = []

    def start(name: str, *args: str) -> Program:
        program = _program(instrument, name, bootstrap_servers, log_dir, *args)
        programs.append(program)
        return program

    try:
        yield start
    finally:
        for program in programs:
            program.stop()


@pytest.fixture
def start(bootstrap, tmp_path) -> Iterator[Callable[..., Program]]:
    """:func:`program_starter` for the dummy instrument."""
    with program_starter(bootstrap, tmp_path) as start:
        yield start


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, one per test module."""
    with headless_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser page of the module's Chromium."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def dashboard(bootstrap, tmp_path) -> Iterator[Callable[..., tuple[str, Program]]]:
    """Start ``python -m ess.livedata.dashboard.<name>``; returns URL and program.

    Dashboards of one test share their state directory (grids, job configs),
    as the dashboards of one instrument on one host do.
    """
    programs: list[Program] = []

    def start(
        name: str = "monitors", bootstrap_servers: str = bootstrap
    ) -> tuple[str, Program]:
        port = unused_port()
        program = Program(
            f"ess.livedata.dashboard.{name}",
            ["--instrument", INSTRUMENT, "--port", str(port)],
            bootstrap_servers=bootstrap_servers,
            log_dir=tmp_path,
            env={STATE_DIR_ENV: str(tmp_path / "state")},
        )
        programs.append(program)
        # Importing Panel takes a while on a loaded machine: serve first.
        wait_for(
            lambda: " at http://" in program.log() or not program.running(),
            "the dashboard to serve",
            timeout=180,
        )
        return f"http://127.0.0.1:{port}/", program

    try:
        yield start
    finally:
        for program in programs:
            assert program.stop() == 0, program.log()


def workflow_id(name: str, instrument: str = INSTRUMENT) -> WorkflowId:
    """A workflow of the instrument, e.g. ``workflow_id("monitor_histogram")``."""
    return WorkflowId(instrument=instrument, name=name, version=1)


def workflow_config(
    workflow: str | WorkflowId,
    source: str,
    params: Mapping[str, Any] = {},
    **fields: Any,
) -> WorkflowConfig:
    """Start (or replace) the job of ``workflow`` (a dummy workflow's name, or
    any id) on ``source`` under a new job number, as the dashboard does;
    ``fields`` as :class:`WorkflowConfig`'s."""
    return WorkflowConfig(
        identifier=workflow
        if isinstance(workflow, WorkflowId)
        else workflow_id(workflow),
        job_id=JobId(source_name=source, job_number=str(uuid.uuid4())),
        params=dict(params),
        **fields,
    )


def job_command(
    action: JobAction | str, job: JobId | None = None, workflow: str | None = None
) -> JobCommand:
    """``action`` on ``job``, else on every job of ``workflow``, else on all."""
    return JobCommand(
        action=JobAction(action),
        job_id=job,
        workflow_id=None if workflow is None else workflow_id(workflow),
    )


@contextmanager
def command_sender(
    bootstrap_servers: str, instrument: str = INSTRUMENT
) -> Iterator[Callable[..., str]]:
    """Send facility commands (:func:`workflow_config`, :func:`job_command`)
    to ``instrument`` under one new message id, as one user action; the
    sender returns the message id."""
    producer = Producer({"bootstrap.servers": bootstrap_servers})
    topic = LivedataTopic.COMMANDS.of(instrument)

    def send(*commands: WorkflowConfig | JobCommand) -> str:
        message_id = str(uuid.uuid4())
        for command in commands:
            stamped = command.model_copy(update={"message_id": message_id})
            producer.produce(topic, encode_command(stamped))
        producer.flush(10)
        return message_id

    yield send
    producer.flush(10)


@pytest.fixture
def send_commands(bootstrap) -> Iterator[Callable[..., str]]:
    """:func:`command_sender` to the dummy instrument."""
    with command_sender(bootstrap) as send:
        yield send


def responses_to(
    reader: LivedataReader, message_id: str, count: int = 1, timeout: float = 30
) -> list[Response]:
    """The responses (ACK or ERR) to the commands sent as ``message_id``, once
    ``count`` of them arrived (one per job or service that answers)."""

    def answered() -> list[Response] | None:
        found = [r for r in reader.responses if r.message_id == message_id]
        return found if len(found) >= count else None

    return reader.wait_for(
        answered, timeout, what=f"{count} response(s) to {message_id}"
    )


def response_to(reader: LivedataReader, message_id: str) -> Response:
    """The first response to the commands sent as ``message_id``."""
    return responses_to(reader, message_id)[0]


def job_heartbeat(reader: LivedataReader, job: JobId) -> JobMessage | None:
    """The newest heartbeat of ``job``."""
    return reader.view.jobs().get(job)


def job_status(reader: LivedataReader, job: JobId) -> ReductionJob | None:
    """data_reduction's own status of ``job`` (params, state, message)."""
    report = reader.latest_report(ServiceName.DATA_REDUCTION)
    jobs = report.details.jobs if report else {}
    return next(
        (s for key, s in jobs.items() if key.endswith(f".{job.job_number}")), None
    )


def current_job(
    reader: LivedataReader, workflow: str, source: str, timeout: float = 30
) -> JobMessage:
    """The newest heartbeat of a running job of ``workflow`` on ``source``
    (e.g. a service's default job), to address it by its id."""
    wanted = str(workflow_id(workflow))

    def running() -> JobMessage | None:
        return next(
            (
                job
                for job in reversed(reader.view.jobs().values())
                if job.workflow_id == wanted
                and job.job_id.source_name == source
                and job.state is not JobState.STOPPED
            ),
            None,
        )

    return reader.wait_for(running, timeout, what=f"a job of {wanted} on {source}")


def reduction_partitions(instrument: str = INSTRUMENT) -> int:
    """What data_reduction (dev topics) is assigned: one partition per
    detector, monitor and log topic, plus the command topic."""
    mapping = load_instrument(instrument).stream_mapping(Topology.DEV)
    kinds = (StreamKind.DETECTOR_EVENTS, StreamKind.MONITOR_EVENTS, StreamKind.LOG)
    return len(mapping.input_topics(kinds)) + 1


def wait_until_consuming(reader: LivedataReader, service: str, partitions: int) -> None:
    """Wait for the service's heartbeat to show its partitions assigned."""

    def ready():
        report = reader.latest_report(service)
        assigned = report.counters.get("assigned_partitions", 0) if report else 0
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
            wait_until_consuming(
                reader, service, len(topics) + CONTROL_PARTITIONS[service]
            )
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
                assert ledger[source].balanced, (service, source, ledger[source])
                assert ledger[source].counted > 0, (service, source, ledger[source])
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
) -> dict[str, Ledger]:
    """The service's ledger once every source has received its events."""

    def complete() -> dict[str, Ledger] | None:
        report = reader.latest_report(service)
        ledger = getattr(report.details, "ledger", {}) if report else {}
        counts = {s: ledger[s].received if s in ledger else None for s in received}
        return ledger if counts == received else None

    return reader.wait_for(complete, timeout=60, what=f"{service} ledgers")


def latest_by_worker(
    reader: LivedataReader, service: str, pids: set[int]
) -> dict[int, ServiceReport]:
    """The newest heartbeat of each of a service's workers (by pid)."""
    return {r.pid: r for r in reader.view.workers(service) if r.pid in pids}


def wait_for_assignment(
    reader: LivedataReader, service: str, partitions_by_pid: dict[int, int]
) -> None:
    """Until each worker's heartbeat shows this many assigned partitions
    (its data partitions plus :data:`CONTROL_PARTITIONS`)."""

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
) -> dict[int, dict[str, Ledger]]:
    """Until the workers' ledgers together received ``received[source]``
    more events than ``base[source]`` for every source; the ledgers by pid."""

    def done() -> dict[int, dict[str, Ledger]] | None:
        latest = latest_by_worker(reader, service, pids)
        ledgers = {
            pid: dict(getattr(r.details, "ledger", {})) for pid, r in latest.items()
        }
        for source, total in received.items():
            got = sum(
                ledger.get(source, Ledger()).received for ledger in ledgers.values()
            )
            if got - base.get(source, 0) != total:
                return None
        return ledgers

    return reader.wait_for(done, timeout=60, what=f"ledgers to reach {received}")
