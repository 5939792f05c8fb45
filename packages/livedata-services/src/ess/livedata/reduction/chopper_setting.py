"""A chopper cascade and lookup-table grid as plain, hashable data.

A wavelength lookup table depends only on these numbers (and on the versions
of the packages that compute it), so their hash names the table in the cache.
Standard library only: a setting can be built from logs or YAML anywhere.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from importlib.metadata import version

COMPUTING_PACKAGES = ("essreduce", "tof")
"""Their versions are part of the key: an upgrade may change the table."""


def _floats(setting: object, names: set[str]) -> None:
    """Make the ``names`` fields Python floats (tuples of them), so that 60,
    60.0 and numpy's 60.0 give the same key."""
    for name in names:
        value = getattr(setting, name)
        if isinstance(value, tuple):
            value = tuple(float(v) for v in value)
        elif value is not None:
            value = float(value)
        object.__setattr__(setting, name, value)


@dataclass(frozen=True)
class DiskChopperSetting:
    """One disk chopper as scippneutron's ``DiskChopper`` describes it.

    ``distance_m`` is along the beam from the source; a negative frequency
    means the disk turns the other way. Angles are in degrees.
    """

    name: str
    distance_m: float
    frequency_hz: float
    phase_deg: float
    slit_begin_deg: tuple[float, ...]
    slit_end_deg: tuple[float, ...]
    radius_m: float
    slit_height_m: float
    beam_position_deg: float = 0.0

    def __post_init__(self) -> None:
        _floats(self, {field.name for field in fields(self)} - {"name"})


@dataclass(frozen=True)
class LookupTableSetting:
    """Everything a wavelength lookup table is computed from.

    ``ltotal_*_m`` bound the flight paths (source to pixel or monitor) the
    table must cover. ``neutrons`` and ``seed`` fix the ``tof`` simulation,
    so equal settings give equal tables. ``wavelength_*_angstrom`` limit the
    simulated source spectrum (``None``: the whole ESS pulse profile).
    """

    choppers: tuple[DiskChopperSetting, ...]
    ltotal_min_m: float
    ltotal_max_m: float
    distance_resolution_m: float = 0.1
    time_resolution_us: float = 250.0
    pulse_frequency_hz: float = 14.0
    neutrons: int = 1_000_000
    seed: int = 0
    wavelength_min_angstrom: float | None = None
    wavelength_max_angstrom: float | None = None

    def __post_init__(self) -> None:
        integers = {"choppers", "neutrons", "seed"}
        _floats(self, {field.name for field in fields(self)} - integers)
        object.__setattr__(self, "neutrons", int(self.neutrons))
        object.__setattr__(self, "seed", int(self.seed))

    @property
    def key(self) -> str:
        """Hash of the setting and of the computing packages' versions."""
        versions = {name: version(name) for name in COMPUTING_PACKAGES}
        text = json.dumps([asdict(self), versions], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]
