"""Service heartbeat content, published as x5f2 status messages."""

from __future__ import annotations

import enum
import os
import socket
from typing import Any

from pydantic import BaseModel, Field


class ServiceState(enum.StrEnum):
    """Life-cycle state a service reports in its heartbeat."""

    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    ERROR = "error"


class ServiceStatus(BaseModel):
    """What a service tells the world every few seconds.

    ``counters`` hold monotonic totals (messages, events, rejections) so a
    reader can derive rates from two heartbeats; ``details`` carries
    service-specific content such as the per-stream counts ledger or job states.
    """

    service: str
    instrument: str
    state: ServiceState
    message: str = ""
    host: str = ""
    pid: int = 0
    version: str = ""
    started_at: int = Field(default=0, description="ns since epoch")
    update_interval_ms: int = 2000
    counters: dict[str, int] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def service_id(self) -> str:
        """Identity of this service instance, unique per host and process."""
        return _service_id(self.instrument, self.service, self.host, self.pid)


def _service_id(instrument: str, service: str, host: str, pid: int) -> str:
    return f"{instrument}:{service}:{host}:{pid}"


def this_process_service_id(instrument: str, service: str) -> str:
    """The ``service_id`` this process's heartbeats carry; data messages are
    tagged with it so readers can match them to the heartbeats."""
    return _service_id(instrument, service, socket.gethostname(), os.getpid())
