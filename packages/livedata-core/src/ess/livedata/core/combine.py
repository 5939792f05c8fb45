"""One output name, published in parts by the N workers of a scaled-out service.

Each worker counts only the events of its partitions and publishes them under
the same name as the others (docs/scale-out.md), so a reader that keeps the
newest value per name shows a partial count that flickers between workers.
:class:`OutputCombiner` keeps the newest parts of each worker and presents the
name as their combination. The dashboard's store and the test reader both
use it, so the rule exists once. How a name combines is its output's declared
:class:`~ess.livedata.protocol.Temporality` (``ess.livedata.protocol.contracts``).
"""

from __future__ import annotations

from dataclasses import dataclass

import scipp as sc

from ess.livedata.protocol import (
    ResultKey,
    ServiceMessage,
    ServiceState,
    Temporality,
    result_name,
    temporality_of,
)

ANONYMOUS = ""
"""Worker of messages that name none (services from before the worker header):
all of them are one worker, so such a stream reads as it always did."""

STALE_AFTER_NS = 5_000_000_000
"""A worker whose newest part of a name ends this much data time before the
newest part of any worker has gone (crashed, or its partitions fell silent):
five 1 s windows. Data time, not wall-clock time, so a replayed backlog and an
idle instrument are judged alike and the last results stay when all stop."""

WINDOWS_KEPT = 4
"""Windows kept per worker of a window output, so a window can still be
summed when a faster worker has already moved on by up to this many minus one."""

_WINDOW_COORDS = ("start_time", "end_time", "time")
"""Coords a sum of parts takes from its first and last part, not from the sum;
``time`` is the facility's name for the end of the data."""

_INCOMPATIBLE = (sc.DatasetError, sc.DimensionError, sc.UnitError, sc.DTypeError)


@dataclass(frozen=True, slots=True)
class _Part:
    data: sc.DataArray
    start_ns: int | None
    end_ns: int | None
    arrival: int

    @property
    def window(self) -> tuple[int, int]:
        """``(end, start)`` in ns, so windows order by end; missing times are 0."""
        return (self.end_ns or 0, self.start_ns or 0)


def combining_name(key: ResultKey, worker: str) -> str:
    """The combiner's name for ``key`` published by ``worker``.

    The publishing service's contract declares how the output combines, and a
    worker's id is ``{instrument}:{service}:{worker_id}``; the job id keeps job
    generations apart. Without a worker (one unnamed publisher) nothing combines.
    """
    parts = worker.split(":")
    service = parts[1] if len(parts) > 2 else ""
    job, workflow = key.job_id, key.workflow_id
    # Result names split at "/", which the source part must not contain.
    source = f"{job.source_name}@{job.job_number}@{workflow.name}@{workflow.version}"
    return result_name(service, source, key.output_name)


def _ns(data: sc.DataArray, coord: str) -> int | None:
    """``coord`` in ns, or None unless it is a scalar datetime or int64 ns (the
    facility's form): a malformed stamp means the part has no window rather
    than an error for the reader."""
    var = data.coords.get(coord)
    if var is None or var.ndim != 0:
        return None
    if var.dtype == sc.DType.int64 and var.unit == sc.units.ns:
        return int(var.value)
    if var.dtype != sc.DType.datetime64:
        return None
    try:
        return int(var.to(unit="ns").value.astype("int64"))
    except sc.UnitError:
        return None


