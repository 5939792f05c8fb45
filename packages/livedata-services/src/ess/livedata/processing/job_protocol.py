"""The facility's job protocol in front of a service: jobs, commands, keys, heartbeats.

Every view and every reduction a service runs is a job (ADR 0006): a
workflow on one source, with a job number, parameters, a schedule and aux
sources. :class:`JobProtocolProcessor` is the one copy of what all services
share: the job table (default jobs at start-up, replacing, stopping), the
command ladder (``workflow_config``, ``job_command`` and ROI requests) and
its ACK/ERR responses (PROTOCOL.md section 5), schedules, the result keys
results are published under, NICOS device values and job heartbeats.

What is particular to a service is its :class:`JobBinding`
(:mod:`.job_bindings`): how a job's parameters, reset and stop reach the
service's accumulators, and which of their outputs are the job's.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import scipp as sc
from pydantic import BaseModel, ValidationError

from ess.livedata.core.commands import MAX_COMMAND_BYTES, validation_summary
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import RoiRequest
from ess.livedata.core.window import TimeWindow
from ess.livedata.core.workflow import WorkflowSpec
from ess.livedata.protocol import (
    BROADCAST_DEVICE,
    JobAction,
    JobCommand,
    JobId,
    JobMessage,
    JobState,
    Response,
    ResponseKind,
    ResultKey,
    RoiGeometry,
    ServiceDetails,
    ServiceName,
    WorkflowConfig,
    WorkflowId,
    parse_command,
    split_result_name,
)

from .commanding import CommandRejected
from .outputs import data_message

logger = logging.getLogger(__name__)

_DEFAULT_JOBS = uuid.UUID("6c1f6a53-3e0b-4c36-9a41-2f8d0f5b7e21")
"""Namespace of default job numbers: every worker derives the same ones."""


def default_job_number(workflow: WorkflowId, source: str) -> str:
    """The job number of a default job, the same in every worker of a service.

    Scaled-out workers publish parts of one result; they combine only under
    one result key, so a job started at start-up cannot take a random number.
    """
    return str(uuid.uuid5(_DEFAULT_JOBS, f"{workflow}/{source}"))


@dataclass
class Job:
    """One workflow running on one source, as the protocol knows it."""

    workflow: WorkflowId
    spec: WorkflowSpec
    job_id: JobId
    params: BaseModel
    start_at: int | None = None
    """Data time (ns) the job starts at; ``None`` starts at once."""
    end_at: int | None = None
    """Data time (ns) the job ends at; ``None`` never ends."""
    aux_source_names: dict[str, str] = field(default_factory=dict)
    state: JobState = JobState.ACTIVE
    warning: str | None = None
    error: str | None = None
    start_time: int | None = None
    """Start of the data time the published results cover."""
    end_time: int | None = None
    """End of the data time the published results cover."""

    @property
    def source(self) -> str:
        return self.job_id.source_name

    def fail(self, reason: str) -> None:
        """The job cannot go on: it reports ``error`` until stopped."""
        self.state = JobState.ERROR
        self.error = reason

    def warn(self, warning: str | None) -> None:
        """The job runs but lacks something (e.g. skips windows it cannot
        keep up with): ``warning`` (NICOS 210) until cleared with None."""
        self.warning = warning
        self.state = JobState.ACTIVE if warning is None else JobState.WARNING

    @property
    def running(self) -> bool:
        return self.state in (JobState.ACTIVE, JobState.WARNING)

    def heartbeat(self) -> JobMessage:
        return JobMessage(
            state=self.state,
            warning=self.warning,
            error=self.error,
            job_id=self.job_id,
            workflow_id=str(self.workflow),
            start_time=self.start_time,
            end_time=self.end_time,
        )


class JobBinding(Protocol):
    """How one service's accumulators run jobs; raise
    :class:`~.commanding.CommandRejected` to refuse."""

    def start(self, job: Job) -> None:
        """Apply the job's parameters; its accumulation starts afresh."""

    def reset(self, job: Job) -> None:
        """Clear what the job accumulated."""

    def stop(self, job: Job, remaining: Sequence[Job]) -> None:
        """The job is gone; ``remaining`` are the jobs still running."""

    def key(self, job: Job) -> str:
        """The source part of the internal names of the job's outputs."""

    def outputs(
        self, job: Job, produced: Mapping[str, sc.DataArray]
    ) -> dict[str, sc.DataArray]:
        """The job's outputs, by the facility's output name, from what its
        key's accumulator ``produced`` this window (internal output names)."""

    def set_rois(self, job: Job, geometry: RoiGeometry, data: sc.DataArray) -> None:
        """Replace the job's ROIs of ``geometry`` (an ROI request's columns)."""


