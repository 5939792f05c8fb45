"""Registers ESS MAGIC with livedata (entry point ``magic`` in ``livedata.instruments``).

Streams, detector-number ranges, layouts (wire x strip x segment: wires
into the depth, strips along the vertical cylinder axis, segments around
it), logs and the geometry file come from ``streams.yaml`` (generated from
the facility facts); this module adds the views, the stand-in placement of
both banks and a fake diffraction pattern.
"""

from __future__ import annotations

import math

from ess.livedata.core.fake_shapes import FakeDataShapes, Ring, ToaPeak, ToaShape
from ess.livedata.core.instrument import (
    GeometricView,
    LogicalView,
    ProjectionKind,
)
from ess.livedata.ess.geometry import FLAT_DIM, StandIn
from ess.livedata.ess.instrument import BankPlan, EssInstrument, layout_view
from ess.livedata.ess.plugin import EssPlugin
from ess.livedata.ess.tables import load_tables

TABLES = load_tables(__package__)


def _plan(name: str, phi_deg: tuple[float, float], height: float) -> BankPlan:
    table = TABLES.bank(name)
    strips, segments = table.layout["strip"], table.layout["segment"]
    return BankPlan(
        views=(
            layout_view(
                table,
                "strip_segment",
                ("strip", "segment"),
                f"{table.title}: strip x segment",
            ),
            layout_view(
                table,
                "wire_segment",
                ("wire", "segment"),
                f"{table.title}: wire x segment",
            ),
            LogicalView(
                name="strip",
                title=f"{table.title}: counts per strip",
                fold={FLAT_DIM: dict(table.layout)},
                transpose=("strip",),
                sum=("wire", "segment"),
            ),
            GeometricView(
                name="cylinder",
                projection=ProjectionKind.CYLINDER_MANTLE_Z,
                title=f"{table.title}, projected on its cylinder",
                resolution=(strips, segments),
                pixel_noise=0.002,
            ),
        ),
        stand_in=StandIn(
            "cylinder",
            across=("segment",),
            along=("strip",),
            size=(0.8, height),
            phi_deg=phi_deg,
            depth=0.5 / table.layout["wire"],
        ),
    )


BANKS = {
    "magic_detector_a": _plan("magic_detector_a", (20.0, 82.0), 1.47),
    "magic_detector_b": _plan("magic_detector_b", (-150.0, -30.0), 0.15),
}
"""Per bank: as upstream, wire x segment (strips summed) and counts per
strip; the unrolled cylinder strip x segment; a cylinder projection with one
screen bin per strip and segment (the banks are deep, finer bins alias).
Stand-ins: the facts' heights and arcs, wires 0.5 m deep; radius and
angles are rough."""

FAKE_DATA_SHAPES = FakeDataShapes(
    monitor_toa=ToaShape(peaks=(ToaPeak(40.0, 12.0),), background=0.05),
    detector_toa=ToaShape(
        peaks=tuple(ToaPeak(t, 0.6, w) for t, w in ((30.0, 1.0), (44.0, 0.6))),
        background=0.3,
    ),
    detector_pattern=tuple(
        Ring(math.radians(deg), math.radians(0.4), weight)
        for deg, weight in ((35.0, 1.0), (58.0, 0.6), (75.0, 0.8), (110.0, 0.5))
    ),
    detector_background=0.4,
)
"""Narrow reflections on a high (magnetic diffuse) background."""

MAGIC = EssInstrument(
    tables=TABLES,
    banks=BANKS,
    fake_shapes=FAKE_DATA_SHAPES,
    source_position=(0.0, 0.0, -160.0),
    monitor_positions={"beam_monitor_1": (0.0, 0.0, -10.0)},
)
"""Source and monitor z are rough (the facts give none)."""

PLUGIN = EssPlugin(MAGIC)
