"""The TOA spectra of a bank's ROIs, overlaid in one plot.

Which ROIs exist is what the detector service reports in its heartbeat, so a
removed ROI disappears even though its last spectrum stays in the store. The
figure is rebuilt when that set changes; new data only updates it.
"""

from __future__ import annotations

import html

import holoviews as hv
import panel as pn
import scipp as sc

from . import plots
from .store import LiveStore

SERVICE = "detector_data"


class RoiSpectra:
    """Overlaid ROI spectra of ``bank``; ``output`` is current or cumulative."""

    def __init__(
        self, store: LiveStore, bank: str, log: pn.widgets.Widget, output: str
    ) -> None:
        self._store = store
        self._bank = bank
        self._log = log
        self.output = output
        self._ids: tuple[int, ...] = ()
        self._serials: tuple[int, ...] = ()
        self._pipe = hv.streams.Pipe(data={})
        self.figure = pn.pane.HoloViews(
            pn.bind(self._dynamic_map, log),
            sizing_mode="stretch_width",
            linked_axes=False,
        )
        self.caption = pn.pane.HTML(
            '<span class="ld-caption">ROI spectra: no ROI defined</span>',
            margin=(0, 10),
        )
        self.view = pn.Column(self.figure, self.caption, sizing_mode="stretch_width")

    def follow(self, output: str) -> None:
        """Show ``current`` or ``cumulative`` spectra from the next update on."""
        self.output = output
        self._ids = (-1,)  # forces a rebuild with the new title

    def _name(self, roi: int) -> str:
        return f"{SERVICE}/{self._bank}/roi_{roi}_{self.output}"

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
                title=f"{self._bank} ROI spectra ({self.output})",
                show_legend=bool(data),
            )

        return hv.DynamicMap(draw, streams=[self._pipe])

    def update(self, now_s: float) -> None:
        status = self._store.latest_status(SERVICE)
        rois = status.details.get("rois", {}).get(self._bank, []) if status else []
        results = {roi: self._store.result(self._name(roi)) for roi in rois}
        present = {roi: r for roi, r in results.items() if r is not None}
        ids = tuple(sorted(present))
        serials = tuple(present[roi].serial for roi in ids)
        if ids != self._ids:
            # A different set of curves: rebuild rather than morph the overlay.
            # A new pipe, so the figure being replaced gets no more data.
            self._ids = ids
            self._pipe = hv.streams.Pipe(data={r: present[r].data for r in ids})
            self.figure.object = pn.bind(self._dynamic_map, self._log)
        elif serials != self._serials:
            self._pipe.send({roi: present[roi].data for roi in ids})
        self._serials = serials
        if not present:
            text = "no ROI defined" if not rois else "waiting for data"
        else:
            ends = [plots.end_time_s(r.data) for r in present.values()]
            newest = max((e for e in ends if e is not None), default=None)
            age = None if newest is None else max(0.0, now_s - newest)
            counts = ", ".join(
                f"ROI {roi} {plots.total(present[roi].data):,.0f}" for roi in ids
            )
            text = f"{counts} counts · data age {plots.format_age(age)}"
        self.caption.object = (
            f'<span class="ld-caption" data-output="{SERVICE}/{self._bank}/roi">'
            f"ROI spectra: {html.escape(text)}</span>"
        )
