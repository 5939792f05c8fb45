"""Specs of DREAM's reduction workflows: names, parameters, outputs.

Pydantic only, so a dashboard lists them without the reduction stack; the
pipeline (essdiffraction's ``DreamPowderWorkflow``) is built in
:mod:`.reduction`.
"""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ess.livedata.core.geometry_files import DATA_DIR_VARIABLE
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.workflow import WorkflowSpec
from ess.livedata.protocol import OutputSpec, Temporality

from .vanadium import FACILITY_VANADIUM

CAVE_MONITOR = StreamId(StreamKind.MONITOR_EVENTS, "monitor_cave")
BANKS = (
    "mantle_detector",
    "endcap_backward_detector",
    "endcap_forward_detector",
    "high_resolution_detector",
    "sans_detector",
)


class InstrumentConfiguration(enum.StrEnum):
    """Chopper configuration (band chopper phase); high resolution is not
    available in essdiffraction."""

    HIGH_FLUX_BC215 = "high_flux_BC215"
    HIGH_FLUX_BC240 = "high_flux_BC240"


class DspacingScale(enum.StrEnum):
    LINEAR = "linear"
    LOG = "log"


class PowderParams(BaseModel):
    """Binning, wavelength band and chopper configuration of a live powder run."""

    model_config = ConfigDict(extra="forbid")

    dspacing_min: float = Field(default=0.4, gt=0.0, title="d from (Å)")
    dspacing_max: float = Field(default=3.5, gt=0.0, le=100.0, title="d to (Å)")
    dspacing_bins: int = Field(default=500, ge=1, le=100_000, title="d bins")
    dspacing_scale: DspacingScale = Field(
        default=DspacingScale.LINEAR, title="d bin spacing"
    )
    two_theta_min: float = Field(default=0.4, ge=0.0, title="2θ from (rad)")
    two_theta_max: float = Field(default=3.1415, le=3.1416, title="2θ to (rad)")
    two_theta_bins: int = Field(default=100, ge=1, le=10_000, title="2θ bins")
    wavelength_min: float = Field(
        default=1.1,
        gt=0.0,
        title="Wavelength from (Å)",
        description="Events outside the band are masked.",
    )
    wavelength_max: float = Field(
        default=4.5, gt=0.0, le=100.0, title="Wavelength to (Å)"
    )
    instrument_configuration: InstrumentConfiguration = Field(
        default=InstrumentConfiguration.HIGH_FLUX_BC240, title="Chopper configuration"
    )

    @model_validator(mode="after")
    def _ordered(self) -> PowderParams:
        for name in ("dspacing", "two_theta", "wavelength"):
            if getattr(self, f"{name}_max") <= getattr(self, f"{name}_min"):
                raise ValueError(f"{name}_max must be greater than {name}_min")
        return self


class PowderVanadiumParams(PowderParams):
    """A live powder run's parameters and the vanadium run to normalise by."""

    vanadium_file: str = Field(
        default=FACILITY_VANADIUM,
        min_length=1,
        title="Vanadium run",
        description=f"NeXus file; a bare name is looked up in {DATA_DIR_VARIABLE}.",
    )


def _cumulative(name: str, title: str) -> OutputSpec:
    return OutputSpec(
        name=name, temporality=Temporality.CUMULATIVE, unit="dimensionless", title=title
    )


POWDER_REDUCTION = WorkflowSpec(
    name="powder_reduction",
    version=1,
    title="Powder reduction",
    description=(
        "essdiffraction's DREAM powder reduction of one bank, accumulated over "
        "windows: wavelength from essreduce's lookup table computed from the "
        "configuration's choppers, focussed intensity versus d-spacing, "
        "d-spacing x 2θ and time of flight, normalised by the summed counts "
        "(no proton-charge stream yet, as at the facility), no vanadium."
    ),
    params=PowderParams,
    outputs=(
        _cumulative("focussed_data_dspacing", "Focussed intensity versus d."),
        _cumulative("focussed_data_dspacing_two_theta", "Intensity versus d and 2θ."),
        _cumulative("focussed_data_tof", "Focussed intensity versus time of flight."),
    ),
    source_kinds=(StreamKind.DETECTOR_EVENTS,),
    sources=BANKS,
    auxiliary=(CAVE_MONITOR,),
)

POWDER_REDUCTION_WITH_VANADIUM = WorkflowSpec(
    name="powder_reduction_with_vanadium",
    version=1,
    title="Powder reduction (with vanadium)",
    description=(
        "As the powder reduction, plus the focussed intensities divided by "
        "those of a vanadium run essdiffraction reads from its NeXus file "
        "(reduced once, normalised by its summed counts as the sample is)."
    ),
    params=PowderVanadiumParams,
    outputs=(
        *POWDER_REDUCTION.output_specs,
        _cumulative("i_of_dspacing", "Intensity versus d, vanadium-normalised."),
        _cumulative(
            "i_of_dspacing_two_theta", "Intensity versus d and 2θ, vanadium-normalised."
        ),
        _cumulative(
            "i_of_tof", "Intensity versus time of flight, vanadium-normalised."
        ),
    ),
    source_kinds=(StreamKind.DETECTOR_EVENTS,),
    sources=BANKS,
    auxiliary=(CAVE_MONITOR,),
)

WORKFLOW_SPECS = (POWDER_REDUCTION, POWDER_REDUCTION_WITH_VANADIUM)
