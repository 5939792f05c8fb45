"""The facility's recorded commands and ROI requests, replayed to the four
services' job processors: the recorded kind of answer from the recorded
service, results under the command's ResultKey, schedules and job heartbeats.

The corpus was recorded from the facility's services on the dummy instrument
(``livedata-protocol/tests/corpus``); which service answered what follows
PROTOCOL.md section 5 and the recorded responses.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipp as sc
from job_driving import (
    COMMANDS,
    CORPUS,
    ROI,
    result_keys,
    results,
)

from ess.livedata.core.log_values import HistoryCaps
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch, LogSample
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.window import TimeWindow
from ess.livedata.kafka.decoders import decode_roi
from ess.livedata.processing.job_bindings import (
    detector_jobs,
    monitor_jobs,
    reduction_jobs,
    timeseries_jobs,
)
from ess.livedata.processing.job_protocol import JobProtocolProcessor
from ess.livedata.protocol import (
    HeartbeatStatus,
    JobAction,
    JobCommand,
    JobId,
    JobState,
    ResultKey,
    RoiGeometry,
    ServiceName,
    WorkflowConfig,
    WorkflowId,
    encode_command,
    parse_command,
)

S = 1_000_000_000
T0 = 1_796_408_024 * S
"""Second the recording's first start command was sent in (data time)."""

OWNER = {
    "monitor_histogram": ServiceName.MONITOR_DATA,
    "panel_0_xy": ServiceName.DETECTOR_DATA,
    "panel_0_layers": ServiceName.DETECTOR_DATA,
    "area_panel_xy": ServiceName.DETECTOR_DATA,
    "timeseries_data": ServiceName.TIMESERIES,
    "total_counts": ServiceName.DATA_REDUCTION,
}
"""The service that runs each of the facility dummy's workflows (dummy.yaml),
as upstream's registry fixes it."""

_TOA_EDGES = {"start": 0.0, "stop": 71.43, "num_bins": 100, "scale": "linear"}
_DETECTOR_VIEW = {
    "coordinate_mode": {"mode": "toa"},
    "pixel_weighting": {"enabled": False, "method": "pixel_number"},
    "toa_range": {"start": 0.0, "stop": 10.0, "enabled": False, "unit": "μs"},
    "toa_edges": {**_TOA_EDGES, "unit": "ms"},
    "wavelength_range": {"start": 0.0, "stop": 10.0, "enabled": False, "unit": "Å"},
    "wavelength_edges": {
        "start": 1.0,
        "stop": 10.0,
        "num_bins": 100,
        "scale": "linear",
        "unit": "Å",
    },
}
FACILITY_STARTS = {
    "monitor_histogram": (
        ("monitor1", "monitor2"),
        {
            "coordinate_mode": {"mode": "toa"},
            "toa_edges": {**_TOA_EDGES, "unit": "ms"},
            "toa_range": {"start": 0.0, "stop": 10.0, "enabled": False, "unit": "μs"},
        },
    ),
    "panel_0_xy": (("panel_0",), _DETECTOR_VIEW),
    "panel_0_layers": (("panel_0",), _DETECTOR_VIEW),
    "area_panel_xy": (("area_panel",), {}),
    "timeseries_data": (("motion1", "motion2"), {}),
    "total_counts": (("panel_0",), {}),
}
"""Sources and default params of each of the facility dummy's workflows
(dummy.yaml), as its dashboard starts them; the corpus records only some."""

FACTORIES: dict[ServiceName, Callable[[Any], JobProtocolProcessor]] = {
    ServiceName.MONITOR_DATA: monitor_jobs,
    ServiceName.DETECTOR_DATA: detector_jobs,
    ServiceName.TIMESERIES: lambda loaded: timeseries_jobs(
        loaded, HistoryCaps(length_ns=300 * S, max_points=10_000)
    ),
    ServiceName.DATA_REDUCTION: reduction_jobs,
}


def recorded(kind: str) -> list[Path]:
    """The corpus's files of one topic kind, in capture order."""
    return sorted((CORPUS / kind).glob("*.bin"))


def decoded(path: Path) -> Any:
    return json.loads(path.with_suffix(".json").read_text())["decoded"]


