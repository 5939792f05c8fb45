import logging
from importlib.metadata import EntryPoint

import pytest

from ess.livedata.core import plugins
from ess.livedata.core.hookspecs import hookimpl
from ess.livedata.core.instrument import Instrument, Monitor
from ess.livedata.core.message import StreamKind
from ess.livedata.core.streams import StreamMapping, Topology


class _Plugin:
    """An in-test instrument plugin, registered through a fake entry point."""

    def __init__(self, name: str) -> None:
        self.name = name

    @hookimpl
    def livedata_register_instruments(self, register):
        register(Instrument(name=self.name, monitors=(Monitor("m1", "src_m1"),)))


alpha = _Plugin("alpha")
beta = _Plugin("beta")
PLUGINS = {"alpha": alpha, "beta": beta}


@pytest.fixture
def fake_entry_points(monkeypatch):
    def install(*names: str) -> None:
        eps = [
            EntryPoint(name, f"{__name__}:{name}", plugins.ENTRY_POINT_GROUP)
            if name in PLUGINS
            else EntryPoint(
                name, "no_such_module_xyz:plugin", plugins.ENTRY_POINT_GROUP
            )
            for name in names
        ]
        monkeypatch.setattr(plugins, "_instrument_entry_points", lambda: eps)

    return install


def test_installed_instruments_lists_entry_point_names_without_loading(
    fake_entry_points,
):
    fake_entry_points("beta", "broken", "alpha")
    assert plugins.installed_instruments() == ["alpha", "beta", "broken"]


def test_load_instrument_loads_only_the_requested_plugin(fake_entry_points):
    fake_entry_points("alpha", "beta")
    loaded = plugins.load_instrument("alpha")
    assert loaded.name == "alpha"
    names = {name for name, _ in loaded.manager.list_name_plugin()}
    assert "livedata-instrument-alpha" in names
    assert "livedata-instrument-beta" not in names


def test_unknown_instrument_error_lists_installed(fake_entry_points):
    fake_entry_points("alpha", "beta")
    with pytest.raises(plugins.UnknownInstrumentError) as info:
        plugins.load_instrument("nosuch")
    assert str(info.value) == "unknown instrument 'nosuch'; installed: alpha, beta"


def test_broken_plugin_error_names_the_plugin(fake_entry_points):
    fake_entry_points("broken")
    with pytest.raises(plugins.PluginLoadError, match=r"broken .*failed to load"):
        plugins.load_instrument("broken")


def test_load_all_skips_broken_plugin_and_logs_it(fake_entry_points, caplog):
    fake_entry_points("alpha", "broken", "beta")
    with caplog.at_level(logging.ERROR):
        loaded = plugins.load_all_instruments()
    assert sorted(loaded) == ["alpha", "beta"]
    assert "broken" in caplog.text
    assert "no_such_module_xyz" in caplog.text


def test_default_stream_mapping_applies_without_plugin_override(fake_entry_points):
    fake_entry_points("alpha")
    loaded = plugins.load_instrument("alpha")
    prod = loaded.stream_mapping(Topology.PRODUCTION)
    dev = loaded.stream_mapping(Topology.DEV)
    assert prod.resolve("alpha_beam_monitor", "src_m1").name == "m1"
    assert dev.resolve("alpha_beam_monitor", "m1").name == "m1"
    assert prod.resolve("alpha_beam_monitor", "m1") is None


def test_plugin_stream_mapping_overrides_default(fake_entry_points):
    fake_entry_points("alpha")
    loaded = plugins.load_instrument("alpha")

    class Override:
        @hookimpl
        def livedata_stream_mapping(self, instrument, topology):
            return StreamMapping(instrument=instrument.name, inputs={})

    override = Override()
    loaded.manager.register(override)
    try:
        assert loaded.stream_mapping(Topology.DEV).inputs == {}
    finally:
        loaded.manager.unregister(override)
    monitors = loaded.stream_mapping(Topology.DEV).streams(StreamKind.MONITOR_EVENTS)
    assert [s.name for s in monitors] == ["m1"]


def test_each_load_gets_its_own_plugin_manager(fake_entry_points):
    fake_entry_points("alpha")
    assert plugins.load_instrument("alpha").manager is not (
        plugins.load_instrument("alpha").manager
    )
