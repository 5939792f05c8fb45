"""BIFROST's Q maps: essspectroscopy's ``BifrostQCutWorkflow``, streamed.

Imported only by the plugin's factory hook (the reduction service):
essspectroscopy, essreduce and sciline come with the ``reduction`` extra.

Set as the facility sets it live: the geometry file is the run file (its
triplets, analysers, monitors and angles), proton charge 1 pC,
uncertainties not broadcast, no lookup-table error mask; the normalisation
monitor is the file's, so the pipeline stays linear in the events. Three
additions: a provider turning the window's ev44 batches into the
``NXevent_data`` the package reads from files, the wavelength lookup table
computed from BIFROST's choppers and cached, and the tank and sample motors
(f144) setting ``InstrumentAngle`` and ``SampleAngle`` as context.
``StreamProcessor`` accumulates ``CutData``, the histogram per arc.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import sciline
import scipp as sc
import scippnexus as snx

from ess.bifrost.live import BifrostQCutWorkflow, CutAxis, CutAxis1, CutAxis2, CutData
from ess.livedata.core.instrument import Instrument
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.nexus_geometry import geometry_file_path
from ess.livedata.core.payloads import LogSample
from ess.livedata.core.prepared_workflow import PreparedWorkflow
from ess.livedata.core.workflow import Workflow, WorkflowFactory
from ess.livedata.reduction.chopper_setting import (
    DiskChopperSetting,
    LookupTableSetting,
)
from ess.livedata.reduction.lookup_table_cache import LookupTableCache
from ess.livedata.reduction.streamed import streamed_workflow
from ess.reduce.nexus.types import Filename, SampleRun
from ess.spectroscopy import types as st

from .detector_events import DetectorBatches, detector_events
from .geometry_file import triplet_names
from .ratemeter import detector_ratemeter
from .workflows import (
    DETECTOR,
    DETECTOR_RATEMETER,
    ELASTIC_QMAP,
    ELASTIC_QMAP_CUSTOM,
    QMAP,
    SAMPLE_ANGLE,
    TANK_ANGLE,
    BifrostCustomElasticQMapParams,
    BifrostElasticQMapParams,
    BifrostQMapParams,
    Edges,
)


def _disk(name: str, distance: float, opening: float, phase: float):
    """A 14 Hz disk with one opening centred on 0°, radius 0.35 m."""
    half = opening / 2
    return DiskChopperSetting(
        name, distance, 14.0, phase, (-half,), (half,), 0.35, 0.05
    )


CHOPPERS = (
    _disk("pulse_shaping_chopper_1", 6.342, 40.0, 39.88),
    _disk("pulse_shaping_chopper_2", 6.392, 40.0, 40.13),
    _disk("frame_overlap_chopper_1", 8.530, 38.40, 51.03),
    _disk("frame_overlap_chopper_2", 14.973, 52.14, 83.86),
    _disk("bandwidth_chopper_1", 78.000, 180.0, 45.05),
    _disk("bandwidth_chopper_2", 78.050, 180.0, 45.30),
)
"""BIFROST's cascade in beam order, at its published distances and frame-
overlap openings (ESS-3164400); the pulse-shaping pair at 14 Hz. Phases
centre each opening on the flight time of 4 Å neutrons born 1.5 ms into the
pulse, a 1.6 Å band that fills the 71 ms frame at the sample."""
LOOKUP_TABLE = LookupTableSetting(
    choppers=CHOPPERS, ltotal_min_m=150.0, ltotal_max_m=165.0
)
"""Flight paths from the normalisation monitor to the sample (162 m): the
indirect-geometry table is read at the sample."""
MONITORS = (
    "psc_monitor",
    "overlap_monitor",
    "bandwidth_monitor",
    "normalization_monitor",
    "elastic_monitor",
)
MONITOR_TYPES = (
    st.PSCMonitor,
    st.OverlapMonitor,
    st.NormalizationMonitor,
    st.ElasticMonitor,
)
"""BifrostWorkflow's monitor types, each given the table (only the
normalisation monitor's is used by the cuts)."""


def angle(samples: Sequence[LogSample]) -> sc.DataArray:
    """The newest of a motor's readings (degrees), as a context value."""
    newest = max(samples, key=lambda sample: sample.time)
    return sc.DataArray(sc.scalar(float(newest.value), unit="deg"))


CONTEXT = {
    st.InstrumentAngle[SampleRun]: (TANK_ANGLE, angle),
    st.SampleAngle[SampleRun]: (SAMPLE_ANGLE, angle),
}
"""The angles, each set from its motor's stream."""
TARGETS = {"cut_data": CutData[SampleRun]}


def _edges(dim: str, edges: Edges, unit: str) -> sc.Variable:
    return sc.linspace(dim, edges.start, edges.stop, edges.num_bins + 1, unit=unit)


