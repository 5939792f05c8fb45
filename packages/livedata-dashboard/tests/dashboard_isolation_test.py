"""A dashboard host never gets the reduction stack or numba.

The reduction stack includes ``tof``, the ESS reduction packages (esssans's
``ess.sans``, ``ess.loki``; essdiffraction's ``ess.powder``, ``ess.dream``;
essreflectometry's ``ess.reflectometry``, ``ess.estia``) and livedata's own
ESS reduction pieces
(``ess.livedata.reduction``, in livedata-services' ``reduction`` extra).

In livedata-dashboard's own nox session (``LIVEDATA_ISOLATED=livedata-
dashboard``) they must not even be installed. In any venv, importing every
dashboard must not import them.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

FORBIDDEN = [
    "sciline",
    "ess.reduce",
    "ess.sans",
    "ess.loki",
    "ess.powder",
    "ess.dream",
    "ess.reflectometry",
    "ess.estia",
    "numba",
    "tof",
    "ess.livedata.reduction",
]


@pytest.mark.skipif(
    os.environ.get("LIVEDATA_ISOLATED") != "livedata-dashboard",
    reason="only meaningful in livedata-dashboard's own nox session",
)
@pytest.mark.parametrize("module", FORBIDDEN)
def test_dashboard_venv_cannot_import(module):
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        spec = None
    assert spec is None, f"{module} is importable in livedata-dashboard's venv"


def test_dashboards_do_not_import_the_reduction_stack():
    code = (
        "import sys\n"
        "import ess.livedata.dashboard.monitors, ess.livedata.dashboard.detectors\n"
        "import ess.livedata.dashboard.reduction\n"
        "from ess.livedata.core.plugins import load_instrument\n"
        "load_instrument('dummy').workflow_specs\n"
        f"forbidden = {FORBIDDEN!r}\n"
        "print(sorted(m for m in sys.modules for f in forbidden"
        " if m == f or m.startswith(f + '.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
