"""A third-party instrument plugin, built and installed like a user would.

The plugin is a separate distribution written into a temporary folder, built
with hatchling and installed into a fresh venv next to livedata-core only.
Nothing in core names it: discovery goes through the entry point alone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "livedata-instrument-tiny"
version = "0.0.1"
dependencies = ["livedata-core"]

[project.entry-points."livedata.instruments"]
tiny = "tiny_instrument.plugin"

[tool.hatch.build.targets.wheel]
packages = ["src/tiny_instrument"]
"""

PLUGIN = """
from functools import partial

import numpy as np
import scipp as sc

from ess.livedata.core.hookspecs import hookimpl
from ess.livedata.core.instrument import DetectorBank, Instrument, Monitor


def _geometry():
    ids = np.arange(1, 17, dtype=np.int32).reshape(4, 4)
    pos = np.zeros((4, 4, 3))
    pos[..., 2] = 2.0
    return sc.DataArray(
        sc.zeros(dims=["y", "x"], shape=[4, 4], unit="counts"),
        coords={
            "detector_number": sc.array(dims=["y", "x"], values=ids, unit=None),
            "position": sc.vectors(dims=["y", "x"], values=pos, unit="m"),
        },
    )


@hookimpl
def livedata_register_instruments(register):
    register(
        Instrument(
            name="tiny",
            detectors=(DetectorBank("det", "tiny_det", _geometry),),
            monitors=(Monitor("mon", "tiny_mon"),),
        )
    )
"""

CHECK = """
import json
from ess.livedata.core.plugins import installed_instruments, load_instrument
from ess.livedata.core.streams import Topology

loaded = load_instrument("tiny")
mapping = loaded.stream_mapping(Topology.PRODUCTION)
print(json.dumps({
    "installed": installed_instruments(),
    "pixels": loaded.instrument.detector("det").pixel_count,
    "stream": str(mapping.resolve("tiny_detector", "tiny_det")),
    "topics": mapping.input_topics(["detector_events", "monitor_events"]),
}))
"""


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("tiny")
    project = work / "livedata-instrument-tiny"
    package = project / "src" / "tiny_instrument"
    package.mkdir(parents=True)
    (project / "pyproject.toml").write_text(PYPROJECT)
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(textwrap.dedent(PLUGIN))
    venv = work / "venv"
    uv = shutil.which("uv")
    python = venv / "bin" / "python"
    if uv:
        _run(uv, "venv", "-q", "-p", sys.executable, venv)
        _run(
            uv,
            "pip",
            "install",
            "-q",
            "-p",
            python,
            ROOT / "packages" / "livedata-core",
            ROOT / "packages" / "livedata-protocol",
            project,
        )
    else:
        _run(sys.executable, "-m", "venv", venv)
        _run(
            python,
            "-m",
            "pip",
            "install",
            "-q",
            ROOT / "packages" / "livedata-core",
            ROOT / "packages" / "livedata-protocol",
            project,
        )
    return python


def test_out_of_tree_plugin_is_discovered_and_usable(plugin_venv):
    result = json.loads(_run(plugin_venv, "-c", CHECK))
    assert result == {
        "installed": ["tiny"],
        "pixels": 16,
        "stream": "detector_events/det",
        "topics": ["tiny_beam_monitor", "tiny_detector"],
    }


def test_core_alone_does_not_pull_in_kafka_or_panel(plugin_venv):
    probe = (
        "import importlib.util as u;"
        "print([m for m in ('confluent_kafka', 'panel', 'numba') if u.find_spec(m)])"
    )
    assert _run(plugin_venv, "-c", probe).strip() == "[]"
