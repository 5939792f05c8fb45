"""A LOKI-shaped NeXus file with the rear bank only, for tests and benchmarks.

What esssans reads of a LOKI file: the rear bank's straws at their published
positions (:mod:`.geometry`), flat ``detector_number`` as in the facility's
files (esssans folds it into layer, tube, straw, pixel), each pixel's
cylinder (``pixel_shape``, for solid angles), the incident and transmission
monitors, source and sample; optionally a run as ``NXevent_data``. A straw
may hold fewer than 512 pixels (every n-th), to keep files small.

Writing needs ``ess.livedata.testing`` (h5py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .fake_data import INCIDENT_MONITOR_Z, SOURCE_Z, TRANSMISSION_MONITOR_Z
from .geometry import PIXELS_PER_STRAW, REAR, pixel_positions
from .workflows import INCIDENT_MONITOR, TRANSMISSION_MONITOR


def rear_bank_pixels(pixels_per_straw: int) -> np.ndarray:
    """Centres (m) of every n-th pixel of each rear-bank straw, shape (N, 3)."""
    step = PIXELS_PER_STRAW // pixels_per_straw
    return pixel_positions(REAR)[:, step // 2 :: step].reshape(-1, 3)


def write_rear_bank_file(
    path: Path,
    pixels_per_straw: int = PIXELS_PER_STRAW,
    events: object | None = None,
) -> Path:
    """Write the file; ``events`` is a ``nexus_files.NexusEvents`` run or None.

    Detector numbers run from 1 in the layout's order.
    """
    from ess.livedata.testing.nexus_files import Component, PixelBank, write_nexus_file

    positions = rear_bank_pixels(pixels_per_straw)
    bank = PixelBank(
        REAR.name,
        np.arange(1, len(positions) + 1, dtype=np.int32),
        positions,
        pixel_cylinder=REAR.cylinder(pixels_per_straw),
    )
    write_nexus_file(
        path,
        [bank],
        monitors=[
            Component(INCIDENT_MONITOR.name, (0.0, 0.0, INCIDENT_MONITOR_Z)),
            Component(TRANSMISSION_MONITOR.name, (0.0, 0.0, TRANSMISSION_MONITOR_Z)),
        ],
        source=Component("source", (0.0, 0.0, SOURCE_Z)),
        events=events,
    )
    return path
