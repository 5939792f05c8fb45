"""Specs of BIFROST's reduction workflows: names, parameters, outputs.

Pydantic only, so a dashboard lists them without the reduction stack; the
pipeline (essspectroscopy's ``BifrostQCutWorkflow``) is built in
:mod:`.reduction`. Parameters and defaults are the facility's.
"""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.workflow import WorkflowSpec
from ess.livedata.protocol import OutputSpec, Temporality

DETECTOR = "unified_detector"
TANK_ANGLE = StreamId(StreamKind.LOG, "detector_tank_angle_r0/value")
"""The detector tank's rotation (a4, degrees): ``InstrumentAngle``."""
SAMPLE_ANGLE = StreamId(StreamKind.LOG, "rotation_stage/value")
"""The sample's rotation (a3, degrees): ``SampleAngle``."""
CUT_UNIT = "counts*angstrom/pC"
"""Counts over the normalisation monitor's wavelength density (1/Å) and the
proton charge, which the facility fixes at 1 pC live."""


class Edges(BaseModel):
    """``num_bins`` equal bins from ``start`` to ``stop``."""

    model_config = ConfigDict(extra="forbid")

    start: float
    stop: float
    num_bins: int = Field(default=100, ge=1, le=2_000)

    @model_validator(mode="after")
    def _ordered(self) -> Edges:
        if self.stop <= self.start:
            raise ValueError("stop must be greater than start")
        return self


class QComponent(enum.StrEnum):
    QX = "Qx"
    QY = "Qy"
    QZ = "Qz"


class QAxis(Edges):
    """Bins (1/Å) along one Cartesian component of Q in the sample-table frame."""

    axis: QComponent


class QVector(BaseModel):
    """A direction in Q (sample-table frame); its length does not matter."""

    model_config = ConfigDict(extra="forbid")

    qx: float = 1.0
    qy: float = 0.0
    qz: float = 0.0

    @model_validator(mode="after")
    def _nonzero(self) -> QVector:
        if self.qx == self.qy == self.qz == 0.0:
            raise ValueError("a Q direction must not be zero")
        return self

    @property
    def name(self) -> str:
        """The output dimension: ``Q_(qx,qy,qz)``, as the facility names it."""
        return f"Q_({self.qx},{self.qy},{self.qz})"


class BifrostQMapParams(BaseModel):
    """|Q| (1/Å) and energy transfer (meV) bins."""

    model_config = ConfigDict(extra="forbid")

    q_edges: Edges = Field(
        default=Edges(start=0.5, stop=3.0, num_bins=100), title="|Q| bins (1/Å)"
    )
    energy_edges: Edges = Field(
        default=Edges(start=-1.0, stop=1.0, num_bins=100),
        title="Energy transfer bins (meV)",
    )


class BifrostElasticQMapParams(BaseModel):
    """Two Cartesian Q components and their bins."""

    model_config = ConfigDict(extra="forbid")

    axis1: QAxis = QAxis(axis=QComponent.QX, start=-3.0, stop=3.0, num_bins=100)
    axis2: QAxis = QAxis(axis=QComponent.QZ, start=-3.0, stop=3.0, num_bins=100)

    @model_validator(mode="after")
    def _distinct(self) -> BifrostElasticQMapParams:
        if self.axis1.axis == self.axis2.axis:
            raise ValueError("axis1 and axis2 must be different Q components")
        return self


class BifrostCustomElasticQMapParams(BaseModel):
    """Two Q directions and bins (1/Å) along each."""

    model_config = ConfigDict(extra="forbid")

    axis1: QVector = QVector(qx=1.0, qy=0.0, qz=0.0)
    axis1_edges: Edges = Edges(start=-3.0, stop=3.0, num_bins=100)
    axis2: QVector = QVector(qx=0.0, qy=0.0, qz=1.0)
    axis2_edges: Edges = Edges(start=-3.0, stop=3.0, num_bins=100)

    @model_validator(mode="after")
    def _distinct(self) -> BifrostCustomElasticQMapParams:
        if self.axis1.name == self.axis2.name:
            raise ValueError("axis1 and axis2 must be different Q directions")
        return self


