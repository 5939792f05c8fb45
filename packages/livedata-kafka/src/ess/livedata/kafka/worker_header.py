"""The Kafka header naming the worker that produced a livedata data message.

Workers of a scaled-out service publish parts of one result under one name;
readers need to tell the parts apart to combine them
(:mod:`ess.livedata.core.combine`). A header leaves names and payloads as
they are, so readers that ignore it see what they always saw.
"""

from __future__ import annotations

from collections.abc import Sequence

from ess.livedata.core.combine import ANONYMOUS

WORKER_HEADER = "livedata-worker"


def worker_headers(worker: str) -> list[tuple[str, bytes]]:
    """Headers for a message produced by ``worker`` (a heartbeat's ``service_id``)."""
    return [(WORKER_HEADER, worker.encode())] if worker else []


def worker_of(headers: Sequence[tuple[str, bytes | None]] | None) -> str:
    """The producing worker, or :data:`ANONYMOUS` for messages without the header."""
    for key, value in headers or ():
        if key == WORKER_HEADER and value:
            return value.decode(errors="replace")
    return ANONYMOUS
