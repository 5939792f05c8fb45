"""The shared plugin object: pluggy finds its hooks, they answer from the
``EssInstrument``, and reduction hooks exist only where declared, importing
the reduction module only when factories are asked for."""

from __future__ import annotations

import sys

import pytest
from ess_test import raw_tables, two_banks

from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.plugins import LoadedInstrument, create_plugin_manager
from ess.livedata.core.streams import Topology
from ess.livedata.ess.checks import log_route_problems
from ess.livedata.ess.plugin import EssPlugin, EssReductionPlugin

COMMON_HOOKS = {
    "livedata_register_instruments",
    "livedata_stream_mapping",
    "livedata_fake_data_shapes",
    "livedata_stand_in_geometry",
}
REDUCTION_HOOKS = {
    "livedata_register_workflow_specs",
    "livedata_register_workflow_factories",
}
GEOMETRY = {
    "registry_url": "https://files.invalid/x/",
    "files": [{"name": "x.nxs", "valid_from": "2025-01-01", "md5": "0" * 32}],
}

WORKFLOWS = """
from types import SimpleNamespace
WORKFLOW_SPECS = (
    SimpleNamespace(name="a", version=1, key="a/v1"),
    SimpleNamespace(name="b", version=2, key="b/v2"),
)
"""
REDUCTION = """
def factories(instrument):
    return {"a/v1": ("A", instrument), "b/v2": ("B", instrument), "c/v1": "unused"}
"""


def load(plugin: EssPlugin) -> LoadedInstrument:
    """``plugin`` registered as core registers an entry point's object."""
    manager = create_plugin_manager()
    manager.register(plugin, name="livedata-instrument-x")
    found = []
    manager.hook.livedata_register_instruments(register=found.append)
    [instrument] = found
    return LoadedInstrument(instrument=instrument, manager=manager)


def hooks_of(loaded: LoadedInstrument) -> set[str]:
    plugin = loaded.manager.get_plugin("livedata-instrument-x")
    return {caller.name for caller in loaded.manager.get_hookcallers(plugin) or ()}


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A throwaway instrument package with ``workflows`` and ``reduction``."""
    root = tmp_path / "fake_instrument"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "workflows.py").write_text(WORKFLOWS)
    (root / "reduction.py").write_text(REDUCTION)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "fake_instrument"
    for name in [m for m in sys.modules if m.startswith("fake_instrument")]:
        del sys.modules[name]


def test_a_plugin_without_reductions_has_no_workflow_hooks():
    loaded = load(EssPlugin(two_banks(numbers_from_file=False)))
    assert hooks_of(loaded) == COMMON_HOOKS
    assert loaded.reduction_specs == {}
    assert loaded.workflow_factories() == {}


def test_the_hooks_answer_from_the_ess_instrument():
    ess = two_banks(numbers_from_file=False)
    loaded = load(EssPlugin(ess))
    assert loaded.name == "x"
    assert [bank.name for bank in loaded.instrument.detectors] == ["front", "back"]
    mapping = loaded.stream_mapping(Topology.PRODUCTION)
    assert mapping == ess.stream_mapping(Topology.PRODUCTION)
    assert mapping.resolve("x_detector_back", "x") == StreamId(
        StreamKind.DETECTOR_EVENTS, "back"
    )
    # The tables' shares, not core's defaults.
    assert loaded.fake_data_shapes().detector_share == {"front": 24.0, "back": 24.0}


def test_without_geometry_files_no_stand_in_is_written(tmp_path):
    loaded = load(EssPlugin(two_banks(numbers_from_file=False)))
    path = tmp_path / "x.nxs"
    answer = loaded.manager.hook.livedata_stand_in_geometry(
        instrument=loaded.instrument, path=path
    )
    assert answer is None
    assert not path.exists()


def test_with_geometry_files_the_stand_in_is_written(tmp_path):
    loaded = load(EssPlugin(two_banks(numbers_from_file=True, geometry=GEOMETRY)))
    path = tmp_path / "x.nxs"
    answer = loaded.manager.hook.livedata_stand_in_geometry(
        instrument=loaded.instrument, path=path
    )
    assert answer == path
    assert path.stat().st_size > 0


def test_a_reduction_plugin_has_both_workflow_hooks(package):
    loaded = load(EssReductionPlugin(two_banks(numbers_from_file=False), package))
    assert hooks_of(loaded) == COMMON_HOOKS | REDUCTION_HOOKS


def test_specs_are_registered_without_importing_the_reduction(package):
    loaded = load(EssReductionPlugin(two_banks(numbers_from_file=False), package))
    specs = []
    loaded.manager.hook.livedata_register_workflow_specs(
        instrument=loaded.instrument, register=specs.append
    )
    assert {"a/v1", "b/v2"} <= {spec.key for spec in specs}
    assert f"{package}.reduction" not in sys.modules


def test_each_spec_gets_its_factory_bound_to_the_instrument(package):
    loaded = load(EssReductionPlugin(two_banks(numbers_from_file=False), package))
    registered = []
    loaded.manager.hook.livedata_register_workflow_factories(
        instrument=loaded.instrument, register=lambda *a: registered.append(a)
    )
    instrument = loaded.instrument
    assert registered == [("a", 1, ("A", instrument)), ("b", 2, ("B", instrument))]


def test_route_checks_accept_a_unitless_log_and_name_a_bad_unit():
    switch = {"name": "shutter", "topic": "x_motion", "source": "X:SH", "unit": None}
    bad = {"name": "temp", "topic": "x_motion", "source": "X:T", "unit": "kelvinn"}
    logs = [*raw_tables()["logs"], switch, bad]
    ess = two_banks(numbers_from_file=False, logs=logs)
    problems = log_route_problems(load(EssPlugin(ess)), ess.tables)
    assert len(problems) == 1
    assert problems[0].startswith("temp: unit 'kelvinn' is no unit")
