"""A plot of an output histogrammed against log values, following the store.

Logs are read from the ``history`` outputs of the ``timeseries_data`` jobs,
whose points carry their data times, so a point that arrives late is still
in the next history. The output's data time is the middle of the window it
covers. The plot is a grid cell's (plotter ``correlation``): ``.view`` and
``.update(now_s)``.
"""

from __future__ import annotations

import html

import holoviews as hv
import numpy as np
import panel as pn
import scipp as sc

from ess.livedata.core.view_specs import TIMESERIES_DATA
from ess.livedata.protocol import TimeseriesOutputs, WorkflowId

from . import plots
from .correlation import CorrelationOptions, Correlator
from .result_plot import Shown
from .store import LiveStore, Result

_CAPTION_CSS = """
.ld-caption { font-size: 0.9em; color: #444; }
.ld-caption.waiting { color: #888; font-style: italic; }
.ld-caption.error { color: #b00020; font-weight: bold; }
"""


def timeseries_workflow(instrument: str) -> WorkflowId:
    return WorkflowId(instrument=instrument, name=TIMESERIES_DATA, version=1)


def output_time_ns(result: Result) -> int:
    """Data time of an output: the middle of its window (``start_time`` and
    ``end_time``), else its ``end_time`` or ``time``, else the message's."""
    coords = result.data.coords
    ends = [
        int(coords[name].to(unit="ns").value.astype(np.int64))
        for name in ("start_time", "end_time")
        if name in coords and coords[name].ndim == 0
    ]
    if ends:
        return sum(ends) // len(ends)
    time = coords.get("time")
    if time is not None and time.ndim == 0 and time.unit == sc.Unit("ns"):
        return int(time.value)
    return result.timestamp_ns


class CorrelationPlot:
    """``output`` histogrammed against log values, since the last reset.

    Each session's plot accumulates on its own from the moment it is built;
    its reset button clears only this plot.
    """

    def __init__(
        self,
        store: LiveStore,
        output: Shown,
        options: CorrelationOptions,
        title: str,
    ) -> None:
        self._store = store
        self.output = output
        self.options = options
        self._title = title
        self._logs = timeseries_workflow(output.workflow.instrument)
        self.correlator = Correlator(
            options.bins(), options.statistic, options.interpolation
        )
        self._seen: dict[str, int] = {}
        self._ndim = 1
        self._error = ""
        self._pipe = hv.streams.Pipe(data=None)
        self.figure = pn.pane.HoloViews(
            self._dynamic_map(self._ndim),
            sizing_mode="stretch_width",
            linked_axes=False,
        )
        self.caption = pn.pane.HTML(stylesheets=[_CAPTION_CSS], margin=(0, 10))
        self.reset = pn.widgets.Button(label="Reset correlation", color="warning")
        self.reset.on_click(lambda _event: self._reset())
        self.view = pn.Column(
            self.figure, pn.Row(self.caption, self.reset), sizing_mode="stretch_width"
        )
        self._show_caption()

    def describe(self) -> str:
        """``source output against logs``: what the caption says is shown."""
        out = self.output
        return f"{out.source} {out.output} against {self.options.logs()}"

    def _dynamic_map(self, ndim: int) -> hv.DynamicMap:
        render = plots.histogram if ndim == 1 else plots.image
        opts = {
            "framewise": True,
            "responsive": True,
            "height": 300,
            "tools": ["hover"],
            "title": f"{self._title} ({self.options.statistic})",
        }
        if ndim == 1:
            opts |= {"fill_color": "#2a9d8f", "line_color": "#2a9d8f"}
        else:
            opts |= {"colorbar": True, "cmap": "viridis"}

        def draw(data: sc.DataArray | None) -> hv.Element:
            shown = plots.placeholder(ndim) if data is None else data
            return render(shown).opts(**opts)

        return hv.DynamicMap(draw, streams=[self._pipe])

    def _reset(self) -> None:
        self.correlator.reset()
        self._error = ""
        self._pipe.send(None)
        self._show_caption()

    def update(self, now_s: float) -> None:
        """Feed new log points and output values, and redraw if binned anew."""
        del now_s  # the caption counts outputs; their age is the source plot's
        for bins in self.options.bins():
            history = self._new(self._logs, bins.log, TimeseriesOutputs.HISTORY.name)
            if history is not None:
                self._add_log(bins.log, history.data)
        out = self.output
        result = self._new(out.workflow, out.source, out.output)
        if result is not None:
            try:
                self.correlator.add_output(output_time_ns(result), result.data)
            except ValueError as error:
                self._error = str(error)
        if self.correlator.changed:
            self.correlator.changed = False
            self._draw(self.correlator.histogram())
        self._show_caption()

    def _new(self, workflow: WorkflowId, source: str, output: str) -> Result | None:
        """The store's result if it is newer than the last one taken."""
        result = self._store.result(workflow, source, output)
        path = f"{workflow}/{source}/{output}"
        if result is None or self._seen.get(path) == result.serial:
            return None
        self._seen[path] = result.serial
        return result

    def _add_log(self, log: str, history: sc.DataArray) -> None:
        if history.dims != ("time",):
            self._error = f"log {log} holds arrays; only scalar logs correlate"
            return
        times = history.coords["time"].to(unit="ns").values.astype(np.int64)
        unit = history.unit
        self.correlator.add_log(log, times, history.values, unit)

    def _draw(self, data: sc.DataArray | None) -> None:
        if data is not None and data.ndim != self._ndim:
            self._ndim = data.ndim
            self.figure.object = self._dynamic_map(data.ndim)
        self._pipe.send(data)

    def _show_caption(self) -> None:
        c = self.correlator
        if self._error:
            state, text = "error", self._error
        elif c.paired == 0:
            state, text = "waiting", f"waiting for data ({c.pending} waiting for logs)"
        else:
            state = ""
            text = f"{c.paired:,} outputs paired · {c.pending} waiting for logs"
            if c.outside:
                text += f" · {c.outside:,} outside the range"
        if c.unpaired:
            text += f" · {c.unpaired:,} without a log value"
        self.caption.object = (
            f'<span class="ld-caption ld-correlation {state}"'
            f' data-output="{html.escape(self.output.path)}"'
            f' data-paired="{c.paired}" data-pending="{c.pending}">'
            f"{html.escape(self.describe())}: {html.escape(text)}</span>"
        )
