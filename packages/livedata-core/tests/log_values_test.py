import numpy as np
import pytest
import scipp as sc

from ess.livedata.core.instrument import LogStream
from ess.livedata.core.log_values import (
    Added,
    HistoryCaps,
    IncompatibleValue,
    LatestLogValues,
    LogBuffer,
)
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import LogSample

S = 1_000_000_000
BIG = HistoryCaps(length_ns=10**6 * S, max_points=10**6)


def filled(times, caps=BIG, values=None) -> LogBuffer:
    buffer = LogBuffer(caps)
    for i, t in enumerate(times):
        buffer.add(t, float(i) if values is None else values[i])
    return buffer


def test_point_exactly_length_older_than_newest_is_dropped():
    buffer = filled([0, 1, 2], HistoryCaps(length_ns=2 * S, max_points=100))
    buffer.add(2 * S, 9.0)
    assert buffer.times().tolist() == [1, 2, 2 * S]
    assert buffer.evicted == 1


def test_point_just_inside_length_is_kept():
    buffer = filled([1], HistoryCaps(length_ns=2 * S, max_points=100))
    buffer.add(2 * S, 9.0)
    assert buffer.times().tolist() == [1, 2 * S]
    assert buffer.evicted == 0


def test_newest_point_is_kept_however_old():
    buffer = filled([0], HistoryCaps(length_ns=1, max_points=1))
    assert buffer.times().tolist() == [0]
    assert buffer.at_or_before(10**18).value == 0.0


def test_count_cap_drops_oldest_by_time():
    buffer = filled([5, 1, 4, 2, 3], HistoryCaps(length_ns=S, max_points=3))
    assert buffer.times().tolist() == [3, 4, 5]
    assert buffer.evicted == 2


def test_out_of_order_points_are_sorted():
    buffer = filled([10, 30, 20, 5, 40])
    assert buffer.times().tolist() == [5, 10, 20, 30, 40]
    assert buffer.values().tolist() == [3.0, 0.0, 2.0, 1.0, 4.0]


def test_same_timestamp_keeps_last_value_received():
    buffer = LogBuffer(BIG)
    assert buffer.add(10, 1.0) is Added.APPENDED
    assert buffer.add(20, 2.0) is Added.APPENDED
    assert buffer.add(10, 3.0) is Added.REPLACED
    assert buffer.add(20, 4.0) is Added.REPLACED
    assert buffer.add(15, 5.0) is Added.INSERTED
    assert buffer.times().tolist() == [10, 15, 20]
    assert buffer.values().tolist() == [3.0, 5.0, 4.0]


def test_old_out_of_order_point_beyond_length_is_evicted_at_once():
    buffer = filled([10 * S], HistoryCaps(length_ns=S, max_points=100))
    assert buffer.add(9 * S, 1.0) is Added.INSERTED
    assert buffer.times().tolist() == [10 * S]
    assert buffer.evicted == 1


def test_dtype_and_shape_are_fixed_by_first_value_until_cleared():
    buffer = filled([1, 2])
    with pytest.raises(IncompatibleValue, match="float64 scalar"):
        buffer.add(3, np.array([1.0, 2.0]))
    with pytest.raises(IncompatibleValue, match="got int64"):
        buffer.add(3, 7)
    with pytest.raises(IncompatibleValue, match="not numeric"):
        buffer.add(3, "text")
    assert len(buffer) == 2
    assert buffer.clear() == 2
    buffer.add(3, np.array([1, 2], dtype=np.int32))
    assert buffer.values().shape == (1, 2)
    assert buffer.values().dtype == np.int32


def test_nan_is_stored():
    buffer = filled([1, 2], values=[1.0, float("nan")])
    assert np.isnan(buffer.values()[1])


def test_memory_stays_bounded_under_long_streams():
    caps = HistoryCaps(length_ns=10**18, max_points=100)
    buffer = LogBuffer(caps)
    for t in range(10_000):
        buffer.add(t, float(t))
    assert len(buffer) == 100
    assert buffer.times().tolist() == list(range(9900, 10_000))
    assert buffer.values().tolist() == [float(t) for t in range(9900, 10_000)]
    assert buffer._times.size <= 2 * (caps.max_points + 1)


def test_byte_budget_lowers_point_limit_for_large_values():
    buffer = LogBuffer(BIG, max_bytes=10 * (8 + 8 * 100))
    for t in range(50):
        buffer.add(t, np.zeros(100))
    assert buffer.max_points == 10
    assert len(buffer) == 10


def test_shrinking_caps_applies_at_once_and_frees_memory():
    buffer = filled(range(1000))
    buffer.set_caps(HistoryCaps(length_ns=BIG.length_ns, max_points=10))
    assert buffer.times().tolist() == list(range(990, 1000))
    assert buffer.evicted == 990
    assert buffer._times.size <= 22
    buffer.set_caps(HistoryCaps(length_ns=3, max_points=10))
    assert buffer.times().tolist() == [997, 998, 999]


def test_at_or_before():
    buffer = filled([10, 20, 30])
    assert buffer.at_or_before(9) is None
    assert buffer.at_or_before(10) == LogSample(10, 0.0)
    assert buffer.at_or_before(29) == LogSample(20, 1.0)
    assert buffer.at_or_before(10**18) == LogSample(30, 2.0)


def test_caps_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        HistoryCaps(length_ns=0, max_points=1)


LOGS = (
    LogStream("motor_x", "x", unit="mm"),
    LogStream("spectrum", "s", unit="counts"),
    LogStream("shutter", "sh", unit=None),
)


def log(name: str, time: int, value) -> Message[LogSample]:
    return Message(time, StreamId(StreamKind.LOG, name), LogSample(time, value))


def test_latest_log_values_answer_at_a_data_time_with_unit():
    logs = LatestLogValues(LOGS)
    assert logs.value_at("motor_x", 10**18) is None
    for t, v in [(10, 1.0), (30, 3.0), (20, 2.0)]:
        assert logs.update(log("motor_x", t, v))
    assert logs.value_at("motor_x", 9) is None
    assert sc.identical(logs.value_at("motor_x", 25), sc.scalar(2.0, unit="mm"))
    assert sc.identical(logs.value_at("motor_x", 30), sc.scalar(3.0, unit="mm"))
    logs.update(log("shutter", 5, 1))
    assert sc.identical(logs.value_at("shutter", 5), sc.scalar(1, unit=None))


def test_latest_log_values_of_array_logs():
    logs = LatestLogValues(LOGS)
    logs.update(log("spectrum", 1, np.array([1.0, 2.0])))
    expected = sc.array(dims=["index"], values=[1.0, 2.0], unit="counts")
    assert sc.identical(logs.value_at("spectrum", 1), expected)


def test_latest_log_values_ignore_unknown_and_count_rejected():
    logs = LatestLogValues(LOGS)
    assert not logs.update(log("nope", 1, 1.0))
    other_kind = Message(1, StreamId(StreamKind.LIVEDATA_DATA, "motor_x"), None)
    assert not logs.update(other_kind)
    assert logs.update(log("motor_x", 1, 1.0))
    assert not logs.update(log("motor_x", 2, np.array([1.0])))
    assert logs.rejected == 1
    with pytest.raises(KeyError, match="known: motor_x, shutter, spectrum"):
        logs.value_at("nope", 1)
