"""Time-of-arrival range and bins, and reset: controls shared by monitors and detectors.

Changing the binning reconfigures the jobs: each chosen source's job is
started again with the new ``toa_edges`` under a new job number, which stops
the old one (PROTOCOL.md section 4). Input is validated with the parameter
model before sending, so a typo is explained at once; what the services then
say comes back through :class:`~.feedback.CommandFeedback`. The binning in
use is read back from the bin edges of the published spectra.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import panel as pn
import scipp as sc
from pydantic import ValidationError

from ess.livedata.core.commands import validation_summary
from ess.livedata.protocol import WorkflowId

from .backend import Backend
from .catalog import TimeUnit, ToaEdges
from .feedback import CommandFeedback
from .result_plot import Shown

ALL = "all"


def binning_text(data: sc.DataArray) -> str | None:
    """``start to stop unit, n bins`` of a 1-D histogram's bin edges."""
    if data.ndim != 1 or data.dim not in data.coords:
        return None
    edges = data.coords[data.dim]
    if not data.coords.is_edges(data.dim) or edges.unit is None:
        return None
    return (
        f"{edges.values[0]:g} to {edges.values[-1]:g} {edges.unit}, "
        f"{data.sizes[data.dim]} bins"
    )


class ToaControls:
    """TOA binning and reset for the jobs of a page's sources.

    Parameters
    ----------
    workflows:
        Per source offered, the workflows whose jobs on it are reconfigured
        and reset.
    readback:
        Per source, the spectrum whose bin edges show the binning in use.
    feedback:
        Where the fate of each command is shown.
    """

    def __init__(
        self,
        backend: Backend,
        workflows: Mapping[str, Sequence[WorkflowId]],
        readback: Mapping[str, Shown],
        feedback: CommandFeedback,
    ) -> None:
        self._backend = backend
        self._workflows = dict(workflows)
        self._readback = dict(readback)
        self._feedback = feedback
        self.target = pn.widgets.Select(
            label="Source", options=[ALL, *workflows], value=ALL, width=140
        )
        self.toa_min = pn.widgets.FloatInput(label="TOA min", value=0.0, width=110)
        self.toa_max = pn.widgets.FloatInput(label="TOA max", value=71.4, width=110)
        self.unit = pn.widgets.Select(
            label="Unit", options=[u.value for u in TimeUnit], value="ms", width=80
        )
        self.bins = pn.widgets.IntInput(label="Bins", value=200, start=1, width=100)
        self._show_last_sent()
        self.apply = pn.widgets.Button(label="Apply TOA binning", color="primary")
        self.reset = pn.widgets.Button(label="Reset cumulative", color="warning")
        self.apply.on_click(lambda _event: self.send_binning())
        self.reset.on_click(lambda _event: self.send_reset())
        self.readback = pn.pane.HTML("", sizing_mode="stretch_width")
        self.view = pn.Column(
            pn.Row(
                self.target,
                self.toa_min,
                self.toa_max,
                self.unit,
                self.bins,
                pn.Column(pn.Spacer(height=18), self.apply),
                pn.Column(pn.Spacer(height=18), self.reset),
            ),
            self.readback,
            feedback.view,
            sizing_mode="stretch_width",
        )

    def _show_last_sent(self) -> None:
        """Fill in the binning this dashboard last sent, even before a restart."""
        for workflows in self._workflows.values():
            for workflow in workflows:
                config = self._backend.grids.job_config(workflow)
                edges = None if config is None else ToaEdges.of(config.params)
                if edges is not None:
                    self.toa_min.value, self.toa_max.value = edges.start, edges.stop
                    self.unit.value, self.bins.value = edges.unit.value, edges.num_bins
                    return

    def _by_workflow(self) -> dict[WorkflowId, list[str]]:
        """The chosen sources, grouped by the workflow their jobs run."""
        chosen = (
            list(self._workflows) if self.target.value == ALL else [self.target.value]
        )
        grouped: dict[WorkflowId, list[str]] = {}
        for source in chosen:
            for workflow in self._workflows[source]:
                grouped.setdefault(workflow, []).append(source)
        return grouped

    def send_binning(self) -> None:
        try:
            edges = ToaEdges(
                start=self.toa_min.value,
                stop=self.toa_max.value,
                num_bins=self.bins.value,
                unit=TimeUnit(self.unit.value),
            )
        except ValidationError as error:
            self._feedback.invalid(validation_summary(error))
            return
        control = self._backend.control
        for workflow, sources in self._by_workflow().items():
            self._feedback.follow(*control.start(workflow, sources, edges.params()))

    def send_reset(self) -> None:
        control = self._backend.control
        for workflow, sources in self._by_workflow().items():
            self._feedback.follow(control.reset(workflow, sources))

    def update(self, _now_s: float) -> None:
        store = self._backend.store
        texts = {}
        for source, shown in sorted(self._readback.items()):
            result = store.result(shown.workflow, shown.source, shown.output)
            text = None if result is None else binning_text(result.data)
            if text is not None:
                texts[source] = text
        self.readback.object = (
            '<small class="ld-readback">In use: '
            + (
                "; ".join(
                    f"<b>{html.escape(name)}</b> {html.escape(text)}"
                    for name, text in texts.items()
                )
                or "not reported yet"
            )
            + "</small>"
        )
