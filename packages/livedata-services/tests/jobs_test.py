"""data_reduction through the job protocol: reduction jobs started by
``workflow_config``, steered by ``job_command``, failing alone."""

import numpy as np
import pytest
import scipp as sc
from job_driving import COMMANDS, act, run, skip, start, started, workflow_id
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
from ess.livedata.processing.job_bindings import reduction_jobs
from ess.livedata.protocol import JobId, JobState, Schedule

S = 1_000_000_000
PANEL = StreamId(StreamKind.DETECTOR_EVENTS, "panel_0")
TUBES = StreamId(StreamKind.DETECTOR_EVENTS, "tubes_1")
MONITOR = StreamId(StreamKind.MONITOR_EVENTS, "monitor1")
MOTOR = StreamId(StreamKind.LOG, "motor_x")


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
def processor(plugin):
    manager = create_plugin_manager()
    manager.register(plugin)
    return reduction_jobs(LoadedInstrument(make_instrument(), manager))


def state(processor, job: JobId) -> dict:
    """The reduction job's entry in the service's status."""
    [entry] = [
        entry
        for key, entry in processor.status_details().model_dump()["jobs"].items()
        if key.endswith(job.job_number)
    ]
    return entry


def heartbeat(processor, job: JobId):
    [beat] = [m for m in processor.job_heartbeats() if m.job_id == job]
    return beat


def start_count(processor, source: str = "panel_0", **params) -> JobId:
    return started(processor, "count", source, params)


def refused(processor, workflow: str, source: str, **params) -> str:
    _, [response] = start(processor, workflow, source, params)
    assert (response.response, response.device) == ("ERR", source)
    return response.message


def test_job_publishes_stamped_outputs_under_its_key_once_it_has_data(processor):
    job = start_count(processor, scale=2.0)
    assert state(processor, job)["state"] == "scheduled"
    assert run(processor, window(0)) == {}
    out = run(
        processor,
        window(1),
        events(PANEL, 5),
        events(TUBES, 7),
        events(MONITOR, 3),
    )
    assert set(out) == {
        ("count", "panel_0", "detector"),
        ("count", "panel_0", "monitor"),
    }
    detector = out["count", "panel_0", "detector"]
    assert detector.value == 10.0
    assert detector.name == "counts"
    assert out["count", "panel_0", "monitor"].value == 3.0
    assert detector.coords["start_time"].value == np.datetime64(S, "ns")
    assert detector.coords["end_time"].value == np.datetime64(2 * S, "ns")
    assert detector.coords["time"].value == np.datetime64(2 * S, "ns")
    later = run(processor, window(2))["count", "panel_0", "detector"]
    assert later.value == 10.0
    assert later.coords["start_time"].value == np.datetime64(S, "ns")
    assert later.coords["end_time"].value == np.datetime64(3 * S, "ns")
    status = state(processor, job)
    assert status["state"] == "running"
    assert status["sources"] == ["panel_0"]
    assert status["params"] == {"scale": 2.0, "label": "counts"}
    assert status["since"] == S
    beat = heartbeat(processor, job)
    assert (beat.state, beat.start_time, beat.end_time) == ("active", S, 3 * S)
    assert beat.workflow_id == str(workflow_id("count"))


def test_no_job_runs_until_one_is_started(processor):
    assert processor.jobs() == []
    assert run(processor, window(0), events(PANEL, 5)) == {}


def test_reset_restarts_cumulative_and_its_start_time(processor):
    job = start_count(processor)
    run(processor, window(0), events(PANEL, 5))
    [ack] = act(processor, "reset", job)
    assert (ack.response, ack.device) == ("ACK", str(job))
    assert run(processor, window(1)) == {}
    out = run(processor, window(2), events(PANEL, 2))["count", "panel_0", "detector"]
    assert out.value == 2.0
    assert out.coords["start_time"].value == np.datetime64(2 * S, "ns")


def test_a_new_config_replaces_the_job_with_its_params(processor):
    old = start_count(processor, scale=2.0, label="mine")
    run(processor, window(0), events(PANEL, 5))
    new = start_count(processor, scale=3.0)
    assert [j.job_id for j in processor.jobs()] == [new]
    assert state(processor, new)["params"] == {"scale": 3.0, "label": "counts"}
    assert state(processor, old)["state"] == "stopped"
    out = run(processor, window(1), events(PANEL, 5))["count", "panel_0", "detector"]
    assert out.value == 15.0
    assert out.name == "counts"
    assert "greater than 0" in refused(processor, "count", "panel_0", scale=0)
    assert state(processor, new)["params"]["scale"] == 3.0
    assert [j.job_id for j in processor.jobs()] == [new]


