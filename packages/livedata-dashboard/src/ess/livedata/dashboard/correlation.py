"""Output values histogrammed against log values at the output's data time.

Each value of an output (a window's ``counts_total``, or a 1-D spectrum) is
paired with the value each log had at the middle of the data-time window the
output covers (its ``start_time``/``end_time``), and added to the bin of that
log value: a 1-D histogram against one log, a 2-D image against two, or an
image of spectra against one log.

Pairing waits until every log has a point at or after the output's time, so
a log point that arrives late (f144 streams are not ordered with the event
streams) still counts; after ``max_wait_ns`` of newer output data the last
known value is taken. A log point arriving after its outputs were binned
changes nothing.

Per bin the accumulator keeps the number of outputs and their sum. The
default statistic is the mean per output (e.g. mean counts per window): a
motor dwells longer at some positions than others, and the sum would show
the dwell time, not the intensity. The number of outputs per bin is the
``outputs`` coordinate. Memory is bounded: bins stay at the configured
number (an automatic range doubles its bin width to grow), and the pending
outputs, log points and remembered output times are capped.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np
import scipp as sc
from pydantic import BaseModel, ConfigDict, Field, model_validator

Interpolation = Literal["previous", "linear"]
Statistic = Literal["mean", "sum"]

MAX_LOG_POINTS = 20_000
"""Points kept per log; the oldest go first."""
MAX_PENDING = 1_000
"""Outputs waiting for their log values; the oldest are paired first."""
MAX_REMEMBERED = 10_000
"""Output times remembered, so a re-published window is not counted twice."""
MAX_WAIT_NS = 15_000_000_000
"""Data time an output waits for a log point after it (a switch log sends
every 10 s when idle)."""


class LogBins(BaseModel):
    """Bins of one log's values: ``bins`` over ``[low, high)``, or over the
    range of the values seen (growing) when no range is given."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    log: str = Field(min_length=1)
    bins: int = Field(default=50, ge=1, le=1000)
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _range(self) -> LogBins:
        if (self.low is None) != (self.high is None):
            raise ValueError(
                "give both low and high, or neither for an automatic range"
            )
        if self.low is not None and self.high is not None and self.high <= self.low:
            raise ValueError("high must be greater than low")
        return self

    def axis(self) -> Axis:
        if self.low is None or self.high is None:
            return AutoAxis(self.bins)
        return FixedAxis(self.low, self.high, self.bins)


class CorrelationOptions(BaseModel):
    """What an output is histogrammed against: log ``x`` (and ``y``), and how."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    x: LogBins
    y: LogBins | None = None
    statistic: Statistic = "mean"
    """``mean`` of the outputs per bin, or their ``sum``."""
    interpolation: Interpolation = "previous"

    @model_validator(mode="after")
    def _different_logs(self) -> CorrelationOptions:
        if self.y is not None and self.y.log == self.x.log:
            raise ValueError("x and y must be different logs")
        return self

    def bins(self) -> list[LogBins]:
        return [self.x] if self.y is None else [self.x, self.y]

    def logs(self) -> str:
        """``x`` or ``x and y``, as captions name them."""
        return self.x.log if self.y is None else f"{self.x.log} and {self.y.log}"


class Axis(Protocol):
    """Where a log value goes; an axis may rebin, saying where old bins went."""

    @property
    def size(self) -> int: ...

    def accepts(self, value: float) -> bool: ...

    def place(self, value: float) -> tuple[int, np.ndarray | None]:
        """The bin of ``value`` and, if the bins changed, each old bin's new index."""
        ...

    def edges(self) -> np.ndarray: ...


class FixedAxis:
    """``bins`` equal bins over ``[low, high]``; values outside are refused."""

    def __init__(self, low: float, high: float, bins: int) -> None:
        self._low, self._high, self._bins = low, high, bins

    @property
    def size(self) -> int:
        return self._bins

    def accepts(self, value: float) -> bool:
        return self._low <= value <= self._high

    def place(self, value: float) -> tuple[int, None]:
        index = int((value - self._low) / (self._high - self._low) * self._bins)
        return min(index, self._bins - 1), None

    def edges(self) -> np.ndarray:
        return np.linspace(self._low, self._high, self._bins + 1)


