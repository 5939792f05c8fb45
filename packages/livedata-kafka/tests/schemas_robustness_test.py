"""Every decoder, fed bytes it cannot use, raises DecodeError and nothing else.

Corrupted input must never crash a service with a stray IndexError or
struct.error, and a truncated payload must never decode into wrong values (the
FlatBuffers runtime would silently shorten strings running past the end).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields

import numpy as np
import pytest
import scipp as sc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ess.livedata.core.payloads import EventBatch, LogSample
from ess.livedata.kafka.schemas import (
    DECODERS,
    DecodeError,
    decode,
    encode_ad00,
    encode_da00,
    encode_ev44,
    encode_f144,
    encode_x5f2,
)
from ess.livedata.testing.messages import heartbeat, service_beat

_SAMPLES = {
    "ev44": encode_ev44(
        "detector",
        EventBatch(
            reference_time=np.array([10, 20], dtype=np.int64),
            reference_time_index=np.array([0, 2], dtype=np.int32),
            time_of_arrival=np.array([1, 2, 3], dtype=np.int32),
            pixel_id=np.array([4, 5, 6], dtype=np.int32),
            message_id=7,
        ),
    ),
    "f144": encode_f144("temperature", LogSample(5, np.array([1.0, np.nan]))),
    "da00": encode_da00(
        "result",
        9,
        sc.DataArray(
            sc.array(
                dims=["x"], values=[1.0, 2.0], variances=[1.0, 4.0], unit="counts"
            ),
            coords={
                "x": sc.array(dims=["x"], values=[0.0, 1.0, 2.0], unit="angstrom"),
                "start_time": sc.datetime(1, unit="ns"),
                "end_time": sc.datetime(2, unit="ns"),
                "mode": sc.scalar("fast"),
            },
            name="counts",
        ),
    ),
    "x5f2": encode_x5f2(
        heartbeat(
            service_beat(
                service="data_reduction", instrument="dream", counters={"messages": 10}
            )
        )
    ),
    "ad00": encode_ad00(
        "camera",
        4,
        sc.DataArray(
            sc.array(
                dims=["y", "x"], values=np.arange(6.0).reshape(2, 3), unit="counts"
            )
        ),
    ),
}
_SCHEMAS = sorted(_SAMPLES)
_FUZZ = settings(
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)


def _decode_or_none(decoder: Callable[[bytes], object], payload: bytes) -> object:
    """The decoded value, or None if rejected; any other exception fails the test."""
    try:
        return decoder(payload)
    except DecodeError:
        return None


def _same(a: object, b: object) -> bool:
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, sc.DataArray):
        return sc.identical(a, b, equal_nan=True)
    if isinstance(a, EventBatch | LogSample):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    if isinstance(a, np.ndarray | float):
        return np.array_equal(
            a, b, equal_nan=np.issubdtype(np.asarray(a).dtype, np.inexact)
        )
    return a == b


def test_every_decoder_is_fuzzed() -> None:
    assert set(DECODERS) == set(_SAMPLES)


@pytest.mark.parametrize("schema", _SCHEMAS)
def test_samples_decode(schema: str) -> None:
    assert _decode_or_none(DECODERS[schema], _SAMPLES[schema]) is not None


@pytest.mark.parametrize("schema", _SCHEMAS)
def test_every_truncation_is_rejected_or_loses_only_padding(schema: str) -> None:
    decoder, payload = DECODERS[schema], _SAMPLES[schema]
    full = decoder(payload)
    for length in range(len(payload)):
        decoded = _decode_or_none(decoder, payload[:length])
        assert decoded is None or _same(decoded, full), f"prefix of {length} bytes"


@pytest.mark.parametrize("schema", _SCHEMAS)
def test_every_single_bit_flip_decodes_or_is_rejected(schema: str) -> None:
    decoder, payload = DECODERS[schema], _SAMPLES[schema]
    for bit in range(len(payload) * 8):
        mutated = bytearray(payload)
        mutated[bit // 8] ^= 1 << (bit % 8)
        _decode_or_none(decoder, bytes(mutated))


@pytest.mark.parametrize(
    ("schema", "other"), [(s, o) for s in _SCHEMAS for o in _SCHEMAS if s != o]
)
def test_payload_of_another_schema_is_rejected_by_id(schema: str, other: str) -> None:
    with pytest.raises(DecodeError) as info:
        DECODERS[schema](_SAMPLES[other])
    assert info.value.reason == f"unexpected schema id {other!r}"


@pytest.mark.parametrize("schema", _SCHEMAS)
@_FUZZ
@given(payload=st.binary(max_size=300))
def test_random_bytes_are_rejected(schema: str, payload: bytes) -> None:
    _decode_or_none(DECODERS[schema], payload)
    _decode_or_none(lambda p: decode(p, set(DECODERS)), payload)


@pytest.mark.parametrize("schema", _SCHEMAS)
@_FUZZ
@given(head=st.binary(min_size=4, max_size=4), body=st.binary(max_size=300))
def test_random_bytes_behind_the_right_schema_id_are_rejected(
    schema: str, head: bytes, body: bytes
) -> None:
    _decode_or_none(DECODERS[schema], head + schema.encode() + body)


@pytest.mark.parametrize("schema", _SCHEMAS)
@_FUZZ
@given(data=st.data())
def test_random_overwrites_of_a_valid_payload_decode_or_are_rejected(
    schema: str, data: st.DataObject
) -> None:
    mutated = bytearray(_SAMPLES[schema])
    positions = st.integers(0, len(mutated) - 1)
    for position, value in data.draw(
        st.lists(st.tuples(positions, st.integers(0, 255)), min_size=1, max_size=8)
    ):
        mutated[position] = value
    _decode_or_none(DECODERS[schema], bytes(mutated))
