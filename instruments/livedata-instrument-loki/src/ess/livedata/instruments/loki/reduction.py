"""LOKI's I(Q) workflow: a sciline pipeline of scippneutron conversions.

Imported only by the plugin's factory hook (the reduction service), as
sciline, scippneutron and essreduce come with the ``reduction`` extra.

Per window, detector events become a table of ``tof`` (time of arrival; the
pulse is taken to leave the source at time zero, as in the fake data; real
LOKI data need the chopper-aware time-of-flight lookup of essreduce instead)
with the ``Ltotal`` and ``two_theta`` of their pixel, computed once per job
with scippneutron's beamline graph. scippneutron's elastic graph gives
wavelength and Q. ``StreamProcessor`` sums the histograms over windows;
I(Q) is computed from the sums when outputs are published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import NewType

import numpy as np
import sciline
import scipp as sc
from scippneutron.conversion.graph import beamline, tof

from ess.livedata.core.instrument import Instrument
from ess.livedata.core.keyed_workflow import KeyedWorkflow
from ess.livedata.core.message import StreamId
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.workflow import Workflow, WorkflowFactory
from ess.reduce.streaming import StreamProcessor

from .workflows import I_OF_Q, IofQParams

DetectorBatches = NewType("DetectorBatches", list)
"""The window's event batches of the job's banks."""
MonitorBatches = NewType("MonitorBatches", list)
"""The window's event batches of the incident monitor."""

BankGeometries = NewType("BankGeometries", list)
"""Geometry (detector_number, position) of each bank the job is bound to."""
SourcePosition = NewType("SourcePosition", sc.Variable)
SamplePosition = NewType("SamplePosition", sc.Variable)
MonitorPosition = NewType("MonitorPosition", sc.Variable)
BeamCenter = NewType("BeamCenter", sc.Variable)
QBins = NewType("QBins", sc.Variable)
WavelengthBins = NewType("WavelengthBins", sc.Variable)

Pixels = NewType("Pixels", sc.DataArray)
"""Flat table of the bound pixels: detector_number, Ltotal, two_theta."""
DetectorEvents = NewType("DetectorEvents", sc.DataArray)
MonitorEvents = NewType("MonitorEvents", sc.DataArray)
CountsQ = NewType("CountsQ", sc.DataArray)
DetectorWavelength = NewType("DetectorWavelength", sc.DataArray)
MonitorWavelength = NewType("MonitorWavelength", sc.DataArray)
IofQ = NewType("IofQ", sc.DataArray)


@dataclass(frozen=True)
class PixelLookup:
    """Finds pixel rows by detector number (numbers need not be contiguous)."""

    numbers: np.ndarray
    """Sorted detector numbers."""
    rows: np.ndarray
    """Row in :data:`Pixels` of each sorted number."""

    def find(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the known ``ids``, and which ``ids`` are known."""
        at = np.minimum(np.searchsorted(self.numbers, ids), self.numbers.size - 1)
        known = self.numbers[at] == ids
        return self.rows[at[known]], known


def _converted(table: sc.DataArray, targets: list[str], graph: dict) -> sc.DataArray:
    """``table`` with only the ``targets`` coords, so results carry nothing else."""
    return table.transform_coords(
        targets, graph=graph, keep_inputs=False, keep_intermediate=False
    )


def pixels(
    banks: BankGeometries,
    beam_center: BeamCenter,
    source: SourcePosition,
    sample: SamplePosition,
) -> Pixels:
    """Flight path and scattering angle of every bound pixel, once per job.

    Pixels are shifted by the beam centre, so that the direct beam is at zero
    scattering angle, as in SANS reduction.
    """
    flat = [bank.flatten(to="pixel") for bank in banks]
    table = sc.DataArray(
        sc.zeros(sizes={"pixel": sum(b.sizes["pixel"] for b in flat)}),
        coords={
            "detector_number": sc.concat(
                [b.coords["detector_number"] for b in flat], "pixel"
            ),
            "position": sc.concat([b.coords["position"] for b in flat], "pixel")
            - beam_center,
            "source_position": source,
            "sample_position": sample,
        },
    )
    return Pixels(
        _converted(table, ["Ltotal", "two_theta"], beamline.beamline(scatter=True))
    )


def pixel_lookup(pixels: Pixels) -> PixelLookup:
    numbers = pixels.coords["detector_number"].values
    rows = np.argsort(numbers, kind="stable")
    return PixelLookup(numbers=numbers[rows], rows=rows)


def _events(batches: Sequence[EventBatch]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated pixel ids and times of arrival (ns) of ``batches``."""
    if not batches:
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int32)
    ids = np.concatenate([batch.pixel_id for batch in batches])
    toa = np.concatenate([batch.time_of_arrival for batch in batches])
    return ids, toa


