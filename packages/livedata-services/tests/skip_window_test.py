"""Back-pressure in the services: skipped windows are counted exactly, not processed.

The reduction service's jobs are tested in ``jobs_test.py``.

Also the absurd-value checks the issue lists that are not covered elsewhere:
negative time of arrival on a monitor.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipp as sc

from ess.livedata.core.log_values import HistoryCaps
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.window import TimeWindow
from ess.livedata.instruments.dummy.plugin import make_instrument
from ess.livedata.processing.detectors import DetectorProcessor
from ess.livedata.processing.monitors import MonitorProcessor
from ess.livedata.processing.skipping import skipped_events
from ess.livedata.processing.timeseries import TimeseriesProcessor

MS = 1_000_000
S = 1_000_000_000
W0 = TimeWindow(0, S)
W1 = TimeWindow(S, 2 * S)
W2 = TimeWindow(2 * S, 3 * S)


def batch(toa_ms, pixel_id=None) -> EventBatch:
    toa = (np.asarray(toa_ms, dtype=float) * MS).astype(np.int32)
    return EventBatch(
        reference_time=np.array([0], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=toa,
        pixel_id=np.asarray(pixel_id if pixel_id is not None else [], dtype=np.int32),
    )


def grouped(*messages: Message) -> dict[StreamId, list[Message]]:
    out: dict[StreamId, list[Message]] = {}
    for m in messages:
        out.setdefault(m.stream, []).append(m)
    return out


def monitor_events(name: str, toa_ms) -> Message:
    return Message(0, StreamId(StreamKind.MONITOR_EVENTS, name), batch(toa_ms))


def monitor_spectrum(name: str, counts: float) -> Message:
    spectrum = sc.DataArray(
        sc.array(dims=["toa"], values=np.full(10, counts / 10), unit="counts"),
        coords={"toa": sc.linspace("toa", 0.0, 50.0 * MS, 11, unit="ns")},
    )
    return Message(0, StreamId(StreamKind.MONITOR_COUNTS, name), spectrum)


def test_monitor_skip_counts_events_and_spectra_without_output():
    processor = MonitorProcessor(make_instrument())
    processor.process_window(W0, grouped(monitor_events("monitor1", [1, 2, 3])))
    skipped = processor.skip_window(
        W1,
        grouped(
            monitor_events("monitor1", [1, 2, 200, -1]),
            monitor_events("monitor1", [5]),
            monitor_spectrum("monitor2", 30.0),
            monitor_events("not_a_monitor", [1, 2]),
        ),
    )
    assert skipped == 5 + 30
    out = {
        m.stream.name: m.value
        for m in processor.process_window(W2, grouped(monitor_events("monitor1", [4])))
    }
    # Skipped events are in no histogram: cumulative holds W0 and W2 only.
    assert out["monitor_data/monitor1/cumulative"].sum().value == 4
    ledgers = processor.status_details().model_dump()["ledger"]
    assert ledgers["monitor1"] == {
        "received": 9,
        "counted": 4,
        "out_of_range": 0,
        "rejected": 0,
        "ignored": 0,
        "skipped": 5,
        "balanced": True,
    }
    assert ledgers["monitor2"]["skipped"] == ledgers["monitor2"]["received"] == 30
    assert ledgers["monitor2"]["balanced"]
    assert "not_a_monitor" not in ledgers


def test_negative_monitor_toa_is_rejected_not_histogrammed():
    processor = MonitorProcessor(make_instrument())
    out = processor.process_window(
        W0, grouped(monitor_events("monitor1", [-5, -0.001, 1, 2]))
    )
    current = {m.stream.name: m.value for m in out}["monitor_data/monitor1/current"]
    assert current.sum().value == 2
    ledger = processor.status_details().model_dump()["ledger"]["monitor1"]
    assert ledger["rejected"] == 2
    assert ledger["counted"] == 2
    assert ledger["balanced"]


def test_detector_skip_counts_every_event_of_known_banks():
    processor = DetectorProcessor(make_instrument())
    stream = StreamId(StreamKind.DETECTOR_EVENTS, "panel_0")
    events = Message(0, stream, batch([30] * 4, [1, 2, 10**6, -3]))
    unknown = Message(0, StreamId(StreamKind.DETECTOR_EVENTS, "nope"), batch([1]))
    assert processor.skip_window(W0, grouped(events, events, unknown)) == 8
    out = processor.process_window(W1, grouped(events))
    images = {m.stream.name: m.value for m in out}
    assert images["detector_data/panel_0/toa_cumulative"].sum().value == 2
    ledger = processor.status_details().model_dump()["ledger"]["panel_0"]
    assert ledger["received"] == 12
    assert ledger["skipped"] == 8
    assert ledger["counted"] == 2
    assert ledger["rejected"] == 2
    assert ledger["balanced"]


def test_timeseries_never_skips():
    # Log samples legitimately carry old timestamps (a value set long ago and
    # re-sent); skipping their windows would hold back every update, so the
    # timeseries service processes every window, however late.
    processor = TimeseriesProcessor(
        make_instrument(), HistoryCaps(length_ns=300 * S, max_points=100)
    )
    assert not hasattr(processor, "skip_window")


@pytest.mark.parametrize("processor_type", [MonitorProcessor, DetectorProcessor])
def test_skipping_an_empty_window_counts_nothing(processor_type):
    processor = processor_type(make_instrument())
    assert processor.skip_window(W0, {}) == 0
    assert processor.status_details().model_dump()["ledger"] == {}


def test_log_samples_are_not_events():
    log = Message(0, StreamId(StreamKind.LOG, "motor"), object())
    events = monitor_events("monitor1", [1, 2])
    counts = skipped_events(grouped(log, events, events), lambda stream: True)
    assert counts == {events.stream: 4}
