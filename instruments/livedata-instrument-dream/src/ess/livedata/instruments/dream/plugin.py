"""Registers ESS DREAM with livedata (entry point ``dream`` in ``livedata.instruments``).

Streams, detector-number ranges, layouts, logs and geometry files come from
``streams.yaml`` (generated from the facility facts); this module adds the
views, the stand-in placement of each bank, the fake powder pattern and
essdiffraction's powder reduction.
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
SECTOR = ("module", "segment")
"""Module and segment, adjacent in the fold order, merged into one image axis."""


def _xy(title: str, resolution: tuple[int, int]) -> GeometricView:
    return GeometricView(
        name="xy",
        projection=ProjectionKind.XY_PLANE,
        title=f"{title}, projected on the xy plane",
        resolution=resolution,
        pixel_noise=0.002,
    )


def _endcap(name: str, z: float) -> BankPlan:
    table = TABLES.bank(name)
    return BankPlan(
        views=(
            layout_view(
                table, "wire_sector", ("wire", SECTOR), f"{table.title}: wire x sector"
            ),
            layout_view(
                table,
                "strip_sector",
                ("strip", SECTOR),
                f"{table.title}: strip x sector",
            ),
            _xy(table.title, (100, 100)),
        ),
        stand_in=StandIn(
            "panel",
            across=SECTOR,
            along=("strip",),
            centre=(0.0, 0.0, z),
            size=(1.6, 1.6),
        ),
    )


def _cassette_bank(name: str, centre: tuple[float, float, float]) -> BankPlan:
    table = TABLES.bank(name)
    return BankPlan(
        views=(
            layout_view(
                table,
                "strip_other",
                ("strip", "other"),
                f"{table.title}: strip x pixel",
            ),
            _xy(table.title, (64, 128)),
        ),
        stand_in=StandIn(
            "panel", across=("other",), along=("strip",), centre=centre, size=(1.2, 0.4)
        ),
    )


_MANTLE = TABLES.bank("mantle_detector")
BANKS = {
    "mantle_detector": BankPlan(
        views=(
            layout_view(
                _MANTLE, "strip_sector", ("strip", SECTOR), "Mantle: strip x sector"
            ),
            layout_view(
                _MANTLE, "wire_sector", ("wire", SECTOR), "Mantle: wire x sector"
            ),
            GeometricView(
                name="cylinder",
                projection=ProjectionKind.CYLINDER_MANTLE_Z,
                title="Mantle, projected on its cylinder",
                resolution=(128, 180),
                pixel_noise=0.002,
            ),
        ),
        stand_in=StandIn(
            "cylinder",
            across=SECTOR,
            along=("strip",),
            size=(1.1, 1.2),
            phi_deg=(40.0, 170.0),
        ),
    ),
    "endcap_forward_detector": _endcap("endcap_forward_detector", 1.3),
    "endcap_backward_detector": _endcap("endcap_backward_detector", -1.3),
    "high_resolution_detector": _cassette_bank(
        "high_resolution_detector", (0.0, 0.6, -2.0)
    ),
    "sans_detector": _cassette_bank("sans_detector", (0.0, 0.0, 2.5)),
}
"""Views and stand-in placement per bank (stand-ins are rough, not DREAM's)."""

FAKE_DATA_SHAPES = FakeDataShapes(
    monitor_toa=ToaShape(peaks=(ToaPeak(22.0, 8.0),), background=0.05),
    detector_toa=ToaShape(
        peaks=tuple(
            ToaPeak(t, 0.8, w)
            for t, w in ((18.0, 0.6), (27.0, 1.0), (39.0, 0.8), (52.0, 0.4))
        ),
        background=0.2,
    ),
    detector_pattern=tuple(
        Ring(math.radians(deg), math.radians(0.6), weight)
        for deg, weight in (
            (20.0, 0.5),
            (35.0, 1.0),
            (60.0, 0.8),
            (90.0, 1.0),
            (120.0, 0.7),
            (150.0, 0.6),
            (165.0, 0.5),
        )
    ),
    detector_background=0.3,
)
"""A powder: Debye-Scherrer rings from forward to backscattering, Bragg-edge
like peaks in time of arrival."""

DREAM = EssInstrument(
    tables=TABLES,
    banks=BANKS,
    fake_shapes=FAKE_DATA_SHAPES,
    source_position=(0.0, 0.0, -76.55),
    monitor_positions={
        "monitor_bunker": (0.0, 0.0, -61.0),
        "monitor_cave": (0.0, 0.0, -2.0),
    },
)

PLUGIN = EssReductionPlugin(DREAM, __package__)
