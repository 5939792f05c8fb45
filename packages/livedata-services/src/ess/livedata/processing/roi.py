"""Regions of interest of one detector bank: pixel membership and TOA spectra.

Each ROI owns one bit of a per-pixel membership mask, so a pixel may be in
several ROIs. Pixels with the same mask form a group; the accumulation kernel
adds each counted event to its pixel's group spectrum, and ROI spectra are
summed from group spectra at publish. Membership and groups are computed once
when a ROI is set, never per event.
"""

from __future__ import annotations

import numpy as np
import scipp as sc
from matplotlib.path import Path

from ess.livedata.core.detector_commands import MAX_ROIS, Polygon, Rectangle, SetRoi
from ess.livedata.core.window import TimeWindow

from .outputs import stamp
from .views import ImageAxis

MEMBERSHIP_DTYPE = np.min_scalar_type((1 << MAX_ROIS) - 1)
"""Smallest unsigned integer with one bit per ROI (uint16 for 16 ROIs)."""
MAX_ROI_GROUPS = 256
"""Distinct sets of ROIs a pixel can be in (the group index is uint8)."""


def pixels_inside(
    shape: Rectangle | Polygon, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """Which points (pixel centres) lie inside ``shape``, as a bool array.

    Rectangles are half-open, ``[min, max)``. For polygons a point exactly on
    an edge may fall either way, so place vertices between pixel centres.
    """
    if isinstance(shape, Rectangle):
        return (
            (x >= shape.x_min)
            & (x < shape.x_max)
            & (y >= shape.y_min)
            & (y < shape.y_max)
        )
    vertices = np.asarray(shape.vertices, dtype=np.float64)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    candidates = np.flatnonzero(
        (x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1])
    )
    inside = np.zeros(x.shape, dtype=bool)
    points = np.column_stack([x[candidates], y[candidates]])
    inside[candidates] = Path(vertices).contains_points(points)
    return inside


def outline(
    shape: Rectangle | Polygon, axes: tuple[ImageAxis, ImageAxis]
) -> sc.DataArray:
    """The ROI's closed outline as y over x in the view's coordinates.

    The dim is the view's x dim and the data (named after the y dim) the y
    values, so the outline plots as a line and a dashboard can draw it over
    the image.
    """
    if isinstance(shape, Rectangle):
        xs = [shape.x_min, shape.x_max, shape.x_max, shape.x_min]
        ys = [shape.y_min, shape.y_min, shape.y_max, shape.y_max]
    else:
        xs = [v[0] for v in shape.vertices]
        ys = [v[1] for v in shape.vertices]
    y_axis, x_axis = axes
    return sc.DataArray(
        sc.array(dims=[x_axis.dim], values=[*ys, ys[0]], unit=y_axis.unit),
        coords={
            x_axis.dim: sc.array(
                dims=[x_axis.dim], values=[*xs, xs[0]], unit=x_axis.unit
            )
        },
        name=y_axis.dim,
    )


class RoiSpectra:
    """ROI definitions of a bank, pixel membership and TOA spectra.

    Pixels are grouped by the set of ROIs they are in; the kernel adds each
    event once, to its pixel's group spectrum (``group_toa_counts``), and the
    per-ROI spectra are sums of group spectra, formed once per publish. This
    keeps overlapping ROIs as cheap as one.
    """

    def __init__(self, pixel_count: int, bins: int) -> None:
        self._pixel_count = pixel_count
        self.definitions: dict[int, SetRoi] = {}
        self._membership: np.ndarray | None = None
        self.group: np.ndarray | None = None
        """Per-pixel group index (uint8); None while there is no ROI."""
        self._group_masks = np.zeros(1, dtype=MEMBERSHIP_DTYPE)
        self._cumulative_start: dict[int, int | None] = {}
        self.set_bins(bins)

    def set_bins(self, bins: int) -> None:
        """New TOA bins: all spectra restart."""
        self.group_toa_counts = np.zeros((self._group_masks.size, bins), np.int64)
        self._current = np.zeros((MAX_ROIS, bins), dtype=np.int64)
        self._cumulative = np.zeros((MAX_ROIS, bins), dtype=np.int64)
        self._cumulative_start = dict.fromkeys(self.definitions)

    def set(self, definition: SetRoi, inside: np.ndarray) -> None:
        """Add or replace ROI ``definition.roi`` covering pixels ``inside``.

        Raises ValueError, changing nothing, if the ROIs would then overlap
        in more than :data:`MAX_ROI_GROUPS` distinct ways.
        """
        roi = definition.roi
        bit = MEMBERSHIP_DTYPE.type(1 << roi)
        if self._membership is None:
            membership = np.zeros(self._pixel_count, dtype=MEMBERSHIP_DTYPE)
        else:
            membership = self._membership & ~bit
        membership[inside] |= bit
        self._regroup(membership)
        self.definitions[roi] = definition
        self._current[roi] = 0
        self._cumulative[roi] = 0
        self._cumulative_start[roi] = None

    def remove(self, roi: int) -> None:
        del self.definitions[roi]
        del self._cumulative_start[roi]
        if self._membership is not None:
            self._regroup(self._membership & ~MEMBERSHIP_DTYPE.type(1 << roi))
        if not self.definitions:
            self._membership = self.group = None
        self._current[roi] = 0
        self._cumulative[roi] = 0

    def _regroup(self, membership: np.ndarray) -> None:
        present = np.bincount(membership, minlength=1 << MAX_ROIS) > 0
        masks = np.flatnonzero(present).astype(MEMBERSHIP_DTYPE)
        if masks.size > MAX_ROI_GROUPS:
            raise ValueError(
                f"ROIs would overlap in {masks.size} distinct ways, "
                f"at most {MAX_ROI_GROUPS} are supported"
            )
        self._fold_groups()
        rank = np.cumsum(present, dtype=np.int64) - 1
        self._membership = membership
        self.group = rank[membership].astype(np.uint8)
        self._group_masks = masks
        bins = self.group_toa_counts.shape[1]
        self.group_toa_counts = np.zeros((masks.size, bins), dtype=np.int64)

    def _fold_groups(self) -> None:
        """Add the group spectra to the spectra of the ROIs of each group."""
        rois = np.arange(MAX_ROIS, dtype=MEMBERSHIP_DTYPE)[:, np.newaxis]
        member = ((self._group_masks[np.newaxis, :] >> rois) & 1).astype(np.int64)
        self._current += member @ self.group_toa_counts
        self.group_toa_counts[:] = 0

    def reset(self) -> None:
        self._cumulative[:] = 0
        self._cumulative_start = dict.fromkeys(self.definitions)

    def finalize(
        self, window: TimeWindow, toa_edges: sc.Variable
    ) -> dict[int, tuple[sc.DataArray, sc.DataArray]]:
        """Current and cumulative TOA spectrum per ROI; current restarts."""
        self._fold_groups()
        self._cumulative += self._current
        spectra = {}
        for roi in sorted(self.definitions):
            start = self._cumulative_start[roi]
            if start is None:
                start = self._cumulative_start[roi] = window.start
            spectra[roi] = (
                _spectrum(self._current[roi], toa_edges, roi, window.start, window.end),
                _spectrum(self._cumulative[roi], toa_edges, roi, start, window.end),
            )
        self._current[:] = 0
        return spectra


def _spectrum(
    counts: np.ndarray, edges: sc.Variable, roi: int, start: int, end: int
) -> sc.DataArray:
    data = sc.DataArray(
        sc.array(dims=[edges.dim], values=counts.copy(), unit="counts"),
        coords={edges.dim: edges},
        name=f"roi {roi}",
    )
    return stamp(data, start, end)