def test_the_same_job_id_sent_again_restarts_it(processor):
    job = start_count(processor)
    run(processor, window(0), events(PANEL, 5))
    config = b'{"kind": "workflow_config", "identifier": {"instrument": "dummy",'
    config += b' "name": "count", "version": 1}, "job_id": {"source_name": "panel_0",'
    config += f' "job_number": "{job.job_number}"}}}}'.encode()
    [ack] = processor.handle_command(Message(0, COMMANDS, config))
    assert ack.value.response == "ACK"
    assert [j.job_id for j in processor.jobs()] == [job]
    out = run(processor, window(1), events(PANEL, 1))
    assert out["count", "panel_0", "detector"].value == 1


def test_stop_ends_outputs_and_frees_the_source(processor):
    job = start_count(processor)
    run(processor, window(0), events(PANEL, 5))
    [ack] = act(processor, "stop", job)
    assert ack.response == "ACK"
    assert run(processor, window(1), events(PANEL, 5)) == {}
    assert state(processor, job)["state"] == "stopped"
    assert act(processor, "reset", job) == []  # no such job any more: silence
    again = start_count(processor)
    out = run(processor, window(2), events(PANEL, 1))
    assert out["count", "panel_0", "detector"].value == 1
    assert state(processor, again)["state"] == "running"


@pytest.mark.parametrize(
    ("workflow", "source", "params", "reason"),
    [
        ("count", "panel_0", {"scale": -1}, "greater than 0"),
        ("count", "panel_0", {"bins": 3}, "Extra inputs"),
        ("count", "monitor1", {}, "cannot bind"),
        ("explode", "tubes_1", {}, "unknown source 'tubes_1'"),
    ],
)
def test_bad_start_is_refused_with_the_reason(
    processor, workflow, source, params, reason
):
    assert reason in refused(processor, workflow, source, **params)
    assert processor.status_details().model_dump()["jobs"] == {}
    assert processor.jobs() == []


def test_workflows_of_no_service_here_are_not_answered(processor):
    config = b'{"kind": "workflow_config", "identifier": {"instrument": "dummy",'
    config += b' "name": "count", "version": 2}, "job_id": {"source_name": "panel_0",'
    config += b' "job_number": "1"}}'
    assert processor.handle_command(Message(0, COMMANDS, config)) == []
    assert act(processor, "stop", JobId(source_name="panel_0", job_number="x")) == []


def test_failing_job_reports_error_while_others_run(processor):
    good = start_count(processor)
    bad = started(processor, "explode", "panel_0")
    out = run(processor, window(0), events(PANEL, 4))
    assert set(out) == {
        ("count", "panel_0", "detector"),
        ("count", "panel_0", "monitor"),
    }
    assert state(processor, bad)["state"] == "error"
    assert state(processor, bad)["message"] == "RuntimeError: boom"
    beat = heartbeat(processor, bad)
    assert (beat.state, beat.error) == ("error", "RuntimeError: boom")
    assert beat.nicos_status == 240
    out = run(processor, window(1), events(PANEL, 1))
    assert out["count", "panel_0", "detector"].value == 5
    [ack] = act(processor, "reset", workflow="explode")
    assert (ack.response, ack.device) == ("ACK", "all")
    status = state(processor, bad)
    assert (status["state"], status["message"]) == ("scheduled", "")
    beat = heartbeat(processor, bad)
    assert (beat.state, beat.error) == ("active", None)
    assert heartbeat(processor, good).state == "active"


def test_job_with_an_unpublishable_output_fails_alone(processor):
    start_count(processor)
    bad = started(processor, "bad_output", "panel_0")
    assert set(run(processor, window(0), events(PANEL, 1))) == {
        ("count", "panel_0", "detector"),
        ("count", "panel_0", "monitor"),
    }
    assert state(processor, bad)["state"] == "error"
    assert state(processor, bad)["message"].startswith("AttributeError")
    assert heartbeat(processor, bad).state is JobState.ERROR


def test_factories_load_once_and_only_when_a_job_starts(processor, plugin):
    processor.status_details()
    run(processor, window(0), events(PANEL, 1))
    assert plugin.factory_loads == 0
    start_count(processor, "panel_0")
    start_count(processor, "tubes_1")
    assert plugin.factory_loads == 1


def test_factory_that_fails_to_load_refuses_the_start(plugin):
    class Broken:
        @hookimpl
        def livedata_register_workflow_factories(self, instrument, register):
            raise ModuleNotFoundError("No module named 'sciline'")

    manager = create_plugin_manager()
    manager.register(plugin)
    manager.register(Broken())
    processor = reduction_jobs(LoadedInstrument(make_instrument(), manager))
    reason = refused(processor, "count", "panel_0")
    assert "failed to load: ModuleNotFoundError: No module named 'sciline'" in reason


