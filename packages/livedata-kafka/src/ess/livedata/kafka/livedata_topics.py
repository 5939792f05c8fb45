"""The one codec table and the one reader of livedata's own topics.

Everything that reads or writes what livedata publishes (the services'
sink, the dashboard feed, the test reader, the demo summary, the benchmark
harness) goes through :data:`CODECS`, so the wire format of each topic is
known in one place (PROTOCOL.md sections 3-6): results are da00 named by a
:class:`ResultKey`, heartbeats x5f2 with a service or job message, responses
and commands JSON, ROI requests and NICOS values da00.

:class:`LivedataView` keeps what a reader shows from decoded records: the
newest result per key (scaled-out workers' parts combined by the declared
temporality), the newest service heartbeat per worker with its typed status
details, the newest heartbeat per job, responses and NICOS values.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import scipp as sc
from pydantic import ValidationError

from ess.livedata.core.combine import ANONYMOUS, OutputCombiner, combining_name
from ess.livedata.core.payloads import RoiRequest
from ess.livedata.protocol import (
    CONTRACTS,
    Heartbeat,
    JobCommand,
    JobId,
    JobMessage,
    Response,
    ResultKey,
    RoiStream,
    ServiceDetails,
    ServiceMessage,
    ServiceName,
    ServiceState,
    WorkflowConfig,
    encode_command,
    parse_command,
)

from .schemas.da00 import decode_da00, encode_da00
from .schemas.errors import DecodeError
from .schemas.x5f2 import decode_x5f2, encode_x5f2
from .worker_header import worker_headers, worker_of

Headers = Sequence[tuple[str, bytes | None]]


class LivedataTopic(enum.StrEnum):
    """livedata's own topics, by the suffix after ``{instrument}_``."""

    DATA = "livedata_data"
    HEARTBEAT = "livedata_heartbeat"
    RESPONSES = "livedata_responses"
    COMMANDS = "livedata_commands"
    ROI = "livedata_roi"
    NICOS_DATA = "livedata_nicos_data"

    def of(self, instrument: str) -> str:
        """The topic name for ``instrument``, e.g. ``dummy_livedata_data``."""
        return f"{instrument}_{self.value}"

    @classmethod
    def of_topic(cls, topic: str) -> LivedataTopic | None:
        """Which of our topics ``topic`` is (by its suffix), or None."""
        return next((t for t in cls if topic.endswith(f"_{t.value}")), None)


@dataclass(frozen=True, slots=True)
class ResultMessage:
    """One output of one job, as one worker published it on the data topic."""

    key: ResultKey
    timestamp_ns: int
    data: sc.DataArray
    worker: str = ANONYMOUS

    @property
    def short_name(self) -> str:
        return short_name(self.key)


@dataclass(frozen=True, slots=True)
class NicosValue:
    """One 0-d value of a NICOS device (e.g. ``monitor1_counts_total``)."""

    device: str
    timestamp_ns: int
    data: sc.DataArray


Decoded = (
    ResultMessage
    | Heartbeat
    | Response
    | WorkflowConfig
    | JobCommand
    | RoiRequest
    | NicosValue
)


def short_name(key: ResultKey) -> str:
    """``workflow/source/output``, e.g. ``monitor_histogram/monitor1/current``:
    how tests and summaries name an output regardless of its job generation."""
    return f"{key.workflow_id.name}/{key.job_id.source_name}/{key.output_name}"


def _invalid(what: str, error: ValidationError) -> DecodeError:
    return DecodeError(f"invalid {what}", f"{error.error_count()} errors")


def encode_result(message: ResultMessage) -> bytes:
    return encode_da00(message.key.to_source_name(), message.timestamp_ns, message.data)


def decode_result(payload: bytes, worker: str = ANONYMOUS) -> ResultMessage:
    name, timestamp_ns, data = decode_da00(payload)
    try:
        key = ResultKey.from_source_name(name)
    except ValidationError as error:
        raise _invalid("result key", error) from None
    return ResultMessage(key, timestamp_ns, data, worker)


