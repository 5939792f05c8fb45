"""What a job tells a service's accumulators: binning, reset, start, stop.

The wire carries the facility's commands (``ess.livedata.protocol``); a
service's job binding turns a job's parameters and actions into these bodies,
validated by pydantic, each aimed at one source (``target``) or all of them.
"""

from __future__ import annotations

import enum
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
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


def validation_summary(error: ValidationError) -> str:
    """One line naming each invalid field and why, for responses and forms."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'command'}: {e['msg']}"
        for e in error.errors()
    )
