"""Specs of LOKI's reduction workflows: names, parameters, outputs.

Pydantic only, so a dashboard lists them without the reduction stack; the
pipeline (esssans's ``LokiWorkflow``) is built in :mod:`.reduction`.
"""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.workflow import WorkflowSpec
from ess.livedata.protocol import OutputSpec, Temporality

INCIDENT_MONITOR = StreamId(StreamKind.MONITOR_EVENTS, "beam_monitor_m1")
"""Beam monitor 1, 8.4 m upstream of the sample (Kafka source cbm2)."""
TRANSMISSION_MONITOR = StreamId(StreamKind.MONITOR_EVENTS, "beam_monitor_m3")
"""Beam monitor 3, 0.2 m downstream of the sample (Kafka source cbm4)."""
BANKS = tuple(f"loki_detector_{i}" for i in range(9))


class QScale(enum.StrEnum):
    LINEAR = "linear"
    LOG = "log"


class TransmissionMode(enum.StrEnum):
    """How I(Q) is corrected for the sample's transmission."""

    CONSTANT = "constant"
    """Transmission fraction 1: no correction."""
    CURRENT_RUN = "current_run"
    """Transmission over incident monitor of this run (empty beam set to 1)."""


class SansParams(BaseModel):
    """Q and wavelength binning, beam centre and transmission of a live I(Q)."""

    model_config = ConfigDict(extra="forbid")

    q_min: float = Field(default=0.01, gt=0.0, title="Q from (1/Å)")
    q_max: float = Field(default=0.3, gt=0.0, le=10.0, title="Q to (1/Å)")
    q_bins: int = Field(default=20, ge=1, le=10_000, title="Q bins")
    q_scale: QScale = Field(default=QScale.LINEAR, title="Q bin spacing")
    wavelength_min: float = Field(
        default=1.0,
        gt=0.0,
        title="Wavelength from (Å)",
        description="Events and monitor counts outside the band are left out.",
    )
    wavelength_max: float = Field(
        default=13.0, gt=0.0, le=100.0, title="Wavelength to (Å)"
    )
    wavelength_bins: int = Field(default=100, ge=1, le=10_000, title="Wavelength bins")
    beam_center_x: float = Field(
        default=0.0,
        ge=-1.0,
        le=1.0,
        title="Beam centre x (m)",
        description="Where the direct beam hits the detector, relative to the beam axis.",
    )
    beam_center_y: float = Field(
        default=0.0, ge=-1.0, le=1.0, title="Beam centre y (m)"
    )
    transmission_mode: TransmissionMode = Field(
        default=TransmissionMode.CURRENT_RUN, title="Transmission"
    )

    @model_validator(mode="after")
    def _ordered(self) -> SansParams:
        if self.q_max <= self.q_min:
            raise ValueError("q_max must be greater than q_min")
        if self.wavelength_max <= self.wavelength_min:
            raise ValueError("wavelength_max must be greater than wavelength_min")
        return self


I_OF_Q = WorkflowSpec(
    name="i_of_q",
    version=2,
    title="I(Q)",
    description=(
        "esssans's LOKI I(Q) of one bank, accumulated over windows: wavelength "
        "from essreduce's lookup table (computed from the source, no choppers, "
        "as the facility's table), normalised by the incident monitor and "
        "solid angle, corrected by the transmission monitor. No direct-beam "
        "(efficiency) correction and no empty-beam run."
    ),
    params=SansParams,
    outputs=(
        OutputSpec(
            name="i_of_q",
            temporality=Temporality.CUMULATIVE,
            unit="dimensionless",
            title="I(Q) since start or reset.",
        ),
        OutputSpec(
            name="transmission_fraction",
            temporality=Temporality.CUMULATIVE,
            unit="dimensionless",
            title="Transmission over incident monitor per wavelength "
            "(1 in constant mode).",
        ),
    ),
    source_kinds=(StreamKind.DETECTOR_EVENTS,),
    sources=BANKS,
    auxiliary=(INCIDENT_MONITOR, TRANSMISSION_MONITOR),
)

WORKFLOW_SPECS = (I_OF_Q,)
