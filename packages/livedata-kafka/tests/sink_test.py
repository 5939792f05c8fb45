import logging

import numpy as np
import scipp as sc
from confluent_kafka import Producer

from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.kafka.sink import KafkaSink


def unreachable_producer(**config) -> Producer:
    """A producer with nowhere to deliver; its connection errors go to logging
    rather than to the test run's stderr."""
    config = {"bootstrap.servers": "127.0.0.1:1", **config}
    return Producer(config, logger=logging.getLogger("unreachable-producer"))


def test_oversized_result_is_counted_not_raised():
    producer = unreachable_producer(**{"message.max.bytes": 2000})
    sink = KafkaSink(producer, {StreamKind.LIVEDATA_DATA: "t_livedata_data"})
    big = sc.DataArray(sc.array(dims=["x"], values=np.arange(10_000.0), unit="counts"))
    small = sc.DataArray(sc.array(dims=["x"], values=np.arange(3.0), unit="counts"))
    stream = StreamId(StreamKind.LIVEDATA_DATA, "svc/src/out")
    sink.publish_messages([Message(1, stream, big), Message(2, stream, small)])
    assert sink.failed == 1
    assert len(producer) == 1  # the small one is queued for delivery


def test_result_da00_cannot_carry_is_counted_not_raised():
    producer = unreachable_producer()
    sink = KafkaSink(producer, {StreamKind.LIVEDATA_DATA: "t_livedata_data"})
    vectors = sc.DataArray(sc.vectors(dims=["x"], values=np.zeros((2, 3)), unit="m"))
    stream = StreamId(StreamKind.LIVEDATA_DATA, "svc/src/out")
    sink.publish_messages([Message(1, stream, vectors)])
    assert sink.failed == 1
    assert len(producer) == 0
