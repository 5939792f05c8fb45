"""NeXus files written by tests and benchmarks, never downloaded.

:func:`write_nexus_file` writes an ``NXentry`` with detector banks placed by
a realistic ``depends_on`` chain (pixel offsets, rotated about y, then
translated along a direction given in mm), optionally the pixels' cylinder
shape (``pixel_shape``, which SANS solid angles need), monitors, a source, a sample, and
optionally ``NXevent_data`` with known per-pixel counts. :func:`bank_positions`
computes the expected pixel positions by hand, independently of scippnexus.
:func:`recorded_batches` replays a file's events as ev44 batches.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import scipp as sc

from ess.livedata.core.message import StreamId
from ess.livedata.core.payloads import EventBatch

EPOCH_PULSE_NS = 1_700_000_000_000_000_000
"""First pulse time in generated files (ns since the epoch)."""
PULSE_NS = round(1e9 / 14)


Point = tuple[float, float, float]
Cylinder = tuple[Point, Point, Point]
"""A pixel's shape (m, in the bank's frame): the centre and an edge point of
one face, the centre of the other, as ``NXcylindrical_geometry`` holds it."""


@dataclass(frozen=True)
class Bank:
    """A flat panel of ``shape`` (y, x) pixels, ids counting along x fastest.

    The panel's pixel offsets (m, centred) are rotated by ``rotation_deg``
    about y, then translated by ``distance_mm`` along ``direction``.
    """

    name: str
    first_id: int
    shape: tuple[int, int]
    pixel_size: float = 0.01
    rotation_deg: float = 0.0
    direction: tuple[float, float, float] = (0.0, 0.0, 1.0)
    distance_mm: float = 4000.0
    pixel_cylinder: Cylinder | None = None

    @property
    def detector_number(self) -> np.ndarray:
        size = self.shape[0] * self.shape[1]
        return np.arange(self.first_id, self.first_id + size, dtype=np.int32).reshape(
            self.shape
        )

    def offsets(self) -> np.ndarray:
        """Pixel offsets (m) in the bank's own frame, shape ``(*shape, 3)``."""
        ny, nx = self.shape
        x = (np.arange(nx) - (nx - 1) / 2) * self.pixel_size
        y = (np.arange(ny) - (ny - 1) / 2) * self.pixel_size
        xx, yy = np.meshgrid(x, y)
        return np.stack([xx, yy, np.zeros_like(xx)], axis=-1)


@dataclass(frozen=True, eq=False)
class PixelBank:
    """A bank of any shape: its detector numbers and their pixel positions
    (m, shape ``(*numbers.shape, 3)``), written as offsets under a null
    transformation chain. Used for stand-in geometry of real instruments."""

    name: str
    detector_number: np.ndarray
    positions: np.ndarray
    rotation_deg: float = 0.0
    direction: tuple[float, float, float] = (0.0, 0.0, 1.0)
    distance_mm: float = 0.0
    pixel_cylinder: Cylinder | None = None

    def offsets(self) -> np.ndarray:
        return self.positions


@dataclass(frozen=True)
class Component:
    """A monitor, source or sample at ``position`` (m), written as a translation."""

    name: str
    position: tuple[float, float, float]


@dataclass
class NexusEvents:
    """Per-pixel counts (by bank, shaped like the bank) and per-monitor event
    counts written as ``NXevent_data``, spread over ``pulses`` pulses."""

    pulses: int
    detector_counts: dict[str, np.ndarray] = field(default_factory=dict)
    monitor_counts: dict[str, int] = field(default_factory=dict)


def bank_positions(bank: Bank) -> np.ndarray:
    """Expected pixel positions (m): rotate offsets about y, then translate."""
    angle = np.deg2rad(bank.rotation_deg)
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    direction = np.asarray(bank.direction) / np.linalg.norm(bank.direction)
    return bank.offsets() @ rotation.T + direction * bank.distance_mm / 1000


def random_counts(bank: Bank, mean: float, seed: int) -> np.ndarray:
    """Per-pixel counts to write as a bank's events (Poisson, fixed seed)."""
    return np.random.default_rng(seed).poisson(mean, bank.shape).astype(np.int64)


