"""Workflow specs: the cheap half of a reduction workflow's registration.

A spec names a workflow, its parameter model, the service that runs it and
its outputs (with their temporality and unit, see
``ess.livedata.protocol.contracts``), and is all a dashboard needs. The factory that builds the actual (heavy) pipeline is
registered separately and only loaded by the reduction service.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import scipp as sc
from pydantic import BaseModel

from ess.livedata.protocol import OutputSpec, ServiceName, Temporality

from .message import StreamId, StreamKind


@dataclass(frozen=True)
class WorkflowSpec:
    """Describes a workflow an instrument offers.

    Parameters
    ----------
    name, version:
        Identify the workflow; a job names both so an old dashboard cannot
        start a workflow whose parameters changed meaning.
    params:
        Pydantic model of the parameters; dashboards generate forms from it.
    outputs:
        The declared outputs; a mapping output name -> description declares
        outputs that stand as newest (temporality ``series``, no unit).
    source_kinds:
        Kinds of streams a job may bind to (e.g. detector events, monitors).
    sources:
        Names of the allowed source streams; empty means all of those kinds.
    """

    name: str
    version: int
    title: str
    description: str
    params: type[BaseModel]
    outputs: Sequence[OutputSpec] | Mapping[str, str]
    source_kinds: tuple[StreamKind, ...]
    sources: tuple[str, ...] = ()
    auxiliary: tuple[StreamId, ...] = field(default=())
    """Further streams every job of this workflow reads, e.g. a monitor."""
    service: ServiceName = ServiceName.DATA_REDUCTION
    """The service that runs the workflow's jobs; only ``data_reduction``
    needs a factory, the others are built into their services."""
    nicos_devices: Mapping[str, str] = field(default_factory=dict)
    """Output name -> NICOS device name template (``{source_name}_counts``):
    that output's value is published for NICOS under the device name."""

    @property
    def output_specs(self) -> tuple[OutputSpec, ...]:
        if isinstance(self.outputs, Mapping):
            return tuple(
                OutputSpec(
                    name=name,
                    temporality=Temporality.SERIES,
                    unit=None,
                    title=description,
                )
                for name, description in self.outputs.items()
            )
        return tuple(self.outputs)

    @property
    def key(self) -> str:
        return f"{self.name}/v{self.version}"


class Workflow(Protocol):
    """A running workflow instance, created per job by a factory.

    ``accumulate`` receives the window's data per stream; ``finalize``
    returns the outputs to publish; ``clear`` drops accumulated state.
    """

    def accumulate(self, data: Mapping[StreamId, Any]) -> None: ...

    def finalize(self) -> Mapping[str, sc.DataArray]: ...

    def clear(self) -> None: ...


WorkflowFactory = Callable[[BaseModel, Sequence[StreamId]], Workflow]
"""Builds a workflow instance from validated parameters and bound sources."""