COMMAND_FILES = recorded("livedata_commands")
INVALID = next(p for p in COMMAND_FILES if p.name.endswith("-invalid_params.bin"))
START_FILES = [p for p in COMMAND_FILES if "workflow_config" in p.name and p != INVALID]
SCHEDULED = next(p for p in COMMAND_FILES if p.name.endswith("-scheduled.bin"))


def command(path: Path) -> WorkflowConfig | JobCommand:
    return parse_command(path.read_bytes())


def command_message(path: Path) -> Message[bytes]:
    return Message(0, COMMANDS, path.read_bytes())


@pytest.fixture(scope="module")
def loaded():
    return load_instrument("dummy")


@pytest.fixture
def services(loaded) -> dict[ServiceName, JobProtocolProcessor]:
    return {service: make(loaded) for service, make in FACTORIES.items()}


def window(second: int) -> TimeWindow:
    """The one-second window ``second`` seconds after :data:`T0`."""
    return TimeWindow(T0 + second * S, T0 + (second + 1) * S)


def event_batch(n: int, pixels: bool) -> EventBatch:
    return EventBatch(
        reference_time=np.array([T0], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=np.arange(n, dtype=np.int32) * 10_000,
        pixel_id=(np.arange(n, dtype=np.int32) % 16384 + 1)
        if pixels
        else np.empty(0, dtype=np.int32),
    )


def data(second: int, n: int = 100) -> list[Message[Any]]:
    """A window's worth of every input the facility dummy's workflows read."""
    t = window(second).start
    messages: list[Message[Any]] = [
        Message(t, StreamId(StreamKind.MONITOR_EVENTS, m), event_batch(n, False))
        for m in ("monitor1", "monitor2")
    ]
    panel = StreamId(StreamKind.DETECTOR_EVENTS, "panel_0")
    messages.append(Message(t, panel, event_batch(n, True)))
    for log in ("motion1", "motion2"):
        sample = LogSample(t + 1, float(second))
        messages.append(Message(t, StreamId(StreamKind.LOG, log), sample))
    frame = sc.DataArray(sc.ones(dims=["dim_0", "dim_1"], shape=[4, 4], unit="counts"))
    area = StreamId(StreamKind.AREA_DETECTOR, "area_panel")
    messages.append(Message(t, area, frame))
    return messages


def process(
    services: dict[ServiceName, JobProtocolProcessor],
    second: int,
    n: int = 100,
) -> dict[ServiceName, list[Message[Any]]]:
    grouped: dict[StreamId, list[Message[Any]]] = {}
    for m in data(second, n):
        grouped.setdefault(m.stream, []).append(m)
    return {
        service: processor.process_window(window(second), grouped)
        for service, processor in services.items()
    }


def send(
    services: dict[ServiceName, JobProtocolProcessor], message: Message[Any]
) -> dict[ServiceName, list[Any]]:
    """``message`` to every service (each reads the whole commands topic)."""
    return {
        service: [m.value for m in processor.handle_command(message)]
        for service, processor in services.items()
    }


# -- responses ----------------------------------------------------------------


def expected_answers() -> dict[str, list[tuple[str, str]]]:
    """Recorded (response, device) per command file, matched by message_id; a
    command sent without one (NICOS) gets the responses whose id is no
    command's."""
    commands = {p.name: command(p) for p in COMMAND_FILES}
    ids = {c.message_id for c in commands.values() if c.message_id}
    answers: dict[str, list[tuple[str, str]]] = {name: [] for name in commands}
    for path in recorded("livedata_responses"):
        response = decoded(path)
        owners = [
            name
            for name, c in commands.items()
            if c.message_id == response["message_id"]
            or (c.message_id is None and response["message_id"] not in ids)
        ]
        # A dashboard start shares one message_id over its sources: the
        # device tells them apart.
        owners = [
            name
            for name in owners
            if response["device"] in ("all", *_devices(commands[name]))
        ]
        assert len(owners) == 1, (path.name, owners)
        answers[owners[0]].append((response["response"], response["device"]))
    return answers


def _devices(c: WorkflowConfig | JobCommand) -> tuple[str, ...]:
    if isinstance(c, WorkflowConfig):
        return (c.job_id.source_name,)
    return (str(c.job_id),) if c.job_id else ()


def answering_services(
    c: WorkflowConfig | JobCommand, workflows: dict[JobId, str]
) -> set[ServiceName]:
    """Who answers: every service refuses a pause/resume by job id; otherwise
    only the service running the workflow."""
    if isinstance(c, WorkflowConfig):
        return {OWNER[c.identifier.name]}
    if c.action in (JobAction.PAUSE, JobAction.RESUME) and c.job_id is not None:
        return set(FACTORIES)
    if c.job_id is not None:
        return {OWNER[workflows[c.job_id]]}
    assert c.workflow is not None
    return {OWNER[c.workflow.name]}


def test_every_recorded_command_gets_the_recorded_answers_from_the_recorded_service(
    services,
):
    expected = expected_answers()
    workflows: dict[JobId, str] = {}
    for path in COMMAND_FILES:
        c = command(path)
        if isinstance(c, WorkflowConfig):
            workflows[c.job_id] = c.identifier.name
        answers = send(services, command_message(path))
        got = sorted((str(r.response), r.device) for rs in answers.values() for r in rs)
        assert got == sorted(expected[path.name]), path.name
        answered = {service for service, rs in answers.items() if rs}
        assert answered == answering_services(c, workflows), path.name
        for responses in answers.values():
            for r in responses:
                if c.message_id is not None:
                    assert r.message_id == c.message_id
                else:
                    assert r.message_id  # generated, as the facility does
                if r.response == "ERR":
                    assert r.message


@pytest.mark.parametrize("workflow", sorted(FACILITY_STARTS))
def test_every_facility_dummy_workflow_is_started_by_its_service_alone(
    services, workflow
):
    sources, params = FACILITY_STARTS[workflow]
    for source in sources:
        config = WorkflowConfig(
            identifier=WorkflowId(instrument="dummy", name=workflow, version=1),
            message_id=str(uuid.uuid4()),
            job_id=JobId(source_name=source, job_number=str(uuid.uuid4())),
            params=params,
        )
        answers = send(services, Message(0, COMMANDS, encode_command(config)))
        assert {
            s: [(r.response, r.device) for r in rs] for s, rs in answers.items()
        } == {s: [("ACK", source)] if s is OWNER[workflow] else [] for s in FACTORIES}
    outputs = {w for rs in process(services, 1).values() for w, _, _ in results(rs)}
    assert workflow in outputs


def test_invalid_params_are_refused_with_the_validation_text(services):
    for path in START_FILES[:2]:
        send(services, command_message(path))
    answers = send(services, command_message(INVALID))
    [response] = answers[ServiceName.MONITOR_DATA]
    assert response.response == "ERR"
    assert "toa_edges" in response.message
    # The running job stays as it was.
    jobs = services[ServiceName.MONITOR_DATA].jobs()
    assert {j.job_id for j in jobs} == {command(p).job_id for p in START_FILES[:2]}


# -- results ------------------------------------------------------------------


def test_started_jobs_publish_under_the_commands_result_keys(services):
    for path in START_FILES:
        send(services, command_message(path))
    # The ROI requests the recording sent before its ROI results (047-056).
    for path in recorded("livedata_roi"):
        if path.name < "047":
            send(services, Message(0, ROI, decode_roi(path.read_bytes())))
    published = process(services, 1)
    started = [command(p) for p in START_FILES if p != SCHEDULED]
    for c in started:
        service = OWNER[c.identifier.name]
        keys = [k for k in result_keys(published[service]) if k.job_id == c.job_id]
        assert keys, c.job_id
        spec = next(j.spec for j in services[service].jobs() if j.job_id == c.job_id)
        declared = {o.name for o in spec.output_specs}
        assert {k.output_name for k in keys} <= declared
        assert all(k.workflow_id == c.identifier for k in keys)
    # Every recorded result of a job we run, for an output we declare, is
    # published under the very same key (a dashboard finds it by that key).
    ours = {k for messages in published.values() for k in result_keys(messages)}
    for path in recorded("livedata_data"):
        key = ResultKey.from_source_name(decoded(path)["source_name"])
        if key.workflow_id.name == "total_counts":
            continue  # scheduled for later, see the schedule test
        service = OWNER[key.workflow_id.name]
        [job] = [j for j in services[service].jobs() if j.job_id == key.job_id]
        if key.output_name in {o.name for o in job.spec.output_specs}:
            assert key in ours, path.name
    # The replaced default jobs publish nothing any more.
    running = {c.job_id for c in started}
    for service in (ServiceName.MONITOR_DATA, ServiceName.TIMESERIES):
        assert {k.job_id for k in result_keys(published[service])} <= running


def test_job_heartbeats_have_the_recorded_form(services):
    for path in START_FILES:
        send(services, command_message(path))
    process(services, 1)
    beats = {
        m.job_id: m
        for processor in services.values()
        for m in processor.job_heartbeats()
    }
    compared = []
    for path in recorded("livedata_heartbeat"):
        status = decoded(path)["status_json_parsed"]
        message = status["message"]
        if message.get("message_type") != "job" or message["state"] == "stopped":
            continue  # stopped ones: see test_stopped_jobs_say_so_once...
        ours = HeartbeatStatus.of(beats[JobId.model_validate(message["job_id"])])
        ours_json = ours.model_dump(mode="json")
        if ours_json["message"]["state"] != message["state"]:
            assert path.name.startswith("041-job-total_counts")  # active later
            continue
        if message["start_time"] is not None:  # the data time accumulated
            assert ours_json["message"]["start_time"] == window(1).start
            assert ours_json["message"]["end_time"] == window(1).end
        for field in ("start_time", "end_time"):
            assert (ours_json["message"].pop(field) is None) == (
                message.pop(field) is None
            )
        assert ours_json == status, path.name
        compared.append(path.name[:3])
    assert compared == ["034", "035", "036", "037", "038", "039"]


def test_scheduled_job_waits_for_its_start_and_ends_at_its_end(services):
    reduction = services[ServiceName.DATA_REDUCTION]
    schedule = command(SCHEDULED)
    assert isinstance(schedule, WorkflowConfig)
    [ack] = send(services, command_message(SCHEDULED))[ServiceName.DATA_REDUCTION]
    assert ack.response == "ACK"
    start = schedule.schedule.start_time
    end = schedule.schedule.end_time
    assert start is not None
    assert end is not None
    first = (start - T0) // S  # the window holding the start time
    last = (end - T0) // S

    def beat() -> tuple[str, int | None, int | None]:
        [m] = [m for m in reduction.job_heartbeats() if m.job_id == schedule.job_id]
        return str(m.state), m.start_time, m.end_time

    assert beat() == ("scheduled", None, None)
    out = results(process(services, first - 1)[ServiceName.DATA_REDUCTION])
    assert out == {}
    assert beat() == ("scheduled", None, None)

    out = results(process(services, first, n=7)[ServiceName.DATA_REDUCTION])
    total = out["total_counts", "panel_0", "total_counts"]
    assert total.value == 7
    assert beat() == ("active", window(first).start, window(first).end)
    keys = result_keys(process(services, last - 1, n=5)[ServiceName.DATA_REDUCTION])
    assert {k.job_id for k in keys} == {schedule.job_id}
    assert beat()[0] == "active"

    out = results(process(services, last, n=3)[ServiceName.DATA_REDUCTION])
    assert out["total_counts", "panel_0", "total_counts"].value == 7 + 5 + 3
    assert beat() == ("stopped", window(first).start, window(last).end)
    assert reduction.job_heartbeats() == []
    assert results(process(services, last + 1)[ServiceName.DATA_REDUCTION]) == {}


def test_stopped_jobs_say_so_once_then_disappear(services):
    for path in START_FILES:
        send(services, command_message(path))
    process(services, 1)
    monitors = services[ServiceName.MONITOR_DATA]
    replaced = [m for m in monitors.job_heartbeats() if m.state is JobState.STOPPED]
    assert {m.job_id.source_name for m in replaced} == {"monitor1", "monitor2"}
    assert monitors.job_heartbeats() == [
        j.heartbeat() for j in monitors.jobs()
    ]  # the replaced default jobs said so once
    stops = [p for p in COMMAND_FILES if "-stop-monitor" in p.name]
    for path in stops:
        send(services, command_message(path))
    stopped = {command(p).job_id for p in stops}
    beats = monitors.job_heartbeats()
    assert {m.job_id for m in beats if m.state is JobState.STOPPED} == stopped
    assert {m.job_id for m in beats} == stopped
    assert all(m.end_time == window(1).end for m in beats)
    [form] = [
        decoded(p)["status_json_parsed"]
        for p in recorded("livedata_heartbeat")
        if p.name.startswith("083-job")
    ]
    ours = HeartbeatStatus.of(beats[0]).model_dump(mode="json")
    assert ours["status"] == form["status"] == 999
    assert ours["message"].keys() == form["message"].keys()
    assert monitors.job_heartbeats() == []
    assert monitors.jobs() == []
    assert results(process(services, 2)[ServiceName.MONITOR_DATA]) == {}


# -- ROI requests -------------------------------------------------------------


def test_recorded_roi_requests_set_spectra_and_read_backs(services):
    [panel] = [p for p in START_FILES if "panel_0_xy" in p.name]
    send(services, command_message(panel))
    job_id = command(panel).job_id
    active: dict[RoiGeometry, set[int]] = {}
    compared = 0
    for second, path in enumerate(recorded("livedata_roi"), start=1):
        request = decode_roi(path.read_bytes())
        assert request.stream.job_id == job_id
        indices = set(request.data.coords["roi_index"].values.tolist())
        active[request.stream.geometry] = indices
        answers = send(services, Message(0, ROI, request))
        assert all(rs == [] for rs in answers.values())  # ROIs get no response
        out = results(process(services, second)[ServiceName.DETECTOR_DATA])
        expected = sorted(set().union(*active.values()))
        for name in ("roi_spectra_current", "roi_spectra_cumulative"):
            spectra = out["panel_0_xy", "panel_0", name]
            assert spectra.dims[0] == "roi"
            assert spectra.coords["roi"].values.tolist() == expected, path.name
            for rois in recorded_roi_coords(path, name):
                compared += 1
                assert spectra.coords["roi"].values.tolist() == rois, path.name
                assert spectra.sizes["roi"] == len(rois)
        for geometry, rois in active.items():
            readback = out.get(("panel_0_xy", "panel_0", geometry.value))
            if not rois:  # never set, or cleared: then echoed empty
                assert readback is None or readback.size == 0, path.name
                continue
            assert readback is not None, path.name
            for column in ("x", "y", "roi_index"):
                assert (
                    readback.coords[column].values.tolist()
                    == request_columns(path, geometry)[column]
                ), path.name
    assert len(expected) == 2  # the cleared polygon took its ROI with it
    assert compared == 2  # the recording's roi_spectra_current and _cumulative
    # The cleared set is echoed empty, so readers stop drawing the polygon.
    assert out["panel_0_xy", "panel_0", "roi_polygon"].size == 0


def capture(path: Path) -> int:
    return json.loads(path.with_suffix(".json").read_text())["capture_seq"]


def recorded_roi_coords(request: Path, output: str) -> list[list[int]]:
    """``roi`` of the recorded ``output`` results that followed ``request``
    (before the next ROI request): what the facility made of it."""
    later = [
        capture(p) for p in recorded("livedata_roi") if capture(p) > capture(request)
    ]
    until = min(later, default=float("inf"))
    found = []
    for path in recorded("livedata_data"):
        key = ResultKey.from_source_name(decoded(path)["source_name"])
        if key.output_name == output and capture(request) < capture(path) < until:
            roi = next(v for v in decoded(path)["data"] if v["name"] == "roi")
            found.append(roi["data"]["values"])
    return found


def request_columns(path: Path, geometry: RoiGeometry) -> dict[str, list[float]]:
    """The columns of the latest recorded request of ``geometry`` up to ``path``."""
    latest = [
        p
        for p in recorded("livedata_roi")
        if p.name <= path.name and p.name.split("-")[1] == geometry.value
    ][-1]
    variables = {v["name"]: v for v in decoded(latest)["data"]}
    return {c: variables[c]["data"]["values"] for c in ("x", "y", "roi_index")}


def test_roi_request_for_a_job_not_held_changes_nothing(services):
    detectors = services[ServiceName.DETECTOR_DATA]
    request = decode_roi(recorded("livedata_roi")[0].read_bytes())
    assert detectors.handle_command(Message(0, ROI, request)) == []
    out = results(process(services, 1)[ServiceName.DETECTOR_DATA])
    assert not [key for key in out if key[2].startswith("roi")]
