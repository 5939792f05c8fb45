"""Workflow forms from pydantic models, and the job commands they send."""

import enum
import json
from typing import Literal

import panel as pn
import pytest
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ess.livedata.core.job_commands import JOB_COMMANDS
from ess.livedata.core.message import StreamKind
from ess.livedata.core.workflow import WorkflowSpec
from ess.livedata.dashboard import reduction
from ess.livedata.dashboard.forms import ModelForm


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
    assert reduction.allowed_sources(SPEC, instrument) == [
        "panel_0",
        "tubes_1",
        "monitor1",
        "monitor2",
    ]


def test_start_sends_validated_parameters(backend, producer):
    feedback = reduction.CommandFeedback(backend.store)
    launcher = reduction.WorkflowLauncher(backend, SPEC, feedback)
    launcher.form.widgets["bins"].value = 0
    launcher.start.clicks += 1
    assert producer.produced == []
    assert "fix the parameters" in feedback.view.object
    launcher.form.widgets["bins"].value = 20
    launcher.sources.value = ["monitor1"]
    launcher.start.clicks += 1
    command = json.loads(producer.produced[0][1])
    assert command["service"] == "data_reduction"
    body = command["body"]
    assert body["action"] == "start_job"
    assert body["workflow"] == "spectrum/v2"
    assert body["sources"] == ["monitor1"]
    assert body["params"]["bins"] == 20
    assert body["params"]["mode"] == "fast"
    assert JOB_COMMANDS.validate_python(body).target.startswith("spectrum-")


def test_jobs_from_heartbeat_and_stop(backend, store, producer):
    from ess.livedata.core.status import ServiceState, ServiceStatus

    feedback = reduction.CommandFeedback(backend.store)
    jobs = reduction.JobsPanel(backend, feedback)
    status = ServiceStatus(
        service="data_reduction",
        instrument="dummy",
        state=ServiceState.RUNNING,
        details={
            "jobs": {
                "j1": {
                    "workflow": "spectrum/v2",
                    "state": "running",
                    "skipped_events": 12345,
                }
            }
        },
    )
    store.put_status(status, sent_s=store.now())
    jobs.update(store.now())
    assert "running" in jobs.table.object
    assert "<th>events skipped</th>" in jobs.table.object
    assert "<td>12,345</td>" in jobs.table.object
    assert jobs.job.options == ["j1"]
    jobs.job.value = "j1"
    jobs.stop.clicks += 1
    body = json.loads(producer.produced[0][1])["body"]
    assert body == {"action": "stop_job", "target": "j1"}
    jobs.reset.clicks += 1
    body = json.loads(producer.produced[1][1])["body"]
    assert body == {"action": "reset", "target": "j1"}


def test_page_without_workflows_says_so(backend, monkeypatch):
    monkeypatch.setattr(
        type(backend.loaded), "workflow_specs", property(lambda self: {})
    )
    page = reduction.build_page(backend)
    texts = [str(p.object) for p in page.view.select(pn.pane.HTML)]
    assert any("No workflows registered for dummy" in t for t in texts)
