"""Correlation: the plot following the store, as a grid cell and in the editor."""

import numpy as np
import pytest
import scipp as sc

from ess.livedata.dashboard.cell_editor import CellEditor, known_logs
from ess.livedata.dashboard.cell_plots import build_cell_plot
from ess.livedata.dashboard.correlation import CorrelationOptions, LogBins
from ess.livedata.dashboard.correlation_plot import (
    CorrelationPlot,
    timeseries_workflow,
)
from ess.livedata.dashboard.grid_model import Cell, Grid, OutputRef
from ess.livedata.dashboard.grid_view import GridView
from ess.livedata.dashboard.result_plot import Shown
from ess.livedata.testing.messages import MONITOR_HISTOGRAM, job_beat, job_id, key

S = 1_000_000_000
LOGS = timeseries_workflow("dummy")


def window_counts(value: float, start_s: int) -> sc.DataArray:
    """A ``counts_total`` as the monitor service stamps it."""
    return sc.DataArray(
        sc.scalar(value, unit="counts"),
        coords={
            "start_time": sc.datetime(start_s * S, unit="ns"),
            "end_time": sc.datetime((start_s + 1) * S, unit="ns"),
        },
    )


def history(points: list[tuple[int, float]]) -> sc.DataArray:
    times, values = zip(*points, strict=True)
    return sc.DataArray(
        sc.array(dims=["time"], values=list(values), unit="mm"),
        coords={
            "time": sc.datetimes(
                dims=["time"], values=[t * S for t in times], unit="ns"
            )
        },
    )


@pytest.fixture
def jobs(store, clock):
    """Running jobs: monitor_histogram on monitor1, timeseries_data on motion1."""
    monitor, log = job_id("monitor1"), job_id("motion1", number="log")
    store.put_job(job_beat(monitor), clock.now)
    store.put_job(job_beat(log, workflow=LOGS), clock.now)
    return monitor, log


COUNTS = Shown(MONITOR_HISTOGRAM, "monitor1", "counts_total")


def plot_of(store, **bins) -> CorrelationPlot:
    options = CorrelationOptions(x=LogBins(log="motion1", **bins))
    return CorrelationPlot(store, COUNTS, options, "counts")


def correlation_cell(title: str = "counts", **options) -> Cell:
    return Cell(
        title=title,
        plotter="correlation",
        outputs=(OutputRef.of(MONITOR_HISTOGRAM, "monitor1", "counts_total"),),
        correlation=CorrelationOptions(x=LogBins(log="motion1"), **options),
    )


def test_plot_pairs_each_window_with_the_log_history(store, clock, jobs):
    monitor, log = jobs
    plot = plot_of(store, bins=2, low=0, high=10)
    store.put_result(key(log, "history", LOGS), 1, history([(0, 2.0), (3, 8.0)]))
    for start_s, value in [(0, 10.0), (1, 20.0), (3, 50.0)]:
        store.put_result(key(monitor, "counts_total"), 1, window_counts(value, start_s))
        plot.update(clock.now)
        plot.update(clock.now)  # the same window again: counted once
    assert plot.correlator.paired == 2  # the window at 3.5 s waits for the log
    store.put_result(
        key(log, "history", LOGS), 2, history([(0, 2.0), (3, 8.0), (4, 8)])
    )
    plot.update(clock.now)
    hist = plot.correlator.histogram()
    np.testing.assert_array_equal(hist.values, [15, 50])
    assert hist.coords["motion1"].unit == sc.Unit("mm")
    caption = plot.caption.object
    assert 'data-paired="3"' in caption
    assert "3 outputs paired" in caption

    plot.reset.clicks += 1
    assert plot.correlator.paired == 0
    assert "waiting for data" in plot.caption.object


def test_spectrum_with_two_logs_is_explained(store, clock, jobs):
    monitor, _ = jobs
    options = CorrelationOptions(x=LogBins(log="motion1"), y=LogBins(log="motion2"))
    plot = CorrelationPlot(store, COUNTS, options, "counts")
    spectrum = sc.DataArray(sc.ones(dims=["toa"], shape=[3], unit="counts"))
    store.put_result(key(monitor, "counts_total"), 1, spectrum)
    plot.update(clock.now)
    assert "scalar output" in plot.caption.object


