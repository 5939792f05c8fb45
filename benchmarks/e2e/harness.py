"""Shared machinery of the end-to-end benchmarks: processes, output reader, sampling.

A run is one :class:`Stack`: the real Kafka broker (``LocalKafkaBroker``, or
``--bootstrap``), load generators (``loadgen.py``, the fake producers with a
payload pool) and services (``python -m ess.livedata.services.<name> --dev``,
through ``service_main.py`` so a benchmark can overlay configuration), each a
child process that dies with this one. An :class:`OutputReader` thread reads
the instrument's ``livedata_data`` and ``livedata_heartbeat`` topics and records,
per published "current" output, its data-time window and arrival wall time,
and every heartbeat together with the input topics' high watermarks at that
moment (for the consumer lag). A :class:`Sampler` records CPU time and RSS of
every process with psutil.

Latency of a pulse (the definition every table uses): the wall time at which
the harness receives the first da00 "current" output of the pulse's source
whose window holds the pulse's events, minus the pulse's ev44
``reference_time``. A message's events belong to the window of its first
pulse, so with one pulse per message that is the window ``[start_time,
end_time)`` containing the pulse time. Pulses are on the 14 Hz grid and each
window holds 14 of them, so the latency of a window's pulses spans
``A - end_time`` to ``A - start_time`` (``A`` the arrival); p99 over pulses is
about ``A - end_time + 0.99 s``, of which ~1 s is the window itself.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from streaming_data_types.dataarray_da00 import from_buffer
from streaming_data_types.fbschemas.dataarray_da00.da00_DataArray import (
    da00_DataArray,
)
from target import DUMMY, PULSE_HZ, Target

from ess.livedata.kafka.clients import ensure_topics
from ess.livedata.kafka.livedata_topics import (
    LivedataTopic,
    ServiceReport,
    short_name,
)
from ess.livedata.kafka.local_broker import LocalKafkaBroker
from ess.livedata.kafka.schemas.x5f2 import decode_x5f2
from ess.livedata.kafka.settings import KafkaSettings
from ess.livedata.kafka.worker_header import worker_of
from ess.livedata.protocol import Ledger, ResultKey
from ess.livedata.testing.processes import LoggedProcess

logger = logging.getLogger("e2e")

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
PULSE_NS = round(1e9 / PULSE_HZ)
WINDOW_NS = 1_000_000_000
LATENCY_LIMIT_S = 1.5

# The broker keeps at most this much per partition: a 10-minute soak at
# 40 MB/s would otherwise fill the disk.
BROKER_PROPERTIES = {
    "log.segment.bytes": str(256 * 1024 * 1024),
    "log.retention.bytes": str(1024 * 1024 * 1024),
    "log.retention.check.interval.ms": "10000",
}


def create_topics(bootstrap: str, topics: Mapping[str, int]) -> None:
    """Create missing topics with the given partitions; wait for leaders.

    Existing topics must already have those partitions: a measurement on a
    topic partitioned differently would measure something else.
    """
    settings = KafkaSettings(bootstrap_servers=bootstrap)
    existing = AdminClient(settings.client_config()).list_topics(timeout=10).topics
    for name, wanted in topics.items():
        if name in existing and len(existing[name].partitions) != wanted:
            raise RuntimeError(
                f"topic {name} has {len(existing[name].partitions)} partitions, "
                f"need {wanted}: use a fresh broker"
            )
    for partitions in set(topics.values()):
        names = [name for name, wanted in topics.items() if wanted == partitions]
        ensure_topics(settings, names, partitions=partitions)


def child(
    name: str, argv: Sequence[str], log_dir: Path, env: Mapping[str, str]
) -> LoggedProcess:
    """A Python child process logging to ``<log_dir>/<name>.log``."""
    return LoggedProcess([PYTHON, *argv], log_path=log_dir / f"{name}.log", env=env)


def setup_logging() -> None:
    """Timestamped progress lines on stderr; the services' loggers stay quiet."""
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    logging.getLogger("ess").setLevel(logging.WARNING)


