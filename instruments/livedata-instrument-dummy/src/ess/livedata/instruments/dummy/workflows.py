"""Specs of the dummy instrument's reduction workflows: names, parameters, outputs.

Cheap on purpose (pydantic only): a dashboard lists these and builds forms
from the parameter models without the reduction stack. The pipelines that
implement them are in :mod:`.reduction`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.workflow import WorkflowSpec
from ess.livedata.protocol import OutputSpec, Temporality

FRAME_MS = 1000.0 / 14.0
"""One ESS source period: times of arrival lie in [0, FRAME_MS)."""

NORMALIZATION_MONITOR = StreamId(StreamKind.MONITOR_EVENTS, "monitor1")


class NormalizedCountsParams(BaseModel):
    """Which detector events count, and how much history to keep."""

    model_config = ConfigDict(extra="forbid")

    toa_min_ms: float = Field(
        default=0.0,
        ge=0.0,
        lt=FRAME_MS,
        title="Time of arrival from (ms)",
        description="Detector events arriving earlier are not counted.",
    )
    toa_max_ms: float = Field(
        default=FRAME_MS,
        gt=0.0,
        le=FRAME_MS,
        title="Time of arrival to (ms)",
        description="Detector events arriving at or after this are not counted.",
    )
    history_length: int = Field(
        default=600,
        ge=1,
        le=100_000,
        title="History length",
        description="Windows kept in the history (600 are 10 minutes at 1 s).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> NormalizedCountsParams:
        if self.toa_max_ms <= self.toa_min_ms:
            raise ValueError("toa_max_ms must be greater than toa_min_ms")
        return self


class WavelengthSpectrumParams(BaseModel):
    """Wavelength bins and the flight path that turns time into wavelength."""

    model_config = ConfigDict(extra="forbid")

    wavelength_min: float = Field(
        default=0.5, gt=0.0, title="Wavelength from (Å)", description="First edge."
    )
    wavelength_max: float = Field(
        default=10.0,
        gt=0.0,
        le=100.0,
        title="Wavelength to (Å)",
        description="Last edge.",
    )
    bins: int = Field(default=100, ge=1, le=10_000, title="Bins")
    flight_path_m: float = Field(
        default=29.0,
        gt=0.0,
        le=1000.0,
        title="Flight path (m)",
        description=(
            "Source-to-detector distance; 29 m is the dummy's source (25 m "
            "upstream of the sample) to panel_0 (4 m downstream)."
        ),
    )

    @model_validator(mode="after")
    def _ordered(self) -> WavelengthSpectrumParams:
        if self.wavelength_max <= self.wavelength_min:
            raise ValueError("wavelength_max must be greater than wavelength_min")
        return self


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


NORMALIZED_COUNTS = WorkflowSpec(
    name="monitor_normalized_counts",
    version=1,
    title="Monitor-normalised counts",
    description=(
        "Detector events in a time-of-arrival range divided by monitor1's "
        "events: per window over time, and since the job started or was reset."
    ),
    params=NormalizedCountsParams,
    outputs={
        "ratio_history": "Detector / monitor events of each window, over time.",
        "ratio_cumulative": "Detector / monitor events since start or reset.",
    },
    source_kinds=(StreamKind.DETECTOR_EVENTS,),
    auxiliary=(NORMALIZATION_MONITOR,),
)

WAVELENGTH_SPECTRUM = WorkflowSpec(
    name="wavelength_spectrum",
    version=1,
    title="Wavelength spectrum",
    description=(
        "Events of the chosen detectors and monitors histogrammed in "
        "wavelength, from time of arrival and one flight path (the pulse is "
        "taken to leave the source at time zero)."
    ),
    params=WavelengthSpectrumParams,
    outputs={"spectrum": "Events per wavelength bin since start or reset."},
    source_kinds=(StreamKind.DETECTOR_EVENTS, StreamKind.MONITOR_EVENTS),
)

ALWAYS_FAILS = WorkflowSpec(
    name="always_fails",
    version=1,
    title="Always fails",
    description=(
        "Raises on its first data, by design: shows how a failing job is "
        "reported while the other jobs keep running."
    ),
    params=NoParams,
    outputs={"nothing": "Never published."},
    source_kinds=(StreamKind.DETECTOR_EVENTS, StreamKind.MONITOR_EVENTS),
)

TOTAL_COUNTS = WorkflowSpec(
    name="total_counts",
    version=1,
    title="Total counts",
    description="Test workflow: total event count of panel_0 (the facility's).",
    params=NoParams,
    outputs=(
        OutputSpec(
            name="total_counts",
            temporality=Temporality.CUMULATIVE,
            unit="counts",
            title="Events of panel_0 since start or reset.",
        ),
    ),
    source_kinds=(StreamKind.DETECTOR_EVENTS,),
    sources=("panel_0",),
)

WORKFLOW_SPECS = (NORMALIZED_COUNTS, WAVELENGTH_SPECTRUM, ALWAYS_FAILS, TOTAL_COUNTS)
