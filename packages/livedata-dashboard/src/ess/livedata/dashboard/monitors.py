"""Monitors dashboard: current and cumulative TOA spectra of every beam monitor.

Run ``python -m ess.livedata.dashboard.monitors --instrument dummy`` (port
5007), or under gunicorn via :mod:`~ess.livedata.dashboard.monitors_wsgi`.
"""

from __future__ import annotations

import panel as pn

from ess.livedata.protocol import ServiceName

from .backend import Backend
from .catalog import MONITOR_OUTPUT, Window, monitor_workflow
from .cli import main
from .correlation_section import monitor_correlations
from .feedback import CommandFeedback
from .page import Page, framed
from .result_plot import ResultPlot, Shown
from .server import Dashboard
from .toa_controls import ToaControls

SERVICE = ServiceName.MONITOR_DATA


def build_page(backend: Backend) -> Page:
    """One session's monitors page: controls above one row of plots per monitor."""
    monitors = [m.name for m in backend.loaded.instrument.monitors]
    workflow = monitor_workflow(backend.loaded.name)
    scale = pn.widgets.RadioButtonGroup(
        label="Scale", options=["linear", "log"], value="linear"
    )
    feedback = CommandFeedback(backend.store)
    controls = ToaControls(
        backend,
        {monitor: [workflow] for monitor in monitors},
        {
            monitor: Shown(workflow, monitor, MONITOR_OUTPUT[Window.CURRENT])
            for monitor in monitors
        },
        feedback,
    )
    plots = [
        ResultPlot(
            backend.store,
            Shown(workflow, monitor, MONITOR_OUTPUT[window]),
            f"{monitor} {window}",
            scale,
            fill_color="#3573b9",
            line_color="#3573b9",
        )
        for monitor in monitors
        for window in Window
    ]
    grid = pn.GridBox(
        *(p.view for p in plots), ncols=len(Window), sizing_mode="stretch_width"
    )
    body = [pn.Row(pn.pane.HTML("<b>Scale</b>"), scale), controls.view, grid]
    updaters = [controls.update, feedback.update, *(p.update for p in plots)]
    loaded = backend.loaded
    correlation = monitor_correlations(backend.store, loaded.instrument, loaded.name)
    if correlation is not None:
        body.append(correlation.view)
        updaters.append(correlation.update)
    return framed(backend, "Monitors", [SERVICE], body, updaters)


DASHBOARD = Dashboard("monitors", "Monitors", build_page)

if __name__ == "__main__":
    main(DASHBOARD)