def broker_for(bootstrap: str | None) -> tuple[LocalKafkaBroker | None, str]:
    """The given broker, else a fresh local one (returned, for the caller to
    stop and to watch its process)."""
    if bootstrap:
        return None, bootstrap
    broker = LocalKafkaBroker(extra_properties=BROKER_PROPERTIES)
    broker.start()
    return broker, broker.bootstrap_servers


def child_env(bootstrap: str, target: Target) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "KAFKA2_BOOTSTRAP_SERVERS": bootstrap,
        "LIVEDATA_ENV": "dev",
        **target.env(),
    }


def start_service(
    service: str,
    bootstrap: str,
    log_dir: Path,
    *,
    target: Target = DUMMY,
    name: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    profile: Path | None = None,
) -> LoggedProcess:
    """``python -m ess.livedata.services.<service> --instrument dummy --dev``
    (or the target's instrument and topology).

    Runs through ``service_main.py``, which applies ``overrides`` (merged
    into the packaged configuration, e.g. ``{"kafka_upstream": {"consumer":
    {...}}}``) and then runs the module exactly as ``python -m`` does.
    """
    env = child_env(bootstrap, target)
    if overrides:
        env["LIVEDATA_BENCH_OVERRIDES"] = json.dumps(overrides)
    if profile is not None:
        env["LIVEDATA_BENCH_PROFILE"] = str(profile)
    return child(
        name or service,
        [
            str(HERE / "service_main.py"),
            f"ess.livedata.services.{service}",
            *target.service_args(),
            "--log-level",
            "INFO",
        ],
        log_dir,
        env,
    )


def start_loadgen(
    service: str,
    bootstrap: str,
    log_dir: Path,
    *,
    rate: float,
    target: Target = DUMMY,
    pulses: int | None = None,
    speedup: float = 1.0,
    pool: int = 4,
    pulses_per_message: int = 1,
    messages_per_pulse: int = 1,
    report: Path | None = None,
    seed: int = 1,
    name: str = "loadgen",
    producer_config: Mapping[str, Any] | None = None,
) -> LoggedProcess:
    argv = [
        str(HERE / "loadgen.py"),
        target.service(service).kind,
        *target.loadgen_args(),
        "--events-per-pulse",
        str(target.events_per_pulse(service, rate)),
        "--speedup",
        str(speedup),
        "--payload-pool",
        str(pool),
        "--pulses-per-message",
        str(pulses_per_message),
        "--messages-per-pulse",
        str(messages_per_pulse),
        "--seed",
        str(seed),
        "--log-level",
        "WARNING",
    ]
    if pulses is not None:
        argv += ["--pulses", str(pulses)]
    if report is not None:
        argv += ["--report", str(report)]
    if producer_config:
        argv += ["--producer-config", json.dumps(producer_config)]
    return child(name, argv, log_dir, child_env(bootstrap, target))


class CpuQuota:
    """Caps one process at ``cores`` of CPU (a cgroup v1 ``cpu`` group).

    On a shared machine the CPU a worker gets varies with the other tenants;
    capped, a worker falls behind where its own CPU need exceeds the cap, so
    the highest rate it sustains measures its capacity per core rather than
    the machine's. Needs root and the v1 ``cpu`` controller at ``ROOT``.
    """

    ROOT = Path("/sys/fs/cgroup/cpu")
    PERIOD_US = 100_000

    def __init__(self, name: str, cores: float) -> None:
        self.path = self.ROOT / f"livedata-bench-{os.getpid()}-{name}"
        self.path.mkdir()
        (self.path / "cpu.cfs_period_us").write_text(str(self.PERIOD_US))
        (self.path / "cpu.cfs_quota_us").write_text(str(round(cores * self.PERIOD_US)))

    def add(self, pid: int) -> None:
        """Move the process (all its threads) into the group."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def close(self) -> None:
        """Remove the group; its processes must have exited."""
        deadline = time.monotonic() + 10
        while self.path.exists():
            try:
                self.path.rmdir()
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


@dataclass(frozen=True)
class Output:
    """One published "current" output as received by the harness."""

    name: str
    start: int
    end: int
    total: float
    arrival_ns: int
    create_ms: int
    worker: str = ""
    """The ``livedata-worker`` header: which worker published this part."""


@dataclass(frozen=True)
class Heartbeat:
    status: ServiceReport
    arrival_ns: int
    create_ms: int
    high_watermarks: int

    @property
    def ledger(self) -> dict[str, Ledger]:
        """The per-source counts ledger of the heartbeat's details."""
        return dict(getattr(self.status.details, "ledger", {}))

    @property
    def received_events(self) -> int:
        return sum(entry.received for entry in self.ledger.values())

    @property
    def kafka_messages(self) -> int:
        return int(self.status.counters.get("kafka_messages", 0))


