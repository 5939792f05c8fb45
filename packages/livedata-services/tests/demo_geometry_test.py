"""The demo falls back to a plugin's stand-in geometry when no file is reachable."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from ess.livedata.core.geometry_files import (
    CACHE_DIR_VARIABLE,
    DATA_DIR_VARIABLE,
    OVERRIDE_VARIABLE,
    GeometryFileError,
)
from ess.livedata.core.hookspecs import hookimpl
from ess.livedata.core.instrument import GeometryFile, GeometryFiles, Instrument
from ess.livedata.core.plugins import LoadedInstrument, create_plugin_manager
from ess.livedata.demo.geometry import ensure_geometry
from ess.livedata.testing.nexus_files import Bank, write_nexus_file

FILES = GeometryFiles(
    files=(GeometryFile("absent.nxs", datetime(2020, 1, 1, tzinfo=UTC), "md5:00"),)
)


class StandIn:
    @hookimpl
    def livedata_stand_in_geometry(self, instrument, path):
        write_nexus_file(path, [Bank("rear", 1, (2, 3))])
        return path


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path))
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    # Set (empty means unset), so that what the demo sets is undone after.
    monkeypatch.setenv(OVERRIDE_VARIABLE, "")


def loaded(*plugins) -> LoadedInstrument:
    manager = create_plugin_manager()
    for plugin in plugins:
        manager.register(plugin)
    return LoadedInstrument(Instrument("t", geometry_files=FILES), manager)


def test_unreachable_files_make_the_demo_use_the_stand_in(tmp_path):
    ensure_geometry(loaded(StandIn()), tmp_path)
    assert os.environ[OVERRIDE_VARIABLE] == str(tmp_path / "t-stand-in.nxs")
    assert (tmp_path / "t-stand-in.nxs").is_file()


def test_without_a_stand_in_the_missing_file_is_the_error(tmp_path):
    with pytest.raises(GeometryFileError, match=r"absent\.nxs not found"):
        ensure_geometry(loaded(), tmp_path)
