"""Geometric views: pixel positions projected onto a screen grid.

Screen coordinates are taken relative to the sample position, with the beam
along +z and y up:

- ``xy_plane``: ``(x, y)`` in m, dims ``("y", "x")``.
- ``cylinder_mantle_z``: the mantle of a cylinder whose axis is y (vertical
  tubes around the sample): ``phi = atan2(x, z)`` in degrees (0 along the
  beam, positive towards +x) and the height ``y`` in m, dims ``("y", "phi")``.

Pixels much smaller than a screen bin alias into stripes. A view with
``pixel_noise`` therefore spreads each pixel over :data:`REPLICAS` copies of
its position, each smeared by Gaussian noise of that std-dev (m) with a fixed
seed and carrying an equal share of the pixel's counts. The pixel to screen
bin matrix is computed once (and again on a resolution change); projecting is
one sparse product per publish, never per event.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
import scipp as sc

from ess.livedata.core.instrument import DetectorBank, GeometricView, ProjectionKind

from .kernels import project_pixels
from .views import ImageAxis

logger = logging.getLogger(__name__)

REPLICAS = 8
"""Noisy copies per pixel; a power of two, so shares and sums stay exact."""
NOISE_SEED = 1234

ScreenCoordinates = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def _xy_plane(relative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return relative[:, 0], relative[:, 1]


def _cylinder_mantle(relative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    phi = np.degrees(np.arctan2(relative[:, 0], relative[:, 2]))
    return phi, relative[:, 1]


SCREENS: dict[ProjectionKind, tuple[ScreenCoordinates, ImageAxis, ImageAxis]] = {
    ProjectionKind.XY_PLANE: (_xy_plane, ImageAxis("y", "m"), ImageAxis("x", "m")),
    ProjectionKind.CYLINDER_MANTLE_Z: (
        _cylinder_mantle,
        ImageAxis("y", "m"),
        ImageAxis("phi", "deg"),
    ),
}
"""Per projection: screen (x, y) of positions relative to the sample, y and x axes."""


class ProjectedImage:
    """A geometric view of one bank: per-pixel counts binned on a screen grid."""

    def __init__(
        self,
        bank: DetectorBank,
        view: GeometricView,
        sample_position: tuple[float, float, float],
    ) -> None:
        self.name = view.name
        self._bank_name = bank.name
        self._screen, y_axis, x_axis = SCREENS[view.projection]
        self._axes = (y_axis, x_axis)
        positions = bank.geometry.coords["position"].to(unit="m")
        self._relative = positions.values.reshape(-1, 3) - np.asarray(sample_position)
        self._noise = view.pixel_noise
        self._replicas = REPLICAS if view.pixel_noise > 0 else 1
        self._extent = self._screen_extent()
        self.set_resolution(view.resolution)

    @property
    def axes(self) -> tuple[ImageAxis, ImageAxis]:
        return self._axes

    def _replica_coordinates(self, replica: int) -> tuple[np.ndarray, np.ndarray]:
        if self._replicas == 1:
            return self._screen(self._relative)
        rng = np.random.default_rng([NOISE_SEED, replica])
        noisy = self._relative + rng.normal(0.0, self._noise, self._relative.shape)
        return self._screen(noisy)

    def _screen_extent(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """(lo, hi) of x and y over all replicas, so no share falls off screen."""
        lows = np.full(2, np.inf)
        highs = np.full(2, -np.inf)
        for replica in range(self._replicas):
            for i, values in enumerate(self._replica_coordinates(replica)):
                lows[i] = min(lows[i], values.min())
                highs[i] = max(highs[i], values.max())
        extent = []
        for lo, hi in zip(lows, highs, strict=True):
            if hi - lo <= 0:
                lo, hi = lo - 0.5, hi + 0.5
            extent.append((float(lo), float(np.nextafter(hi, np.inf))))
        return extent[0], extent[1]

    def set_resolution(self, resolution: tuple[int, int]) -> None:
        """Rebuild the pixel to screen-bin matrix for ``(ny, nx)`` bins."""
        started = time.perf_counter()
        ny, nx = resolution
        (x_lo, x_hi), (y_lo, y_hi) = self._extent
        n = self._relative.shape[0]
        bins = np.empty((n, self._replicas), dtype=np.int32)
        for replica in range(self._replicas):
            x, y = self._replica_coordinates(replica)
            ix = _bin_index(x, x_lo, x_hi, nx)
            iy = _bin_index(y, y_lo, y_hi, ny)
            bins[:, replica] = iy * nx + ix
        self._pixels, self._bins, self._shares = _merge_replicas(bins)
        self._resolution = (ny, nx)
        y_axis, x_axis = self._axes
        self._coords = {
            y_axis.dim: sc.linspace(y_axis.dim, y_lo, y_hi, ny + 1, unit=y_axis.unit),
            x_axis.dim: sc.linspace(x_axis.dim, x_lo, x_hi, nx + 1, unit=x_axis.unit),
        }
        logger.info(
            "%s/%s: %d pixels onto %dx%d screen, %.2f bins per pixel, %.2f s",
            self._bank_name,
            self.name,
            n,
            ny,
            nx,
            self._bins.size / n,
            time.perf_counter() - started,
        )

    def image(self, counts: np.ndarray) -> sc.DataArray:
        ny, nx = self._resolution
        shares = np.zeros(ny * nx, dtype=np.int64)
        project_pixels(self._pixels, self._bins, self._shares, counts, shares)
        # Exact: shares are integers and the replica count a power of two.
        values = (shares / self._replicas).reshape(ny, nx)
        y_axis, x_axis = self._axes
        data = sc.array(dims=[y_axis.dim, x_axis.dim], values=values, unit="counts")
        return sc.DataArray(data, coords=self._coords, name=self.name)

    def pixel_coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        return self._screen(self._relative)


def _bin_index(values: np.ndarray, lo: float, hi: float, n: int) -> np.ndarray:
    index = ((values - lo) * (n / (hi - lo))).astype(np.int64)
    return np.clip(index, 0, n - 1)


def _merge_replicas(bins: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse form of a (pixels, replicas) bin table: one entry per distinct bin.

    Returns pixel, bin and share (replicas of the pixel in that bin, uint8)
    of each entry, ordered by pixel, so projecting reads counts in order.
    """
    replicas = bins.shape[1]
    bins.sort(axis=1)
    first = np.ones(bins.shape, dtype=bool)
    first[:, 1:] = bins[:, 1:] != bins[:, :-1]
    starts = np.flatnonzero(first)
    shares = np.diff(starts, append=bins.size).astype(np.uint8)
    pixels = (starts // replicas).astype(np.int32)
    return pixels, bins.ravel()[starts], shares
