"""An ESTIA-shaped NeXus file, for tests and benchmarks.

What essreflectometry reads of an ESTIA file: the multiblade detector with
flat ``detector_number`` (the package folds it into strip x blade x wire,
wire fastest), its pixels 4 m downstream of the sample with the blade and
wire axis across the scattering plane (x), the detector arm's rotation as an
``NXlog`` transformation about the sample, the sample's ``sample_rotation``
log, the source and the beam monitor; optionally a run as ``NXevent_data``.
Positions are ESTIA-like, not surveyed.

Writing needs ``ess.livedata.testing`` (h5py).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from .workflows import BEAM_MONITOR, DETECTOR

SOURCE_Z = -35.0
"""Moderator to sample (m), ESTIA's nominal length."""
MONITOR_Z = -10.0
DETECTOR_DISTANCE_M = 4.0
LAYOUT = {"strip": 64, "blade": 48, "wire": 32}
FIRST_ID = 98305
"""The facility's first multiblade detector number (``streams.yaml``)."""
ANGLE_PITCH_M = 1.5e-4
"""Across the scattering plane, per blade-wire step: ±0.11 m (±1.6°)."""
STRIP_PITCH_M = 2.0e-3


def pixel_offsets() -> np.ndarray:
    """Pixel centres (m) relative to the detector arm, flat in the file's
    order (strip, blade, wire; wire fastest), shape (N, 3)."""
    strip, angle = np.meshgrid(
        np.arange(LAYOUT["strip"]),
        np.arange(LAYOUT["blade"] * LAYOUT["wire"]),
        indexing="ij",
    )
    x = (angle - (angle.max() / 2)) * ANGLE_PITCH_M
    y = (strip - (strip.max() / 2)) * STRIP_PITCH_M
    return np.stack([x, y, np.zeros_like(x)], axis=-1).reshape(-1, 3)


def _log(parent: h5py.Group, name: str, value_deg: float, time_ns: int) -> h5py.Group:
    """A one-entry ``NXlog`` of an angle (deg)."""
    group = parent.create_group(name)
    group.attrs["NX_class"] = "NXlog"
    value = group.create_dataset("value", data=[value_deg])
    value.attrs["units"] = "deg"
    time = group.create_dataset("time", data=[time_ns])
    time.attrs["units"] = "ns"
    time.attrs["start"] = "1970-01-01T00:00:00Z"
    return group


def write_estia_file(
    path: Path,
    sample_rotation_deg: float = 0.8,
    detector_rotation_deg: float = 1.6,
    events: object | None = None,
) -> Path:
    """Write the file; ``events`` is a ``nexus_files.NexusEvents`` run or None.

    The detector arm turns about y through the sample, so pixel ``x`` grows
    with the scattering angle.
    """
    from ess.livedata.testing.nexus_files import (
        EPOCH_PULSE_NS,
        Component,
        PixelBank,
        write_nexus_file,
    )

    count = LAYOUT["strip"] * LAYOUT["blade"] * LAYOUT["wire"]
    bank = PixelBank(
        DETECTOR.name,
        np.arange(FIRST_ID, FIRST_ID + count, dtype=np.int32),
        pixel_offsets(),
        distance_mm=DETECTOR_DISTANCE_M * 1000,
    )
    write_nexus_file(
        path,
        [bank],
        monitors=[Component(BEAM_MONITOR.name, (0.0, 0.0, MONITOR_Z))],
        source=Component("source", (0.0, 0.0, SOURCE_Z)),
        events=events,
    )
    with h5py.File(path, "r+") as f:
        transformations = f[f"entry/instrument/{DETECTOR.name}/transformations"]
        arm = _log(
            transformations, "detector_rotation", detector_rotation_deg, EPOCH_PULSE_NS
        )
        arm.attrs.update(
            transformation_type="rotation", vector=(0.0, 1.0, 0.0), depends_on="."
        )
        transformations["location"].attrs["depends_on"] = "detector_rotation"
        _log(f["entry/sample"], "sample_rotation", sample_rotation_deg, EPOCH_PULSE_NS)
    return path
