"""Registers ESS BEER with livedata (entry point ``beer`` in ``livedata.instruments``).

Streams, the banks' detector numbers (given in code upstream: 1..12e6 and
12e6+1..24e6), their layout (panel x y x x), logs and the absence of a
geometry file come from ``streams.yaml`` (generated from the facility
facts). This module adds the views, the placement of the banks
(:mod:`.geometry`) and a fake diffraction pattern.
"""

from __future__ import annotations

import math

from ess.livedata.core.fake_shapes import FakeDataShapes, Ring, ToaPeak, ToaShape
from ess.livedata.core.instrument import LogicalView
from ess.livedata.ess.geometry import FLAT_DIM
from ess.livedata.ess.instrument import BankPlan, EssInstrument
from ess.livedata.ess.plugin import EssPlugin
from ess.livedata.ess.tables import BankTable, load_tables

from .geometry import SideBank

TABLES = load_tables(__package__)


def binned_view(
    table: BankTable, name: str, title: str, binning: int, keep_panels: bool
) -> LogicalView:
    """Each panel's y and x in bins of ``binning`` pixels; panels summed
    unless ``keep_panels`` (then ``panel`` is the image's leading dim)."""
    sizes = {"panel": table.layout["panel"]}
    for dim in ("y", "x"):
        sizes |= {dim: table.layout[dim] // binning, f"{dim}_bin": binning}
    image = ("panel", "y", "x") if keep_panels else ("y", "x")
    return LogicalView(
        name=name,
        title=title,
        fold={FLAT_DIM: sizes},
        transpose=image,
        sum=tuple(d for d in sizes if d not in image),
    )


def _plan(name: str, side: int) -> BankPlan:
    table = TABLES.bank(name)
    return BankPlan(
        views=(
            binned_view(table, "bank", f"{table.title}: panels summed, 4 mm", 4, False),
            binned_view(table, "panels", f"{table.title}: each panel, 8 mm", 8, True),
        ),
        stand_in=SideBank(side),
    )


BANKS = {
    "beer_detector_s2": _plan("beer_detector_s2", -1),
    "beer_detector_n2": _plan("beer_detector_n2", +1),
}
"""Upstream's two logical views (bank_view 250 x 250, panel_view 12 x 125 x
125); no projection: 12 M pixels per bank would make a projection matrix of
about 100 M entries, and the logical views already show the flat panels."""

FAKE_DATA_SHAPES = FakeDataShapes(
    monitor_toa=ToaShape(peaks=(ToaPeak(20.0, 6.0),), background=0.05),
    detector_toa=ToaShape(
        peaks=tuple(
            ToaPeak(t, 0.5, w) for t, w in ((24.0, 0.5), (31.0, 1.0), (43.0, 0.7))
        ),
        background=0.2,
    ),
    detector_pattern=tuple(
        Ring(math.radians(deg), math.radians(0.5), weight)
        for deg, weight in ((82.0, 0.6), (90.0, 1.0), (97.0, 0.8))
    ),
    detector_background=0.3,
)
"""A strained steel sample: rings crossing both 90-degree banks."""

BEER = EssInstrument(
    tables=TABLES,
    banks=BANKS,
    fake_shapes=FAKE_DATA_SHAPES,
    source_position=(0.0, 0.0, -158.0),
    monitor_positions={
        "cbm1": (0.0, 0.0, -80.0),
        "cbm2": (0.0, 0.0, -5.0),
        "hereon": (0.0, 0.0, -1.0),
    },
)
"""Source and monitor z are rough (the facts give none)."""

PLUGIN = EssPlugin(BEER)
