"""Start, stop and reset jobs of the instrument's workflows: a dashboard tab.

Everything is generic: workflows come from the plugin's specs (forms from
their parameter models), jobs from the job heartbeats (including jobs
started before this dashboard, which it adopts), plots from whatever the
current jobs of the workflows publish. Commands are the facility's
:class:`WorkflowConfig` and :class:`JobCommand`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import panel as pn

from ess.livedata.core.job_sources import allowed_sources
from ess.livedata.core.workflow import WorkflowSpec
from ess.livedata.protocol import JobAction, JobId, JobState, WorkflowId

from .backend import Backend
from .feedback import CommandFeedback
from .forms import ModelForm
from .jobs import JobRow
from .page import Section
from .result_plot import Kind, ResultPlot, Shown

WORKFLOWS_TAB = "Workflows"


def workflow_id(backend: Backend, spec: WorkflowSpec) -> WorkflowId:
    return WorkflowId(
        instrument=backend.loaded.name, name=spec.name, version=spec.version
    )


class WorkflowLauncher:
    """A card per workflow: its description, parameter form, sources, start."""

    def __init__(
        self, backend: Backend, spec: WorkflowSpec, feedback: CommandFeedback
    ) -> None:
        self._backend = backend
        self._spec = spec
        self._feedback = feedback
        self.form = ModelForm(spec.params)
        sources = list(allowed_sources(backend.loaded.instrument, spec))
        self.sources = pn.widgets.MultiChoice(
            label="Sources", options=sources, value=sources[:1]
        )
        last = backend.grids.job_config(workflow_id(backend, spec))
        if last is not None:  # what this dashboard sent, also before a restart
            self.form.fill(last.params)
            self.sources.value = [s for s in last.sources if s in sources]
        self.start = pn.widgets.Button(label="Start job", color="primary")
        self.start.on_click(lambda _event: self.send_start())
        outputs = "".join(
            f"<li><b>{html.escape(o.name)}</b>: {html.escape(o.title)}</li>"
            for o in spec.output_specs
        )
        self.view = pn.Card(
            pn.pane.HTML(
                f"<p>{html.escape(spec.description)}</p><ul>{outputs}</ul>",
                sizing_mode="stretch_width",
            ),
            self.form.view,
            self.sources,
            self.start,
            title=f"{spec.title} ({spec.key})",
            sizing_mode="stretch_width",
        )

    def send_start(self) -> None:
        params = self.form.validate()
        if params is None:
            self._feedback.invalid(f"{self._spec.title}: fix the parameters first")
            return
        if not self.sources.value:
            self._feedback.invalid(f"{self._spec.title}: choose at least one source")
            return
        self._feedback.follow(
            *self._backend.control.start(
                workflow_id(self._backend, self._spec),
                self.sources.value,
                params.model_dump(mode="json"),
            )
        )


def _jobs_html(rows: Sequence[JobRow]) -> str:
    if not rows:
        return "<p><i>No job heartbeats yet.</i></p>"
    cells = "".join(
        f'<tr data-job="{html.escape(str(row.job_id))}"'
        f' data-state="{row.state}" data-current="{str(row.current).lower()}">'
        f"<td>{html.escape(str(row.workflow))}</td>"
        f"<td>{html.escape(row.job_id.source_name)}</td>"
        f"<td>{html.escape(row.job_id.job_number[:8])}</td>"
        f"<td>{html.escape(str(row.state))}{' (stale)' if row.stale else ''}</td>"
        f"<td>{'yes' if row.current else ''}</td>"
        f"<td>{html.escape(row.message)}</td></tr>"
        for row in rows
    )
    return (
        '<table class="ld-jobs"><tr><th>workflow</th><th>source</th><th>job</th>'
        f"<th>state</th><th>shown</th><th>message</th></tr>{cells}</table>"
    )


class JobsPanel:
    """Jobs from their heartbeats, and stop/reset for the chosen job."""

    def __init__(self, backend: Backend, feedback: CommandFeedback) -> None:
        self._backend = backend
        self._feedback = feedback
        self.table = pn.pane.HTML(_jobs_html([]), sizing_mode="stretch_width")
        self.job = pn.widgets.Select(label="Job", options={}, width=360)
        self.stop = pn.widgets.Button(label="Stop job", color="warning")
        self.reset = pn.widgets.Button(label="Reset job", color="warning")
        self.stop.on_click(lambda _event: self._send(JobAction.STOP))
        self.reset.on_click(lambda _event: self._send(JobAction.RESET))
        self.view = pn.Column(
            self.table,
            pn.Row(
                self.job,
                pn.Column(pn.Spacer(height=18), self.stop),
                pn.Column(pn.Spacer(height=18), self.reset),
            ),
            sizing_mode="stretch_width",
        )

    def _send(self, action: JobAction) -> None:
        job: JobId | None = self.job.value
        if job is None:
            self._feedback.invalid("choose a job first")
            return
        self._feedback.follow(self._backend.control.act(job, action))

    def update(self, _now_s: float) -> None:
        rows = self._backend.store.jobs.rows()
        self.table.object = _jobs_html(rows)
        # Only jobs that run can be reset or stopped; current ones first.
        options = {
            f"{row.workflow.name} on {row.job_id.source_name} "
            f"({row.job_id.job_number[:8]})": row.job_id
            for row in sorted(rows, key=lambda r: not r.current)
            if not row.stale and row.state is not JobState.STOPPED
        }
        if list(options) != list(self.job.options):
            self.job.options = options


class OutputViewer:
    """Plots the chosen output of a current reduction job (1-D or 2-D)."""

    def __init__(
        self,
        backend: Backend,
        workflows: Sequence[tuple[WorkflowId, Sequence[str]]],
        scale: pn.widgets.Widget,
    ) -> None:
        self._store = backend.store
        self._workflows = workflows
        self._scale = scale
        self._shown: dict[str, Shown] = {}
        self.choice = pn.widgets.Select(label="Output", options=[], width=400)
        self.plot: ResultPlot | None = None
        self.holder = pn.Column(sizing_mode="stretch_width")
        self.choice.param.watch(lambda _event: self._show(), "value")
        self.view = pn.Column(self.choice, self.holder, sizing_mode="stretch_width")

    def _show(self) -> None:
        shown = self._shown.get(self.choice.value)
        result = (
            None
            if shown is None
            else self._store.result(shown.workflow, shown.source, shown.output)
        )
        if shown is None or result is None:
            self.plot = None
            self.holder.objects = []
            return
        kind: Kind = "image" if result.data.ndim == 2 else "histogram"
        extra: dict[str, Any] = (
            {"cmap": "viridis", "colorbar": True} if kind == "image" else {}
        )
        self.plot = ResultPlot(
            self._store, shown, shown.path, self._scale, kind=kind, **extra
        )
        self.holder.objects = [self.plot.view]

    def update(self, now_s: float) -> None:
        self._shown = {
            shown.path: shown
            for workflow, sources in self._workflows
            for source in sources
            for output, result in self._store.outputs(workflow, source).items()
            if result.data.ndim in (1, 2)
            for shown in [Shown(workflow, source, output)]
        }
        names = sorted(self._shown)
        if names != self.choice.options:
            self.choice.options = names
        if self.plot is None and names:
            self._show()
        if self.plot is not None:
            self.plot.update(now_s)


def _launchers(
    backend: Backend, specs: Sequence[WorkflowSpec], feedback: CommandFeedback
) -> list[pn.viewable.Viewable]:
    if not specs:
        name = backend.loaded.name
        return [pn.pane.HTML(f"<p><i>No workflows registered for {name}.</i></p>")]
    return [WorkflowLauncher(backend, spec, feedback).view for spec in specs]


def workflows_section(backend: Backend) -> Section:
    """Workflows to start, their jobs, and a plot of any output."""
    specs = list(backend.loaded.reduction_specs.values())
    feedback = CommandFeedback(backend.store)
    scale = pn.widgets.RadioButtonGroup(
        label="Scale", options=["linear", "log"], value="linear"
    )
    jobs = JobsPanel(backend, feedback)
    instrument = backend.loaded.instrument
    workflows = [
        (workflow_id(backend, spec), list(allowed_sources(instrument, spec)))
        for spec in specs
    ]
    outputs = OutputViewer(backend, workflows, scale)
    body = [
        pn.pane.HTML("<h3>Workflows</h3>"),
        *_launchers(backend, specs, feedback),
        feedback.view,
        pn.pane.HTML("<h3>Jobs</h3>"),
        jobs.view,
        pn.Row(pn.pane.HTML("<h3>Outputs</h3>"), scale),
        outputs.view,
    ]
    return Section(WORKFLOWS_TAB, body, [feedback.update, jobs.update, outputs.update])
