"""Which job is the current generation of each (workflow, source), from heartbeats.

There is no "list jobs" request (PROTOCOL.md section 7): a dashboard learns
the running jobs from their heartbeats and adopts a running job as the current
generation of its workflow on its source, so a restarted dashboard shows and
controls the jobs it finds. Starting a job makes the new job number current
and the old one unwanted; a stopped job stays unwanted, and if it keeps
heartbeating its stop is re-sent (never a start).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ess.livedata.protocol import JobId, JobMessage, JobState, WorkflowId

STALE_AFTER_S = 60.0
"""A job without a heartbeat for this long is gone (crashed service)."""

RESEND_STOP_AFTER_S = 30.0
"""An unwanted job still heartbeating gets its stop again after this long."""


@dataclass(frozen=True, slots=True)
class JobBeat:
    """A job's newest heartbeat and when it was sent (producer's clock)."""

    status: JobMessage
    sent_s: float

    @property
    def workflow(self) -> WorkflowId:
        return WorkflowId.parse(self.status.workflow_id)


@dataclass(frozen=True, slots=True)
class JobRow:
    """One job as the job tables show it."""

    job_id: JobId
    workflow: WorkflowId
    state: JobState
    age_s: float
    stale: bool
    current: bool
    message: str


class JobTable:
    """Job heartbeats, the current generation per (workflow, source), and the
    jobs this dashboard wants gone. Thread-safe."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._beats: dict[JobId, JobBeat] = {}
        self._current: dict[tuple[WorkflowId, str], JobId] = {}
        self._unwanted: dict[JobId, float] = {}

    def heartbeat(self, status: JobMessage, sent_s: float) -> None:
        """Take a job heartbeat; adopt the job if its slot has no live job."""
        try:
            beat = JobBeat(status, sent_s)
            slot = (beat.workflow, status.job_id.source_name)
        except ValueError:
            return  # a workflow id this protocol cannot parse: not ours
        with self._lock:
            known = self._beats.get(status.job_id)
            if known is not None and sent_s < known.sent_s:
                return  # replayed or reordered
            self._beats[status.job_id] = beat
            if not self._alive(status.job_id) or status.job_id in self._unwanted:
                return  # stopped, or replayed from long ago, or not wanted
            current = self._current.get(slot)
            if current is None or not self._alive(current):
                self._current[slot] = status.job_id

    def _alive(self, job: JobId) -> bool:
        beat = self._beats.get(job)
        if beat is None:
            # Started here and not heard of yet: it is the generation asked for.
            return job not in self._unwanted
        return (
            beat.status.state is not JobState.STOPPED
            and self._clock() - beat.sent_s <= STALE_AFTER_S
        )

    def current(self, workflow: WorkflowId, source_name: str) -> JobId | None:
        with self._lock:
            return self._current.get((workflow, source_name))

    def current_jobs(self, workflow: WorkflowId) -> list[JobId]:
        """The current job of ``workflow`` on each of its sources."""
        with self._lock:
            return [job for (wf, _), job in self._current.items() if wf == workflow]

    def start(
        self, workflow: WorkflowId, sources: Iterable[str]
    ) -> tuple[list[JobId], list[JobId]]:
        """New jobs of ``workflow`` on ``sources``, sharing one job number, made
        current; returns them and the jobs they replace, which become unwanted."""
        number = str(uuid.uuid4())
        started: list[JobId] = []
        replaced: list[JobId] = []
        with self._lock:
            for source in sources:
                old = self._current.get((workflow, source))
                if old is not None:
                    self._unwanted[old] = self._clock()
                    replaced.append(old)
                job = JobId(source_name=source, job_number=number)
                self._current[(workflow, source)] = job
                started.append(job)
        return started, replaced

    def stop(self, workflow: WorkflowId) -> list[JobId]:
        """Make every current job of ``workflow`` unwanted; returns them."""
        with self._lock:
            slots = [slot for slot in self._current if slot[0] == workflow]
            stopped = [self._current.pop(slot) for slot in slots]
            for job in stopped:
                self._unwanted[job] = self._clock()
        return stopped

    def workflow_of(self, job: JobId) -> WorkflowId | None:
        with self._lock:
            for (workflow, _), current in self._current.items():
                if current == job:
                    return workflow
            beat = self._beats.get(job)
        return None if beat is None else beat.workflow

    def unwant(self, job: JobId) -> None:
        """Stop ``job`` alone: no longer current, and its stop re-sent if needed."""
        with self._lock:
            for slot in [s for s, current in self._current.items() if current == job]:
                del self._current[slot]
            self._unwanted[job] = self._clock()

    def due_stops(self) -> list[JobId]:
        """Unwanted jobs still heartbeating whose stop is due again; marks
        them as sent now."""
        now = self._clock()
        due = []
        with self._lock:
            for job, sent in self._unwanted.items():
                if now - sent >= RESEND_STOP_AFTER_S and self._alive(job):
                    self._unwanted[job] = now
                    due.append(job)
        return due

    def rows(self) -> list[JobRow]:
        """Every job heard of, sorted by workflow and source."""
        now = self._clock()
        with self._lock:
            current = set(self._current.values())
            beats = list(self._beats.values())
        rows = [
            JobRow(
                job_id=beat.status.job_id,
                workflow=beat.workflow,
                state=beat.status.state,
                age_s=max(0.0, now - beat.sent_s),
                stale=now - beat.sent_s > STALE_AFTER_S,
                current=beat.status.job_id in current,
                message=beat.status.error or beat.status.warning or "",
            )
            for beat in beats
        ]
        return sorted(rows, key=lambda r: (str(r.workflow), r.job_id.source_name))
