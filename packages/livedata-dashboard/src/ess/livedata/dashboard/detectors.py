"""Detectors dashboard: every 2-D view of every bank, ROIs and their spectra.

Run ``python -m ess.livedata.dashboard.detectors --instrument dummy`` (port
5008), or under gunicorn via :mod:`~ess.livedata.dashboard.detectors_wsgi`.
Outputs are ``detector_data/<bank>/<view>_<current|cumulative>``, the bank's
``toa_*`` spectrum and ``roi_<n>_*`` spectra.
"""

from __future__ import annotations

import panel as pn

from ess.livedata.core.instrument import DetectorBank

from .backend import Backend
from .cli import main
from .feedback import CommandFeedback
from .page import Page, Updater, framed
from .result_plot import ResultPlot
from .roi_editor import HINT, SERVICE, BankRois
from .roi_spectra import RoiSpectra
from .server import Dashboard
from .toa_controls import ToaControls

OUTPUTS = ("current", "cumulative")


def _bank_card(
    backend: Backend,
    bank: DetectorBank,
    scale: pn.widgets.Widget,
    show: pn.widgets.Widget,
    feedback: CommandFeedback,
) -> tuple[pn.Card, list[Updater]]:
    """A bank's images with ROI tools, its ROI and TOA spectra, and ROI button."""
    views = [view.name for view in bank.views]
    rois = BankRois(backend, bank.name, views, feedback)
    titles = {view.name: view.title or view.name for view in bank.views}

    def name(output: str, kind: str) -> str:
        return f"{SERVICE}/{bank.name}/{output}_{kind}"

    images = {
        view: ResultPlot(
            backend.store,
            name(view, show.value),
            f"{titles[view]} ({show.value})",
            scale,
            kind="image",
            overlay=rois.editors[view].layers,
            cmap="viridis",
            colorbar=True,
            height=420,
        )
        for view in views
    }
    toa = ResultPlot(
        backend.store,
        name("toa", show.value),
        f"{bank.name} TOA spectrum ({show.value})",
        scale,
        fill_color="#3573b9",
        line_color="#3573b9",
    )
    spectra = RoiSpectra(backend.store, bank.name, scale, show.value)

    def follow(event: object) -> None:
        kind = show.value
        for view, plot in images.items():
            plot.follow(name(view, kind), f"{titles[view]} ({kind})")
        toa.follow(name("toa", kind), f"{bank.name} TOA spectrum ({kind})")
        spectra.follow(kind)

    show.param.watch(follow, "value")
    card = pn.Card(
        pn.Row(
            *(plot.view for plot in images.values()),
            pn.Column(spectra.view, toa.view, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        ),
        pn.Row(rois.button, rois.clear, rois.readback),
        pn.pane.HTML(f"<small>{HINT}</small>"),
        title=bank.name,
        sizing_mode="stretch_width",
    )
    updaters = [p.update for p in images.values()]
    updaters += [toa.update, spectra.update, rois.update]
    return card, updaters


def build_page(backend: Backend) -> Page:
    """One session's detectors page: shared controls, then one card per bank."""
    banks = backend.loaded.instrument.detectors
    scale = pn.widgets.RadioButtonGroup(
        label="Scale", options=["linear", "log"], value="log"
    )
    show = pn.widgets.RadioButtonGroup(
        label="Show", options=list(OUTPUTS), value="cumulative"
    )
    feedback = CommandFeedback(backend.store, shown=6)
    controls = ToaControls(backend, SERVICE, [b.name for b in banks], feedback)
    cards: list[pn.Card] = []
    updaters: list[Updater] = [controls.update, feedback.update]
    for bank in banks:
        card, card_updaters = _bank_card(backend, bank, scale, show, feedback)
        cards.append(card)
        updaters += card_updaters
    switches = pn.Row(
        pn.pane.HTML("<b>Scale</b>"), scale, pn.pane.HTML("<b>Show</b>"), show
    )
    return framed(
        backend, "Detectors", [SERVICE], [switches, controls.view, *cards], updaters
    )


DASHBOARD = Dashboard("detectors", "Detectors", build_page)

if __name__ == "__main__":
    main(DASHBOARD)
