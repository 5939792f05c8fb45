"""Log streams as rolling time series: history and latest value per stream.

Each window, every log stream holding data is published twice:
``timeseries/<stream>/history`` (dim ``time``, a datetime64[ns] coord, the
values with the instrument's unit) and ``timeseries/<stream>/latest`` (the
newest point, 0-D for scalar logs), both stamped with the window.

The history is sorted by data time with unique timestamps (a repeated
timestamp keeps the last value received) and bounded by age and point count,
see :mod:`ess.livedata.core.log_values` for the exact age boundary.

Per stream ledger, checked in tests and reported as ``balanced``::

    received == stored + duplicates_replaced + rejected
    stored   == points + evicted + cleared

``stored`` counts samples that became a new point (``out_of_order`` of them
arrived older than the newest point), ``duplicates_replaced`` samples that
replaced the value at an existing timestamp, ``rejected`` samples whose dtype
or shape differs from the stream's. ``points`` are held now, ``evicted``
were dropped by the caps, ``cleared`` by reset. ``nan`` counts stored or
replacing samples containing NaN: they are kept, since NaN is what a device
reports when it has no reading.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipp as sc
from pydantic import ValidationError

from ess.livedata.config import ConfigError
from ess.livedata.core.commands import Reset
from ess.livedata.core.instrument import Instrument, LogStream
from ess.livedata.core.log_values import (
    Added,
    HistoryCaps,
    IncompatibleValue,
    LogBuffer,
    value_dims,
)
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import LogSample
from ess.livedata.core.timeseries_commands import SetHistoryCaps
from ess.livedata.core.window import TimeWindow
from ess.livedata.protocol import (
    TIMESERIES,
    HistoryLimits,
    LogLedger,
    TimeseriesOutputs,
    TimeseriesStatus,
    result_name,
)

from .outputs import data_message, stamp
from .sources import SourceTable

logger = logging.getLogger(__name__)

SERVICE = TIMESERIES.service
NS_PER_S = 1_000_000_000


def caps_from_config(config: Mapping[str, Any]) -> HistoryCaps:
    """Default caps from the services configuration, validated like a command."""
    length_s = config.get("timeseries_length_s")
    max_points = config.get("timeseries_max_points")
    if length_s is None or max_points is None:
        raise ConfigError(
            "services configuration needs timeseries_length_s and timeseries_max_points"
        )
    try:
        body = SetHistoryCaps(length_s=length_s, max_points=max_points)
    except ValidationError as error:
        raise ConfigError(f"invalid timeseries configuration: {error}") from None
    return _updated(HistoryCaps(length_ns=1, max_points=1), body)


def _updated(caps: HistoryCaps, body: SetHistoryCaps) -> HistoryCaps:
    """``caps`` with the fields ``body`` sets."""
    length_ns = caps.length_ns
    if body.length_s is not None:
        length_ns = round(body.length_s * NS_PER_S)
    max_points = caps.max_points if body.max_points is None else body.max_points
    return HistoryCaps(length_ns=length_ns, max_points=max_points)


class LogSeries:
    """One log stream's history, ledger and last problem."""

    def __init__(self, log: LogStream, caps: HistoryCaps) -> None:
        self.log = log
        self.buffer = LogBuffer(caps)
        self._ledger = LogLedger()
        self.problem = ""
        self._published_until: np.datetime64 | None = None

    def add(self, sample: LogSample) -> None:
        ledger = self._ledger
        ledger.received += 1
        try:
            added = self.buffer.add(sample.time, sample.value)
        except IncompatibleValue as error:
            ledger.rejected += 1
            if str(error) != self.problem:
                logger.warning("log %s: rejecting values: %s", self.log.name, error)
            self.problem = str(error)
            return
        if added is Added.REPLACED:
            ledger.duplicates_replaced += 1
        else:
            ledger.stored += 1
            ledger.out_of_order += added is Added.INSERTED
        ledger.nan += bool(np.isnan(sample.value).any())

    def reset(self) -> None:
        """Clear the history; a new dtype or shape is accepted afterwards."""
        self._ledger.cleared += self.buffer.clear()
        self.problem = ""
        self._published_until = None

    def ledger(self) -> LogLedger:
        """The ledger with the buffer's current point and eviction counts."""
        return self._ledger.model_copy(
            update={"points": len(self.buffer), "evicted": self.buffer.evicted}
        )

    def outputs(self, window: TimeWindow) -> dict[str, sc.DataArray]:
        """History, latest point and (if any) the points newer than the last
        call's (the facility's ``delta``; a point that arrives out of order
        behind those is in the history only), stamped with ``window``."""
        values = self.buffer.values()
        dims = ["time", *value_dims(values.ndim - 1)]
        history = sc.DataArray(
            sc.array(dims=dims, values=values, unit=self.log.unit),
            coords={
                "time": sc.datetimes(
                    dims=["time"], values=self.buffer.times(), unit="ns"
                )
            },
            name=self.log.name,
        )
        times = history.coords["time"].values  # sorted
        first_new = (
            0
            if self._published_until is None
            else int(np.searchsorted(times, self._published_until, side="right"))
        )
        self._published_until = times[-1]
        outputs = {
            TimeseriesOutputs.HISTORY.name: history,
            TimeseriesOutputs.LATEST.name: history["time", -1].copy(),
        }
        if first_new < len(times):
            outputs[TimeseriesOutputs.DELTA.name] = history["time", first_new:].copy()
        return {n: stamp(d, window.start, window.end) for n, d in outputs.items()}


class TimeseriesProcessor:
    """The timeseries service's logic, driven by the processing loop."""

    def __init__(self, instrument: Instrument, caps: HistoryCaps) -> None:
        logs = {log.name: log for log in instrument.logs}
        self._series = SourceTable(
            "log stream", logs, lambda name: LogSeries(logs[name], caps)
        )
        for name in logs:  # cheap: every log is in the status from the start
            self._series.get(name)

    def process_window(
        self, window: TimeWindow, messages: Mapping[StreamId, list[Message[Any]]]
    ) -> list[Message[Any]]:
        for stream, batch in messages.items():
            if stream.kind is not StreamKind.LOG or stream.name not in self._series:
                continue
            series = self._series.get(stream.name)
            for message in batch:
                series.add(message.value)
        outputs: list[Message[Any]] = []
        for name, series in self._series.built():
            if not len(series.buffer):
                continue
            for output, data in series.outputs(window).items():
                result = result_name(SERVICE, name, output)
                outputs.append(data_message(result, window.end, data))
        return outputs

    def apply(self, body: SetHistoryCaps | Reset) -> None:
        """Apply one command body to its target log (all for ``None``)."""
        for series in self._series.targets(body.target):
            if isinstance(body, SetHistoryCaps):
                series.buffer.set_caps(_updated(series.buffer.caps, body))
            else:
                series.reset()

    def status_details(self) -> TimeseriesStatus:
        series = self._series.built()
        return TimeseriesStatus(
            ledger={n: s.ledger() for n, s in series},
            caps={
                n: HistoryLimits(
                    length_s=s.buffer.caps.length_ns / NS_PER_S,
                    max_points=s.buffer.max_points,
                )
                for n, s in series
            },
            problems={n: s.problem for n, s in series if s.problem},
        )