def _event_table(toa_ns: np.ndarray, **coords: sc.Variable) -> sc.DataArray:
    """Unit-weight events with Poisson variances, a ``tof`` and ``coords``."""
    tof = sc.array(dims=["event"], values=toa_ns, unit="ns", dtype="float64")
    weights = sc.ones(sizes=tof.sizes, unit="counts", with_variances=True)
    return sc.DataArray(weights, coords={"tof": tof, **coords})


def detector_events(
    batches: DetectorBatches, pixels: Pixels, lookup: PixelLookup
) -> DetectorEvents:
    """The window's events with wavelength and Q, from their pixel's geometry.

    Events of detector numbers outside the bound banks are dropped.
    """
    ids, toa = _events(batches)
    rows, known = lookup.find(ids)
    coords = {
        name: sc.array(
            dims=["event"],
            values=pixels.coords[name].values[rows],
            unit=pixels.coords[name].unit,
        )
        for name in ("Ltotal", "two_theta")
    }
    table = _event_table(toa[known], **coords)
    return DetectorEvents(_converted(table, ["wavelength", "Q"], tof.elastic("tof")))


def monitor_events(
    batches: MonitorBatches, position: MonitorPosition, source: SourcePosition
) -> MonitorEvents:
    """The window's monitor events with their wavelength."""
    _, toa = _events(batches)
    table = _event_table(toa, position=position, source_position=source)
    graph = {**beamline.beamline(scatter=False), **tof.elastic("tof")}
    return MonitorEvents(_converted(table, ["wavelength"], graph))


def counts_q(events: DetectorEvents, q: QBins, wavelength: WavelengthBins) -> CountsQ:
    """Detector counts per Q bin of the events in the wavelength band."""
    band = sc.concat([wavelength[0], wavelength[-1]], "wavelength")
    return CountsQ(events.hist(wavelength=band, Q=q).sum("wavelength"))


def detector_wavelength(
    events: DetectorEvents, wavelength: WavelengthBins
) -> DetectorWavelength:
    """Detector counts per wavelength bin: shows where the band is."""
    return DetectorWavelength(_named(events.hist(wavelength=wavelength), "detector"))


def monitor_wavelength(
    events: MonitorEvents, wavelength: WavelengthBins
) -> MonitorWavelength:
    """Monitor counts per wavelength bin; their sum normalises I(Q)."""
    return MonitorWavelength(
        _named(events.hist(wavelength=wavelength), "incident monitor")
    )


def i_of_q(counts: CountsQ, monitor: MonitorWavelength) -> IofQ:
    """Counts per Q over the monitor's counts in the band (its bins' range).

    The monitor's uncertainty is dropped: it counts far more than any Q bin,
    and scipp refuses to broadcast a variance into correlated bins.
    """
    return IofQ(_named(counts / sc.values(monitor.sum().data), "I(Q)"))


def _named(data: sc.DataArray, name: str) -> sc.DataArray:
    data.name = name
    return data


def _vector(point: tuple[float, float, float]) -> sc.Variable:
    return sc.vector(list(point), unit="m")


def i_of_q_workflow(
    instrument: Instrument, params: IofQParams, sources: Sequence[StreamId]
) -> Workflow:
    """I(Q) of the bound banks, normalised by the incident monitor."""
    banks = [instrument.detector(stream.name).geometry for stream in sources]
    monitor = instrument.monitor(I_OF_Q.auxiliary[0].name)
    pipeline = sciline.Pipeline(
        (
            pixels,
            pixel_lookup,
            detector_events,
            monitor_events,
            counts_q,
            detector_wavelength,
            monitor_wavelength,
            i_of_q,
        ),
        params={
            BankGeometries: banks,
            BeamCenter: sc.vector(
                [params.beam_center_x, params.beam_center_y, 0.0], unit="m"
            ),
            SourcePosition: _vector(instrument.source_position),
            SamplePosition: _vector(instrument.sample_position),
            MonitorPosition: _vector(monitor.position),
            QBins: sc.linspace(
                "Q", params.q_min, params.q_max, params.q_bins + 1, unit="1/angstrom"
            ),
            WavelengthBins: sc.linspace(
                "wavelength",
                params.wavelength_min,
                params.wavelength_max,
                params.wavelength_bins + 1,
                unit="angstrom",
            ),
        },
    )
    processor = StreamProcessor(
        pipeline,
        dynamic_keys=(DetectorBatches, MonitorBatches),
        target_keys=(IofQ, DetectorWavelength, MonitorWavelength),
        accumulators=(CountsQ, DetectorWavelength, MonitorWavelength),
    )
    return KeyedWorkflow(
        processor,
        inputs={DetectorBatches: sources, MonitorBatches: I_OF_Q.auxiliary},
        outputs={
            "i_of_q": IofQ,
            "detector_wavelength": DetectorWavelength,
            "monitor_wavelength": MonitorWavelength,
        },
    )


def factories(instrument: Instrument) -> dict[str, WorkflowFactory]:
    """Factories by workflow key, bound to ``instrument`` (its geometry)."""
    return {I_OF_Q.key: partial(i_of_q_workflow, instrument)}