class AccumulatingProcessor(Protocol):
    """A service's accumulators, driven by :class:`JobProtocolProcessor`.

    Those whose windows may be skipped are also :class:`SkippingAccumulator`.
    """

    def process_window(
        self, window: TimeWindow, messages: Mapping[StreamId, list[Message[Any]]]
    ) -> list[Message[Any]]: ...

    def status_details(self) -> ServiceDetails: ...


class SkippingAccumulator(AccumulatingProcessor, Protocol):
    """Accumulators that can account for a window the loop skips."""

    def skip_window(
        self, window: TimeWindow, messages: Mapping[StreamId, list[Message[Any]]]
    ) -> int: ...


class JobProtocolProcessor:
    """A service's :class:`~ess.livedata.core.loop.WindowProcessor` in the
    facility's job protocol.

    Parameters
    ----------
    instrument:
        The instrument's name, the first part of every workflow id.
    service:
        The service; it answers commands for workflows it runs.
    specs:
        The workflows the service runs.
    accumulators:
        The service's accumulators, publishing under internal
        ``service/key/output`` names.
    binding:
        How jobs reach the accumulators.
    default_jobs:
        Whether every view of ``specs`` starts on every source at once.
    """

    def __init__(
        self,
        *,
        instrument: str,
        service: ServiceName,
        specs: Iterable[WorkflowSpec],
        accumulators: AccumulatingProcessor,
        binding: JobBinding,
        default_jobs: bool,
    ) -> None:
        self._instrument = instrument
        self._service = service
        self._specs = {spec.name: spec for spec in specs}
        self._inner = accumulators
        self._binding = binding
        self._jobs: dict[JobId, Job] = {}
        self._ended: list[Job] = []
        self._devices_published: set[str] = set()
        self.accepted = 0
        self.rejected = 0
        if not hasattr(accumulators, "skip_window"):
            # The loop skips only processors with skip_window; timeseries must
            # never skip (logs legitimately carry old timestamps).
            self.skip_window = None  # type: ignore[assignment]
        if default_jobs:
            for spec in self._specs.values():
                workflow = self._workflow_id(spec)
                for source in spec.sources:
                    number = default_job_number(workflow, source)
                    job_id = JobId(source_name=source, job_number=number)
                    self._jobs[job_id] = Job(workflow, spec, job_id, spec.params())

    def _workflow_id(self, spec: WorkflowSpec) -> WorkflowId:
        return WorkflowId(
            instrument=self._instrument, name=spec.name, version=spec.version
        )

    # -- data -----------------------------------------------------------------

    def process_window(
        self, window: TimeWindow, messages: Mapping[StreamId, list[Message[Any]]]
    ) -> list[Message[Any]]:
        self._begin_scheduled(window)
        produced: dict[str, dict[str, sc.DataArray]] = {}
        for message in self._inner.process_window(window, messages):
            _, key, output = split_result_name(message.stream.name)
            produced.setdefault(key, {})[output] = message.value
        published: list[Message[Any]] = []
        self._devices_published.clear()
        for job in list(self._jobs.values()):
            if not job.running:
                continue
            outputs = self._binding.outputs(
                job, produced.get(self._binding.key(job), {})
            )
            if outputs:
                published += self._publish(job, window, outputs)
        self._end_scheduled(window)
        return published

    def skip_window(
        self, window: TimeWindow, messages: Mapping[StreamId, list[Message[Any]]]
    ) -> int:
        self._begin_scheduled(window)
        # Only reached with a SkippingAccumulator: __init__ unsets skip_window.
        skipped = cast(SkippingAccumulator, self._inner).skip_window(window, messages)
        self._end_scheduled(window)
        return skipped

    def _publish(
        self, job: Job, window: TimeWindow, outputs: Mapping[str, sc.DataArray]
    ) -> list[Message[Any]]:
        messages = []
        for name, data in outputs.items():
            key = ResultKey(
                workflow_id=job.workflow, job_id=job.job_id, output_name=name
            )
            messages.append(
                data_message(key.to_source_name(), window.end, with_time(data))
            )
        job.start_time = min(
            (
                _ns(d.coords["start_time"])
                for d in outputs.values()
                if "start_time" in d.coords
            ),
            default=job.start_time,
        )
        job.end_time = window.end
        for output, template in job.spec.nicos_devices.items():
            device = template.format(source_name=job.source)
            # The view jobs of a bank share its counts: one value per device.
            if output in outputs and device not in self._devices_published:
                self._devices_published.add(device)
                messages.append(nicos_message(device, outputs[output]))
        return messages

    def _begin_scheduled(self, window: TimeWindow) -> None:
        for job in self._jobs.values():
            starts = job.start_at
            due = starts is not None and window.end > starts
            if job.state is JobState.SCHEDULED and due:
                try:
                    self._start(job)
                except CommandRejected as error:
                    job.fail(str(error))

    def _end_scheduled(self, window: TimeWindow) -> None:
        for job in list(self._jobs.values()):
            if job.end_at is not None and window.end >= job.end_at:
                logger.info(
                    "job %s of %s reached its end time", job.job_id, job.workflow
                )
                self._remove(job)

    # -- commands -------------------------------------------------------------

    def handle_command(self, message: Message[Any]) -> list[Message[Any]]:
        """Apply one command or ROI request; the responses it is owed."""
        if isinstance(message.value, RoiRequest):
            self._set_rois(message.value)
            return []
        payload: bytes = message.value
        if len(payload) > MAX_COMMAND_BYTES:
            logger.warning("command of %d bytes ignored", len(payload))
            self.rejected += 1
            return []
        try:
            command = parse_command(payload)
        except (ValidationError, ValueError) as error:
            reason = (
                validation_summary(error)
                if isinstance(error, ValidationError)
                else str(error)
            )
            logger.warning("ignored a command that is not the protocol's: %s", reason)
            self.rejected += 1
            return []
        if isinstance(command, WorkflowConfig):
            return self._configure(command)
        return self._act(command)

    def _configure(self, config: WorkflowConfig) -> list[Message[Any]]:
        spec = self._specs.get(config.identifier.name)
        if (
            spec is None
            or config.identifier.instrument != self._instrument
            or config.identifier.version != spec.version
        ):
            return []  # another service's workflow
        message_id = config.message_id or str(uuid.uuid4())
        device = config.job_id.source_name
        if spec.sources and device not in spec.sources:
            known = ", ".join(spec.sources)
            return [
                self._err(
                    message_id, device, f"unknown source {device!r} (known: {known})"
                )
            ]
        try:
            params = spec.params.model_validate(config.params)
        except ValidationError as error:
            return [self._err(message_id, device, validation_summary(error))]
        job = Job(
            workflow=config.identifier,
            spec=spec,
            job_id=config.job_id,
            params=params,
            start_at=config.schedule.start_time,
            end_at=config.schedule.end_time,
            aux_source_names=dict(config.aux_source_names),
            state=JobState.SCHEDULED,
        )
        replaced = self._jobs_on(spec.name, device)
        if job.job_id in self._jobs:  # the same id again: its keys are the new job's
            self._remove(self._jobs[job.job_id])
        if job.start_at is None:
            # Before the running job goes: a refused config changes nothing.
            try:
                self._start(job)
            except CommandRejected as error:
                return [self._err(message_id, device, str(error))]
        self._jobs[job.job_id] = job
        for old in replaced:
            if old.job_id != job.job_id:
                self._remove(old)
        logger.info(
            "started %s on %s as job %s", spec.name, device, job.job_id.job_number
        )
        return [self._ack(message_id, device)]

    def _start(self, job: Job) -> None:
        self._binding.start(job)
        job.state = JobState.ACTIVE

    def _act(self, command: JobCommand) -> list[Message[Any]]:
        message_id = command.message_id or str(uuid.uuid4())
        if command.action in (JobAction.PAUSE, JobAction.RESUME):
            # As the facility does: refused before looking for the job, by
            # every service for a job id, by those holding jobs otherwise.
            if command.job_id is None and not self._select(command):
                return []
            device = str(command.job_id) if command.job_id else BROADCAST_DEVICE
            return [self._err(message_id, device, f"{command.action} is not supported")]
        jobs = self._select(command)
        if not jobs:
            return []
        for job in jobs:
            if command.action is JobAction.RESET:
                self._reset(job)
            else:
                self._remove(job)
        logger.info("%s %d job(s) of %s", command.action, len(jobs), self._service)
        device = str(command.job_id) if command.job_id else BROADCAST_DEVICE
        return [self._ack(message_id, device)]

    def _reset(self, job: Job) -> None:
        """Clear the job's data; a failed job starts over (its binding rebuilds it)."""
        if job.state is JobState.SCHEDULED:
            return  # nothing accumulated, and the binding does not know it yet
        try:
            self._binding.reset(job)
        except CommandRejected as error:
            logger.warning("reset of %s refused: %s", job.job_id, error)
            return
        job.start_time = None
        if job.state is JobState.ERROR:
            job.state = JobState.ACTIVE
            job.error = None

    def _select(self, command: JobCommand) -> list[Job]:
        if command.job_id is not None:
            job = self._jobs.get(command.job_id)
            return [job] if job is not None else []
        workflow = command.workflow
        if workflow is None:
            return list(self._jobs.values())
        return [j for j in self._jobs.values() if j.workflow == workflow]

    def _jobs_on(self, workflow: str, source: str) -> list[Job]:
        return [
            j
            for j in self._jobs.values()
            if j.workflow.name == workflow and j.source == source
        ]

    def _remove(self, job: Job) -> None:
        del self._jobs[job.job_id]
        if job.state is not JobState.SCHEDULED:
            self._binding.stop(job, list(self._jobs.values()))
        job.state = JobState.STOPPED
        self._ended.append(job)

    def _set_rois(self, request: RoiRequest) -> None:
        job = self._jobs.get(request.stream.job_id)
        if job is None:
            return
        try:
            self._binding.set_rois(job, request.stream.geometry, request.data)
        except (CommandRejected, ValueError) as error:
            self.rejected += 1
            logger.warning(
                "ROI request for %s refused: %s", request.stream.job_id, error
            )
            return
        self.accepted += 1

    def _ack(self, message_id: str, device: str) -> Message[Any]:
        self.accepted += 1
        return self._response(
            Response(message_id=message_id, device=device, response=ResponseKind.ACK)
        )

    def _err(self, message_id: str, device: str, reason: str) -> Message[Any]:
        self.rejected += 1
        logger.warning("refused command %s for %s: %s", message_id, device, reason)
        return self._response(
            Response(
                message_id=message_id,
                device=device,
                response=ResponseKind.ERR,
                message=reason,
            )
        )

    def _response(self, response: Response) -> Message[Any]:
        stream = StreamId(StreamKind.LIVEDATA_RESPONSES, self._service)
        return Message(time.time_ns(), stream, response)

    # -- status ---------------------------------------------------------------

    def status_details(self) -> ServiceDetails:
        details = self._inner.status_details()
        return details.model_copy(
            update={
                "commands_accepted": self.accepted,
                "commands_rejected": self.rejected,
            }
        )

    def job_heartbeats(self) -> list[JobMessage]:
        """One heartbeat per job held, and a last one for each job that ended."""
        ended, self._ended = self._ended, []
        return [job.heartbeat() for job in (*self._jobs.values(), *ended)]

    def jobs(self) -> list[Job]:
        return list(self._jobs.values())


def _ns(time: sc.Variable) -> int:
    return int(time.value.astype("int64"))


def with_time(data: sc.DataArray) -> sc.DataArray:
    """``data`` with the facility's ``time`` coordinate: the end of its window."""
    if "end_time" not in data.coords or "time" in data.coords:
        return data
    data = data.copy(deep=False)
    data.coords["time"] = data.coords["end_time"]
    return data


def nicos_message(device: str, data: sc.DataArray) -> Message[sc.DataArray]:
    """A NICOS device value: the 0-d total of ``data`` with its time span."""
    total = data.sum() if data.ndim else data.copy(deep=False)
    value = sc.DataArray(total.data)
    for name in ("start_time", "end_time"):
        if name in data.coords:
            value.coords[name] = data.coords[name]
    value = with_time(value)
    end = data.coords.get("end_time")
    timestamp = _ns(end) if end is not None else time.time_ns()
    return Message(timestamp, StreamId(StreamKind.LIVEDATA_NICOS, device), value)
