"""Back-pressure in the services: skipped windows are counted exactly, not processed.

The reduction service's jobs are tested in ``jobs_test.py``.

Also the absurd-value checks the issue lists that are not covered elsewhere:
negative time of arrival on a monitor.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipp as sc
from job_driving import grouped, run, skip

from ess.livedata.core.log_values import HistoryCaps
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.window import TimeWindow
from ess.livedata.processing.job_bindings import (
    detector_jobs,
    monitor_jobs,
    timeseries_jobs,
)
from ess.livedata.processing.skipping import skipped_events

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


@pytest.fixture(scope="module")
def loaded():
    return load_instrument("dummy")


def monitor_events(name: str, toa_ms) -> Message:
    return Message(0, StreamId(StreamKind.MONITOR_EVENTS, name), batch(toa_ms))


def monitor_spectrum(name: str, counts: float) -> Message:
    spectrum = sc.DataArray(
        sc.array(dims=["toa"], values=np.full(10, counts / 10), unit="counts"),
        coords={"toa": sc.linspace("toa", 0.0, 50.0 * MS, 11, unit="ns")},
    )
    return Message(0, StreamId(StreamKind.MONITOR_COUNTS, name), spectrum)


def test_monitor_skip_counts_events_and_spectra_without_output(loaded):
    processor = monitor_jobs(loaded)
    run(processor, W0, monitor_events("monitor1", [1, 2, 3]))
    skipped = skip(
        processor,
        W1,
        monitor_events("monitor1", [1, 2, 200, -1]),
        monitor_events("monitor1", [5]),
        monitor_spectrum("monitor2", 30.0),
        monitor_events("not_a_monitor", [1, 2]),
    )
    assert skipped == 5 + 30
    out = run(processor, W2, monitor_events("monitor1", [4]))
    # Skipped events are in no histogram: cumulative holds W0 and W2 only.
    assert out["monitor_histogram", "monitor1", "cumulative"].sum().value == 4
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


def test_negative_monitor_toa_is_rejected_not_histogrammed(loaded):
    processor = monitor_jobs(loaded)
    out = run(processor, W0, monitor_events("monitor1", [-5, -0.001, 1, 2]))
    assert out["monitor_histogram", "monitor1", "current"].sum().value == 2
    ledger = processor.status_details().model_dump()["ledger"]["monitor1"]
    assert ledger["rejected"] == 2
    assert ledger["counted"] == 2
    assert ledger["balanced"]


def test_detector_skip_counts_every_event_of_known_banks(loaded):
    processor = detector_jobs(loaded)
    stream = StreamId(StreamKind.DETECTOR_EVENTS, "panel_0")
    events = Message(0, stream, batch([30] * 4, [1, 2, 10**6, -3]))
    unknown = Message(0, StreamId(StreamKind.DETECTOR_EVENTS, "nope"), batch([1]))
    assert skip(processor, W0, events, events, unknown) == 8
    out = run(processor, W1, events)
    assert out["panel_0_xy", "panel_0", "toa_cumulative"].sum().value == 2
    ledger = processor.status_details().model_dump()["ledger"]["panel_0"]
    assert ledger["received"] == 12
    assert ledger["skipped"] == 8
    assert ledger["counted"] == 2
    assert ledger["rejected"] == 2
    assert ledger["balanced"]


def test_timeseries_never_skips(loaded):
    # Log samples legitimately carry old timestamps (a value set long ago and
    # re-sent); skipping their windows would hold back every update, so the
    # timeseries service processes every window, however late. The loop
    # skips only processors that have a skip_window.
    processor = timeseries_jobs(loaded, HistoryCaps(length_ns=300 * S, max_points=100))
    assert getattr(processor, "skip_window", None) is None
    assert getattr(monitor_jobs(loaded), "skip_window", None) is not None


@pytest.mark.parametrize("jobs", [monitor_jobs, detector_jobs])
def test_skipping_an_empty_window_counts_nothing(loaded, jobs):
    processor = jobs(loaded)
    assert skip(processor, W0) == 0
    assert processor.status_details().model_dump()["ledger"] == {}


def test_log_samples_are_not_events():
    log = Message(0, StreamId(StreamKind.LOG, "motor"), object())
    events = monitor_events("monitor1", [1, 2])
    counts = skipped_events(grouped([log, events, events]), lambda stream: True)
    assert counts == {events.stream: 4}
