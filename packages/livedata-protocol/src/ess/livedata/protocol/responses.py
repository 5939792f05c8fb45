"""Answers on ``{instrument}_livedata_responses``: feedback only, never state."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict


class ResponseKind(enum.StrEnum):
    ACK = "ACK"
    ERR = "ERR"


BROADCAST_DEVICE = "all"
"""``device`` of an answer to a command that selected jobs by workflow or none."""


class Response(BaseModel):
    """One service's answer to one command.

    ``device`` is the job's source name for a start, ``source/job_number`` for
    a command by job id, or :data:`BROADCAST_DEVICE`.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    message_id: str
    device: str
    response: ResponseKind
    message: str | None = None

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, payload: str | bytes) -> Response:
        return cls.model_validate_json(payload)
