from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.window import WindowClock

SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND  # a window boundary
A = StreamId(StreamKind.MONITOR_EVENTS, "a")
B = StreamId(StreamKind.MONITOR_EVENTS, "b")


class FakeTime:
    def __init__(self) -> None:
        self.wall = T0
        self.mono = 0.0


def make_clock(time: FakeTime, **kwargs) -> WindowClock:
    return WindowClock(
        length_ns=SECOND,
        max_skew_ns=600 * SECOND,
        wall_clock_ns=lambda: time.wall,
        monotonic=lambda: time.mono,
        **kwargs,
    )


def test_fourteen_pulses_fill_one_window_and_next_pulse_closes_it():
    t = FakeTime()
    clock = make_clock(t)
    pulses = [T0 + round(i * SECOND / 14) for i in range(15)]
    indices = {clock.assign(A, t) for t in pulses[:14]}
    assert indices == {T0 // SECOND}
    assert clock.closable() == []
    clock.assign(A, pulses[14])
    assert clock.closable() == [T0 // SECOND]


def test_window_waits_for_slowest_live_stream():
    t = FakeTime()
    clock = make_clock(t)
    clock.assign(A, T0 + 2 * SECOND)
    clock.assign(B, T0 + 100)
    assert clock.closable() == []
    clock.assign(B, T0 + SECOND + 1)
    assert clock.closable() == [T0 // SECOND]


def test_silent_stream_stops_holding_back_windows():
    t = FakeTime()
    clock = make_clock(t, stale_after_s=3.0, close_timeout_s=100.0)
    clock.assign(B, T0 + 100)
    t.mono = 5.0
    clock.assign(A, T0 + 200)
    clock.assign(A, T0 + SECOND + 1)
    assert clock.closable() == [T0 // SECOND]


def test_stream_with_wrong_epoch_is_flagged_and_does_not_wedge_windows():
    t = FakeTime()
    clock = make_clock(t)
    good = clock.assign(A, T0 + 10)
    # microseconds sent as nanoseconds: lands in 1970
    bad = clock.assign(B, (T0 + 20) // 1000)
    assert bad == good
    assert set(clock.suspect_streams()) == {str(B)}
    clock.assign(A, T0 + SECOND + 1)
    assert clock.closable() == [T0 // SECOND]


def test_late_message_joins_next_open_window_and_is_counted():
    t = FakeTime()
    clock = make_clock(t)
    first = clock.assign(A, T0 + 10)
    clock.assign(A, T0 + SECOND + 10)
    assert clock.closable() == [first]
    clock.close(first)
    assert clock.assign(B, T0 + 20) == first + 1
    assert clock.late_messages == 1


def test_window_times_out_when_stream_lags():
    t = FakeTime()
    clock = make_clock(t, close_timeout_s=2.0)
    index = clock.assign(A, T0 + 10)
    assert clock.closable() == []
    t.mono = 2.5
    assert clock.closable() == [index]


def test_windows_close_in_order():
    t = FakeTime()
    clock = make_clock(t, close_timeout_s=100.0)
    first = clock.assign(A, T0 + 10)
    clock.assign(A, T0 + SECOND + 10)
    clock.assign(A, T0 + 2 * SECOND + 10)
    assert clock.closable() == [first, first + 1]
