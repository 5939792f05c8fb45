"""A dashboard host lists workflows without the reduction stack.

A fresh venv gets what a dashboard host installs to talk to Kafka and know
the instruments: livedata-core, livedata-kafka and the instrument plugins
*without* their ``reduction`` extras. Listing every workflow and its
parameter form (JSON schema) must work there and import no reduction library.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DISTRIBUTIONS = (
    ROOT / "packages" / "livedata-core",
    ROOT / "packages" / "livedata-protocol",
    ROOT / "packages" / "livedata-kafka",
    ROOT / "packages" / "livedata-ess",
    ROOT / "instruments" / "livedata-instrument-dummy",
    ROOT / "instruments" / "livedata-instrument-loki",
    ROOT / "instruments" / "livedata-instrument-dream",
    ROOT / "instruments" / "livedata-instrument-estia",
    ROOT / "instruments" / "livedata-instrument-bifrost",
)
REDUCTION = (
    "sciline",
    "scippneutron",
    "ess.reduce",
    "ess.sans",
    "ess.powder",
    "ess.reflectometry",
    "ess.estia",
    "ess.spectroscopy",
    "ess.bifrost",
    "ess.livedata.reduction",
    "tof",
)

LIST_SPECS = """
import importlib.util, json, sys
from ess.livedata.core.plugins import load_all_instruments

forms = {
    name: {key: spec.params.model_json_schema() for key, spec in loaded.reduction_specs.items()}
    for name, loaded in load_all_instruments().items()
}
reduction = %r
print(json.dumps({
    "forms": forms,
    "imported": sorted(m for m in sys.modules if m.startswith(reduction)),
    "installed": [m for m in reduction if importlib.util.find_spec(m) is not None],
}))
"""

FACTORIES = """
from ess.livedata.core.plugins import load_instrument
try:
    load_instrument("loki").workflow_factories()
except ModuleNotFoundError as error:
    print(error.name)
"""


def _run(*args: str | Path) -> str:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def dashboard_python(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("dashboard") / "venv"
    python = venv / "bin" / "python"
    uv = shutil.which("uv")
    if uv:
        _run(uv, "venv", "-q", "-p", sys.executable, venv)
        _run(uv, "pip", "install", "-q", "-p", python, *DISTRIBUTIONS)
    else:
        _run(sys.executable, "-m", "venv", venv)
        _run(python, "-m", "pip", "install", "-q", *DISTRIBUTIONS)
    return python


def test_specs_and_forms_are_listed_without_reduction_imports(dashboard_python):
    result = json.loads(_run(dashboard_python, "-c", LIST_SPECS % (REDUCTION,)))
    assert result["installed"] == []
    assert result["imported"] == []
    forms = result["forms"]
    assert sorted(forms["dummy"]) == [
        "always_fails/v1",
        "monitor_normalized_counts/v1",
        "total_counts/v1",
        "wavelength_spectrum/v1",
    ]
    assert list(forms["loki"]) == ["i_of_q/v2"]
    iofq = forms["loki"]["i_of_q/v2"]["properties"]
    assert iofq["q_bins"]["default"] == 20
    assert list(forms["dream"]) == [
        "powder_reduction/v1",
        "powder_reduction_with_vanadium/v1",
    ]
    powder = forms["dream"]["powder_reduction/v1"]["properties"]
    assert powder["dspacing_bins"]["default"] == 500
    vanadium = forms["dream"]["powder_reduction_with_vanadium/v1"]["properties"]
    assert vanadium["vanadium_file"]["type"] == "string"
    assert list(forms["estia"]) == ["reflectometry_reduction/v1"]
    reflectometry = forms["estia"]["reflectometry_reduction/v1"]["properties"]
    assert reflectometry["q_bins"]["default"] == 400
    assert iofq["wavelength_min"]["exclusiveMinimum"] == 0.0
    assert list(forms["bifrost"]) == [
        "qmap/v1",
        "elastic_qmap/v1",
        "elastic_qmap_custom/v1",
        "detector_ratemeter/v1",
    ]
    qmap = forms["bifrost"]["qmap/v1"]["properties"]
    assert qmap["q_edges"]["default"] == {"start": 0.5, "stop": 3.0, "num_bins": 100}
    spectrum = forms["dummy"]["wavelength_spectrum/v1"]["properties"]
    assert spectrum["flight_path_m"]["title"] == "Flight path (m)"


def test_factories_need_the_reduction_extra(dashboard_python):
    missing = _run(dashboard_python, "-c", FACTORIES).strip()
    assert missing in REDUCTION
