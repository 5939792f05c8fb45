"""Reduction jobs: instrument workflows bound to source streams, steered by commands.

A job is one workflow instance built by the instrument plugin's factory from
validated parameters and the streams it is bound to (its sources plus the
spec's auxiliary streams). Each closed window, every live job gets, for each
of its streams that had data, the list of that window's payloads in arrival
order, then publishes its outputs as ``data_reduction/<job id>/<output>``,
stamped with the data time it covers: from the first window it accumulated
since it was (re)built or reset, to the end of the current window.

States: ``scheduled`` (built, nothing published yet), ``running``,
``stopped`` (by command) and ``error`` (the workflow raised, or returned
something that is not a DataArray; the message says what). A failing job
never stops the others.

A window the service skips to catch up with live data (see ``max_lag_s``)
publishes nothing and only its log values reach the workflows; each live job
counts the events of its streams in it as ``skipped_events`` in its status,
so whoever reads its result knows how many events it lacks. A workflow too
slow for the window skips windows itself and adds to the same count.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ess.livedata.core.commands import Reset
from ess.livedata.core.job_commands import (
    StartJob,
    StopJob,
    parse_params,
)
from ess.livedata.core.job_sources import resolve_sources
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.core.window import TimeWindow
from ess.livedata.core.window_budget import ReportsLoad
from ess.livedata.core.workflow import Workflow, WorkflowFactory, WorkflowSpec
from ess.livedata.protocol import (
    DATA_REDUCTION,
    ReductionJob,
    ReductionStatus,
    result_name,
)

from .commanding import CommandRejected
from .outputs import data_message, stamp
from .skipping import skipped_events

logger = logging.getLogger(__name__)

SERVICE = DATA_REDUCTION.service
MAX_JOBS = 32
"""Jobs kept at once; stopped ones are forgotten, oldest first, to make room."""


class JobState(enum.StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    STOPPED = "stopped"
    ERROR = "error"


@dataclass
class Job:
    """One workflow instance, its binding, parameters and state."""

    job_id: str
    spec: WorkflowSpec
    sources: tuple[StreamId, ...]
    params: BaseModel
    workflow: Workflow
    state: JobState = JobState.SCHEDULED
    message: str = ""
    since: int | None = None
    """Data time (ns) from which the outputs accumulate; None before any data."""
    skipped_events: int = 0
    """Events of the job's streams in skipped windows since it was (re)built
    or reset: what its outputs lack."""

    @property
    def live(self) -> bool:
        return self.state in (JobState.SCHEDULED, JobState.RUNNING)

    @property
    def streams(self) -> frozenset[StreamId]:
        """Everything the job reads: its sources and the spec's auxiliary streams."""
        return frozenset(self.sources) | frozenset(self.spec.auxiliary)

    def process(
        self, window: TimeWindow, messages: Mapping[StreamId, list[Message[Any]]]
    ) -> list[Message[Any]]:
        """Accumulate the window's data and publish; a raising workflow fails the job."""
        data = {
            stream: [m.value for m in messages[stream]]
            for stream in self.streams
            if stream in messages
        }
        try:
            if data:
                self.workflow.accumulate(data)
                if self.since is None:
                    self.since = window.start
            if self.since is None:
                return []
            outputs = [
                data_message(
                    result_name(SERVICE, self.job_id, name),
                    window.end,
                    stamp(result, self.since, window.end),
                )
                for name, result in self.workflow.finalize().items()
            ]
        except Exception as error:  # plugin code: any failure is the job's
            self.fail(error)
            return []
        self.state = JobState.RUNNING
        return outputs

    def keep_logs(self, messages: Mapping[StreamId, list[Message[Any]]]) -> None:
        """Hand a skipped window's log values to the workflow, nothing else.

        Logs are often sent only on change: a motor move inside a skipped
        window would otherwise be missed until the next change, and every
        result after catching up would use the old position.
        """
        logs = {
            stream: [m.value for m in messages[stream]]
            for stream in self.streams
            if stream.kind is StreamKind.LOG and stream in messages
        }
        if not logs:
            return
        try:
            self.workflow.accumulate(logs)
        except Exception as error:  # plugin code: any failure is the job's
            self.fail(error)

    def fail(self, error: Exception) -> None:
        logger.error("job %s (%s) failed", self.job_id, self.spec.key, exc_info=error)
        self.state = JobState.ERROR
        self.message = f"{type(error).__name__}: {error}"

    def rebuild(self, workflow: Workflow, params: BaseModel) -> None:
        """Start over with a fresh workflow instance."""
        self.workflow = workflow
        self.params = params
        self.state = JobState.SCHEDULED
        self.message = ""
        self.since = None
        self.skipped_events = 0

    def status(self) -> ReductionJob:
        """State and skips; a workflow that skips windows itself (too slow
        for the window, :class:`~ess.livedata.core.window_budget.WindowBudget`)
        adds its message and skipped events."""
        load = self.workflow if isinstance(self.workflow, ReportsLoad) else None
        return ReductionJob(
            workflow=self.spec.key,
            state=self.state.value,
            message=self.message or (load.status_message if load else ""),
            sources=list(dict.fromkeys(s.name for s in self.sources)),
            params=self.params.model_dump(mode="json"),
            since=self.since,
            skipped_events=self.skipped_events + (load.skipped_events if load else 0),
        )


