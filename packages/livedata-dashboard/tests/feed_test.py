import socket
import time
import uuid
from pathlib import Path

import pytest
import scipp as sc
from confluent_kafka import Producer

from ess.livedata.dashboard.feed import BACKLOG, KafkaFeed, apply_record
from ess.livedata.dashboard.responses import Outcome
from ess.livedata.dashboard.store import LiveStore
from ess.livedata.kafka.clients import ensure_topics
from ess.livedata.kafka.livedata_topics import LivedataTopic as Topic
from ess.livedata.kafka.schemas.da00 import encode_da00
from ess.livedata.kafka.schemas.errors import DecodeError
from ess.livedata.kafka.schemas.x5f2 import encode_x5f2
from ess.livedata.kafka.settings import KafkaSettings
from ess.livedata.kafka.worker_header import worker_headers
from ess.livedata.protocol import JobState, WorkflowId
from ess.livedata.testing.messages import (
    MONITOR_HISTOGRAM,
    heartbeat,
    job_beat,
    job_id,
    key,
    service_beat,
)

CORPUS = Path(__file__).parents[2] / "livedata-protocol" / "tests" / "corpus"
"""The facility's recorded messages (see SOURCE.md there)."""


def x5f2(message) -> bytes:
    return encode_x5f2(heartbeat(message))


def test_result_key_da00_becomes_the_current_jobs_result(store, clock):
    job = job_id()
    store.put_job(job_beat(job), clock.now)
    data = sc.DataArray(
        sc.array(dims=["toa"], values=[1.0, 2.0], unit="counts"),
        coords={"toa": sc.linspace("toa", 0.0, 2.0, 3, unit="ms")},
    )
    payload = encode_da00(key(job).to_source_name(), 123, data)
    apply_record(store, Topic.DATA, payload, 0)
    result = store.result(MONITOR_HISTOGRAM, "monitor1", "current")
    assert result.timestamp_ns == 123
    assert sc.identical(result.data.data, data.data)


def test_heartbeats_are_told_apart_and_sent_at_the_record_time(store, clock):
    sent_ms = int(clock.now * 1000) - 500
    apply_record(store, Topic.HEARTBEAT, x5f2(service_beat()), sent_ms)
    apply_record(store, Topic.HEARTBEAT, x5f2(job_beat(job_id())), sent_ms)
    (health,) = store.services().values()
    assert health.latest.sent_s == clock.now - 0.5
    assert health.latest.status == service_beat()
    assert store.jobs.current(MONITOR_HISTOGRAM, "monitor1") == job_id()


def test_the_facilitys_recorded_messages_reach_the_store(store, clock):
    """Every data, heartbeat and response message of the corpus decodes; its
    job heartbeats are adopted and its results found by key."""
    for topic in BACKLOG:
        for path in sorted((CORPUS / topic.value).glob("*.bin")):
            apply_record(store, topic, path.read_bytes(), int(clock.now * 1000))
    panel = WorkflowId(instrument="dummy", name="panel_0_xy", version=1)
    timeseries = WorkflowId(instrument="dummy", name="timeseries_data", version=1)
    states = {(r.workflow, r.job_id.source_name): r.state for r in store.jobs.rows()}
    assert states[(panel, "panel_0")] is JobState.ACTIVE
    assert states[(timeseries, "motion1")] is JobState.STOPPED
    services = {h.latest.status.service_name for h in store.services().values()}
    assert services == {"monitor_data", "detector_data", "timeseries", "data_reduction"}
    # Adopted while active, so the results of that job number show.
    job = store.jobs.current(panel, "panel_0")
    assert job.job_number == "2e3d5368-9f3c-4514-81ca-02e723dddc73"
    assert store.result(panel, "panel_0", "roi_rectangle") is not None
    assert store.result(MONITOR_HISTOGRAM, "monitor1", "cumulative") is not None


def test_responses_count_towards_the_command_they_answer(store, clock):
    store.responses.sent("m", "start", expected=1)
    payload = b'{"message_id":"m","device":"monitor1","response":"ACK","message":null}'
    apply_record(store, Topic.RESPONSES, payload, 0)
    assert store.responses.get("m").outcome(clock.now) is Outcome.ACCEPTED


@pytest.mark.parametrize("topic", list(BACKLOG))
def test_garbage_is_a_decode_error(store, topic):
    with pytest.raises(DecodeError):
        apply_record(store, topic, b"\x00garbage{", 0)


def test_a_da00_not_named_by_a_result_key_is_a_decode_error(store):
    data = sc.DataArray(sc.array(dims=["x"], values=[1.0], unit="counts"))
    with pytest.raises(DecodeError, match="result key"):
        apply_record(store, Topic.DATA, encode_da00("monitor1/current", 1, data), 0)


@pytest.fixture
def instrument_topics(kafka_broker) -> tuple[str, KafkaSettings]:
    """A made-up instrument whose livedata topics exist only for this test."""
    instrument = f"feed{uuid.uuid4().hex[:8]}"
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap_servers)
    topics = [topic.of(instrument) for topic in BACKLOG]
    ensure_topics(settings, topics)
    return instrument, settings


