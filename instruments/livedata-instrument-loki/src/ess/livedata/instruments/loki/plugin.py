"""Registers ESS LOKI with livedata (entry point ``loki`` in ``livedata.instruments``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from ess.livedata.core.fake_shapes import FakeDataShapes
from ess.livedata.core.hookspecs import hookimpl
from ess.livedata.core.instrument import (
    DetectorBank,
    GeometricView,
    Instrument,
    LogicalView,
    LogStream,
    Monitor,
    ProjectionKind,
)
from ess.livedata.core.workflow import WorkflowFactory, WorkflowSpec

from .fake_data import (
    FAKE_DATA_SHAPES,
    INCIDENT_MONITOR_Z,
    SOURCE_Z,
    TRANSMISSION_MONITOR_Z,
)
from .geometry import MID, REAR, StrawBank, straw_bank_geometry

_SCREENS = {
    REAR.name: (144, 96),
    "loki_detector_1": (40, 96),
    "loki_detector_2": (48, 32),
    "loki_detector_3": (40, 96),
    "loki_detector_4": (48, 32),
}
"""(ny, nx) of each bank's xy view: about 1 cm screen bins."""


def _bank(bank: StrawBank, title: str) -> DetectorBank:
    return DetectorBank(
        name=bank.name,
        source_name=bank.name,
        make_geometry=partial(straw_bank_geometry, bank),
        views=(
            LogicalView(name="straws", title=f"{title}: straw x pixel"),
            GeometricView(
                name="xy",
                projection=ProjectionKind.XY_PLANE,
                title=f"{title}, projected on the xy plane",
                resolution=_SCREENS[bank.name],
                pixel_noise=0.003,
            ),
        ),
    )


def make_instrument() -> Instrument:
    """LOKI: the rear bank, the four middle banks, two monitors, the carriage."""
    titles = ("Middle bank 1", "Middle bank 2", "Middle bank 3", "Middle bank 4")
    return Instrument(
        name="loki",
        title="LOKI (small-angle neutron scattering)",
        detectors=(
            _bank(REAR, "Rear bank"),
            *(_bank(bank, title) for bank, title in zip(MID, titles, strict=True)),
        ),
        monitors=(
            Monitor(
                "incident_monitor", "beam_monitor_m1", (0.0, 0.0, INCIDENT_MONITOR_Z)
            ),
            Monitor(
                "transmission_monitor",
                "beam_monitor_m3",
                (0.0, 0.0, TRANSMISSION_MONITOR_Z),
            ),
        ),
        logs=(
            LogStream(
                "detector_carriage",
                "loki:det:carriage",
                unit="m",
                title="Rear detector carriage position",
            ),
        ),
        source_position=(0.0, 0.0, SOURCE_Z),
    )


@hookimpl
def livedata_register_instruments(register: Callable[[Instrument], None]) -> None:
    register(make_instrument())


@hookimpl
def livedata_fake_data_shapes(instrument: Instrument) -> FakeDataShapes:
    return FAKE_DATA_SHAPES


@hookimpl
def livedata_register_workflow_specs(
    instrument: Instrument, register: Callable[[WorkflowSpec], None]
) -> None:
    from .workflows import WORKFLOW_SPECS  # pydantic only: cheap for dashboards

    for spec in WORKFLOW_SPECS:
        register(spec)


@hookimpl
def livedata_register_workflow_factories(
    instrument: Instrument, register: Callable[[str, int, WorkflowFactory], None]
) -> None:
    from .reduction import factories  # sciline, scippneutron: reduction service only
    from .workflows import WORKFLOW_SPECS

    built = factories(instrument)
    for spec in WORKFLOW_SPECS:
        register(spec.name, spec.version, built[spec.key])
