"""Schema ids and dispatching a payload to the decoder its stream expects."""

from __future__ import annotations

import numpy as np
import pytest
import scipp as sc

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
    schema_id,
)
from ess.livedata.testing.messages import heartbeat, service_beat

_EMPTY = np.empty(0, dtype=np.int32)
_PAYLOADS = {
    "ev44": encode_ev44(
        "det", EventBatch(np.empty(0, np.int64), _EMPTY, _EMPTY, _EMPTY)
    ),
    "f144": encode_f144("temp", LogSample(1, 2.0)),
    "da00": encode_da00("out", 3, sc.DataArray(sc.scalar(1.0))),
    "x5f2": encode_x5f2(heartbeat(service_beat())),
    "ad00": encode_ad00(
        "cam", 4, sc.DataArray(sc.zeros(dims=["y", "x"], shape=[1, 1], unit="counts"))
    ),
}


def test_every_decoder_has_a_payload_here() -> None:
    assert set(DECODERS) == set(_PAYLOADS)


@pytest.mark.parametrize("schema", sorted(_PAYLOADS))
def test_schema_id_reads_the_file_identifier(schema: str) -> None:
    assert schema_id(_PAYLOADS[schema]) == schema


@pytest.mark.parametrize("length", range(8))
def test_schema_id_of_a_too_short_payload_is_a_decode_error(length: int) -> None:
    with pytest.raises(DecodeError) as info:
        schema_id(b"\x00" * length)
    assert info.value.reason == "payload too short"


def test_schema_id_of_non_ascii_bytes_is_escaped_not_an_error() -> None:
    assert schema_id(b"\x00\x00\x00\x00\xffev4") == "\\xffev4"


@pytest.mark.parametrize("schema", sorted(_PAYLOADS))
def test_decode_dispatches_on_the_expected_schema(schema: str) -> None:
    payload = _PAYLOADS[schema]
    assert _same(decode(payload, schema), DECODERS[schema](payload))
    assert _same(decode(payload, set(_PAYLOADS)), DECODERS[schema](payload))


def test_unexpected_schema_is_rejected_with_its_id() -> None:
    with pytest.raises(DecodeError) as info:
        decode(_PAYLOADS["f144"], {"ev44", "da00"})
    assert info.value.reason == "unexpected schema id 'f144'"
    assert info.value.detail == "expected da00, ev44"


def test_expected_schema_without_decoder_is_rejected() -> None:
    payload = b"\x08\x00\x00\x00hs01\x00\x00\x00\x00"
    with pytest.raises(DecodeError) as info:
        decode(payload, "hs01")
    assert info.value.reason == "unsupported schema id 'hs01'"


def test_decode_error_is_a_value_error_with_reason_and_detail() -> None:
    error = DecodeError("truncated ev44 payload", "12 bytes")
    assert isinstance(error, ValueError)
    assert (error.reason, error.detail, str(error)) == (
        "truncated ev44 payload",
        "12 bytes",
        "truncated ev44 payload: 12 bytes",
    )
    assert str(DecodeError("no detail")) == "no detail"


def _same(a: object, b: object) -> bool:
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, sc.DataArray):
        return sc.identical(a, b)
    if isinstance(a, EventBatch):
        return a.size == b.size and a.message_id == b.message_id
    return a == b
