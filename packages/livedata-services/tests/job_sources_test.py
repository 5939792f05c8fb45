import pytest
from pydantic import BaseModel

from ess.livedata.core.job_sources import allowed_sources, resolve_sources
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.workflow import WorkflowSpec
from ess.livedata.instruments.dummy.plugin import make_instrument


def spec(*kinds: StreamKind, sources: tuple[str, ...] = ()) -> WorkflowSpec:
    return WorkflowSpec(
        name="w",
        version=1,
        title="",
        description="",
        params=BaseModel,
        outputs={"o": ""},
        source_kinds=kinds,
        sources=sources,
    )


def test_a_monitor_name_binds_its_event_and_histogram_streams():
    monitors = spec(StreamKind.MONITOR_EVENTS, StreamKind.MONITOR_COUNTS)
    assert resolve_sources(make_instrument(), monitors, ["monitor1", "monitor1"]) == (
        StreamId(StreamKind.MONITOR_EVENTS, "monitor1"),
        StreamId(StreamKind.MONITOR_COUNTS, "monitor1"),
    )


def test_allowed_sources_follow_kinds_and_the_spec_list():
    instrument = make_instrument()
    logs = allowed_sources(instrument, spec(StreamKind.LOG))
    assert set(logs) == {log.name for log in instrument.logs}
    assert logs["motor_x"] == [StreamId(StreamKind.LOG, "motor_x")]
    only_panel = spec(StreamKind.DETECTOR_EVENTS, sources=("panel_0",))
    assert list(allowed_sources(instrument, only_panel)) == ["panel_0"]
    with pytest.raises(ValueError, match=r"cannot bind \['tubes_1'\]"):
        resolve_sources(instrument, only_panel, ["tubes_1"])
