"""ev44 neutron event messages to and from :class:`EventBatch`.

Decoding is zero-copy: the arrays of the returned batch are read-only numpy
views into the payload (the generated ``...AsNumpy`` accessors wrap it with
``np.frombuffer``), so a message with a million events decodes in tens of
microseconds, and the batch keeps the payload alive.
"""

from __future__ import annotations

import numpy as np
from streaming_data_types.eventdata_ev44 import serialise_ev44
from streaming_data_types.fbschemas.eventdata_ev44.Event44Message import (
    Event44Message,
)

from ess.livedata.core.payloads import EventBatch

from ._boundary import bounded, expect_schema, reraise_as_decode_error
from .errors import DecodeError

_INCONSISTENT = "inconsistent ev44 payload"


def decode_ev44(payload: bytes) -> tuple[str, EventBatch]:
    """Source name and events of an ev44 message.

    Raises
    ------
    DecodeError
        If the payload is not ev44, is malformed, or its pulse index does not
        fit its event arrays.
    """
    expect_schema(payload, "ev44")
    with reraise_as_decode_error("ev44"):
        root = bounded(Event44Message.GetRootAs(payload, 0))
        batch = EventBatch(
            reference_time=_vector(root.ReferenceTimeAsNumpy(), np.int64),
            reference_time_index=_vector(root.ReferenceTimeIndexAsNumpy(), np.int32),
            time_of_arrival=_vector(root.TimeOfFlightAsNumpy(), np.int32),
            pixel_id=_vector(root.PixelIdAsNumpy(), np.int32),
            message_id=root.MessageId(),
        )
        source_name = root.SourceName().decode()
    _check_consistent(batch)
    return source_name, batch


def encode_ev44(source_name: str, batch: EventBatch) -> bytes:
    """Serialise a batch as ev44, as the fake producers and tests need."""
    return serialise_ev44(
        source_name,
        batch.message_id,
        batch.reference_time,
        batch.reference_time_index,
        batch.time_of_arrival,
        batch.pixel_id,
    )


def _vector(value: np.ndarray | int, dtype: type[np.integer]) -> np.ndarray:
    """The generated accessors return the integer 0 for an absent (empty) vector."""
    return value if isinstance(value, np.ndarray) else np.empty(0, dtype=dtype)


def _check_consistent(batch: EventBatch) -> None:
    """Reject batches whose events cannot all be assigned to a pulse."""
    n_events = batch.size
    index = batch.reference_time_index
    if index.size != batch.reference_time.size:
        raise DecodeError(
            _INCONSISTENT,
            f"{batch.reference_time.size} reference times, {index.size} indices",
        )
    if batch.pixel_id.size not in (0, n_events):
        raise DecodeError(
            _INCONSISTENT, f"{batch.pixel_id.size} pixel ids for {n_events} events"
        )
    if n_events and (index.size == 0 or index[0] != 0):
        raise DecodeError(_INCONSISTENT, "events before the first pulse")
    if index.size and (
        index[0] < 0 or index[-1] > n_events or np.any(np.diff(index) < 0)
    ):
        raise DecodeError(
            _INCONSISTENT, f"reference_time_index not sorted within [0, {n_events}]"
        )