class ArcEnergy(enum.StrEnum):
    """An analyser arc, by the energy it is set to (the facility's labels)."""

    ARC_2_7 = "2.7 meV"
    ARC_3_2 = "3.2 meV"
    ARC_3_8 = "3.8 meV"
    ARC_4_4 = "4.4 meV"
    ARC_5_0 = "5.0 meV"


class RatemeterRegion(BaseModel):
    """One arc and a pixel interval along it (channel x pixel, 0..900)."""

    model_config = ConfigDict(extra="forbid")

    arc: ArcEnergy = ArcEnergy.ARC_5_0
    pixel_start: int = Field(default=0, ge=0, le=899)
    pixel_stop: int = Field(default=900, ge=1, le=900)

    @model_validator(mode="after")
    def _ordered(self) -> RatemeterRegion:
        if self.pixel_stop <= self.pixel_start:
            raise ValueError("pixel_stop must be greater than pixel_start")
        return self


class DetectorRatemeterParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: RatemeterRegion = RatemeterRegion()


def _cut_spec(
    name: str, title: str, description: str, params: type[BaseModel]
) -> WorkflowSpec:
    return WorkflowSpec(
        name=name,
        version=1,
        title=title,
        description=(
            f"{description} essspectroscopy's BifrostQCutWorkflow accumulated "
            "over windows: incident wavelength from essreduce's lookup table "
            "computed from BIFROST's choppers, normalised by the normalisation "
            "monitor of the geometry file (as the facility does), sample and "
            "tank angles from their motors."
        ),
        params=params,
        outputs=(
            OutputSpec(
                name="cut_data",
                temporality=Temporality.CUMULATIVE,
                unit=CUT_UNIT,
                title="(arc, axis 2, axis 1) since start or reset.",
            ),
        ),
        source_kinds=(StreamKind.DETECTOR_EVENTS,),
        sources=(DETECTOR,),
        auxiliary=(TANK_ANGLE, SAMPLE_ANGLE),
    )


QMAP = _cut_spec(
    "qmap",
    "Q map",
    "Intensity binned in |Q| and energy transfer, per arc.",
    BifrostQMapParams,
)
ELASTIC_QMAP = _cut_spec(
    "elastic_qmap",
    "Elastic Q map",
    "Q-space map on two chosen Cartesian Q components, per arc.",
    BifrostElasticQMapParams,
)
ELASTIC_QMAP_CUSTOM = _cut_spec(
    "elastic_qmap_custom",
    "Elastic Q map (custom)",
    "Q-space map along two given Q directions, per arc.",
    BifrostCustomElasticQMapParams,
)

DETECTOR_RATEMETER = WorkflowSpec(
    name="detector_ratemeter",
    version=1,
    title="Detector Ratemeter",
    description=(
        "Counts inside one arc and a pixel interval along it (all three "
        "tubes), per window and since start; essspectroscopy's "
        "BifrostWorkflow groups the events by pixel. Variances equal counts."
    ),
    params=DetectorRatemeterParams,
    outputs=(
        OutputSpec(
            name="detector_region_counts",
            temporality=Temporality.WINDOW,
            unit="counts",
            title="Counts in the region this window.",
        ),
        OutputSpec(
            name="detector_region_counts_cumulative",
            temporality=Temporality.CUMULATIVE,
            unit="counts",
            title="Counts in the region since start or reset.",
        ),
    ),
    source_kinds=(StreamKind.DETECTOR_EVENTS,),
    sources=(DETECTOR,),
)

WORKFLOW_SPECS = (QMAP, ELASTIC_QMAP, ELASTIC_QMAP_CUSTOM, DETECTOR_RATEMETER)
