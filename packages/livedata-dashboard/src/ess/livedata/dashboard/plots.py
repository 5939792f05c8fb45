"""scipp DataArrays as HoloViews elements, and the facts shown under each plot.

Log scales cannot show zero: in log mode the axis (or colour range) starts
at half the smallest non-zero value, and empty image pixels are left blank.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh
import numpy as np
import pandas as pd
import scipp as sc
from dateutil.tz import tzlocal


def _label(dim: str, unit: sc.Unit | None) -> str:
    return (
        f"{dim} [{unit}]" if unit is not None and str(unit) != "dimensionless" else dim
    )


def unit_text(unit: sc.Unit | None) -> str:
    """How a caption names a da00 unit: nothing for none or dimensionless."""
    return "" if unit is None or str(unit) == "dimensionless" else str(unit)


def value_label(unit: sc.Unit | None) -> str:
    text = unit_text(unit)
    return "counts" if text == "counts" else f"value [{text}]" if text else "value"


def local_times(values: np.ndarray) -> np.ndarray:
    """UTC ``datetime64`` values as naive local datetimes, for time axes."""
    index = pd.DatetimeIndex(np.asarray(values, dtype="datetime64[ns]"), tz="UTC")
    return index.tz_convert(tzlocal()).tz_localize(None).to_numpy()


def _log_range(values: np.ndarray) -> tuple[float, float | None]:
    """Limits for a log axis: from half the smallest non-zero value.

    The upper limit is left to the data, unless there is none to go by.
    """
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size == 0:
        return 0.5, 1.0
    return float(positive.min()) / 2, None


def _point_edges(coord: np.ndarray) -> np.ndarray:
    """Edges half-way between points, the outer ones as far out."""
    if coord.size == 1:
        return np.array([coord[0] - 0.5, coord[0] + 0.5])
    mid = (coord[1:] + coord[:-1]) / 2
    return np.concatenate([[2 * coord[0] - mid[0]], mid, [2 * coord[-1] - mid[-1]]])


def is_time_axis(data: sc.DataArray, dim: str) -> bool:
    """Whether ``dim``'s coordinate is datetimes (drawn as local time)."""
    return dim in data.coords and data.coords[dim].dtype == sc.DType.datetime64


def _edges(data: sc.DataArray, dim: str) -> np.ndarray:
    """Bin edges along ``dim``; point coordinates get edges half-way between.
    Datetimes become local datetimes (a time axis, not epoch nanoseconds)."""
    if dim not in data.coords:
        return np.arange(data.sizes[dim] + 1, dtype=float)
    if is_time_axis(data, dim):
        ns = np.asarray(data.coords[dim].values, dtype="datetime64[ns]").astype(float)
        edges = ns if data.coords.is_edges(dim) else _point_edges(ns)
        return local_times(edges.astype(np.int64).astype("datetime64[ns]"))
    coord = np.asarray(data.coords[dim].values, dtype=float)
    return coord if data.coords.is_edges(dim) else _point_edges(coord)


def _axis_label(data: sc.DataArray, dim: str) -> str:
    if is_time_axis(data, dim):
        return f"{dim} (local)"
    return _label(dim, data.coords[dim].unit if dim in data.coords else None)


def histogram(data: sc.DataArray, log: bool = False) -> hv.Histogram:
    """A 1-D spectrum as bars between its bin edges."""
    dim = data.dim
    values = np.asarray(data.values, dtype=float)
    element = hv.Histogram(
        (_edges(data, dim), values),
        kdims=[_axis_label(data, dim)],
        vdims=[value_label(data.unit)],
    )
    return element.opts(ylim=_log_range(values)) if log else element


def step_curve(data: sc.DataArray, log: bool = False) -> hv.Curve:
    """A 1-D spectrum as a step line, for overlaying several spectra.

    (HoloViews draws nothing for histograms in an overlay with a log axis.)
    """
    dim = data.dim
    values = np.asarray(data.values, dtype=float)
    steps = np.append(values, values[-1:])
    if log and np.any(steps > 0):
        steps = np.where(steps > 0, steps, np.nan)
    element = hv.Curve(
        (_edges(data, dim), steps),
        kdims=[_axis_label(data, dim)],
        vdims=[value_label(data.unit)],
    ).opts(interpolation="steps-post")
    return element.opts(ylim=_log_range(values)) if log else element


def _regular(edges: np.ndarray) -> bool:
    steps = np.diff(edges)
    return bool(np.allclose(steps, steps[0], rtol=1e-6, atol=0))


def image(data: sc.DataArray, log: bool = False) -> hv.Image | hv.QuadMesh:
    """A 2-D array with its last dim along x; a fast Image when bins are regular."""
    ydim, xdim = data.dims[-2], data.dims[-1]
    x, y = _edges(data, xdim), _edges(data, ydim)
    values = np.asarray(data.transpose([ydim, xdim]).values, dtype=float)
    low, high = _log_range(values) if log else (np.nan, np.nan)
    clim = (low, np.nan if high is None else high)
    if log and np.any(values > 0):
        values = np.where(values > 0, values, np.nan)
    kdims = [_axis_label(data, xdim), _axis_label(data, ydim)]
    vdims = [value_label(data.unit)]
    if (
        not (is_time_axis(data, xdim) or is_time_axis(data, ydim))
        and _regular(x)
        and _regular(y)
    ):
        bounds = (x[0], y[0], x[-1], y[-1])
        # hv.Image puts row 0 at the top; data row 0 is the lowest y.
        element = hv.Image(values[::-1], bounds=bounds, kdims=kdims, vdims=vdims)
    else:
        element = hv.QuadMesh((x, y, values), kdims=kdims, vdims=vdims)
    return element.opts(clim=clim)


def placeholder(ndim: int) -> sc.DataArray:
    """An empty 1-D or 2-D array to draw before the first result arrives."""
    dims = ["y", "x"][-ndim:]
    return sc.DataArray(sc.zeros(dims=dims, shape=[1] * ndim, unit="counts"))


def total(data: sc.DataArray) -> float:
    """Sum of all counts, ignoring NaN."""
    return float(np.nansum(data.values))


def end_time_s(data: sc.DataArray) -> float | None:
    """End of the data-time window a result covers, in seconds since the epoch:
    livedata's datetime ``end_time``, else the facility's int64 ns ``time``."""
    if "end_time" in data.coords:
        end = data.coords["end_time"].to(unit="ns").value
        return float(np.datetime64(end, "ns").astype(np.int64)) / 1e9
    time = data.coords.get("time")
    if time is not None and time.ndim == 0 and time.unit == sc.Unit("ns"):
        return float(time.value) / 1e9
    return None


def format_age(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
