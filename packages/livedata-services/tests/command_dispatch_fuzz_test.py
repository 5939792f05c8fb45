"""Hostile commands through the real processors: one response each, never a crash.

The parser is fuzzed in livedata-core; here random, mostly plausible command
bodies reach each service's ``handle_command`` and so its command handlers
(unknown banks and views, degenerate ROIs, absurd binning), and the service
must answer every command addressed to it exactly once, count it, and keep
processing data afterwards.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ess.livedata.core.log_values import HistoryCaps
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.window import TimeWindow
from ess.livedata.instruments.dummy.plugin import make_instrument
from ess.livedata.processing.detectors import DetectorProcessor
from ess.livedata.processing.monitors import MonitorProcessor
from ess.livedata.processing.timeseries import TimeseriesProcessor

CMD = StreamId(StreamKind.LIVEDATA_COMMANDS, "")
W = TimeWindow(0, 1_000_000_000)

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from([0, 1, -1, 0.5, 10**9, 2**31, 4096, 4097]),
)
names = st.sampled_from(
    ["panel_0", "tubes_1", "monitor1", "monitor2", "motor_x", "nope", "", "plane"]
)
views = st.sampled_from(["plane", "xy", "tubes", "mantle", "nope", ""])
rectangles = st.fixed_dictionaries(
    {"kind": st.just("rectangle")},
    optional={"x_min": numbers, "x_max": numbers, "y_min": numbers, "y_max": numbers},
)
polygons = st.fixed_dictionaries(
    {"kind": st.just("polygon")},
    optional={"vertices": st.lists(st.tuples(numbers, numbers), max_size=40)},
)
BODIES = {
    "monitor_data": st.fixed_dictionaries(
        {"action": st.sampled_from(["set_toa_binning", "reset", "start", "stop"])},
        optional={
            "target": names,
            "toa_min": numbers,
            "toa_max": numbers,
            "bins": numbers,
            "unit": st.sampled_from(["ns", "us", "ms", "s", "h"]),
        },
    ),
    "detector_data": st.fixed_dictionaries(
        {
            "action": st.sampled_from(
                [
                    "set_toa_binning",
                    "reset",
                    "set_roi",
                    "remove_roi",
                    "set_view_resolution",
                ]
            )
        },
        optional={
            "target": names,
            "view": views,
            "roi": st.integers(-2, 20),
            "shape": rectangles | polygons,
            "resolution": st.tuples(numbers, numbers),
            "toa_min": numbers,
            "toa_max": numbers,
            "bins": numbers,
        },
    ),
    "timeseries": st.fixed_dictionaries(
        {"action": st.sampled_from(["set_history_caps", "reset"])},
        optional={"target": names, "length_s": numbers, "max_points": numbers},
    ),
}


def make(service: str):
    instrument = make_instrument()
    if service == "monitor_data":
        return MonitorProcessor(instrument)
    if service == "detector_data":
        return DetectorProcessor(instrument)
    return TimeseriesProcessor(instrument, HistoryCaps(10**12, 100))


def data_for(service: str) -> dict[StreamId, list[Message[Any]]]:
    batch = EventBatch(
        reference_time=np.array([0], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=np.array([1_000_000, 30_000_000], dtype=np.int32),
        pixel_id=np.array([1, 2], dtype=np.int32),
    )
    kind = {
        "monitor_data": (StreamKind.MONITOR_EVENTS, "monitor1"),
        "detector_data": (StreamKind.DETECTOR_EVENTS, "panel_0"),
    }.get(service)
    if kind is None:
        return {}
    stream = StreamId(*kind)
    return {stream: [Message(0, stream, batch)]}


@pytest.mark.parametrize("service", sorted(BODIES))
@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_command_gets_one_response_and_processing_continues(
    service: str, data: st.DataObject
) -> None:
    processor = make(service)
    bodies = data.draw(st.lists(BODIES[service], min_size=1, max_size=4))
    for i, body in enumerate(bodies):
        payload = json.dumps({"command_id": f"c{i}", "service": service, "body": body})
        responses = processor.handle_command(Message(0, CMD, payload.encode()))
        assert len(responses) == 1
        [response] = responses
        assert response.value.command_id == f"c{i}"
        if response.value.status == "rejected":
            assert response.value.reason
    counters = processor.status_details().model_dump()
    assert counters["commands_accepted"] + counters["commands_rejected"] == len(bodies)
    processor.process_window(W, data_for(service))
    for ledger in processor.status_details().model_dump()["ledger"].values():
        assert ledger["balanced"]
