"""x5f2 status messages to and from :class:`ServiceStatus`.

The x5f2 header fields are filled from the status for generic ESS tooling
(software_name is the service name, service_id its instance id); the whole
status travels as JSON in ``status_json``, the only field decoding reads.
"""

from __future__ import annotations

from pydantic import ValidationError
from streaming_data_types.fbschemas.status_x5f2.Status import Status
from streaming_data_types.status_x5f2 import serialise_x5f2

from ess.livedata.core.status import ServiceStatus

from ._boundary import bounded, expect_schema, reraise_as_decode_error
from .errors import DecodeError


def encode_x5f2(status: ServiceStatus) -> bytes:
    """Serialise a service heartbeat as x5f2."""
    return serialise_x5f2(
        software_name=status.service,
        software_version=status.version,
        service_id=status.service_id,
        host_name=status.host,
        process_id=status.pid,
        update_interval=status.update_interval_ms,
        status_json=status.model_dump_json(),
    )


def decode_x5f2(payload: bytes) -> ServiceStatus:
    """The ServiceStatus in an x5f2 message's ``status_json``.

    Raises
    ------
    DecodeError
        If the payload is not x5f2, is malformed, or its JSON is not a valid
        ServiceStatus (for example a heartbeat of non-livedata software).
    """
    expect_schema(payload, "x5f2")
    with reraise_as_decode_error("x5f2"):
        status_json = bounded(Status.GetRootAsStatus(payload, 0)).StatusJson()
    try:
        return ServiceStatus.model_validate_json(status_json)
    except ValidationError as err:
        raise DecodeError(
            "invalid x5f2 status", f"{err.error_count()} validation errors"
        ) from err
