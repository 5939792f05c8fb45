"""Registers the dummy instrument with livedata (``livedata.instruments``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from ess.livedata.core.hookspecs import hookimpl
from ess.livedata.core.instrument import (
    AreaDetector,
    DetectorBank,
    GeometricView,
    Instrument,
    LogicalView,
    LogStream,
    Monitor,
    ProjectionKind,
)
from ess.livedata.core.workflow import WorkflowSpec

from .geometry import cylindrical_tubes, flat_panel
from .grids import dummy_grids


def make_instrument() -> Instrument:
    """The dummy instrument: the facility's dummy plus a tube bank and logs.

    As the facility's dummy (``facts/instruments/dummy.yaml``): bank
    ``panel_0`` (128 x 128, detector numbers 1..16384), monitors ``monitor1``
    and ``monitor2``, logs ``motion1`` (mm) and ``motion2`` (deg) on the
    motion topic; its views ``xy`` and ``layers`` (rows folded into 4
    layers, a 3-D view) are the facility's ``panel_0_xy`` and
    ``panel_0_layers``; the area detector ``area_panel`` (256 x 256 ad00
    images on ``dummy_area_detector``) gives ``area_panel_xy``. Ours adds
    the projected view, the tube bank and the other logs.

    Its source names are its logical names in production too (the
    facility's production table maps ``cbm1..`` to the monitors): the
    production mapping then equals the dev mapping, and the fake producers
    feed services run with or without ``--dev`` (as the Example of
    ``services.md`` runs them).
    """
    panel = DetectorBank(
        name="panel_0",
        source_name="panel_0",
        make_geometry=partial(
            flat_panel, first_id=1, nx=128, ny=128, pixel_size=0.005, distance=4.0
        ),
        views=(
            LogicalView(name="xy", title="Panel pixels (y, x)"),
            GeometricView(
                name="plane",
                projection=ProjectionKind.XY_PLANE,
                title="Panel, projected on the xy plane",
                resolution=(64, 64),
                pixel_noise=0.002,
            ),
            LogicalView(
                name="layers",
                title="Panel rows in 4 layers (layer, y, x)",
                fold={"y": {"layer": 4, "y": 32}},
                roi=False,
            ),
        ),
    )
    tubes = DetectorBank(
        name="tubes_1",
        source_name="tubes_1",
        make_geometry=partial(
            cylindrical_tubes,
            first_id=100_001,
            n_tubes=48,
            pixels_per_tube=64,
            radius=2.5,
            angle_range_deg=(5.0, 60.0),
            tube_length=1.0,
        ),
        views=(
            LogicalView(name="tubes", title="Tube x pixel"),
            GeometricView(
                name="mantle",
                projection=ProjectionKind.CYLINDER_MANTLE_Z,
                title="Tubes on the cylinder mantle",
                resolution=(64, 48),  # one bin per tube: finer phi bins alias
                pixel_noise=0.003,
            ),
        ),
    )
    return Instrument(
        name="dummy",
        title="Dummy instrument",
        detectors=(panel, tubes),
        area_detectors=(
            AreaDetector(
                "area_panel", "area_panel", shape=(256, 256), title="Area Panel"
            ),
        ),
        monitors=(
            Monitor("monitor1", "monitor1", position=(0.0, 0.0, -5.0)),
            Monitor("monitor2", "monitor2", position=(0.0, 0.0, 5.0)),
        ),
        logs=(
            LogStream("motion1", "motion1", unit="mm", title="Motion 1"),
            LogStream("motion2", "motion2", unit="deg", title="Motion 2"),
            LogStream("motor_x", "motor_x", unit="mm", title="Sample stage x"),
            LogStream(
                "temperature",
                "temperature",
                unit="K",
                title="Sample temperature",
            ),
            LogStream(
                "shutter", "shutter", unit=None, title="Shutter open (1) / closed"
            ),
            LogStream(
                "panel_0_z",
                "panel_0_z",
                unit="m",
                title="Panel displacement along the beam",
            ),
        ),
    )


@hookimpl
def livedata_register_instruments(register: Callable[[Instrument], None]) -> None:
    register(make_instrument())


@hookimpl
def livedata_register_workflow_specs(
    instrument: Instrument, register: Callable[..., None]
) -> None:
    from .workflows import WORKFLOW_SPECS  # pydantic only: cheap for dashboards

    for spec in WORKFLOW_SPECS:
        register(spec)


@hookimpl
def livedata_register_workflow_factories(
    instrument: Instrument, register: Callable[..., None]
) -> None:
    from .reduction import FACTORIES  # sciline, essreduce: reduction service only
    from .workflows import WORKFLOW_SPECS

    for spec in WORKFLOW_SPECS:
        register(spec.name, spec.version, FACTORIES[spec.key])


@hookimpl
def livedata_dashboard_grids(
    instrument: Instrument, specs: Mapping[str, WorkflowSpec]
) -> list[dict[str, Any]]:
    return dummy_grids(instrument, specs)
