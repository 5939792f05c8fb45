"""The one reader of livedata's own topics: results, heartbeats, responses.

:func:`decode_record` turns a record of a livedata topic into a typed item;
:class:`LivedataView` keeps what a reader shows from a sequence of them: the
newest result per name (scaled-out workers' parts combined by the declared
temporality), the newest heartbeat per service and worker, the responses.
The dashboard feed, the test reader, the demo summary and the benchmark
harness all read through these, so our topics are decoded in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import scipp as sc
from pydantic import ValidationError

from ess.livedata.core.combine import ANONYMOUS, OutputCombiner
from ess.livedata.core.commands import CommandResponse
from ess.livedata.core.message import StreamKind
from ess.livedata.core.status import ServiceStatus
from ess.livedata.protocol import CONTRACTS, ServiceDetails, ServiceName

from .schemas.da00 import decode_da00
from .schemas.errors import DecodeError
from .schemas.x5f2 import decode_x5f2
from .worker_header import worker_of


@dataclass(frozen=True, slots=True)
class Result:
    """One published part of a result, as the worker that produced it sent it."""

    name: str
    timestamp_ns: int
    data: sc.DataArray
    worker: str = ANONYMOUS


Record = Result | ServiceStatus | CommandResponse
"""What a record of a livedata topic decodes to."""

_SUFFIX_KIND = {
    "_livedata_data": StreamKind.LIVEDATA_DATA,
    "_livedata_status": StreamKind.LIVEDATA_STATUS,
    "_livedata_responses": StreamKind.LIVEDATA_RESPONSES,
}


def kind_of_topic(topic: str) -> StreamKind | None:
    """Which of our topics ``topic`` is (by its suffix), or None."""
    for suffix, kind in _SUFFIX_KIND.items():
        if topic.endswith(suffix):
            return kind
    return None


def decode_record(
    kind: StreamKind,
    payload: bytes,
    headers: Sequence[tuple[str, bytes | None]] | None = None,
) -> Record:
    """Decode one record of our ``kind`` of topic.

    Raises
    ------
    DecodeError
        The payload is not what its topic carries.
    """
    if kind is StreamKind.LIVEDATA_DATA:
        name, timestamp_ns, data = decode_da00(payload)
        return Result(name, timestamp_ns, data, worker_of(headers))
    if kind is StreamKind.LIVEDATA_STATUS:
        return decode_x5f2(payload)
    if kind is StreamKind.LIVEDATA_RESPONSES:
        try:
            return CommandResponse.model_validate_json(payload)
        except ValidationError as error:
            raise DecodeError(
                "invalid command response", f"{error.error_count()} errors"
            ) from None
    raise DecodeError("not a livedata topic", str(kind))


@dataclass
class LivedataView:
    """What readers of our topics show, built from decoded records.

    Not thread-safe: a reader that adds from one thread and reads from
    another holds a lock.
    """

    results: dict[str, list[Result]] = field(default_factory=dict)
    """Every part received per name, in arrival order (tests inspect them)."""
    statuses: list[ServiceStatus] = field(default_factory=list)
    responses: list[CommandResponse] = field(default_factory=list)
    keep_parts: bool = True
    """False keeps only the combined newest result per name (long runs)."""

    def __post_init__(self) -> None:
        self._combiner = OutputCombiner()
        self._latest: dict[str, sc.DataArray] = {}
        self._workers: dict[str, ServiceStatus] = {}
        self._newest: dict[str, ServiceStatus] = {}

    def add(self, record: Record) -> None:
        if isinstance(record, Result):
            if self.keep_parts:
                self.results.setdefault(record.name, []).append(record)
            combined = self._combiner.add(record.name, record.worker, record.data)
            self._latest[record.name] = combined
        elif isinstance(record, ServiceStatus):
            self._combiner.heartbeat(record)
            self._workers[record.service_id] = record
            self._newest[record.service] = record
            if self.keep_parts:
                self.statuses.append(record)
        else:
            self.responses.append(record)

    def latest(self, name: str) -> sc.DataArray | None:
        """The newest result of ``name``, workers' parts combined."""
        return self._latest.get(name)

    def names(self) -> list[str]:
        return sorted(self._latest)

    def workers(self, service: str) -> list[ServiceStatus]:
        """The newest heartbeat of each worker of ``service``."""
        return [s for s in self._workers.values() if s.service == service]

    def latest_status(self, service: str) -> ServiceStatus | None:
        """The heartbeat of ``service`` that arrived last, from any worker."""
        return self._newest.get(service)

    def details(self, service: ServiceName) -> ServiceDetails | None:
        """The typed status details of ``service``'s newest heartbeat."""
        status = self.latest_status(service)
        if status is None:
            return None
        return CONTRACTS[service].parse_status(status.details)
