"""Log values by data time: a bounded, sorted history per f144 stream.

:class:`LogBuffer` holds one stream's samples sorted by time with unique
timestamps, bounded by age, point count and bytes; the timeseries service
publishes it. :class:`LatestLogValues` keeps a short buffer per log stream so
that detector and reduction workflows can ask for the value of, say, a motor
at a window's data time.

Age boundary: a point exactly ``length_ns`` older than the newest point is
dropped; a buffer holds the interval ``(newest - length_ns, newest]``. The
newest point is therefore always kept, however old it is, so a stream that
only sends on change (a shutter, a motor at rest) keeps its current value.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipp as sc

from .instrument import LogStream
from .message import Message, StreamKind
from .payloads import LogSample

MAX_BUFFER_BYTES = 8 * 1024 * 1024
"""Default memory bound of one buffer, times included: keeps a published
history well below Kafka's 16 MiB message limit whatever the value shape."""

_NUMERIC_KINDS = "biuf"


@dataclass(frozen=True, slots=True)
class HistoryCaps:
    """How much of a stream a buffer keeps: by data-time age and point count."""

    length_ns: int
    max_points: int

    def __post_init__(self) -> None:
        if self.length_ns <= 0 or self.max_points <= 0:
            raise ValueError(f"caps must be positive, got {self}")


class Added(enum.Enum):
    """What :meth:`LogBuffer.add` did with a sample."""

    APPENDED = "appended"
    """Newer than every point held."""
    INSERTED = "inserted"
    """Out of order: older than the newest point, inserted at its place."""
    REPLACED = "replaced"
    """Same timestamp as a held point, whose value it replaced (last wins)."""


class IncompatibleValue(ValueError):
    """A value whose dtype or shape differs from the stream's, or not numeric."""


def value_dims(ndim: int) -> tuple[str, ...]:
    """Dimension names of an array-valued log's value (f144 arrays are 1-D)."""
    return ("index",) if ndim == 1 else tuple(f"index{i}" for i in range(ndim))


