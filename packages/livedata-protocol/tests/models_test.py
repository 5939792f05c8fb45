"""Behaviour of the protocol models beyond what the corpus exercises."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ess.livedata.protocol import (
    Heartbeat,
    HeartbeatStatus,
    JobAction,
    JobCommand,
    JobId,
    JobMessage,
    JobState,
    NicosStatus,
    Rectangle,
    ServiceMessage,
    ServiceState,
    WorkflowId,
    parse_command,
    rectangles_to_columns,
)


def test_workflow_id_string_form_round_trips_and_rejects_garbage():
    wid = WorkflowId.parse("dummy/monitor_histogram/1")
    assert wid == WorkflowId(instrument="dummy", name="monitor_histogram", version=1)
    assert str(wid) == "dummy/monitor_histogram/1"
    with pytest.raises(ValueError, match="instrument/name/version"):
        WorkflowId.parse("dummy/monitor_histogram")
    with pytest.raises(ValueError, match="invalid literal"):
        WorkflowId.parse("dummy/monitor_histogram/one")


def test_job_command_accepts_both_workflow_id_forms():
    as_string = parse_command(
        '{"kind":"job_command","action":"reset","workflow_id":"dummy/x/2"}'
    )
    as_object = parse_command(
        '{"kind":"job_command","action":"reset",'
        '"workflow_id":{"instrument":"dummy","name":"x","version":2}}'
    )
    assert isinstance(as_string, JobCommand)
    assert as_string.workflow == as_object.workflow == WorkflowId.parse("dummy/x/2")
    assert as_string.action is JobAction.RESET


def test_a_malformed_workflow_id_string_is_a_validation_error():
    with pytest.raises(ValidationError):
        parse_command('{"kind":"job_command","action":"stop","workflow_id":"x"}')


def test_an_unknown_command_kind_is_a_validation_error():
    with pytest.raises(ValidationError):
        parse_command('{"kind":"launch_missiles"}')


def test_extra_fields_survive_so_livedata_can_carry_more_than_the_facility():
    message = ServiceMessage(
        instrument="dummy",
        service_name="monitor_data",
        worker_id="w",
        state=ServiceState.RUNNING,
        started_at=1,
        active_job_count=0,
        batch_interval_s=1.0,
        ledger={"monitor1": {"received": 10}},
    )
    beat = Heartbeat.of(message, software_version="0", host_name="h", process_id=1)
    again = Heartbeat.from_x5f2_fields(**beat.x5f2_fields())
    assert again.status.message.model_extra == {
        "ledger": {"monitor1": {"received": 10}}
    }
    assert again.status.status == NicosStatus.OK
    assert again.update_interval == 2000


def test_a_job_heartbeat_without_message_type_is_a_job():
    status = HeartbeatStatus.from_json(
        '{"status":235,"message":{"state":"scheduled",'
        '"job_id":{"source_name":"s","job_number":"n"},"workflow_id":"a/b/1"}}'
    )
    assert isinstance(status.message, JobMessage)
    assert status.message.service_id == "s:n"


@pytest.mark.parametrize(
    ("state", "code"),
    [(JobState.ACTIVE, 200), (JobState.SCHEDULED, 235), (JobState.STOPPED, 999)],
)
def test_job_states_map_to_nicos_codes(state, code):
    message = JobMessage(
        state=state, job_id=JobId(source_name="s", job_number="n"), workflow_id="a/b/1"
    )
    assert HeartbeatStatus.of(message).status == code


def test_rectangle_indices_outside_0_to_3_are_refused():
    with pytest.raises(ValueError, match="indices"):
        rectangles_to_columns({4: Rectangle(0, 1, 0, 1)})
