"""Heartbeats for the tests of this package."""

from __future__ import annotations

from ess.livedata.protocol import Heartbeat, ServiceMessage, ServiceState


def service_heartbeat(
    service: str = "monitor_data",
    instrument: str = "dummy",
    state: ServiceState = ServiceState.RUNNING,
    **extra: object,
) -> Heartbeat:
    """A service's heartbeat; ``extra`` become livedata's extra message keys."""
    message = ServiceMessage(
        instrument=instrument,
        service_name=service,
        worker_id="w-1",
        state=state,
        started_at=1,
        active_job_count=0,
        batch_interval_s=1.0,
        **extra,
    )
    return Heartbeat.of(message, software_version="1.2.3", host_name="h", process_id=3)
