"""Instrument geometry read from a NeXus file with scippnexus.

Detector banks (``detector_number`` and pixel positions after the
transformation chain), monitors, source and sample are read from the
``NXinstrument`` (and ``NXsample``) of the file's ``NXentry``. Event data in
the same groups is never read, so a recorded run works as a geometry file.

:func:`instrument_geometry` loads the file chosen by date once per process
and logs which and why; :class:`NexusDetector` is a bank's ``make_geometry``;
:func:`with_file_positions` gives services and fakes, at start-up, the
instrument with source, sample and monitors placed as in the file.
Needs the ``nexus`` extra (scippnexus, pooch).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipp as sc

from .geometry_files import (
    GeometryFileError,
    choose_geometry_file,
    geometry_override,
    locate_geometry_file,
    one_line,
)
from .instrument import GeometryFiles, Monitor

if TYPE_CHECKING:
    import scippnexus as snx
    from scippnexus.nxtransformations import Transform

    from .plugins import LoadedInstrument

logger = logging.getLogger(__name__)
_PIXEL_FIELDS = ("x_pixel_offset", "y_pixel_offset", "z_pixel_offset")


@dataclass(frozen=True)
class NexusGeometry:
    """What :func:`read_nexus_geometry` finds, keyed by NeXus group name.

    ``detectors`` are counts templates like any bank's geometry: int64 zeros
    with coords ``detector_number`` (int32) and ``position`` (m).
    """

    path: Path
    detectors: dict[str, sc.DataArray]
    monitors: dict[str, sc.Variable]
    source: sc.Variable | None
    sample: sc.Variable | None

    def detector(self, group: str) -> sc.DataArray:
        try:
            return self.detectors[group]
        except KeyError:
            known = ", ".join(sorted(self.detectors)) or "none"
            raise GeometryFileError(
                f"geometry file {self.path} has no NXdetector {group!r} (has: {known})"
            ) from None


def read_nexus_geometry(path: Path) -> NexusGeometry:
    """Read banks, monitors, source and sample from the NeXus file at ``path``."""
    import scippnexus as snx

    with snx.File(path, "r") as root:
        entry = _only(root, snx.NXentry, path)
        instrument = _only(entry, snx.NXinstrument, path)
        detectors = {
            name: _detector(group) for name, group in instrument[snx.NXdetector].items()
        }
        monitors = {
            name: _position(group) for name, group in instrument[snx.NXmonitor].items()
        }
        sources = list(instrument[snx.NXsource].values())
        samples = list(entry[snx.NXsample].values())
        return NexusGeometry(
            path=path,
            detectors=detectors,
            monitors=monitors,
            source=_position(sources[0]) if sources else None,
            sample=_position(samples[0]) if samples else None,
        )


def _only(group: snx.Group, nx_class: type, path: Path) -> snx.Group:
    children = list(group[nx_class].values())
    if len(children) != 1:
        raise GeometryFileError(
            f"geometry file {path}: expected one {nx_class.__name__} in "
            f"{group.name}, found {len(children)}"
        )
    return children[0]


def _depends_on(group: snx.Group) -> sc.DataGroup:
    """The group's resolved ``depends_on`` chain, or nothing if it has none."""
    from scippnexus.nxtransformations import parse_depends_on_chain

    if "depends_on" not in group:
        return sc.DataGroup()
    chain = parse_depends_on_chain(group, group["depends_on"][()])
    if chain is None:
        return sc.DataGroup()
    for path, transform in chain.transformations.items():
        chain.transformations[path] = _newest(transform)
    return sc.DataGroup({"depends_on": chain})


def _newest(transform: Transform) -> Transform:
    """A logged transformation (an ``NXlog``, e.g. ESTIA's detector arm) at
    its newest value: the geometry of now. Static ones are returned as is."""
    value = transform.value
    if not isinstance(value, sc.DataArray) or not value.sizes.get("time"):
        return transform
    return replace(transform, value=value["time", -1].data)


def _position(group: snx.Group) -> sc.Variable:
    """The component's origin after its transformation chain (m)."""
    import scippnexus as snx

    located = snx.compute_positions(_depends_on(group))
    return located.get("position", sc.vector([0.0, 0.0, 0.0], unit="m")).to(unit="m")


def _detector(group: snx.Group) -> sc.DataArray:
    """detector_number and positions; transformations apply to the offsets."""
    number = group["detector_number"][()]
    offsets = {
        name: _dims_like(group[name][()], number)
        for name in _PIXEL_FIELDS
        if name in group
    }
    position = _pixel_positions(group, number.sizes, offsets)
    if _fits_int32(number.values):
        number = number.to(dtype="int32")  # ev44's pixel id type
    return sc.DataArray(
        sc.zeros(sizes=number.sizes, unit="counts", dtype="int64"),
        coords={
            "detector_number": number,
            "position": position.to(unit="m").broadcast(sizes=number.sizes).copy(),
        },
    )


