"""x5f2 heartbeats to and from the facility's :class:`~ess.livedata.protocol.Heartbeat`.

NICOS and the facility's dashboard read the x5f2 envelope fields and the
``status_json`` (a NICOS status code and a service or job message); fields
livedata adds to a message (counters, ledgers) are extra keys they ignore.
"""

from __future__ import annotations

from pydantic import ValidationError
from streaming_data_types.fbschemas.status_x5f2.Status import Status
from streaming_data_types.status_x5f2 import serialise_x5f2

from ess.livedata.protocol import Heartbeat

from ._boundary import bounded, expect_schema, reraise_as_decode_error
from .errors import DecodeError


def encode_x5f2(heartbeat: Heartbeat) -> bytes:
    """Serialise a service or job heartbeat as x5f2."""
    return serialise_x5f2(**heartbeat.x5f2_fields())


def decode_x5f2(payload: bytes) -> Heartbeat:
    """The heartbeat in an x5f2 message.

    Raises
    ------
    DecodeError
        If the payload is not x5f2, is malformed, or its status is not a
        service or job heartbeat of the protocol (e.g. other software's).
    """
    expect_schema(payload, "x5f2")
    with reraise_as_decode_error("x5f2"):
        status = bounded(Status.GetRootAsStatus(payload, 0))
        fields = {
            "software_name": _text(status.SoftwareName()),
            "software_version": _text(status.SoftwareVersion()),
            "service_id": _text(status.ServiceId()),
            "host_name": _text(status.HostName()),
            "process_id": int(status.ProcessId()),
            "update_interval": int(status.UpdateInterval()),
            "status_json": _text(status.StatusJson()),
        }
    try:
        return Heartbeat.from_x5f2_fields(**fields)
    except (ValidationError, ValueError) as err:
        raise DecodeError("invalid x5f2 heartbeat", str(err)[:200]) from err


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value
