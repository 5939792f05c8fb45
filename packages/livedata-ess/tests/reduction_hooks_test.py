"""The shared reduction hooks: specs without the reduction module, factories
by spec key."""

from __future__ import annotations

import sys

import pytest

from ess.livedata.ess.reduction_hooks import (
    register_workflow_factories,
    register_workflow_specs,
)

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


def test_specs_are_registered_without_importing_the_reduction(package):
    specs = []
    register_workflow_specs(package, specs.append)
    assert [spec.key for spec in specs] == ["a/v1", "b/v2"]
    assert f"{package}.reduction" not in sys.modules


def test_each_spec_gets_its_factory_bound_to_the_instrument(package):
    registered = []
    register_workflow_factories(package, "inst", lambda *a: registered.append(a))
    assert registered == [("a", 1, ("A", "inst")), ("b", 2, ("B", "inst"))]
