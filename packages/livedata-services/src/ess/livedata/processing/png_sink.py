"""``--sink png``: write each published result as a PNG instead of to Kafka.

Files are named ``<output path>/<data end time>.png`` plus a ``latest.png``
beside them, so the newest plot is always easy to find.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from ess.livedata.core.message import Message, StreamKind

logger = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _label(var: sc.Variable | sc.DataArray, name: str) -> str:
    if var.dtype == sc.DType.datetime64:
        return f"{name} (UTC)"  # matplotlib shows dates; the unit is resolution
    unit = var.unit
    return f"{name} [{unit}]" if unit not in (None, sc.units.dimensionless) else name


def _window_text(data: sc.DataArray) -> str:
    if "start_time" not in data.coords or "end_time" not in data.coords:
        return ""
    start = data.coords["start_time"].value
    end = data.coords["end_time"].value
    return f"{np.datetime_as_string(start, unit='ms')} to {np.datetime_as_string(end, unit='ms')} UTC"


def plot(data: sc.DataArray, title: str) -> Figure:
    """A figure with axes, units and a title for 1-D or 2-D data."""
    # A bare Figure (no pyplot state) can be drawn from the writer thread.
    fig = Figure(figsize=(7, 4.5), dpi=100)
    ax = fig.subplots()
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
    ax.set_title(f"{title}\n{_window_text(data)}", fontsize=10)
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
    newest plot is what a person looks at.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
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
        parts = [_UNSAFE.sub("_", p) for p in message.stream.name.split("/")]
        folder = self._directory.joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.fromtimestamp(message.timestamp / 1e9, tz=UTC)
        path = folder / f"{stamp:%Y%m%dT%H%M%S.%f}Z.png"
        plot(message.value, message.stream.name).savefig(path)
        shutil.copyfile(path, folder / "latest.png")
        self.written += 1
        logger.debug("wrote %s", path)
