"""What a view job tells a detector bank: TOA range, view resolution, ROIs, reset.

The bodies are validated like the monitor's (see
:mod:`ess.livedata.core.commands`). Everything that can be checked without knowing the
instrument is checked here (finite coordinates, ordered ranges, vertex and ROI
limits); the service rejects what needs the instrument (unknown bank or view).

``set_toa_binning`` is shared with monitor_data. For a detector bank it is
also the time-of-arrival *filter*: events outside ``[toa_min, toa_max)`` are
counted as out of range and left out of every image and spectrum.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    model_validator,
)

from .commands import TargetedCommand

MAX_ROIS = 16
"""ROIs per detector bank; ids are 0 .. MAX_ROIS - 1."""

MAX_POLYGON_VERTICES = 32

MAX_RESOLUTION = 4096
"""Largest screen size along either axis of a projected view."""

_Name = Annotated[str, Field(min_length=1, max_length=64)]


class Rectangle(BaseModel):
    """Axis-aligned rectangle ``[x_min, x_max) x [y_min, y_max)`` in view coordinates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["rectangle"] = "rectangle"
    x_min: FiniteFloat
    x_max: FiniteFloat
    y_min: FiniteFloat
    y_max: FiniteFloat

    @model_validator(mode="after")
    def _ordered(self) -> Rectangle:
        if self.x_max <= self.x_min or self.y_max <= self.y_min:
            raise ValueError("rectangle needs x_min < x_max and y_min < y_max")
        return self


class Polygon(BaseModel):
    """Closed polygon through ``vertices`` (x, y) in view coordinates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["polygon"] = "polygon"
    vertices: tuple[tuple[FiniteFloat, FiniteFloat], ...] = Field(
        min_length=3, max_length=MAX_POLYGON_VERTICES
    )


RoiShape = Annotated[Rectangle | Polygon, Field(discriminator="kind")]


class SetRoi(TargetedCommand):
    """Add ROI ``roi`` of bank ``target``, or replace it; its cumulative restarts.

    Coordinates are those of the view's published image: bin indices for
    logical views (pixel ``i`` spans ``[i, i + 1)``), the screen coordinates
    in the image's units for projections. A pixel belongs to the ROI when its
    centre (for projections: its position without the display noise) is
    inside.
    """

    action: Literal["set_roi"] = "set_roi"
    target: _Name
    view: _Name
    roi: int = Field(ge=0, lt=MAX_ROIS)
    shape: RoiShape


class RemoveRoi(TargetedCommand):
    """Remove ROI ``roi`` of bank ``target``."""

    action: Literal["remove_roi"] = "remove_roi"
    target: _Name
    roi: int = Field(ge=0, lt=MAX_ROIS)


class SetViewResolution(TargetedCommand):
    """Screen size ``(ny, nx)`` of a projected view; its data is kept."""

    action: Literal["set_view_resolution"] = "set_view_resolution"
    target: _Name
    view: _Name
    resolution: tuple[
        Annotated[int, Field(ge=1, le=MAX_RESOLUTION)],
        Annotated[int, Field(ge=1, le=MAX_RESOLUTION)],
    ]
