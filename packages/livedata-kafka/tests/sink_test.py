import numpy as np
import scipp as sc
from confluent_kafka import Producer

from ess.livedata.core.combine import ANONYMOUS
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.kafka.sink import KafkaSink
from ess.livedata.kafka.worker_header import worker_headers, worker_of
from ess.livedata.protocol import JobId, ResultKey, WorkflowId
from ess.livedata.testing.messages import heartbeat, service_beat

KEY = ResultKey(
    workflow_id=WorkflowId(instrument="t", name="wf", version=1),
    job_id=JobId(source_name="src", job_number="n-1"),
    output_name="out",
).to_source_name()


def unreachable_producer(**config) -> Producer:
    """A producer with nowhere to deliver. Its connection errors are not
    logged (``log_level`` 0): they would print to the run's stderr, and with a
    ``logger`` they would be queued events that ``len(producer)`` counts."""
    return Producer({"bootstrap.servers": "127.0.0.1:1", "log_level": 0, **config})


def test_oversized_result_is_counted_not_raised():
    producer = unreachable_producer(**{"message.max.bytes": 2000})
    sink = KafkaSink(producer, {StreamKind.LIVEDATA_DATA: "t_livedata_data"})
    big = sc.DataArray(sc.array(dims=["x"], values=np.arange(10_000.0), unit="counts"))
    small = sc.DataArray(sc.array(dims=["x"], values=np.arange(3.0), unit="counts"))
    stream = StreamId(StreamKind.LIVEDATA_DATA, KEY)
    sink.publish_messages([Message(1, stream, big), Message(2, stream, small)])
    assert sink.failed == 1
    assert len(producer) == 1  # the small one is queued for delivery


def test_result_da00_cannot_carry_is_counted_not_raised():
    producer = unreachable_producer()
    sink = KafkaSink(producer, {StreamKind.LIVEDATA_DATA: "t_livedata_data"})
    vectors = sc.DataArray(sc.vectors(dims=["x"], values=np.zeros((2, 3)), unit="m"))
    stream = StreamId(StreamKind.LIVEDATA_DATA, KEY)
    sink.publish_messages([Message(1, stream, vectors)])
    assert sink.failed == 1
    assert len(producer) == 0


class RecordingProducer:
    def __init__(self) -> None:
        self.headers: dict[str, list[tuple[str, bytes]]] = {}
        self.keys: dict[str, bytes | None] = {}

    def produce(self, topic, value, key, headers, on_delivery) -> None:
        self.headers[topic] = headers
        self.keys[topic] = key

    def poll(self, _timeout: float) -> int:
        return 0


def test_data_messages_name_the_worker_in_a_header():
    producer = RecordingProducer()
    topics = {
        StreamKind.LIVEDATA_DATA: "data",
        StreamKind.LIVEDATA_HEARTBEAT: "heartbeat",
    }
    sink = KafkaSink(producer, topics, worker="dummy:detector_data:w-7")
    data = sc.DataArray(sc.array(dims=["x"], values=[1.0], unit="counts"))
    sink.publish_messages(
        [
            Message(1, StreamId(StreamKind.LIVEDATA_DATA, KEY), data),
            Message(
                1,
                StreamId(StreamKind.LIVEDATA_HEARTBEAT, "s"),
                heartbeat(service_beat()),
            ),
        ]
    )
    assert worker_of(producer.headers["data"]) == "dummy:detector_data:w-7"
    assert producer.headers["heartbeat"] == []
    # The facility's topics other than data are unkeyed, as its services write.
    assert producer.keys == {"data": KEY.encode(), "heartbeat": None}


def test_without_header_the_worker_is_anonymous():
    assert worker_of(None) == ANONYMOUS
    assert worker_of([("other", b"x")]) == ANONYMOUS
    assert worker_headers("") == []


def test_a_result_not_named_by_a_result_key_is_counted_not_raised():
    producer = unreachable_producer()
    sink = KafkaSink(producer, {StreamKind.LIVEDATA_DATA: "t_livedata_data"})
    data = sc.DataArray(sc.array(dims=["x"], values=[1.0], unit="counts"))
    stream = StreamId(StreamKind.LIVEDATA_DATA, "svc/src/out")
    sink.publish_messages([Message(1, stream, data)])
    assert sink.failed == 1
    assert len(producer) == 0
