"""A workflow slower than the window skips windows and says so."""

import numpy as np
import scipp as sc

from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.window_budget import ReportsLoad, WindowBudget

PANEL = StreamId(StreamKind.DETECTOR_EVENTS, "panel")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Slow:
    """Counts events; each accumulate takes ``seconds`` on ``clock``."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        self.clock, self.seconds, self.events = clock, seconds, 0

    def accumulate(self, data) -> None:
        self.clock.now += self.seconds
        self.events += sum(batch.size for batch in data[PANEL])

    def finalize(self):
        return {"events": sc.DataArray(sc.scalar(float(self.events)))}

    def clear(self) -> None:
        self.events = 0


def window(n: int) -> dict:
    batch = EventBatch(
        reference_time=np.array([0], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=np.zeros(n, dtype=np.int32),
        pixel_id=np.ones(n, dtype=np.int32),
    )
    return {PANEL: [batch]}


def run(workflow: WindowBudget, events: list[int]) -> list[dict]:
    results = []
    for n in events:
        workflow.accumulate(window(n))
        results.append(workflow.finalize())
    return results


def test_a_workflow_within_budget_reduces_every_window():
    clock = Clock()
    workflow = WindowBudget(Slow(clock, 0.4), budget_s=1.0, clock=clock)
    results = run(workflow, [1, 2, 3])
    assert [r["events"].value for r in results] == [1.0, 3.0, 6.0]
    assert workflow.skipped_events == 0
    assert workflow.status_message == ""
    assert isinstance(workflow, ReportsLoad)


def test_an_overrun_of_k_budgets_skips_the_next_k_windows_and_counts_them():
    clock = Clock()
    workflow = WindowBudget(Slow(clock, 2.5), budget_s=1.0, clock=clock)
    results = run(workflow, [1, 2, 4, 8, 16, 32])
    assert [r.get("events") is not None for r in results] == [1, 0, 0, 1, 0, 0]
    assert results[3]["events"].value == 9.0
    assert workflow.skipped_events == 2 + 4 + 16 + 32
    assert "cannot keep up" in workflow.status_message
    assert "2.5 s of a 1.0 s budget" in workflow.status_message
    workflow.clear()
    assert workflow.skipped_events == 0