def decode_response(payload: bytes) -> Response:
    try:
        return Response.from_bytes(payload)
    except ValidationError as error:
        raise _invalid("command response", error) from None


def decode_command(payload: bytes) -> WorkflowConfig | JobCommand:
    try:
        return parse_command(payload)
    except ValidationError as error:
        raise _invalid("command", error) from None


def encode_roi(request: RoiRequest) -> bytes:
    """da00 with timestamp 0, as the corpus has ROI requests."""
    return encode_da00(request.stream.to_source_name(), 0, request.data)


def decode_roi(payload: bytes) -> RoiRequest:
    """An ROI request: a da00 named ``{source}/{job_number}/{geometry}``."""
    name, _, data = decode_da00(payload)
    try:
        stream = RoiStream.from_source_name(name)
    except ValueError as error:
        raise DecodeError("invalid ROI stream name", str(error)[:200]) from None
    return RoiRequest(stream, data)


def encode_nicos(value: NicosValue) -> bytes:
    return encode_da00(value.device, value.timestamp_ns, value.data)


def decode_nicos(payload: bytes) -> NicosValue:
    device, timestamp_ns, data = decode_da00(payload)
    if data.ndim != 0:
        raise DecodeError("NICOS value is not 0-d", f"{device}: dims {data.dims}")
    return NicosValue(device, timestamp_ns, data)


@dataclass(frozen=True, slots=True)
class Codec:
    """How one topic's messages are written and read."""

    kind: tuple[type, ...]
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Decoded]


CODECS: Mapping[LivedataTopic, Codec] = {
    LivedataTopic.DATA: Codec((ResultMessage,), encode_result, decode_result),
    LivedataTopic.HEARTBEAT: Codec((Heartbeat,), encode_x5f2, decode_x5f2),
    LivedataTopic.RESPONSES: Codec((Response,), Response.to_bytes, decode_response),
    LivedataTopic.COMMANDS: Codec(
        (WorkflowConfig, JobCommand), encode_command, decode_command
    ),
    LivedataTopic.ROI: Codec((RoiRequest,), encode_roi, decode_roi),
    LivedataTopic.NICOS_DATA: Codec((NicosValue,), encode_nicos, decode_nicos),
}


def topic_of(message: Decoded) -> LivedataTopic:
    """The topic ``message`` travels on."""
    return next(t for t, c in CODECS.items() if isinstance(message, c.kind))


def encode_record(message: Decoded) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Payload and Kafka headers of ``message`` on its :func:`topic_of`; a
    result carries its worker in the ``livedata-worker`` header."""
    worker = message.worker if isinstance(message, ResultMessage) else ANONYMOUS
    return CODECS[topic_of(message)].encode(message), worker_headers(worker)


def decode_record(
    topic: LivedataTopic, payload: bytes, headers: Headers | None = None
) -> Decoded:
    """The message in one record of ``topic``; a result names the worker of
    its ``livedata-worker`` header.

    Raises
    ------
    DecodeError
        The payload is not what ``topic`` carries.
    """
    message = CODECS[topic].decode(payload)
    if isinstance(message, ResultMessage):
        return replace(message, worker=worker_of(headers))
    return message


def service_details(message: ServiceMessage) -> ServiceDetails:
    """The typed status a service message carries as extra keys: its
    contract's model, or the common part for a service without a contract."""
    try:
        model = CONTRACTS[ServiceName(message.service_name)].status
    except ValueError:
        model = ServiceDetails
    return model.model_validate(message.model_extra or {})


def service_counters(message: ServiceMessage) -> dict[str, int]:
    """Monotonic totals (messages, rejections, partitions) a service message
    carries, so readers derive rates from two heartbeats."""
    counters = (message.model_extra or {}).get("counters")
    return dict(counters) if isinstance(counters, dict) else {}


