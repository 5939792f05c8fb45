"""The message model every source, handler and sink speaks."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class StreamKind(enum.StrEnum):
    """What a stream carries; decides which handler and decoder apply."""

    DETECTOR_EVENTS = "detector_events"
    MONITOR_EVENTS = "monitor_events"
    MONITOR_COUNTS = "monitor_counts"
    LOG = "log"
    AREA_DETECTOR = "area_detector"
    LIVEDATA_COMMANDS = "livedata_commands"
    LIVEDATA_DATA = "livedata_data"
    LIVEDATA_HEARTBEAT = "livedata_heartbeat"
    LIVEDATA_RESPONSES = "livedata_responses"
    LIVEDATA_NICOS = "livedata_nicos_data"
    LIVEDATA_ROI = "livedata_roi"


@dataclass(frozen=True, slots=True)
class StreamId:
    """Logical identity of a stream: its kind and the instrument's name for it.

    Logical names (``monitor1``, ``panel_0``) stay the same whatever topic or
    facility source name carries the stream, so handlers never see Kafka names.
    """

    kind: StreamKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class Message(Generic[T]):
    """One timestamped value on a logical stream.

    Parameters
    ----------
    timestamp:
        Data time in nanoseconds since the Unix epoch (for events: the pulse's
        reference time), never the time the message was received.
    stream:
        The logical stream the value belongs to.
    value:
        Decoded payload, e.g. :class:`~ess.livedata.core.payloads.EventBatch`.
    """

    timestamp: int
    stream: StreamId
    value: T
