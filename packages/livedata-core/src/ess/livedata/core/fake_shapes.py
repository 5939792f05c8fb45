"""Shapes of the fake data an instrument wants its fake producers to emit.

Plain numbers only: the fake producers turn them into events. Patterns are in
scattering angle so that an instrument can place a ring at a known Q.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ToaPeak:
    """A Gaussian peak in time of arrival within the 71 ms frame."""

    center_ms: float
    width_ms: float
    weight: float = 1.0


@dataclass(frozen=True)
class ToaShape:
    """Time-of-arrival distribution: peaks on a flat background."""

    peaks: tuple[ToaPeak, ...]
    background: float = 0.1
    """Fraction of events spread uniformly over the frame."""
    frame_ms: float = 1000.0 / 14.0


@dataclass(frozen=True)
class BeamSpot:
    """Direct-beam spot: Gaussian in scattering angle around the beam axis."""

    width_rad: float
    weight: float = 1.0


@dataclass(frozen=True)
class Ring:
    """Debye-Scherrer or SANS ring at a fixed scattering angle."""

    two_theta_rad: float
    width_rad: float
    weight: float = 1.0


@dataclass(frozen=True)
class FakeDataShapes:
    """What fake monitors and detectors of an instrument should look like."""

    monitor_toa: ToaShape
    detector_toa: ToaShape
    detector_pattern: tuple[BeamSpot | Ring, ...]
    detector_background: float = 0.2
    """Fraction of detector events spread uniformly over all pixels."""
    detector_share: dict[str, float] = field(default_factory=dict)
    """Relative share of the detector events per bank name (unnamed banks 1):
    the fakes split the same total as with equal shares in these proportions."""


DEFAULT_FAKE_DATA_SHAPES = FakeDataShapes(
    monitor_toa=ToaShape(
        peaks=(
            ToaPeak(18.0, 3.0, 1.0),
            ToaPeak(35.0, 5.0, 0.6),
            ToaPeak(52.0, 2.0, 0.3),
        ),
    ),
    detector_toa=ToaShape(peaks=(ToaPeak(30.0, 8.0, 1.0), ToaPeak(55.0, 4.0, 0.4))),
    detector_pattern=(BeamSpot(width_rad=0.02, weight=1.0), Ring(0.15, 0.01, 0.7)),
)
