"""Which streams a job may bind to, and resolving the names a command gives."""

from __future__ import annotations

from collections.abc import Sequence

from .instrument import Instrument
from .message import StreamId, StreamKind
from .workflow import WorkflowSpec


def _names(instrument: Instrument, kind: StreamKind) -> list[str]:
    if kind is StreamKind.DETECTOR_EVENTS:
        return [bank.name for bank in instrument.detectors]
    if kind in (StreamKind.MONITOR_EVENTS, StreamKind.MONITOR_COUNTS):
        return [monitor.name for monitor in instrument.monitors]
    if kind is StreamKind.LOG:
        return [log.name for log in instrument.logs]
    return []


def allowed_sources(
    instrument: Instrument, spec: WorkflowSpec
) -> dict[str, list[StreamId]]:
    """Source name -> its streams of the kinds ``spec`` accepts.

    A monitor may stream events and histograms under one name; when the spec
    accepts both kinds, binding the name binds both streams.
    """
    allowed: dict[str, list[StreamId]] = {}
    for kind in spec.source_kinds:
        for name in _names(instrument, kind):
            if not spec.sources or name in spec.sources:
                allowed.setdefault(name, []).append(StreamId(kind, name))
    return allowed


def resolve_sources(
    instrument: Instrument, spec: WorkflowSpec, names: Sequence[str]
) -> tuple[StreamId, ...]:
    """The streams a job of ``spec`` bound to ``names`` reads, in command order.

    Raises
    ------
    ValueError
        A name is not a source this workflow may bind to; says which are.
    """
    allowed = allowed_sources(instrument, spec)
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValueError(
            f"{spec.key} cannot bind {unknown}; allowed sources: "
            f"{', '.join(sorted(allowed)) or 'none'}"
        )
    streams = (stream for name in names for stream in allowed[name])
    return tuple(dict.fromkeys(streams))