class OutputCombiner:
    """Newest parts per (output name, worker), presented as one result per name.

    Not thread-safe: callers that write from several threads hold a lock.

    Parameters
    ----------
    stale_after_ns:
        Data time after which a worker that published nothing newer is gone.
    """

    def __init__(self, stale_after_ns: int = STALE_AFTER_NS) -> None:
        self._stale_after_ns = stale_after_ns
        # Per name and worker, the kept parts in arrival order, newest last.
        self._parts: dict[str, dict[str, tuple[_Part, ...]]] = {}
        self._departed: set[str] = set()
        self._arrivals = 0

    def add(self, name: str, worker: str, data: sc.DataArray) -> sc.DataArray:
        """Take ``worker``'s newest part of ``name``; return the combination."""
        self._arrivals += 1
        part = _Part(
            data, _ns(data, "start_time"), _ns(data, "end_time"), self._arrivals
        )
        rule = temporality_of(name)
        known = self._parts.get(name, {})
        kept: tuple[_Part, ...] = (part,)
        if rule is Temporality.WINDOW:
            # One part per window, the last few: a slower worker's window can
            # still be summed with this worker's part of it.
            older = [p for p in known.get(worker, ()) if p.window != part.window]
            kept = (*older, part)[-WINDOWS_KEPT:]
        # Parts of workers that are gone are forgotten, which bounds memory.
        parts = self._live({**known, worker: kept})
        self._parts[name] = parts
        return _combine(rule, parts)

    def depart(self, worker: str) -> None:
        """``worker`` stopped (its heartbeat says so); its parts leave the
        combinations from the next update of each name on, and its stray
        messages after the stop (e.g. a replayed backlog) are ignored."""
        self._departed.add(worker)

    def arrive(self, worker: str) -> None:
        """``worker`` runs (its heartbeat says so): it counts again if it had
        stopped, e.g. restarted in a container under the same host and pid."""
        self._departed.discard(worker)

    def heartbeat(self, status: ServiceMessage) -> None:
        """Follow a worker's newest heartbeat: stopped departs, running arrives."""
        if status.state == ServiceState.STOPPED:
            self.depart(status.service_id)
        elif status.state == ServiceState.RUNNING:
            self.arrive(status.service_id)

    def forget(self, name: str) -> None:
        """Drop everything kept for ``name``, e.g. when a store evicts it."""
        self._parts.pop(name, None)

    def _live(
        self, parts: dict[str, tuple[_Part, ...]]
    ) -> dict[str, tuple[_Part, ...]]:
        """Parts of workers still there; when none is, the last of all of them
        (the service stopped: its final results stay, as with one worker)."""
        running = {w: p for w, p in parts.items() if w not in self._departed}
        parts = running or parts
        ends = [k[-1].end_ns for k in parts.values() if k[-1].end_ns is not None]
        if not ends:
            return parts
        oldest = max(ends) - self._stale_after_ns
        return {
            w: k
            for w, k in parts.items()
            if k[-1].end_ns is None or k[-1].end_ns >= oldest
        }


def _combine(rule: Temporality, parts: dict[str, tuple[_Part, ...]]) -> sc.DataArray:
    newest = max((k[-1] for k in parts.values()), key=lambda p: p.arrival)
    # Without end_time (not stamped by a service) parts cannot be placed in a
    # window, so they are not summed either.
    if rule is Temporality.SERIES or len(parts) == 1 or newest.end_ns is None:
        return newest.data
    if rule is Temporality.WINDOW:
        return _sum(_reached_by_all(list(parts.values())), newest)
    return _sum([k[-1] for k in parts.values() if k[-1].end_ns is not None], newest)


def _reached_by_all(kept: list[tuple[_Part, ...]]) -> list[_Part]:
    """The parts of the newest window every worker has reached, so a worker a
    window or two behind the others is summed rather than left out."""
    windows = [{p.window: p for p in k if p.end_ns is not None} for k in kept]
    target = min(max(w) for w in windows if w)
    return [w[target] for w in windows if target in w]


def _sum(parts: list[_Part], newest: _Part) -> sc.DataArray:
    """Sum of the parts, spanning all their windows; the newest part alone if
    they cannot be added (workers between two re-binning commands)."""
    if len(parts) == 1:
        return parts[0].data
    try:
        total = sum(
            (_without_window(p.data) for p in parts[1:]), _without_window(parts[0].data)
        )
    except _INCOMPATIBLE:
        return newest.data
    total.name = newest.data.name
    starts = [p for p in parts if p.start_ns is not None]
    if starts:
        first = min(starts, key=lambda p: p.start_ns or 0)
        total.coords["start_time"] = first.data.coords["start_time"]
    last = max(parts, key=lambda p: p.end_ns or 0)
    for coord in ("end_time", "time"):
        if coord in last.data.coords:
            total.coords[coord] = last.data.coords[coord]
    return total


def _without_window(data: sc.DataArray) -> sc.DataArray:
    return data.drop_coords([c for c in _WINDOW_COORDS if c in data.coords])