class AutoAxis:
    """``bins`` bins of a width that doubles until every value seen fits.

    Edges are multiples of the width, so doubling merges whole bins. Until
    two different values are seen there is one bin, around that value.
    """

    def __init__(self, bins: int) -> None:
        self._bins = bins
        self._only: float | None = None
        self._width = 0.0
        self._first = 0
        """Index of the first bin counted from zero, in widths."""

    @property
    def size(self) -> int:
        if self._width:
            return self._bins
        return 0 if self._only is None else 1

    def accepts(self, value: float) -> bool:
        return math.isfinite(value)

    def place(self, value: float) -> tuple[int, np.ndarray | None]:
        if self._width:
            index = math.floor(value / self._width) - self._first
            if 0 <= index < self._bins:
                return index, None
            low = min(value, self._first * self._width)
            high = max(value, (self._first + self._bins - 1) * self._width)
            old = (self._first + np.arange(self._bins)) * self._width
            return self._refit(low, high, self._width * 2, old, value)
        if self._only is None:
            self._only = value
            return 0, np.empty(0, dtype=np.intp)
        if value == self._only:
            return 0, None
        low, high = sorted((value, self._only))
        start = 10 ** math.floor(math.log10((high - low) * 4 / max(self._bins, 4)))
        return self._refit(low, high, start, np.array([self._only]), value)

    def _refit(
        self, low: float, high: float, width: float, old: np.ndarray, value: float
    ) -> tuple[int, np.ndarray]:
        """Bins of ``width`` or wider covering ``[low, high]``, centred on it."""
        while math.floor(high / width) - math.floor(low / width) >= self._bins:
            width *= 2
        first, last = math.floor(low / width), math.floor(high / width)
        self._first = first - (self._bins - 1 - (last - first)) // 2
        self._width = width
        moved = np.floor(old / width).astype(np.intp) - self._first
        return math.floor(value / width) - self._first, moved

    def edges(self) -> np.ndarray:
        if self._width:
            return (self._first + np.arange(self._bins + 1)) * self._width
        only = 0.0 if self._only is None else self._only
        half = max(abs(only), 1.0) * 0.005
        return np.array([only - half, only + half])


class LogTimeline:
    """A log's points sorted by time, unique times (newer data wins)."""

    def __init__(self) -> None:
        self.times = np.empty(0, dtype=np.int64)
        self.values = np.empty(0, dtype=float)
        self.unit: sc.Unit | None = None

    def add(self, times: np.ndarray, values: np.ndarray) -> None:
        times = np.concatenate([self.times, np.asarray(times, dtype=np.int64)])
        values = np.concatenate([self.values, np.asarray(values, dtype=float)])
        # Last occurrence of each time: unique over the reversed arrays.
        unique, first = np.unique(times[::-1], return_index=True)
        keep = len(times) - 1 - first
        self.times = unique[-MAX_LOG_POINTS:]
        self.values = values[keep][-MAX_LOG_POINTS:]

    @property
    def newest(self) -> int | None:
        return int(self.times[-1]) if len(self.times) else None

    def value_at(self, time_ns: int, interpolation: Interpolation) -> float | None:
        """The value at ``time_ns``; None before the first point."""
        after = int(np.searchsorted(self.times, time_ns, side="right"))
        if after == 0:
            return None
        before = after - 1
        if interpolation == "previous" or after == len(self.times):
            return float(self.values[before])
        t0, t1 = self.times[before], self.times[after]
        v0, v1 = self.values[before], self.values[after]
        return float(v0 + (v1 - v0) * (time_ns - t0) / (t1 - t0))


def _remap(array: np.ndarray, axis: int, moved: np.ndarray, size: int) -> np.ndarray:
    """``array`` with the bins along ``axis`` summed into their new indices."""
    shape = list(array.shape)
    shape[axis] = size
    result = np.zeros(shape, dtype=array.dtype)
    source = np.moveaxis(array, axis, 0)
    target = np.moveaxis(result, axis, 0)
    for old, new in enumerate(moved):
        target[new] += source[old]
    return result


