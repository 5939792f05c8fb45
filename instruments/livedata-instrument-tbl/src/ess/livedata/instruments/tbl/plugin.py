"""Registers the ESS test beamline with livedata (entry point ``tbl``).

Streams, fake detector-number ranges, layouts, logs and geometry files come
from ``streams.yaml`` (generated from the facility facts); this module adds
the views of the five event-mode detectors, their stand-in placement and a
fake direct beam. The ORCA camera (ad00 images, no detector numbers) is not
a livedata bank.
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
from ess.livedata.core.instrument import GeometricView, ProjectionKind
from ess.livedata.ess.geometry import StandIn
from ess.livedata.ess.instrument import (
    BankPlan,
    EssInstrument,
    binned_view,
    layout_view,
)
from ess.livedata.ess.plugin import EssPlugin
from ess.livedata.ess.tables import load_tables

TABLES = load_tables(__package__)


def _xy(title: str) -> GeometricView:
    return GeometricView(
        name="xy",
        projection=ProjectionKind.XY_PLANE,
        title=f"{title}, projected on the xy plane",
        resolution=(64, 64),
        pixel_noise=0.002,
    )


def _he3(name: str, x: float) -> BankPlan:
    table = TABLES.bank(name)
    return BankPlan(
        views=(
            layout_view(
                table, "he3_detector_view", ("tube", "pixel"), f"{table.title}"
            ),
            _xy(table.title),
        ),
        stand_in=StandIn(
            "panel",
            across=("tube",),
            along=("pixel",),
            centre=(x, 0.0, 1.0),
            size=(0.1, 0.5),
        ),
    )


_TIMEPIX = TABLES.bank("timepix3_detector")
_MULTIBLADE = TABLES.bank("multiblade_detector")
_NGEM = TABLES.bank("ngem_detector")
BANKS = {
    "timepix3_detector": BankPlan(
        # dim_0 is x, dim_1 y, as upstream renames them; 512 x 512 as upstream.
        views=(
            binned_view(
                _TIMEPIX,
                "tbl_detector_timepix3",
                ("x", "y"),
                ("y", "x"),
                512,
                "Timepix3, downsampled to 512 x 512",
            ),
        ),
        stand_in=StandIn(
            "panel",
            across=("dim_0",),
            along=("dim_1",),
            centre=(0.0, 0.0, 0.2),
            size=(0.03, 0.03),
        ),
    ),
    "multiblade_detector": BankPlan(
        # Upstream's view is 3-D (blade, wire, strip); as an image every
        # blade's wires are stacked, nothing summed.
        views=(
            layout_view(
                _MULTIBLADE,
                "multiblade_detector_view",
                (("blade", "wire"), "strip"),
                "Multiblade: blade and wire x strip",
            ),
            _xy(_MULTIBLADE.title),
        ),
        stand_in=StandIn(
            "panel",
            across=("strip",),
            along=("blade", "wire"),
            centre=(0.0, 0.15, 1.5),
            size=(0.2, 0.3),
        ),
    ),
    "he3_detector_bank0": _he3("he3_detector_bank0", -0.5),
    "he3_detector_bank1": _he3("he3_detector_bank1", 0.5),
    "ngem_detector": BankPlan(
        views=(
            layout_view(
                _NGEM, "ngem_detector_view", ("dim_1", "dim_2"), "nGEM, layers summed"
            ),
        ),
        stand_in=StandIn(
            "panel",
            across=("dim_2",),
            along=("dim_1",),
            centre=(0.0, 0.0, 0.8),
            size=(0.1, 0.1),
        ),
    ),
}
"""Views and stand-in placement per detector (rough, not TBL's)."""

FAKE_DATA_SHAPES = FakeDataShapes(
    monitor_toa=ToaShape(peaks=(ToaPeak(30.0, 10.0),), background=0.05),
    detector_toa=ToaShape(peaks=(ToaPeak(30.0, 10.0),), background=0.1),
    detector_pattern=(
        BeamSpot(math.radians(4.0)),
        Ring(math.radians(26.6), math.radians(2.0), 0.5),
    ),
    detector_background=0.3,
    # Upstream's fakes send the same number of events per detector.
    detector_share={table.name: 1.0 for table in TABLES.banks},
)
"""The direct beam on the cameras and the multiblade, a ring through the
He3 banks, upstream's time-of-arrival normal(30 ms, 10 ms)."""

TBL = EssInstrument(
    tables=TABLES,
    banks=BANKS,
    fake_shapes=FAKE_DATA_SHAPES,
    source_position=(0.0, 0.0, -30.0),
    monitor_positions={"monitor_1": (0.0, 0.0, -2.0)},
)

PLUGIN = EssPlugin(TBL)
