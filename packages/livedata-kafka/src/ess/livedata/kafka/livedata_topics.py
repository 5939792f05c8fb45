"""One decoder table for livedata's own topics, in the facility's protocol.

Everything that reads what livedata publishes (the dashboard feed, the test
reader, the demo summary, the benchmark harness) decodes records here, so the
wire format of each topic is known in one place (PROTOCOL.md sections 3-6):
results are da00 named by a :class:`ResultKey`, heartbeats x5f2 with a
service or job status, responses and commands JSON, ROI requests da00.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import scipp as sc
from pydantic import ValidationError
from streaming_data_types import deserialise_x5f2, serialise_x5f2

from ess.livedata.protocol import (
    Heartbeat,
    JobCommand,
    Response,
    ResultKey,
    RoiStream,
    WorkflowConfig,
    parse_command,
)

from .schemas._boundary import expect_schema
from .schemas.da00 import decode_da00
from .schemas.errors import DecodeError


class LivedataTopic(enum.StrEnum):
    """livedata's own topics, by the suffix after ``{instrument}_``."""

    DATA = "livedata_data"
    HEARTBEAT = "livedata_heartbeat"
    RESPONSES = "livedata_responses"
    COMMANDS = "livedata_commands"
    ROI = "livedata_roi"

    def of(self, instrument: str) -> str:
        """The topic name for ``instrument``, e.g. ``dummy_livedata_data``."""
        return f"{instrument}_{self.value}"


@dataclass(frozen=True, slots=True)
class ResultMessage:
    """One output of one job, as published on the data topic."""

    key: ResultKey
    timestamp_ns: int
    data: sc.DataArray


@dataclass(frozen=True, slots=True)
class RoiRequest:
    """An ROI request: the job and geometry it addresses, and its columns."""

    stream: RoiStream
    data: sc.DataArray


Decoded = (
    ResultMessage | Heartbeat | Response | WorkflowConfig | JobCommand | RoiRequest
)


def _invalid(what: str, error: ValidationError) -> DecodeError:
    return DecodeError(f"invalid {what}", f"{error.error_count()} errors")


def decode_result(payload: bytes) -> ResultMessage:
    name, timestamp_ns, data = decode_da00(payload)
    try:
        key = ResultKey.from_source_name(name)
    except ValidationError as error:
        raise _invalid("result key", error) from None
    return ResultMessage(key, timestamp_ns, data)


def encode_heartbeat(heartbeat: Heartbeat) -> bytes:
    return serialise_x5f2(**heartbeat.x5f2_fields())


def decode_heartbeat(payload: bytes) -> Heartbeat:
    expect_schema(payload, "x5f2")
    try:
        fields = deserialise_x5f2(payload)._asdict()
    except Exception as error:
        raise DecodeError("malformed x5f2 payload", type(error).__name__) from None
    try:
        return Heartbeat.from_x5f2_fields(**fields)
    except ValidationError as error:
        raise _invalid("heartbeat", error) from None
    except ValueError as error:
        raise DecodeError("invalid heartbeat", str(error)) from None


def decode_response(payload: bytes) -> Response:
    try:
        return Response.from_bytes(payload)
    except ValidationError as error:
        raise _invalid("command response", error) from None


def decode_command(payload: bytes) -> WorkflowConfig | JobCommand:
    try:
        return parse_command(payload)
    except ValidationError as error:
        raise _invalid("command", error) from None


def decode_roi(payload: bytes) -> RoiRequest:
    name, _, data = decode_da00(payload)
    try:
        stream = RoiStream.from_source_name(name)
    except ValueError as error:
        raise DecodeError("invalid ROI stream name", str(error)) from None
    return RoiRequest(stream, data)


_DECODERS = {
    LivedataTopic.DATA: decode_result,
    LivedataTopic.HEARTBEAT: decode_heartbeat,
    LivedataTopic.RESPONSES: decode_response,
    LivedataTopic.COMMANDS: decode_command,
    LivedataTopic.ROI: decode_roi,
}


def decode_record(topic: LivedataTopic, payload: bytes) -> Decoded:
    """The message in one record of ``topic``.

    Raises
    ------
    DecodeError
        The payload is not what ``topic`` carries.
    """
    return _DECODERS[topic](payload)
