"""Counting the events of a skipped window (back-pressure, see ``max_lag_s``).

Shared by every processor with a ``skip_window``, so that a skipped event is
counted the same way everywhere, and as it would have been counted on
receipt, without histogramming or reducing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ess.livedata.core.message import Message, StreamId, StreamKind

from .ledger import EventLedger

EVENT_KINDS = frozenset(
    {StreamKind.DETECTOR_EVENTS, StreamKind.MONITOR_EVENTS, StreamKind.MONITOR_COUNTS}
)
"""Stream kinds whose messages carry neutron events (logs carry none)."""


def events_in(message: Message[Any]) -> int:
    """Events in one message of an :data:`EVENT_KINDS` stream; a monitor
    spectrum holds as many as its total counts."""
    if message.stream.kind is StreamKind.MONITOR_COUNTS:
        return round(float(message.value.sum().value))
    return int(message.value.size)


def skipped_events(
    messages: Mapping[StreamId, list[Message[Any]]],
    wanted: Callable[[StreamId], bool],
) -> dict[StreamId, int]:
    """Events per stream of a skipped window, for the event streams ``wanted``."""
    return {
        stream: sum(events_in(message) for message in batch)
        for stream, batch in messages.items()
        if stream.kind in EVENT_KINDS and wanted(stream)
    }


def skip_into_ledgers(
    messages: Mapping[StreamId, list[Message[Any]]],
    wanted: Callable[[StreamId], bool],
    ledger: Callable[[str], EventLedger],
) -> int:
    """Count a skipped window's events as ``skipped`` in the ledger of each
    source (by stream name) and return their total."""
    counts = skipped_events(messages, wanted)
    for stream, n in counts.items():
        ledger(stream.name).skip(n)
    return sum(counts.values())