def write_nexus_file(
    path: Path,
    banks: list[Bank | PixelBank],
    monitors: list[Component] = (),
    source: Component | None = Component("source", (0.0, 0.0, -25.0)),
    sample: Component | None = Component("sample", (0.0, 0.0, 0.0)),
    events: NexusEvents | None = None,
    seed: int = 0,
) -> str:
    """Write the file; returns its checksum as ``"sha256:<hex>"``."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        entry = nx_group(f, "entry", "NXentry")
        instrument = nx_group(entry, "instrument", "NXinstrument")
        for bank in banks:
            group = _write_bank(instrument, bank)
            if events and bank.name in events.detector_counts:
                counts = events.detector_counts[bank.name]
                ids = np.repeat(bank.detector_number.ravel(), counts.ravel())
                write_event_data(group, rng.permutation(ids), events.pulses, rng)
        for monitor in monitors:
            group = nx_group(instrument, monitor.name, "NXmonitor")
            place_at(group, monitor.position)
            if events and monitor.name in events.monitor_counts:
                ids = np.ones(events.monitor_counts[monitor.name], dtype=np.int32)
                write_event_data(group, ids, events.pulses, rng)
        if source is not None:
            place_at(nx_group(instrument, source.name, "NXsource"), source.position)
        if sample is not None:
            place_at(nx_group(entry, sample.name, "NXsample"), sample.position)
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def nx_group(parent: h5py.Group, name: str, nx_class: str) -> h5py.Group:
    group = parent.create_group(name)
    group.attrs["NX_class"] = nx_class
    return group


def nx_dataset(
    parent: h5py.Group, name: str, values: object, units: str | None = None
) -> h5py.Dataset:
    dataset = parent.create_dataset(name, data=values)
    if units is not None:
        dataset.attrs["units"] = units
    return dataset


def _write_bank(instrument: h5py.Group, bank: Bank | PixelBank) -> h5py.Group:
    group = nx_group(instrument, bank.name, "NXdetector")
    nx_dataset(group, "detector_number", bank.detector_number)
    offsets = bank.offsets()
    for i, axis in enumerate("xyz"):
        nx_dataset(group, f"{axis}_pixel_offset", offsets[..., i], "m")
    transformations = nx_group(group, "transformations", "NXtransformations")
    direction = np.asarray(bank.direction) / np.linalg.norm(bank.direction)
    location = nx_dataset(transformations, "location", bank.distance_mm, "mm")
    location.attrs.update(
        transformation_type="translation", vector=direction, depends_on="."
    )
    orientation = nx_dataset(transformations, "orientation", bank.rotation_deg, "deg")
    orientation.attrs.update(
        transformation_type="rotation", vector=(0.0, 1.0, 0.0), depends_on="location"
    )
    group["depends_on"] = f"{group.name}/transformations/orientation"
    if bank.pixel_cylinder is not None:
        shape = nx_group(group, "pixel_shape", "NXcylindrical_geometry")
        nx_dataset(shape, "vertices", np.asarray(bank.pixel_cylinder), "m")
        nx_dataset(shape, "cylinders", np.array([[0, 1, 2]], dtype=np.int32))
    return group


def place_at(group: h5py.Group, position: tuple[float, float, float]) -> None:
    """A translation from the origin to ``position`` (m)."""
    distance = float(np.linalg.norm(position))
    direction = np.asarray(position) / distance if distance else (0.0, 0.0, 1.0)
    transformations = nx_group(group, "transformations", "NXtransformations")
    location = nx_dataset(transformations, "location", distance, "m")
    location.attrs.update(
        transformation_type="translation", vector=direction, depends_on="."
    )
    group["depends_on"] = f"{group.name}/transformations/location"


def write_event_data(
    parent: h5py.Group, ids: np.ndarray, pulses: int, rng: np.random.Generator
) -> None:
    """``ids`` split at random into ``pulses`` consecutive pulses (some may be
    empty), times of arrival in 0-70 ms."""
    group = nx_group(parent, "events", "NXevent_data")
    cuts = np.sort(rng.integers(0, ids.size + 1, pulses - 1))
    index = np.concatenate([[0], cuts]).astype(np.int64)
    nx_dataset(group, "event_id", ids.astype(np.int32))
    toa = rng.integers(0, 70_000_000, ids.size).astype(np.int32)
    nx_dataset(group, "event_time_offset", toa, "ns")
    times = EPOCH_PULSE_NS + PULSE_NS * np.arange(pulses, dtype=np.int64)
    etz = nx_dataset(group, "event_time_zero", times, "ns")
    etz.attrs["start"] = "1970-01-01T00:00:00Z"
    nx_dataset(group, "event_index", index)


def recorded_batches(path: Path, group: str) -> list[EventBatch]:
    """The ``NXevent_data`` of ``entry/instrument/<group>`` as ev44 batches,
    one per pulse: a recorded run replayed as live data."""
    with h5py.File(path) as f:
        events = f[f"entry/instrument/{group}/events"]
        index = events["event_index"][()]
        ends = np.append(index[1:], events["event_id"].shape[0])
        return [
            EventBatch(
                reference_time=np.array([time], dtype=np.int64),
                reference_time_index=np.array([0], dtype=np.int32),
                time_of_arrival=events["event_time_offset"][begin:end],
                pixel_id=events["event_id"][begin:end],
            )
            for time, begin, end in zip(
                events["event_time_zero"][()], index, ends, strict=True
            )
        ]


def in_windows(
    streams: dict[StreamId, list[EventBatch]], count: int
) -> list[dict[StreamId, list[EventBatch]]]:
    """Per-pulse batches of equally long ``streams`` split into ``count``
    consecutive windows of pulses."""
    pulses = len(next(iter(streams.values())))
    return [
        {stream: [batches[i] for i in part] for stream, batches in streams.items()}
        for part in np.array_split(np.arange(pulses), count)
    ]


def float64_weights(events: sc.DataArray) -> sc.DataArray:
    """Binned events with float64 weights, as live events weigh: scippnexus
    loads a file's weights as float32, so offline and live results would
    differ in precision, not in what they compute."""
    constituents = events.bins.constituents
    content = constituents["data"].copy()
    content.data = content.data.to(dtype="float64")
    return events.assign(sc.bins(**{**constituents, "data": content}))