@dataclass(frozen=True)
class ServiceReport:
    """A worker's service heartbeat, with the extras livedata adds typed."""

    heartbeat: Heartbeat
    message: ServiceMessage

    @classmethod
    def of(cls, heartbeat: Heartbeat) -> ServiceReport | None:
        """The report in ``heartbeat``, None for a job heartbeat."""
        message = heartbeat.status.message
        return cls(heartbeat, message) if isinstance(message, ServiceMessage) else None

    @property
    def service(self) -> str:
        return self.message.service_name

    @property
    def service_id(self) -> str:
        return self.message.service_id

    @property
    def state(self) -> ServiceState:
        return self.message.state

    @property
    def pid(self) -> int:
        return self.heartbeat.process_id

    @property
    def version(self) -> str:
        extras = self.message.model_extra or {}
        return str(extras.get("version", self.heartbeat.software_version))

    @property
    def counters(self) -> dict[str, int]:
        return service_counters(self.message)

    @cached_property
    def details(self) -> ServiceDetails:
        return service_details(self.message)


@dataclass
class LivedataView:
    """What readers of our topics show, built from decoded records.

    Not thread-safe: a reader that adds from one thread and reads from
    another holds a lock.
    """

    keep_parts: bool = True
    """False keeps only the combined newest result per key (long runs)."""
    parts: dict[ResultKey, list[ResultMessage]] = field(default_factory=dict)
    """Every part received per key, in arrival order (tests inspect them)."""
    reports: list[ServiceReport] = field(default_factory=list)
    """Every service heartbeat, in arrival order (kept with ``keep_parts``)."""
    responses: list[Response] = field(default_factory=list)
    nicos: dict[str, NicosValue] = field(default_factory=dict)
    """The newest value per NICOS device."""

    def __post_init__(self) -> None:
        self._combiner = OutputCombiner()
        self._latest: dict[ResultKey, sc.DataArray] = {}
        self._workers: dict[str, ServiceReport] = {}
        self._newest: dict[str, ServiceReport] = {}
        self._jobs: dict[JobId, JobMessage] = {}

    def add(self, message: Decoded) -> None:
        if isinstance(message, ResultMessage):
            self._add_result(message)
        elif isinstance(message, Heartbeat):
            self._add_heartbeat(message)
        elif isinstance(message, Response):
            self.responses.append(message)
        elif isinstance(message, NicosValue):
            self.nicos[message.device] = message

    def _add_result(self, message: ResultMessage) -> None:
        if self.keep_parts:
            self.parts.setdefault(message.key, []).append(message)
        name = combining_name(message.key, message.worker)
        # Re-inserted, so the newest key of a short name is found last.
        self._latest.pop(message.key, None)
        self._latest[message.key] = self._combiner.add(
            name, message.worker, message.data
        )

    def _add_heartbeat(self, heartbeat: Heartbeat) -> None:
        report = ServiceReport.of(heartbeat)
        if report is None:
            job = heartbeat.status.message
            assert isinstance(job, JobMessage)
            self._jobs[job.job_id] = job
            return
        self._combiner.heartbeat(report.message)
        self._workers[report.service_id] = report
        self._newest[report.service] = report
        if self.keep_parts:
            self.reports.append(report)

    def result(self, key: ResultKey) -> sc.DataArray | None:
        """The newest result of ``key``, workers' parts combined."""
        return self._latest.get(key)

    def keys(self) -> list[ResultKey]:
        return list(self._latest)

    def key_of(self, name: str) -> ResultKey | None:
        """The most recently updated key whose :func:`short_name` is ``name``."""
        return next((k for k in reversed(self._latest) if short_name(k) == name), None)

    def latest(self, name: str) -> sc.DataArray | None:
        """The newest result of the output ``workflow/source/output``, from
        whichever job published it last."""
        key = self.key_of(name)
        return None if key is None else self._latest[key]

    def names(self) -> list[str]:
        return sorted({short_name(k) for k in self._latest})

    def workers(self, service: str) -> list[ServiceReport]:
        """The newest heartbeat of each worker of ``service``."""
        return [r for r in self._workers.values() if r.service == service]

    def latest_report(self, service: str) -> ServiceReport | None:
        """The heartbeat of ``service`` that arrived last, from any worker."""
        return self._newest.get(service)

    def jobs(self) -> dict[JobId, JobMessage]:
        """The newest heartbeat of each job seen."""
        return dict(self._jobs)
