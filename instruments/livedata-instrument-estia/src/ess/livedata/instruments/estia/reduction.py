"""ESTIA's reflectometry reduction: essreflectometry's ``EstiaWorkflow``, live.

Imported only by the plugin's factory hook (the reduction service):
essreflectometry, essreduce and sciline come with the ``reduction`` extra.

Set as the facility sets it live: footprint correction, normalised by a
proton current that no stream provides yet (a constant 1 µA), no reference
run, so intensities rather than reflectivities. The window's ev44 batches
become the ``NXevent_data`` the package reads from files. The wavelength
lookup table is computed from the ESS source and cached: essreflectometry
describes no ESTIA choppers (the facility reads a table file the package
downloads), and the table covers flight paths from source to detector.
``StreamProcessor`` accumulates I(θ, λ), where the pipeline is still linear
in the events; I(λ) and I(Q) are computed from the sum.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import NewType

import sciline
import scipp as sc
import scippnexus as snx

from ess.estia import EstiaWorkflow
from ess.livedata.core.instrument import Instrument
from ess.livedata.core.message import StreamId
from ess.livedata.core.nexus_geometry import instrument_geometry
from ess.livedata.core.prepared_workflow import PreparedWorkflow
from ess.livedata.core.workflow import Workflow, WorkflowFactory
from ess.livedata.reduction.chopper_setting import LookupTableSetting
from ess.livedata.reduction.lookup_table_cache import LookupTableCache
from ess.livedata.reduction.nxevent_data import to_nxevent_data
from ess.livedata.reduction.streamed import streamed_workflow
from ess.reduce.nexus.types import NeXusData
from ess.reflectometry import types as rt
from ess.reflectometry.types import SampleRun

from .workflows import (
    DETECTOR,
    REFLECTOMETRY_REDUCTION,
    ReflectometryParams,
    Scale,
)

LOOKUP_TABLE = LookupTableSetting(choppers=(), ltotal_min_m=37.0, ltotal_max_m=41.0)
"""ESTIA's table: the bare ESS pulse, flight paths from source over the
sample (35 m) to the detector's pixels (about 4 m)."""
PROTON_CURRENT = sc.DataArray(
    sc.array(dims=["time"], values=[1.0], unit="uA"),
    coords={
        "time": sc.epoch(unit="ns") + sc.array(dims=["time"], values=[0], unit="ns")
    },
)
"""The facility's stand-in: 1 µA from the epoch on."""

DetectorBatches = NewType("DetectorBatches", list)
IntensityThetaWavelength = NewType("IntensityThetaWavelength", sc.DataArray)
IntensityWavelength = NewType("IntensityWavelength", sc.DataArray)
IntensityQ = NewType("IntensityQ", sc.DataArray)

ACCUMULATED = (IntensityThetaWavelength,)
TARGETS = {
    "i_of_wavelength": IntensityWavelength,
    "i_of_q": IntensityQ,
    "i_of_theta_wavelength": IntensityThetaWavelength,
}


def detector_events(batches: DetectorBatches) -> NeXusData[snx.NXdetector, SampleRun]:
    return NeXusData[snx.NXdetector, SampleRun](to_nxevent_data(batches, with_ids=True))


def intensity_theta_wavelength(
    events: rt.ReducibleData[SampleRun],
    wavelength: rt.WavelengthBins,
    theta: rt.ThetaBins[SampleRun],
) -> IntensityThetaWavelength:
    """Corrected events histogrammed in θ (per pixel, in the package's
    unit) and wavelength; θ edges as given."""
    pixel_theta = theta.to(unit=events.coords["theta"].unit)
    histogram = events.hist(theta=pixel_theta, wavelength=wavelength, dim=events.dims)
    return IntensityThetaWavelength(
        histogram.transpose(["theta", "wavelength"]).assign_coords(theta=theta)
    )


def intensity_wavelength(intensity: IntensityThetaWavelength) -> IntensityWavelength:
    return IntensityWavelength(intensity.sum("theta"))


