"""Back-pressure: windows older than ``max_lag_s`` are skipped, and counted."""

from __future__ import annotations

import logging

import pytest
from loop_test import MON, SECOND, T0, SumProcessor, build_loop, data

from ess.livedata.core.message import Message, StreamKind


class SkippingSumProcessor(SumProcessor):
    """Sums processed windows; counts the values of skipped ones as events."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped: list[int] = []

    def skip_window(self, window, messages):
        events = sum(m.value for msgs in messages.values() for m in msgs)
        self.skipped.append(window.start)
        return events


def make_loop(processor, max_lag_s=5.0, elapsed_s=(0.0,)):
    return build_loop(processor, elapsed_s, max_lag_s=max_lag_s)


def backlog(seconds: int, per_window: int = 3) -> list[Message]:
    """``seconds`` windows of data ending at T0, ``per_window`` events of 1 each."""
    return [
        Message(T0 - (seconds - w) * SECOND + i, MON, 1)
        for w in range(seconds)
        for i in range(per_window)
    ]


def test_windows_older_than_max_lag_are_skipped_and_counted(caplog):
    processor = SkippingSumProcessor()
    loop, source, sink, _ = make_loop(processor, max_lag_s=5)
    source.queue = backlog(20)
    with caplog.at_level(logging.WARNING):
        loop.step()
    # Window w ends at T0 - (19 - w) s: lag > 5 s for the 14 oldest windows;
    # the newest window stays open (nothing past its end yet).
    assert len(processor.skipped) == 14
    assert data(sink) == [3] * 5
    counters = loop.current_status().model_extra["counters"]
    assert counters["windows_skipped"] == 14
    assert counters["events_skipped"] == 14 * 3
    assert counters["windows_closed"] == 19
    status = loop.current_status()
    assert status.model_extra["counters"]["events_skipped"] == 42
    assert status.model_extra["max_lag_s"] == 5
    assert status.model_extra["skipping"] is False
    messages = [r.getMessage() for r in caplog.records]
    assert sum("falling behind" in m for m in messages) == 1
    assert sum("caught up: skipped 14 windows with 42 events" in m for m in messages)


def test_skipping_state_shows_in_status_until_caught_up():
    processor = SkippingSumProcessor()
    loop, source, sink, _ = make_loop(processor, max_lag_s=5)
    source.queue = backlog(20)[:33]  # windows -20 .. -10; -10 stays open
    loop.step()
    assert loop.current_status().model_extra["skipping"] is True
    source.queue = [Message(T0, MON, 1)]  # closes window -10: still too old
    loop.step()
    assert loop.current_status().model_extra["skipping"] is True
    assert len(processor.skipped) == 11
    source.queue = [Message(T0 + SECOND, MON, 1)]  # closes window 0: live
    loop.step()
    assert loop.current_status().model_extra["skipping"] is False
    assert data(sink) == [1]


def test_live_windows_are_never_skipped():
    processor = SkippingSumProcessor()
    loop, source, sink, wall = make_loop(processor, max_lag_s=2)
    for second in range(10):
        wall[0] = T0 + second * SECOND + SECOND // 2
        source.queue = [Message(T0 + second * SECOND + i, MON, 1) for i in range(3)]
        loop.step()
    assert processor.skipped == []
    assert data(sink) == [3] * 9


@pytest.mark.parametrize("max_lag_s", [None, 5.0])
def test_processors_without_skip_window_or_no_max_lag_process_everything(max_lag_s):
    processor = SumProcessor() if max_lag_s else SkippingSumProcessor()
    loop, source, sink, _ = make_loop(processor, max_lag_s=max_lag_s)
    source.queue = backlog(20)
    loop.step()
    assert data(sink) == [3] * 19
    status = loop.current_status()
    assert status.model_extra["counters"].get("windows_skipped", 0) == 0
    # Dashboards show the threshold in effect: none when nothing is skipped.
    assert status.model_extra["max_lag_s"] is None
    assert not sink.of_kind(StreamKind.LIVEDATA_RESPONSES)


def test_constant_clock_offset_costs_one_window_not_all(caplog):
    # Data stamped 30 s behind the wall clock, arriving at real-time pace:
    # skipping cannot catch up, so after one skipped window it processes.
    processor = SkippingSumProcessor()
    loop, source, sink, wall = make_loop(processor, max_lag_s=5)
    offset = 30 * SECOND
    with caplog.at_level(logging.WARNING):
        for second in range(12):
            wall[0] = T0 + second * SECOND + SECOND // 2
            start = T0 - offset + second * SECOND
            source.queue = [Message(start + i, MON, 1) for i in range(3)]
            loop.step()
    assert len(processor.skipped) == 1
    assert data(sink) == [3] * 10
    assert loop.current_status().model_extra["skipping"] is False
    messages = [r.getMessage() for r in caplog.records]
    assert sum("at real-time pace" in m for m in messages) == 1


def test_backlog_behind_a_clock_offset_is_still_skipped():
    processor = SkippingSumProcessor()
    loop, source, sink, wall = make_loop(processor, max_lag_s=5)
    offset = 30 * SECOND
    for second in range(4):  # live pace, 30 s behind: settles on the offset
        wall[0] = T0 + second * SECOND + SECOND // 2
        start = T0 - offset + second * SECOND
        source.queue = [Message(start + i, MON, 1) for i in range(3)]
        loop.step()
    assert len(processor.skipped) == 1
    # The service stalls for 20 s; then 20 s of data arrive at once.
    wall[0] = T0 + 24 * SECOND + SECOND // 2
    source.queue = [
        Message(T0 - offset + second * SECOND + i, MON, 1)
        for second in range(4, 25)
        for i in range(3)
    ]
    loop.step()
    # Windows 3..23 close; those more than 5 s beyond the offset are skipped.
    assert len(processor.skipped) == 1 + 15
    assert data(sink)[-6:] == [3] * 6


def test_last_window_of_a_backlog_closed_by_timeout_is_skipped_too():
    processor = SkippingSumProcessor()
    elapsed_s = [0.0]
    loop, source, sink, wall = make_loop(processor, max_lag_s=5, elapsed_s=elapsed_s)
    wall[0] = T0 + 20 * SECOND  # all of it 20 s and more behind
    source.queue = backlog(10)  # windows -10 .. -1; -1 stays open
    loop.step()
    assert len(processor.skipped) == 9
    # Nothing newer comes: the open window closes by timeout, 2 s later,
    # when its lag is larger than the previous window's.
    elapsed_s[0] = 2.0
    wall[0] = T0 + 22 * SECOND
    loop.step()
    assert len(processor.skipped) == 10
    assert data(sink) == []
