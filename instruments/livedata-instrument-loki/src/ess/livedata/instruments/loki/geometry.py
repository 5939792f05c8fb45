"""LOKI's straw-tube banks as published: where stand-in geometry puts their pixels.

Every bank is four layers of 1-inch boron-coated-straw (BCS) tubes; a tube
holds seven straws (one on its axis, six on a 7.75 mm circle around it) and
a straw reads out position along its length. The corners below are those of
the LOKI geometry in ESS's NeXus geometry scripts: for each bank the centre
of the first tube's start in the first and the last layer, of the last tube's
start in the first layer, and the straw direction and length. Coordinates are
McStas/NeXus: sample at the origin, beam along +z, y up.

Live pixels come from the geometry file; this model places the rear and
middle banks' pixels in stand-in files (tests, offline demos) so that the
fake pattern and I(Q) see LOKI's real angles. Pixels run like the detector
numbers: layer, tube, straw, then pixel fastest, 512 per straw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LAYERS = 4
STRAWS_PER_TUBE = 7
PIXELS_PER_STRAW = 512
STRAW_CIRCLE_MM = math.hypot(1.14, 7.67)
"""Distance of the six outer straws from the tube axis."""
STRAW_ANGLE_RAD = math.radians(-5.0)
"""Rotation of the outer straws' hexagon within the tube."""
STRAW_RADIUS_M = 0.00375
"""Half the 7.5 mm straw diameter."""

Point = tuple[float, float, float]


@dataclass(frozen=True)
class StrawBank:
    """One bank as published (lengths in mm).

    Parameters
    ----------
    first_tube:
        Start of the first tube's axis, first layer.
    first_tube_last_layer:
        Start of the first tube's axis, last layer.
    last_tube:
        Start of the last tube's axis, first layer.
    straw:
        From a straw's start to its end: direction and length.
    """

    name: str
    tubes_per_layer: int
    first_tube: Point
    first_tube_last_layer: Point
    last_tube: Point
    straw: Point

    def positions(self, table: object) -> np.ndarray:
        """Stand-in placement (:class:`~ess.livedata.ess.geometry.Placement`)."""
        return pixel_positions(self).reshape(-1, 3)

    def cylinder(self, pixels_per_straw: int) -> tuple[Point, Point, Point]:
        """One pixel's cylinder (m) when a straw holds ``pixels_per_straw``."""
        axis = np.asarray(self.straw) / 1000.0 / pixels_per_straw
        edge = (0.0, STRAW_RADIUS_M, 0.0) if axis[1] == 0 else (STRAW_RADIUS_M, 0, 0)
        return (0.0, 0.0, 0.0), edge, tuple(float(v) for v in axis)

    @property
    def pixel_cylinder(self) -> tuple[Point, Point, Point]:
        """Stand-in pixel shape (:class:`~ess.livedata.ess.geometry.ShapedPlacement`)."""
        return self.cylinder(PIXELS_PER_STRAW)


REAR = StrawBank(
    name="loki_detector_0",
    tubes_per_layer=56,
    first_tube=(-500.0, -781.0, 5012.5),
    first_tube_last_layer=(-500.0, -799.84, 5091.28),
    last_tube=(-500.0, 781.0, 5012.5),
    straw=(1000.0, 0.0, 0.0),
)
"""The rear bank, ~5 m behind the sample: 56 x 4 tubes, 1 m straws."""

MID = (
    StrawBank(
        name="loki_detector_1",
        tubes_per_layer=16,
        first_tube=(-500.0, -710.24, 2899.18),
        first_tube_last_layer=(-500.0, -699.24, 2979.43),
        last_tube=(-500.0, -286.34, 2941.42),
        straw=(1000.0, 0.0, 0.0),
    ),
    StrawBank(
        name="loki_detector_2",
        tubes_per_layer=12,
        first_tube=(-535.94, -250.0, 3328.75),
        first_tube_last_layer=(-523.26, -250.0, 3408.75),
        last_tube=(-224.49, -250.0, 3353.18),
        straw=(0.0, 500.0, 0.0),
    ),
    StrawBank(
        name="loki_detector_3",
        tubes_per_layer=16,
        first_tube=(-500.0, 286.33, 2941.34),
        first_tube_last_layer=(-500.0, 275.34, 3021.59),
        last_tube=(-500.0, 710.23, 2899.11),
        straw=(1000.0, 0.0, 0.0),
    ),
    StrawBank(
        name="loki_detector_4",
        tubes_per_layer=12,
        first_tube=(224.49, -250.0, 3353.11),
        first_tube_last_layer=(211.82, -250.0, 3433.11),
        last_tube=(535.93, -250.0, 3328.67),
        straw=(0.0, 500.0, 0.0),
    ),
)
"""The middle frame, ~3 m behind the sample, around the beam to the rear bank."""


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def straw_offsets(across: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Seven straw axes relative to the tube axis (mm), ordered along ``across``.

    ``across`` is the direction in which tubes follow each other in a layer,
    ``depth`` the one from layer to layer; the axis straw is in the middle.
    """
    angles = STRAW_ANGLE_RAD + np.arange(STRAWS_PER_TUBE - 1) * np.pi / 3
    ring = STRAW_CIRCLE_MM * (
        np.cos(angles)[:, None] * across + np.sin(angles)[:, None] * depth
    )
    ring = ring[np.argsort(ring @ across, kind="stable")]
    middle = len(ring) // 2
    return np.concatenate([ring[:middle], np.zeros((1, 3)), ring[middle:]])


def pixel_positions(bank: StrawBank) -> np.ndarray:
    """Pixel centres (m), shape (layer * tube * straw, pixel, 3)."""
    start = np.asarray(bank.first_tube)
    layer_step = (np.asarray(bank.first_tube_last_layer) - start) / (LAYERS - 1)
    tube_step = (np.asarray(bank.last_tube) - start) / (bank.tubes_per_layer - 1)
    across = _unit(tube_step)
    depth = _unit(layer_step - (layer_step @ across) * across)
    layers = np.arange(LAYERS)[:, None, None] * layer_step
    tubes = np.arange(bank.tubes_per_layer)[None, :, None] * tube_step
    tube_starts = start + layers + tubes  # (layer, tube, 3)
    straw_starts = tube_starts[:, :, None, :] + straw_offsets(across, depth)
    along = (np.arange(PIXELS_PER_STRAW) + 0.5) / PIXELS_PER_STRAW
    pixels = straw_starts[..., None, :] + along[:, None] * np.asarray(bank.straw)
    return pixels.reshape(-1, PIXELS_PER_STRAW, 3) / 1000.0