class JobProcessor:
    """The data_reduction service's logic, driven by the processing loop.

    Workflow factories are loaded on the first job start, so the reduction
    libraries they import cost nothing until a job needs them, unless
    :meth:`load_factories` loaded them before.
    """

    def __init__(self, loaded: LoadedInstrument) -> None:
        self._loaded = loaded
        self._factories: dict[str, WorkflowFactory] | None = None
        self._jobs: dict[str, Job] = {}

    def process_window(
        self, window: TimeWindow, messages: Mapping[StreamId, list[Message[Any]]]
    ) -> list[Message[Any]]:
        outputs: list[Message[Any]] = []
        for job in self._jobs.values():
            if job.live:
                outputs += job.process(window, messages)
        return outputs

    def skip_window(
        self, window: TimeWindow, messages: Mapping[StreamId, list[Message[Any]]]
    ) -> int:
        """Count what each live job misses; no workflow runs, nothing is published.

        Only log values still reach the workflows (see :meth:`Job.keep_logs`).

        Returns the events of the streams live jobs read, each event once
        however many jobs read its stream; other data would be dropped anyway.
        """
        live = [job for job in self._jobs.values() if job.live]
        read = frozenset[StreamId]().union(*(job.streams for job in live))
        counts = skipped_events(messages, read.__contains__)
        for job in live:
            job.skipped_events += sum(counts.get(s, 0) for s in job.streams)
            job.keep_logs(messages)
        return sum(counts.values())

    def status_details(self) -> ReductionStatus:
        return ReductionStatus(
            jobs={job_id: job.status() for job_id, job in self._jobs.items()}
        )

    def state_of(self, job_id: str) -> tuple[JobState, str]:
        """State and message of job ``job_id`` (why it failed, or that it
        cannot keep up with the window)."""
        status = self._jobs[job_id].status()
        return JobState(status.state), status.message

    def apply(self, body: StartJob | StopJob | Reset) -> None:
        """Apply one command body; raises CommandRejected with the reason."""
        if isinstance(body, StartJob):
            self._start(body)
        elif isinstance(body, StopJob):
            for job in self._targets(body.target, include_stopped=True):
                job.state = JobState.STOPPED
        else:
            for job in self._targets(body.target):
                self._reset(job)

    def _start(self, body: StartJob) -> None:
        existing = self._jobs.get(body.target)
        if existing is not None and existing.live:
            raise CommandRejected(f"job {body.target!r} is already {existing.state}")
        spec = self._spec(body.workflow)
        try:
            sources = resolve_sources(self._loaded.instrument, spec, body.sources)
        except ValueError as error:
            raise CommandRejected(str(error)) from None
        params = self._params(spec, body.params)
        workflow = self._build(spec, params, sources)
        self._make_room(body.target)
        self._jobs[body.target] = Job(body.target, spec, sources, params, workflow)

    def _reset(self, job: Job) -> None:
        """Clear accumulated state; a failed job gets a fresh instance instead."""
        if job.state is JobState.ERROR:
            job.rebuild(self._build(job.spec, job.params, job.sources), job.params)
            return
        try:
            job.workflow.clear()
        except Exception as error:  # plugin code: any failure is the job's
            job.fail(error)
        job.since = None
        job.skipped_events = 0

    def _targets(
        self, target: str | None, *, include_stopped: bool = False
    ) -> list[Job]:
        """Job ``target`` (all jobs when None); stopped ones only if included."""
        if target is None:
            return [
                job
                for job in self._jobs.values()
                if include_stopped or job.state is not JobState.STOPPED
            ]
        job = self._jobs.get(target)
        if job is None:
            known = ", ".join(self._jobs) or "none"
            raise CommandRejected(f"unknown job {target!r} (known: {known})")
        if not include_stopped and job.state is JobState.STOPPED:
            raise CommandRejected(f"job {target!r} is stopped; start it again")
        return [job]

    def _spec(self, key: str) -> WorkflowSpec:
        specs = self._loaded.reduction_specs
        if key not in specs:
            known = ", ".join(sorted(specs)) or "none"
            raise CommandRejected(f"unknown workflow {key!r} (known: {known})")
        return specs[key]

    @staticmethod
    def _params(spec: WorkflowSpec, params: Mapping[str, Any]) -> BaseModel:
        try:
            return parse_params(spec, params)
        except ValueError as error:
            raise CommandRejected(str(error)) from None

    def _build(
        self, spec: WorkflowSpec, params: BaseModel, sources: Sequence[StreamId]
    ) -> Workflow:
        factory = self._workflow_factories().get(spec.key)
        if factory is None:
            raise CommandRejected(f"workflow {spec.key} has no factory installed")
        try:
            return factory(params, tuple(sources))
        except Exception as error:  # plugin code: report, don't crash
            raise CommandRejected(
                f"workflow {spec.key} could not be built: "
                f"{type(error).__name__}: {error}"
            ) from None

    def load_factories(self) -> None:
        """Import the workflow factories now, not at the first job start.

        The ESS packages take seconds to import (esssans: ~6 s of CPU, over
        30 s on a loaded machine); in the loop that holds up the window, the
        heartbeats and the command's answer, which the dashboard expires
        after 30 s. A failure (e.g. the ``reduction`` extra missing) is
        logged here and refused with each start, as without preloading.
        """
        try:
            self._workflow_factories()
        except CommandRejected as error:
            logger.warning("%s", error)

    def _workflow_factories(self) -> dict[str, WorkflowFactory]:
        if self._factories is None:
            try:
                self._factories = self._loaded.workflow_factories()
            except Exception as error:  # e.g. the reduction extra is missing
                raise CommandRejected(
                    f"workflow factories of {self._loaded.name} failed to load: "
                    f"{type(error).__name__}: {error}"
                ) from None
        return self._factories

    def _make_room(self, job_id: str) -> None:
        """Replace the old job of this id, or forget the oldest stopped one if full."""
        if self._jobs.pop(job_id, None) is not None or len(self._jobs) < MAX_JOBS:
            return
        stopped = [j for j, job in self._jobs.items() if job.state is JobState.STOPPED]
        if not stopped:
            raise CommandRejected(f"{MAX_JOBS} jobs and none stopped; stop one first")
        del self._jobs[stopped[0]]
