"""Factories of the dummy's workflows: sciline pipelines streamed by ess.reduce.

Imported only by the plugin's factory hook, i.e. by the reduction service,
since sciline, scippneutron and essreduce come with the ``reduction`` extra.
Each window's payloads reach a pipeline as lists of :class:`EventBatch` (see
:class:`~ess.livedata.core.keyed_workflow.KeyedWorkflow`); providers are
small pure functions, and ``StreamProcessor`` accumulates the keys that are
sums (or histories) over windows.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, NewType

import numpy as np
import sciline
import scipp as sc
from scippneutron.conversion.tof import wavelength_from_tof

from ess.livedata.core.keyed_workflow import KeyedWorkflow
from ess.livedata.core.message import StreamId
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.workflow import Workflow, WorkflowFactory
from ess.reduce.streaming import Accumulator, EternalAccumulator, StreamProcessor

from .workflows import (
    ALWAYS_FAILS,
    NORMALIZED_COUNTS,
    TOTAL_COUNTS,
    WAVELENGTH_SPECTRUM,
    NormalizedCountsParams,
    WavelengthSpectrumParams,
)

DetectorBatches = NewType("DetectorBatches", list)
"""The window's event batches of the job's detector banks."""
MonitorBatches = NewType("MonitorBatches", list)
"""The window's event batches of the normalisation monitor."""
ToaRange = NewType("ToaRange", sc.Variable)
"""Edges [min, max) of the detector events that count, in ns."""
DetectorCounts = NewType("DetectorCounts", sc.Variable)
MonitorCounts = NewType("MonitorCounts", sc.Variable)
WindowTime = NewType("WindowTime", sc.Variable)
RatioHistory = NewType("RatioHistory", sc.DataArray)
CumulativeRatio = NewType("CumulativeRatio", sc.DataArray)

Events = NewType("Events", list)
"""The window's event batches of every source of the job."""
FlightPath = NewType("FlightPath", sc.Variable)
WavelengthBins = NewType("WavelengthBins", sc.Variable)
Wavelengths = NewType("Wavelengths", sc.Variable)
WavelengthSpectrum = NewType("WavelengthSpectrum", sc.DataArray)


def _toa_ns(batches: Sequence[EventBatch]) -> np.ndarray:
    """All times of arrival (ns) of ``batches``, in one array."""
    if not batches:
        return np.empty(0, dtype=np.int32)
    return np.concatenate([batch.time_of_arrival for batch in batches])


def detector_counts(batches: DetectorBatches, toa_range: ToaRange) -> DetectorCounts:
    """Detector events in the time-of-arrival range: the ratio's numerator."""
    toa = _toa_ns(batches)
    low, high = toa_range.values
    inside = np.count_nonzero((toa >= low) & (toa < high))
    return DetectorCounts(sc.scalar(float(inside), unit="counts"))


def monitor_counts(batches: MonitorBatches) -> MonitorCounts:
    """All monitor events: the ratio's denominator."""
    return MonitorCounts(sc.scalar(float(_toa_ns(batches).size), unit="counts"))


def window_time(detector: DetectorBatches, monitor: MonitorBatches) -> WindowTime:
    """Earliest pulse of the window's data: when the window was measured."""
    pulses = [batch.reference_time for batch in (*detector, *monitor)]
    return WindowTime(sc.datetime(int(np.min(np.concatenate(pulses))), unit="ns"))


def _ratio(detector: sc.Variable, monitor: sc.Variable) -> float:
    return detector.value / monitor.value if monitor.value > 0 else math.nan


def window_ratio(
    detector: DetectorCounts, monitor: MonitorCounts, time: WindowTime
) -> RatioHistory:
    """One window's ratio as a one-point history (NaN without monitor counts)."""
    return RatioHistory(
        sc.DataArray(
            sc.array(dims=["time"], values=[_ratio(detector, monitor)]),
            coords={"time": sc.concat([time], "time")},
            name="detector / monitor",
        )
    )


def cumulative_ratio(
    detector: DetectorCounts, monitor: MonitorCounts
) -> CumulativeRatio:
    """The ratio of the sums since start or reset (NaN without monitor counts)."""
    return CumulativeRatio(
        sc.DataArray(sc.scalar(_ratio(detector, monitor)), name="detector / monitor")
    )


class History(Accumulator[sc.DataArray]):
    """Keeps the latest ``length`` points of a ``time`` series, oldest first."""

    def __init__(self, length: int) -> None:
        super().__init__(preprocess=None)
        self._points: deque[sc.DataArray] = deque(maxlen=length)

    @property
    def is_empty(self) -> bool:
        return not self._points

    def _get_value(self) -> sc.DataArray:
        return sc.concat(list(self._points), "time")

    def _do_push(self, value: sc.DataArray) -> None:
        self._points.append(value)

    def clear(self) -> None:
        self._points.clear()


