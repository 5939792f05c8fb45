"""``--sink png``: write each published result as a PNG instead of to Kafka.

Files are named ``<output path>/<data end time>.png`` plus a ``latest.png``
beside them, so the newest plot is always easy to find. Only the newest
``keep`` timestamped files of an output are kept: a service publishes every
second, and an unbounded folder fills a disk.

Time axes (log histories) are drawn in local time with matplotlib's date
locator and concise formatter, and a history's title gives its span.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from ess.livedata.core.message import Message, StreamKind
from ess.livedata.protocol import ResultKey

logger = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_STAMPED = "*Z.png"  # the timestamped files; ``latest.png`` does not match


def _label(var: sc.Variable | sc.DataArray, name: str) -> str:
    if var.dtype == sc.DType.datetime64:
        return f"{name} (local time)"  # the unit is only the resolution
    unit = var.unit
    return f"{name} [{unit}]" if unit not in (None, sc.units.dimensionless) else name


def _window_text(data: sc.DataArray) -> str:
    if "start_time" not in data.coords or "end_time" not in data.coords:
        return ""
    start = data.coords["start_time"].value
    end = data.coords["end_time"].value
    return f"{np.datetime_as_string(start, unit='ms')} to {np.datetime_as_string(end, unit='ms')} UTC"


def _duration_text(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.3g} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 120:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} d {hours % 24} h"


def local_zone() -> tzinfo:
    """The machine's time zone now: plots are read by people on site."""
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None  # astimezone() always sets one
    return zone


def span_text(times: np.ndarray, zone: tzinfo) -> str:
    """First and last time in ``zone`` and the duration between them."""
    first, last = (
        datetime.fromtimestamp(t.astype("datetime64[ns]").astype(int) / 1e9, tz=zone)
        for t in (times.min(), times.max())
    )
    last_format = "%H:%M:%S" if first.date() == last.date() else "%Y-%m-%d %H:%M:%S"
    duration = _duration_text((last - first).total_seconds())
    return (
        f"{len(times)} points, {first:%Y-%m-%d %H:%M:%S} to "
        f"{last.strftime(last_format)} {first.tzname()} ({duration})"
    )


def _time_axis(ax: Axes, zone: tzinfo) -> None:
    """Ticks that fit the span, labelled once with the date, in ``zone``."""
    locator = AutoDateLocator(tz=zone, minticks=3, maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=zone))


def plot(data: sc.DataArray, title: str) -> Figure:
    """A figure with axes, units and a title for 1-D or 2-D data."""
    # A bare Figure (no pyplot state) can be drawn from the writer thread.
    fig = Figure(figsize=(7, 4.5), dpi=100)
    ax = fig.subplots()
    subtitle = _window_text(data)
    if data.ndim == 1:
        dim = data.dim
        coord = (
            data.coords[dim]
            if dim in data.coords
            else sc.arange(dim, data.sizes[dim] + 1.0)
        )
        x = coord.values
        y = data.values
        if x.size == y.size + 1:
            ax.stairs(y, x, fill=True, alpha=0.6)
        else:
            ax.plot(x, y, marker=".")
        if coord.dtype == sc.DType.datetime64 and x.size:
            zone = local_zone()
            _time_axis(ax, zone)
            subtitle = span_text(x, zone)
        ax.set_xlabel(_label(coord, dim))
        ax.set_ylabel(
            _label(data, "counts" if data.unit == sc.units.counts else data.name)
        )
    elif data.ndim == 2:
        ydim, xdim = data.dims
        values = np.asarray(data.values, dtype=float)
        positive = values[values > 0]
        norm = (
            LogNorm(vmin=positive.min(), vmax=positive.max()) if positive.size else None
        )
        image = ax.pcolormesh(
            _edges(data, xdim), _edges(data, ydim), values, norm=norm, shading="flat"
        )
        fig.colorbar(image, ax=ax, label=_label(data, "counts"))
        ax.set_xlabel(_label(data.coords[xdim], xdim) if xdim in data.coords else xdim)
        ax.set_ylabel(_label(data.coords[ydim], ydim) if ydim in data.coords else ydim)
    else:
        ax.set_axis_off()
        text = (
            f"{data.name or 'value'} = {data.value} {data.unit or ''}"
            if data.ndim == 0
            else f"{data.ndim}-D data: {dict(data.sizes)}"
        )
        ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=16)
    ax.set_title(f"{title}\n{subtitle}", fontsize=10)
    fig.tight_layout()
    return fig


