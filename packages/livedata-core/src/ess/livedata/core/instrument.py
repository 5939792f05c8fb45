"""What an instrument plugin declares: detector banks, monitors, log streams.

These are plain data, cheap to build, so that every host (dashboard, services,
fake producers) can load an instrument without the reduction stack.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TypeVar

import numpy as np
import scipp as sc


class ProjectionKind(enum.StrEnum):
    """Geometric projections from pixel positions to a 2-D screen grid."""

    XY_PLANE = "xy_plane"
    CYLINDER_MANTLE_Z = "cylinder_mantle_z"


@dataclass(frozen=True)
class LogicalView:
    """A view that reshapes ``detector_number`` without using geometry.

    ``fold`` optionally folds one dim into several (e.g. a straw index into
    ``tube`` x ``straw``); ``sum`` names folded dims to add up, so a bank of
    many dims still gives a 2-D image; ``transpose`` orders the remaining
    dims, the last two being the image's y and x.

    ``roi=False`` marks a view that is no 2-D image (e.g. a stack of layers,
    as the facility's ``panel_0_layers``): it is published but takes no
    ROIs, and pages that draw images with ROI tools leave it out.
    """

    name: str
    title: str = ""
    fold: dict[str, dict[str, int]] = field(default_factory=dict)
    transpose: tuple[str, ...] = ()
    sum: tuple[str, ...] = ()
    roi: bool = True


@dataclass(frozen=True)
class GeometricView:
    """A projection of pixel positions onto a screen grid of given resolution."""

    name: str
    projection: ProjectionKind
    title: str = ""
    resolution: tuple[int, int] = (128, 128)
    pixel_noise: float = 0.0
    """Std-dev (m) of the smearing applied to positions so projections don't alias."""


@dataclass(frozen=True)
class GeometryFile:
    """A NeXus file describing the instrument from ``valid_from`` on.

    A file is valid until the next file's ``valid_from``; the last one has no
    end. ``checksum`` is ``"md5:<hex>"`` or ``"sha256:<hex>"`` and is checked
    wherever the file is found, so a stale copy is never used silently.
    """

    name: str
    valid_from: datetime
    checksum: str

    def __post_init__(self) -> None:
        if self.valid_from.tzinfo is None:
            raise ValueError(f"geometry file {self.name}: valid_from needs a timezone")
        algorithm, _, digest = self.checksum.partition(":")
        if algorithm not in ("md5", "sha256") or not digest:
            raise ValueError(
                f"geometry file {self.name}: checksum must be 'md5:<hex>' or "
                f"'sha256:<hex>', got {self.checksum!r}"
            )


@dataclass(frozen=True)
class GeometryFiles:
    """An instrument's dated geometry files and where to download them.

    ``registry_url`` is the base URL the files are fetched from (file name
    appended) when they are neither in ``LIVEDATA_DATA_DIR`` nor cached; empty
    means local files only.
    """

    files: tuple[GeometryFile, ...]
    registry_url: str = ""

    def __post_init__(self) -> None:
        if not self.files:
            raise ValueError("geometry files: at least one file is needed")
        dates = [f.valid_from for f in self.files]
        if len(set(dates)) != len(dates):
            raise ValueError("geometry files: two files are valid from the same date")


@dataclass(frozen=True)
class DetectorBank:
    """One detector bank and how to show it.

    Parameters
    ----------
    name:
        Logical name, used in outputs and commands.
    source_name:
        Source name in production event streams.
    make_geometry:
        Builds ``detector_number`` and ``position`` (vector3, m) with matching
        dims. Called lazily because large banks take time to build; a
        :class:`~ess.livedata.core.nexus_geometry.NexusDetector` reads them
        from the instrument's geometry file.
    views:
        Logical and geometric views the detector service publishes.
    """

    name: str
    source_name: str
    make_geometry: Callable[[], sc.DataArray]
    views: tuple[LogicalView | GeometricView, ...] = ()

    @cached_property
    def geometry(self) -> sc.DataArray:
        """Pixel counts template: data zero, coords detector_number and position."""
        geometry = self.make_geometry()
        if "detector_number" not in geometry.coords:
            raise ValueError(f"detector {self.name!r}: geometry lacks detector_number")
        if "position" not in geometry.coords:
            raise ValueError(f"detector {self.name!r}: geometry lacks position")
        return geometry

    @property
    def image_views(self) -> tuple[LogicalView | GeometricView, ...]:
        """The views that are 2-D images taking ROIs."""
        return tuple(v for v in self.views if not isinstance(v, LogicalView) or v.roi)

    @property
    def detector_number(self) -> sc.Variable:
        return self.geometry.coords["detector_number"]

    @property
    def pixel_count(self) -> int:
        return int(self.detector_number.size)

    def pixel_id_range(self) -> tuple[int, int]:
        """Smallest and largest detector number, for fast bounds checks."""
        values = self.detector_number.values
        return int(np.min(values)), int(np.max(values))


@dataclass(frozen=True)
class AreaDetector:
    """A camera streaming whole images (ad00) instead of neutron events.

    Its images have no detector numbers and no TOA: the detector service
    sums them per window and since reset, in the dims they arrive in
    (``dim_0``, ``dim_1``). ``shape`` is what the fake producer sends.
    """

    name: str
    source_name: str
    shape: tuple[int, int] = (256, 256)
    title: str = ""


class MonitorMode(enum.StrEnum):
    """How a monitor streams: individual events or already-histogrammed."""

    EVENTS = "ev44"
    HISTOGRAM = "da00"


@dataclass(frozen=True)
class Monitor:
    """A beam monitor; ``position`` lets reduction compute flight paths."""

    name: str
    source_name: str
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class LogStream:
    """An f144 log stream (motor, temperature, ...).

    ``topic_kind`` selects the production topic ``{instrument}_{topic_kind}``;
    the value's unit is declared here because f144 carries none.
    """

    name: str
    source_name: str
    unit: str | None
    topic_kind: str = "motion"
    title: str = ""


@dataclass(frozen=True)
class Instrument:
    """Everything livedata needs to know about one instrument's streams."""

    name: str
    title: str = ""
    detectors: tuple[DetectorBank, ...] = ()
    monitors: tuple[Monitor, ...] = ()
    logs: tuple[LogStream, ...] = ()
    area_detectors: tuple[AreaDetector, ...] = ()
    source_position: tuple[float, float, float] = (0.0, 0.0, -25.0)
    sample_position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    geometry_files: GeometryFiles | None = None
    """Dated NeXus geometry files, for banks built by ``NexusDetector``."""

    def __post_init__(self) -> None:
        named: tuple[
            tuple[str, tuple[Monitor | LogStream | DetectorBank | AreaDetector, ...]],
            ...,
        ] = (
            ("monitor", self.monitors),
            ("log", self.logs),
            ("detector", (*self.detectors, *self.area_detectors)),
        )
        for kind, items in named:
            names = [item.name for item in items]
            duplicates = {n for n in names if names.count(n) > 1}
            if duplicates:
                raise ValueError(
                    f"instrument {self.name!r}: duplicate {kind} names "
                    f"{sorted(duplicates)}"
                )

    def detector(self, name: str) -> DetectorBank:
        return _by_name(self.detectors, name, "detector")

    def monitor(self, name: str) -> Monitor:
        return _by_name(self.monitors, name, "monitor")

    def log(self, name: str) -> LogStream:
        return _by_name(self.logs, name, "log")

    def area_detector(self, name: str) -> AreaDetector:
        return _by_name(self.area_detectors, name, "area detector")


_Named = TypeVar("_Named", DetectorBank, Monitor, LogStream, AreaDetector)


def _by_name(items: tuple[_Named, ...], name: str, kind: str) -> _Named:
    for item in items:
        if item.name == name:
            return item
    known = ", ".join(item.name for item in items) or "none"
    raise KeyError(f"no {kind} named {name!r} (known: {known})")