def intensity_q(
    intensity: IntensityThetaWavelength,
    q: rt.QBins,
    graph: rt.CoordTransformationGraph[SampleRun],
) -> IntensityQ:
    """I(θ, λ) rebinned to Q from its bin centres (the package's Q(θ, λ))."""
    centres = intensity.assign_coords(
        theta=sc.midpoints(intensity.coords["theta"]),
        wavelength=sc.midpoints(intensity.coords["wavelength"]),
    )
    return IntensityQ(centres.transform_coords("Q", graph=graph).hist(Q=q))


def _edges(dim: str, start: float, stop: float, bins: int, unit: str, scale: Scale):
    make = sc.geomspace if scale is Scale.LOG else sc.linspace
    return make(dim, start, stop, bins + 1, unit=unit)


def estia_workflow(
    geometry_file: Path, table: rt.LookupTable, params: ReflectometryParams
) -> sciline.Pipeline:
    """essreflectometry's ESTIA pipeline with the three histograms, set for
    live use; events are not set (offline: the ``NeXusData`` key; live: the
    batch key)."""
    workflow = EstiaWorkflow()
    for provider in (intensity_theta_wavelength, intensity_wavelength, intensity_q):
        workflow.insert(provider)
    workflow[rt.Filename[SampleRun]] = str(geometry_file)
    workflow[rt.NeXusDetectorName] = DETECTOR.name
    workflow[rt.LookupTableRelativeErrorThreshold] = {DETECTOR.name: float("inf")}
    workflow[rt.ProtonCharge[SampleRun]] = PROTON_CURRENT
    workflow[rt.SampleRotationOffset[SampleRun]] = sc.scalar(
        params.sample_rotation_offset, unit="deg"
    )
    workflow[rt.WavelengthBins] = _edges(
        "wavelength",
        params.wavelength_min,
        params.wavelength_max,
        params.wavelength_bins,
        "angstrom",
        params.wavelength_scale,
    )
    workflow[rt.QBins] = _edges(
        "Q", params.q_min, params.q_max, params.q_bins, "1/angstrom", params.q_scale
    )
    workflow[rt.ThetaBins[SampleRun]] = sc.linspace(
        "theta", params.theta_min, params.theta_max, params.theta_bins + 1, unit="deg"
    )
    workflow[rt.YIndexLimits] = (
        sc.scalar(params.y_index_min),
        sc.scalar(params.y_index_max),
    )
    workflow[rt.ZIndexLimits] = (
        sc.scalar(params.z_index_min),
        sc.scalar(params.z_index_max),
    )
    workflow[rt.BeamDivergenceLimits] = (
        sc.scalar(params.beam_divergence_min, unit="deg"),
        sc.scalar(params.beam_divergence_max, unit="deg"),
    )
    fields = {f.name: getattr(table, f.name) for f in dataclasses.fields(table)}
    workflow[rt.LookupTable[SampleRun, snx.NXdetector]] = rt.LookupTable[
        SampleRun, snx.NXdetector
    ](**fields)
    return workflow


def reflectometry_reduction(
    instrument: Instrument,
    tables: LookupTableCache,
    params: ReflectometryParams,
    sources: Sequence[StreamId],
) -> Workflow:
    """The multiblade detector's reduction, built in the background, over
    the windows it has time for."""
    if tuple(sources) != (DETECTOR,):
        names = ", ".join(source.name for source in sources)
        raise ValueError(f"essreflectometry reduces {DETECTOR.name} only, got {names}")
    return PreparedWorkflow(partial(_streamed, instrument, tables, params))


def _streamed(
    instrument: Instrument, tables: LookupTableCache, params: ReflectometryParams
) -> Workflow:
    geometry = instrument_geometry(instrument.geometry_files)
    workflow = estia_workflow(geometry.path, tables.get(LOOKUP_TABLE).table, params)
    workflow.insert(detector_events)
    return streamed_workflow(
        workflow,
        inputs={DetectorBatches: (DETECTOR,)},
        outputs=TARGETS,
        accumulators=ACCUMULATED,
    )


def factories(instrument: Instrument) -> dict[str, WorkflowFactory]:
    """Factories by workflow key, bound to ``instrument`` and one table cache."""
    tables = LookupTableCache()
    return {
        REFLECTOMETRY_REDUCTION.key: partial(
            reflectometry_reduction, instrument, tables
        )
    }
