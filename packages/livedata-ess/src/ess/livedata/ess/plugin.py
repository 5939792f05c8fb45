"""The hooks of an ESS instrument plugin, the same for every one.

A plugin module builds its :class:`~.instrument.EssInstrument` and ends with
``PLUGIN = EssPlugin(DREAM)``, or ``EssReductionPlugin(DREAM, __package__)``
when its package has reductions; its entry point names that object
(``dream = "ess.livedata.instruments.dream.plugin:PLUGIN"``) and pluggy finds
the hooks on it.

A package with reductions holds ``workflows`` (its ``WORKFLOW_SPECS``:
pydantic only) and ``reduction`` (``factories(instrument)``, factories by
spec key, importing the ESS reduction package). The spec hook imports only
``workflows``, so dashboards list the workflows without the reduction stack;
the factory hook, called by the reduction service alone, imports
``reduction``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path

from ess.livedata.core.fake_shapes import FakeDataShapes
from ess.livedata.core.hookspecs import hookimpl
from ess.livedata.core.instrument import Instrument
from ess.livedata.core.streams import StreamMapping, Topology
from ess.livedata.core.workflow import WorkflowFactory, WorkflowSpec

from .instrument import EssInstrument


class EssPlugin:
    """The instrument, its stream mapping, fake data shapes and stand-in
    geometry, all from ``ess``."""

    def __init__(self, ess: EssInstrument) -> None:
        self.ess = ess

    @hookimpl
    def livedata_register_instruments(
        self, register: Callable[[Instrument], None]
    ) -> None:
        register(self.ess.instrument())

    @hookimpl
    def livedata_stream_mapping(
        self, instrument: Instrument, topology: Topology
    ) -> StreamMapping:
        return self.ess.stream_mapping(topology)

    @hookimpl
    def livedata_fake_data_shapes(self, instrument: Instrument) -> FakeDataShapes:
        return self.ess.fake_data_shapes()

    @hookimpl
    def livedata_stand_in_geometry(
        self, instrument: Instrument, path: Path
    ) -> Path | None:
        """``None`` without geometry files: the banks are placed in code,
        no file stands in for them."""
        if instrument.geometry_files is None:
            return None
        # demos and tests alone write stand-ins
        from .stand_in import write_stand_in_geometry

        return write_stand_in_geometry(instrument, path)


class EssReductionPlugin(EssPlugin):
    """An :class:`EssPlugin` whose ``package`` holds ``workflows`` and
    ``reduction``."""

    def __init__(self, ess: EssInstrument, package: str) -> None:
        super().__init__(ess)
        self.package = package

    @hookimpl
    def livedata_register_workflow_specs(
        self, instrument: Instrument, register: Callable[[WorkflowSpec], None]
    ) -> None:
        for spec in self._specs():
            register(spec)

    @hookimpl
    def livedata_register_workflow_factories(
        self,
        instrument: Instrument,
        register: Callable[[str, int, WorkflowFactory], None],
    ) -> None:
        built = import_module(f"{self.package}.reduction").factories(instrument)
        for spec in self._specs():
            register(spec.name, spec.version, built[spec.key])

    def _specs(self) -> Sequence[WorkflowSpec]:
        return import_module(f"{self.package}.workflows").WORKFLOW_SPECS
