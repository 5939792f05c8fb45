"""A workflow built in the background, so starting a job never stalls the loop.

Building an ESS package's live workflow takes seconds (loading the geometry
file, precomputing per-pixel values, and the first time a chopper setting
appears, computing its lookup table: benchmarks/RESULTS.md), several
windows during which the service would process nothing. A
:class:`PreparedWorkflow` builds it on a worker thread; until it is ready,
each window's events are skipped and counted, and ``status_message`` says it
is preparing. A build that fails fails the job at its next window.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import scipp as sc

from .message import StreamId
from .window_budget import ReportsLoad, events_in
from .workflow import Workflow

_BUILDER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workflow-build")
"""One build at a time: builds are CPU-bound and share the lookup-table cache."""


class PreparedWorkflow:
    """Runs the workflow ``build`` returns, once it has returned.

    Parameters
    ----------
    build:
        Builds the workflow; called once, on the builder thread.
    executor:
        Where to call it (tests pass their own).
    """

    def __init__(
        self,
        build: Callable[[], Workflow],
        executor: Executor | None = None,
    ) -> None:
        self._future: Future[Workflow] = (executor or _BUILDER).submit(build)
        self._skipped_events = 0
        self._skipped_window = False

    def wait(self, timeout: float | None = None) -> Workflow:
        """The built workflow, waiting for it (raises what the build raised)."""
        return self._future.result(timeout)

    @property
    def skipped_events(self) -> int:
        inner = self._ready()
        extra = inner.skipped_events if isinstance(inner, ReportsLoad) else 0
        return self._skipped_events + extra

    @property
    def status_message(self) -> str:
        if not self._future.done():
            return "preparing: building the workflow (geometry, lookup table)"
        inner = self._ready()
        return inner.status_message if isinstance(inner, ReportsLoad) else ""

    def accumulate(self, data: Mapping[StreamId, Any]) -> None:
        self._skipped_window = not self._future.done()
        if self._skipped_window:
            self._skipped_events += events_in(data)
            return
        self.wait().accumulate(data)

    def finalize(self) -> Mapping[str, sc.DataArray]:
        if self._skipped_window or not self._future.done():
            return {}
        return self.wait().finalize()

    def clear(self) -> None:
        self._skipped_events = 0
        if self._future.done():
            self.wait().clear()

    def _ready(self) -> Workflow | None:
        done = self._future.done() and self._future.exception() is None
        return self._future.result() if done else None