def test_preloaded_factories_load_before_any_job_and_only_once(plugin):
    manager = create_plugin_manager()
    manager.register(plugin)
    processor = reduction_jobs(LoadedInstrument(make_instrument(), manager), True)
    assert plugin.factory_loads == 1
    start_count(processor, "panel_0")
    assert plugin.factory_loads == 1


def test_factories_that_fail_to_preload_still_refuse_each_start(plugin, caplog):
    class Broken:
        @hookimpl
        def livedata_register_workflow_factories(self, instrument, register):
            raise ModuleNotFoundError("No module named 'esssans'")

    manager = create_plugin_manager()
    manager.register(plugin)
    manager.register(Broken())
    loaded = LoadedInstrument(make_instrument(), manager)
    processor = reduction_jobs(loaded, preload=True)
    assert "No module named 'esssans'" in caplog.text
    reason = refused(processor, "count", "panel_0")
    assert "failed to load: ModuleNotFoundError: No module named 'esssans'" in reason


def test_stopped_jobs_make_room_for_new_ones(processor, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_JOBS", 2)
    first = start_count(processor, "panel_0")
    start_count(processor, "tubes_1")
    assert "stop one first" in refused(processor, "follow", "panel_0")
    act(processor, "stop", first)
    started(processor, "follow", "panel_0")
    assert len(processor.status_details().model_dump()["jobs"]) == 2


def test_skipped_window_reaches_no_workflow_and_each_job_counts_its_streams(
    processor,
):
    j1 = start_count(processor, "panel_0")  # and monitor1 as auxiliary
    j2 = start_count(processor, "tubes_1")
    run(processor, window(0), events(PANEL, 5))
    # monitor1 is read by both jobs but its 3 events are skipped once.
    skipped = skip(
        processor, window(1), events(PANEL, 4), events(TUBES, 7), events(MONITOR, 3)
    )
    assert skipped == 4 + 7 + 3
    assert state(processor, j1)["skipped_events"] == 4 + 3
    assert state(processor, j2)["skipped_events"] == 7 + 3
    out = run(processor, window(2), events(PANEL, 1))
    assert out["count", "panel_0", "detector"].value == 5 + 1  # not the skipped 4
    assert out["count", "panel_0", "monitor"].value == 0
    # The count is what the current result lacks: a reset or new job clears it.
    act(processor, "reset", j1)
    assert state(processor, j1)["skipped_events"] == 0
    j3 = start_count(processor, "tubes_1", scale=2.0)
    assert state(processor, j3)["skipped_events"] == 0


def test_skipped_window_still_hands_its_log_values_to_the_workflows(processor):
    started(processor, "follow", "panel_0")
    run(processor, window(0), events(PANEL, 5), log(MOTOR, 1.5))
    assert skip(processor, window(1), events(PANEL, 4), log(MOTOR, 2.5)) == 4
    out = run(processor, window(2), events(PANEL, 1))
    assert out["follow", "panel_0", "events"].value == 5 + 1
    assert out["follow", "panel_0", "motor"].value == 2.5  # the move was not lost


def test_skip_returns_the_events_of_streams_live_jobs_read_each_once(processor):
    assert skip(processor, window(0), events(PANEL, 4)) == 0  # no job: nothing lacks
    start_count(processor, "panel_0")
    started(processor, "follow", "panel_0")
    stopped = start_count(processor, "tubes_1")
    act(processor, "stop", stopped)
    skipped = skip(
        processor, window(1), events(PANEL, 4), events(MONITOR, 3), events(TUBES, 9)
    )
    assert skipped == 4 + 3  # tubes_1 is read only by the stopped job
    assert state(processor, stopped)["skipped_events"] == 0


def test_reset_of_a_job_scheduled_for_later_is_harmless(processor):
    job, [ack] = start(
        processor, "count", "panel_0", schedule=Schedule(start_time=10 * S)
    )
    assert ack.response == "ACK"
    [ack] = act(processor, "reset", workflow="count")
    assert ack.response == "ACK"
    assert heartbeat(processor, job).state == "scheduled"
    assert run(processor, window(0), events(PANEL, 5)) == {}
    out = run(processor, window(10), events(PANEL, 2))
    assert out["count", "panel_0", "detector"].value == 2


def test_a_job_too_slow_for_the_window_skips_visibly_in_its_status(processor):
    job = started(processor, "slow", "panel_0")
    published = [
        run(processor, window(i), events(PANEL, n)).get(("slow", "panel_0", "events"))
        for i, n in enumerate([5, 7, 11, 13])
    ]
    assert [p is not None for p in published] == [True, False, False, True]
    assert published[3].value == 18
    status = state(processor, job)
    assert status["state"] == "running"
    assert status["skipped_events"] == 18
    assert "cannot keep up" in status["message"]
    # The job's heartbeat says so too, as NICOS reads it (WARNING, 210).
    beat = heartbeat(processor, job)
    assert beat.state == "warning"
    assert "cannot keep up" in beat.warning
