"""Registers ESS NMX with livedata (entry point ``nmx`` in ``livedata.instruments``).

Streams, detector-number ranges, layouts and logs come from ``streams.yaml``
(generated from the facility facts). NMX registers no geometry file: its
detector numbers are computed in code (panel * 1280^2 + 1 ..), so the panels
are placed in code too. This module adds the panel views, that placement and
a fake pattern of sharp diffraction rings.
"""

from __future__ import annotations

import math

from ess.livedata.core.fake_shapes import FakeDataShapes, Ring, ToaPeak, ToaShape
from ess.livedata.ess.geometry import StandIn
from ess.livedata.ess.instrument import BankPlan, EssInstrument, layout_view
from ess.livedata.ess.plugin import EssPlugin
from ess.livedata.ess.tables import load_tables

TABLES = load_tables(__package__)
PANEL_CENTRES = {
    "detector_panel_0": (-0.7, 0.0, 0.3),
    "detector_panel_1": (0.0, 0.0, 0.5),
    "detector_panel_2": (0.7, 0.0, 0.3),
}
"""Rough panel centres (m) around the sample; the real panels move on robots
whose axes are log streams."""


def _panel(name: str) -> BankPlan:
    table = TABLES.bank(name)
    return BankPlan(
        # Upstream is unsure whether x and y are transposed; the view keeps
        # the layout's order (x slowest) and shows y up, x across.
        views=(layout_view(table, "panel_xy", ("y", "x"), f"{table.title}: x y"),),
        stand_in=StandIn(
            "panel",
            across=("x",),
            along=("y",),
            centre=PANEL_CENTRES[name],
            size=(0.6, 0.6),
        ),
    )


BANKS = {name: _panel(name) for name in PANEL_CENTRES}

FAKE_DATA_SHAPES = FakeDataShapes(
    monitor_toa=ToaShape(peaks=(ToaPeak(30.0, 10.0),), background=0.05),
    detector_toa=ToaShape(peaks=(ToaPeak(30.0, 10.0),), background=0.2),
    detector_pattern=tuple(
        Ring(math.radians(deg), math.radians(0.15), 1.0)
        for deg in (35.0, 48.0, 62.0, 71.0, 85.0, 97.0)
    ),
    detector_background=0.5,
)
"""Narrow rings standing in for Bragg reflections of a rotating crystal over
a broad time-of-arrival band (the wavelength band of Laue diffraction)."""

NMX = EssInstrument(
    tables=TABLES,
    banks=BANKS,
    fake_shapes=FAKE_DATA_SHAPES,
    source_position=(0.0, 0.0, -157.0),
    monitor_positions={
        "monitor1": (0.0, 0.0, -10.0),
        "monitor2": (0.0, 0.0, -1.0),
    },
)

PLUGIN = EssPlugin(NMX)
