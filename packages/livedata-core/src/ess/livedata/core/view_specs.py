"""Specs of the views the built-in services run for every instrument.

Monitor histograms, detector views and log time series are workflows too:
each has a spec saying which service runs it, its sources and its declared
outputs (from that service's contract), like a reduction workflow. They are
derived from the instrument, so a new instrument gets them without code:
``monitor_histogram``, ``{bank}_{view}`` per detector view and
``timeseries_data``, the facility's names for them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ess.livedata.protocol import (
    DETECTOR_DATA,
    MONITOR_DATA,
    TIMESERIES,
    DetectorOutputs,
    MonitorOutputs,
    ServiceName,
)

from .instrument import Instrument
from .message import StreamKind
from .workflow import WorkflowSpec

MONITOR_HISTOGRAM = "monitor_histogram"
TIMESERIES_DATA = "timeseries_data"
COUNTS_DEVICE = "{source_name}_counts_total"
"""NICOS device name of a source's cumulative counts, as the facility names it."""


class ViewParams(BaseModel):
    """A view takes no start parameters: its binning, ROIs and history caps
    are set by its service's commands while it runs."""

    model_config = ConfigDict(extra="forbid")


def view_workflow_specs(instrument: Instrument) -> tuple[WorkflowSpec, ...]:
    """The view workflows of ``instrument``'s monitors, detectors and logs."""
    specs: list[WorkflowSpec] = []
    if instrument.monitors:
        specs.append(
            WorkflowSpec(
                name=MONITOR_HISTOGRAM,
                version=1,
                title="Beam monitor",
                description="Time-of-arrival histogram of each monitor.",
                params=ViewParams,
                outputs=MONITOR_DATA.outputs,
                source_kinds=(StreamKind.MONITOR_EVENTS, StreamKind.MONITOR_COUNTS),
                sources=tuple(m.name for m in instrument.monitors),
                service=ServiceName.MONITOR_DATA,
                nicos_devices={MonitorOutputs.CUMULATIVE.name: COUNTS_DEVICE},
            )
        )
    for bank in instrument.detectors:
        for view in bank.views:
            specs.append(
                WorkflowSpec(
                    name=f"{bank.name}_{view.name}",
                    version=1,
                    title=view.title or f"{bank.name} {view.name}",
                    description=f"View {view.name!r} of detector {bank.name}.",
                    params=ViewParams,
                    outputs=DETECTOR_DATA.outputs,
                    source_kinds=(StreamKind.DETECTOR_EVENTS,),
                    sources=(bank.name,),
                    service=ServiceName.DETECTOR_DATA,
                    nicos_devices={DetectorOutputs.TOA_CUMULATIVE.name: COUNTS_DEVICE},
                )
            )
    if instrument.logs:
        specs.append(
            WorkflowSpec(
                name=TIMESERIES_DATA,
                version=1,
                title="Readings",
                description="The time-stamped values of each log.",
                params=ViewParams,
                outputs=TIMESERIES.outputs,
                source_kinds=(StreamKind.LOG,),
                sources=tuple(log.name for log in instrument.logs),
                service=ServiceName.TIMESERIES,
            )
        )
    return tuple(specs)
