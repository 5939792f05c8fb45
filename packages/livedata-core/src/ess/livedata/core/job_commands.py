"""What a reduction job tells the data_reduction service's workflows: start, stop.

A reduction job runs one workflow an instrument plugin registered (see
:mod:`ess.livedata.core.workflow`) on chosen source streams. ``target`` is
the internal job id; it names the job's outputs internally
(``data_reduction/<job id>/<output>``) and its entry in the service status.
Parameters are checked against the workflow's own model by
:func:`parse_params`, which dashboards can call too before sending.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from .commands import TargetedCommand, validation_summary
from .workflow import WorkflowSpec

MAX_SOURCES = 64

JobId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
"""Safe in output names: no ``/``, at most 64 characters."""

WorkflowKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}/v[0-9]{1,6}$")]
"""``name/vN``, as :attr:`WorkflowSpec.key`."""

_SourceName = Annotated[str, Field(min_length=1, max_length=64)]


class StartJob(TargetedCommand):
    """Start job ``target`` running ``workflow`` on ``sources`` with ``params``.

    ``params`` omitted from the command take the defaults of the workflow's
    model. A job id may be reused once its previous job is stopped.
    """

    action: Literal["start_job"] = "start_job"
    target: JobId
    workflow: WorkflowKey
    sources: tuple[_SourceName, ...] = Field(min_length=1, max_length=MAX_SOURCES)
    params: dict[str, Any] = Field(default_factory=dict)


class StopJob(TargetedCommand):
    """Stop job ``target`` (all jobs when omitted); its outputs cease."""

    action: Literal["stop_job"] = "stop_job"
    target: JobId | None = None


def parse_params(spec: WorkflowSpec, params: Mapping[str, Any]) -> BaseModel:
    """``params`` as an instance of the spec's parameter model.

    Raises
    ------
    ValueError
        Saying which parameters are wrong and why, in pydantic's words.
    """
    try:
        return spec.params.model_validate(dict(params))
    except ValidationError as error:
        raise ValueError(
            f"invalid params for {spec.key}: {validation_summary(error)}"
        ) from None
