"""Heartbeats on ``{instrument}_livedata_heartbeat`` (x5f2), as NICOS reads them.

Every service sends one heartbeat per job it holds and one for itself. The
x5f2 ``status_json`` is ``{"status": <NICOS code>, "message": {...}}``; readers
tell service from job messages by ``message_type`` (missing means job). Fields
livedata adds (the counts ledger, worker tags) are extra keys, which the
facility's readers ignore.
"""

from __future__ import annotations

import enum
import json
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from .identity import JobId


class NicosStatus(enum.IntEnum):
    OK = 200
    WARNING = 210
    BUSY = 220
    NOTREACHED = 230
    DISABLED = 235
    ERROR = 240
    UNKNOWN = 999


class ServiceState(enum.StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPED = "stopped"
    ERROR = "error"

    @property
    def nicos_status(self) -> NicosStatus:
        return _SERVICE_CODES[self]


class JobState(enum.StrEnum):
    SCHEDULED = "scheduled"
    PENDING_CONTEXT = "pending_context"
    ACTIVE = "active"
    WARNING = "warning"
    ERROR = "error"
    FINISHING = "finishing"
    STOPPED = "stopped"

    @property
    def nicos_status(self) -> NicosStatus:
        return _JOB_CODES[self]


_SERVICE_CODES = {
    ServiceState.STARTING: NicosStatus.DISABLED,
    ServiceState.RUNNING: NicosStatus.OK,
    ServiceState.STOPPED: NicosStatus.DISABLED,
    ServiceState.ERROR: NicosStatus.ERROR,
}
_JOB_CODES = {
    JobState.ACTIVE: NicosStatus.OK,
    JobState.FINISHING: NicosStatus.OK,
    JobState.WARNING: NicosStatus.WARNING,
    JobState.PENDING_CONTEXT: NicosStatus.WARNING,
    JobState.SCHEDULED: NicosStatus.DISABLED,
    JobState.ERROR: NicosStatus.ERROR,
    JobState.STOPPED: NicosStatus.UNKNOWN,
}


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")


class StreamStat(_Message):
    topic: str
    source_name: str
    stream: str | None
    count: int


class StreamStats(_Message):
    window_seconds: float
    streams: list[StreamStat]


class ServiceMessage(_Message):
    """A service worker's own heartbeat content."""

    message_type: Literal["service"] = "service"
    instrument: str
    service_name: str
    worker_id: str
    state: ServiceState
    started_at: int
    active_job_count: int
    error: str | None = None
    batch_interval_s: float
    stream_stats: StreamStats | None = None

    @property
    def service_id(self) -> str:
        return f"{self.instrument}:{self.service_name}:{self.worker_id}"

    @property
    def nicos_status(self) -> NicosStatus:
        return self.state.nicos_status


class JobMessage(_Message):
    """One job's heartbeat content; ``workflow_id`` is the string form."""

    message_type: Literal["job"] = "job"
    state: JobState
    warning: str | None = None
    error: str | None = None
    job_id: JobId
    workflow_id: str
    start_time: int | None = None
    end_time: int | None = None

    @property
    def service_id(self) -> str:
        return f"{self.job_id.source_name}:{self.job_id.job_number}"

    @property
    def nicos_status(self) -> NicosStatus:
        return self.state.nicos_status


def _job_if_untyped(value: Any) -> Any:
    if isinstance(value, dict) and "message_type" not in value:
        return {**value, "message_type": "job"}
    return value


HeartbeatMessage = Annotated[
    ServiceMessage | JobMessage, Field(discriminator="message_type")
]


class HeartbeatStatus(BaseModel):
    """The x5f2 ``status_json``: a NICOS code and the message."""

    model_config = ConfigDict(frozen=True, extra="allow")

    status: int
    message: HeartbeatMessage

    @classmethod
    def of(cls, message: ServiceMessage | JobMessage) -> Self:
        return cls(status=int(message.nicos_status), message=message)

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        raw = json.loads(text)
        if isinstance(raw, dict):
            raw["message"] = _job_if_untyped(raw.get("message"))
        return cls.model_validate(raw)


SOFTWARE_NAME = "livedata"
SERVICE_UPDATE_INTERVAL_MS = 2000
JOB_UPDATE_INTERVAL_MS = 1000


class Heartbeat(BaseModel):
    """One x5f2 message: the envelope fields NICOS reads plus the status."""

    model_config = ConfigDict(frozen=True)

    software_name: str = SOFTWARE_NAME
    software_version: str
    service_id: str
    host_name: str
    process_id: int
    update_interval: int
    status: HeartbeatStatus

    @classmethod
    def of(
        cls,
        message: ServiceMessage | JobMessage,
        *,
        software_version: str,
        host_name: str,
        process_id: int,
    ) -> Self:
        interval = (
            SERVICE_UPDATE_INTERVAL_MS
            if isinstance(message, ServiceMessage)
            else JOB_UPDATE_INTERVAL_MS
        )
        return cls(
            software_version=software_version,
            service_id=message.service_id,
            host_name=host_name,
            process_id=process_id,
            update_interval=interval,
            status=HeartbeatStatus.of(message),
        )

    def x5f2_fields(self) -> dict[str, Any]:
        """Keyword arguments for ``streaming_data_types.serialise_x5f2``."""
        fields = self.model_dump(exclude={"status"})
        return {**fields, "status_json": self.status.model_dump_json()}

    @classmethod
    def from_x5f2_fields(cls, **fields: Any) -> Self:
        """From the fields ``streaming_data_types.deserialise_x5f2`` returns."""
        status = HeartbeatStatus.from_json(fields.pop("status_json"))
        return cls(**fields, status=status)
