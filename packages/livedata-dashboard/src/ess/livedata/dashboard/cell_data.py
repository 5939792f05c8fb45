"""What a cell shows of one output: the window and rate its options ask for.

``latest`` is the current job's newest result; ``cumulative`` the job's
cumulative counterpart of the output (``current`` -> ``cumulative``,
``counts_total`` -> ``counts_total_cumulative``) where it publishes one,
else the output itself; ``last N s`` sums the window results received in
the last N s (a time series is cut to its last N s instead). Rate
normalisation divides by the data-time span the data covers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipp as sc

from .grid_model import CellOptions, OutputRef, Window
from .plots import end_time_s
from .result_plot import Shown
from .store import LiveStore

_WINDOW_COORDS = ("start_time", "end_time", "time")


@dataclass(frozen=True)
class CellData:
    """The data drawn for one output of a cell."""

    shown: Shown
    """The output read (the cumulative counterpart, if the window asks)."""
    data: sc.DataArray
    serial: int
    """The newest result's serial: unchanged means nothing to redraw."""
    end_s: float | None
    """End of the newest data window, for the data age."""
    label: str
    """The cell's name for the output (its reference's path): stays the
    same when the cumulative counterpart appears, so figures keep their
    layers."""
    parts: int = 1
    """Results summed (``last N s``)."""


def cumulative_name(output: str) -> str:
    if "current" in output:
        return output.replace("current", "cumulative")
    return f"{output}_cumulative"


def _span_s(data: sc.DataArray) -> float | None:
    if "start_time" not in data.coords or "end_time" not in data.coords:
        return None
    span = data.coords["end_time"] - data.coords["start_time"]
    seconds = float(span.to(unit="s", dtype="float64").value)
    return seconds if seconds > 0 else None


def _is_series(data: sc.DataArray) -> bool:
    time = data.coords.get("time")
    return (
        data.ndim >= 1
        and data.dims[0] == "time"
        and time is not None
        and time.dtype == sc.DType.datetime64
    )


def _recent_sum(
    store: LiveStore, shown: Shown, seconds: float
) -> tuple[sc.DataArray, int] | None:
    parts = store.recent(shown.workflow, shown.source, shown.output, seconds)
    if not parts:
        return None
    newest = parts[-1]
    # A binning change mid-window: only parts like the newest add up.
    alike = [p for p in parts if p.sizes == newest.sizes]
    stripped = [
        p.drop_coords([c for c in _WINDOW_COORDS if c in p.coords]) for p in alike
    ]
    total = stripped[0].copy()
    for part in stripped[1:]:
        total.values += part.values
    if "start_time" in alike[0].coords and "end_time" in newest.coords:
        total.coords["start_time"] = alike[0].coords["start_time"]
        total.coords["end_time"] = newest.coords["end_time"]
    return total, len(alike)


def resolve(
    store: LiveStore, ref: OutputRef, options: CellOptions, now_s: float
) -> CellData | None:
    """The data of ``ref`` for a cell with ``options``; None while there is none."""
    shown = Shown(ref.workflow_id, ref.source, ref.output)
    if options.window is Window.CUMULATIVE:
        cumulative = Shown(shown.workflow, shown.source, cumulative_name(ref.output))
        if store.result(cumulative.workflow, cumulative.source, cumulative.output):
            shown = cumulative
    result = store.result(shown.workflow, shown.source, shown.output)
    if result is None:
        if options.window is Window.LAST:  # record from the first result on
            store.recent(shown.workflow, shown.source, shown.output, options.window_s)
        return None
    data, parts = result.data, 1
    if options.window is Window.LAST:
        if _is_series(data):
            cut = np.datetime64(int((now_s - options.window_s) * 1e9), "ns")
            times = data.coords["time"].values
            data = data["time", int(np.searchsorted(times, cut)) :]
        else:
            summed = _recent_sum(store, shown, options.window_s)
            if summed is not None:
                data, parts = summed
    if options.rate:
        span = _span_s(data)
        if span is not None:
            data = data / sc.scalar(span, unit="s")
    end_s = end_time_s(result.data)
    return CellData(shown, data, result.serial, end_s, ref.path, parts)
