"""ESS detector banks read from the geometry file, and their stand-ins.

A bank's pixels are read from the instrument's NeXus geometry file and
flattened to one dim, ``detector_number``, in the file's order; logical views
fold that dim into the bank's layout (the order upstream's bank sizes are
given in). Where the real detector numbers exist only in the file, tests and
demos use a *stand-in* file with the bank's stated fake range
(:mod:`.stand_in`); :class:`StandIn` says where its pixels go.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import scipp as sc

from ess.livedata.core.nexus_geometry import NexusDetector

from .tables import BankTable

FLAT_DIM = "detector_number"
Point = tuple[float, float, float]


class Placement(Protocol):
    """Where a bank's pixels sit in a stand-in file: :class:`StandIn`, or a
    plugin's own model of the bank."""

    def positions(self, table: BankTable) -> np.ndarray:
        """Pixel positions (m), shape ``(count, 3)``, in the layout's order."""
        ...


@runtime_checkable
class ShapedPlacement(Placement, Protocol):
    """A placement that also knows its pixels' shape, written as
    ``pixel_shape`` (SANS solid angles need it)."""

    @property
    def pixel_cylinder(self) -> tuple[Point, Point, Point]:
        """Face centre, face edge and other face centre (m), bank frame."""
        ...


@dataclass(frozen=True)
class StandIn:
    """Where a bank's pixels sit in a stand-in geometry file (lengths in m).

    ``across`` and ``along`` are layout dims (several dims count as one,
    slowest first): ``across`` runs around a ``cylinder`` (its axis is y, the
    angle ``phi_deg`` from +z towards +x) or along x of a ``panel``; ``along``
    runs along y. The remaining dims step ``depth`` metres away from the
    sample per index, a cylinder outwards, a panel along +z.
    """

    surface: Literal["cylinder", "panel"]
    across: tuple[str, ...]
    along: tuple[str, ...]
    centre: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Panel centre, or the cylinder's centre on its axis."""
    size: tuple[float, float] = (1.0, 1.0)
    """Panel (width, height); cylinder (radius, height)."""
    phi_deg: tuple[float, float] = (0.0, 360.0)
    depth: float = 0.005

    def positions(self, table: BankTable) -> np.ndarray:
        """Pixel positions (m), shape ``(count, 3)``, in the layout's order."""
        across, n_across = _flat_index(table.layout, self.across)
        along, n_along = _flat_index(table.layout, self.along)
        rest = tuple(d for d in table.layout if d not in self.across + self.along)
        layer, _ = _flat_index(table.layout, rest)
        u = (across + 0.5) / n_across
        v = (along + 0.5) / n_along - 0.5
        depth = layer * self.depth
        cx, cy, cz = self.centre
        first, second = self.size
        if self.surface == "cylinder":
            low, high = np.radians(self.phi_deg)
            phi = low + u * (high - low)
            radius = first + depth
            x, y, z = (
                cx + radius * np.sin(phi),
                cy + v * second,
                cz + radius * np.cos(phi),
            )
        else:
            x, y, z = cx + (u - 0.5) * first, cy + v * second, cz + depth
        return np.stack([x, y, z], axis=-1)


@dataclass(frozen=True)
class EssNexusDetector(NexusDetector):
    """``make_geometry`` reading the bank's NXdetector group(s), flattened to
    :data:`FLAT_DIM`; ``table`` and ``stand_in`` describe the stand-in file.

    A bank spread over several groups (``table.groups``) is their pixels
    ordered by detector number, i.e. in its layout's order.
    """

    table: BankTable | None = None
    stand_in: Placement | None = None

    def __call__(self) -> sc.DataArray:
        groups = self.table.nexus_groups if self.table else (self.group,)
        if groups == (self.group,):
            return _flat(super().__call__())
        parts = [_flat(NexusDetector(self.files, g)()) for g in groups]
        numbers = np.concatenate([p.coords["detector_number"].values for p in parts])
        order = np.argsort(numbers, kind="stable")
        positions = np.concatenate([p.coords["position"].values for p in parts])
        return sc.DataArray(
            sc.zeros(
                dims=[FLAT_DIM], shape=[numbers.size], unit="counts", dtype="int64"
            ),
            coords={
                "detector_number": sc.array(
                    dims=[FLAT_DIM], values=numbers[order], unit=None
                ),
                "position": pixel_positions(positions[order]),
            },
        )


@dataclass(frozen=True)
class PlacedDetector:
    """``make_geometry`` of a bank no geometry file describes: the table's
    detector numbers, placed as ``placement`` says, in the layout's order
    (BEER and NMX register no file; their numbers are given in code)."""

    table: BankTable
    placement: Placement

    def __call__(self) -> sc.DataArray:
        table = self.table
        return sc.DataArray(
            sc.zeros(
                dims=[FLAT_DIM], shape=[table.count], unit="counts", dtype="int64"
            ),
            coords={
                "detector_number": sc.arange(
                    FLAT_DIM, table.first, table.last + 1, unit=None, dtype="int32"
                ),
                "position": pixel_positions(self.placement.positions(table)),
            },
        )


def pixel_positions(values: np.ndarray) -> sc.Variable:
    """``(pixels, 3)`` metres as vectors along :data:`FLAT_DIM`.

    Assigning the array to a vector variable is 10x faster than
    ``sc.vectors`` for the millions of pixels of a bank (BEER: 12 million
    per bank, 8 s per bank with ``sc.vectors``), which every service start
    pays.
    """
    positions = sc.zeros(
        dims=[FLAT_DIM], shape=[len(values)], dtype=sc.DType.vector3, unit="m"
    )
    positions.values = values
    return positions


def _flat(geometry: sc.DataArray) -> sc.DataArray:
    if geometry.ndim == 1:
        return geometry.rename_dims({geometry.dim: FLAT_DIM})
    return geometry.flatten(to=FLAT_DIM)


def _flat_index(
    layout: dict[str, int], dims: tuple[str, ...]
) -> tuple[np.ndarray, int]:
    """Per pixel (in layout order), the index over ``dims`` merged, and its size."""
    index = np.indices(tuple(layout.values())).reshape(len(layout), -1)
    names = list(layout)
    merged = np.zeros(index.shape[1], dtype=np.int64)
    size = 1
    for dim in dims:
        merged = merged * layout[dim] + index[names.index(dim)]
        size *= layout[dim]
    return merged, size
