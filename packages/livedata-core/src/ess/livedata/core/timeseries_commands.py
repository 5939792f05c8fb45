"""What a ``timeseries_data`` job tells the log histories: their caps.

Validated like the monitor's (see :mod:`ess.livedata.core.commands`);
``target`` names a log stream, or is omitted for all of them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, FiniteFloat, model_validator

from .commands import TargetedCommand

MAX_HISTORY_POINTS = 1_000_000
MAX_HISTORY_LENGTH_S = 86_400.0
"""One day of data time."""


class SetHistoryCaps(TargetedCommand):
    """Keep at most ``length_s`` seconds of data time and ``max_points`` points.

    A field left out keeps its current value. Shrinking applies at once: the
    points beyond the new caps are dropped (and counted as evicted).
    """

    action: Literal["set_history_caps"] = "set_history_caps"
    length_s: Annotated[FiniteFloat, Field(ge=1e-9, le=MAX_HISTORY_LENGTH_S)] | None = (
        None
    )
    max_points: Annotated[int, Field(ge=1, le=MAX_HISTORY_POINTS)] | None = None

    @model_validator(mode="after")
    def _something_to_set(self) -> SetHistoryCaps:
        if self.length_s is None and self.max_points is None:
            raise ValueError("give length_s, max_points or both")
        return self
