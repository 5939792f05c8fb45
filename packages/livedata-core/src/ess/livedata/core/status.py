"""Who a service worker is, in its heartbeats and on its data.

Heartbeats are the facility's (``ess.livedata.protocol.Heartbeat``): a
worker is ``{instrument}:{service}:{worker_id}`` with a worker id drawn at
each process start, so a restarted process is a new worker. Data messages
carry the same id in a header, so readers combine scaled-out workers' parts
and drop a stopped worker's.
"""

from __future__ import annotations

import uuid


def new_worker_id() -> str:
    """A fresh worker id, one per process start."""
    return str(uuid.uuid4())


def worker_service_id(instrument: str, service: str, worker_id: str) -> str:
    """The ``service_id`` of a worker's service heartbeat."""
    return f"{instrument}:{service}:{worker_id}"
