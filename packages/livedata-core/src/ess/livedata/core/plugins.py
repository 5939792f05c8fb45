"""Discovering and loading instrument plugins through entry points.

Each call builds its own :class:`pluggy.PluginManager`; there is no cached
global manager, so tests and processes that load different instruments never
see each other's plugins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import EntryPoint, entry_points

import pluggy

from ess.livedata.protocol import ServiceName

from . import hookspecs
from .dashboard_templates import GridTemplate, default_grids
from .fake_shapes import DEFAULT_FAKE_DATA_SHAPES, FakeDataShapes
from .hookspecs import hookimpl
from .instrument import Instrument
from .streams import StreamMapping, Topology, default_stream_mapping
from .view_specs import view_workflow_specs
from .workflow import WorkflowFactory, WorkflowSpec

ENTRY_POINT_GROUP = "livedata.instruments"

logger = logging.getLogger(__name__)


class UnknownInstrumentError(LookupError):
    """Raised when no installed plugin provides the requested instrument."""

    def __init__(self, name: str, installed: Iterable[str]) -> None:
        self.name = name
        self.installed = sorted(installed)
        listing = ", ".join(self.installed) or "none"
        super().__init__(f"unknown instrument {name!r}; installed: {listing}")


class PluginLoadError(RuntimeError):
    """Raised when the requested instrument's plugin fails to load."""


class _Defaults:
    """Answers used when no instrument plugin provides its own."""

    @hookimpl(trylast=True)
    def livedata_stream_mapping(
        self, instrument: Instrument, topology: Topology
    ) -> StreamMapping:
        return default_stream_mapping(instrument, topology)

    @hookimpl
    def livedata_register_workflow_specs(
        self, instrument: Instrument, register: Callable[[WorkflowSpec], None]
    ) -> None:
        for spec in view_workflow_specs(instrument):
            register(spec)

    @hookimpl(trylast=True)
    def livedata_fake_data_shapes(self, instrument: Instrument) -> FakeDataShapes:
        return DEFAULT_FAKE_DATA_SHAPES

    @hookimpl(trylast=True)
    def livedata_dashboard_grids(
        self, instrument: Instrument, specs: Mapping[str, WorkflowSpec]
    ) -> list[GridTemplate]:
        return default_grids(instrument, specs)


def _instrument_entry_points() -> list[EntryPoint]:
    return list(entry_points(group=ENTRY_POINT_GROUP))


def installed_instruments() -> list[str]:
    """Names of installed instrument plugins, found without importing them."""
    return sorted({ep.name for ep in _instrument_entry_points()})


def _describe(ep: EntryPoint) -> str:
    dist = ep.dist
    origin = f"{dist.name} {dist.version}" if dist is not None else "unknown dist"
    return f"{ep.name} ({ep.value}, from {origin})"


def create_plugin_manager() -> pluggy.PluginManager:
    """A fresh manager with livedata's hookspecs and the default answers."""
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    manager.register(_Defaults(), name="livedata-defaults")
    return manager


@dataclass(frozen=True)
class LoadedInstrument:
    """An instrument together with the plugins that describe it."""

    instrument: Instrument
    manager: pluggy.PluginManager

    @property
    def name(self) -> str:
        return self.instrument.name

    def stream_mapping(self, topology: Topology) -> StreamMapping:
        return self.manager.hook.livedata_stream_mapping(
            instrument=self.instrument, topology=topology
        )

    def fake_data_shapes(self) -> FakeDataShapes:
        return self.manager.hook.livedata_fake_data_shapes(instrument=self.instrument)

    @cached_property
    def workflow_specs(self) -> dict[str, WorkflowSpec]:
        """Specs keyed by ``name/vN``; cheap, safe for dashboards."""
        specs: dict[str, WorkflowSpec] = {}

        def register(spec: WorkflowSpec) -> None:
            if spec.key in specs:
                raise ValueError(f"workflow {spec.key} registered twice")
            specs[spec.key] = spec

        self.manager.hook.livedata_register_workflow_specs(
            instrument=self.instrument, register=register
        )
        return specs

    @property
    def reduction_specs(self) -> dict[str, WorkflowSpec]:
        """The specs the data_reduction service runs (the others are views
        built into their services), keyed like :attr:`workflow_specs`."""
        return {
            key: spec
            for key, spec in self.workflow_specs.items()
            if spec.service is ServiceName.DATA_REDUCTION
        }

    def dashboard_grids(self) -> list[GridTemplate]:
        """The plugin's first dashboard grids, as plain data."""
        return self.manager.hook.livedata_dashboard_grids(
            instrument=self.instrument, specs=self.workflow_specs
        )

    def workflow_factories(self) -> dict[str, WorkflowFactory]:
        """Factories keyed like :attr:`reduction_specs`; imports reduction code."""
        factories: dict[str, WorkflowFactory] = {}
        specs = self.reduction_specs

        def register(name: str, version: int, factory: WorkflowFactory) -> None:
            key = f"{name}/v{version}"
            if key not in specs:
                raise ValueError(f"factory for {key} has no data_reduction spec")
            if key in factories:
                raise ValueError(f"factory for {key} registered twice")
            factories[key] = factory

        self.manager.hook.livedata_register_workflow_factories(
            instrument=self.instrument, register=register
        )
        return factories


def _register_plugin(manager: pluggy.PluginManager, ep: EntryPoint) -> None:
    try:
        plugin = ep.load()
        manager.register(plugin, name=f"livedata-instrument-{ep.name}")
    except Exception as error:
        raise PluginLoadError(
            f"instrument plugin {_describe(ep)} failed to load: "
            f"{type(error).__name__}: {error}"
        ) from error


def _collect_instruments(manager: pluggy.PluginManager) -> dict[str, Instrument]:
    found: dict[str, Instrument] = {}

    def register(instrument: Instrument) -> None:
        if instrument.name in found:
            raise ValueError(f"instrument {instrument.name!r} registered twice")
        found[instrument.name] = instrument

    manager.hook.livedata_register_instruments(register=register)
    return found


def load_instrument(name: str) -> LoadedInstrument:
    """Load only the plugin registered under ``name`` and return its instrument.

    Raises
    ------
    UnknownInstrumentError
        No entry point of that name is installed.
    PluginLoadError
        The plugin is installed but broken, or does not define ``name``.
    """
    candidates = [ep for ep in _instrument_entry_points() if ep.name == name]
    if not candidates:
        raise UnknownInstrumentError(name, installed_instruments())
    if len(candidates) > 1:
        origins = "; ".join(_describe(ep) for ep in candidates)
        raise PluginLoadError(f"instrument {name!r} is provided twice: {origins}")
    manager = create_plugin_manager()
    _register_plugin(manager, candidates[0])
    try:
        instruments = _collect_instruments(manager)
    except Exception as error:
        raise PluginLoadError(
            f"instrument plugin {_describe(candidates[0])} failed to register: "
            f"{type(error).__name__}: {error}"
        ) from error
    if name not in instruments:
        raise PluginLoadError(
            f"instrument plugin {_describe(candidates[0])} did not register "
            f"an instrument named {name!r}"
        )
    return LoadedInstrument(instrument=instruments[name], manager=manager)


def load_all_instruments() -> dict[str, LoadedInstrument]:
    """Load every installed instrument; broken plugins are logged and skipped."""
    loaded: dict[str, LoadedInstrument] = {}
    for name in installed_instruments():
        try:
            loaded[name] = load_instrument(name)
        except PluginLoadError as error:
            logger.error("%s", error)
    return loaded
