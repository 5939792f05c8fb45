"""Which workflow and output each dashboard plot shows, in one place.

Names follow the facility's dummy instrument (``monitor_histogram`` per
monitor, ``{bank}_{view}`` per detector view, outputs ``current``,
``cumulative``, ``roi_spectra_*`` and the ROI read-backs), so a dashboard also
shows jobs started by the facility's tools. The services publish these names
from the per-service contracts; this module is the dashboard's only copy and
gives way to those contracts where the protocol package declares them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ess.livedata.core.instrument import DetectorBank
from ess.livedata.protocol import RoiGeometry, WorkflowId

MONITOR_HISTOGRAM = "monitor_histogram"
"""The workflow histogramming one beam monitor."""


class Output(enum.StrEnum):
    """Outputs of the monitor and detector-view workflows."""

    CURRENT = "current"
    CUMULATIVE = "cumulative"
    ROI_SPECTRA_CURRENT = "roi_spectra_current"
    ROI_SPECTRA_CUMULATIVE = "roi_spectra_cumulative"
    TOA_CURRENT = "toa_current"
    TOA_CUMULATIVE = "toa_cumulative"
    ROI_RECTANGLE = RoiGeometry.RECTANGLE.value
    ROI_POLYGON = RoiGeometry.POLYGON.value


WINDOWS = (Output.CURRENT, Output.CUMULATIVE)
"""The two time spans every histogram is shown over."""

ROI_SPECTRA = {
    Output.CURRENT: Output.ROI_SPECTRA_CURRENT,
    Output.CUMULATIVE: Output.ROI_SPECTRA_CUMULATIVE,
}
TOA = {Output.CURRENT: Output.TOA_CURRENT, Output.CUMULATIVE: Output.TOA_CUMULATIVE}


def monitor_workflow(instrument: str) -> WorkflowId:
    return WorkflowId(instrument=instrument, name=MONITOR_HISTOGRAM, version=1)


def view_workflow(instrument: str, bank: DetectorBank, view: str) -> WorkflowId:
    """The workflow of one view of one bank, e.g. ``dummy/panel_0_xy/1``."""
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
