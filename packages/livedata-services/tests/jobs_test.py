import json

import numpy as np
import pytest
import scipp as sc
from pydantic import BaseModel, ConfigDict, Field

from ess.livedata.core.hookspecs import hookimpl
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch, LogSample
from ess.livedata.core.plugins import LoadedInstrument, create_plugin_manager
from ess.livedata.core.window import TimeWindow
from ess.livedata.core.window_budget import WindowBudget
from ess.livedata.core.workflow import WorkflowSpec
from ess.livedata.instruments.dummy.plugin import make_instrument
from ess.livedata.processing import jobs
from ess.livedata.processing.jobs import JobProcessor

S = 1_000_000_000
PANEL = StreamId(StreamKind.DETECTOR_EVENTS, "panel_0")
TUBES = StreamId(StreamKind.DETECTOR_EVENTS, "tubes_1")
MONITOR = StreamId(StreamKind.MONITOR_EVENTS, "monitor1")
MOTOR = StreamId(StreamKind.LOG, "motor_x")
CMD = StreamId(StreamKind.LIVEDATA_COMMANDS, "")


class CountParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scale: float = Field(default=1.0, gt=0)
    label: str = "counts"


COUNT = WorkflowSpec(
    name="count",
    version=1,
    title="Count events",
    description="Detector events times scale, and the monitor's events.",
    params=CountParams,
    outputs={"detector": "events x scale", "monitor": "monitor events"},
    source_kinds=(StreamKind.DETECTOR_EVENTS,),
    auxiliary=(MONITOR,),
)


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


FOLLOW = WorkflowSpec(
    name="follow",
    version=1,
    title="Follow the motor",
    description="Detector events, and the motor position they were taken at.",
    params=NoParams,
    outputs={"events": "detector events", "motor": "last motor_x value"},
    source_kinds=(StreamKind.DETECTOR_EVENTS,),
    auxiliary=(MOTOR,),
)


EXPLODE = WorkflowSpec(
    name="explode",
    version=1,
    title="Explode",
    description="Raises on data.",
    params=NoParams,
    outputs={"nothing": "never published"},
    source_kinds=(StreamKind.DETECTOR_EVENTS,),
    sources=("panel_0",),
)

BAD_OUTPUT = WorkflowSpec(
    name="bad_output",
    version=1,
    title="Bad output",
    description="Returns a Variable where a DataArray belongs.",
    params=NoParams,
    outputs={"x": "not a DataArray"},
    source_kinds=(StreamKind.DETECTOR_EVENTS,),
)


class CountEvents:
    def __init__(self, params: CountParams, sources) -> None:
        self.params = params
        self.sources = sources
        self.clear()

    def accumulate(self, data) -> None:
        for stream, batches in data.items():
            n = sum(batch.size for batch in batches)
            if stream == MONITOR:
                self.monitor += n
            else:
                self.detector += n

    def finalize(self):
        detector = sc.scalar(self.detector * self.params.scale, unit="counts")
        return {
            "detector": sc.DataArray(detector, name=self.params.label),
            "monitor": sc.DataArray(sc.scalar(float(self.monitor), unit="counts")),
        }

    def clear(self) -> None:
        self.detector = 0
        self.monitor = 0


class FollowMotor:
    def __init__(self) -> None:
        self.clear()

    def accumulate(self, data) -> None:
        for stream, values in data.items():
            if stream == MOTOR:
                self.motor = values[-1].value
            else:
                self.events += sum(batch.size for batch in values)

    def finalize(self):
        return {
            "events": sc.DataArray(sc.scalar(self.events, unit="counts")),
            "motor": sc.DataArray(sc.scalar(self.motor, unit="mm")),
        }

    def clear(self) -> None:
        self.events = 0
        self.motor = float("nan")


class Explode:
    def accumulate(self, data) -> None:
        raise RuntimeError("boom")

    def finalize(self):
        raise AssertionError("never reached")

    def clear(self) -> None:
        pass


class ReturnsVariable(Explode):
    def accumulate(self, data) -> None:
        pass

    def finalize(self):
        return {"x": sc.scalar(1.0)}


