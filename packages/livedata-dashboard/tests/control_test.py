import json
from pathlib import Path

import pytest

from ess.livedata.dashboard.jobs import RESEND_STOP_AFTER_S
from ess.livedata.dashboard.responses import Outcome
from ess.livedata.kafka.schemas.da00 import decode_da00
from ess.livedata.protocol import (
    JobAction,
    Rectangle,
    Response,
    ResponseKind,
    RoiGeometry,
    RoiStream,
    parse_command,
    rectangles_to_columns,
)
from ess.livedata.testing.messages import MONITOR_HISTOGRAM, job_beat, job_id

COMMANDS = "dummy_livedata_commands"
CORPUS = Path(__file__).parents[2] / "livedata-protocol" / "tests" / "corpus"
"""The facility's recorded messages (see SOURCE.md there)."""


def sent(producer):
    return [parse_command(value) for value in producer.on(COMMANDS)]


def test_start_sends_one_config_per_source_under_one_number_and_message(
    backend, producer, store, clock
):
    (message_id,) = backend.control.start(
        MONITOR_HISTOGRAM, ["monitor1", "monitor2"], params={"bins": 10}
    )
    configs = sent(producer)
    assert [c.job_id.source_name for c in configs] == ["monitor1", "monitor2"]
    assert {c.job_id.job_number for c in configs} == {
        store.jobs.current(MONITOR_HISTOGRAM, "monitor1").job_number
    }
    assert {c.message_id for c in configs} == {message_id}
    assert all(c.identifier == MONITOR_HISTOGRAM for c in configs)
    assert configs[0].params == {"bins": 10}
    for config in configs:
        store.put_response(
            Response(
                message_id=message_id,
                device=config.job_id.source_name,
                response=ResponseKind.ACK,
            )
        )
    assert store.responses.get(message_id).outcome(clock.now) is Outcome.ACCEPTED


def test_reconfigure_stops_the_adopted_job_and_starts_a_new_number(
    backend, producer, store, clock
):
    adopted = job_id("monitor1", "adopted")
    store.put_job(job_beat(adopted), clock.now)
    backend.control.start(MONITOR_HISTOGRAM, ["monitor1"])
    stop, config = sent(producer)
    assert stop.action is JobAction.STOP
    assert stop.job_id == adopted
    assert config.job_id.job_number != "adopted"


@pytest.mark.parametrize("action", [JobAction.RESET, JobAction.STOP])
def test_reset_and_stop_address_the_current_jobs_by_id(
    backend, producer, store, clock, action
):
    for source in ("monitor1", "monitor2"):
        store.put_job(job_beat(job_id(source)), clock.now)
    act = backend.control.reset if action is JobAction.RESET else backend.control.stop
    message_id = act(MONITOR_HISTOGRAM)
    commands = sent(producer)
    assert {c.job_id for c in commands} == {job_id("monitor1"), job_id("monitor2")}
    assert {c.action for c in commands} == {action}
    assert store.responses.get(message_id).expected == 2


def test_roi_request_is_the_corpus_message(backend, producer):
    recorded = json.loads(
        (CORPUS / "livedata_roi/043-roi_rectangle-2rois.json").read_text()
    )["decoded"]
    stream = RoiStream.from_source_name(recorded["source_name"])
    assert stream.geometry is RoiGeometry.RECTANGLE
    columns = rectangles_to_columns(
        {0: Rectangle(10, 60, 10, 60), 1: Rectangle(70, 120, 70, 120)}
    )
    backend.sender.send_roi(stream, columns)
    (payload,) = producer.on("dummy_livedata_roi")
    name, timestamp_ns, data = decode_da00(payload)
    assert (name, timestamp_ns) == (recorded["source_name"], recorded["timestamp_ns"])
    variables = {v["name"]: v for v in recorded["data"]}
    assert list(data.values) == variables["signal"]["data"]["values"]
    for coord in ("x", "y", "roi_index"):
        assert list(data.coords[coord].values) == variables[coord]["data"]["values"]
        assert str(data.coords[coord].dtype) == variables[coord]["data"]["dtype"]


def test_stops_are_sent_again_to_jobs_that_keep_heartbeating(
    backend, producer, store, clock
):
    store.put_job(job_beat(job_id()), clock.now)
    backend.control.stop(MONITOR_HISTOGRAM)
    backend.control.enforce()
    assert len(sent(producer)) == 1  # the stop itself, nothing due yet
    clock.now += RESEND_STOP_AFTER_S
    store.put_job(job_beat(job_id()), clock.now)  # still running
    backend.control.enforce()
    again = sent(producer)[1]
    assert (again.action, again.job_id) == (JobAction.STOP, job_id())


@pytest.mark.parametrize(
    ("recorded", "act"),
    [
        ("060-job_command-reset-monitor1", "reset"),
        ("077-job_command-stop-monitor1", "stop"),
    ],
)
def test_reset_and_stop_are_the_recorded_commands(
    backend, producer, store, clock, monkeypatch, recorded, act
):
    """Given the recorded ids, the bytes sent are the facility dashboard's."""
    path = CORPUS / "livedata_commands" / f"{recorded}.bin"
    command = parse_command(path.read_bytes())
    store.put_job(job_beat(command.job_id), clock.now)
    monkeypatch.setattr(
        "ess.livedata.dashboard.commands.uuid.uuid4", lambda: command.message_id
    )
    getattr(backend.control, act)(MONITOR_HISTOGRAM)
    assert producer.on(COMMANDS) == [path.read_bytes()]
