"""Commands sent to services over the command topic, and their responses.

Commands are JSON validated by pydantic. Every command addressed to a service
gets exactly one :class:`CommandResponse`: accepted, or rejected with the
reason. Commands for other services are ignored silently, since all services
of an instrument share one command topic.
"""

from __future__ import annotations

import enum
import json
import time
import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from ess.livedata.protocol import ToaBinning

MAX_COMMAND_BYTES = 64 * 1024
"""Larger command payloads are refused unread."""

MAX_BINS = 100_000


class TimeUnit(enum.StrEnum):
    NS = "ns"
    US = "us"
    MS = "ms"
    S = "s"

    @property
    def ns(self) -> int:
        """Nanoseconds in one of this unit."""
        return {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}[self.value]


class TargetedCommand(BaseModel):
    """Base of command bodies: strict, immutable, optionally aimed at a source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str | None = None
    """Source (e.g. monitor name) the command applies to; None for all."""


class SetToaBinning(TargetedCommand):
    """Histogram time of arrival in ``bins`` equal bins over [toa_min, toa_max)."""

    action: Literal["set_toa_binning"] = "set_toa_binning"
    toa_min: float = Field(ge=0)
    toa_max: float = Field(gt=0, le=1e9)
    bins: int = Field(ge=1, le=MAX_BINS)
    unit: TimeUnit = TimeUnit.MS

    @model_validator(mode="after")
    def _ordered(self) -> SetToaBinning:
        if self.toa_max <= self.toa_min:
            raise ValueError("toa_max must be greater than toa_min")
        if self.toa_max * self.unit.ns > 10 * 1_000_000_000:
            raise ValueError("toa_max beyond 10 s is not a time of arrival")
        lo, hi = self.range_ns()
        if hi <= lo:
            raise ValueError("toa_max - toa_min must span at least 1 ns")
        return self

    def as_status(self) -> ToaBinning:
        """The binning as service status reports it."""
        return ToaBinning(
            toa_min=self.toa_min,
            toa_max=self.toa_max,
            bins=self.bins,
            unit=self.unit.value,
        )

    def range_ns(self) -> tuple[int, int]:
        """The range in whole ns, as events (integer ns) are binned."""
        ns = self.unit.ns
        return round(self.toa_min * ns), round(self.toa_max * ns)


class Reset(TargetedCommand):
    """Zero the cumulative result; current keeps working."""

    action: Literal["reset"] = "reset"


class Start(TargetedCommand):
    """Resume processing a source."""

    action: Literal["start"] = "start"


class Stop(TargetedCommand):
    """Stop processing a source; its events are counted as ignored."""

    action: Literal["stop"] = "stop"


MonitorCommand = Annotated[
    SetToaBinning | Reset | Start | Stop, Field(discriminator="action")
]
"""Commands the monitor_data service understands."""

MONITOR_COMMANDS: TypeAdapter[Any] = TypeAdapter(MonitorCommand)


class Command(BaseModel):
    """Envelope: who the command is for and a unique id to match the response.

    ``body`` is validated by the addressed service against its own command
    union (see :func:`parse_command`), so each service defines its commands
    without touching the others.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    command_id: str = Field(default_factory=lambda: uuid.uuid4().hex, max_length=64)
    service: str = Field(max_length=64)
    body: Any


class ResponseStatus(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class CommandResponse(BaseModel):
    """What a service answers to each command addressed to it."""

    command_id: str
    service: str
    status: ResponseStatus
    reason: str = ""
    timestamp: int = Field(default_factory=time.time_ns)


class InvalidCommand(ValueError):
    """A command payload that is not a valid :class:`Command`."""

    def __init__(self, reason: str, command_id: str = "", service: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.command_id = command_id
        self.service = service


def parse_command(payload: bytes, bodies: TypeAdapter[Any]) -> Command:
    """Validate a raw command; raise :class:`InvalidCommand` with a short reason.

    ``bodies`` validates the body, e.g. :data:`MONITOR_COMMANDS`.

    The id and service are recovered from a malformed command when possible,
    so that the rejection can still be addressed to the sender.
    """
    if len(payload) > MAX_COMMAND_BYTES:
        raise InvalidCommand(f"command larger than {MAX_COMMAND_BYTES} bytes")
    try:
        raw = json.loads(payload)
    except RecursionError:
        raise InvalidCommand("not JSON: nested too deeply") from None
    except ValueError as error:
        # Also UnicodeDecodeError, and integers beyond Python's digit limit.
        raise InvalidCommand(f"not JSON: {str(error)[:200]}") from None
    command_id = str(raw.get("command_id", ""))[:64] if isinstance(raw, dict) else ""
    service = str(raw.get("service", ""))[:64] if isinstance(raw, dict) else ""
    try:
        command = Command.model_validate(raw)
        return command.model_copy(update={"body": bodies.validate_python(command.body)})
    except ValidationError as error:
        raise InvalidCommand(validation_summary(error), command_id, service) from None


def validation_summary(error: ValidationError) -> str:
    """One line naming each invalid field and why, for responses and forms."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'command'}: {e['msg']}"
        for e in error.errors()
    )