SLOW = WorkflowSpec(
    name="slow",
    version=1,
    title="Slow",
    description="Counts events, taking 2.5 s of a 1 s window each time.",
    params=NoParams,
    outputs={"events": "detector events"},
    source_kinds=(StreamKind.DETECTOR_EVENTS,),
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SlowCount(FollowMotor):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def accumulate(self, data) -> None:
        self.clock.now += 2.5
        super().accumulate(data)


def slow_count(params, sources) -> WindowBudget:
    clock = FakeClock()
    return WindowBudget(SlowCount(clock), budget_s=1.0, clock=clock)


class Plugin:
    def __init__(self) -> None:
        self.factory_loads = 0

    @hookimpl
    def livedata_register_workflow_specs(self, instrument, register):
        register(COUNT)
        register(FOLLOW)
        register(EXPLODE)
        register(BAD_OUTPUT)
        register(SLOW)

    @hookimpl
    def livedata_register_workflow_factories(self, instrument, register):
        self.factory_loads += 1
        register("count", 1, CountEvents)
        register("follow", 1, lambda params, sources: FollowMotor())
        register("explode", 1, lambda params, sources: Explode())
        register("bad_output", 1, lambda params, sources: ReturnsVariable())
        register("slow", 1, slow_count)


def events(stream: StreamId, n: int) -> Message:
    batch = EventBatch(
        reference_time=np.array([0], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=np.zeros(n, dtype=np.int32),
        pixel_id=np.ones(n, dtype=np.int32),
    )
    return Message(0, stream, batch)


def log(stream: StreamId, value: float) -> Message:
    return Message(0, stream, LogSample(0, value))


def window(index: int) -> TimeWindow:
    return TimeWindow(index * S, (index + 1) * S)


@pytest.fixture
def plugin() -> Plugin:
    return Plugin()


@pytest.fixture
def processor(plugin) -> JobProcessor:
    manager = create_plugin_manager()
    manager.register(plugin)
    return JobProcessor(LoadedInstrument(make_instrument(), manager))


def send(processor: JobProcessor, action: str, **body):
    payload = {"command_id": "c", "service": "data_reduction"}
    payload["body"] = {"action": action, **body}
    [response] = processor.handle_command(Message(0, CMD, json.dumps(payload).encode()))
    return response.value


def accepted(processor: JobProcessor, action: str, **body) -> None:
    response = send(processor, action, **body)
    assert response.status == "accepted", response.reason


def rejected(processor: JobProcessor, action: str, **body) -> str:
    response = send(processor, action, **body)
    assert response.status == "rejected"
    return response.reason


def run(processor: JobProcessor, index: int, *messages: Message) -> dict:
    grouped: dict[StreamId, list[Message]] = {}
    for message in messages:
        grouped.setdefault(message.stream, []).append(message)
    outputs = processor.process_window(window(index), grouped)
    return {m.stream.name: m.value for m in outputs}


def state(processor: JobProcessor, job: str) -> dict:
    return processor.status_details().model_dump()["jobs"][job]


def start_count(processor: JobProcessor, job: str = "j1", **params) -> None:
    accepted(
        processor,
        "start_job",
        target=job,
        workflow="count/v1",
        sources=["panel_0"],
        params=params,
    )


def test_job_publishes_stamped_outputs_once_it_has_data(processor):
    start_count(processor, scale=2.0)
    assert state(processor, "j1")["state"] == "scheduled"
    assert run(processor, 0) == {}
    out = run(processor, 1, events(PANEL, 5), events(TUBES, 7), events(MONITOR, 3))
    assert set(out) == {"data_reduction/j1/detector", "data_reduction/j1/monitor"}
    detector = out["data_reduction/j1/detector"]
    assert detector.value == 10.0
    assert detector.name == "counts"
    assert out["data_reduction/j1/monitor"].value == 3.0
    assert detector.coords["start_time"].value == np.datetime64(S, "ns")
    assert detector.coords["end_time"].value == np.datetime64(2 * S, "ns")
    later = run(processor, 2)["data_reduction/j1/detector"]
    assert later.value == 10.0
    assert later.coords["start_time"].value == np.datetime64(S, "ns")
    assert later.coords["end_time"].value == np.datetime64(3 * S, "ns")
    status = state(processor, "j1")
    assert status["state"] == "running"
    assert status["sources"] == ["panel_0"]
    assert status["params"] == {"scale": 2.0, "label": "counts"}
    assert status["since"] == S


def test_reset_restarts_cumulative_and_its_start_time(processor):
    start_count(processor)
    run(processor, 0, events(PANEL, 5))
    accepted(processor, "reset", target="j1")
    assert run(processor, 1) == {}
    out = run(processor, 2, events(PANEL, 2))["data_reduction/j1/detector"]
    assert out.value == 2.0
    assert out.coords["start_time"].value == np.datetime64(2 * S, "ns")


def test_update_params_rebuilds_with_merged_params(processor):
    start_count(processor, scale=2.0, label="mine")
    run(processor, 0, events(PANEL, 5))
    accepted(processor, "update_job_params", target="j1", params={"scale": 3.0})
    status = state(processor, "j1")
    assert status["state"] == "scheduled"
    assert status["params"] == {"scale": 3.0, "label": "mine"}
    out = run(processor, 1, events(PANEL, 5))["data_reduction/j1/detector"]
    assert out.value == 15.0
    assert out.name == "mine"
    reason = rejected(processor, "update_job_params", target="j1", params={"scale": 0})
    assert "scale" in reason
    assert "greater than 0" in reason
    assert state(processor, "j1")["params"]["scale"] == 3.0


def test_stop_ends_outputs_and_frees_the_id(processor):
    start_count(processor)
    run(processor, 0, events(PANEL, 5))
    accepted(processor, "stop_job", target="j1")
    assert run(processor, 1, events(PANEL, 5)) == {}
    assert state(processor, "j1")["state"] == "stopped"
    assert "stopped" in rejected(processor, "reset", target="j1")
    start_count(processor)
    assert run(processor, 2, events(PANEL, 1))["data_reduction/j1/detector"].value == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"workflow": "count/v1", "params": {"scale": -1}}, "greater than 0"),
        ({"workflow": "count/v1", "params": {"bins": 3}}, "bins: Extra inputs"),
        ({"workflow": "count/v2"}, "unknown workflow 'count/v2'"),
        ({"workflow": "count/v1", "sources": ["monitor1"]}, "cannot bind"),
        (
            {"workflow": "explode/v1", "sources": ["tubes_1"]},
            "allowed sources: panel_0",
        ),
        ({"workflow": "count/v1", "sources": []}, "sources"),
        ({"workflow": "count/v1", "target": "a/b"}, "target"),
    ],
)
def test_bad_start_is_rejected_with_the_reason(processor, body, reason):
    command = {"target": "j1", "sources": ["panel_0"], **body}
    assert reason in rejected(processor, "start_job", **command)
    assert processor.status_details().model_dump()["jobs"] == {}