def normalized_counts(
    params: NormalizedCountsParams, sources: Sequence[StreamId]
) -> Workflow:
    """Monitor-normalised detector counts of the bound banks."""
    toa_range = sc.array(
        dims=["toa"], values=[params.toa_min_ms, params.toa_max_ms], unit="ms"
    ).to(unit="ns")
    pipeline = sciline.Pipeline(
        (detector_counts, monitor_counts, window_time, window_ratio, cumulative_ratio),
        params={ToaRange: toa_range},
    )
    processor = StreamProcessor(
        pipeline,
        dynamic_keys=(DetectorBatches, MonitorBatches),
        target_keys=(RatioHistory, CumulativeRatio),
        accumulators={
            DetectorCounts: EternalAccumulator(),
            MonitorCounts: EternalAccumulator(),
            RatioHistory: History(params.history_length),
        },
    )
    return KeyedWorkflow(
        processor,
        inputs={
            DetectorBatches: sources,
            MonitorBatches: NORMALIZED_COUNTS.auxiliary,
        },
        outputs={"ratio_history": RatioHistory, "ratio_cumulative": CumulativeRatio},
    )


def wavelengths(events: Events, flight_path: FlightPath) -> Wavelengths:
    """Wavelength from time of arrival, taking it as the time of flight."""
    toa = sc.array(dims=["event"], values=_toa_ns(events), unit="ns", dtype="float64")
    wavelength = wavelength_from_tof(tof=toa, Ltotal=flight_path)
    return Wavelengths(wavelength.to(unit="angstrom"))


def wavelength_spectrum(
    wavelengths: Wavelengths, bins: WavelengthBins
) -> WavelengthSpectrum:
    """Events per wavelength bin; events outside the bins are dropped."""
    events = sc.DataArray(
        sc.ones(sizes=wavelengths.sizes, unit="counts"),
        coords={"wavelength": wavelengths},
    )
    spectrum = events.hist(wavelength=bins)
    spectrum.name = "wavelength spectrum"
    return WavelengthSpectrum(spectrum)


def wavelength_spectrum_workflow(
    params: WavelengthSpectrumParams, sources: Sequence[StreamId]
) -> Workflow:
    """Wavelength spectrum of all bound sources together."""
    bins = sc.linspace(
        "wavelength",
        params.wavelength_min,
        params.wavelength_max,
        params.bins + 1,
        unit="angstrom",
    )
    pipeline = sciline.Pipeline(
        (wavelengths, wavelength_spectrum),
        params={
            FlightPath: sc.scalar(params.flight_path_m, unit="m"),
            WavelengthBins: bins,
        },
    )
    processor = StreamProcessor(
        pipeline,
        dynamic_keys=(Events,),
        target_keys=(WavelengthSpectrum,),
        accumulators=(WavelengthSpectrum,),
    )
    return KeyedWorkflow(
        processor,
        inputs={Events: sources},
        outputs={"spectrum": WavelengthSpectrum},
    )


class AlwaysFails:
    """The ``always_fails`` workflow: raises on its first data, by design."""

    def accumulate(self, data: Mapping[StreamId, Any]) -> None:
        raise RuntimeError("always_fails raises on every window, by design")

    def finalize(self) -> dict[str, sc.DataArray]:
        return {}

    def clear(self) -> None:
        pass


def always_fails(params: Any, sources: Sequence[StreamId]) -> Workflow:
    """A job that reports ``error`` on its first window."""
    return AlwaysFails()


class TotalCounts:
    """The ``total_counts`` workflow: events of the bound sources, summed."""

    def __init__(self) -> None:
        self._total = 0

    def accumulate(self, data: Mapping[StreamId, Any]) -> None:
        self._total += sum(b.size for batches in data.values() for b in batches)

    def finalize(self) -> dict[str, sc.DataArray]:
        total = sc.DataArray(sc.scalar(self._total, unit="counts"))
        return {"total_counts": total}

    def clear(self) -> None:
        self._total = 0


def total_counts(params: Any, sources: Sequence[StreamId]) -> Workflow:
    return TotalCounts()


FACTORIES: Mapping[str, WorkflowFactory] = {
    NORMALIZED_COUNTS.key: normalized_counts,
    WAVELENGTH_SPECTRUM.key: wavelength_spectrum_workflow,
    ALWAYS_FAILS.key: always_fails,
    TOTAL_COUNTS.key: total_counts,
}
"""Factories by workflow key; the plugin registers each under its spec."""
