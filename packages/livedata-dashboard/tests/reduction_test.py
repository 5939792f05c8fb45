"""Workflow forms from pydantic models, and the job commands they send."""

import enum
from typing import Literal

import panel as pn
import pytest
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ess.livedata.core.message import StreamKind
from ess.livedata.core.workflow import WorkflowSpec
from ess.livedata.dashboard import reduction, workflows
from ess.livedata.dashboard.forms import ModelForm
from ess.livedata.protocol import JobAction, JobState, WorkflowId, parse_command
from ess.livedata.testing.messages import job_beat, job_id


class Mode(enum.Enum):
    FAST = "fast"
    EXACT = "exact"


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    low: float = Field(default=1.0, ge=0, title="Low (Å)", description="From.")
    high: float = Field(default=5.0, title="High (Å)")
    bins: int = Field(default=10, ge=1, le=1000)
    normalise: bool = True
    mode: Mode = Mode.FAST
    shape: Literal["a", "b"] = "a"
    label: str = "x"
    weights: list[float] = Field(default_factory=lambda: [1.0, 2.0])

    @model_validator(mode="after")
    def _ordered(self) -> "Params":
        if self.high <= self.low:
            raise ValueError("high must be greater than low")
        return self


SPEC = WorkflowSpec(
    name="spectrum",
    version=2,
    title="Spectrum",
    description="A test workflow.",
    params=Params,
    outputs={"spectrum": "counts"},
    source_kinds=(StreamKind.DETECTOR_EVENTS, StreamKind.MONITOR_EVENTS),
)


def test_form_has_a_widget_per_field_with_title_and_default():
    form = ModelForm(Params)
    widgets = form.widgets
    assert isinstance(widgets["low"], pn.widgets.FloatInput)
    assert widgets["low"].label == "Low (Å)"
    assert widgets["low"].description == "From."
    assert isinstance(widgets["bins"], pn.widgets.IntInput)
    assert isinstance(widgets["normalise"], pn.widgets.Checkbox)
    assert widgets["mode"].options == ["fast", "exact"]
    assert widgets["shape"].options == ["a", "b"]
    assert widgets["weights"].value == "[1.0, 2.0]"
    assert form.validate() == Params()
    assert form.errors.object == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("bins", 0, "bins"),
        ("high", 0.5, "high must be greater than low"),
        ("weights", "[1, oops", "not JSON"),
    ],
)
def test_invalid_input_is_explained_as_it_is_typed(field, value, message):
    form = ModelForm(Params)
    form.widgets[field].value = value  # the watcher validates at once
    assert message in form.errors.object
    assert form.validate() is None


def test_sources_follow_the_spec(backend):
    instrument = backend.loaded.instrument
    assert list(workflows.allowed_sources(instrument, SPEC)) == [
        "panel_0",
        "tubes_1",
        "monitor1",
        "monitor2",
    ]


def test_start_sends_validated_parameters(backend, producer):
    feedback = workflows.CommandFeedback(backend.store)
    launcher = workflows.WorkflowLauncher(backend, SPEC, feedback)
    launcher.form.widgets["bins"].value = 0
    launcher.start.clicks += 1
    assert producer.produced == []
    assert "fix the parameters" in feedback.view.object
    launcher.form.widgets["bins"].value = 20
    launcher.sources.value = ["monitor1", "panel_0"]
    launcher.start.clicks += 1
    configs = [parse_command(v) for v in producer.on("dummy_livedata_commands")]
    assert {c.identifier for c in configs} == {
        WorkflowId(instrument="dummy", name="spectrum", version=2)
    }
    assert [c.job_id.source_name for c in configs] == ["monitor1", "panel_0"]
    assert configs[0].params["bins"] == 20
    assert configs[0].params["mode"] == "fast"
    assert "start spectrum: sent, 0/2 acknowledged" in feedback.view.object
    # A later session (or the dashboard after a restart) offers what was sent.
    again = workflows.WorkflowLauncher(backend, SPEC, feedback)
    assert again.form.widgets["bins"].value == 20
    assert again.form.widgets["weights"].value == "[1.0, 2.0]"
    assert again.sources.value == ["monitor1", "panel_0"]


def test_jobs_from_heartbeats_can_be_stopped_and_reset(backend, store, producer):
    feedback = workflows.CommandFeedback(backend.store)
    jobs = workflows.JobsPanel(backend, feedback)
    spectrum = WorkflowId(instrument="dummy", name="spectrum", version=2)
    store.put_job(job_beat(job_id("panel_0"), workflow=spectrum), store.now())
    gone = job_beat(job_id("monitor1", "gone"), JobState.STOPPED, spectrum)
    store.put_job(gone, store.now())
    jobs.update(store.now())
    assert 'data-state="active" data-current="true"' in jobs.table.object
    assert 'data-state="stopped"' in jobs.table.object
    assert list(jobs.job.options.values()) == [job_id("panel_0")]
    jobs.job.value = job_id("panel_0")
    jobs.reset.clicks += 1
    jobs.stop.clicks += 1
    reset, stop = [parse_command(v) for v in producer.on("dummy_livedata_commands")]
    assert (reset.action, reset.job_id) == (JobAction.RESET, job_id("panel_0"))
    assert (stop.action, stop.job_id) == (JobAction.STOP, job_id("panel_0"))
    assert store.jobs.current(spectrum, "panel_0") is None


def test_page_without_workflows_says_so(backend, monkeypatch):
    monkeypatch.setattr(
        type(backend.loaded), "workflow_specs", property(lambda self: {})
    )
    page = reduction.build_page(backend)
    texts = [str(p.object) for p in page.view.select(pn.pane.HTML)]
    assert any("No workflows registered for dummy" in t for t in texts)
