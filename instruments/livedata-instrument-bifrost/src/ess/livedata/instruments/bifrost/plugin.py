"""Registers ESS BIFROST with livedata (entry point ``bifrost`` in ``livedata.instruments``).

Streams, the detector layout, logs and the geometry file come from
``streams.yaml`` (generated from the facility facts). BIFROST's detector is
45 He-3 tube triplets (5 analyser arcs x 9 channels), each its own ev44
source ``arc=<a>;triplet=<t>`` on ``bifrost_detector`` and its own NXdetector
group; livedata treats them as one bank, ``unified_detector``, with detector
numbers 1..13500 in ``arc x tube x channel x pixel`` order. This module adds
its views, stand-in placement, fake pattern and essspectroscopy's Q maps.
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
_DETECTOR = TABLES.bank("unified_detector")

BANKS = {
    "unified_detector": BankPlan(
        views=(
            layout_view(
                _DETECTOR,
                "unified",
                (("arc", "tube"), ("channel", "pixel")),
                "Arc·tube x channel·pixel",
            ),
            layout_view(
                _DETECTOR, "arc_channel", ("arc", "channel"), "Counts per triplet"
            ),
            GeometricView(
                name="cylinder",
                projection=ProjectionKind.CYLINDER_MANTLE_Z,
                title="Analyser arcs, projected on a cylinder",
                resolution=(30, 180),
                pixel_noise=0.002,
            ),
        ),
        stand_in=StandIn(
            "cylinder",
            across=("channel", "pixel"),
            along=("arc", "tube"),
            size=(1.2, 0.5),
            phi_deg=(-70.0, 70.0),
        ),
    ),
}
"""Views of the unified detector (the first as upstream's unified view);
the stand-in puts channels around the sample, arcs stacked in height."""

FAKE_DATA_SHAPES = FakeDataShapes(
    monitor_toa=ToaShape(peaks=(ToaPeak(30.0, 10.0),), background=0.05),
    detector_toa=ToaShape(
        peaks=(ToaPeak(38.0, 0.7, 1.0), ToaPeak(44.0, 2.0, 0.3)), background=0.2
    ),
    detector_pattern=tuple(
        Ring(math.radians(deg), math.radians(4.0), 1.0) for deg in (-45.0, 10.0, 50.0)
    ),
    detector_background=0.4,
)
"""An elastic line (sharp TOA peak) and an inelastic bump; intensity varies
smoothly with channel angle."""

BIFROST = EssInstrument(
    tables=TABLES,
    banks=BANKS,
    fake_shapes=FAKE_DATA_SHAPES,
    source_position=(0.0, 0.0, -162.0),
)

PLUGIN = EssReductionPlugin(BIFROST, __package__)
