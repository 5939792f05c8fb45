"""Specs of ESTIA's reduction workflows: names, parameters, outputs.

Pydantic only, so a dashboard lists them without the reduction stack; the
pipeline (essreflectometry's ``EstiaWorkflow``) is built in :mod:`.reduction`.
"""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.workflow import WorkflowSpec
from ess.livedata.protocol import OutputSpec, Temporality

DETECTOR = StreamId(StreamKind.DETECTOR_EVENTS, "multiblade_detector")
BEAM_MONITOR = StreamId(StreamKind.MONITOR_EVENTS, "cbm1")
INTENSITY_UNIT = "counts/uA"
"""Counts per proton current: a constant 1 µA until a stream provides it."""


class Scale(enum.StrEnum):
    LINEAR = "linear"
    LOG = "log"


class ReflectometryParams(BaseModel):
    """Binning and detector selection of a live reflectometry run (the
    facility's defaults)."""

    model_config = ConfigDict(extra="forbid")

    wavelength_min: float = Field(default=3.5, gt=0.0, title="Wavelength from (Å)")
    wavelength_max: float = Field(default=12.0, le=100.0, title="Wavelength to (Å)")
    wavelength_bins: int = Field(default=120, ge=1, le=10_000, title="Wavelength bins")
    wavelength_scale: Scale = Field(default=Scale.LINEAR, title="Wavelength spacing")
    q_min: float = Field(default=0.01, gt=0.0, title="Q from (1/Å)")
    q_max: float = Field(default=0.5, le=10.0, title="Q to (1/Å)")
    q_bins: int = Field(default=400, ge=1, le=100_000, title="Q bins")
    q_scale: Scale = Field(default=Scale.LINEAR, title="Q spacing")
    theta_min: float = Field(default=-1.0, ge=-90.0, title="θ from (deg)")
    theta_max: float = Field(default=2.0, le=90.0, title="θ to (deg)")
    theta_bins: int = Field(default=120, ge=1, le=10_000, title="θ bins")
    sample_rotation_offset: float = Field(
        default=0.0,
        ge=-90.0,
        le=90.0,
        title="Sample rotation offset (deg)",
        description="Added to the logged sample rotation.",
    )
    y_index_min: int = Field(default=0, ge=0, le=63, title="First strip")
    y_index_max: int = Field(default=63, ge=0, le=63, title="Last strip")
    z_index_min: int = Field(default=0, ge=0, le=1535, title="First blade·wire")
    z_index_max: int = Field(default=1535, ge=0, le=1535, title="Last blade·wire")
    beam_divergence_min: float = Field(
        default=-0.75, ge=-10.0, title="Beam divergence from (deg)"
    )
    beam_divergence_max: float = Field(
        default=0.75, le=10.0, title="Beam divergence to (deg)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> ReflectometryParams:
        for name in ("wavelength", "q", "theta", "beam_divergence"):
            if getattr(self, f"{name}_max") <= getattr(self, f"{name}_min"):
                raise ValueError(f"{name}_max must be greater than {name}_min")
        for name in ("y_index", "z_index"):
            if getattr(self, f"{name}_max") < getattr(self, f"{name}_min"):
                raise ValueError(f"{name}_max must not be less than {name}_min")
        return self


def _cumulative(name: str, title: str) -> OutputSpec:
    return OutputSpec(
        name=name, temporality=Temporality.CUMULATIVE, unit=INTENSITY_UNIT, title=title
    )


REFLECTOMETRY_REDUCTION = WorkflowSpec(
    name="reflectometry_reduction",
    version=1,
    title="Reflectometry reduction",
    description=(
        "essreflectometry's ESTIA reduction of the multiblade detector, "
        "accumulated over windows: wavelength from essreduce's lookup table "
        "computed from the ESS source, footprint-corrected intensity per "
        "proton current (a constant 1 µA until a stream provides it, as at "
        "the facility) versus wavelength, Q and (θ, wavelength)."
    ),
    params=ReflectometryParams,
    outputs=(
        _cumulative("i_of_wavelength", "I(λ)"),
        _cumulative("i_of_q", "I(Q)"),
        _cumulative("i_of_theta_wavelength", "I(θ, λ)"),
    ),
    source_kinds=(StreamKind.DETECTOR_EVENTS,),
    sources=(DETECTOR.name,),
)

WORKFLOW_SPECS = (REFLECTOMETRY_REDUCTION,)