def _q_norm(sample_table_momentum_transfer: sc.Variable) -> sc.Variable:
    return sc.norm(sample_table_momentum_transfer)


def _energy(energy_transfer: sc.Variable) -> sc.Variable:
    return energy_transfer


def cut_axes(
    params: BifrostQMapParams
    | BifrostElasticQMapParams
    | BifrostCustomElasticQMapParams,
) -> tuple[CutAxis, CutAxis]:
    """The two ``CutAxis`` of a job, as the facility builds them."""
    q = "1/angstrom"
    if isinstance(params, BifrostQMapParams):
        return (
            CutAxis(output="Q", fn=_q_norm, bins=_edges("Q", params.q_edges, q)),
            CutAxis(
                output="E", fn=_energy, bins=_edges("E", params.energy_edges, "meV")
            ),
        )
    if isinstance(params, BifrostElasticQMapParams):
        return tuple(
            CutAxis.from_q_vector(
                output=axis.axis.value,
                vec=_unit_vectors()[axis.axis.value],
                bins=_edges(axis.axis.value, axis, q),
            )
            for axis in (params.axis1, params.axis2)
        )
    return tuple(
        CutAxis.from_q_vector(
            output=vector.name,
            vec=sc.vector([vector.qx, vector.qy, vector.qz]),
            bins=_edges(vector.name, edges, q),
        )
        for vector, edges in (
            (params.axis1, params.axis1_edges),
            (params.axis2, params.axis2_edges),
        )
    )


def _unit_vectors() -> dict[str, sc.Variable]:
    return {
        name: sc.vector(vector)
        for name, vector in (("Qx", [1, 0, 0]), ("Qy", [0, 1, 0]), ("Qz", [0, 0, 1]))
    }


def cut_workflow(
    geometry_file: Path,
    table: st.LookupTable,
    axes: tuple[CutAxis, CutAxis],
) -> sciline.Pipeline:
    """essspectroscopy's Q-cut pipeline on ``geometry_file``, set for live
    use; events are not set (offline: from the file; live: the batch key)."""
    workflow = BifrostQCutWorkflow(triplet_names())
    workflow[Filename[SampleRun]] = str(geometry_file)
    workflow[st.PreopenNeXusFile] = st.PreopenNeXusFile(True)
    workflow[st.ProtonCharge[SampleRun]] = sc.DataArray(sc.scalar(1.0, unit="pC"))
    workflow[st.UncertaintyBroadcastMode] = st.UncertaintyBroadcastMode.drop
    workflow[st.LookupTableRelativeErrorThreshold] = {
        name: float("inf") for name in ("detector", *MONITORS)
    }
    fields = {f.name: getattr(table, f.name) for f in dataclasses.fields(table)}
    for component in (snx.NXdetector, *MONITOR_TYPES):
        workflow[st.LookupTable[SampleRun, component]] = st.LookupTable[
            SampleRun, component
        ](**fields)
    workflow[CutAxis1], workflow[CutAxis2] = axes
    return workflow


def q_cut(
    instrument: Instrument,
    tables: LookupTableCache,
    params: BifrostQMapParams
    | BifrostElasticQMapParams
    | BifrostCustomElasticQMapParams,
    sources: Sequence[StreamId],
) -> Workflow:
    """A Q cut of the unified detector, built in the background, streamed
    over the windows it has time for."""
    if [s.name for s in sources] != [DETECTOR]:
        raise ValueError(f"a BIFROST Q map reads {DETECTOR} only, got {sources}")
    return PreparedWorkflow(partial(_streamed_cut, instrument, tables, params))


def _streamed_cut(
    instrument: Instrument, tables: LookupTableCache, params: Any
) -> Workflow:
    """The cut streamed, the angles set from their motors (at first the
    geometry file's; a window with readings sets the newest of each before
    its events are cut)."""
    path = geometry_file_path(instrument.geometry_files)
    table = tables.get(LOOKUP_TABLE).table
    workflow = cut_workflow(path, table, cut_axes(params))
    workflow.insert(detector_events)
    return streamed_workflow(
        workflow,
        inputs={DetectorBatches: (StreamId(StreamKind.DETECTOR_EVENTS, DETECTOR),)},
        outputs=TARGETS,
        accumulators=tuple(TARGETS.values()),
        context=CONTEXT,
    )


def factories(instrument: Instrument) -> dict[str, WorkflowFactory]:
    """Factories by workflow key, bound to ``instrument`` and one table cache
    (the Q maps) and the ratemeter's."""
    tables = LookupTableCache()
    build = partial(q_cut, instrument, tables)
    cuts = {spec.key: build for spec in (QMAP, ELASTIC_QMAP, ELASTIC_QMAP_CUSTOM)}
    return {**cuts, DETECTOR_RATEMETER.key: partial(detector_ratemeter, instrument)}
