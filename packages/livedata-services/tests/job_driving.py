"""Driving a service's job processor as the facility does: commands, ROI
requests and data windows in, ResultKey-named results and responses out.

Shared by the service tests; not a test module itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc

from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import RoiRequest
from ess.livedata.core.window import TimeWindow
from ess.livedata.processing.job_protocol import JobProtocolProcessor
from ess.livedata.protocol import (
    JobAction,
    JobCommand,
    JobId,
    Response,
    ResultKey,
    RoiColumns,
    RoiGeometry,
    RoiStream,
    Schedule,
    WorkflowConfig,
    WorkflowId,
    encode_command,
)

INSTRUMENT = "dummy"
COMMANDS = StreamId(StreamKind.LIVEDATA_COMMANDS, "")
ROI = StreamId(StreamKind.LIVEDATA_ROI, "")
CORPUS = Path(__file__).parents[2] / "livedata-protocol" / "tests" / "corpus"
"""The facility's recorded messages (see its SOURCE.md)."""


def workflow_id(name: str) -> WorkflowId:
    return WorkflowId(instrument=INSTRUMENT, name=name, version=1)


def command_message(command: WorkflowConfig | JobCommand) -> Message[bytes]:
    """A command as the service's source hands it over: raw JSON bytes."""
    return Message(0, COMMANDS, encode_command(command))


def responses(processor: JobProtocolProcessor, message: Message[Any]) -> list[Response]:
    return [m.value for m in processor.handle_command(message)]


def start(
    processor: JobProtocolProcessor,
    workflow: str,
    source: str,
    params: Mapping[str, Any] | None = None,
    *,
    schedule: Schedule | None = None,
) -> tuple[JobId, list[Response]]:
    """Send a ``workflow_config`` with a fresh job number; the job id and answers."""
    job_id = JobId(source_name=source, job_number=str(uuid.uuid4()))
    config = WorkflowConfig(
        identifier=workflow_id(workflow),
        message_id=str(uuid.uuid4()),
        job_id=job_id,
        schedule=schedule or Schedule(),
        params=dict(params or {}),
    )
    return job_id, responses(processor, command_message(config))


def started(
    processor: JobProtocolProcessor,
    workflow: str,
    source: str,
    params: Mapping[str, Any] | None = None,
) -> JobId:
    """:func:`start`, asserting that the service acknowledged it."""
    job_id, answers = start(processor, workflow, source, params)
    assert [(r.response, r.message) for r in answers] == [("ACK", None)]
    return job_id


def act(
    processor: JobProtocolProcessor,
    action: str,
    job_id: JobId | None = None,
    workflow: str | None = None,
) -> list[Response]:
    """Send a ``job_command`` by job id, by workflow or to every job."""
    command = JobCommand(
        message_id=str(uuid.uuid4()),
        job_id=job_id,
        workflow_id=workflow_id(workflow) if workflow else None,
        action=JobAction(action),
    )
    return responses(processor, command_message(command))


def roi_message(
    job_id: JobId, geometry: RoiGeometry, columns: RoiColumns
) -> Message[RoiRequest]:
    """An ROI request with its columns as the facility's dashboard sends them."""
    dim = geometry.dim
    n = len(columns.x)
    data = sc.DataArray(
        sc.array(dims=[dim], values=np.ones(n, dtype=np.int32), unit=""),
        coords={
            "x": sc.array(
                dims=[dim], values=np.array(columns.x, dtype=float), unit=None
            ),
            "y": sc.array(
                dims=[dim], values=np.array(columns.y, dtype=float), unit=None
            ),
            "roi_index": sc.array(
                dims=[dim], values=np.array(columns.roi_index, dtype=np.int32), unit=""
            ),
        },
    )
    return Message(0, ROI, RoiRequest(RoiStream(job_id, geometry), data))


def grouped(messages: Iterable[Message[Any]]) -> dict[StreamId, list[Message[Any]]]:
    out: dict[StreamId, list[Message[Any]]] = {}
    for m in messages:
        out.setdefault(m.stream, []).append(m)
    return out


Results = dict[tuple[str, str, str], sc.DataArray]
"""Published data by (workflow name, source name, output name)."""


def results(messages: Iterable[Message[Any]]) -> Results:
    """The data results among ``messages``, by their parsed ResultKey."""
    out: Results = {}
    for m in messages:
        if m.stream.kind is StreamKind.LIVEDATA_DATA:
            key = ResultKey.from_source_name(m.stream.name)
            name = (key.workflow_id.name, key.job_id.source_name, key.output_name)
            assert name not in out, f"{name} published twice in one window"
            out[name] = m.value
    return out


def result_keys(messages: Iterable[Message[Any]]) -> list[ResultKey]:
    return [
        ResultKey.from_source_name(m.stream.name)
        for m in messages
        if m.stream.kind is StreamKind.LIVEDATA_DATA
    ]


def run(
    processor: JobProtocolProcessor, window: TimeWindow, *data: Message[Any]
) -> Results:
    """Process one window of ``data``; its published results."""
    return results(processor.process_window(window, grouped(data)))


def skip(
    processor: JobProtocolProcessor, window: TimeWindow, *data: Message[Any]
) -> int:
    return processor.skip_window(window, grouped(data))


def ns(time: sc.Variable) -> int:
    """A ``start_time``/``end_time`` coordinate in ns since epoch."""
    return int(time.value.astype("datetime64[ns]").astype(np.int64))


def job_of(processor: JobProtocolProcessor, workflow: str, source: str) -> JobId:
    """The id of the job running ``workflow`` on ``source`` (e.g. a default job)."""
    [job] = [
        j.job_id
        for j in processor.jobs()
        if j.workflow.name == workflow and j.source == source
    ]
    return job
