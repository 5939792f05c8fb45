"""Data-time windows: which window a message belongs to and when it closes.

Windows are on data time (a message's timestamp, i.e. the pulse's reference
time), never on wall-clock arrival, so that a slow consumer still attributes
events to the pulse that produced them. Windows are aligned to multiples of
their length; with 14 Hz pulses and a 1 s window each window holds whole
pulses, because a message is assigned by its (first) pulse time.

A window closes once every live stream has delivered data past its end (the
*watermark*). Streams that went silent stop holding windows back after
``stale_after_s``; streams whose timestamps are implausible (wrong epoch, wrong
unit, far future) are flagged, never hold windows back, and their data joins
the newest open window so nothing is dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .message import StreamId


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Half-open data-time interval [start, end) in ns since the epoch."""

    start: int
    end: int


@dataclass
class _StreamClock:
    latest: int = 0
    last_seen: float = 0.0
    suspect_offset_ns: int | None = None


@dataclass
class WindowClock:
    """Assigns timestamps to window indices and tells which windows may close.

    Parameters
    ----------
    length_ns:
        Window length; 1 s holds 14 pulses of the ESS source.
    max_skew_ns:
        Timestamps further than this from the wall clock are implausible.
    stale_after_s:
        A stream silent for this long (wall time) no longer holds back windows.
    close_timeout_s:
        A window with data closes at the latest this long after it opened,
        even if some stream is late, so output keeps flowing.
    """

    length_ns: int
    max_skew_ns: int
    stale_after_s: float = 3.0
    close_timeout_s: float = 2.0
    wall_clock_ns: Callable[[], int] = time.time_ns
    monotonic: Callable[[], float] = time.monotonic
    _streams: dict[StreamId, _StreamClock] = field(default_factory=dict)
    _opened_at: dict[int, float] = field(default_factory=dict)
    _last_closed: int | None = None
    late_messages: int = 0

    def window(self, index: int) -> TimeWindow:
        start = index * self.length_ns
        return TimeWindow(start=start, end=start + self.length_ns)

    def assign(self, stream: StreamId, timestamp: int) -> int:
        """Window index for a message; opens the window if needed."""
        now = self.monotonic()
        clock = self._streams.setdefault(stream, _StreamClock())
        clock.last_seen = now
        offset = timestamp - self.wall_clock_ns()
        if abs(offset) > self.max_skew_ns:
            clock.suspect_offset_ns = offset
            index = self._newest_open_index()
        else:
            clock.suspect_offset_ns = None
            clock.latest = max(clock.latest, timestamp)
            index = timestamp // self.length_ns
            if self._last_closed is not None and index <= self._last_closed:
                self.late_messages += 1
                index = self._last_closed + 1
        self._opened_at.setdefault(index, now)
        return index

    def _newest_open_index(self) -> int:
        if self._opened_at:
            return max(self._opened_at)
        if self._last_closed is not None:
            return self._last_closed + 1
        return self.wall_clock_ns() // self.length_ns

    def watermark(self) -> int | None:
        """Data time every live, plausible stream has reached; None if none."""
        now = self.monotonic()
        live = [
            c.latest
            for c in self._streams.values()
            if c.suspect_offset_ns is None
            and c.latest > 0
            and now - c.last_seen <= self.stale_after_s
        ]
        return min(live) if live else None

    def closable(self) -> list[int]:
        """Indices of open windows that may close now, oldest first.

        Windows close strictly in order: a window that must wait holds back
        the newer ones, so outputs are published in data-time order.
        """
        watermark = self.watermark()
        now = self.monotonic()
        ready = []
        for index in sorted(self._opened_at):
            end = self.window(index).end
            timed_out = now - self._opened_at[index] >= self.close_timeout_s
            if (watermark is not None and watermark >= end) or timed_out:
                ready.append(index)
            else:
                break
        return ready

    def close(self, index: int) -> TimeWindow:
        """Mark a window closed; later data for it counts as late."""
        self._opened_at.pop(index, None)
        self._last_closed = (
            index if self._last_closed is None else max(self._last_closed, index)
        )
        return self.window(index)

    def suspect_streams(self) -> dict[str, float]:
        """Streams with implausible timestamps and their offset in seconds."""
        return {
            str(stream): clock.suspect_offset_ns / 1e9
            for stream, clock in self._streams.items()
            if clock.suspect_offset_ns is not None
        }

    def data_lag_s(self) -> float | None:
        """Wall time minus the newest plausible data time seen."""
        latest = [c.latest for c in self._streams.values() if c.latest > 0]
        if not latest:
            return None
        return (self.wall_clock_ns() - max(latest)) / 1e9
