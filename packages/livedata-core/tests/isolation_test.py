"""The core distribution must stay installable on every host.

Run by nox in livedata-core's own venv (``LIVEDATA_ISOLATED=livedata-core``),
where these imports must be impossible. In a shared development venv the
heavy packages are present on purpose, so the check only applies there.
"""

import importlib.util
import os

import pytest

FORBIDDEN = ["confluent_kafka", "panel", "bokeh", "holoviews", "sciline", "ess.reduce"]


@pytest.mark.skipif(
    os.environ.get("LIVEDATA_ISOLATED") != "livedata-core",
    reason="only meaningful in livedata-core's own nox session",
)
@pytest.mark.parametrize("module", FORBIDDEN)
def test_core_venv_cannot_import(module):
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        spec = None
    assert spec is None, f"{module} is importable in livedata-core's venv"
