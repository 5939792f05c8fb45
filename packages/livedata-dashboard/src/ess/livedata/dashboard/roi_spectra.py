"""The TOA spectra of a view's ROIs, overlaid in one plot.

A view's job publishes all its ROI spectra as one output with dims
``(roi, <toa>)`` and the ROI indices as the ``roi`` coordinate (the facility's
``roi_spectra_*``), so a removed ROI disappears with the next result. The
figure is rebuilt when the set of ROIs changes; new data only updates it.
Without any ROI the figure is hidden behind a line saying so, not empty axes.
"""

from __future__ import annotations

import html

import holoviews as hv
import panel as pn
import scipp as sc

from . import plots
from .catalog import ROI_SPECTRA, Window
from .result_plot import Shown
from .store import LiveStore


def split_rois(data: sc.DataArray) -> dict[int, sc.DataArray]:
    """One spectrum per ROI index of a ``roi_spectra_*`` result."""
    if data.ndim != 2 or "roi" not in data.dims:
        return {}
    indices = data.coords["roi"].values if "roi" in data.coords else range(len(data))
    other = data.drop_coords("roi") if "roi" in data.coords else data
    return {int(i): other["roi", n] for n, i in enumerate(indices)}


NO_ROI = "No ROI: draw one on the image and send it to see its spectrum here."

_NO_ROI_CSS = """
.ld-no-roi { padding: 12px; color: #666; font-style: italic;
  border: 1px dashed #bbb; border-radius: 4px; }
"""


class RoiSpectra:
    """Overlaid ROI spectra of one view's job; ``window`` is current or cumulative."""

    def __init__(
        self,
        store: LiveStore,
        shown: Shown,
        log: pn.widgets.Widget,
    ) -> None:
        self._store = store
        self._log = log
        self.shown = shown
        self._ids: tuple[int, ...] = ()
        self._serial = -1
        self._pipe = hv.streams.Pipe(data={})
        self.figure = pn.pane.HoloViews(
            pn.bind(self._dynamic_map, log),
            sizing_mode="stretch_width",
            linked_axes=False,
        )
        self.figure.visible = False
        self.no_roi = pn.pane.HTML(
            f'<div class="ld-no-roi">{html.escape(NO_ROI)}</div>',
            stylesheets=[_NO_ROI_CSS],
            sizing_mode="stretch_width",
        )
        self.caption = pn.pane.HTML(
            '<span class="ld-caption">ROI spectra: no ROI defined</span>',
            margin=(0, 10),
        )
        self.view = pn.Column(
            self.figure, self.no_roi, self.caption, sizing_mode="stretch_width"
        )

    def follow(self, window: Window) -> None:
        """Show ``current`` or ``cumulative`` spectra from the next update on."""
        shown = self.shown
        self.shown = Shown(shown.workflow, shown.source, ROI_SPECTRA[window])
        self._ids = (-1,)  # forces a rebuild with the new title

    def _title(self) -> str:
        return f"{self.shown.source} {self.shown.workflow.name} {self.shown.output}"

    def _dynamic_map(self, log: str) -> hv.DynamicMap:
        is_log = log == "log"

        def draw(data: dict[int, sc.DataArray]) -> hv.NdOverlay:
            spectra = data or {0: plots.placeholder(1)}
            curves = {
                # Size options on the curves too: the overlay alone
                # leaves the figure without a height.
                roi: plots.step_curve(spectrum, is_log).opts(
                    line_width=2, framewise=True, responsive=True, height=300
                )
                for roi, spectrum in sorted(spectra.items())
            }
            return hv.NdOverlay(curves, kdims=["ROI"]).opts(
                framewise=True,
                responsive=True,
                height=300,
                logy=is_log,
                title=self._title(),
                show_legend=bool(data),
            )

        return hv.DynamicMap(draw, streams=[self._pipe])

    def update(self, now_s: float) -> None:
        shown = self.shown
        result = self._store.result(shown.workflow, shown.source, shown.output)
        present = {} if result is None else split_rois(result.data)
        ids = tuple(sorted(present))
        if ids != self._ids:
            # A different set of curves: rebuild rather than morph the overlay.
            # A new pipe, so the figure being replaced gets no more data.
            self._ids = ids
            self._pipe = hv.streams.Pipe(data=present)
            self.figure.object = pn.bind(self._dynamic_map, self._log)
            self.figure.visible = bool(ids)
            self.no_roi.visible = not ids
        elif result is not None and result.serial != self._serial:
            self._pipe.send(present)
        self._serial = -1 if result is None else result.serial
        if not present or result is None:
            text = "no ROI defined"
        else:
            end = plots.end_time_s(result.data)
            age = None if end is None else max(0.0, now_s - end)
            counts = ", ".join(
                f"ROI {roi} {plots.total(present[roi]):,.0f}" for roi in ids
            )
            text = f"{counts} counts · data age {plots.format_age(age)}"
        self.caption.object = (
            f'<span class="ld-caption" data-output="{html.escape(shown.path)}">'
            f"ROI spectra: {html.escape(text)}</span>"
        )