def wait_until(condition, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_feed_replays_recent_results_then_follows_live(instrument_topics):
    instrument, settings = instrument_topics
    producer = Producer(settings.client_config())
    job = job_id()
    name = key(job, "cumulative").to_source_name()

    def publish(total: float) -> None:
        data = sc.DataArray(sc.array(dims=["toa"], values=[total], unit="counts"))
        producer.produce(Topic.DATA.of(instrument), encode_da00(name, 1, data))
        producer.flush(10)

    def value() -> float | None:
        result = store.result(MONITOR_HISTOGRAM, "monitor1", "cumulative")
        return None if result is None else result.data.values[0]

    # Before the dashboard: a result and its job's heartbeat, replayed on start.
    publish(1.0)
    producer.produce(Topic.HEARTBEAT.of(instrument), x5f2(job_beat(job)))
    store = LiveStore()
    feed = KafkaFeed(settings, instrument, store)
    feed.start()
    try:
        wait_until(lambda: store.broker().reachable, "the broker probe")
        wait_until(lambda: value() == 1.0, "the replay")
        publish(2.0)
        producer.produce(Topic.HEARTBEAT.of(instrument), x5f2(service_beat()))
        producer.produce(Topic.DATA.of(instrument), b"not da00")  # skipped
        producer.flush(10)
        wait_until(lambda: value() == 2.0, "the live update")
        wait_until(lambda: store.latest_service("monitor_data"), "the heartbeat")
        stopped = job_beat(job, JobState.STOPPED)
        producer.produce(Topic.HEARTBEAT.of(instrument), x5f2(stopped))
        producer.flush(10)
        wait_until(
            lambda: store.jobs.rows()[0].state is JobState.STOPPED, "the job stopping"
        )
    finally:
        feed.stop()


def test_unreachable_broker_is_reported():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = LiveStore()
    feed = KafkaFeed(KafkaSettings(f"127.0.0.1:{port}"), "dummy", store)
    feed.start()
    try:
        broker = wait_until(
            lambda: (b := store.broker()).checked_s and b, "the broker probe"
        )
        assert not broker.reachable
        assert broker.error
    finally:
        feed.stop()


def test_feed_combines_the_parts_workers_tag_with_their_id(instrument_topics):
    instrument, settings = instrument_topics
    producer = Producer(settings.client_config())
    job = job_id("panel_0")
    panel = WorkflowId(instrument="dummy", name="panel_0_xy", version=1)
    name = key(job, "cumulative", panel).to_source_name()
    producer.produce(
        Topic.HEARTBEAT.of(instrument), x5f2(job_beat(job, workflow=panel))
    )
    workers = ("dummy:detector_data:a", "dummy:detector_data:b")
    for worker, counts in zip(workers, (1.0, 10.0), strict=True):
        data = sc.DataArray(
            sc.array(dims=["x"], values=[counts], unit="counts"),
            coords={
                "start_time": sc.datetime(0, unit="ns"),
                "end_time": sc.datetime(1, unit="ns"),
            },
        )
        producer.produce(
            Topic.DATA.of(instrument),
            encode_da00(name, 1, data),
            headers=worker_headers(worker),
        )
    producer.flush(10)
    store = LiveStore()
    feed = KafkaFeed(settings, instrument, store)
    feed.start()
    try:
        wait_until(
            lambda: (
                (r := store.result(panel, "panel_0", "cumulative"))
                and r.data.values[0] == 11.0
            ),
            "both workers' parts summed",
        )
    finally:
        feed.stop()


class FakeRecord:
    """What the feed reads of a consumed Kafka record."""

    def __init__(self, topic: str, value: bytes) -> None:
        self._topic, self._value = topic, value

    def error(self):
        return None

    def topic(self) -> str:
        return self._topic

    def value(self) -> bytes:
        return self._value

    def timestamp(self) -> tuple[int, int]:
        return 1, 0

    def headers(self):
        return None


def test_a_record_the_store_cannot_take_costs_only_itself(monkeypatch, clock):
    store = LiveStore(clock)
    put_result = store.put_result
    store.put_job(job_beat(job_id()), clock.now)

    def failing(result_key, *args):
        if result_key.output_name == "bad":
            raise sc.DimensionError("broken")
        put_result(result_key, *args)

    monkeypatch.setattr(store, "put_result", failing)
    feed = KafkaFeed(KafkaSettings("127.0.0.1:1"), "dummy", store)
    data = sc.DataArray(sc.array(dims=["x"], values=[1.0], unit="counts"))
    try:
        for output in ("bad", "good"):
            payload = encode_da00(key(job_id(), output).to_source_name(), 1, data)
            feed._handle(FakeRecord(Topic.DATA.of("dummy"), payload))
    finally:
        feed._consumer.close()
    assert store.result(MONITOR_HISTOGRAM, "monitor1", "good") is not None
    assert feed._rejections.total == 1
