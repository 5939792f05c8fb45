"""Images of a bank's per-pixel counts, one per view the instrument declares.

Per-pixel counts are kept in the bank geometry's flattened order; a view turns
them into an image once per publish, never per event. Logical views reshape
them (:class:`LogicalImage`); geometric views project them onto a screen grid
(:class:`~.projection.ProjectedImage`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipp as sc

from ess.livedata.core.instrument import DetectorBank, LogicalView


@dataclass(frozen=True)
class ImageAxis:
    """A dim of a view's image and the unit of its coordinate (None: index)."""

    dim: str
    unit: str | None


class ViewImage(Protocol):
    """What the detector service needs from a view."""

    name: str

    @property
    def axes(self) -> tuple[ImageAxis, ImageAxis] | None:
        """The image's (y, x) axes, in which ROIs are given; None if not 2-D."""
        ...

    def image(self, counts: np.ndarray) -> sc.DataArray:
        """The view of per-pixel ``counts``, with bin-edge coords and units."""
        ...

    def pixel_coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """Every pixel's (x, y) in the image's coordinates, to place ROIs."""
        ...


class LogicalImage:
    """A view that folds and transposes the bank's pixel array, no geometry.

    The image has bin-edge index coords ``0 .. size`` without unit, so pixel
    ``i`` of a dim spans ``[i, i + 1)`` and its centre is ``i + 0.5``.
    """

    def __init__(self, bank: DetectorBank, view: LogicalView) -> None:
        self.name = view.name
        folded = bank.detector_number
        for dim, sizes in view.fold.items():
            folded = sc.fold(folded, dim=dim, sizes=sizes)
        self._folded_shape = folded.shape
        unknown = set(view.sum) - set(folded.dims)
        if unknown:
            raise ValueError(
                f"view {view.name!r} of {bank.name!r}: cannot sum {sorted(unknown)}, "
                f"not among the folded dims {folded.dims}"
            )
        self._summed = tuple(folded.dims.index(dim) for dim in view.sum)
        kept = tuple(dim for dim in folded.dims if dim not in view.sum)
        dims = tuple(view.transpose) or kept
        if sorted(dims) != sorted(kept):
            raise ValueError(
                f"view {view.name!r} of {bank.name!r}: transpose {dims} does not "
                f"match the folded dims {kept}"
            )
        self._dims = dims
        self._order = tuple(kept.index(dim) for dim in dims)
        self._kept = tuple(folded.dims.index(dim) for dim in kept)
        self._shape = tuple(folded.sizes[dim] for dim in dims)
        self._coords = {
            dim: sc.arange(dim, 0.0, size + 1.0, unit=None)
            for dim, size in zip(dims, self._shape, strict=True)
        }

    @property
    def axes(self) -> tuple[ImageAxis, ImageAxis] | None:
        if len(self._dims) < 2:
            return None
        return ImageAxis(self._dims[-2], None), ImageAxis(self._dims[-1], None)

    def image(self, counts: np.ndarray) -> sc.DataArray:
        data = sc.empty(dims=self._dims, shape=self._shape, dtype="int64")
        data.unit = "counts"
        folded = counts.reshape(self._folded_shape)
        if self._summed:
            folded = folded.sum(axis=self._summed)
        data.values[...] = folded.transpose(self._order)
        return sc.DataArray(data, coords=self._coords, name=self.name)

    def pixel_coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        flat = np.arange(int(np.prod(self._folded_shape)))
        index = np.unravel_index(flat, self._folded_shape)
        kept = [index[axis] for axis in self._kept]
        y, x = kept[self._order[-2]], kept[self._order[-1]]
        return x + 0.5, y + 0.5
