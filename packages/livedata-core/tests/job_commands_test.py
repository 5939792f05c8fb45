import pytest
from pydantic import BaseModel, ConfigDict, Field

from ess.livedata.core.job_commands import StartJob, parse_params
from ess.livedata.core.message import StreamKind
from ess.livedata.core.workflow import WorkflowSpec


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bins: int = Field(default=10, ge=1)


SPEC = WorkflowSpec(
    name="w",
    version=2,
    title="W",
    description="",
    params=Params,
    outputs={"out": ""},
    source_kinds=(StreamKind.DETECTOR_EVENTS,),
)


def test_start_takes_sources_as_a_tuple():
    start = StartJob.model_validate(
        {"target": "j", "workflow": "w/v2", "sources": ["a"]}
    )
    assert start == StartJob(target="j", workflow="w/v2", sources=("a",))


@pytest.mark.parametrize(
    "body",
    [
        {"target": "../x", "workflow": "w/v2", "sources": ["a"]},
        {"target": "j", "workflow": "w", "sources": ["a"]},
        {"target": "j", "workflow": "w/v2", "sources": []},
        {"target": "j", "workflow": "w/v2", "sources": ["a"], "extra": 1},
    ],
)
def test_malformed_start_is_refused(body):
    with pytest.raises(ValueError, match="StartJob"):
        StartJob.model_validate(body)


def test_params_are_validated_by_the_spec_model():
    assert parse_params(SPEC, {"bins": 3}) == Params(bins=3)
    assert parse_params(SPEC, {}) == Params()
    with pytest.raises(ValueError, match=r"invalid params for w/v2: bins: Input"):
        parse_params(SPEC, {"bins": 0})
