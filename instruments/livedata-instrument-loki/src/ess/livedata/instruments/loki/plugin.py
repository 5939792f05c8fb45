"""Registers ESS LOKI with livedata (entry point ``loki`` in ``livedata.instruments``).

Streams, detector-number ranges, layouts (four layers of tubes of seven
straws of 512 pixels), logs and geometry files come from ``streams.yaml``
(generated from the facility facts); this module adds the views, the
stand-in placement of each bank, the fake SANS pattern and the I(Q)
workflow.
"""

from __future__ import annotations

from ess.livedata.core.instrument import GeometricView, ProjectionKind
from ess.livedata.ess.geometry import Placement, StandIn
from ess.livedata.ess.instrument import BankPlan, EssInstrument, layout_view
from ess.livedata.ess.plugin import EssReductionPlugin
from ess.livedata.ess.tables import load_tables

from .fake_data import (
    FAKE_DATA_SHAPES,
    INCIDENT_MONITOR_Z,
    SOURCE_Z,
    TRANSMISSION_MONITOR_Z,
)
from .geometry import MID, REAR

TABLES = load_tables(__package__)
STRAWS = ("tube", "straw")
"""Tube and straw, adjacent in the layout, merged into one image axis."""


def _plan(
    name: str, straws_along_x: bool, screen: tuple[int, int], placement: Placement
) -> BankPlan:
    table = TABLES.bank(name)
    image = (STRAWS, "pixel") if straws_along_x else ("pixel", STRAWS)
    return BankPlan(
        views=(
            layout_view(table, "straws", image, f"{table.title}: straw x pixel"),
            GeometricView(
                name="xy",
                projection=ProjectionKind.XY_PLANE,
                title=f"{table.title}, projected on the xy plane",
                resolution=screen,
                pixel_noise=0.003,
            ),
        ),
        stand_in=placement,
    )


def _front(centre: tuple[float, float, float], along_x: bool) -> StandIn:
    """The front banks' stand-in: a flat 4-layer panel (their layout is not
    modelled here)."""
    size = (1.0, 0.5) if along_x else (0.5, 1.0)
    across, along = (("pixel",), STRAWS) if along_x else (STRAWS, ("pixel",))
    return StandIn("panel", across=across, along=along, centre=centre, size=size)


BANKS = {
    REAR.name: _plan(REAR.name, True, (144, 96), REAR),
    **{
        bank.name: _plan(bank.name, bank.straw[0] != 0.0, screen, bank)
        for bank, screen in zip(
            MID, ((40, 96), (48, 32), (40, 96), (48, 32)), strict=True
        )
    },
    "loki_detector_5": _plan(
        "loki_detector_5", True, (40, 96), _front((0.0, 0.6, 1.4), True)
    ),
    "loki_detector_6": _plan(
        "loki_detector_6", False, (96, 40), _front((-0.6, 0.0, 1.4), False)
    ),
    "loki_detector_7": _plan(
        "loki_detector_7", True, (40, 96), _front((0.0, -0.6, 1.4), True)
    ),
    "loki_detector_8": _plan(
        "loki_detector_8", False, (96, 40), _front((0.6, 0.0, 1.4), False)
    ),
}
"""Views and stand-in placement: rear and middle banks as published, front
banks as rough panels. Screens are about 1 cm bins."""

LOKI = EssInstrument(
    tables=TABLES,
    banks=BANKS,
    fake_shapes=FAKE_DATA_SHAPES,
    source_position=(0.0, 0.0, SOURCE_Z),
    monitor_positions={
        "beam_monitor_m0": (0.0, 0.0, -16.8),
        "beam_monitor_m1": (0.0, 0.0, INCIDENT_MONITOR_Z),
        "beam_monitor_m2": (0.0, 0.0, -2.04),
        "beam_monitor_m3": (0.0, 0.0, TRANSMISSION_MONITOR_Z),
    },
)
"""Monitor z from the facts; m4 rides on the detector carriage (not modelled)."""

PLUGIN = EssReductionPlugin(LOKI, __package__)
