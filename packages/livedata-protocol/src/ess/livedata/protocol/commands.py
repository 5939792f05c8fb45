"""Commands on ``{instrument}_livedata_commands``: start a job, or act on jobs.

Both kinds are JSON objects told apart by ``kind``. The dashboard and NICOS
send them; every service reads all of them and answers only those it owns.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    field_validator,
)

from .identity import JobId, WorkflowId


class _Command(BaseModel):
    # Unknown fields are kept: a newer sender's additions survive a round trip.
    model_config = ConfigDict(frozen=True, extra="allow")


class Schedule(BaseModel):
    """Data-time span of a job in ns since epoch; ``None`` is open-ended."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_time: int | None = None
    end_time: int | None = None


class WorkflowConfig(_Command):
    """Start (or replace) the job ``job_id`` running workflow ``identifier``."""

    kind: Literal["workflow_config"] = "workflow_config"
    identifier: WorkflowId
    message_id: str | None = None
    job_id: JobId
    schedule: Schedule = Schedule()
    aux_source_names: dict[str, str] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)


class JobAction(enum.StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    RESET = "reset"
    STOP = "stop"


def _workflow_id_as_sent(value: WorkflowId | str | None) -> Any:
    """NICOS sends the string form; keep whichever form arrived."""
    if isinstance(value, WorkflowId):
        return value.model_dump()
    return value


class JobCommand(_Command):
    """Act on jobs: by ``job_id``, else every job of ``workflow_id``, else all.

    ``workflow_id`` may arrive as an object or as the string
    ``instrument/name/version``; :attr:`workflow` gives the parsed id either way.
    """

    kind: Literal["job_command"] = "job_command"
    message_id: str | None = None
    job_id: JobId | None = None
    workflow_id: Annotated[
        WorkflowId | str | None, PlainSerializer(_workflow_id_as_sent)
    ] = None
    action: JobAction

    @field_validator("workflow_id")
    @classmethod
    def _string_form_parses(cls, value: WorkflowId | str | None) -> Any:
        if isinstance(value, str):
            WorkflowId.parse(value)
        return value

    @property
    def workflow(self) -> WorkflowId | None:
        if isinstance(self.workflow_id, str):
            return WorkflowId.parse(self.workflow_id)
        return self.workflow_id


Command = Annotated[WorkflowConfig | JobCommand, Field(discriminator="kind")]
_COMMAND = TypeAdapter(Command)


def parse_command(payload: str | bytes) -> WorkflowConfig | JobCommand:
    """Decode one command message; raises ``pydantic.ValidationError`` if invalid."""
    return _COMMAND.validate_json(payload)


def encode_command(command: WorkflowConfig | JobCommand) -> bytes:
    """The compact JSON the facility's services read."""
    return command.model_dump_json().encode()
