"""x5f2 adapter: ServiceStatus round trips and the x5f2 header fields."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streaming_data_types.status_x5f2 import deserialise_x5f2, serialise_x5f2

from ess.livedata.core.status import ServiceState, ServiceStatus
from ess.livedata.kafka.schemas.errors import DecodeError
from ess.livedata.kafka.schemas.x5f2 import decode_x5f2, encode_x5f2

_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _TEXT,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3)
    ),
    max_leaves=10,
)

statuses = st.builds(
    ServiceStatus,
    service=_TEXT,
    instrument=_TEXT,
    state=st.sampled_from(ServiceState),
    message=_TEXT,
    host=_TEXT,
    pid=st.integers(0, 2**32 - 1),
    version=_TEXT,
    started_at=st.integers(0, 2**63 - 1),
    update_interval_ms=st.integers(0, 2**32 - 1),
    counters=st.dictionaries(_TEXT, st.integers(0, 2**63 - 1), max_size=5),
    details=st.dictionaries(_TEXT, _JSON, max_size=5),
)


@settings(database=None, deadline=None)
@given(status=statuses)
def test_round_trip_keeps_every_field(status: ServiceStatus) -> None:
    assert decode_x5f2(encode_x5f2(status)) == status


def test_header_fields_describe_the_service_for_generic_tools() -> None:
    status = ServiceStatus(
        service="detector_data",
        instrument="dream",
        state=ServiceState.RUNNING,
        host="node1",
        pid=4321,
        version="1.2.3",
        update_interval_ms=2000,
    )
    header = deserialise_x5f2(encode_x5f2(status))
    assert header.software_name == "detector_data"
    assert header.software_version == "1.2.3"
    assert header.service_id == "dream:detector_data:node1:4321"
    assert header.host_name == "node1"
    assert header.process_id == 4321
    assert header.update_interval == 2000


@pytest.mark.parametrize(
    "status_json",
    ["not json", "{}", '{"file_being_written": "run.nxs"}', '{"service": 1}'],
)
def test_status_json_that_is_no_service_status_is_rejected(status_json: str) -> None:
    payload = serialise_x5f2("filewriter", "6.0", "fw-1", "host", 1, 1000, status_json)
    with pytest.raises(DecodeError) as info:
        decode_x5f2(payload)
    assert info.value.reason == "invalid x5f2 status"
