import socket
import time
import uuid

import pytest
import scipp as sc
from confluent_kafka import Producer

from ess.livedata.core.commands import Command, CommandResponse, ResponseStatus
from ess.livedata.core.message import StreamKind
from ess.livedata.core.status import ServiceState, ServiceStatus
from ess.livedata.core.streams import livedata_topic
from ess.livedata.dashboard.feed import BACKLOG, KafkaFeed, apply_record
from ess.livedata.dashboard.store import LiveStore
from ess.livedata.kafka.clients import ensure_topics
from ess.livedata.kafka.schemas.da00 import encode_da00
from ess.livedata.kafka.schemas.errors import DecodeError
from ess.livedata.kafka.schemas.x5f2 import encode_x5f2
from ess.livedata.kafka.settings import KafkaSettings
from ess.livedata.kafka.worker_header import worker_headers


def test_da00_becomes_a_result(store):
    data = sc.DataArray(
        sc.array(dims=["toa"], values=[1.0, 2.0], unit="counts"),
        coords={"toa": sc.linspace("toa", 0.0, 2.0, 3, unit="ms")},
    )
    payload = encode_da00("monitor_data/monitor1/current", 123, data)
    apply_record(store, StreamKind.LIVEDATA_DATA, payload, 0)
    result = store.result("monitor_data/monitor1/current")
    assert result.timestamp_ns == 123
    assert sc.identical(result.data.data, data.data)


def test_x5f2_becomes_a_heartbeat_sent_at_the_record_time(store):
    status = ServiceStatus(
        service="monitor_data", instrument="dummy", state=ServiceState.RUNNING
    )
    apply_record(store, StreamKind.LIVEDATA_STATUS, encode_x5f2(status), 5_500)
    (health,) = store.services().values()
    assert health.latest.sent_s == 5.5
    assert health.latest.status == status


def test_response_is_attached(store):
    command = Command(service="monitor_data", body={"action": "reset"})
    store.record_command(command)
    response = CommandResponse(
        command_id=command.command_id,
        service="monitor_data",
        status=ResponseStatus.ACCEPTED,
    )
    payload = response.model_dump_json().encode()
    apply_record(store, StreamKind.LIVEDATA_RESPONSES, payload, 0)
    assert store.command(command.command_id).response == response


@pytest.mark.parametrize(
    "kind",
    [
        StreamKind.LIVEDATA_DATA,
        StreamKind.LIVEDATA_STATUS,
        StreamKind.LIVEDATA_RESPONSES,
    ],
)
def test_garbage_is_a_decode_error(store, kind):
    with pytest.raises(DecodeError):
        apply_record(store, kind, b"\x00garbage{", 0)


@pytest.fixture
def instrument_topics(kafka_broker) -> tuple[str, KafkaSettings]:
    """A made-up instrument whose livedata topics exist only for this test."""
    instrument = f"feed{uuid.uuid4().hex[:8]}"
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap_servers)
    topics = [livedata_topic(instrument, kind) for kind in BACKLOG]
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
    data_topic = livedata_topic(instrument, StreamKind.LIVEDATA_DATA)
    status_topic = livedata_topic(instrument, StreamKind.LIVEDATA_STATUS)

    def publish(name: str, total: float) -> None:
        data = sc.DataArray(sc.array(dims=["toa"], values=[total], unit="counts"))
        producer.produce(data_topic, encode_da00(name, 1, data))
        producer.flush(10)

    publish("monitor_data/monitor1/cumulative", 1.0)  # before the dashboard
    store = LiveStore()
    feed = KafkaFeed(settings, instrument, store)
    feed.start()
    try:
        wait_until(lambda: store.broker().reachable, "the broker probe")
        replayed = wait_until(
            lambda: store.result("monitor_data/monitor1/cumulative"), "the replay"
        )
        assert replayed.data.values[0] == 1.0
        publish("monitor_data/monitor1/cumulative", 2.0)
        status = ServiceStatus(
            service="monitor_data", instrument=instrument, state=ServiceState.RUNNING
        )
        producer.produce(status_topic, encode_x5f2(status))
        producer.produce(data_topic, b"not da00")  # counted, logged, skipped
        producer.flush(10)
        wait_until(
            lambda: (
                store.result("monitor_data/monitor1/cumulative").data.values[0] == 2.0
            ),
            "the live update",
        )
        wait_until(lambda: store.latest_status("monitor_data"), "the heartbeat")
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
    data_topic = livedata_topic(instrument, StreamKind.LIVEDATA_DATA)
    name = "detector_data/panel_0/xy_cumulative"
    for worker, counts in (("a:1", 1.0), ("b:2", 10.0)):
        data = sc.DataArray(
            sc.array(dims=["x"], values=[counts], unit="counts"),
            coords={
                "start_time": sc.datetime(0, unit="ns"),
                "end_time": sc.datetime(1, unit="ns"),
            },
        )
        producer.produce(
            data_topic, encode_da00(name, 1, data), headers=worker_headers(worker)
        )
    producer.flush(10)
    store = LiveStore()
    feed = KafkaFeed(settings, instrument, store)
    feed.start()
    try:
        wait_until(
            lambda: (r := store.result(name)) and r.data.values[0] == 11.0,
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


def test_a_record_the_store_cannot_take_costs_only_itself(monkeypatch):
    store = LiveStore()
    put_result = store.put_result

    def failing(name, *args):
        if name == "bad/current":
            raise sc.DimensionError("broken")
        put_result(name, *args)

    monkeypatch.setattr(store, "put_result", failing)
    feed = KafkaFeed(KafkaSettings("127.0.0.1:1"), "dummy", store)
    topic = livedata_topic("dummy", StreamKind.LIVEDATA_DATA)
    data = sc.DataArray(sc.array(dims=["x"], values=[1.0], unit="counts"))
    try:
        for name in ("bad/current", "good/current"):
            feed._handle(FakeRecord(topic, encode_da00(name, 1, data)))
    finally:
        feed._consumer.close()
    assert store.result("good/current") is not None
    assert feed._rejections.total == 1
