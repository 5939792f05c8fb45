"""What LOKI's fake data look like: a direct beam and a silver behenate ring.

The fake producers draw each event's pixel from a pattern in scattering angle
and, independently, its time of arrival from a TOA shape. Time of arrival and
flight path define the wavelength (the pulse is taken to leave the source at
time zero), so the shapes here are derived from one wavelength band: its TOA
peak is where that band reaches the rear bank (and, for the monitors, the
incident monitor), and the ring sits at the angle at which the band's mean
wavelength scatters to silver behenate's first peak. I(Q) of the rear bank
therefore peaks at :data:`SILVER_BEHENATE_Q`. Banks at other distances see
other wavelengths for the same times, hence rings at other Q: the fakes do not
model that, as they draw time of arrival independently of the pixel.
"""

from __future__ import annotations

import math

from ess.livedata.core.fake_shapes import (
    BeamSpot,
    FakeDataShapes,
    Ring,
    ToaPeak,
    ToaShape,
)

from .geometry import REAR

SILVER_BEHENATE_Q = 0.1076
"""First peak of silver behenate (d = 58.38 Å), in 1/Å: the SANS calibrant."""
MEAN_WAVELENGTH = 6.0
"""Mean of the fake wavelength band, in Å."""
WAVELENGTH_SPREAD = 0.2
"""Standard deviation of the band, in Å."""

SOURCE_Z = -23.6
"""Moderator to sample, in m (sample at the origin)."""
INCIDENT_MONITOR_Z = -8.4
TRANSMISSION_MONITOR_Z = 0.2

H_OVER_M_N = 3956.034
"""Planck's constant over the neutron mass (CODATA 2018), in m Å / s."""


def ring_two_theta(q: float, wavelength: float) -> float:
    """Scattering angle (rad) at which ``wavelength`` (Å) scatters to ``q`` (1/Å)."""
    return 2.0 * math.asin(q * wavelength / (4.0 * math.pi))


def arrival_ms(wavelength: float, flight_path_m: float) -> float:
    """Time (ms) after the pulse at which ``wavelength`` (Å) has flown the path."""
    return 1000.0 * wavelength * flight_path_m / H_OVER_M_N


RING_TWO_THETA = ring_two_theta(SILVER_BEHENATE_Q, MEAN_WAVELENGTH)
_REAR_DEPTH_M = (REAR.first_tube[2] + REAR.first_tube_last_layer[2]) / 2000.0
_REAR_PATH_M = -SOURCE_Z + _REAR_DEPTH_M / math.cos(RING_TWO_THETA)
"""Source to the ring on the rear bank's middle plane (layers are evenly spaced)."""
_MONITOR_PATH_M = INCIDENT_MONITOR_Z - SOURCE_Z


def _band(flight_path_m: float) -> ToaShape:
    width = arrival_ms(WAVELENGTH_SPREAD, flight_path_m)
    peak = ToaPeak(arrival_ms(MEAN_WAVELENGTH, flight_path_m), width)
    return ToaShape(peaks=(peak,), background=0.05)


FAKE_DATA_SHAPES = FakeDataShapes(
    monitor_toa=_band(_MONITOR_PATH_M),
    detector_toa=_band(_REAR_PATH_M),
    detector_pattern=(
        BeamSpot(width_rad=0.005, weight=1.0),
        Ring(two_theta_rad=RING_TWO_THETA, width_rad=0.0015, weight=0.5),
    ),
    detector_background=0.1,
)
"""Shapes for the fake producers; the ring's Q holds on the rear bank."""