def _dims_like(offset: sc.Variable, number: sc.Variable) -> sc.Variable:
    """``offset`` with the dims of ``number`` if shaped alike: scippnexus names
    a flat ``detector_number`` (the facility's files) ``detector_number`` but
    the offsets beside it ``dim_0`` when the bank has no event data."""
    if offset.shape != number.shape or offset.dims == number.dims:
        return offset
    return offset.rename_dims(dict(zip(offset.dims, number.dims, strict=True)))


def _pixel_positions(
    group: snx.Group, sizes: dict[str, int], offsets: dict[str, sc.Variable]
) -> sc.Variable:
    import scippnexus as snx

    if not offsets:  # every pixel at the component's origin
        return _position(group)
    chain = _depends_on(group)
    if not chain:  # offsets are positions
        return snx.zip_pixel_offsets(offsets)
    pixels = sc.DataArray(sc.empty(sizes=sizes, dtype="bool"), coords=offsets)
    located = snx.compute_positions(sc.DataGroup({**chain, "pixels": pixels}))
    return located["pixels"].coords["position"]


def _fits_int32(values: np.ndarray) -> bool:
    info = np.iinfo(np.int32)
    return bool(values.min() >= info.min and values.max() <= info.max)


def instrument_geometry(files: GeometryFiles) -> NexusGeometry:
    """The geometry file valid now (or ``LIVEDATA_GEOMETRY_FILE``), found,
    verified and read once per process."""
    override = geometry_override()
    if override is not None:
        return _read_once(*override)
    return _declared_geometry(files)


def geometry_file_path(files: GeometryFiles) -> Path:
    """The path of the geometry file valid now (or ``LIVEDATA_GEOMETRY_FILE``),
    found and verified but not read: for the ESS packages, which read it
    themselves, time-dependent transformations included."""
    override = geometry_override()
    if override is not None:
        return override[0]
    return locate_geometry_file(choose_geometry_file(files).file, files.registry_url)


@functools.cache
def _declared_geometry(files: GeometryFiles) -> NexusGeometry:
    chosen = choose_geometry_file(files)
    path = locate_geometry_file(chosen.file, files.registry_url)
    return _read_once(path, chosen.reason)


_READ: dict[Path, NexusGeometry] = {}


def _read_once(path: Path, reason: str) -> NexusGeometry:
    """Each path is read once per process; ``reason`` is logged that once."""
    if path in _READ:
        return _READ[path]
    try:
        geometry = read_nexus_geometry(path)
    except GeometryFileError:
        raise
    except Exception as error:  # h5py, scippnexus, scipp: any malformed file
        raise GeometryFileError(
            f"geometry file {path} cannot be read: {type(error).__name__}: "
            f"{one_line(error)}"
        ) from None
    logger.info("geometry from %s: %s", path, reason)
    _READ[path] = geometry
    return geometry


@dataclass(frozen=True)
class NexusDetector:
    """``make_geometry`` of a bank whose pixels are NXdetector ``group`` in the
    instrument's geometry file.

    ``dims`` names the dimensions of ``detector_number`` (files often leave
    them unnamed, ``dim_0``...), as the bank's logical views expect them.
    """

    files: GeometryFiles
    group: str
    dims: tuple[str, ...] = ()

    def __call__(self) -> sc.DataArray:
        geometry = instrument_geometry(self.files).detector(self.group)
        if not self.dims:
            return geometry
        if len(self.dims) != geometry.ndim:
            raise GeometryFileError(
                f"NXdetector {self.group!r} has {geometry.ndim} dims "
                f"{list(geometry.dims)}, the bank names {len(self.dims)}"
            )
        return geometry.rename_dims(dict(zip(geometry.dims, self.dims, strict=True)))


def with_file_positions(loaded: LoadedInstrument) -> LoadedInstrument:
    """``loaded`` with source, sample and monitor positions from its geometry
    file, read now (once per process); unchanged if it declares no file.

    Monitors are matched to ``NXmonitor`` groups by name; anything the file
    lacks keeps its declared position.
    """
    instrument = loaded.instrument
    if instrument.geometry_files is None:
        return loaded
    geometry = instrument_geometry(instrument.geometry_files)
    monitors = tuple(
        _placed(monitor, geometry.monitors.get(monitor.name))
        for monitor in instrument.monitors
    )
    placed = replace(
        instrument,
        monitors=monitors,
        source_position=_xyz(geometry.source, instrument.source_position),
        sample_position=_xyz(geometry.sample, instrument.sample_position),
    )
    return replace(loaded, instrument=placed)


def _placed(monitor: Monitor, position: sc.Variable | None) -> Monitor:
    return replace(monitor, position=_xyz(position, monitor.position))


def _xyz(
    position: sc.Variable | None, declared: tuple[float, float, float]
) -> tuple[float, float, float]:
    if position is None:
        return declared
    x, y, z = (float(v) for v in position.to(unit="m").values)
    return (x, y, z)
