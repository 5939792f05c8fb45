"""Specs of LOKI's reduction workflows: names, parameters, outputs.

Pydantic only, so a dashboard lists them without the reduction stack; the
pipeline is in :mod:`.reduction`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.workflow import WorkflowSpec

INCIDENT_MONITOR = StreamId(StreamKind.MONITOR_EVENTS, "beam_monitor_m1")
"""Beam monitor 1, 8.4 m upstream of the sample (Kafka source cbm2)."""


class IofQParams(BaseModel):
    """Q and wavelength binning, and where the direct beam hits the detector."""

    model_config = ConfigDict(extra="forbid")

    q_min: float = Field(default=0.01, gt=0.0, title="Q from (1/Å)")
    q_max: float = Field(default=0.3, gt=0.0, le=10.0, title="Q to (1/Å)")
    q_bins: int = Field(default=100, ge=1, le=10_000, title="Q bins")
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

    @model_validator(mode="after")
    def _ordered(self) -> IofQParams:
        if self.q_max <= self.q_min:
            raise ValueError("q_max must be greater than q_min")
        if self.wavelength_max <= self.wavelength_min:
            raise ValueError("wavelength_max must be greater than wavelength_min")
        return self


I_OF_Q = WorkflowSpec(
    name="i_of_q",
    version=1,
    title="I(Q)",
    description=(
        "SANS I(Q) of the chosen banks: each event's Q from its pixel's "
        "scattering angle (relative to the beam centre) and its wavelength "
        "(time of flight over the source-pixel path), counted in the "
        "wavelength band and divided by the incident monitor's counts in the "
        "same band. No transmission, solid-angle or efficiency corrections."
    ),
    params=IofQParams,
    outputs={
        "i_of_q": "Detector counts per Q bin / incident monitor counts in the band.",
        "detector_wavelength": "Detector counts per wavelength bin.",
        "monitor_wavelength": "Incident monitor counts per wavelength bin.",
    },
    source_kinds=(StreamKind.DETECTOR_EVENTS,),
    auxiliary=(INCIDENT_MONITOR,),
)

WORKFLOW_SPECS = (I_OF_Q,)
