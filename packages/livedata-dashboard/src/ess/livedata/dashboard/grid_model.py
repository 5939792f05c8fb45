"""What a plot grid is: named cells, each plotting outputs with its options.

A cell names outputs by (workflow, source, output), never by job number:
jobs restart under new numbers, and a cell follows the current job of its
workflow on its source. Grids are plain data so they can be stored,
shipped as instrument templates and exchanged as YAML.
"""

from __future__ import annotations

import enum
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ess.livedata.config import ConfigError
from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.protocol import WorkflowId

from .correlation import CorrelationOptions


class Plotter(enum.StrEnum):
    LINE = "line"
    IMAGE = "image"
    BARS = "bars"
    TABLE = "table"
    TIMESERIES = "timeseries"
    CORRELATION = "correlation"
    """One scalar or 1-D output histogrammed against one or two logs."""


class Window(enum.StrEnum):
    """Which span of data a cell shows."""

    LATEST = "latest"
    LAST = "last"
    """The sum of the window outputs of the last ``window_s`` seconds (or, for
    a time series, its points of the last ``window_s`` seconds)."""
    CUMULATIVE = "cumulative"
    """The job's cumulative output, where it publishes one."""


class Scale(enum.StrEnum):
    LINEAR = "linear"
    LOG = "log"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OutputRef(_Frozen):
    """An output of the current job of ``workflow`` on ``source``."""

    workflow: str
    """``instrument/name/version``, as :class:`WorkflowId` prints."""

    @model_validator(mode="after")
    def _workflow_parses(self) -> OutputRef:
        WorkflowId.parse(self.workflow)
        return self

    source: str
    output: str

    @property
    def workflow_id(self) -> WorkflowId:
        return WorkflowId.parse(self.workflow)

    @property
    def path(self) -> str:
        """``name/source/output``: how captions and tests name the output."""
        return f"{self.workflow_id.name}/{self.source}/{self.output}"

    @classmethod
    def of(cls, workflow: WorkflowId, source: str, output: str) -> OutputRef:
        return cls(workflow=str(workflow), source=source, output=output)


class CellOptions(_Frozen):
    window: Window = Window.LATEST
    window_s: float = Field(default=60.0, gt=0, le=3600)
    x_scale: Scale = Scale.LINEAR
    y_scale: Scale = Scale.LINEAR
    color_scale: Scale = Scale.LINEAR
    color_limits: tuple[float, float] | None = None
    rate: bool = False
    """Divide by the data's time span: counts become counts/s."""

    @model_validator(mode="after")
    def _limits_increase(self) -> CellOptions:
        limits = self.color_limits
        if limits is not None and limits[1] <= limits[0]:
            raise ValueError("colour limits: the upper must exceed the lower")
        return self


class Cell(_Frozen):
    title: str
    outputs: tuple[OutputRef, ...] = Field(min_length=1)
    plotter: Plotter = Plotter.LINE
    options: CellOptions = CellOptions()
    correlation: CorrelationOptions | None = None
    """The logs a ``correlation`` cell bins its output by; only that plotter's."""

    @model_validator(mode="after")
    def _correlation_fits_plotter(self) -> Cell:
        if self.plotter is not Plotter.CORRELATION:
            if self.correlation is not None:
                raise ValueError("correlation options need plotter correlation")
            return self
        if self.correlation is None:
            raise ValueError("a correlation cell needs correlation options (x log)")
        if len(self.outputs) != 1:
            raise ValueError("a correlation cell correlates exactly one output")
        return self


class Grid(_Frozen):
    name: str = Field(min_length=1)
    cells: tuple[Cell, ...] = ()
    columns: int = Field(default=2, ge=1, le=6)


class GridFileError(ValueError):
    """An uploaded grid that is not valid YAML or not a valid grid."""


def grid_to_yaml(grid: Grid) -> str:
    return yaml.safe_dump(
        grid.model_dump(mode="json", exclude_none=True), sort_keys=False
    )


def grid_from_yaml(text: str | bytes) -> Grid:
    """The grid in ``text``.

    Raises
    ------
    GridFileError
        With one line saying what is wrong.
    """
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise GridFileError(f"not YAML: {str(error).splitlines()[0]}") from None
    try:
        return Grid.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "grid"
        raise GridFileError(
            f"not a grid: {where}: {first['msg']} ({error.error_count()} error(s))"
        ) from None


def templates(loaded: LoadedInstrument) -> list[Grid]:
    """The plugin's first grids, validated.

    Raises
    ------
    ConfigError
        A template is not a valid grid (one line).
    """
    grids = []
    for data in loaded.dashboard_grids():
        try:
            grids.append(Grid.model_validate(data))
        except ValidationError as error:
            raise ConfigError(
                f"instrument {loaded.name}: dashboard template "
                f"{data.get('name')!r} is invalid: {error.errors()[0]['msg']}"
            ) from None
    return grids
