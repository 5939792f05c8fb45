"""Reduction dashboard: start, stop and reset jobs of the instrument's workflows.

Run ``python -m ess.livedata.dashboard.reduction --instrument dummy`` (port
5009), or under gunicorn via :mod:`~ess.livedata.dashboard.reduction_wsgi`.

Everything is generic: workflows come from the plugin's specs (forms from
their parameter models), jobs from the ``jobs`` of the ``data_reduction``
heartbeat, plots from whatever that service publishes. Commands are the
service's own models from :mod:`ess.livedata.core.job_commands`.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Sequence
from typing import Any

import panel as pn

from ess.livedata.core.commands import Reset
from ess.livedata.core.instrument import Instrument
from ess.livedata.core.job_commands import StartJob, StopJob
from ess.livedata.core.message import StreamKind
from ess.livedata.core.workflow import WorkflowSpec

from .backend import Backend
from .cli import main
from .feedback import CommandFeedback
from .forms import ModelForm
from .page import Page, framed
from .result_plot import ResultPlot
from .server import Dashboard

SERVICE = "data_reduction"


def allowed_sources(spec: WorkflowSpec, instrument: Instrument) -> list[str]:
    """Streams a job of ``spec`` may bind to: its list, else all of its kinds."""
    if spec.sources:
        return list(spec.sources)
    by_kind = {
        StreamKind.DETECTOR_EVENTS: [d.name for d in instrument.detectors],
        StreamKind.MONITOR_EVENTS: [m.name for m in instrument.monitors],
        StreamKind.LOG: [log.name for log in instrument.logs],
    }
    return [name for kind in spec.source_kinds for name in by_kind.get(kind, [])]


class WorkflowLauncher:
    """A card per workflow: its description, parameter form, sources, start."""

    def __init__(
        self, backend: Backend, spec: WorkflowSpec, feedback: CommandFeedback
    ) -> None:
        self._backend = backend
        self._spec = spec
        self._feedback = feedback
        self.form = ModelForm(spec.params)
        sources = allowed_sources(spec, backend.loaded.instrument)
        self.sources = pn.widgets.MultiChoice(
            label="Sources", options=sources, value=sources[:1]
        )
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
        command = StartJob(
            target=f"{self._spec.name}-{uuid.uuid4().hex[:8]}",
            workflow=self._spec.key,
            sources=tuple(self.sources.value),
            params=params.model_dump(mode="json"),
        )
        body = command.model_dump(mode="json")
        self._feedback.follow(self._backend.sender.send(SERVICE, body))


def _jobs_html(jobs: dict[str, dict[str, Any]]) -> str:
    if not jobs:
        return "<p><i>No jobs reported by data_reduction.</i></p>"
    rows = "".join(
        f"<tr><td>{html.escape(job_id)}</td>"
        f"<td>{html.escape(str(job.get('workflow', '')))}</td>"
        f"<td>{html.escape(str(job.get('state', '')))}</td>"
        f"<td>{html.escape(', '.join(map(str, job.get('sources', []))))}</td>"
        f"<td>{int(job.get('skipped_events', 0)):,}</td>"
        f"<td>{html.escape(str(job.get('message', '')))}</td></tr>"
        for job_id, job in sorted(jobs.items())
    )
    return (
        '<table class="ld-jobs"><tr><th>job</th><th>workflow</th><th>state</th>'
        f"<th>sources</th><th>events skipped</th><th>message</th></tr>{rows}</table>"
    )


class JobsPanel:
    """Job states from the heartbeat, and stop/reset for the chosen job."""

    def __init__(self, backend: Backend, feedback: CommandFeedback) -> None:
        self._backend = backend
        self._feedback = feedback
        self.table = pn.pane.HTML(_jobs_html({}), sizing_mode="stretch_width")
        self.job = pn.widgets.Select(label="Job", options=[], width=200)
        self.stop = pn.widgets.Button(label="Stop job", color="warning")
        self.reset = pn.widgets.Button(label="Reset job", color="warning")
        self.stop.on_click(lambda _event: self._send(StopJob))
        self.reset.on_click(lambda _event: self._send(Reset))
        self.view = pn.Column(
            self.table,
            pn.Row(
                self.job,
                pn.Column(pn.Spacer(height=18), self.stop),
                pn.Column(pn.Spacer(height=18), self.reset),
            ),
            sizing_mode="stretch_width",
        )

    def _send(self, command: type[StopJob] | type[Reset]) -> None:
        if not self.job.value:
            self._feedback.invalid("choose a job first")
            return
        body = command(target=self.job.value).model_dump(mode="json")
        self._feedback.follow(self._backend.sender.send(SERVICE, body))

    def update(self, _now_s: float) -> None:
        status = self._backend.store.latest_status(SERVICE)
        jobs = dict(status.details.get("jobs", {})) if status else {}
        self.table.object = _jobs_html(jobs)
        if sorted(jobs) != self.job.options:
            self.job.options = sorted(jobs)


class OutputViewer:
    """Plots the chosen output of the reduction service (1-D or 2-D)."""

    def __init__(self, backend: Backend, scale: pn.widgets.Widget) -> None:
        self._store = backend.store
        self._scale = scale
        self.choice = pn.widgets.Select(label="Output", options=[], width=400)
        self.plot: ResultPlot | None = None
        self.holder = pn.Column(sizing_mode="stretch_width")
        self.choice.param.watch(lambda _event: self._show(), "value")
        self.view = pn.Column(self.choice, self.holder, sizing_mode="stretch_width")

    def _show(self) -> None:
        result = self._store.result(self.choice.value) if self.choice.value else None
        if result is None:
            self.plot = None
            self.holder.objects = []
            return
        kind = "image" if result.data.ndim == 2 else "histogram"
        extra = {"cmap": "viridis", "colorbar": True} if kind == "image" else {}
        self.plot = ResultPlot(
            self._store, result.name, result.name, self._scale, kind=kind, **extra
        )
        self.holder.objects = [self.plot.view]

    def update(self, now_s: float) -> None:
        names = sorted(
            name
            for name, result in self._store.results(f"{SERVICE}/").items()
            if result.data.ndim in (1, 2)
        )
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


def build_page(backend: Backend) -> Page:
    """One session's reduction page: workflows, jobs, output plot."""
    specs = list(backend.loaded.reduction_specs.values())
    feedback = CommandFeedback(backend.store)
    scale = pn.widgets.RadioButtonGroup(
        label="Scale", options=["linear", "log"], value="linear"
    )
    jobs = JobsPanel(backend, feedback)
    outputs = OutputViewer(backend, scale)
    body = [
        pn.pane.HTML("<h3>Workflows</h3>"),
        *_launchers(backend, specs, feedback),
        feedback.view,
        pn.pane.HTML("<h3>Jobs</h3>"),
        jobs.view,
        pn.Row(pn.pane.HTML("<h3>Outputs</h3>"), scale),
        outputs.view,
    ]
    updaters = [feedback.update, jobs.update, outputs.update]
    return framed(backend, "Reduction", [SERVICE], body, updaters)


DASHBOARD = Dashboard("reduction", "Reduction", build_page)

if __name__ == "__main__":
    main(DASHBOARD)
