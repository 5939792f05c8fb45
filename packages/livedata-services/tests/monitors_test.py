import json

import numpy as np
import pytest
import scipp as sc

from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.window import TimeWindow
from ess.livedata.instruments.dummy.plugin import make_instrument
from ess.livedata.processing.monitors import MonitorProcessor

MS = 1_000_000
W0 = TimeWindow(0, 1_000_000_000)
W1 = TimeWindow(1_000_000_000, 2_000_000_000)
M1 = StreamId(StreamKind.MONITOR_EVENTS, "monitor1")
CMD = StreamId(StreamKind.LIVEDATA_COMMANDS, "")


def events(toa_ms) -> Message:
    toa = (np.asarray(toa_ms, dtype=float) * MS).astype(np.int32)
    batch = EventBatch(
        reference_time=np.array([0], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=toa,
        pixel_id=np.empty(0, dtype=np.int32),
    )
    return Message(0, M1, batch)


def command(body: dict, service: str = "monitor_data", **extra) -> Message:
    payload = {"command_id": "c1", "service": service, "body": body, **extra}
    return Message(0, CMD, json.dumps(payload).encode())


def outputs(processor, window, *messages):
    grouped: dict[StreamId, list] = {}
    for m in messages:
        grouped.setdefault(m.stream, []).append(m)
    return {m.stream.name: m.value for m in processor.process_window(window, grouped)}


@pytest.fixture
def processor():
    return MonitorProcessor(make_instrument())


def test_current_and_cumulative_sum_to_events_in_range(processor):
    out0 = outputs(processor, W0, events([1, 2, 3, 80]))
    assert out0["monitor_data/monitor1/current"].sum().value == 3
    out1 = outputs(processor, W1, events([10, 20]))
    assert out1["monitor_data/monitor1/current"].sum().value == 2
    cumulative = out1["monitor_data/monitor1/cumulative"]
    assert cumulative.sum().value == 5
    assert cumulative.coords["start_time"].value == np.datetime64(W0.start, "ns")
    assert cumulative.coords["end_time"].value == np.datetime64(W1.end, "ns")
    ledger = processor.status_details().model_dump()["ledger"]["monitor1"]
    assert ledger == {
        "received": 6,
        "counted": 5,
        "out_of_range": 1,
        "rejected": 0,
        "ignored": 0,
        "skipped": 0,
        "balanced": True,
    }


def test_output_has_units_and_bin_edges(processor):
    current = outputs(processor, W0, events([1.0]))["monitor_data/monitor1/current"]
    assert current.unit == sc.units.counts
    assert current.coords["toa"].unit == sc.Unit("ms")
    assert current.coords["toa"].sizes["toa"] == current.sizes["toa"] + 1
    assert current.name == "monitor1"


def test_reset_zeroes_cumulative_but_not_current(processor):
    outputs(processor, W0, events([1, 2]))
    [response] = processor.handle_command(command({"action": "reset"}))
    assert response.value.status == "accepted"
    out = outputs(processor, W1, events([3]))
    assert out["monitor_data/monitor1/cumulative"].sum().value == 1
    assert out["monitor_data/monitor1/cumulative"].coords["start_time"].value == (
        np.datetime64(W1.start, "ns")
    )


def test_binning_command_changes_bins_and_range(processor):
    body = {
        "action": "set_toa_binning",
        "target": "monitor1",
        "toa_min": 10,
        "toa_max": 20,
        "bins": 5,
        "unit": "ms",
    }
    [response] = processor.handle_command(command(body))
    assert response.value.status == "accepted"
    out = outputs(processor, W0, events([5, 10, 12, 19.9, 20, 30]))
    current = out["monitor_data/monitor1/current"]
    assert current.sizes == {"toa": 5}
    assert list(current.values) == [1, 1, 0, 0, 1]
    assert (
        processor.status_details().model_dump()["ledger"]["monitor1"]["out_of_range"]
        == 3
    )


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe garbage", "not JSON"),
        (b'{"service": "monitor_data", "body": {"action": "explode"}}', "action"),
        (
            json.dumps(
                {
                    "service": "monitor_data",
                    "body": {
                        "action": "set_toa_binning",
                        "toa_min": 0,
                        "toa_max": 70,
                        "bins": 10**9,
                    },
                }
            ).encode(),
            "bins",
        ),
        (
            json.dumps(
                {"service": "monitor_data", "body": {"action": "reset", "target": "m9"}}
            ).encode(),
            "unknown monitor 'm9'",
        ),
        (b"[" * 70000, "larger than"),
    ],
)
def test_bad_commands_are_rejected_with_reason(processor, payload, reason):
    [response] = processor.handle_command(Message(0, CMD, payload))
    assert response.value.status == "rejected"
    assert reason in response.value.reason
    assert processor.status_details().model_dump()["commands_rejected"] == 1


def test_commands_for_other_services_are_ignored(processor):
    assert processor.handle_command(command({"action": "reset"}, "detector_data")) == []


def test_stopped_monitor_ignores_events_and_publishes_nothing(processor):
    processor.handle_command(command({"action": "stop", "target": "monitor1"}))
    out = outputs(processor, W0, events([1, 2]))
    assert "monitor_data/monitor1/current" not in out
    ledger = processor.status_details().model_dump()["ledger"]["monitor1"]
    assert ledger["ignored"] == 2
    assert ledger["balanced"]


def test_histogram_input_is_rebinned_and_accounted():
    processor = MonitorProcessor(make_instrument())
    edges = np.linspace(0, 100 * MS, 11)
    spectrum = sc.DataArray(
        sc.array(dims=["toa"], values=np.full(10, 7.0), unit="counts"),
        coords={"toa": sc.array(dims=["toa"], values=edges, unit="ns")},
    )
    stream = StreamId(StreamKind.MONITOR_COUNTS, "monitor1")
    out = outputs(processor, W0, Message(0, stream, spectrum))
    current = out["monitor_data/monitor1/current"]
    # default range is one 71.4 ms frame: 7 full bins and 1.43 of the 8th
    assert current.sum().value == pytest.approx(7 * 7 + 7 * 0.142857, rel=1e-4)
    ledger = processor.status_details().model_dump()["ledger"]["monitor1"]
    assert ledger["received"] == 70
    assert ledger["balanced"]
