"""The processing loop: source -> data-time windows -> service logic -> sink.

The loop owns everything a service should not have to re-implement:
windowing, queueing commands until the next window, heartbeats and counters.
A service plugs in as a :class:`WindowProcessor`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from ess.livedata.protocol import (
    Heartbeat,
    JobMessage,
    JobState,
    ServiceDetails,
    ServiceMessage,
    ServiceState,
    StreamStats,
)

from .message import Message, StreamId, StreamKind
from .status import new_worker_id
from .window import TimeWindow, WindowClock

logger = logging.getLogger(__name__)


class MessageSource(Protocol):
    """Delivers decoded messages; bad input is counted, never raised."""

    def get_messages(self) -> Sequence[Message[Any]]: ...

    def counters(self) -> Mapping[str, int]:
        """Monotonic totals such as messages received and rejected."""
        ...


class MessageSink(Protocol):
    """Publishes outputs (data, status, responses)."""

    def publish_messages(self, messages: Sequence[Message[Any]]) -> None: ...


class WindowProcessor(Protocol):
    """Service logic driven by the loop.

    ``process_window`` gets every data message of one closed window grouped
    by stream and returns the outputs to publish. ``handle_command`` runs
    between windows, so a command applies from the next window on.
    """

    def process_window(
        self, window: TimeWindow, messages: Mapping[StreamId, list[Message[Any]]]
    ) -> list[Message[Any]]: ...

    def handle_command(self, command: Message[Any]) -> list[Message[Any]]: ...

    def status_details(self) -> ServiceDetails:
        """The service's model of its status (see ``protocol.contracts``)."""
        ...


class JobHoldingProcessor(WindowProcessor, Protocol):
    """A processor running jobs: each heartbeat round reports every job."""

    def job_heartbeats(self) -> list[JobMessage]:
        """One message per job held, and a last one for each job that ended."""
        ...


class SkippingProcessor(WindowProcessor, Protocol):
    """A processor that can skip windows cheaply when the service falls behind.

    ``skip_window`` gets a window the loop will not process because its data
    is older than the loop's ``max_lag_s``. It must account for every event in
    ``messages`` exactly (e.g. in the counts ledger as ``skipped``) without the
    expensive work (no histogramming, no outputs), and return how many events
    it skipped. Processors without it process every window, however late.
    """

    def skip_window(
        self, window: TimeWindow, messages: Mapping[StreamId, list[Message[Any]]]
    ) -> int: ...


