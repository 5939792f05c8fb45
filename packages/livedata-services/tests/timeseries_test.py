import json

import matplotlib.dates
import numpy as np
import pytest
import scipp as sc

from ess.livedata.config import ConfigError, load_config
from ess.livedata.core.log_values import HistoryCaps
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import LogSample
from ess.livedata.core.window import TimeWindow
from ess.livedata.instruments.dummy.plugin import make_instrument
from ess.livedata.processing.png_sink import plot
from ess.livedata.processing.timeseries import TimeseriesProcessor, caps_from_config

S = 1_000_000_000
T0 = 1_700_000_000 * S
W0 = TimeWindow(T0, T0 + S)
W1 = TimeWindow(T0 + S, T0 + 2 * S)
CMD = StreamId(StreamKind.LIVEDATA_COMMANDS, "")
CAPS = HistoryCaps(length_ns=300 * S, max_points=10_000)


def log(name: str, time: int, value) -> Message[LogSample]:
    return Message(time, StreamId(StreamKind.LOG, name), LogSample(time, value))


def command(body: dict) -> Message:
    payload = {"command_id": "c1", "service": "timeseries", "body": body}
    return Message(0, CMD, json.dumps(payload).encode())


def outputs(processor, window, *messages) -> dict[str, sc.DataArray]:
    grouped: dict[StreamId, list] = {}
    for m in messages:
        grouped.setdefault(m.stream, []).append(m)
    return {m.stream.name: m.value for m in processor.process_window(window, grouped)}


def times(data: sc.DataArray) -> list[int]:
    return data.coords["time"].values.astype(np.int64).tolist()


def ledger(processor, name: str) -> dict:
    return processor.status_details().model_dump()["ledger"][name]


@pytest.fixture
def processor():
    return TimeseriesProcessor(make_instrument(), CAPS)


def test_history_and_latest_have_time_unit_and_window(processor):
    out = outputs(processor, W0, log("motor_x", T0 + 2, 2.0), log("motor_x", T0, 1.0))
    assert set(out) == {"timeseries/motor_x/history", "timeseries/motor_x/latest"}
    history = out["timeseries/motor_x/history"]
    assert history.dims == ("time",)
    assert history.coords["time"].dtype == sc.DType.datetime64
    assert history.coords["time"].unit == "ns"
    assert history.unit == "mm"
    assert history.name == "motor_x"
    assert times(history) == [T0, T0 + 2]
    assert history.values.tolist() == [1.0, 2.0]
    latest = out["timeseries/motor_x/latest"]
    assert latest.ndim == 0
    assert sc.identical(latest.data, sc.scalar(2.0, unit="mm"))
    assert latest.coords["time"].value == np.datetime64(T0 + 2, "ns")
    for data in (history, latest):
        assert data.coords["start_time"].value == np.datetime64(W0.start, "ns")
        assert data.coords["end_time"].value == np.datetime64(W0.end, "ns")


def test_streams_without_unit_and_with_integer_values(processor):
    out = outputs(processor, W0, log("shutter", T0, 1), log("shutter", T0 + 1, 0))
    history = out["timeseries/shutter/history"]
    assert history.unit is None
    assert history.dtype == sc.DType.int64


def test_streams_with_data_are_published_every_window(processor):
    outputs(processor, W0, log("motor_x", T0, 1.0))
    out = outputs(processor, W1, log("temperature", T0 + S, 295.0))
    assert set(out) == {
        f"timeseries/{name}/{output}"
        for name in ("motor_x", "temperature")
        for output in ("history", "latest")
    }


def test_out_of_order_and_duplicates_sorted_deduplicated_and_counted(processor):
    outputs(processor, W0, *(log("motor_x", T0 + t, float(t)) for t in (0, 3, 1)))
    out = outputs(
        processor,
        W1,
        log("motor_x", T0 + 3, 33.0),
        log("motor_x", T0 + 2, 2.0),
        log("motor_x", T0 + 2, 22.0),
        log("motor_x", T0 + 4, 4.0),
    )
    history = out["timeseries/motor_x/history"]
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
    out = outputs(
        processor,
        W0,
        log("temperature", T0, 295.0),
        log("temperature", T0 + 1, np.array([1.0, 2.0])),
        log("temperature", T0 + 2, np.array([1.0, 2.0])),
        log("temperature", T0 + 3, 296.0),
    )
    assert out["timeseries/temperature/history"].values.tolist() == [295.0, 296.0]
    entry = ledger(processor, "temperature")
    assert entry["rejected"] == 2
    assert entry["balanced"]
    problem = processor.status_details().model_dump()["problems"]["temperature"]
    assert "float64 scalar" in problem
    assert "shape (2,)" in problem
    assert caplog.text.count("rejecting values") == 1


