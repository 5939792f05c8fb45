"""Commands of the data_reduction service: start, stop, reset and re-parameterise jobs.

A *job* runs one workflow an instrument plugin registered (see
:mod:`ess.livedata.core.workflow`) on chosen source streams. ``target`` is
the job id, chosen by the sender; it names the job's outputs
(``data_reduction/<job id>/<output>``) and its entry in the status heartbeat.

The bodies are validated like the monitor commands (see
:mod:`ess.livedata.core.commands`); :data:`JOB_COMMANDS` is the union the
service parses. Parameters are checked against the workflow's own model by
:func:`parse_params`, which dashboards can call too before sending.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from .commands import Reset, TargetedCommand, validation_summary
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


class UpdateJobParams(TargetedCommand):
    """Change some parameters of job ``target``; the others keep their values.

    The workflow is rebuilt with the new parameters, so its cumulative
    results restart.
    """

    action: Literal["update_job_params"] = "update_job_params"
    target: JobId
    params: dict[str, Any]


JobCommand = Annotated[
    StartJob | StopJob | UpdateJobParams | Reset, Field(discriminator="action")
]
"""Commands the data_reduction service understands; ``reset`` clears a job's
accumulated state (all jobs when ``target`` is omitted)."""

JOB_COMMANDS: TypeAdapter[Any] = TypeAdapter(JobCommand)


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