class LogBuffer:
    """One log stream's samples, sorted by time, timestamps unique.

    The first value after construction or :meth:`clear` fixes the dtype and
    shape; later values must match, since a plot or workflow cannot mix them.
    Storage is a pair of numpy arrays with the data in ``[head, tail)``. They
    grow by doubling up to twice the point limit, and are compacted only when
    the tail reaches the end, so appending is amortised O(1) and memory stays
    bounded by the caps. An out-of-order sample shifts the newer points, which
    are few for the small delays seen in practice.

    Parameters
    ----------
    caps:
        Age and count limits; see the module docstring for the age boundary.
    max_bytes:
        Further limits the point count to ``max_bytes`` over the size of one
        point (8 bytes of time plus the value), for large array values.
    """

    def __init__(self, caps: HistoryCaps, *, max_bytes: int = MAX_BUFFER_BYTES):
        self._caps = caps
        self._max_bytes = max_bytes
        self.evicted = 0
        """Points dropped by the caps so far (monotonic; not reset by clear)."""
        self._times = np.empty(0, dtype=np.int64)
        self._values: np.ndarray | None = None
        self._head = self._tail = 0

    @property
    def caps(self) -> HistoryCaps:
        return self._caps

    @property
    def max_points(self) -> int:
        """Effective point limit: the count cap, lowered by the byte budget."""
        if self._values is None:
            return self._caps.max_points
        point_bytes = 8 + self._values.itemsize * math.prod(self._values.shape[1:])
        return max(1, min(self._caps.max_points, self._max_bytes // point_bytes))

    def __len__(self) -> int:
        return self._tail - self._head

    def clear(self) -> int:
        """Drop all points and forget the dtype; returns how many were held."""
        held = len(self)
        self._times = np.empty(0, dtype=np.int64)
        self._values = None
        self._head = self._tail = 0
        return held

    def set_caps(self, caps: HistoryCaps) -> None:
        """New limits, applied at once; shrinking the buffer frees memory."""
        self._caps = caps
        self._evict()
        if self._values is not None and self._times.size > self._capacity_limit():
            self._reallocate(max(len(self), 1))

    def add(self, time: int, value: Any) -> Added:
        """Store a sample; raise :class:`IncompatibleValue` if it does not fit."""
        array = self._checked(value)
        times = self._times[self._head : self._tail]
        if times.size == 0 or time > times[-1]:
            self._make_room()
            self._write(self._tail, time, array)
            self._tail += 1
            outcome = Added.APPENDED
        else:
            i = int(np.searchsorted(times, time, side="left"))
            if times[i] == time:
                self._store[self._head + i] = array
                return Added.REPLACED
            self._make_room()
            at = self._head + i
            self._times[at + 1 : self._tail + 1] = self._times[at : self._tail]
            self._store[at + 1 : self._tail + 1] = self._store[at : self._tail]
            self._write(at, time, array)
            self._tail += 1
            outcome = Added.INSERTED
        self._evict()
        return outcome

    def times(self) -> np.ndarray:
        """Timestamps (int64 ns since epoch), ascending; a copy."""
        return self._times[self._head : self._tail].copy()

    def values(self) -> np.ndarray:
        """Values in time order, shape ``(len, *value_shape)``; a copy."""
        if self._values is None:
            return np.empty(0)
        return self._store[self._head : self._tail].copy()

    def at_or_before(self, time: int) -> LogSample | None:
        """The newest sample not later than ``time``; None if none is held."""
        times = self._times[self._head : self._tail]
        i = int(np.searchsorted(times, time, side="right"))
        if i == 0:
            return None
        value = self._store[self._head + i - 1]
        return LogSample(int(times[i - 1]), value.copy() if value.ndim else value[()])

    @property
    def _store(self) -> np.ndarray:
        """The value buffer; only used once a first value has fixed its dtype."""
        if self._values is None:
            raise RuntimeError("no value stored yet")
        return self._values

    def _checked(self, value: Any) -> np.ndarray:
        array = np.asarray(value)
        if array.dtype.kind not in _NUMERIC_KINDS:
            raise IncompatibleValue(f"value of dtype {array.dtype} is not numeric")
        if self._values is None:
            self._values = np.empty((0, *array.shape), dtype=array.dtype)
        elif array.dtype != self._values.dtype or array.shape != self._values.shape[1:]:
            raise IncompatibleValue(
                f"expected {_describe(self._values.dtype, self._values.shape[1:])}, "
                f"got {_describe(array.dtype, array.shape)}"
            )
        return array

    def _write(self, at: int, time: int, value: np.ndarray) -> None:
        self._times[at] = time
        self._store[at] = value

    def _capacity_limit(self) -> int:
        # Twice the point limit (plus the one point a full buffer takes in
        # before evicting) so that compaction happens once per max_points adds.
        return 2 * (self.max_points + 1)

    def _make_room(self) -> None:
        if self._tail < self._times.size:
            return
        n = len(self)
        if self._head > 0 and n < self._times.size // 2:
            self._times[:n] = self._times[self._head : self._tail]
            self._store[:n] = self._store[self._head : self._tail]
            self._head, self._tail = 0, n
        else:
            self._reallocate(min(max(2 * self._times.size, 16), self._capacity_limit()))

    def _reallocate(self, size: int) -> None:
        size = max(size, len(self) + 1)
        times = np.empty(size, dtype=np.int64)
        values = np.empty((size, *self._store.shape[1:]), dtype=self._store.dtype)
        n = len(self)
        times[:n] = self._times[self._head : self._tail]
        values[:n] = self._store[self._head : self._tail]
        self._times, self._values = times, values
        self._head, self._tail = 0, n

    def _evict(self) -> None:
        n = len(self)
        if n == 0:
            return
        times = self._times[self._head : self._tail]
        too_many = n - self.max_points
        too_old = int(
            np.searchsorted(times, times[-1] - self._caps.length_ns, side="right")
        )
        drop = max(too_many, too_old, 0)
        self._head += drop
        self.evicted += drop


def _describe(dtype: np.dtype, shape: tuple[int, ...]) -> str:
    return f"{dtype} {'scalar' if not shape else f'array of shape {shape}'}"


LATEST_CAPS = HistoryCaps(length_ns=600 * 1_000_000_000, max_points=10_000)
"""What :class:`LatestLogValues` keeps per stream: enough for workflows whose
data lags the logs by minutes, small enough for hundreds of streams."""


class LatestLogValues:
    """The value of each log stream at a data time, for workflows.

    Feed it every LOG message (:meth:`update`), then ask :meth:`value_at`
    with the data time of the result being computed, e.g. a window's end.
    The answer is the newest value at or before that time, with the unit the
    instrument declares, or None when no such value is held yet (the stream
    has not reported, or only later than the time asked about).

    Parameters
    ----------
    logs:
        The instrument's log streams; messages for other streams are ignored.
    caps:
        How far back values are kept for :meth:`value_at`.
    """

    def __init__(self, logs: Iterable[LogStream], caps: HistoryCaps = LATEST_CAPS):
        self._units = {log.name: log.unit for log in logs}
        self._buffers = {name: LogBuffer(caps) for name in self._units}
        self.rejected = 0
        """Values that did not fit their stream's dtype or shape."""

    def update(self, message: Message[LogSample]) -> bool:
        """Take a LOG message; returns whether its value was stored."""
        buffer = self._buffers.get(message.stream.name)
        if message.stream.kind is not StreamKind.LOG or buffer is None:
            return False
        try:
            buffer.add(message.value.time, message.value.value)
        except IncompatibleValue:
            self.rejected += 1
            return False
        return True

    def value_at(self, name: str, time_ns: int) -> sc.Variable | None:
        """Newest value of log ``name`` at or before ``time_ns``, with its unit.

        Returns None when there is no value yet. Raises KeyError for a name
        the instrument does not declare, which is a programming error.
        """
        if name not in self._buffers:
            known = ", ".join(sorted(self._buffers)) or "none"
            raise KeyError(f"no log named {name!r} (known: {known})")
        sample = self._buffers[name].at_or_before(time_ns)
        if sample is None:
            return None
        value = np.asarray(sample.value)
        if value.ndim == 0:
            return sc.scalar(value[()], unit=self._units[name])
        return sc.array(
            dims=list(value_dims(value.ndim)), values=value, unit=self._units[name]
        )
