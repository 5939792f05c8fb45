"""Specs of the views the built-in services run for every instrument.

Monitor histograms, detector views and log time series are workflows too:
each has a spec saying which service runs it, its sources and its declared
outputs (from that service's contract), like a reduction workflow. They are
derived from the instrument, so a new instrument gets them without code:
``monitor_histogram``, ``{bank}_{view}`` per detector view, ``{camera}_xy``
per area detector and ``timeseries_data``, the facility's names for them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ess.livedata.protocol import (
    DETECTOR_DATA,
    MONITOR_DATA,
    TIMESERIES,
    DetectorOutputs,
    MonitorOutputs,
    ServiceName,
)

from .commands import MAX_BINS, TimeUnit
from .instrument import Instrument
from .message import StreamKind
from .workflow import WorkflowSpec

MONITOR_HISTOGRAM = "monitor_histogram"
TIMESERIES_DATA = "timeseries_data"
COUNTS_DEVICE = "{source_name}_counts_total"
"""NICOS device name of a source's cumulative counts, as the facility names it."""


class ViewParams(BaseModel):
    """A view without start parameters (``timeseries_data``).

    Keys the facility's tools send that livedata has no use for are ignored,
    so their commands are accepted as they are.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)


class ToaEdges(BaseModel):
    """Time-of-arrival bin edges, the facility's ``toa_edges`` parameter."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    start: float = Field(ge=0)
    stop: float = Field(gt=0)
    num_bins: int = Field(ge=1, le=MAX_BINS)
    unit: TimeUnit = TimeUnit.MS
    scale: Literal["linear"] = "linear"

    @model_validator(mode="after")
    def _increasing(self) -> ToaEdges:
        if self.stop <= self.start:
            raise ValueError("stop must be greater than start")
        return self


FRAME_MS = 1000 / 14
"""One ESS pulse period: the default time-of-arrival range."""


class TimeseriesDataParams(ViewParams):
    """``timeseries_data``: how much history a log keeps (None: the service's
    configured default). The facility sends none of these."""

    length_s: float | None = Field(default=None, gt=0)
    max_points: int | None = Field(default=None, ge=1)


class MonitorHistogramParams(ViewParams):
    """``monitor_histogram``: the bins of each monitor's spectrum."""

    toa_edges: ToaEdges = ToaEdges(start=0.0, stop=FRAME_MS, num_bins=200)


class DetectorViewParams(ViewParams):
    """``{bank}_{view}``: the bins of the bank's spectrum and ROI spectra.

    All views of one bank share its accumulation (one pass over the events
    for every view), so the bins of the view started last apply to all.
    """

    toa_edges: ToaEdges = ToaEdges(start=0.0, stop=FRAME_MS, num_bins=100)


ROI_OUTPUTS = (
    DetectorOutputs.ROI_SPECTRA_CURRENT,
    DetectorOutputs.ROI_SPECTRA_CUMULATIVE,
    DetectorOutputs.ROI_RECTANGLE,
    DetectorOutputs.ROI_POLYGON,
)
"""Outputs only views taking ROIs have (not ``panel_0_layers``, say)."""

AREA_VIEW = "xy"
"""The one view of an area detector: its image as it arrives."""

AREA_VIEW_OUTPUTS = (
    DetectorOutputs.CURRENT,
    DetectorOutputs.CUMULATIVE,
    DetectorOutputs.COUNTS_TOTAL,
    DetectorOutputs.COUNTS_TOTAL_CUMULATIVE,
)
"""An area detector's view has images and totals: no TOA, so no spectra."""


def area_view_name(camera: str) -> str:
    """The workflow of an area detector's image, ``{camera}_xy`` as the
    facility's ``area_panel_xy``."""
    return f"{camera}_{AREA_VIEW}"


def view_workflow_specs(instrument: Instrument) -> tuple[WorkflowSpec, ...]:
    """The view workflows of ``instrument``'s monitors, detectors, area
    detectors and logs."""
    specs: list[WorkflowSpec] = []
    if instrument.monitors:
        specs.append(
            WorkflowSpec(
                name=MONITOR_HISTOGRAM,
                version=1,
                title="Beam monitor",
                description="Time-of-arrival histogram of each monitor.",
                params=MonitorHistogramParams,
                outputs=MONITOR_DATA.outputs,
                source_kinds=(StreamKind.MONITOR_EVENTS, StreamKind.MONITOR_COUNTS),
                sources=tuple(m.name for m in instrument.monitors),
                service=ServiceName.MONITOR_DATA,
                nicos_devices={
                    MonitorOutputs.COUNTS_TOTAL_CUMULATIVE.name: COUNTS_DEVICE
                },
            )
        )
    for bank in instrument.detectors:
        images = bank.image_views
        for view in bank.views:
            specs.append(
                WorkflowSpec(
                    name=f"{bank.name}_{view.name}",
                    version=1,
                    title=view.title or f"{bank.name} {view.name}",
                    description=f"View {view.name!r} of detector {bank.name}.",
                    params=DetectorViewParams,
                    outputs=DETECTOR_DATA.outputs
                    if view in images
                    else tuple(
                        o for o in DETECTOR_DATA.outputs if o not in ROI_OUTPUTS
                    ),
                    source_kinds=(StreamKind.DETECTOR_EVENTS,),
                    sources=(bank.name,),
                    service=ServiceName.DETECTOR_DATA,
                    nicos_devices={
                        DetectorOutputs.COUNTS_TOTAL_CUMULATIVE.name: COUNTS_DEVICE
                    },
                )
            )
    for camera in instrument.area_detectors:
        specs.append(
            WorkflowSpec(
                name=area_view_name(camera.name),
                version=1,
                title=camera.title or camera.name,
                description=f"Accumulated ad00 images of {camera.name}.",
                params=ViewParams,
                outputs=AREA_VIEW_OUTPUTS,
                source_kinds=(StreamKind.AREA_DETECTOR,),
                sources=(camera.name,),
                service=ServiceName.DETECTOR_DATA,
                nicos_devices={
                    DetectorOutputs.COUNTS_TOTAL_CUMULATIVE.name: COUNTS_DEVICE
                },
            )
        )
    if instrument.logs:
        specs.append(
            WorkflowSpec(
                name=TIMESERIES_DATA,
                version=1,
                title="Readings",
                description="The time-stamped values of each log.",
                params=TimeseriesDataParams,
                outputs=TIMESERIES.outputs,
                source_kinds=(StreamKind.LOG,),
                sources=tuple(log.name for log in instrument.logs),
                service=ServiceName.TIMESERIES,
            )
        )
    return tuple(specs)