def test_a_running_job_id_cannot_be_started_twice(processor):
    start_count(processor)
    assert "already scheduled" in rejected(
        processor, "start_job", target="j1", workflow="count/v1", sources=["tubes_1"]
    )


def test_unknown_job_is_rejected(processor):
    assert "unknown job 'nope'" in rejected(processor, "stop_job", target="nope")


def test_failing_job_reports_error_while_others_run(processor):
    start_count(processor)
    accepted(
        processor, "start_job", target="bad", workflow="explode/v1", sources=["panel_0"]
    )
    out = run(processor, 0, events(PANEL, 4))
    assert set(out) == {"data_reduction/j1/detector", "data_reduction/j1/monitor"}
    assert state(processor, "bad")["state"] == "error"
    assert state(processor, "bad")["message"] == "RuntimeError: boom"
    assert run(processor, 1, events(PANEL, 1))["data_reduction/j1/detector"].value == 5
    accepted(processor, "reset")
    status = state(processor, "bad")
    assert (status["state"], status["message"]) == ("scheduled", "")


def test_job_with_an_unpublishable_output_fails_alone(processor):
    start_count(processor)
    accepted(
        processor,
        "start_job",
        target="bad",
        workflow="bad_output/v1",
        sources=["panel_0"],
    )
    assert set(run(processor, 0, events(PANEL, 1))) == {
        "data_reduction/j1/detector",
        "data_reduction/j1/monitor",
    }
    assert state(processor, "bad")["state"] == "error"
    assert state(processor, "bad")["message"].startswith("AttributeError")


def test_factories_load_once_and_only_when_a_job_starts(processor, plugin):
    processor.status_details()
    run(processor, 0, events(PANEL, 1))
    assert plugin.factory_loads == 0
    start_count(processor, "a")
    start_count(processor, "b")
    assert plugin.factory_loads == 1


