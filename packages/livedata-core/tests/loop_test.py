from collections.abc import Mapping

from ess.livedata.core.loop import ProcessingLoop
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.window import TimeWindow, WindowClock
from ess.livedata.protocol import (
    Heartbeat,
    JobId,
    JobMessage,
    JobState,
    ServiceDetails,
    ServiceMessage,
    ServiceState,
    StreamStat,
    StreamStats,
)


class SumDetails(ServiceDetails):
    factor: float


SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND
MON = StreamId(StreamKind.MONITOR_EVENTS, "m1")
CMD = StreamId(StreamKind.LIVEDATA_COMMANDS, "")


class ListSource:
    def __init__(self) -> None:
        self.queue: list[Message] = []

    def get_messages(self):
        out, self.queue = self.queue, []
        return out

    def counters(self) -> Mapping[str, int]:
        return {"rejected": 3}


class ListSink:
    def __init__(self) -> None:
        self.published: list[Message] = []

    def publish_messages(self, messages):
        self.published.extend(messages)

    def of_kind(self, kind):
        return [m for m in self.published if m.stream.kind is kind]


class SumProcessor:
    """Publishes the sum of values per window, scaled by a commanded factor."""

    def __init__(self) -> None:
        self.factor = 1
        self.windows: list[TimeWindow] = []

    def process_window(self, window, messages):
        self.windows.append(window)
        total = sum(m.value for msgs in messages.values() for m in msgs)
        out = StreamId(StreamKind.LIVEDATA_DATA, "sum")
        return [Message(window.start, out, total * self.factor)]

    def handle_command(self, command):
        self.factor = command.value
        out = StreamId(StreamKind.LIVEDATA_RESPONSES, "")
        return [Message(command.timestamp, out, "accepted")]

    def status_details(self):
        return SumDetails(factor=self.factor)


def build_loop(processor, elapsed_s=(0.0,), **options):
    """A loop over list source and sink, with a wall clock the test moves;
    ``elapsed_s[0]`` is the window clock's monotonic time (for close timeouts)."""
    source, sink = ListSource(), ListSink()
    wall = [T0]
    clock = WindowClock(
        length_ns=SECOND,
        max_skew_ns=600 * SECOND,
        wall_clock_ns=lambda: wall[0],
        monotonic=lambda: elapsed_s[0],
    )
    loop = ProcessingLoop(
        service="test",
        instrument="dummy",
        source=source,
        sink=sink,
        processor=processor,
        clock=clock,
        heartbeat_interval_s=1e9,
        monotonic=lambda: 0.0,
        **options,
    )
    return loop, source, sink, wall


def make_loop():
    processor = SumProcessor()
    loop, source, sink, _ = build_loop(processor)
    return loop, source, sink, processor


def data(sink):
    return [m.value for m in sink.of_kind(StreamKind.LIVEDATA_DATA)]


def test_window_publishes_when_next_window_data_arrives():
    loop, source, sink, _ = make_loop()
    source.queue = [Message(T0 + i, MON, 1) for i in range(5)]
    loop.step()
    assert data(sink) == []
    source.queue = [Message(T0 + SECOND, MON, 10)]
    loop.step()
    assert data(sink) == [5]


def test_command_applies_from_next_window_and_gets_response():
    loop, source, sink, _ = make_loop()
    source.queue = [Message(T0, MON, 1), Message(T0 + 5, CMD, 100)]
    loop.step()
    source.queue = [Message(T0 + SECOND, MON, 2)]
    loop.step()
    source.queue = [Message(T0 + 2 * SECOND, MON, 3)]
    loop.step()
    assert data(sink) == [1, 200]
    responses = sink.of_kind(StreamKind.LIVEDATA_RESPONSES)
    assert [r.value for r in responses] == ["accepted"]


def test_heartbeat_carries_counters_and_processor_details():
    loop, source, sink, _ = make_loop()
    source.queue = [Message(T0, MON, 1)]
    loop.step()
    [beat] = sink.of_kind(StreamKind.LIVEDATA_HEARTBEAT)
    assert isinstance(beat.value, Heartbeat)
    status = beat.value.status.message
    assert isinstance(status, ServiceMessage)
    assert beat.value.service_id == loop.service_id == status.service_id
    assert status.service_name == "test"
    assert status.instrument == "dummy"
    extra = status.model_extra or {}
    assert extra["counters"]["messages_received"] == 1
    assert extra["counters"]["rejected"] == 3
    # The processor's and the loop's fields read back as its typed details.
    details = SumDetails.model_validate(extra)
    assert details.factor == 1
    assert details.open_windows == extra["open_windows"]
    # The x5f2 status code NICOS reads: not yet running is DISABLED (235).
    assert status.state is ServiceState.STARTING
    assert beat.value.status.status == 235


def test_heartbeat_carries_the_stream_stats_taken_for_it():
    stats = StreamStats(
        window_seconds=2.0,
        streams=[StreamStat(topic="t", source_name="s", stream="monitor1", count=3)],
    )
    taken = []
    loop, _, sink, _ = build_loop(
        SumProcessor(), stream_stats=lambda: taken.append(1) or stats
    )
    loop.step()
    [beat] = sink.of_kind(StreamKind.LIVEDATA_HEARTBEAT)
    assert beat.value.status.message.stream_stats == stats
    assert taken == [1]  # once per heartbeat: counts since the last one


def test_run_reports_running_then_stopped():
    loop, _, sink, _ = make_loop()
    loop.stop()
    loop.run()
    beats = [m.value.status for m in sink.of_kind(StreamKind.LIVEDATA_HEARTBEAT)]
    assert [b.message.state for b in beats] == [
        ServiceState.RUNNING,
        ServiceState.STOPPED,
    ]
    assert [b.status for b in beats] == [200, 235]


class JobsProcessor(SumProcessor):
    """Holds one job, as a job-protocol processor does."""

    JOB = JobMessage(
        state=JobState.ACTIVE,
        job_id=JobId(source_name="mon", job_number="n"),
        workflow_id="test/sum/1",
    )

    def job_heartbeats(self):
        return [self.JOB]


def test_job_heartbeats_come_before_the_service_heartbeat():
    loop, source, sink, _ = build_loop(JobsProcessor())
    source.queue = [Message(T0, MON, 1)]
    loop.step()
    beats = [m.value for m in sink.of_kind(StreamKind.LIVEDATA_HEARTBEAT)]
    assert [b.status.message for b in beats[:1]] == [JobsProcessor.JOB]
    assert beats[0].service_id == "mon:n"
    service = beats[1].status.message
    assert isinstance(service, ServiceMessage)
    assert service.active_job_count == 1


def test_last_round_reports_every_job_stopped():
    loop, _, sink, _ = build_loop(JobsProcessor())
    loop.stop()
    loop.run()
    beats = [m.value.status for m in sink.of_kind(StreamKind.LIVEDATA_HEARTBEAT)]
    jobs = [b.message for b in beats if isinstance(b.message, JobMessage)]
    assert [job.state for job in jobs] == [JobState.ACTIVE, JobState.STOPPED]
    assert [job.job_id for job in jobs] == [JobsProcessor.JOB.job_id] * 2
    service = beats[-1]
    assert service.message.state is ServiceState.STOPPED
    assert service.message.active_job_count == 0
