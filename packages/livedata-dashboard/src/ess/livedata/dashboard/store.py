"""The latest results, heartbeats and command responses, shared by all sessions.

One consumer thread writes, many browser sessions read. Everything stored is
immutable, so a reader holds plain references and the lock only guards the
dictionaries, never rendering. Memory is bounded: only the newest value of
each output and service is kept, and old commands are forgotten. Workers of a
scaled-out service publish parts of one output; the store keeps the newest
part of each and shows their combination (:mod:`ess.livedata.core.combine`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

import scipp as sc

from ess.livedata.core.combine import ANONYMOUS, OutputCombiner
from ess.livedata.core.commands import Command, CommandResponse
from ess.livedata.core.status import ServiceStatus

MAX_RESULTS = 10_000
"""Distinct output names kept; the least recently updated go first."""

MAX_COMMANDS = 1_000
"""Commands (with their responses) remembered for display."""


@dataclass(frozen=True, slots=True)
class Result:
    """The newest da00 data array published under ``name``, combined over the
    workers that publish it."""

    name: str
    data: sc.DataArray
    timestamp_ns: int
    received_s: float
    serial: int
    """Increases with every update of any result; lets sessions skip redraws."""


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """One x5f2 status message and when it was sent (producer's clock)."""

    status: ServiceStatus
    sent_s: float


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    """The last two heartbeats of one service instance; rates need both."""

    latest: Heartbeat
    previous: Heartbeat | None = None


@dataclass(frozen=True, slots=True)
class BrokerHealth:
    """Whether the downstream broker answered recently; never asked yet if
    ``checked_s`` is 0."""

    reachable: bool
    checked_s: float
    error: str = ""


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A command sent from this dashboard and what became of it."""

    command: Command
    sent_s: float
    delivery_error: str = ""
    response: CommandResponse | None = None


class LiveStore:
    """Thread-safe latest state of an instrument's livedata topics.

    Parameters
    ----------
    clock:
        Wall-clock seconds, replaceable in tests.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        # Combining sums images: a lock of its own keeps readers unblocked.
        self._combining = threading.Lock()
        self._combiner = OutputCombiner()
        self._results: OrderedDict[str, Result] = OrderedDict()
        self._services: dict[str, ServiceHealth] = {}
        self._commands: OrderedDict[str, CommandRecord] = OrderedDict()
        self._broker = BrokerHealth(reachable=False, checked_s=0.0)
        self._serial = 0

    def now(self) -> float:
        return self._clock()

    def put_result(
        self,
        name: str,
        timestamp_ns: int,
        data: sc.DataArray,
        worker: str = ANONYMOUS,
    ) -> None:
        with self._combining:
            data = self._combiner.add(name, worker, data)
            with self._lock:
                self._serial += 1
                self._results.pop(name, None)
                self._results[name] = Result(
                    name, data, timestamp_ns, self._clock(), self._serial
                )
                while len(self._results) > MAX_RESULTS:
                    self._combiner.forget(self._results.popitem(last=False)[0])

    def put_status(self, status: ServiceStatus, sent_s: float) -> None:
        beat = Heartbeat(status, sent_s)
        with self._combining:
            with self._lock:
                known = self._services.get(status.service_id)
                if known is not None and sent_s < known.latest.sent_s:
                    return  # replayed or reordered: keep the newer one
                previous = known.latest if known is not None else None
                self._services[status.service_id] = ServiceHealth(beat, previous)
            # Only the newest heartbeat decides, so a replayed running one
            # cannot bring back a worker that has stopped since.
            self._combiner.heartbeat(status)

    def put_response(self, response: CommandResponse) -> None:
        """Attach a response to the command it answers, if it came from here."""
        with self._lock:
            record = self._commands.get(response.command_id)
            if record is not None:
                self._commands[response.command_id] = replace(record, response=response)

    def record_command(self, command: Command) -> None:
        with self._lock:
            self._commands[command.command_id] = CommandRecord(command, self._clock())
            while len(self._commands) > MAX_COMMANDS:
                self._commands.popitem(last=False)

    def record_delivery_error(self, command_id: str, error: str) -> None:
        with self._lock:
            record = self._commands.get(command_id)
            if record is not None:
                self._commands[command_id] = replace(record, delivery_error=error)

    def set_broker(self, reachable: bool, error: str = "") -> None:
        with self._lock:
            self._broker = BrokerHealth(reachable, self._clock(), error)

    def result(self, name: str) -> Result | None:
        with self._lock:
            return self._results.get(name)

    def results(self, prefix: str = "") -> dict[str, Result]:
        """Newest result of every output whose name starts with ``prefix``."""
        with self._lock:
            return {k: v for k, v in self._results.items() if k.startswith(prefix)}

    def services(self) -> dict[str, ServiceHealth]:
        """Health of every service instance seen, keyed by service id."""
        with self._lock:
            return dict(self._services)

    def latest_status(self, service: str) -> ServiceStatus | None:
        """Newest heartbeat of any instance of ``service``, e.g. to read its ROIs."""
        with self._lock:
            beats = [
                h.latest
                for h in self._services.values()
                if h.latest.status.service == service
            ]
        return max(beats, key=lambda beat: beat.sent_s).status if beats else None

    def command(self, command_id: str) -> CommandRecord | None:
        with self._lock:
            return self._commands.get(command_id)

    def broker(self) -> BrokerHealth:
        with self._lock:
            return self._broker