def test_same_log_twice_is_refused():
    with pytest.raises(ValueError, match="different logs"):
        CorrelationOptions(x=LogBins(log="motion1"), y=LogBins(log="motion1"))


def test_a_correlation_cell_fills_from_the_store(store, clock, jobs):
    monitor, log = jobs
    cell = build_cell_plot(store, correlation_cell())
    assert isinstance(cell, CorrelationPlot)
    store.put_result(key(log, "history", LOGS), 1, history([(0, 1.0), (9, 1.0)]))
    for start_s in range(3):
        store.put_result(
            key(monitor, "counts_total"), 1 + start_s, window_counts(7, start_s)
        )
        cell.update(clock.now)
    assert cell.correlator.paired == 3
    assert (
        'data-output="monitor_histogram/monitor1/counts_total"' in cell.caption.object
    )
    assert "counts_total against motion1: 3 outputs paired" in cell.caption.object
    np.testing.assert_array_equal(cell.correlator.histogram().values, [7.0])


def test_the_grid_keeps_an_unchanged_correlation_and_restarts_a_changed_one(
    backend, store, clock, jobs
):
    monitor, log = jobs
    backend.grids.save(Grid(name="Mine", cells=(correlation_cell(),)))
    view = GridView(backend, "Mine", None)
    store.put_result(key(log, "history", LOGS), 1, history([(0, 1.0), (9, 1.0)]))
    store.put_result(key(monitor, "counts_total"), 1, window_counts(7, 0))
    view.update(clock.now)
    (shown,) = view._plots
    assert shown.correlator.paired == 1

    # Adding a cell leaves the correlation as it is ...
    view.add.clicks += 1
    view.editor.plotter.value = "table"
    view.editor.save.clicks += 1
    view.update(clock.now)
    assert view._plots[0] is shown
    assert len(view._plots) == 2

    # ... changing it starts an empty histogram against both logs.
    view._edit(0)
    view.editor.y_log.value = "temperature"
    view.editor.save.clicks += 1
    view.update(clock.now)
    changed = view._plots[0]
    assert changed is not shown
    assert changed.correlator.paired == 0
    assert changed.options.logs() == "motion1 and temperature"


def test_the_editor_chooses_logs_only_for_a_correlation(backend):
    saved: list[Cell] = []
    refs = [OutputRef.of(MONITOR_HISTOGRAM, "monitor1", "counts_total")]
    editor = CellEditor(lambda: refs, lambda: known_logs(backend.loaded), saved.append)
    editor.open(None)
    assert (editor.logs.visible, editor.display.visible) == (False, True)
    editor.plotter.value = "correlation"
    assert (editor.logs.visible, editor.display.visible) == (True, False)
    assert editor.x_log.options[:2] == ["motion1", "motion2"]
    assert "temperature" in editor.x_log.options

    editor.log_low.value = "5"  # no high: refused, with the reason
    editor.save.clicks += 1
    assert not saved
    assert "both low and high" in editor.message.object
    editor.log_high.value = "nine"
    editor.save.clicks += 1
    assert "log high must be a number, not 'nine'" in editor.message.object

    editor.log_high.value = "9"
    editor.x_log.value = "motor_x"
    editor.y_log.value = "temperature"
    editor.statistic.value = "sum"
    editor.save.clicks += 1
    (cell,) = saved
    assert cell.correlation == CorrelationOptions(
        x=LogBins(log="motor_x", low=5, high=9),
        y=LogBins(log="temperature"),
        statistic="sum",
    )

    editor.open(cell)  # configuring shows the cell's choices
    assert (editor.x_log.value, editor.y_log.value) == ("motor_x", "temperature")
    assert (editor.log_low.value, editor.log_high.value) == ("5.0", "9.0")
    assert editor.statistic.value == "sum"
