"""Which workflow and output each dashboard plot shows, in one place.

Output names are the per-service contracts' (``ess.livedata.protocol``),
workflow names the view specs' (:mod:`ess.livedata.core.view_specs`:
``monitor_histogram`` per monitor, ``{bank}_{view}`` per detector view, as
the facility names them), so a dashboard also shows jobs started by the
facility's tools.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ess.livedata.core.instrument import DetectorBank
from ess.livedata.core.view_specs import MONITOR_HISTOGRAM
from ess.livedata.protocol import (
    DetectorOutputs,
    MonitorOutputs,
    OutputSpec,
    RoiGeometry,
    WorkflowId,
)


class Window(enum.StrEnum):
    """The span a histogram covers: the page switch between the two."""

    CURRENT = "current"
    CUMULATIVE = "cumulative"


def _by_window(current: OutputSpec, cumulative: OutputSpec) -> dict[Window, str]:
    return {Window.CURRENT: current.format(), Window.CUMULATIVE: cumulative.format()}


MONITOR_OUTPUT = _by_window(MonitorOutputs.CURRENT, MonitorOutputs.CUMULATIVE)
"""A monitor job's time-of-arrival spectrum."""

VIEW_OUTPUT = _by_window(DetectorOutputs.CURRENT, DetectorOutputs.CUMULATIVE)
"""A view job's image (the job's workflow is the view)."""

TOA_OUTPUT = _by_window(DetectorOutputs.TOA_CURRENT, DetectorOutputs.TOA_CUMULATIVE)
"""The bank's time-of-arrival spectrum, published by each view job of the bank."""

ROI_SPECTRA = _by_window(
    DetectorOutputs.ROI_SPECTRA_CURRENT, DetectorOutputs.ROI_SPECTRA_CUMULATIVE
)
"""A view job's ROI spectra: every ROI's spectrum, dims (roi, toa)."""

ROI_READBACK = {
    RoiGeometry.RECTANGLE: DetectorOutputs.ROI_RECTANGLE.format(),
    RoiGeometry.POLYGON: DetectorOutputs.ROI_POLYGON.format(),
}
"""Output echoing the ROIs of a geometry a view's job uses."""


def monitor_workflow(instrument: str) -> WorkflowId:
    return WorkflowId(instrument=instrument, name=MONITOR_HISTOGRAM, version=1)


def view_workflow(instrument: str, bank: DetectorBank, view: str) -> WorkflowId:
    """The workflow of one view of one bank, e.g. ``dummy/panel_0_xy/1``, as
    ``view_workflow_specs`` names it."""
    return WorkflowId(instrument=instrument, name=f"{bank.name}_{view}", version=1)


class TimeUnit(enum.StrEnum):
    NS = "ns"
    US = "us"
    MS = "ms"
    S = "s"


class ToaEdges(BaseModel):
    """Time-of-arrival bin edges, the ``toa_edges`` parameter of the
    histogramming workflows in the facility's form."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: float = Field(ge=0)
    stop: float
    num_bins: int = Field(ge=1, le=100_000)
    unit: TimeUnit = TimeUnit.MS

    @model_validator(mode="after")
    def _increasing(self) -> ToaEdges:
        if self.stop <= self.start:
            raise ValueError("stop must be greater than start")
        return self

    def params(self) -> dict[str, Any]:
        """The ``params`` of a WorkflowConfig using these edges."""
        return {"toa_edges": self.model_dump(mode="json")}

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> ToaEdges | None:
        """The edges in a job's ``params``, if it names valid ones."""
        try:
            return cls.model_validate(params.get("toa_edges"))
        except ValidationError:
            return None