class ProcessingLoop:
    """Runs a :class:`WindowProcessor` between a source and a sink.

    Parameters
    ----------
    service, instrument:
        Names reported in heartbeats.
    worker_id:
        This process's id among the service's workers (a new one by default);
        data messages carry it too (see :mod:`.status`).
    heartbeat_interval_s:
        Wall-clock period of status messages.
    max_lag_s:
        Back-pressure threshold: a window that closes more than this many
        seconds (wall time) after its end is skipped, not processed, if the
        processor has ``skip_window`` (see :class:`SkippingProcessor`), so a
        service that fell behind jumps back to live data instead of drifting.
        Skipped windows and events are counted (``windows_skipped``,
        ``events_skipped``). ``None`` never skips.
    stream_stats:
        Takes the messages per upstream (topic, source name) since the last
        heartbeat, reported as the facility's ``stream_stats``.
    """

    def __init__(
        self,
        *,
        service: str,
        instrument: str,
        source: MessageSource,
        sink: MessageSink,
        processor: WindowProcessor,
        clock: WindowClock,
        heartbeat_interval_s: float = 2.0,
        version: str = "",
        monotonic: Callable[[], float] = time.monotonic,
        max_lag_s: float | None = None,
        worker_id: str | None = None,
        stream_stats: Callable[[], StreamStats] | None = None,
    ) -> None:
        self._source = source
        self._stream_stats = stream_stats
        self._sink = sink
        self._processor = processor
        self._clock = clock
        self._monotonic = monotonic
        self._heartbeat_interval_s = heartbeat_interval_s
        self._last_heartbeat: float | None = None
        self._pending: dict[int, dict[StreamId, list[Message[Any]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self._commands: list[Message[Any]] = []
        self._counters: dict[str, int] = defaultdict(int)
        # Present from the first heartbeat on, so that 0 reads as "none skipped".
        self._counters["windows_skipped"] = 0
        self._counters["events_skipped"] = 0
        self._max_lag_s = max_lag_s
        self._skip_window = getattr(processor, "skip_window", None)
        self._skipping_since: tuple[int, int] | None = None
        self._last_skipped_lag_s: float | None = None
        self._late_offset_s: float | None = None
        self._stop = threading.Event()
        self._job_heartbeats = getattr(processor, "job_heartbeats", None)
        self._version = version
        self._service = ServiceMessage(
            instrument=instrument,
            service_name=service,
            worker_id=worker_id or new_worker_id(),
            state=ServiceState.STARTING,
            started_at=time.time_ns(),
            active_job_count=0,
            batch_interval_s=clock.length_ns / 1e9,
        )

    def stop(self) -> None:
        """Ask :meth:`run` to return after the current step (thread-safe)."""
        self._stop.set()

    def run(self) -> None:
        """Step until :meth:`stop`; publishes a final status on the way out."""
        self._set_state(ServiceState.RUNNING)
        try:
            while not self._stop.is_set():
                self.step()
        finally:
            self._set_state(ServiceState.STOPPED)

    @property
    def service_id(self) -> str:
        """This worker's id in heartbeats and data headers."""
        return self._service.service_id

    def _set_state(self, state: ServiceState) -> None:
        self._service = self._service.model_copy(update={"state": state})
        self._publish_heartbeat()

    def step(self) -> None:
        """Poll once, close ready windows, apply commands, maybe heartbeat."""
        for message in self._source.get_messages():
            self._accept(message)
        for index in self._clock.closable():
            self._close_window(index)
            self._apply_commands()
        if not self._pending:
            # No window open: commands need not wait for one.
            self._apply_commands()
        now = self._monotonic()
        due = self._last_heartbeat is None or (
            now - self._last_heartbeat >= self._heartbeat_interval_s
        )
        if due:
            self._publish_heartbeat()

    def _accept(self, message: Message[Any]) -> None:
        self._counters["messages_received"] += 1
        if message.stream.kind in _COMMAND_KINDS:
            self._commands.append(message)
            return
        index = self._clock.assign(message.stream, message.timestamp)
        self._pending[index][message.stream].append(message)

    def _close_window(self, index: int) -> None:
        window = self._clock.close(index)
        messages = self._pending.pop(index, {})
        self._counters["windows_closed"] += 1
        lag_s = (self._clock.wall_clock_ns() - window.end) / 1e9
        if self._should_skip(window, lag_s):
            self._skip(window, messages, lag_s)
            return
        if self._skipping_since is not None:
            windows, events = (
                self._counters["windows_skipped"] - self._skipping_since[0],
                self._counters["events_skipped"] - self._skipping_since[1],
            )
            logger.warning(
                "caught up: skipped %d windows with %d events; processing again",
                windows,
                events,
            )
            self._skipping_since = None
        outputs = self._processor.process_window(window, messages)
        self._publish(outputs)

    def _should_skip(self, window: TimeWindow, lag_s: float) -> bool:
        """Late by more than ``max_lag_s``, and skipping catches up.

        Lag is wall clock minus data time, so a producer clock that is off by
        a constant looks like lag too. Skipping helps only when the data is
        a backlog, read faster than real time: then the lag of successive
        skipped windows drops (by about a window each). If it does not, the
        service keeps pace with data that is late by a constant offset: it
        processes, and skips again only if the lag grows by ``max_lag_s``
        beyond that offset. The pace shows only while newer data keeps
        coming: the last window of a backlog closes by timeout, and is
        skipped like the rest.
        """
        if self._skip_window is None or self._max_lag_s is None:
            return False
        if lag_s <= self._max_lag_s:
            self._late_offset_s = None
            return False
        if self._late_offset_s is not None:
            return lag_s > self._late_offset_s + self._max_lag_s
        previous, self._last_skipped_lag_s = self._last_skipped_lag_s, lag_s
        if self._skipping_since is None or previous is None:
            return True
        if lag_s < previous - (window.end - window.start) / 2e9:
            return True
        if not self._pending:
            # Closed by timeout, no newer data: the end of a backlog, not a
            # stream arriving late at real-time pace.
            return True
        self._late_offset_s = lag_s
        logger.warning(
            "data arrives %.1f s behind the wall clock but at real-time pace:"
            " a producer clock offset or an upstream delay; processing it,"
            " skipping only if it falls %s s further behind",
            lag_s,
            self._max_lag_s,
        )
        return False

    def _skip(
        self,
        window: TimeWindow,
        messages: Mapping[StreamId, list[Message[Any]]],
        lag_s: float,
    ) -> None:
        if self._skipping_since is None:
            self._skipping_since = (
                self._counters["windows_skipped"],
                self._counters["events_skipped"],
            )
            logger.warning(
                "falling behind: data %.1f s old (max_lag_s %s); skipping windows"
                " until caught up",
                lag_s,
                self._max_lag_s,
            )
        assert self._skip_window is not None
        self._counters["events_skipped"] += self._skip_window(window, messages)
        self._counters["windows_skipped"] += 1

    def _apply_commands(self) -> None:
        commands, self._commands = self._commands, []
        for command in commands:
            self._counters["commands_received"] += 1
            self._publish(self._processor.handle_command(command))

    def _publish(self, messages: Sequence[Message[Any]]) -> None:
        if not messages:
            return
        self._sink.publish_messages(messages)
        self._counters["messages_published"] += len(messages)

    def current_status(
        self, active_jobs: int = 0, stream_stats: StreamStats | None = None
    ) -> ServiceMessage:
        """The service heartbeat's message as of now.

        The facility's fields, plus livedata's as extra keys (ignored by the
        facility's readers): the processor's typed status details with the
        loop's own filled in, ``counters`` (monotonic totals, so readers
        derive rates from two heartbeats) and ``version``.
        """
        counters = dict(self._counters)
        counters.update(self._source.counters())
        counters["late_messages"] = self._clock.late_messages
        details: dict[str, Any] = self._processor.status_details().model_dump(
            mode="json"
        )
        details |= {
            "data_lag_s": self._clock.data_lag_s(),
            "clock_suspect_streams": self._clock.suspect_streams(),
            "open_windows": len(self._pending),
            # The threshold in effect: none for a processor that never skips.
            "max_lag_s": self._max_lag_s if self._skip_window is not None else None,
            "skipping": self._skipping_since is not None,
        }
        fields = self._service.model_dump() | {
            "active_job_count": active_jobs,
            "stream_stats": stream_stats,
        }
        return ServiceMessage.model_validate(
            fields | details | {"counters": counters, "version": self._version}
        )

    def _publish_heartbeat(self) -> None:
        """One heartbeat per job, then the service's own (PROTOCOL.md 6).

        The last round, as the service stops, reports every job stopped too:
        readers must not take a job of a stopped service for a running one.
        """
        self._last_heartbeat = self._monotonic()
        jobs = self._job_heartbeats() if self._job_heartbeats is not None else []
        if self._service.state is ServiceState.STOPPED:
            jobs = [job.model_copy(update={"state": JobState.STOPPED}) for job in jobs]
        active = sum(1 for job in jobs if job.state is not JobState.STOPPED)
        now = time.time_ns()
        stats = self._stream_stats() if self._stream_stats is not None else None
        status = self.current_status(active, stats)
        beats = [self._heartbeat(m) for m in (*jobs, status)]
        stream = StreamId(StreamKind.LIVEDATA_HEARTBEAT, self._service.service_name)
        self._sink.publish_messages([Message(now, stream, beat) for beat in beats])

    def _heartbeat(self, message: ServiceMessage | JobMessage) -> Heartbeat:
        return Heartbeat.of(
            message,
            software_version=self._version,
            host_name=_HOST,
            process_id=os.getpid(),
        )


_COMMAND_KINDS = (StreamKind.LIVEDATA_COMMANDS, StreamKind.LIVEDATA_ROI)
"""Applied between windows, in arrival order."""
_HOST = socket.gethostname()
