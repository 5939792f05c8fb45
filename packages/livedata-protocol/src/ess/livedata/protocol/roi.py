"""ROI requests on ``{instrument}_livedata_roi`` and their read-back outputs.

A request is a da00 message named ``{source_name}/{job_number}/{geometry}``
whose ``x``, ``y`` and ``roi_index`` columns list every ROI of that geometry;
it replaces the whole set, and empty columns clear it. Rectangles take two
rows each (min, max) on dim ``bounds``; polygons one row per vertex on dim
``vertex``. Indices: rectangles 0-3, polygons 4-7.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

from .identity import JobId


class RoiGeometry(enum.StrEnum):
    RECTANGLE = "roi_rectangle"
    POLYGON = "roi_polygon"

    @property
    def dim(self) -> str:
        return "bounds" if self is RoiGeometry.RECTANGLE else "vertex"

    @property
    def indices(self) -> range:
        return range(4) if self is RoiGeometry.RECTANGLE else range(4, 8)


@dataclass(frozen=True, slots=True)
class RoiStream:
    """Which job and geometry an ROI message addresses."""

    job_id: JobId
    geometry: RoiGeometry

    def to_source_name(self) -> str:
        return f"{self.job_id}/{self.geometry}"

    @classmethod
    def from_source_name(cls, source_name: str) -> Self:
        source, job_number, geometry = source_name.rsplit("/", 2)
        return cls(
            JobId(source_name=source, job_number=job_number), RoiGeometry(geometry)
        )


@dataclass(frozen=True, slots=True)
class RoiColumns:
    """The columns of one ROI message, in the order the wire has them."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    roi_index: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Rectangle:
    x_min: float
    x_max: float
    y_min: float
    y_max: float


Polygon = tuple[tuple[float, float], ...]
"""Vertices (x, y) in drawing order."""


def rectangles_to_columns(rois: dict[int, Rectangle]) -> RoiColumns:
    _check_indices(rois, RoiGeometry.RECTANGLE)
    x: list[float] = []
    y: list[float] = []
    index: list[int] = []
    for i, r in sorted(rois.items()):
        x += [r.x_min, r.x_max]
        y += [r.y_min, r.y_max]
        index += [i, i]
    return RoiColumns(tuple(x), tuple(y), tuple(index))


def rectangles_from_columns(columns: RoiColumns) -> dict[int, Rectangle]:
    rows = _rows_by_index(columns)
    if any(len(points) != 2 for points in rows.values()):
        raise ValueError("a rectangle needs exactly two bounds rows (min, max)")
    return {i: Rectangle(p[0][0], p[1][0], p[0][1], p[1][1]) for i, p in rows.items()}


def polygons_to_columns(rois: dict[int, Polygon]) -> RoiColumns:
    _check_indices(rois, RoiGeometry.POLYGON)
    rows = [(v, i) for i, poly in sorted(rois.items()) for v in poly]
    return RoiColumns(
        tuple(v[0] for v, _ in rows),
        tuple(v[1] for v, _ in rows),
        tuple(i for _, i in rows),
    )


def polygons_from_columns(columns: RoiColumns) -> dict[int, Polygon]:
    rows = _rows_by_index(columns)
    if any(len(points) < 3 for points in rows.values()):
        raise ValueError("a polygon needs at least three vertices")
    return {i: tuple(points) for i, points in rows.items()}


def _rows_by_index(columns: RoiColumns) -> dict[int, list[tuple[float, float]]]:
    if not len(columns.x) == len(columns.y) == len(columns.roi_index):
        raise ValueError("x, y and roi_index must have the same length")
    rows: dict[int, list[tuple[float, float]]] = {}
    for x, y, i in zip(columns.x, columns.y, columns.roi_index, strict=True):
        rows.setdefault(int(i), []).append((float(x), float(y)))
    return rows


def _check_indices(rois: Mapping[int, object], geometry: RoiGeometry) -> None:
    wrong = sorted(set(rois) - set(geometry.indices))
    if wrong:
        raise ValueError(f"{geometry} indices must be in {geometry.indices}: {wrong}")