class Correlator:
    """Pairs output values with log values and histograms them.

    Parameters
    ----------
    bins:
        One log's bins (x), or two (x, y). Two logs need a scalar output.
    statistic:
        ``mean`` of the outputs per bin, or their ``sum``.
    interpolation:
        A log's value at a time: the ``previous`` point's (what the device
        last reported) or ``linear`` between the points around it.
    """

    def __init__(
        self,
        bins: Sequence[LogBins],
        statistic: Statistic = "mean",
        interpolation: Interpolation = "previous",
        max_wait_ns: int = MAX_WAIT_NS,
        max_pending: int = MAX_PENDING,
    ) -> None:
        if not 1 <= len(bins) <= 2 or len({b.log for b in bins}) != len(bins):
            raise ValueError("correlate against one log or two different logs")
        self._bins = tuple(bins)
        self._statistic = statistic
        self._interpolation = interpolation
        self._max_wait_ns = max_wait_ns
        self._max_pending = max_pending
        self.logs = {b.log: LogTimeline() for b in bins}
        self.reset()

    def reset(self) -> None:
        """Forget every output (logs are kept: they are the service's history)."""
        self._axes = [b.axis() for b in self._bins]
        self._pending: dict[int, sc.Variable] = {}
        self._binned: set[int] = set()
        self._binned_order: deque[int] = deque()
        self._newest_output: int | None = None
        self._template: sc.Variable | None = None
        self._value_coord: sc.Variable | None = None
        self._count: np.ndarray | None = None
        self._sum: np.ndarray | None = None
        self.paired = 0
        """Outputs in the histogram."""
        self.outside = 0
        """Outputs whose log value is outside a fixed range."""
        self.unpaired = 0
        """Outputs without a log value (before a log's first point, or NaN)."""
        self.changed = True
        """Whether the histogram changed since the flag was last cleared."""

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add_log(
        self, log: str, times_ns: np.ndarray, values: np.ndarray, unit: sc.Unit | None
    ) -> None:
        """Points of ``log`` (any order, any overlap with earlier calls)."""
        timeline = self.logs[log]
        timeline.add(times_ns, values)
        timeline.unit = unit
        self._pair()

    def add_output(
        self, time_ns: int, data: sc.DataArray, coord: sc.Variable | None = None
    ) -> None:
        """One output value at data time ``time_ns``; a value for a time
        already waiting replaces it (newer data of the same window).

        Raises
        ------
        ValueError
            The output has more than one dimension, or two logs are asked
            for with a 1-D output.
        """
        if data.ndim > 1 or (data.ndim == 1 and len(self._bins) == 2):
            raise ValueError(
                "correlation takes a scalar output (or a 1-D one against one log)"
            )
        if time_ns in self._binned:
            return
        self._check_shape(data)
        self._pending[time_ns] = data.data
        if self._newest_output is None or time_ns > self._newest_output:
            self._newest_output = time_ns
        self._pair()

    def _check_shape(self, data: sc.DataArray) -> None:
        """Start over when a 1-D output's bins change (e.g. rebinned TOA)."""
        coord = data.coords.get(data.dim) if data.ndim == 1 else None
        template = self._template
        if template is not None and (
            template.dims != data.dims
            or template.shape != data.shape
            or template.unit != data.unit
            or (
                coord is not None
                and (
                    self._value_coord is None
                    or not sc.identical(coord, self._value_coord)
                )
            )
        ):
            self.reset()
        if self._template is None:
            self._template = data.data
            self._value_coord = coord

    def _pair(self) -> None:
        newest = [timeline.newest for timeline in self.logs.values()]
        for time_ns in sorted(self._pending):
            settled = all(n is not None and n >= time_ns for n in newest)
            waited = (
                self._newest_output is not None
                and self._newest_output - time_ns > self._max_wait_ns
            )
            crowded = len(self._pending) > self._max_pending
            if not (settled or waited or crowded):
                continue
            self._bin(time_ns, self._pending.pop(time_ns))

    def _bin(self, time_ns: int, value: sc.Variable) -> None:
        self._remember(time_ns)
        values = [
            self.logs[b.log].value_at(time_ns, self._interpolation) for b in self._bins
        ]
        logs = [v for v in values if v is not None and math.isfinite(v)]
        if len(logs) < len(values):
            self.unpaired += 1
            return
        if not all(axis.accepts(v) for axis, v in zip(self._axes, logs, strict=True)):
            self.outside += 1
            return
        index = []
        for dim, (axis, log_value) in enumerate(zip(self._axes, logs, strict=True)):
            bin_index, moved = axis.place(log_value)
            if moved is not None and self._count is not None and self._sum is not None:
                self._count = _remap(self._count, dim, moved, axis.size)
                self._sum = _remap(self._sum, dim, moved, axis.size)
            index.append(bin_index)
        if self._count is None or self._sum is None:
            sizes = [axis.size for axis in self._axes]
            self._count = np.zeros(sizes, dtype=np.int64)
            self._sum = np.zeros(sizes + list(value.shape), dtype=float)
        self._count[tuple(index)] += 1
        self._sum[tuple(index)] += value.values
        self.paired += 1
        self.changed = True

    def _remember(self, time_ns: int) -> None:
        self._binned.add(time_ns)
        self._binned_order.append(time_ns)
        if len(self._binned_order) > MAX_REMEMBERED:
            self._binned.discard(self._binned_order.popleft())

    def histogram(self) -> sc.DataArray | None:
        """Mean (or sum) per bin, NaN where a bin has no outputs; dims are the
        logs' (y, x) or, for spectra, (spectrum dim, log). None until an
        output is paired."""
        if self._count is None or self._sum is None or self._template is None:
            return None
        count, total = self._count, self._sum
        if self._statistic == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                shaped = count.reshape(count.shape + (1,) * (total.ndim - count.ndim))
                values = np.where(shaped > 0, total / np.maximum(shaped, 1), np.nan)
        else:
            values = total
        log_dims = [b.log for b in self._bins]
        dims = log_dims + list(self._template.dims)
        coords = {
            b.log: sc.array(dims=[b.log], values=axis.edges(), unit=self._unit(b.log))
            for b, axis in zip(self._bins, self._axes, strict=True)
        }
        coords["outputs"] = sc.array(dims=log_dims, values=count, unit=None)
        if self._value_coord is not None:
            coords[self._template.dim] = self._value_coord
        data = sc.DataArray(
            sc.array(dims=dims, values=values, unit=self._template.unit), coords=coords
        )
        return data.transpose(dims[::-1]).copy()

    def _unit(self, log: str) -> sc.Unit | None:
        return self.logs[log].unit
