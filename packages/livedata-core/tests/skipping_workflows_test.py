"""Workflows that skip windows visibly: too slow for the window, or not built yet."""

from concurrent.futures import Executor, Future
from functools import partial

import numpy as np
import pytest
import scipp as sc

from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.prepared_workflow import PreparedWorkflow
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


class Manual(Executor):
    """Runs the build when the test says so."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        self.build = fn
        self.future = Future()
        return self.future

    def finish(self) -> None:
        try:
            self.future.set_result(self.build())
        except Exception as error:
            self.future.set_exception(error)


def test_windows_before_the_build_are_skipped_and_counted():
    executor = Manual()
    workflow = PreparedWorkflow(partial(Slow, Clock(), 0.0), executor=executor)
    assert isinstance(workflow, ReportsLoad)
    workflow.accumulate(window(3))
    assert workflow.finalize() == {}
    assert workflow.skipped_events == 3
    assert workflow.status_message.startswith("preparing")
    executor.finish()
    workflow.accumulate(window(5))
    assert workflow.finalize()["events"].value == 5.0
    assert workflow.skipped_events == 3
    assert workflow.status_message == ""
    workflow.clear()
    assert workflow.skipped_events == 0
    assert workflow.finalize()["events"].value == 0.0


def test_a_failed_build_fails_the_next_window():
    def broken():
        raise FileNotFoundError("no geometry file")

    executor = Manual()
    workflow = PreparedWorkflow(broken, executor=executor)
    executor.finish()
    assert workflow.status_message == ""
    with pytest.raises(FileNotFoundError, match="no geometry file"):
        workflow.accumulate(window(1))


def test_the_default_builder_runs_the_build():
    workflow = PreparedWorkflow(partial(Slow, Clock(), 0.0))
    assert isinstance(workflow.wait(timeout=60), Slow)
