"""The plotters a grid cell can use, in a registry keyed by plotter kind.

Every plotter builds a component with ``.view`` and ``.update(now_s)``, like
:class:`~.result_plot.ResultPlot`; adding a plotter is one entry in
:data:`PLOTTERS`. Figures get new data through a HoloViews ``Pipe``, so an
update changes the Bokeh data source instead of rebuilding the figure;
changing a cell's options builds a new component.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import holoviews as hv
import numpy as np
import panel as pn
import scipp as sc

from . import plots
from .cell_data import CellData, resolve
from .correlation_plot import CorrelationPlot
from .grid_model import Cell, CellOptions, Plotter, Scale
from .result_plot import STALE_DATA_S, Shown
from .store import LiveStore

MAX_POINTS = 2000
"""A longer time series is drawn as the min and max of this many buckets."""

_CAPTION_CSS = """
.ld-caption { font-size: 0.9em; color: #444; display: block; }
.ld-caption.stale { color: #b35900; font-weight: bold; }
.ld-caption.waiting { color: #888; font-style: italic; }
.ld-cell-table td, .ld-cell-table th { padding: 1px 8px; text-align: left; }
"""


class CellPlot(Protocol):
    @property  # read-only, so a cell's view may be any Viewable subclass
    def view(self) -> pn.viewable.Viewable: ...

    def update(self, now_s: float) -> None: ...


PlotFactory = Callable[[LiveStore, Cell], CellPlot]


def downsample(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most ``MAX_POINTS`` points keeping each bucket's min and max, so
    spikes in a long history stay visible."""
    if times.size <= MAX_POINTS:
        return times, values
    buckets = np.array_split(np.arange(times.size), MAX_POINTS // 2)
    keep = np.unique(
        np.concatenate(
            [
                [b[0] + np.nanargmin(values[b]), b[0] + np.nanargmax(values[b])]
                if np.isfinite(values[b]).any()
                else [b[0]]
                for b in buckets
            ]
        )
    )
    return times[keep], values[keep]


def _label(data: CellData) -> str:
    return data.label


def _line_element(data: CellData, options: CellOptions) -> hv.Element:
    array = data.data
    if array.ndim == 1 and plots.is_time_axis(array, array.dim):
        return _series_element(data)
    log = options.y_scale is Scale.LOG
    return plots.step_curve(array, log).relabel(_label(data))


def _series_element(data: CellData) -> hv.Curve:
    """A log's history against local time; a 2-D log shows its first column."""
    array = data.data
    values = np.asarray(array.values, dtype=float).reshape(array.sizes["time"], -1)
    times = plots.local_times(array.coords["time"].values)
    times, column = downsample(times, values[:, 0])
    return hv.Curve(
        (times, column), kdims=["time (local)"], vdims=[plots.value_label(array.unit)]
    ).relabel(_label(data))


def render_line(parts: Sequence[CellData], options: CellOptions) -> hv.Element:
    """Overlays of 1-D outputs (a 2-D output is drawn as an image)."""
    two_d = [p for p in parts if p.data.ndim == 2]
    if two_d and len(two_d) == len(parts):
        return render_image(two_d, options)
    curves = [_line_element(p, options) for p in parts if p.data.ndim == 1]
    if not curves:
        curves = [plots.step_curve(plots.placeholder(1))]
    logx = options.x_scale is Scale.LOG
    logy = options.y_scale is Scale.LOG
    return hv.Overlay(
        [c.opts(logx=logx, logy=logy, tools=["hover"]) for c in curves]
    ).opts(show_legend=len(curves) > 1)


def render_timeseries(parts: Sequence[CellData], options: CellOptions) -> hv.Element:
    curves = [_series_element(p) for p in parts if "time" in p.data.dims]
    if not curves:
        epoch = np.array([0], dtype="datetime64[ns]")
        curves = [hv.Curve((plots.local_times(epoch), [np.nan]), "time (local)")]
    logy = options.y_scale is Scale.LOG
    return hv.Overlay([c.opts(logy=logy, tools=["hover"]) for c in curves]).opts(
        show_legend=len(curves) > 1
    )


def render_bars(parts: Sequence[CellData], options: CellOptions) -> hv.Element:
    """Scalars as one bar each; a 1-D output as bars between its bin edges."""
    logy = options.y_scale is Scale.LOG
    scalars = [p for p in parts if p.data.ndim == 0]
    if scalars and len(scalars) == len(parts):
        unit = plots.value_label(scalars[0].data.unit)
        bars = hv.Bars(
            [(_label(p), float(p.data.value)) for p in scalars],
            kdims=["output"],
            vdims=[unit],
        )
        return bars.opts(logy=logy, tools=["hover"], xrotation=20)
    first = next((p.data for p in parts if p.data.ndim == 1), plots.placeholder(1))
    return plots.histogram(first, logy).opts(logy=logy, tools=["hover"])


def render_image(parts: Sequence[CellData], options: CellOptions) -> hv.Element:
    log = options.color_scale is Scale.LOG
    first = next((p.data for p in parts if p.data.ndim == 2), plots.placeholder(2))
    element = plots.image(first, log)
    extra: dict[str, Any] = {"cmap": "viridis", "colorbar": True, "logz": log}
    if options.color_limits is not None:
        extra["clim"] = options.color_limits
    return element.opts(tools=["hover"], **extra)


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else repr(float(value))


def _caption(
    state: str,
    path: str,
    text: str,
    total: float,
    age: float | None,
    latest_time: str = "",
    end_s: float | None = None,
) -> str:
    """``data-end-time`` (epoch s) lets a browser measure the age itself."""
    return (
        f'<span class="ld-caption {state}" data-output="{html.escape(path)}"'
        f' data-total="{_number(total)}" data-age="{"" if age is None else f"{age:.1f}"}"'
        f' data-end-time="{"" if end_s is None else f"{end_s:.3f}"}"'
        f' data-latest-time="{latest_time}">'
        f"{html.escape(path)}: {html.escape(text)}</span>"
    )


def _latest_local(data: sc.DataArray) -> str | None:
    """ISO local time of a time series' newest point; None for other data."""
    time = data.coords.get("time")
    if "time" not in data.dims or time is None or time.dtype != sc.DType.datetime64:
        return None
    if data.sizes["time"] == 0:
        return ""
    newest = plots.local_times(np.asarray(time.values[-1:]))[0]
    return str(newest.astype("datetime64[s]"))


def caption_html(cell: Cell, shown: Sequence[CellData | None], now_s: float) -> str:
    """One caption line per output: its total with unit and its data age."""
    lines = []
    for ref, data in zip(cell.outputs, shown, strict=True):
        if data is None:
            lines.append(_caption("waiting", ref.path, "waiting for data", 0, None))
            continue
        age = None if data.end_s is None else max(0.0, now_s - data.end_s)
        unit = plots.unit_text(data.data.unit)
        total = plots.total(data.data)
        latest = _latest_local(data.data)
        if latest:
            value = float(np.ravel(data.data["time", -1].values)[0])
            points = data.data.sizes["time"]
            text = f"latest {value:.6g} {unit} at {latest[11:]} local, {points} points"
        else:
            text = f"{total:,.4g} {unit}".rstrip()
        if data.parts > 1:
            text += f" in {data.parts} windows"
        text += f" · data age {plots.format_age(age)}"
        state = "stale" if age is not None and age > STALE_DATA_S else ""
        lines.append(
            _caption(state, data.shown.path, text, total, age, latest or "", data.end_s)
        )
    return "".join(lines)


class FigureCell:
    """A cell drawn as one HoloViews figure, with a caption per output.

    New data of the same shape goes through the ``Pipe``; when an output
    appears, goes or changes its number of dims, the figure is built anew,
    since a HoloViews ``DynamicMap`` keeps the layers and element types of its
    first frame.
    """

    def __init__(
        self,
        store: LiveStore,
        cell: Cell,
        render: Callable[[Sequence[CellData], CellOptions], hv.Element],
    ) -> None:
        self._store = store
        self.cell = cell
        self._render = render
        self._serials: tuple[int | None, ...] = ()
        self._shape: tuple[int | None, ...] | None = None
        self._pipe = hv.streams.Pipe(data=[])
        self.caption = pn.pane.HTML(
            caption_html(cell, [None] * len(cell.outputs), 0.0),
            stylesheets=[_CAPTION_CSS],
            margin=(0, 10),
        )
        self.figure = pn.pane.HoloViews(
            self._dynamic_map([]), sizing_mode="stretch_width", linked_axes=False
        )
        self.view = pn.Column(self.figure, self.caption, sizing_mode="stretch_width")

    def _dynamic_map(self, data: Sequence[CellData]) -> hv.DynamicMap:
        self._pipe = hv.streams.Pipe(data=list(data))
        opts = {
            "responsive": True,
            "height": 300,
            "framewise": True,
            "title": self.cell.title,
        }

        def draw(data: Sequence[CellData]) -> hv.Element:
            return self._render(data, self.cell.options).opts(**opts)

        return hv.DynamicMap(draw, streams=[self._pipe])

    def update(self, now_s: float) -> None:
        cell = self.cell
        shown = [resolve(self._store, ref, cell.options, now_s) for ref in cell.outputs]
        present = [s for s in shown if s is not None]
        serials = tuple(None if s is None else s.serial for s in shown)
        shape = tuple(None if s is None else s.data.ndim for s in shown)
        if shape != self._shape:
            self._shape, self._serials = shape, serials
            self.figure.object = self._dynamic_map(present)
        elif serials != self._serials:
            self._serials = serials
            self._pipe.send(present)
        self.caption.object = caption_html(cell, shown, now_s)


def _value_text(data: sc.DataArray) -> str:
    if data.ndim == 0:
        return f"{float(data.value):.6g}"
    return f"{plots.total(data):.6g} (sum of {data.size})"


class TableCell:
    """Scalars (or sums) of the cell's outputs, one row each."""

    def __init__(self, store: LiveStore, cell: Cell) -> None:
        self._store = store
        self.cell = cell
        self.table = pn.pane.HTML(
            sizing_mode="stretch_width", stylesheets=[_CAPTION_CSS]
        )
        self.caption = pn.pane.HTML(stylesheets=[_CAPTION_CSS], margin=(0, 10))
        self.view = pn.Column(
            pn.pane.HTML(f"<b>{html.escape(cell.title)}</b>"),
            self.table,
            self.caption,
            sizing_mode="stretch_width",
        )
        self.update(0.0)

    def update(self, now_s: float) -> None:
        cell = self.cell
        shown = [resolve(self._store, ref, cell.options, now_s) for ref in cell.outputs]
        rows = "".join(
            f'<tr data-output="{html.escape(ref.path)}"><td>{html.escape(ref.source)}'
            f" {html.escape(ref.output)}</td>"
            + (
                "<td>waiting</td><td></td>"
                if data is None
                else f"<td>{_value_text(data.data)}</td>"
                f"<td>{html.escape(plots.unit_text(data.data.unit))}</td>"
            )
            + "</tr>"
            for ref, data in zip(cell.outputs, shown, strict=True)
        )
        self.table.object = (
            '<table class="ld-cell-table"><tr><th>output</th><th>value</th>'
            f"<th>unit</th></tr>{rows}</table>"
        )
        self.caption.object = caption_html(cell, shown, now_s)


def _figure(
    render: Callable[[Sequence[CellData], CellOptions], hv.Element],
) -> PlotFactory:
    return lambda store, cell: FigureCell(store, cell, render)


def correlation_cell(store: LiveStore, cell: Cell) -> CorrelationPlot:
    """A correlation of the cell's output, starting empty: a new or changed
    cell is a new histogram."""
    if cell.correlation is None:  # the model refuses this; for the type checker
        raise ValueError(f"cell {cell.title!r} has no correlation options")
    ref = cell.outputs[0]
    shown = Shown(ref.workflow_id, ref.source, ref.output)
    return CorrelationPlot(store, shown, cell.correlation, cell.title)


PLOTTERS: dict[str, PlotFactory] = {
    Plotter.LINE: _figure(render_line),
    Plotter.IMAGE: _figure(render_image),
    Plotter.BARS: _figure(render_bars),
    Plotter.TABLE: TableCell,
    Plotter.TIMESERIES: _figure(render_timeseries),
    Plotter.CORRELATION: correlation_cell,
}
"""How each plotter kind builds a cell's component."""


def build_cell_plot(store: LiveStore, cell: Cell) -> CellPlot:
    return PLOTTERS[cell.plotter](store, cell)
