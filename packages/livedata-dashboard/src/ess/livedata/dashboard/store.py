"""The latest results, heartbeats and command answers, shared by all sessions.

One consumer thread writes, many browser sessions read. Everything stored is
immutable, so a reader holds plain references and the lock only guards the
dictionaries, never rendering. Memory is bounded: only the newest value of
each output, worker and job is kept, and old commands are forgotten.

Results are keyed by the facility's :class:`ResultKey`. Pages ask for an
output by (workflow, source, output name); the store answers with the result
of the job generation the :class:`~.jobs.JobTable` calls current, so data of a
job that was restarted or stopped never shows (PROTOCOL.md section 7). Workers
of a scaled-out service publish parts of one output; the store keeps the
newest part of each and shows their combination
(:mod:`ess.livedata.core.combine`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import scipp as sc

from ess.livedata.core.combine import ANONYMOUS, OutputCombiner, combining_name
from ess.livedata.protocol import (
    JobMessage,
    Response,
    ResultKey,
    ServiceMessage,
    WorkflowId,
)

from .history import ResultHistory
from .jobs import JobTable
from .responses import ResponseLedger

MAX_RESULTS = 10_000
"""Distinct result keys kept; the least recently updated go first."""


@dataclass(frozen=True, slots=True)
class Result:
    """The newest da00 data array published under ``key``, combined over the
    workers that publish it."""

    key: ResultKey
    data: sc.DataArray
    timestamp_ns: int
    received_s: float
    serial: int
    """Increases with every update of any result; lets sessions skip redraws."""
    worker: str = ANONYMOUS
    """Who published the newest part."""


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """One service heartbeat and when it was sent (producer's clock)."""

    status: ServiceMessage
    sent_s: float


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    """The last two heartbeats of one worker; rates need both."""

    latest: Heartbeat
    previous: Heartbeat | None = None


@dataclass(frozen=True, slots=True)
class BrokerHealth:
    """Whether the downstream broker answered recently; never asked yet if
    ``checked_s`` is 0."""

    reachable: bool
    checked_s: float
    error: str = ""


class LiveStore:
    """Thread-safe latest state of an instrument's livedata topics.

    Parameters
    ----------
    clock:
        Wall-clock seconds, replaceable in tests.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        # Combining sums images: a lock of its own keeps readers unblocked.
        self._combining = threading.Lock()
        self._combiner = OutputCombiner()
        self._results: OrderedDict[ResultKey, Result] = OrderedDict()
        self._services: dict[str, ServiceHealth] = {}
        self._broker = BrokerHealth(reachable=False, checked_s=0.0)
        self._serial = 0
        self._history = ResultHistory(clock)
        self.jobs = JobTable(clock)
        self.responses = ResponseLedger(clock)

    def now(self) -> float:
        return self._clock()

    @property
    def serial(self) -> int:
        """The newest result's serial: sessions redraw when it moves."""
        with self._lock:
            return self._serial

    def put_result(
        self,
        key: ResultKey,
        timestamp_ns: int,
        data: sc.DataArray,
        worker: str = ANONYMOUS,
    ) -> None:
        with self._combining:
            data = self._combiner.add(combining_name(key, worker), worker, data)
            with self._lock:
                self._serial += 1
                self._results.pop(key, None)
                self._results[key] = Result(
                    key, data, timestamp_ns, self._clock(), self._serial, worker
                )
                while len(self._results) > MAX_RESULTS:
                    evicted, result = self._results.popitem(last=False)
                    self._combiner.forget(combining_name(evicted, result.worker))
            self._history.add(key, timestamp_ns, data)

    def put_service(self, status: ServiceMessage, sent_s: float) -> None:
        beat = Heartbeat(status, sent_s)
        with self._combining:
            with self._lock:
                known = self._services.get(status.service_id)
                if known is not None and sent_s < known.latest.sent_s:
                    return  # replayed or reordered: keep the newer one
                previous = known.latest if known is not None else None
                self._services[status.service_id] = ServiceHealth(beat, previous)
            # Only the newest heartbeat decides, so a replayed running one
            # cannot bring back a worker that has stopped since.
            self._combiner.heartbeat(status)

    def put_job(self, status: JobMessage, sent_s: float) -> None:
        self.jobs.heartbeat(status, sent_s)

    def put_response(self, response: Response) -> None:
        self.responses.answer(response)

    def set_broker(self, reachable: bool, error: str = "") -> None:
        with self._lock:
            self._broker = BrokerHealth(reachable, self._clock(), error)

    def result(
        self, workflow: WorkflowId, source_name: str, output_name: str
    ) -> Result | None:
        """Newest ``output_name`` of the current job of ``workflow`` on
        ``source_name``; None if no job is current or it published none."""
        job = self.jobs.current(workflow, source_name)
        if job is None:
            return None
        key = ResultKey(workflow_id=workflow, job_id=job, output_name=output_name)
        with self._lock:
            return self._results.get(key)

    def recent(
        self, workflow: WorkflowId, source_name: str, output_name: str, seconds: float
    ) -> list[sc.DataArray]:
        """Results of ``output_name`` of the current job received in the last
        ``seconds``, oldest first; recording starts with the first call."""
        job = self.jobs.current(workflow, source_name)
        if job is None:
            return []
        key = ResultKey(workflow_id=workflow, job_id=job, output_name=output_name)
        return self._history.since(key, self._clock() - seconds)

    def outputs(self, workflow: WorkflowId, source_name: str) -> dict[str, Result]:
        """Every output of the current job of ``workflow`` on ``source_name``."""
        job = self.jobs.current(workflow, source_name)
        if job is None:
            return {}
        with self._lock:
            return {
                key.output_name: result
                for key, result in self._results.items()
                if key.workflow_id == workflow and key.job_id == job
            }

    def current_outputs(self) -> list[tuple[WorkflowId, str, str]]:
        """(workflow, source, output) of every output of a current job."""
        with self._lock:
            keys = list(self._results)
        found = {
            (key.workflow_id, key.job_id.source_name, key.output_name)
            for key in keys
            if self.jobs.current(key.workflow_id, key.job_id.source_name) == key.job_id
        }
        return sorted(found, key=lambda item: (str(item[0]), item[1], item[2]))

    def services(self) -> dict[str, ServiceHealth]:
        """Health of every worker seen, keyed by service id."""
        with self._lock:
            return dict(self._services)

    def latest_service(self, service_name: str) -> ServiceMessage | None:
        """Newest heartbeat of any worker of ``service_name``."""
        with self._lock:
            beats = [
                h.latest
                for h in self._services.values()
                if h.latest.status.service_name == service_name
            ]
        return max(beats, key=lambda beat: beat.sent_s).status if beats else None

    def broker(self) -> BrokerHealth:
        with self._lock:
            return self._broker