def test_factory_that_fails_to_load_rejects_the_start(plugin):
    class Broken:
        @hookimpl
        def livedata_register_workflow_factories(self, instrument, register):
            raise ModuleNotFoundError("No module named 'sciline'")

    manager = create_plugin_manager()
    manager.register(plugin)
    manager.register(Broken())
    processor = JobProcessor(LoadedInstrument(make_instrument(), manager))
    reason = rejected(
        processor, "start_job", target="j", workflow="count/v1", sources=["panel_0"]
    )
    assert "failed to load: ModuleNotFoundError: No module named 'sciline'" in reason


def test_stopped_jobs_make_room_for_new_ones(processor, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_JOBS", 2)
    start_count(processor, "a")
    start_count(processor, "b")
    assert "stop one first" in rejected(
        processor, "start_job", target="c", workflow="count/v1", sources=["panel_0"]
    )
    accepted(processor, "stop_job", target="a")
    start_count(processor, "c")
    assert list(processor.status_details().model_dump()["jobs"]) == ["b", "c"]


def skip(processor: JobProcessor, index: int, *messages: Message) -> int:
    grouped: dict[StreamId, list[Message]] = {}
    for message in messages:
        grouped.setdefault(message.stream, []).append(message)
    return processor.skip_window(window(index), grouped)


def test_skipped_window_reaches_no_workflow_and_each_job_counts_its_streams(
    processor,
):
    start_count(processor, "j1")  # panel_0, and monitor1 as auxiliary
    accepted(
        processor, "start_job", target="j2", workflow="count/v1", sources=["tubes_1"]
    )
    run(processor, 0, events(PANEL, 5))
    # monitor1 is read by both jobs but its 3 events are skipped once.
    skipped = skip(processor, 1, events(PANEL, 4), events(TUBES, 7), events(MONITOR, 3))
    assert skipped == 4 + 7 + 3
    assert state(processor, "j1")["skipped_events"] == 4 + 3
    assert state(processor, "j2")["skipped_events"] == 7 + 3
    out = run(processor, 2, events(PANEL, 1))
    assert out["data_reduction/j1/detector"].value == 5 + 1  # not the skipped 4
    assert out["data_reduction/j1/monitor"].value == 0
    # The count is what the current result lacks: a reset or rebuild clears it.
    accepted(processor, "reset", target="j1")
    assert state(processor, "j1")["skipped_events"] == 0
    accepted(processor, "update_job_params", target="j2", params={"scale": 2.0})
    assert state(processor, "j2")["skipped_events"] == 0


def test_skipped_window_still_hands_its_log_values_to_the_workflows(processor):
    accepted(
        processor, "start_job", target="j1", workflow="follow/v1", sources=["panel_0"]
    )
    run(processor, 0, events(PANEL, 5), log(MOTOR, 1.5))
    assert skip(processor, 1, events(PANEL, 4), log(MOTOR, 2.5)) == 4
    out = run(processor, 2, events(PANEL, 1))
    assert out["data_reduction/j1/events"].value == 5 + 1
    assert out["data_reduction/j1/motor"].value == 2.5  # the move was not lost


def test_skip_returns_the_events_of_streams_live_jobs_read_each_once(processor):
    assert skip(processor, 0, events(PANEL, 4)) == 0  # no job: nothing is lacking
    start_count(processor, "j1")
    start_count(processor, "j2")
    accepted(
        processor, "start_job", target="j3", workflow="count/v1", sources=["tubes_1"]
    )
    accepted(processor, "stop_job", target="j3")
    skipped = skip(processor, 1, events(PANEL, 4), events(MONITOR, 3), events(TUBES, 9))
    assert skipped == 4 + 3  # tubes_1 is read only by the stopped job
    assert state(processor, "j3")["skipped_events"] == 0


def test_a_job_too_slow_for_the_window_skips_visibly_in_its_status(processor):
    accepted(
        processor, "start_job", target="s", workflow="slow/v1", sources=["panel_0"]
    )
    published = [
        run(processor, i, events(PANEL, n)).get("data_reduction/s/events")
        for i, n in enumerate([5, 7, 11, 13])
    ]
    assert [p is not None for p in published] == [True, False, False, True]
    assert published[3].value == 18
    status = state(processor, "s")
    assert status["state"] == "running"
    assert status["skipped_events"] == 18
    assert "cannot keep up" in status["message"]
