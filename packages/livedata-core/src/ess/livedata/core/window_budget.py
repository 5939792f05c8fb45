"""A workflow that cannot keep up skips windows visibly instead of lagging.

A window is processed in the time of one window (1 s): a reduction that
takes longer would fall further behind the live data each window, silently.
:class:`WindowBudget` times each processed window (``accumulate`` plus
``finalize``); a window that overran by ``k`` budgets makes it skip the data
of the next ``k`` windows, which it counts as ``skipped_events`` and which
publish nothing. ``status_message`` says how far behind it is, for the job's
status. The results then cover only the processed windows, and say so.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import scipp as sc

from .message import StreamId
from .payloads import EventBatch
from .workflow import Workflow


@runtime_checkable
class ReportsLoad(Protocol):
    """A workflow that skips data itself and tells the job's status."""

    @property
    def skipped_events(self) -> int: ...

    @property
    def status_message(self) -> str: ...


class WindowBudget:
    """Runs ``workflow`` on the windows it has time for.

    Parameters
    ----------
    workflow:
        The workflow to run.
    budget_s:
        Time one window may take: the window length.
    clock:
        Seconds, monotonic (wall clock: windows arrive in wall time).
    """

    def __init__(
        self,
        workflow: Workflow,
        budget_s: float = 1.0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._workflow = workflow
        self._budget_s = budget_s
        self._clock = clock
        self._to_skip = 0
        self._skipped_window = False
        self._started: float | None = None
        self._last_s = 0.0
        self._skipped_events = 0

    @property
    def workflow(self) -> Workflow:
        """The workflow run, e.g. for timing it alone."""
        return self._workflow

    @property
    def skipped_events(self) -> int:
        """Events in windows skipped since the start or the last clear."""
        return self._skipped_events

    @property
    def status_message(self) -> str:
        if self._last_s <= self._budget_s:
            return ""
        return (
            f"cannot keep up: a window took {self._last_s:.1f} s of a "
            f"{self._budget_s:.1f} s budget, so one window in "
            f"{math.ceil(self._last_s / self._budget_s)} is reduced "
            f"({self._skipped_events} events skipped)"
        )

    def accumulate(self, data: Mapping[StreamId, Any]) -> None:
        if self._to_skip > 0:
            self._to_skip -= 1
            self._skipped_window = True
            self._skipped_events += events_in(data)
            return
        if self._started is None:
            self._started = self._clock()
        self._workflow.accumulate(data)

    def finalize(self) -> Mapping[str, sc.DataArray]:
        if self._skipped_window:
            self._skipped_window = False
            return {}
        results = self._workflow.finalize()
        if self._started is not None:  # timed from this window's accumulate
            self._last_s = self._clock() - self._started
            self._started = None
            self._to_skip = max(0, math.ceil(self._last_s / self._budget_s) - 1)
        return results

    def clear(self) -> None:
        self._workflow.clear()
        self._skipped_events = 0


def events_in(data: Mapping[StreamId, Any]) -> int:
    """Events in a window's data (what skipping it loses)."""
    return sum(
        payload.size
        for payloads in data.values()
        for payload in payloads
        if isinstance(payload, EventBatch)
    )
