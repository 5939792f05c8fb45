"""timeseries through the job protocol: a ``timeseries_data`` job per log."""

import matplotlib.dates
import numpy as np
import pytest
import scipp as sc
from job_driving import act, job_of, run, start, started

from ess.livedata.config import ConfigError, load_config
from ess.livedata.core.log_values import HistoryCaps
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import LogSample
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.window import TimeWindow
from ess.livedata.processing.job_bindings import timeseries_jobs
from ess.livedata.processing.png_sink import plot
from ess.livedata.processing.timeseries import caps_from_config

S = 1_000_000_000
T0 = 1_700_000_000 * S
W0 = TimeWindow(T0, T0 + S)
W1 = TimeWindow(T0 + S, T0 + 2 * S)
CAPS = HistoryCaps(length_ns=300 * S, max_points=10_000)
SERIES = "timeseries_data"


def log(name: str, time: int, value) -> Message[LogSample]:
    return Message(time, StreamId(StreamKind.LOG, name), LogSample(time, value))


def times(data: sc.DataArray) -> list[int]:
    return data.coords["time"].values.astype(np.int64).tolist()


def ledger(processor, name: str) -> dict:
    return processor.status_details().model_dump()["ledger"][name]


@pytest.fixture(scope="module")
def loaded():
    return load_instrument("dummy")


@pytest.fixture
def processor(loaded):
    return timeseries_jobs(loaded, CAPS)


def test_history_and_latest_have_time_unit_and_window(processor):
    out = run(processor, W0, log("motor_x", T0 + 2, 2.0), log("motor_x", T0, 1.0))
    assert {(SERIES, "motor_x", "history"), (SERIES, "motor_x", "latest")} <= set(out)
    assert {source for _, source, _ in out} == {"motor_x"}
    history = out[SERIES, "motor_x", "history"]
    assert history.dims == ("time",)
    assert history.coords["time"].dtype == sc.DType.datetime64
    assert history.coords["time"].unit == "ns"
    assert history.unit == "mm"
    assert history.name == "motor_x"
    assert times(history) == [T0, T0 + 2]
    assert history.values.tolist() == [1.0, 2.0]
    latest = out[SERIES, "motor_x", "latest"]
    assert latest.ndim == 0
    assert sc.identical(latest.data, sc.scalar(2.0, unit="mm"))
    assert latest.coords["time"].value == np.datetime64(T0 + 2, "ns")
    for data in (history, latest):
        assert data.coords["start_time"].value == np.datetime64(W0.start, "ns")
        assert data.coords["end_time"].value == np.datetime64(W0.end, "ns")


def test_streams_without_unit_and_with_integer_values(processor):
    out = run(processor, W0, log("shutter", T0, 1), log("shutter", T0 + 1, 0))
    history = out[SERIES, "shutter", "history"]
    assert history.unit is None
    assert history.dtype == sc.DType.int64


def test_streams_with_data_are_published_every_window(processor):
    run(processor, W0, log("motor_x", T0, 1.0))
    out = run(processor, W1, log("temperature", T0 + S, 295.0))
    assert {
        (SERIES, name, output)
        for name in ("motor_x", "temperature")
        for output in ("history", "latest")
    } <= set(out)
    assert {source for _, source, _ in out} == {"motor_x", "temperature"}


def test_out_of_order_and_duplicates_sorted_deduplicated_and_counted(processor):
    run(processor, W0, *(log("motor_x", T0 + t, float(t)) for t in (0, 3, 1)))
    out = run(
        processor,
        W1,
        log("motor_x", T0 + 3, 33.0),
        log("motor_x", T0 + 2, 2.0),
        log("motor_x", T0 + 2, 22.0),
        log("motor_x", T0 + 4, 4.0),
    )
    history = out[SERIES, "motor_x", "history"]
    assert times(history) == [T0 + t for t in range(5)]
    assert history.values.tolist() == [0.0, 1.0, 22.0, 33.0, 4.0]
    assert ledger(processor, "motor_x") == {
        "received": 7,
        "stored": 5,
        "duplicates_replaced": 2,
        "rejected": 0,
        "out_of_order": 2,
        "nan": 0,
        "evicted": 0,
        "cleared": 0,
        "points": 5,
        "balanced": True,
    }


def test_dtype_change_is_rejected_counted_and_reported(processor, caplog):
    out = run(
        processor,
        W0,
        log("temperature", T0, 295.0),
        log("temperature", T0 + 1, np.array([1.0, 2.0])),
        log("temperature", T0 + 2, np.array([1.0, 2.0])),
        log("temperature", T0 + 3, 296.0),
    )
    assert out[SERIES, "temperature", "history"].values.tolist() == [295.0, 296.0]
    entry = ledger(processor, "temperature")
    assert entry["rejected"] == 2
    assert entry["balanced"]
    problem = processor.status_details().model_dump()["problems"]["temperature"]
    assert "float64 scalar" in problem
    assert "shape (2,)" in problem
    assert caplog.text.count("rejecting values") == 1


def test_reset_clears_history_and_accepts_a_new_dtype(processor):
    run(processor, W0, log("temperature", T0, 295.0))
    [response] = act(processor, "reset", workflow=SERIES)
    assert (response.response, response.device) == ("ACK", "all")
    assert run(processor, W1) == {}
    out = run(processor, W1, log("temperature", T0 + S, np.array([1.0, 2.0])))
    history = out[SERIES, "temperature", "history"]
    assert history.dims == ("time", "index")
    assert out[SERIES, "temperature", "latest"].dims == ("index",)
    entry = ledger(processor, "temperature")
    assert entry["cleared"] == 1
    assert entry["balanced"]
    assert "temperature" not in processor.status_details().model_dump()["problems"]