def test_reset_clears_history_and_accepts_a_new_dtype(processor):
    outputs(processor, W0, log("temperature", T0, 295.0))
    [response] = processor.handle_command(command({"action": "reset"}))
    assert response.value.status == "accepted"
    assert outputs(processor, W1) == {}
    out = outputs(processor, W1, log("temperature", T0 + S, np.array([1.0, 2.0])))
    history = out["timeseries/temperature/history"]
    assert history.dims == ("time", "index")
    assert out["timeseries/temperature/latest"].dims == ("index",)
    entry = ledger(processor, "temperature")
    assert entry["cleared"] == 1
    assert entry["balanced"]
    assert "temperature" not in processor.status_details().model_dump()["problems"]


def test_nan_is_kept_and_counted(processor):
    out = outputs(processor, W0, log("motor_x", T0, float("nan")))
    assert np.isnan(out["timeseries/motor_x/latest"].value)
    assert ledger(processor, "motor_x")["nan"] == 1


def test_caps_command_for_one_stream(processor):
    body = {
        "action": "set_history_caps",
        "target": "motor_x",
        "length_s": 2,
        "max_points": 4,
    }
    [response] = processor.handle_command(command(body))
    assert response.value.status == "accepted"
    caps = processor.status_details().model_dump()["caps"]
    assert caps["motor_x"] == {"length_s": 2.0, "max_points": 4}
    assert caps["temperature"] == {"length_s": 300.0, "max_points": 10_000}
    half = S // 2
    out = outputs(
        processor, W0, *(log("motor_x", T0 + t * half, 0.0) for t in range(5))
    )
    # The newest point is at T0 + 2 s, so T0 is exactly 2 s older: dropped.
    history = out["timeseries/motor_x/history"]
    assert times(history) == [T0 + t * half for t in range(1, 5)]
    out = outputs(processor, W1, log("motor_x", T0 + 7 * S // 4, 0.0))
    # Five points within 2 s exceed four: the oldest goes.
    history = out["timeseries/motor_x/history"]
    assert times(history) == [T0 + S, T0 + 3 * half, T0 + 7 * S // 4, T0 + 2 * S]
    entry = ledger(processor, "motor_x")
    assert entry["evicted"] == 2
    assert entry["balanced"]


def test_caps_command_for_all_streams_shrinks_history_at_once(processor):
    outputs(processor, W0, *(log("motor_x", T0 + t, float(t)) for t in range(10)))
    body = {"action": "set_history_caps", "max_points": 4}
    [response] = processor.handle_command(command(body))
    assert response.value.status == "accepted"
    out = outputs(processor, W1, log("temperature", T0 + S, 1.0))
    assert times(out["timeseries/motor_x/history"]) == [T0 + t for t in range(6, 10)]
    assert (
        processor.status_details().model_dump()["caps"]["temperature"]["max_points"]
        == 4
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"action": "set_history_caps", "target": "nope", "length_s": 1}, "nope"),
        ({"action": "set_history_caps", "max_points": 0}, "max_points"),
        ({"action": "set_history_caps", "length_s": 1e9}, "length_s"),
        ({"action": "set_toa_binning", "toa_max": 1, "bins": 1}, "action"),
    ],
)
def test_bad_commands_are_rejected_with_a_reason(processor, body, reason):
    [response] = processor.handle_command(command(body))
    assert response.value.status == "rejected"
    assert reason in response.value.reason
    assert processor.status_details().model_dump()["commands_rejected"] == 1


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
    history = outputs(processor, W0, *messages)["timeseries/motor_x/history"]
    [ax] = plot(history, "timeseries/motor_x/history").axes
    assert ax.get_xlabel() == "time (local time)"
    assert ax.get_ylabel() == "motor_x [mm]"
    formatter = ax.xaxis.get_major_formatter()
    assert isinstance(formatter, matplotlib.dates.ConciseDateFormatter)
