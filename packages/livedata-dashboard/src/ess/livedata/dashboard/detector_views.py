"""Every 2-D view of every bank, ROIs and their spectra: a dashboard tab.

Each view of a bank is a job of its own workflow (:mod:`.catalog`); its
outputs are the image, the bank's TOA spectrum, the ROI spectra and the ROI
read-backs.
"""

from __future__ import annotations

import panel as pn

from ess.livedata.core.instrument import DetectorBank

from .backend import Backend
from .catalog import ROI_SPECTRA, TOA_OUTPUT, VIEW_OUTPUT, Window, view_workflow
from .feedback import CommandFeedback
from .page import Section, Updater
from .result_plot import ResultPlot, Shown
from .roi_editor import HINT, ViewRois
from .roi_spectra import RoiSpectra
from .toa_controls import ToaControls

VIEWS_TAB = "Detector views"


def _bank_card(
    backend: Backend,
    bank: DetectorBank,
    scale: pn.widgets.Widget,
    show: pn.widgets.Widget,
    feedback: CommandFeedback,
) -> tuple[pn.Card, list[Updater]]:
    """A bank's images with ROI tools, their ROI spectra, the TOA spectrum."""
    instrument = backend.loaded.name
    workflows = {
        v.name: view_workflow(instrument, bank, v.name) for v in bank.image_views
    }
    titles = {view.name: view.title or view.name for view in bank.image_views}
    window = Window(show.value)
    rois = {
        view: ViewRois(backend, workflow, bank.name, feedback)
        for view, workflow in workflows.items()
    }
    images = {
        view: ResultPlot(
            backend.store,
            Shown(workflow, bank.name, VIEW_OUTPUT[window]),
            f"{titles[view]} ({window})",
            scale,
            kind="image",
            overlay=rois[view].editor.layers,
            cmap="viridis",
            colorbar=True,
            height=420,
        )
        for view, workflow in workflows.items()
    }
    spectra = {
        view: RoiSpectra(
            backend.store, Shown(workflow, bank.name, ROI_SPECTRA[window]), scale
        )
        for view, workflow in workflows.items()
    }
    first = next(iter(workflows.values()))
    toa = ResultPlot(
        backend.store,
        Shown(first, bank.name, TOA_OUTPUT[window]),
        f"{bank.name} TOA spectrum ({window})",
        scale,
        fill_color="#3573b9",
        line_color="#3573b9",
    )

    def follow(event: object) -> None:
        kind = Window(show.value)
        for view, plot in images.items():
            plot.follow(
                Shown(workflows[view], bank.name, VIEW_OUTPUT[kind]),
                f"{titles[view]} ({kind})",
            )
            spectra[view].follow(kind)
        toa.follow(
            Shown(first, bank.name, TOA_OUTPUT[kind]),
            f"{bank.name} TOA spectrum ({kind})",
        )

    show.param.watch(follow, "value")
    card = pn.Card(
        pn.Row(
            *(plot.view for plot in images.values()),
            pn.Column(
                *(s.view for s in spectra.values()),
                toa.view,
                sizing_mode="stretch_width",
            ),
            sizing_mode="stretch_width",
        ),
        *(pn.Row(r.button, r.forget, r.clear, r.readback) for r in rois.values()),
        pn.pane.HTML(f"<small>{HINT}</small>"),
        title=bank.name,
        sizing_mode="stretch_width",
    )
    updaters: list[Updater] = [p.update for p in images.values()]
    updaters += [s.update for s in spectra.values()]
    updaters += [toa.update, *(r.update for r in rois.values())]
    return card, updaters


def _controls(backend: Backend, feedback: CommandFeedback) -> ToaControls:
    """TOA binning and reset of every view job of every bank."""
    instrument = backend.loaded.name
    banks = backend.loaded.instrument.detectors
    workflows = {
        bank.name: [view_workflow(instrument, bank, v.name) for v in bank.image_views]
        for bank in banks
    }
    readback = {
        bank: Shown(views[0], bank, TOA_OUTPUT[Window.CURRENT])
        for bank, views in workflows.items()
        if views
    }
    return ToaControls(backend, workflows, readback, feedback)


def detector_controls(backend: Backend) -> Section:
    """TOA binning and reset of the view jobs, above the detector grid."""
    feedback = CommandFeedback(backend.store, shown=6)
    controls = _controls(backend, feedback)
    return Section("", [controls.view], [controls.update, feedback.update])


def detector_views(backend: Backend) -> Section:
    """Every view of every bank with its ROI tools, one card per bank."""
    scale = pn.widgets.RadioButtonGroup(
        label="Scale", options=["linear", "log"], value="log"
    )
    show = pn.widgets.RadioButtonGroup(
        label="Show", options=[str(w) for w in Window], value=Window.CUMULATIVE
    )
    feedback = CommandFeedback(backend.store, shown=6)
    cards: list[pn.Card] = []
    updaters: list[Updater] = [feedback.update]
    for bank in backend.loaded.instrument.detectors:
        card, card_updaters = _bank_card(backend, bank, scale, show, feedback)
        cards.append(card)
        updaters += card_updaters
    switches = pn.Row(
        pn.pane.HTML("<b>Scale</b>"), scale, pn.pane.HTML("<b>Show</b>"), show
    )
    return Section(VIEWS_TAB, [switches, feedback.view, *cards], updaters)
