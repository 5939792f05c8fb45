"""Earlier code of the per-message path, to measure changes in the same run.

``per_message.py`` times these next to the current code and
``service_main.py`` patches them into a service (``"patches"``), because on
this shared machine only numbers from the same run compare. Each is the code
as it was before the change named, not a maintained alternative.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import numpy as np
from streaming_data_types.fbschemas.eventdata_ev44.Event44Message import (
    Event44Message,
)

import ess.livedata.kafka.decoders as decoders
import ess.livedata.processing.service as service
from ess.livedata.core.payloads import EventBatch
from ess.livedata.kafka.schemas._boundary import (
    bounded,
    expect_schema,
    reraise_as_decode_error,
)
from ess.livedata.kafka.schemas.errors import DecodeError
from ess.livedata.kafka.source import ConsumerLike, Decoder, KafkaSource


def generated_decode_ev44(payload: bytes) -> tuple[str, EventBatch]:
    """``decode_ev44`` through the generated FlatBuffers accessors (9b7c8df)."""
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


def _vector(value: np.ndarray | int, dtype: type[np.integer]) -> np.ndarray:
    return value if isinstance(value, np.ndarray) else np.empty(0, dtype=dtype)


def _check_consistent(batch: EventBatch) -> None:
    n_events = batch.size
    index = batch.reference_time_index
    inconsistent = "inconsistent ev44 payload"
    if index.size != batch.reference_time.size:
        raise DecodeError(inconsistent, "reference times and indices differ")
    if batch.pixel_id.size not in (0, n_events):
        raise DecodeError(inconsistent, "pixel ids and events differ")
    if n_events and (index.size == 0 or index[0] != 0):
        raise DecodeError(inconsistent, "events before the first pulse")
    if index.size and (
        index[0] < 0 or index[-1] > n_events or np.any(np.diff(index) < 0)
    ):
        raise DecodeError(inconsistent, "reference_time_index not sorted")


def blocking_commands(
    data: ConsumerLike, commands: ConsumerLike, decoder: Decoder
) -> service.MergedSource:
    """``data_and_commands`` when the command source waited too (9b7c8df)."""
    return service.MergedSource(
        [KafkaSource(data, decoder), KafkaSource(commands, decoder)]
    )


def _set(owner: Any, name: str, value: Any) -> Callable[[], None]:
    previous = getattr(owner, name)
    setattr(owner, name, value)
    return lambda: setattr(owner, name, previous)


#: Patch name -> what it replaces; each returns the undo.
PATCHES: dict[str, Callable[[], Callable[[], None]]] = {
    "generated_ev44": lambda: _set(decoders, "decode_ev44", generated_decode_ev44),
    "streams_unremembered": lambda: _set(
        decoders.UpstreamDecoder, "_MAX_REMEMBERED", 0
    ),
    "commands_blocking": lambda: _set(service, "data_and_commands", blocking_commands),
}


@contextmanager
def patched(names: list[str]) -> Iterator[None]:
    """The code as it was before the named changes, for the ``with`` block."""
    with ExitStack() as stack:
        for name in names:
            stack.callback(PATCHES[name]())
        yield
