"""Workflow specs: the cheap half of a reduction workflow's registration.

A spec names a workflow, its parameter model and outputs, and is all a
dashboard needs. The factory that builds the actual (heavy) pipeline is
registered separately and only loaded by the reduction service.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import scipp as sc
from pydantic import BaseModel

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
        Output name -> human description.
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
    outputs: Mapping[str, str]
    source_kinds: tuple[StreamKind, ...]
    sources: tuple[str, ...] = ()
    auxiliary: tuple[StreamId, ...] = field(default=())
    """Further streams every job of this workflow reads, e.g. a monitor."""

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
