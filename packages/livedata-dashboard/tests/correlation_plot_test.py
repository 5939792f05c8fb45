import numpy as np
import panel as pn
import pytest
import scipp as sc
from pydantic import ValidationError

from ess.livedata.core.plugins import load_instrument
from ess.livedata.dashboard import monitors
from ess.livedata.dashboard.correlation import LogBins
from ess.livedata.dashboard.correlation_plot import (
    CorrelationConfig,
    CorrelationPlot,
    timeseries_workflow,
)
from ess.livedata.dashboard.correlation_section import monitor_correlations
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


def config(**bins) -> CorrelationConfig:
    return CorrelationConfig(
        output=Shown(MONITOR_HISTOGRAM, "monitor1", "counts_total"),
        x=LogBins(log="motion1", **bins),
    )


def test_plot_pairs_each_window_with_the_log_history(store, clock, jobs):
    monitor, log = jobs
    plot = CorrelationPlot(store, config(bins=2, low=0, high=10))
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
    two_logs = config().model_copy(update={"y": LogBins(log="motion2")})
    plot = CorrelationPlot(store, two_logs)
    spectrum = sc.DataArray(sc.ones(dims=["toa"], shape=[3], unit="counts"))
    store.put_result(key(monitor, "counts_total"), 1, spectrum)
    plot.update(clock.now)
    assert "scalar output" in plot.caption.object


def test_same_log_twice_is_refused():
    with pytest.raises(ValidationError, match="different logs"):
        CorrelationConfig.model_validate(
            config().model_dump() | {"y": {"log": "motion1"}}
        )


def test_section_rebuilds_on_a_valid_choice_and_explains_an_invalid_one(store):
    loaded = load_instrument("dummy")
    section = monitor_correlations(store, loaded.instrument, loaded.name)
    assert section.plot.config.output.output == "counts_total"
    section.x.value = "motion2"
    section.output.value = "monitor2 spectrum per window"
    assert section.plot.config.x.log == "motion2"
    assert section.plot.config.output.path == "monitor_histogram/monitor2/current"
    shown = section.plot
    section.low.value = 5.0  # no high: refused, the plot stays
    assert "both low and high" in section.problem.object
    assert section.plot is shown
    section.high.value = 9.0
    assert section.problem.object == ""
    assert (section.plot.config.x.low, section.plot.config.x.high) == (5.0, 9.0)


def test_monitors_page_carries_the_collapsed_correlation_card(backend):
    page = monitors.build_page(backend)
    cards = [o for o in page.view.select(pn.Card) if o.title == "Correlation"]
    assert len(cards) == 1
    assert cards[0].collapsed


def test_config_survives_a_json_round_trip_for_grid_storage():
    chosen = config(bins=20, low=0, high=5).model_copy(
        update={"y": LogBins(log="temperature"), "statistic": "sum"}
    )
    assert CorrelationConfig.model_validate_json(chosen.model_dump_json()) == chosen
