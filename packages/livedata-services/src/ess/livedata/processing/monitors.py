"""Beam-monitor histogramming: current and cumulative time-of-arrival spectra."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipp as sc

from ess.livedata.core.commands import Reset, SetToaBinning, Start, Stop
from ess.livedata.core.instrument import Instrument
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.window import TimeWindow
from ess.livedata.protocol import (
    MONITOR_DATA,
    TIME_OF_ARRIVAL,
    MonitorOutputs,
    MonitorStatus,
)

from .commanding import CommandRejected
from .kernels import histogram_uniform
from .ledger import EventLedger
from .outputs import data_message, stamp
from .skipping import skip_into_ledgers
from .sources import SourceTable

logger = logging.getLogger(__name__)

SERVICE = MONITOR_DATA.service
DEFAULT_BINNING = SetToaBinning(toa_min=0.0, toa_max=1000 / 14, bins=200)


class MonitorHistogram:
    """Accumulates one monitor's time of arrival into uniform bins.

    Counts are float64 so that pre-histogrammed (da00) input, which must be
    rebinned proportionally, and event input share one accumulator; float64
    holds integer counts exactly up to 2**53.
    """

    def __init__(self, name: str, binning: SetToaBinning) -> None:
        self.name = name
        self.ledger = EventLedger()
        self.running = True
        self._cumulative_start: int | None = None
        self.set_binning(binning)

    def set_binning(self, binning: SetToaBinning) -> None:
        """New bins; cumulative restarts because old counts cannot be re-binned."""
        self.binning = binning
        self._lo, self._hi = binning.range_ns()
        self._edges = sc.linspace(
            TIME_OF_ARRIVAL,
            binning.toa_min,
            binning.toa_max,
            binning.bins + 1,
            unit=binning.unit.value,
        )
        self._current = np.zeros(binning.bins)
        self._cumulative = np.zeros(binning.bins)
        self._cumulative_start = None

    def reset(self) -> None:
        self._cumulative[:] = 0
        self._cumulative_start = None

    def add_events(self, batch: EventBatch) -> None:
        n = batch.size
        self.ledger.received += n
        if not self.running:
            self.ledger.ignored += n
            return
        outside, negative = histogram_uniform(
            batch.time_of_arrival, self._lo, self._hi, self._current
        )
        self.ledger.out_of_range += outside
        self.ledger.rejected += negative
        self.ledger.counted += n - outside - negative

    def add_histogram(self, data: sc.DataArray) -> None:
        """Add a pre-histogrammed spectrum, rebinned onto our bins."""
        total = float(data.sum().value)
        received = round(total)
        self.ledger.received += received
        if not self.running:
            self.ledger.ignored += received
            return
        dim = data.dim
        edges_ns = data.coords[dim].to(unit="ns", dtype="float64")
        ours = sc.linspace(
            dim, float(self._lo), float(self._hi), self._current.size + 1, unit="ns"
        )
        source = sc.DataArray(data.data.to(dtype="float64"), coords={dim: edges_ns})
        rebinned = sc.rebin(source, {dim: ours}).values
        self._current += rebinned
        inside = round(float(rebinned.sum()))
        self.ledger.counted += inside
        self.ledger.out_of_range += received - inside

    def finalize(self, window: TimeWindow) -> tuple[sc.DataArray, sc.DataArray]:
        """Current (this window) and cumulative spectra; current restarts."""
        if self._cumulative_start is None:
            self._cumulative_start = window.start
        self._cumulative += self._current
        current = self._as_data_array(self._current.copy(), window.start, window.end)
        cumulative = self._as_data_array(
            self._cumulative.copy(), self._cumulative_start, window.end
        )
        self._current[:] = 0
        return current, cumulative

    def _as_data_array(self, counts: np.ndarray, start: int, end: int) -> sc.DataArray:
        data = sc.DataArray(
            sc.array(dims=[TIME_OF_ARRIVAL], values=counts, unit="counts"),
            coords={TIME_OF_ARRIVAL: self._edges},
            name=self.name,
        )
        return stamp(data, start, end)


class MonitorProcessor:
    """The monitor_data service's accumulators, one per monitor; jobs reach
    them through :class:`~.job_bindings.MonitorBinding`."""

    def __init__(self, instrument: Instrument) -> None:
        self._monitors = SourceTable(
            "monitor",
            (m.name for m in instrument.monitors),
            lambda name: MonitorHistogram(name, self._default_binning),
        )
        self._default_binning = DEFAULT_BINNING

    def process_window(
        self, window: TimeWindow, messages: Mapping[StreamId, list[Message[Any]]]
    ) -> list[Message[Any]]:
        for stream, batch in messages.items():
            if stream.name not in self._monitors:
                continue
            monitor = self._monitors.get(stream.name)
            for message in batch:
                if stream.kind is StreamKind.MONITOR_EVENTS:
                    monitor.add_events(message.value)
                elif stream.kind is StreamKind.MONITOR_COUNTS:
                    monitor.add_histogram(message.value)
        outputs: list[Message[Any]] = []
        for name, monitor in self._monitors.built():
            if not monitor.running:
                continue
            current, cumulative = monitor.finalize(window)
            for output, data in (
                (MonitorOutputs.CURRENT, current),
                (MonitorOutputs.CUMULATIVE, cumulative),
            ):
                name_ = MONITOR_DATA.result_name(name, output)
                outputs.append(data_message(name_, window.end, data))
        return outputs

    def skip_window(
        self, window: TimeWindow, messages: Mapping[StreamId, list[Message[Any]]]
    ) -> int:
        """Count the window's events as ``skipped``; no histogram, no output."""
        return skip_into_ledgers(
            messages,
            lambda stream: stream.name in self._monitors,
            lambda name: self._monitors.get(name).ledger,
        )

    def apply(self, body: SetToaBinning | Reset | Start | Stop) -> None:
        """Apply one command body to its target monitor (all for ``None``)."""
        targets = self._monitors.targets(body.target)
        if isinstance(body, SetToaBinning):
            if body.target is None:
                self._default_binning = body
            for monitor in targets:
                monitor.set_binning(body)
        elif isinstance(body, Reset):
            for monitor in targets:
                monitor.reset()
        elif isinstance(body, Start | Stop):
            for monitor in targets:
                monitor.running = isinstance(body, Start)
        else:
            raise CommandRejected(f"{body.action!r} is not a monitor_data command")

    def status_details(self) -> MonitorStatus:
        monitors = self._monitors.built()
        return MonitorStatus(
            ledger={n: m.ledger.as_status() for n, m in monitors},
            binning={n: m.binning.as_status() for n, m in monitors},
            running={n: m.running for n, m in monitors},
        )
