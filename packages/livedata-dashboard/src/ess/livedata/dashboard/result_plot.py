"""A plot of one published output that follows the store, with its caption.

Data reaches the browser through a HoloViews ``Pipe``: a new result updates
the existing Bokeh data source instead of rebuilding the figure. Only the
linear/log switch rebuilds it, because Bokeh cannot change an axis type in
place.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import holoviews as hv
import panel as pn
import scipp as sc

from ess.livedata.protocol import WorkflowId

from . import plots
from .store import LiveStore

STALE_DATA_S = 5.0
"""Data older than this is flagged in the caption."""

Kind = Literal["histogram", "image"]

_RENDER = {"histogram": plots.histogram, "image": plots.image}
_LOG_OPTION = {"histogram": "logy", "image": "logz"}

_CAPTION_CSS = """
.ld-caption { font-size: 0.9em; color: #444; }
.ld-caption.stale { color: #b35900; font-weight: bold; }
.ld-caption.waiting { color: #888; font-style: italic; }
"""


@dataclass(frozen=True)
class Shown:
    """An output of the current job of ``workflow`` on ``source``."""

    workflow: WorkflowId
    source: str
    output: str

    @property
    def path(self) -> str:
        """``workflow/source/output``, the caption's ``data-output``."""
        return f"{self.workflow.name}/{self.source}/{self.output}"


class ResultPlot:
    """The newest result of ``shown`` in the store, as a histogram or an image.

    Parameters
    ----------
    store:
        The process's shared store; only read.
    shown:
        Which workflow, source and output; follows job restarts.
    title:
        Shown above the plot and in the caption.
    log:
        Widget whose value is ``"log"`` for a log scale (y, or colour for
        images).
    kind:
        ``"histogram"`` for 1-D spectra, ``"image"`` for 2-D views.
    overlay:
        Builds layers drawn on top (e.g. ROI editing tools); called again
        whenever the figure is rebuilt.
    opts:
        HoloViews options for the element.
    """

    def __init__(
        self,
        store: LiveStore,
        shown: Shown,
        title: str,
        log: pn.widgets.Widget,
        kind: Kind = "histogram",
        overlay: Callable[[], hv.Element] | None = None,
        **opts: Any,
    ) -> None:
        self._store = store
        self.shown = shown
        self._title = title
        self._kind = kind
        self._overlay = overlay
        self._opts = {
            "framewise": True,
            "responsive": True,
            "height": 300,
            "tools": ["hover"],
            "title": title,
            **opts,
        }
        self._serial = -1
        self._pipe = hv.streams.Pipe(data=None)
        self.caption = pn.pane.HTML(stylesheets=[_CAPTION_CSS], margin=(0, 10))
        self._waiting()
        # Each plot keeps its own axes: current and cumulative differ by
        # orders of magnitude.
        self.figure = pn.pane.HoloViews(
            pn.bind(self._dynamic_map, log),
            sizing_mode="stretch_width",
            linked_axes=False,
        )
        self.view = pn.Column(self.figure, self.caption, sizing_mode="stretch_width")

    def _dynamic_map(self, log: str) -> hv.DynamicMap:
        is_log = log == "log"
        render = _RENDER[self._kind]
        scale = {_LOG_OPTION[self._kind]: is_log}
        placeholder = plots.placeholder(2 if self._kind == "image" else 1)

        def draw(data: sc.DataArray | None) -> hv.Element:
            element = render(placeholder if data is None else data, is_log)
            return element.opts(**self._opts, **scale)

        dynamic = hv.DynamicMap(draw, streams=[self._pipe])
        return dynamic if self._overlay is None else dynamic * self._overlay()

    def follow(self, shown: Shown, title: str) -> None:
        """Show another output from now on, e.g. cumulative instead of current."""
        self.shown = shown
        self._title = title
        self._opts["title"] = title
        self._serial = -1
        self._pipe.send(None)  # no stale picture under the new title
        self._waiting()

    def update(self, now_s: float) -> None:
        """Show the store's newest data, if new, and refresh the data age."""
        shown = self.shown
        result = self._store.result(shown.workflow, shown.source, shown.output)
        if result is None:
            return  # still waiting: the caption says so
        if result.serial != self._serial:
            self._serial = result.serial
            self._pipe.send(result.data)
        end = plots.end_time_s(result.data)
        age = None if end is None else max(0.0, now_s - end)
        stale = age is not None and age > STALE_DATA_S
        self.caption.object = self._caption_html(
            "stale" if stale else "",
            f"{plots.total(result.data):,.0f} {plots.unit_text(result.data.unit)}"
            f" · data age {plots.format_age(age)}",
            plots.total(result.data),
            age,
        )

    def _waiting(self) -> None:
        self.caption.object = self._caption_html("waiting", "waiting for data", 0, None)

    def _caption_html(
        self, state: str, text: str, total: float, age: float | None
    ) -> str:
        return (
            f'<span class="ld-caption {state}" data-output="{html.escape(self.shown.path)}"'
            f' data-total="{total:.0f}" data-age="{"" if age is None else f"{age:.1f}"}">'
            f"{html.escape(self._title)}: {html.escape(text)}</span>"
        )