def test_reset_of_one_job_clears_only_its_log(processor):
    run(processor, W0, log("temperature", T0, 295.0), log("motor_x", T0, 1.0))
    [response] = act(processor, "reset", job_of(processor, SERIES, "motor_x"))
    assert response.response == "ACK"
    assert set(run(processor, W1)) == {
        (SERIES, "temperature", "history"),
        (SERIES, "temperature", "latest"),
    }


def test_nan_is_kept_and_counted(processor):
    out = run(processor, W0, log("motor_x", T0, float("nan")))
    assert np.isnan(out[SERIES, "motor_x", "latest"].value)
    assert ledger(processor, "motor_x")["nan"] == 1


def test_history_caps_are_job_params_of_one_log(processor):
    job = started(processor, SERIES, "motor_x", {"length_s": 2, "max_points": 4})
    caps = processor.status_details().model_dump()["caps"]
    assert caps["motor_x"] == {"length_s": 2.0, "max_points": 4}
    assert caps["temperature"] == {"length_s": 300.0, "max_points": 10_000}
    half = S // 2
    out = run(processor, W0, *(log("motor_x", T0 + t * half, 0.0) for t in range(5)))
    # The newest point is at T0 + 2 s, so T0 is exactly 2 s older: dropped.
    history = out[SERIES, "motor_x", "history"]
    assert times(history) == [T0 + t * half for t in range(1, 5)]
    out = run(processor, W1, log("motor_x", T0 + 7 * S // 4, 0.0))
    # Five points within 2 s exceed four: the oldest goes.
    history = out[SERIES, "motor_x", "history"]
    assert times(history) == [T0 + S, T0 + 3 * half, T0 + 7 * S // 4, T0 + 2 * S]
    entry = ledger(processor, "motor_x")
    assert entry["evicted"] == 2
    assert entry["balanced"]
    assert job_of(processor, SERIES, "motor_x") == job


def test_a_new_job_starts_the_history_afresh_under_its_caps(processor):
    run(processor, W0, *(log("motor_x", T0 + t, float(t)) for t in range(10)))
    started(processor, SERIES, "motor_x", {"max_points": 4})
    out = run(processor, W1, *(log("motor_x", T0 + S + t, float(t)) for t in range(6)))
    assert times(out[SERIES, "motor_x", "history"]) == [T0 + S + t for t in range(2, 6)]
    entry = ledger(processor, "motor_x")
    assert (entry["received"], entry["points"]) == (16, 4)
    assert entry["cleared"] + entry["evicted"] == 12
    assert entry["balanced"]


def test_the_facilitys_params_are_accepted_as_they_are(processor):
    job = started(processor, SERIES, "motion1", {"toa_edges": {"num_bins": 3}})
    out = run(processor, W0, log("motion1", T0, 1.0))
    assert out[SERIES, "motion1", "latest"].value == 1.0
    assert job_of(processor, SERIES, "motion1") == job


@pytest.mark.parametrize(
    ("source", "params", "reason"),
    [
        ("nope", {"length_s": 1}, "unknown source 'nope'"),
        ("motor_x", {"max_points": 0}, "max_points"),
        ("motor_x", {"length_s": 1e9}, "less than or equal to 86400"),
        ("motor_x", {"max_points": "many"}, "max_points"),
    ],
)
def test_bad_params_are_refused_with_a_reason(processor, source, params, reason):
    run(processor, W0, log("motor_x", T0, 1.0))
    job = job_of(processor, SERIES, "motor_x")
    _, [response] = start(processor, SERIES, source, params)
    assert (response.response, response.device) == ("ERR", source)
    assert reason in response.message
    assert processor.status_details().model_dump()["commands_rejected"] == 1
    # The running job keeps its history.
    assert job_of(processor, SERIES, "motor_x") == job
    out = run(processor, W1)
    assert times(out[SERIES, "motor_x", "history"]) == [T0]


def test_stopped_job_publishes_nothing_and_a_new_one_shows_the_logs_history(
    processor,
):
    run(processor, W0, log("motor_x", T0, 1.0))
    [response] = act(processor, "stop", job_of(processor, SERIES, "motor_x"))
    assert response.response == "ACK"
    assert (SERIES, "motor_x", "history") not in run(
        processor, W1, log("motor_x", T0 + S, 2.0)
    )
    started(processor, SERIES, "motor_x")
    out = run(processor, W1, log("motor_x", T0 + S + 1, 3.0))
    # The log kept its values while no job showed them.
    assert out[SERIES, "motor_x", "history"].values.tolist() == [1.0, 2.0, 3.0]


def test_caps_from_packaged_config():
    caps = caps_from_config(load_config("services"))
    assert caps == HistoryCaps(length_ns=300 * S, max_points=10_000)


@pytest.mark.parametrize(
    "config",
    [
        {"timeseries_length_s": 300},
        {"timeseries_length_s": -1, "timeseries_max_points": 10},
        {"timeseries_length_s": 1, "timeseries_max_points": 10**7},
    ],
)
def test_bad_caps_config_is_a_config_error(config):
    with pytest.raises(ConfigError, match="timeseries"):
        caps_from_config(config)


def test_history_plot_has_dates_on_x_and_unit_on_y(processor):
    messages = [log("motor_x", T0 + t * S // 10, float(t)) for t in range(10)]
    history = run(processor, W0, *messages)[SERIES, "motor_x", "history"]
    [ax] = plot(history, "motor_x history").axes
    assert ax.get_xlabel() == "time (local time)"
    assert ax.get_ylabel() == "motor_x [mm]"
    formatter = ax.xaxis.get_major_formatter()
    assert isinstance(formatter, matplotlib.dates.ConciseDateFormatter)
