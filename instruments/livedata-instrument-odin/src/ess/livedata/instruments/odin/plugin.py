"""Registers ESS ODIN with livedata (entry point ``odin`` in ``livedata.instruments``).

Streams, the detector-number range, layout, logs and geometry file come
from ``streams.yaml`` (generated from the facility facts); this module adds
the Timepix3 image view, its stand-in placement and a fake direct beam.
"""

from __future__ import annotations

import math

from ess.livedata.core.fake_shapes import BeamSpot, FakeDataShapes, ToaPeak, ToaShape
from ess.livedata.ess.geometry import StandIn
from ess.livedata.ess.instrument import BankPlan, EssInstrument, binned_view
from ess.livedata.ess.plugin import EssPlugin
from ess.livedata.ess.tables import load_tables

TABLES = load_tables(__package__)
IMAGE_SIZE = 512
"""Upstream shows the panel downsampled to 512 x 512: full resolution is too
much for live processing."""


_TIMEPIX = TABLES.bank("timepix3")
BANKS = {
    "timepix3": BankPlan(
        views=(
            # dim_0 is x, dim_1 y, as upstream renames them.
            binned_view(
                _TIMEPIX,
                "odin_detector_xy",
                ("x", "y"),
                ("y", "x"),
                IMAGE_SIZE,
                "Timepix3, downsampled to 512 x 512",
            ),
        ),
        stand_in=StandIn(
            "panel",
            across=("dim_0",),
            along=("dim_1",),
            centre=(0.0, 0.0, 0.1),
            size=(0.03, 0.03),
        ),
    ),
}
"""The image view and the stand-in placement (a 3 cm panel in the beam,
10 cm behind the sample; rough, not ODIN's)."""

FAKE_DATA_SHAPES = FakeDataShapes(
    monitor_toa=ToaShape(peaks=(ToaPeak(30.0, 10.0),), background=0.05),
    detector_toa=ToaShape(peaks=(ToaPeak(30.0, 10.0),), background=0.1),
    detector_pattern=(BeamSpot(math.radians(5.0)),),
    detector_background=0.3,
)
"""The direct beam on the imaging detector, brightest in the middle."""

ODIN = EssInstrument(
    tables=TABLES,
    banks=BANKS,
    fake_shapes=FAKE_DATA_SHAPES,
    source_position=(0.0, 0.0, -60.5),
    monitor_positions={
        "monitor1": (0.0, 0.0, -10.0),
        "monitor2": (0.0, 0.0, -1.0),
    },
)

PLUGIN = EssPlugin(ODIN)
