"""ev44 adapter: round trips, zero-copy decoding and structural validation."""

from __future__ import annotations

import struct

import flatbuffers
import hypothesis.extra.numpy as npst
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streaming_data_types.eventdata_ev44 import deserialise_ev44
from streaming_data_types.fbschemas.eventdata_ev44 import Event44Message

from ess.livedata.core.payloads import EventBatch
from ess.livedata.kafka.schemas.errors import DecodeError
from ess.livedata.kafka.schemas.ev44 import decode_ev44, encode_ev44


def _batch(rt, rti, toa, pixel, message_id=0) -> EventBatch:
    return EventBatch(
        reference_time=np.asarray(rt, dtype=np.int64),
        reference_time_index=np.asarray(rti, dtype=np.int32),
        time_of_arrival=np.asarray(toa, dtype=np.int32),
        pixel_id=np.asarray(pixel, dtype=np.int32),
        message_id=message_id,
    )


@st.composite
def event_batches(draw: st.DrawFn) -> EventBatch:
    n_events = draw(st.integers(0, 50))
    n_pulses = draw(st.integers(1 if n_events else 0, 5))
    starts = draw(
        st.lists(st.integers(0, n_events), min_size=n_pulses, max_size=n_pulses)
    )
    index = sorted(starts)
    if index:
        index[0] = 0
    has_pixels = draw(st.booleans())
    return _batch(
        draw(npst.arrays(np.int64, n_pulses)),
        index,
        draw(npst.arrays(np.int32, n_events)),
        draw(npst.arrays(np.int32, n_events if has_pixels else 0)),
        draw(st.integers(-(2**63), 2**63 - 1)),
    )


def _assert_same(actual: EventBatch, expected: EventBatch) -> None:
    for field in ("reference_time", "reference_time_index", "time_of_arrival"):
        np.testing.assert_array_equal(getattr(actual, field), getattr(expected, field))
        assert getattr(actual, field).dtype == getattr(expected, field).dtype
    np.testing.assert_array_equal(actual.pixel_id, expected.pixel_id)
    assert actual.pixel_id.dtype == np.int32
    assert actual.message_id == expected.message_id


@settings(database=None, deadline=None)
@given(batch=event_batches(), source=st.text(min_size=1, max_size=20))
def test_round_trip_keeps_source_and_every_array(
    batch: EventBatch, source: str
) -> None:
    decoded_source, decoded = decode_ev44(encode_ev44(source, batch))
    assert decoded_source == source
    _assert_same(decoded, batch)


def test_monitor_batch_without_pixels_round_trips() -> None:
    batch = _batch([1_700_000_000_000_000_000], [0], [5, 6, 7], [])
    source, decoded = decode_ev44(encode_ev44("monitor_1", batch))
    assert source == "monitor_1"
    assert decoded.pixel_id.size == 0
    assert decoded.size == 3


