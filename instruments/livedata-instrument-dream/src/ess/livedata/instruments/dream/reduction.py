"""DREAM's powder reduction: essdiffraction's ``DreamPowderWorkflow``, live.

Imported only by the plugin's factory hook (the reduction service):
essdiffraction, essreduce and sciline come with the ``reduction`` extra.

Set as the facility sets it live: normalised by "proton charge", which no
stream provides yet, so the facility fakes it as the summed counts; no calibration, no masks, uncertainties not broadcast, events
not kept. The window's ev44 batches become the ``NXevent_data`` the package
reads from files; the wavelength lookup table is computed from the chosen
configuration's choppers (essdiffraction's ``beamline.choppers``) and cached.
``StreamProcessor`` accumulates ``CorrectedDspacing`` (events in d and 2θ)
and the cave monitor's wavelength spectrum; the focussed results are
computed from the sums. With a vanadium run (a NeXus file essdiffraction
reads), the vanadium is reduced once, as the job is built, and the focussed
results are divided by its own.
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

from ess import dream, powder
from ess.livedata.core.instrument import Instrument
from ess.livedata.core.message import StreamId
from ess.livedata.core.nexus_geometry import instrument_geometry
from ess.livedata.core.prepared_workflow import PreparedWorkflow
from ess.livedata.core.workflow import Workflow, WorkflowFactory
from ess.livedata.reduction.chopper_setting import LookupTableSetting
from ess.livedata.reduction.lookup_table import disk_chopper_setting
from ess.livedata.reduction.lookup_table_cache import LookupTableCache
from ess.livedata.reduction.nxevent_data import to_nxevent_data
from ess.livedata.reduction.streamed import streamed_workflow
from ess.powder import types as pt
from ess.powder.conversion import _convert_reduced_to_tof_impl
from ess.powder.types import VanadiumRun
from ess.reduce.nexus.types import DetectorBankSizes, NeXusData, NeXusName, SampleRun

from .vanadium import locate_vanadium_file
from .workflows import (
    CAVE_MONITOR,
    POWDER_REDUCTION,
    POWDER_REDUCTION_WITH_VANADIUM,
    DspacingScale,
    InstrumentConfiguration,
    PowderParams,
    PowderVanadiumParams,
)

DetectorBatches = NewType("DetectorBatches", list)
MonitorBatches = NewType("MonitorBatches", list)
FocussedDataTof = NewType("FocussedDataTof", sc.DataArray)
DspacingTwoTheta = NewType("DspacingTwoTheta", sc.DataArray)

ACCUMULATED = (
    pt.CorrectedDspacing[SampleRun],
    pt.WavelengthMonitor[SampleRun, pt.CaveMonitor],
)
"""Where the pipeline is still linear in the events (as the facility's)."""
TARGETS = {
    "focussed_data_dspacing": pt.FocussedDataDspacing[SampleRun],
    "focussed_data_dspacing_two_theta": DspacingTwoTheta,
    "focussed_data_tof": FocussedDataTof,
}
VANADIUM_TARGETS = {
    **TARGETS,
    "i_of_dspacing": pt.IntensityDspacing[SampleRun],
    "i_of_dspacing_two_theta": pt.IntensityDspacingTwoTheta[SampleRun],
    "i_of_tof": pt.IntensityTof,
}
"""With a vanadium run: also the focussed data divided by the vanadium's."""


def lookup_table_setting(configuration: InstrumentConfiguration) -> LookupTableSetting:
    """The configuration's choppers; flight paths from the cave monitor to the
    farthest pixels (sample 76.55 m from the source)."""
    disks = dream.beamline.choppers(dream.InstrumentConfiguration[configuration])
    return LookupTableSetting(
        choppers=tuple(disk_chopper_setting(n, d) for n, d in sorted(disks.items())),
        ltotal_min_m=60.0,
        ltotal_max_m=80.0,
    )


def detector_events(batches: DetectorBatches) -> NeXusData[snx.NXdetector, SampleRun]:
    return NeXusData[snx.NXdetector, SampleRun](to_nxevent_data(batches, with_ids=True))


def monitor_events(batches: MonitorBatches) -> NeXusData[pt.CaveMonitor, SampleRun]:
    return NeXusData[pt.CaveMonitor, SampleRun](
        to_nxevent_data(batches, with_ids=False)
    )


def summed_counts_as_proton_charge(
    data: pt.CorrectedDspacing[pt.RunType],
) -> pt.AccumulatedProtonCharge[pt.RunType]:
    """The facility's stand-in until a proton-charge stream exists; in counts
    (the facility says counts/µAh), so results are fractions of all counts,
    dimensionless as declared. The vanadium run is normalised alike."""
    charge = sc.values(data.data).sum()
    return pt.AccumulatedProtonCharge[pt.RunType](charge)


def focussed_tof(
    data: pt.FocussedDataDspacing[SampleRun],
    calibration: powder.calibration.OutputCalibrationData,
) -> FocussedDataTof:
    """Focussed d to time of flight with DIFC (essdiffraction converts only
    vanadium-normalised data; the facility uses this helper of it too)."""
    return FocussedDataTof(_convert_reduced_to_tof_impl(data, calibration))


def in_facility_dim_order(
    data: pt.FocussedDataDspacingTwoTheta[SampleRun],
) -> DspacingTwoTheta:
    """d, then 2θ, as the facility declares the output (essdiffraction bins
    2θ first)."""
    return DspacingTwoTheta(data.transpose(["dspacing", "two_theta"]).copy())


def powder_workflow(
    geometry_file: Path,
    bank: str,
    bank_is_flat: bool,
    table: pt.LookupTable,
    params: PowderParams,
) -> sciline.Pipeline:
    """essdiffraction's DREAM powder pipeline for ``bank``, set for live use;
    events are not set (offline: ``NeXusData`` keys; live: the batch keys)."""
    workflow = dream.DreamPowderWorkflow(run_norm=powder.RunNormalization.proton_charge)
    if not bank_is_flat:  # already shaped (stand-in files): nothing to fold
        workflow[DetectorBankSizes] = {}
    workflow.insert(summed_counts_as_proton_charge)
    workflow.insert(focussed_tof)
    workflow.insert(in_facility_dim_order)
    workflow[pt.CalibrationData] = None
    workflow = powder.with_pixel_mask_filenames(workflow, [])
    workflow[pt.UncertaintyBroadcastMode] = pt.UncertaintyBroadcastMode.drop
    workflow[pt.KeepEvents[SampleRun]] = pt.KeepEvents[SampleRun](False)
    workflow[pt.Filename[SampleRun]] = str(geometry_file)
    workflow[NeXusName[snx.NXdetector]] = bank
    workflow[NeXusName[pt.CaveMonitor]] = CAVE_MONITOR.name
    workflow[dream.InstrumentConfiguration] = dream.InstrumentConfiguration[
        params.instrument_configuration
    ]
    low = sc.scalar(params.wavelength_min, unit="angstrom")
    high = sc.scalar(params.wavelength_max, unit="angstrom")
    workflow[pt.WavelengthMask] = lambda w: (w < low) | (w > high)
    workflow[pt.TwoThetaBins] = sc.linspace(
        "two_theta",
        params.two_theta_min,
        params.two_theta_max,
        params.two_theta_bins + 1,
        unit="rad",
    )
    make = sc.geomspace if params.dspacing_scale is DspacingScale.LOG else sc.linspace
    workflow[pt.DspacingBins] = make(
        "dspacing",
        params.dspacing_min,
        params.dspacing_max,
        params.dspacing_bins + 1,
        unit="angstrom",
    )
    _set_lookup_table(workflow, SampleRun, table)
    return workflow


def with_vanadium(
    workflow: sciline.Pipeline, vanadium_file: Path, table: pt.LookupTable
) -> sciline.Pipeline:
    """``workflow`` normalising by the vanadium run essdiffraction reads from
    ``vanadium_file``: reduced once, histogrammed (events not kept), divided
    into the focussed sample data."""
    workflow[pt.Filename[VanadiumRun]] = str(vanadium_file)
    workflow[pt.KeepEvents[VanadiumRun]] = pt.KeepEvents[VanadiumRun](False)
    _set_lookup_table(workflow, VanadiumRun, table)
    return workflow


def _set_lookup_table(
    workflow: sciline.Pipeline, run: type, table: pt.LookupTable
) -> None:
    fields = {f.name: getattr(table, f.name) for f in dataclasses.fields(table)}
    for component in (snx.NXdetector, pt.CaveMonitor):
        workflow[pt.LookupTable[run, component]] = pt.LookupTable[run, component](
            **fields
        )


def powder_reduction(
    instrument: Instrument,
    tables: LookupTableCache,
    params: PowderParams,
    sources: Sequence[StreamId],
) -> Workflow:
    """One bank's powder reduction, built in the background, over the
    windows it has time for."""
    bank = _one_bank(sources)
    return PreparedWorkflow(
        partial(_streamed_powder, instrument, tables, params, bank, None)
    )


def powder_reduction_with_vanadium(
    instrument: Instrument,
    tables: LookupTableCache,
    params: PowderVanadiumParams,
    sources: Sequence[StreamId],
) -> Workflow:
    """As :func:`powder_reduction`, normalised by a vanadium run; a missing
    vanadium file refuses the job at once."""
    bank = _one_bank(sources)
    vanadium = locate_vanadium_file(params.vanadium_file)
    return PreparedWorkflow(
        partial(_streamed_powder, instrument, tables, params, bank, vanadium)
    )


def _one_bank(sources: Sequence[StreamId]) -> StreamId:
    if len(sources) != 1:
        raise ValueError(f"essdiffraction reduces one bank per job, got {len(sources)}")
    return sources[0]


def _streamed_powder(
    instrument: Instrument,
    tables: LookupTableCache,
    params: PowderParams,
    bank: StreamId,
    vanadium: Path | None,
) -> Workflow:
    geometry = instrument_geometry(instrument.geometry_files)
    table = tables.get(lookup_table_setting(params.instrument_configuration)).table
    flat = geometry.detector(bank.name).ndim == 1
    workflow = powder_workflow(geometry.path, bank.name, flat, table, params)
    targets = TARGETS
    if vanadium is not None:
        workflow = with_vanadium(workflow, vanadium, table)
        targets = VANADIUM_TARGETS
    workflow.insert(detector_events)
    workflow.insert(monitor_events)
    return streamed_workflow(
        workflow,
        inputs={DetectorBatches: (bank,), MonitorBatches: (CAVE_MONITOR,)},
        outputs=targets,
        accumulators=ACCUMULATED,
    )


def factories(instrument: Instrument) -> dict[str, WorkflowFactory]:
    """Factories by workflow key, bound to ``instrument`` and one table cache."""
    tables = LookupTableCache()
    return {
        POWDER_REDUCTION.key: partial(powder_reduction, instrument, tables),
        POWDER_REDUCTION_WITH_VANADIUM.key: partial(
            powder_reduction_with_vanadium, instrument, tables
        ),
    }
