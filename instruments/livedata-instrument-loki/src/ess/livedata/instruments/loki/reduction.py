"""LOKI's I(Q): esssans's ``LokiWorkflow``, streamed with essreduce.

Imported only by the plugin's factory hook (the reduction service): esssans,
essreduce and sciline come with the ``reduction`` extra.

The job's pipeline is esssans's, set as the facility sets it live (no direct
beam, no gravity, upper-bound uncertainty broadcast, no masks), with three
additions: providers turning the window's ev44 batches into the
``NXevent_data`` esssans reads from files, the wavelength lookup table
computed from LOKI's source (no choppers, as the facility's table) and
cached, and, for ``current_run`` transmission, the run's own monitors taken
as its transmission run. ``StreamProcessor`` accumulates the binned I(Q)
numerator and the two monitors' spectra, where the pipeline is still linear
in the events; I(Q) and the transmission fraction are computed from the sums.
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

from ess.livedata.core.instrument import Instrument
from ess.livedata.core.keyed_workflow import KeyedWorkflow
from ess.livedata.core.message import StreamId
from ess.livedata.core.nexus_geometry import instrument_geometry
from ess.livedata.core.prepared_workflow import PreparedWorkflow
from ess.livedata.core.window_budget import WindowBudget
from ess.livedata.core.workflow import Workflow, WorkflowFactory
from ess.livedata.reduction.chopper_setting import LookupTableSetting
from ess.livedata.reduction.lookup_table_cache import LookupTableCache
from ess.livedata.reduction.nxevent_data import to_nxevent_data
from ess.livedata.reduction.warm_up import warmed_up
from ess.loki.workflow import LokiWorkflow
from ess.reduce.nexus.types import NeXusData, NeXusDetectorName, SampleRun
from ess.reduce.streaming import StreamProcessor
from ess.sans import types as st

from .workflows import (
    I_OF_Q,
    INCIDENT_MONITOR,
    TRANSMISSION_MONITOR,
    QScale,
    SansParams,
    TransmissionMode,
)

LOOKUP_TABLE = LookupTableSetting(choppers=(), ltotal_min_m=14.0, ltotal_max_m=36.0)
"""LOKI's table: the bare ESS pulse (the facility's is "no-choppers" too),
flight paths from the incident monitor (15.2 m) to the rear bank at its
farthest carriage position."""

DetectorBatches = NewType("DetectorBatches", list)
IncidentBatches = NewType("IncidentBatches", list)
TransmissionBatches = NewType("TransmissionBatches", list)

ACCUMULATED = (
    st.ReducedQ[SampleRun, st.Numerator],
    st.CorrectedMonitor[SampleRun, st.Incident],
    st.CorrectedMonitor[SampleRun, st.Transmission],
)
"""Where the pipeline is still linear in the events (as the facility's)."""
TARGETS = {
    "i_of_q": st.IntensityQ[SampleRun],
    "transmission_fraction": st.TransmissionFraction[SampleRun],
}


def detector_events(batches: DetectorBatches) -> NeXusData[snx.NXdetector, SampleRun]:
    return NeXusData[snx.NXdetector, SampleRun](to_nxevent_data(batches, with_ids=True))


def incident_events(batches: IncidentBatches) -> NeXusData[st.Incident, SampleRun]:
    return NeXusData[st.Incident, SampleRun](to_nxevent_data(batches, with_ids=False))


def transmission_events(
    batches: TransmissionBatches,
) -> NeXusData[st.Transmission, SampleRun]:
    return NeXusData[st.Transmission, SampleRun](
        to_nxevent_data(batches, with_ids=False)
    )


def _as_transmission_run(monitor: sc.DataArray) -> sc.DataArray:
    """Counts only, wavelength only: esssans divides monitors at different
    positions (scipp/esssans#244, the facility's workaround)."""
    return sc.values(monitor).drop_coords(
        [name for name in monitor.coords if name != "wavelength"]
    )


def incident_as_transmission_run(
    monitor: st.CorrectedMonitor[SampleRun, st.Incident],
) -> st.CorrectedMonitor[st.TransmissionRun[SampleRun], st.Incident]:
    return st.CorrectedMonitor[st.TransmissionRun[SampleRun], st.Incident](
        _as_transmission_run(monitor)
    )


def transmission_as_transmission_run(
    monitor: st.CorrectedMonitor[SampleRun, st.Transmission],
) -> st.CorrectedMonitor[st.TransmissionRun[SampleRun], st.Transmission]:
    return st.CorrectedMonitor[st.TransmissionRun[SampleRun], st.Transmission](
        _as_transmission_run(monitor)
    )


def _edges(dim: str, start: float, stop: float, bins: int, unit: str, log: bool):
    make = sc.geomspace if log else sc.linspace
    return make(dim, start, stop, bins + 1, unit=unit)


def sans_workflow(
    geometry_file: Path,
    bank: str,
    bank_is_flat: bool,
    table: st.LookupTable,
    params: SansParams,
) -> sciline.Pipeline:
    """esssans's LOKI pipeline for ``bank``, set for live use; events are not
    set (offline: ``NeXusData`` keys; live: the batch keys)."""
    workflow = LokiWorkflow()
    workflow[st.Filename[SampleRun]] = str(geometry_file)
    if not bank_is_flat:  # already shaped (stand-in files): nothing to fold
        workflow[st.DetectorBankSizes] = {}
    workflow[st.DirectBeam] = None
    workflow[st.CorrectForGravity] = False
    workflow[st.ReturnEvents] = False
    workflow[st.UncertaintyBroadcastMode] = st.UncertaintyBroadcastMode.upper_bound
    workflow[st.DetectorMasks] = {}
    workflow[NeXusDetectorName] = bank
    workflow[st.NeXusMonitorName[st.Incident]] = INCIDENT_MONITOR.name
    workflow[st.NeXusMonitorName[st.Transmission]] = TRANSMISSION_MONITOR.name
    log = params.q_scale is QScale.LOG
    workflow[st.QBins] = _edges(
        "Q", params.q_min, params.q_max, params.q_bins, "1/angstrom", log
    )
    wavelength = _edges(
        "wavelength",
        params.wavelength_min,
        params.wavelength_max,
        params.wavelength_bins,
        "angstrom",
        False,
    )
    workflow[st.WavelengthBins] = wavelength
    workflow[st.BeamCenter] = sc.vector(
        [params.beam_center_x, params.beam_center_y, 0.0], unit="m"
    )
    fields = {f.name: getattr(table, f.name) for f in dataclasses.fields(table)}
    for component in (snx.NXdetector, st.Incident, st.Transmission):
        workflow[st.LookupTable[SampleRun, component]] = st.LookupTable[
            SampleRun, component
        ](**fields)
    if params.transmission_mode is TransmissionMode.CONSTANT:
        workflow[st.TransmissionFraction[SampleRun]] = sc.DataArray(
            sc.ones(sizes={"wavelength": params.wavelength_bins}),
            coords={"wavelength": wavelength},
        )
    else:
        workflow.insert(incident_as_transmission_run)
        workflow.insert(transmission_as_transmission_run)
        for monitor in (st.Incident, st.Transmission):
            workflow[st.CorrectedMonitor[st.EmptyBeamRun, monitor]] = sc.scalar(
                1.0, unit="counts"
            )
    return workflow


def i_of_q_workflow(
    instrument: Instrument,
    tables: LookupTableCache,
    params: SansParams,
    sources: Sequence[StreamId],
) -> Workflow:
    """One bank's I(Q), built in the background, streamed over the windows it
    has time for (at LOKI's nominal rate not all: benchmarks/RESULTS.md)."""
    if len(sources) != 1:
        raise ValueError(f"esssans reduces one bank per job, got {len(sources)}")
    return PreparedWorkflow(
        partial(_streamed_i_of_q, instrument, tables, params, sources[0])
    )


def _streamed_i_of_q(
    instrument: Instrument,
    tables: LookupTableCache,
    params: SansParams,
    bank: StreamId,
) -> Workflow:
    geometry = instrument_geometry(instrument.geometry_files)
    workflow = sans_workflow(
        geometry.path,
        bank.name,
        geometry.detector(bank.name).ndim == 1,
        tables.get(LOOKUP_TABLE).table,
        params,
    )
    for provider in (detector_events, incident_events, transmission_events):
        workflow.insert(provider)
    processor = StreamProcessor(
        workflow,
        dynamic_keys=(DetectorBatches, IncidentBatches, TransmissionBatches),
        target_keys=tuple(TARGETS.values()),
        accumulators=ACCUMULATED,
    )
    return WindowBudget(
        warmed_up(
            KeyedWorkflow(
                processor,
                inputs={
                    DetectorBatches: (bank,),
                    IncidentBatches: (INCIDENT_MONITOR,),
                    TransmissionBatches: (TRANSMISSION_MONITOR,),
                },
                outputs=TARGETS,
            )
        )
    )


def factories(instrument: Instrument) -> dict[str, WorkflowFactory]:
    """Factories by workflow key, bound to ``instrument`` and one table cache."""
    tables = LookupTableCache()
    return {I_OF_Q.key: partial(i_of_q_workflow, instrument, tables)}
