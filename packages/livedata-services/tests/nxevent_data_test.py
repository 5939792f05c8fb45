"""ev44 batches become the NXevent_data the ESS packages read from files."""

import numpy as np

from ess.livedata.core.payloads import EventBatch
from ess.livedata.reduction.nxevent_data import to_nxevent_data


def batch(times: list[int], index: list[int], ids: list[int]) -> EventBatch:
    return EventBatch(
        reference_time=np.array(times, dtype=np.int64),
        reference_time_index=np.array(index, dtype=np.int32),
        time_of_arrival=np.arange(len(ids), dtype=np.int32) * 1000,
        pixel_id=np.array(ids, dtype=np.int32),
    )


def test_pulses_of_all_batches_in_order_each_with_its_events():
    events = to_nxevent_data(
        [batch([10, 20], [0, 2], [5, 6, 7]), batch([30], [0], [8, 9])],
        with_ids=True,
    )
    assert events.dims == ("event_time_zero",)
    np.testing.assert_array_equal(
        events.coords["event_time_zero"].values.astype(np.int64), [10, 20, 30]
    )
    np.testing.assert_array_equal(events.bins.size().values, [2, 1, 2])
    ids = [events[i].values.coords["event_id"].values.tolist() for i in range(3)]
    assert ids == [[5, 6], [7], [8, 9]]
    content = events.bins.constituents["data"]
    assert content.coords["event_time_offset"].unit == "ns"
    assert content.data.unit == "counts"
    assert content.data.dtype == "float64"


def test_monitors_have_no_ids_and_no_batches_no_pulses():
    monitor = to_nxevent_data([batch([10], [0], [1, 1])], with_ids=False)
    assert "event_id" not in monitor.bins.constituents["data"].coords
    empty = to_nxevent_data([], with_ids=True)
    assert empty.sizes == {"event_time_zero": 0}
    assert empty.bins.size().sum().value == 0
