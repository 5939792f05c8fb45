"""Synthetic geometry of the dummy instrument, built in code."""

from __future__ import annotations

import numpy as np
import scipp as sc


def flat_panel(
    *, first_id: int, nx: int, ny: int, pixel_size: float, distance: float
) -> sc.DataArray:
    """A square-pixel panel facing the sample on the beam axis at ``distance``.

    ``detector_number`` runs along x fastest, so the logical view is (y, x).
    """
    ids = np.arange(first_id, first_id + nx * ny, dtype=np.int32).reshape(ny, nx)
    x = (np.arange(nx) - (nx - 1) / 2) * pixel_size
    y = (np.arange(ny) - (ny - 1) / 2) * pixel_size
    xx, yy = np.meshgrid(x, y)
    positions = np.stack([xx, yy, np.full_like(xx, distance)], axis=-1)
    return _template(ids, positions, dims=("y", "x"))


def cylindrical_tubes(
    *,
    first_id: int,
    n_tubes: int,
    pixels_per_tube: int,
    radius: float,
    angle_range_deg: tuple[float, float],
    tube_length: float,
) -> sc.DataArray:
    """Vertical tubes on a cylinder around the sample (axis along y).

    The tubes cover scattering angles in ``angle_range_deg`` in the horizontal
    plane, like a powder diffractometer's bank.
    """
    ids = np.arange(first_id, first_id + n_tubes * pixels_per_tube, dtype=np.int32)
    ids = ids.reshape(n_tubes, pixels_per_tube)
    angles = np.deg2rad(np.linspace(*angle_range_deg, n_tubes))
    heights = (np.arange(pixels_per_tube) - (pixels_per_tube - 1) / 2) * (
        tube_length / pixels_per_tube
    )
    angle, height = np.meshgrid(angles, heights, indexing="ij")
    positions = np.stack(
        [radius * np.sin(angle), height, radius * np.cos(angle)], axis=-1
    )
    return _template(ids, positions, dims=("tube", "pixel"))


def _template(
    ids: np.ndarray, positions: np.ndarray, dims: tuple[str, str]
) -> sc.DataArray:
    return sc.DataArray(
        sc.zeros(dims=list(dims), shape=ids.shape, unit="counts", dtype="int64"),
        coords={
            "detector_number": sc.array(dims=list(dims), values=ids, unit=None),
            "position": sc.vectors(dims=list(dims), values=positions, unit="m"),
        },
    )