def test_decode_is_zero_copy_for_a_million_events() -> None:
    rng = np.random.default_rng(1)
    n = 1_000_000
    batch = _batch(
        np.arange(14) * 71_000_000,
        np.arange(14) * (n // 14),
        rng.integers(0, 71_000_000, n),
        rng.integers(0, 1_000_000, n),
    )
    payload = encode_ev44("detector", batch)
    _, decoded = decode_ev44(payload)
    raw = np.frombuffer(payload, dtype=np.uint8)
    for array in (
        decoded.reference_time,
        decoded.reference_time_index,
        decoded.time_of_arrival,
        decoded.pixel_id,
    ):
        assert array.base is payload
        assert np.shares_memory(array, raw)
        assert not array.flags.writeable
    _assert_same(decoded, batch)


def test_absent_vectors_decode_as_empty_arrays() -> None:
    builder = flatbuffers.Builder(64)
    name = builder.CreateString("sparse")
    Event44Message.Event44MessageStart(builder)
    Event44Message.Event44MessageAddSourceName(builder, name)
    builder.Finish(Event44Message.Event44MessageEnd(builder), file_identifier=b"ev44")
    source, batch = decode_ev44(bytes(builder.Output()))
    assert source == "sparse"
    assert batch.size == 0
    assert batch.reference_time.dtype == np.int64
    assert batch.reference_time_index.dtype == np.int32
    assert batch.pixel_id.dtype == np.int32


@pytest.mark.parametrize(
    ("rt", "rti", "toa", "pixel"),
    [
        pytest.param([1, 2], [0], [1, 2], [], id="fewer indices than pulses"),
        pytest.param([1], [0], [1, 2, 3], [7, 8], id="pixel count mismatch"),
        pytest.param([], [], [1, 2], [], id="events without pulses"),
        pytest.param([1, 2], [1, 2], [1, 2], [], id="events before first pulse"),
        pytest.param([1, 2, 3], [0, 2, 1], [1, 2], [], id="index decreasing"),
        pytest.param([1, 2], [0, 3], [1, 2], [], id="index past the events"),
        pytest.param([1], [-1], [], [], id="negative index"),
        pytest.param(
            [1, 2, 3, 4, 5],
            [0, 1, -(2**31), -1, 2],
            [1, 2],
            [],
            id="decreasing by more than int32 holds",
        ),
    ],
)
def test_inconsistent_structure_is_rejected(rt, rti, toa, pixel) -> None:
    payload = encode_ev44("det", _batch(rt, rti, toa, pixel))
    with pytest.raises(DecodeError) as info:
        decode_ev44(payload)
    assert info.value.reason == "inconsistent ev44 payload"


def _reference(payload: bytes) -> tuple[str, EventBatch] | None:
    """The streaming_data_types deserialiser (generated accessors); None if it fails.

    It reads absent vectors as the integer 0 and does not bounds-check strings
    or validate the pulse index, so it is a reference for values only.
    """
    try:
        data = deserialise_ev44(payload)
    except Exception:
        return None

    def array(value, dtype) -> np.ndarray:
        return value if isinstance(value, np.ndarray) else np.empty(0, dtype=dtype)

    return data.source_name, _batch(
        array(data.reference_time, np.int64),
        array(data.reference_time_index, np.int32),
        array(data.time_of_flight, np.int32),
        array(data.pixel_id, np.int32),
        data.message_id,
    )


@settings(database=None, deadline=None, max_examples=300)
@given(batch=event_batches(), source=st.text(min_size=1, max_size=20))
def test_valid_messages_decode_as_streaming_data_types_does(
    batch: EventBatch, source: str
) -> None:
    payload = encode_ev44(source, batch)
    expected = _reference(payload)
    assert expected is not None
    decoded_source, decoded = decode_ev44(payload)
    assert decoded_source == expected[0]
    _assert_same(decoded, expected[1])


@settings(database=None, deadline=None, max_examples=300)
@given(batch=event_batches(), source=st.text(min_size=1, max_size=8), data=st.data())
def test_corrupted_messages_are_rejected_or_read_as_streaming_data_types_does(
    batch: EventBatch, source: str, data: st.DataObject
) -> None:
    mutated = bytearray(encode_ev44(source, batch))
    positions = st.integers(0, len(mutated) - 1)
    for position, value in data.draw(
        st.lists(st.tuples(positions, st.integers(0, 255)), min_size=1, max_size=4)
    ):
        mutated[position] = value
    payload = bytes(mutated)
    try:
        decoded = decode_ev44(payload)
    except DecodeError:
        return
    expected = _reference(payload)
    assert expected is not None, "accepted what the generated accessors cannot read"
    assert decoded[0] == expected[0]
    _assert_same(decoded[1], expected[1])


def test_message_of_an_older_writer_without_the_later_fields() -> None:
    builder = flatbuffers.Builder(64)
    name = builder.CreateString("old")
    Event44Message.Event44MessageStart(builder)
    Event44Message.Event44MessageAddSourceName(builder, name)
    Event44Message.Event44MessageAddMessageId(builder, 42)
    builder.Finish(Event44Message.Event44MessageEnd(builder), file_identifier=b"ev44")
    payload = bytes(builder.Output())
    source, batch = decode_ev44(payload)
    assert (source, batch.message_id, batch.size) == ("old", 42, 0)


def test_message_without_source_name_is_malformed() -> None:
    builder = flatbuffers.Builder(64)
    Event44Message.Event44MessageStart(builder)
    Event44Message.Event44MessageAddMessageId(builder, 1)
    builder.Finish(Event44Message.Event44MessageEnd(builder), file_identifier=b"ev44")
    with pytest.raises(DecodeError) as info:
        decode_ev44(bytes(builder.Output()))
    assert info.value.reason == "malformed ev44 payload"


def test_vtable_before_the_payload_start_is_malformed() -> None:
    payload = bytearray(encode_ev44("det", _batch([1], [0], [5], [6])))
    (table,) = struct.unpack_from("<I", payload, 0)
    struct.pack_into("<i", payload, table, table + 4)  # vtable at -4
    with pytest.raises(DecodeError) as info:
        decode_ev44(bytes(payload))
    assert info.value.reason == "malformed ev44 payload"
