"""Hostile commands and ROI requests through the real job processors: the
protocol's answers, never a crash.

The command models are fuzzed in livedata-protocol; here random, mostly
plausible ``workflow_config`` and ``job_command`` messages and ROI requests
reach each service's job processor and so its bindings and accumulators
(unknown sources, absurd bins and caps, degenerate ROIs, jobs that are gone).
Every start of one of the service's workflows is answered exactly once, other
services' workflows never; a job command is answered at most once (a pause by
job id always, with ERR); ROI requests are never answered; and the service
keeps processing data with balanced ledgers afterwards.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from job_driving import COMMANDS, INSTRUMENT, grouped, roi_message

from ess.livedata.core.log_values import HistoryCaps
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.window import TimeWindow
from ess.livedata.processing.job_bindings import (
    detector_jobs,
    monitor_jobs,
    timeseries_jobs,
)
from ess.livedata.processing.job_protocol import JobProtocolProcessor
from ess.livedata.protocol import JobId, RoiColumns, RoiGeometry

W = TimeWindow(0, 1_000_000_000)
LOADED = load_instrument(INSTRUMENT)

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from([0, 1, -1, 0.5, 10**9, 2**31, 4096, 4097, 86_400, 10**6]),
)
sources = st.sampled_from(
    ["panel_0", "tubes_1", "monitor1", "monitor2", "motor_x", "motion1", "nope", ""]
)
workflows = st.sampled_from(
    [
        "monitor_histogram",
        "panel_0_xy",
        "panel_0_plane",
        "tubes_1_mantle",
        "timeseries_data",
        "total_counts",
        "nope",
    ]
)
toa_edges = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "start": numbers,
            "stop": numbers,
            "num_bins": numbers,
            "unit": st.sampled_from(["ns", "us", "ms", "s", "h", "μs"]),
            "scale": st.sampled_from(["linear", "log"]),
        },
    ),
    st.just("not-a-bin-spec"),
)
params = st.fixed_dictionaries(
    {},
    optional={
        "toa_edges": toa_edges,
        "length_s": numbers,
        "max_points": numbers,
        "toa_range": st.just({"start": 0.0, "stop": 10.0, "enabled": False}),
    },
)
job_numbers = st.sampled_from(["1", "2", "983544fe-98b9-451f-8902-e7b852baa1a5"])


def workflow_config(workflow: str, source: str, job_number: str, p: dict) -> bytes:
    """Raw JSON: NaN and infinities go over the wire as the tokens they are."""
    config = {
        "kind": "workflow_config",
        "identifier": {"instrument": INSTRUMENT, "name": workflow, "version": 1},
        "message_id": "m",
        "job_id": {"source_name": source, "job_number": job_number},
        "schedule": {"start_time": None, "end_time": None},
        "aux_source_names": {},
        "params": p,
    }
    return json.dumps(config).encode()


def job_command(action: str, job_id: JobId | None, workflow: str | None) -> bytes:
    command: dict[str, Any] = {
        "kind": "job_command",
        "message_id": "m",
        "action": action,
    }
    if job_id is not None:
        command["job_id"] = job_id.model_dump()
    if workflow is not None:
        command["workflow_id"] = f"{INSTRUMENT}/{workflow}/1"
    return json.dumps(command).encode()


FACTORIES = {
    "monitor_data": monitor_jobs,
    "detector_data": detector_jobs,
    "timeseries": lambda loaded: timeseries_jobs(loaded, HistoryCaps(10**12, 100)),
}


def data_for(service: str) -> dict[StreamId, list[Message[Any]]]:
    batch = EventBatch(
        reference_time=np.array([0], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=np.array([1_000_000, 30_000_000], dtype=np.int32),
        pixel_id=np.array([1, 2], dtype=np.int32),
    )
    kind = {
        "monitor_data": (StreamKind.MONITOR_EVENTS, "monitor1"),
        "detector_data": (StreamKind.DETECTOR_EVENTS, "panel_0"),
    }.get(service)
    if kind is None:
        return {}
    stream = StreamId(*kind)
    return grouped([Message(0, stream, batch)])


def workflows_of(service: str) -> set[str]:
    return {s.name for s in LOADED.workflow_specs.values() if s.service == service}


def some_job(data: st.DataObject, processor: JobProtocolProcessor) -> JobId:
    """A job the processor holds, or one it does not."""
    held = [j.job_id for j in processor.jobs()]
    made_up = st.builds(
        lambda s, n: JobId(source_name=s, job_number=n), sources, job_numbers
    )
    return data.draw(st.sampled_from(held) | made_up if held else made_up)


def roi_columns(data: st.DataObject) -> RoiColumns:
    n = data.draw(st.integers(0, 40))
    values = st.lists(numbers.map(float), min_size=n, max_size=n)
    return RoiColumns(
        x=tuple(data.draw(values)),
        y=tuple(data.draw(values)),
        roi_index=tuple(
            data.draw(st.lists(st.integers(-2, 9), min_size=n, max_size=n))
        ),
    )


@pytest.mark.parametrize("service", sorted(FACTORIES))
@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_commands_get_the_protocols_answers_and_processing_continues(
    service: str, data: st.DataObject
) -> None:
    processor = FACTORIES[service](LOADED)
    mine = workflows_of(service)
    for _ in range(data.draw(st.integers(1, 5))):
        kind = data.draw(st.sampled_from(["config", "command", "roi"]))
        if kind == "config":
            workflow = data.draw(workflows)
            payload = workflow_config(
                workflow, data.draw(sources), data.draw(job_numbers), data.draw(params)
            )
            answers = processor.handle_command(Message(0, COMMANDS, payload))
            assert len(answers) == (1 if workflow in mine else 0), payload
        elif kind == "command":
            action = data.draw(st.sampled_from(["pause", "resume", "reset", "stop"]))
            job_id = data.draw(st.none() | st.just(some_job(data, processor)))
            workflow = data.draw(st.none() | workflows)
            payload = job_command(action, job_id, workflow)
            answers = processor.handle_command(Message(0, COMMANDS, payload))
            assert len(answers) <= 1
            if action in ("pause", "resume") and job_id is not None:
                assert [a.value.response for a in answers] == ["ERR"]
        else:
            geometry = data.draw(st.sampled_from(list(RoiGeometry)))
            request = roi_message(
                some_job(data, processor), geometry, roi_columns(data)
            )
            answers = processor.handle_command(request)
            assert answers == []
        for answer in answers:
            assert answer.value.message_id == "m"
            assert answer.value.response in ("ACK", "ERR")
            if answer.value.response == "ERR":
                assert answer.value.message
    processor.process_window(W, data_for(service))
    for ledger in processor.status_details().model_dump()["ledger"].values():
        assert ledger["balanced"]
    for beat in processor.job_heartbeats():
        assert beat.workflow_id.split("/")[1] in mine
