"""x5f2 adapter: the facility's heartbeats round trip, with livedata's extras."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streaming_data_types.status_x5f2 import deserialise_x5f2, serialise_x5f2

from ess.livedata.kafka.schemas.errors import DecodeError
from ess.livedata.kafka.schemas.x5f2 import decode_x5f2, encode_x5f2
from ess.livedata.protocol import ServiceState
from ess.livedata.testing.messages import heartbeat, service_beat

CORPUS = Path(__file__).parents[2] / "livedata-protocol/tests/corpus/livedata_heartbeat"

_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _TEXT,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3)
    ),
    max_leaves=10,
)
_EXTRA_KEY = _TEXT.filter(lambda k: k.isidentifier() and not k.startswith("_"))


@settings(database=None, deadline=None)
@given(
    state=st.sampled_from(ServiceState),
    counters=st.dictionaries(_TEXT, st.integers(0, 2**63 - 1), max_size=5),
    details=st.dictionaries(_EXTRA_KEY, _JSON, max_size=5),
)
def test_round_trip_keeps_every_field(state, counters, details) -> None:
    details.pop("counters", None)
    beat = heartbeat(service_beat(state=state, counters=counters, **details))
    assert decode_x5f2(encode_x5f2(beat)) == beat


def test_header_fields_are_the_facilitys() -> None:
    beat = heartbeat(
        service_beat("w-1", service="detector_data", instrument="dream"), process_id=3
    )
    header = deserialise_x5f2(encode_x5f2(beat))
    assert header.software_name == "livedata"
    assert header.software_version == "0"
    assert header.service_id == "dream:detector_data:w-1"
    assert header.host_name == "h"
    assert header.process_id == 3
    assert header.update_interval == 2000


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.bin")), ids=lambda p: p.stem)
def test_every_recorded_heartbeat_decodes_and_reencodes(path: Path) -> None:
    beat = decode_x5f2(path.read_bytes())
    assert decode_x5f2(encode_x5f2(beat)) == beat


@pytest.mark.parametrize(
    "status_json",
    ["not json", "{}", '{"file_being_written": "run.nxs"}', '{"status": 1}'],
)
def test_status_json_that_is_no_heartbeat_is_rejected(status_json: str) -> None:
    payload = serialise_x5f2("filewriter", "6.0", "fw-1", "host", 1, 1000, status_json)
    with pytest.raises(DecodeError) as info:
        decode_x5f2(payload)
    assert info.value.reason == "invalid x5f2 heartbeat"
