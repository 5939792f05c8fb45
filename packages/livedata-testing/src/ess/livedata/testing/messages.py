"""Protocol messages for tests of readers of our topics, as the services
send them (dashboard, test reader, livedata_topics)."""

from __future__ import annotations

import scipp as sc

from ess.livedata.protocol import (
    Heartbeat,
    JobId,
    JobMessage,
    JobState,
    ResultKey,
    ServiceMessage,
    ServiceState,
    WorkflowId,
)

MONITOR_HISTOGRAM = WorkflowId(instrument="dummy", name="monitor_histogram", version=1)
NUMBER = "983544fe-98b9-451f-8902-e7b852baa1a5"


def job_id(source: str = "monitor1", number: str = NUMBER) -> JobId:
    return JobId(source_name=source, job_number=number)


def job_beat(
    job: JobId,
    state: JobState = JobState.ACTIVE,
    workflow: WorkflowId = MONITOR_HISTOGRAM,
) -> JobMessage:
    return JobMessage(state=state, job_id=job, workflow_id=str(workflow))


def service_beat(
    worker: str = "w1",
    state: ServiceState = ServiceState.RUNNING,
    service: str = "monitor_data",
    instrument: str = "dummy",
    **extras: object,
) -> ServiceMessage:
    """A worker's service message; ``extras`` become livedata's extra keys."""
    return ServiceMessage(
        instrument=instrument,
        service_name=service,
        worker_id=worker,
        state=state,
        started_at=0,
        active_job_count=1,
        batch_interval_s=1.0,
        **extras,
    )


def heartbeat(message: ServiceMessage | JobMessage, process_id: int = 1) -> Heartbeat:
    """``message`` in the x5f2 envelope a worker on host ``h`` sends."""
    return Heartbeat.of(
        message, software_version="0", host_name="h", process_id=process_id
    )


def key(
    job: JobId, output: str = "current", workflow: WorkflowId = MONITOR_HISTOGRAM
) -> ResultKey:
    return ResultKey(workflow_id=workflow, job_id=job, output_name=output)


def spectrum(total: float, end_ns: int | None = None) -> sc.DataArray:
    """A one-bin spectrum; with ``end_ns`` stamped like a service's window."""
    data = sc.DataArray(sc.array(dims=["toa"], values=[total], unit="counts"))
    if end_ns is not None:
        data.coords["end_time"] = sc.datetime(end_ns, unit="ns")
    return data