def _edges(data: sc.DataArray, dim: str) -> np.ndarray:
    n = data.sizes[dim]
    if dim in data.coords and data.coords[dim].sizes[dim] == n + 1:
        return data.coords[dim].values
    if dim in data.coords:
        centers = data.coords[dim].values.astype(float)
        if n > 1:
            half = np.diff(centers) / 2
            return np.concatenate(
                [[centers[0] - half[0]], centers[:-1] + half, [centers[-1] + half[-1]]]
            )
    return np.arange(n + 1.0)


class PngSink:
    """A :class:`~ess.livedata.core.loop.MessageSink` writing PNG files.

    Plotting takes a good fraction of a second per output, far longer than
    processing a window, so a writer thread draws the files while the loop
    goes on. If an output is updated again before its previous update was
    drawn, only the newest is drawn (counted in :attr:`superseded`): the
    newest plot is what a person looks at. Each output folder keeps
    ``latest.png`` and the newest ``keep`` timestamped files.
    """

    def __init__(self, directory: Path, keep: int) -> None:
        if keep < 1:
            raise ValueError(f"keep must be at least 1, got {keep}")
        self._directory = directory
        self._keep = keep
        self.written = 0
        self.superseded = 0
        self._pending: dict[str, Message[sc.DataArray]] = {}
        self._wakeup = threading.Condition()
        self._closing = False
        self._writer = threading.Thread(
            target=self._drain, name="png-writer", daemon=True
        )
        self._writer.start()

    def publish_messages(self, messages: Sequence[Message[Any]]) -> None:
        with self._wakeup:
            for message in messages:
                if message.stream.kind is StreamKind.LIVEDATA_DATA:
                    if message.stream.name in self._pending:
                        self.superseded += 1
                    self._pending[message.stream.name] = message
                elif message.stream.kind is StreamKind.LIVEDATA_RESPONSES:
                    logger.info("response: %s", message.value)
            self._wakeup.notify()

    def close(self, timeout_s: float = 60) -> None:
        """Draw what is still pending, then stop the writer."""
        with self._wakeup:
            self._closing = True
            self._wakeup.notify()
        self._writer.join(timeout_s)

    def _drain(self) -> None:
        while True:
            with self._wakeup:
                while not self._pending and not self._closing:
                    self._wakeup.wait()
                if not self._pending:
                    return
                name = next(iter(self._pending))
                message = self._pending.pop(name)
            try:
                self._write(message)
            except Exception:
                logger.exception("could not write a PNG for %s", name)

    def _write(self, message: Message[sc.DataArray]) -> None:
        name = ResultKey.from_source_name(message.stream.name).short_name
        parts = [_UNSAFE.sub("_", p) for p in name.split("/")]
        folder = self._directory.joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.fromtimestamp(message.timestamp / 1e9, tz=UTC)
        path = folder / f"{stamp:%Y%m%dT%H%M%S.%f}Z.png"
        plot(message.value, name).savefig(path)
        shutil.copyfile(path, folder / "latest.png")
        self.written += 1
        logger.debug("wrote %s", path)
        self._prune(folder)

    def _prune(self, folder: Path) -> None:
        """Delete all but the newest ``keep`` files; names sort by time."""
        for old in sorted(folder.glob(_STAMPED))[: -self._keep]:
            old.unlink(missing_ok=True)
