"""Registers ESS ESTIA with livedata (entry point ``estia`` in ``livedata.instruments``).

Streams, the multiblade detector's detector-number range and layout (64
strips x 48 blades x 32 wires), logs and the geometry file come from
``streams.yaml`` (generated from the facility facts); this module adds the
views, the stand-in placement, a fake specular reflection and
essreflectometry's reduction.
"""

from __future__ import annotations

import math

from ess.livedata.core.fake_shapes import FakeDataShapes, Ring, ToaPeak, ToaShape
from ess.livedata.core.instrument import GeometricView, ProjectionKind
from ess.livedata.ess.geometry import StandIn
from ess.livedata.ess.instrument import BankPlan, EssInstrument, layout_view
from ess.livedata.ess.plugin import EssReductionPlugin
from ess.livedata.ess.tables import load_tables

TABLES = load_tables(__package__)
ANGLE = ("blade", "wire")
"""Blade and wire, adjacent in the layout: together the scattering angle axis."""
_DETECTOR = TABLES.bank("multiblade_detector")

BANKS = {
    "multiblade_detector": BankPlan(
        views=(
            layout_view(
                _DETECTOR, "angle_strip", (ANGLE, "strip"), "Blade·wire x strip"
            ),
            layout_view(_DETECTOR, "blade_wire", ("blade", "wire"), "Blade x wire"),
            GeometricView(
                name="xy",
                projection=ProjectionKind.XY_PLANE,
                title="Multiblade detector, projected on the xy plane",
                resolution=(192, 64),
                pixel_noise=0.001,
            ),
        ),
        stand_in=StandIn(
            "panel",
            across=("strip",),
            along=ANGLE,
            centre=(0.0, 0.2, 4.0),
            size=(0.5, 0.4),
        ),
    ),
}
"""Views as upstream's (strip x blade x wire, spectra per blade and wire):
the full angle axis against strip, and strips summed; the stand-in is a
panel 4 m downstream, above the beam (rough, not ESTIA's)."""

FAKE_DATA_SHAPES = FakeDataShapes(
    monitor_toa=ToaShape(peaks=(ToaPeak(25.0, 10.0),), background=0.05),
    detector_toa=ToaShape(peaks=(ToaPeak(35.0, 12.0),), background=0.1),
    detector_pattern=(
        Ring(math.radians(3.0), math.radians(0.1), 1.0),
        Ring(math.radians(4.5), math.radians(0.2), 0.2),
    ),
    detector_background=0.2,
)
"""A specular line at 2θ = 3° and a weaker off-specular band; broad TOA as
for a wide wavelength band."""

ESTIA = EssInstrument(
    tables=TABLES,
    banks=BANKS,
    fake_shapes=FAKE_DATA_SHAPES,
    source_position=(0.0, 0.0, -35.0),
    monitor_positions={"cbm1": (0.0, 0.0, -10.0)},
)
"""Source and monitor z are rough (the facts give none)."""

PLUGIN = EssReductionPlugin(ESTIA, __package__)
