"""The reduction hooks of an ESS instrument plugin, the same for every one.

An instrument package with reductions holds ``workflows`` (its
``WORKFLOW_SPECS``: pydantic only) and ``reduction`` (``factories(instrument)``,
factories by spec key, importing the ESS reduction package). The spec hook
imports only ``workflows``, so dashboards list the workflows without the
reduction stack; the factory hook, called by the reduction service alone,
imports ``reduction``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from ess.livedata.core.instrument import Instrument
from ess.livedata.core.workflow import WorkflowFactory, WorkflowSpec


def register_workflow_specs(
    package: str, register: Callable[[WorkflowSpec], None]
) -> None:
    """Register ``package.workflows.WORKFLOW_SPECS``."""
    for spec in import_module(f"{package}.workflows").WORKFLOW_SPECS:
        register(spec)


def register_workflow_factories(
    package: str,
    instrument: Instrument,
    register: Callable[[str, int, WorkflowFactory], None],
) -> None:
    """Register ``package.reduction.factories(instrument)``, one per spec."""
    specs = import_module(f"{package}.workflows").WORKFLOW_SPECS
    built = import_module(f"{package}.reduction").factories(instrument)
    for spec in specs:
        register(spec.name, spec.version, built[spec.key])