def light_da00(payload: bytes, wanted: set[str]) -> tuple[str, int, int, float] | None:
    """Short name (``workflow/source/output``), start_time, end_time and
    signal sum of a wanted da00 output.

    Reads the flatbuffer directly (no scipp), so the harness stays cheap.
    """
    root = da00_DataArray.GetRootAs(payload, 0)
    try:
        name = short_name(ResultKey.from_source_name(root.SourceName()))
    except ValueError:  # not a result key
        return None
    if name not in wanted:
        return None
    start = end = 0
    total = 0.0
    for i in range(root.DataLength()):
        variable = root.Data(i)
        var_name = variable.Name().decode()
        if var_name == "signal":
            total = float(np.sum(from_buffer(variable)))
        elif var_name == "start_time":
            start = int(from_buffer(variable).view(np.int64)[0])
        elif var_name == "end_time":
            end = int(from_buffer(variable).view(np.int64)[0])
    return name, start, end, total


class OutputReader(threading.Thread):
    """Records outputs and heartbeats of the instrument's livedata topics."""

    def __init__(
        self,
        bootstrap: str,
        input_topics: Iterable[str],
        wanted: Iterable[str],
        target: Target = DUMMY,
    ) -> None:
        super().__init__(daemon=True, name="output-reader")
        self.wanted = set(wanted)
        self.outputs: list[Output] = []
        self.heartbeats: list[Heartbeat] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        config = {
            "bootstrap.servers": bootstrap,
            "group.id": f"e2e-reader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 20,
        }
        self._consumer = Consumer(config)
        # Watermark queries must not share a consumer with another thread's
        # consume(): one client for this thread, one (locked) for callers.
        self._own_queries = Consumer(config)
        self._queries = Consumer(config)
        self._queries_lock = threading.Lock()
        self._inputs = partitions_of(bootstrap, input_topics)
        self._heartbeat_topic = LivedataTopic.HEARTBEAT.of(target.instrument)
        topics = [LivedataTopic.DATA.of(target.instrument), self._heartbeat_topic]
        assignment = []
        for tp in partitions_of(bootstrap, topics):
            tp.offset = _high(self._queries, tp)
            assignment.append(tp)
        self._consumer.assign(assignment)

    def high_watermarks(self) -> int:
        """Sum of the input partitions' high watermarks (any thread)."""
        with self._queries_lock:
            return sum(_high(self._queries, tp) for tp in self._inputs)

    def run(self) -> None:
        while not self._stopping.is_set():
            for record in self._consumer.consume(200, 0.05):
                if record.error() is not None:
                    continue
                arrival = time.time_ns()
                _, create_ms = record.timestamp()
                payload = record.value()
                if record.topic() == self._heartbeat_topic:
                    try:
                        status = ServiceReport.of(decode_x5f2(payload))
                    except Exception:
                        continue
                    if status is None:  # a job's heartbeat
                        continue
                    hw = sum(_high(self._own_queries, tp) for tp in self._inputs)
                    heartbeat = Heartbeat(status, arrival, create_ms, hw)
                    with self._lock:
                        self.heartbeats.append(heartbeat)
                    continue
                found = light_da00(payload, self.wanted)
                if found is None:
                    continue
                output = Output(
                    *found,
                    arrival_ns=arrival,
                    create_ms=create_ms,
                    worker=worker_of(record.headers()),
                )
                with self._lock:
                    self.outputs.append(output)

    def snapshot(self) -> tuple[list[Output], list[Heartbeat]]:
        with self._lock:
            return list(self.outputs), list(self.heartbeats)

    def latest_heartbeat(
        self, service: str, after_ns: int = 0, pid: int | None = None
    ) -> Heartbeat | None:
        with self._lock:
            for heartbeat in reversed(self.heartbeats):
                if heartbeat.arrival_ns < after_ns:
                    return None
                if heartbeat.status.service == service and (
                    pid is None or heartbeat.status.pid == pid
                ):
                    return heartbeat
        return None

    def wait_heartbeat(
        self,
        service: str,
        *,
        after_ns: int | None = None,
        pid: int | None = None,
        timeout: float = 30,
        condition: Any = None,
    ) -> Heartbeat:
        """The next heartbeat of ``service`` (arrived after ``after_ns``)."""
        after = time.time_ns() if after_ns is None else after_ns
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            heartbeat = self.latest_heartbeat(service, after, pid)
            if heartbeat is not None and (condition is None or condition(heartbeat)):
                return heartbeat
            time.sleep(0.05)
        raise TimeoutError(f"no heartbeat of {service} within {timeout} s")

    def close(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(5)
        for consumer in (self._consumer, self._own_queries, self._queries):
            consumer.close()


def _high(consumer: Consumer, partition: TopicPartition) -> int:
    """High watermark, retrying while a new partition has no leader yet."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return consumer.get_watermark_offsets(partition, timeout=10)[1]
        except KafkaException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def partitions_of(bootstrap: str, topics: Iterable[str]) -> list[TopicPartition]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    metadata = admin.list_topics(timeout=10).topics
    return [
        TopicPartition(topic, p) for topic in topics for p in metadata[topic].partitions
    ]


@dataclass
class Usage:
    """CPU seconds and RSS samples of one process."""

    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)

    def cores(self, t0: float, t1: float) -> float:
        """Mean cores used between two monotonic times (nearest samples)."""
        if len(self.times) < 2:
            return math.nan
        i0 = int(np.searchsorted(self.times, t0))
        i1 = int(np.searchsorted(self.times, t1, side="right")) - 1
        i0, i1 = min(i0, len(self.times) - 1), max(i1, 0)
        if i1 <= i0:
            return math.nan
        return (self.cpu[i1] - self.cpu[i0]) / (self.times[i1] - self.times[i0])

    def peak_rss(self, t0: float, t1: float) -> int:
        values = [r for t, r in zip(self.times, self.rss, strict=True) if t0 <= t <= t1]
        return max(values) if values else 0


class Sampler(threading.Thread):
    """Samples CPU time and RSS of named processes and the whole machine."""

    def __init__(self, interval_s: float = 0.5) -> None:
        super().__init__(daemon=True, name="sampler")
        self.interval_s = interval_s
        self.usage: dict[str, Usage] = {}
        self._processes: dict[str, psutil.Process] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.watch("harness", os.getpid())

    def watch(self, name: str, pid: int) -> None:
        with self._lock:
            self._processes[name] = psutil.Process(pid)
            self.usage[name] = Usage()

    def forget(self, name: str) -> None:
        with self._lock:
            self._processes.pop(name, None)

    def run(self) -> None:
        machine = self.usage.setdefault("machine", Usage())
        while not self._stopping.is_set():
            now = time.monotonic()
            cpu = psutil.cpu_times()
            busy = cpu.user + cpu.nice + cpu.system + cpu.irq + cpu.softirq
            machine.times.append(now)
            machine.cpu.append(busy + getattr(cpu, "steal", 0.0))
            machine.rss.append(0)
            with self._lock:
                processes = list(self._processes.items())
            for name, process in processes:
                try:
                    times = process.cpu_times()
                    rss = process.memory_info().rss
                except psutil.Error:
                    self.forget(name)
                    continue
                usage = self.usage[name]
                usage.times.append(now)
                usage.cpu.append(times.user + times.system)
                usage.rss.append(rss)
            self._stopping.wait(self.interval_s)

    def cores(self, t0: float, t1: float) -> dict[str, float]:
        """Cores used between two monotonic times by each process the
        benchmark runs and the machine, plus ``other``: the machine minus
        ours, i.e. what other tenants of a shared machine took.

        Processes watched as ``<role>#<k>`` (several workers of a service)
        are reported each and summed under ``<role>``.
        """
        roles = ("service", "loadgen", "broker", "harness", "machine")
        cores: dict[str, float] = {}
        for name in list(self.usage):
            role, _, _ = name.partition("#")
            value = self.usage[name].cores(t0, t1)
            if role not in roles or (role != name and not math.isfinite(value)):
                continue  # not ours, or a worker not running then
            cores[name] = value
            if role != name:
                cores[role] = cores.get(role, 0.0) + value
        ours = sum(
            v
            for k, v in cores.items()
            if k != "machine" and "#" not in k and math.isfinite(v)
        )
        cores["other"] = cores.get("machine", math.nan) - ours
        return cores

    def close(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(5)


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else math.nan


def pulse_latencies(
    outputs: Sequence[Output],
    output_names: Iterable[str],
    first_pulse_ns: int,
    pulses_per_message: int,
    data_range: tuple[int, int],
    cutoff_ns: int,
    workers: int = 1,
) -> tuple[list[float], int]:
    """Latency (s) of every pulse with time in ``data_range`` and every source.

    With several workers a window is complete, as a reader combines it, when
    the part of each of ``workers`` workers has arrived: its arrival is that
    of the last worker's first part. A pulse whose window output never
    arrived counts with ``cutoff_ns`` as arrival (a lower bound); returns the
    latencies and how many such pulses there were.
    """
    parts: dict[tuple[str, int], dict[str, int]] = {}
    for output in outputs:
        by_worker = parts.setdefault((output.name, output.start), {})
        by_worker.setdefault(output.worker, output.arrival_ns)
    arrivals = {
        key: max(by_worker.values())
        for key, by_worker in parts.items()
        if len(by_worker) >= workers
    }
    group_ns = pulses_per_message * PULSE_NS
    lo, hi = data_range
    k0 = -(-(lo - first_pulse_ns) // PULSE_NS)
    pulse_times = range(first_pulse_ns + k0 * PULSE_NS, hi, PULSE_NS)
    latencies: list[float] = []
    missing = 0
    for name in output_names:
        for pulse in pulse_times:
            group_first = (
                first_pulse_ns + (pulse - first_pulse_ns) // group_ns * group_ns
            )
            window_start = group_first // WINDOW_NS * WINDOW_NS
            arrival = arrivals.get((name, window_start))
            if arrival is None:
                missing += 1
                arrival = cutoff_ns
            latencies.append((arrival - pulse) / 1e9)
    return latencies, missing


def wait_for_first_message(
    reader: OutputReader, baseline: int, timeout: float = 60
) -> float:
    """Monotonic time at which the input topics grew past ``baseline``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reader.high_watermarks() > baseline:
            return time.monotonic()
        time.sleep(0.05)
    raise TimeoutError("load generator produced nothing")


def mono_to_wall_ns(mono: float) -> int:
    return time.time_ns() + round((mono - time.monotonic()) * 1e9)


def fmt_rate(value: float) -> str:
    if not math.isfinite(value):
        return "-"
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e4:
        return f"{value / 1e3:.0f}k"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    return f"{value:.0f}"


def machine_line() -> str:
    import platform

    import confluent_kafka

    load = os.getloadavg()
    return (
        f"{platform.node()}: {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, confluent-kafka {confluent_kafka.version()[0]} "
        f"(librdkafka {confluent_kafka.libversion()[0]}), load average "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}"
    )
