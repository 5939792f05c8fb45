"""The one dashboard every entry point serves, opened on its own tab.

Tabs: every stored grid (monitors, detectors, logs, reduction, and any a
user adds), the detector views with their ROI tools, and the workflows.
``monitors`` opens on the monitors grid, ``detectors`` on the detector
grid, ``reduction`` on the workflows. Which tab is open is the session's
own choice; the grids are shared. Only the open tab is refreshed.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn

from ess.livedata.core.dashboard_templates import DETECTORS_GRID, MONITORS_GRID
from ess.livedata.protocol import ServiceName

from .backend import Backend
from .catalog import MONITOR_OUTPUT, Window, monitor_workflow
from .detector_views import detector_controls, detector_views
from .feedback import CommandFeedback
from .grid_view import GridView
from .page import Page, Section, framed
from .result_plot import Shown
from .toa_controls import ToaControls
from .workflows import workflows_section


def monitor_controls(backend: Backend) -> Section:
    """TOA binning and reset of the monitor jobs, above the monitors grid."""
    monitors = [m.name for m in backend.loaded.instrument.monitors]
    workflow = monitor_workflow(backend.loaded.name)
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
    return Section("", [controls.view], [controls.update, feedback.update])


class DashboardTabs:
    """The session's tabs, following the store's list of grids."""

    def __init__(self, backend: Backend, opening: str) -> None:
        self._backend = backend
        self._above = {
            MONITORS_GRID: monitor_controls(backend),
            DETECTORS_GRID: detector_controls(backend),
        }
        self._fixed = [workflows_section(backend)]
        if backend.loaded.instrument.detectors:
            self._fixed.insert(0, detector_views(backend))
        self._fixed_views = {
            s.name: pn.Column(*s.body, sizing_mode="stretch_width") for s in self._fixed
        }
        self._grids: dict[str, GridView] = {}
        self.tabs = pn.Tabs(dynamic=True, sizing_mode="stretch_width")
        self._sync()
        names = self._names()
        self.tabs.active = names.index(opening) if opening in names else 0

    def _names(self) -> list[str]:
        return [*self._grids, *(s.name for s in self._fixed)]

    def _sync(self) -> None:
        wanted = [grid.name for grid in self._backend.grids.grids()]
        if wanted == list(self._grids):
            return
        names = self._names()
        active = names[self.tabs.active] if names else None
        self._grids = {
            name: self._grids.get(name)
            or GridView(self._backend, name, self._above.get(name))
            for name in wanted
        }
        self.tabs.clear()
        self.tabs.extend(
            [(name, view.view) for name, view in self._grids.items()]
            + [(name, view) for name, view in self._fixed_views.items()]
        )
        names = self._names()
        self.tabs.active = names.index(active) if active in names else 0

    def update(self, now_s: float) -> None:
        self._backend.grids.poll()
        self._sync()
        name = self._names()[self.tabs.active]
        if name in self._grids:
            self._grids[name].update(now_s)
            return
        for section in self._fixed:
            if section.name == name:
                for update in section.updaters:
                    update(now_s)


def opening_on(tab: str, title: str, service: ServiceName) -> Callable[[Backend], Page]:
    """The page function of an entry point that opens on ``tab``."""

    def build(backend: Backend) -> Page:
        tabs = DashboardTabs(backend, tab)
        return framed(backend, title, [service], [tabs.tabs], [tabs.update])

    return build
