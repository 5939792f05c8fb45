"""LiveConsumer's offset policy over the real broker, through a real rebalance.

A second worker joining the group moves one partition away from the first.
The partition the first worker keeps is re-assigned to it and must continue
at the next offset it had not consumed (no gap, no replay); the moved
partition starts at its live end in the new worker. No message is ever
delivered twice.
"""

from __future__ import annotations

import time
import uuid

from confluent_kafka import Producer

from ess.livedata.kafka.clients import LiveConsumer
from ess.livedata.kafka.settings import KafkaSettings


def produce(servers: str, topic: str, per_partition: range) -> None:
    producer = Producer({"bootstrap.servers": servers})
    for partition in (0, 1):
        for i in per_partition:
            producer.produce(topic, f"{partition}:{i}".encode(), partition=partition)
    assert producer.flush(10) == 0


def drain(consumers, until, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "timed out"
        for consumer, seen in consumers:
            for record in consumer.consume(100, 0.1):
                if record.error() is None:
                    seen.append((record.partition(), record.offset()))


def test_rebalance_resumes_kept_partition_and_never_duplicates(
    kafka_broker, kafka_topic_factory
):
    servers = kafka_broker.bootstrap_servers
    topic = kafka_topic_factory(partitions=2)
    settings = KafkaSettings(bootstrap_servers=servers)
    group = f"live-consumer-test-{uuid.uuid4().hex}"
    a = LiveConsumer(settings, group, [topic])
    seen_a: list[tuple[int, int]] = []
    seen_b: list[tuple[int, int]] = []
    b = None
    try:
        drain([(a, seen_a)], lambda: len(a.assigned) == 2)
        produce(servers, topic, range(10))
        drain([(a, seen_a)], lambda: len(seen_a) == 20)

        produce(servers, topic, range(10, 15))  # produced around the handover
        b = LiveConsumer(settings, group, [topic])
        both = [(a, seen_a), (b, seen_b)]
        drain(both, lambda: len(a.assigned) == 1 and len(b.assigned) == 1)
        [kept] = [p.partition for p in a.assigned]
        [moved] = [p.partition for p in b.assigned]
        start_b = b.assigned[0].offset
        produce(servers, topic, range(15, 20))
        drain(
            both,
            lambda: (
                sorted(o for p, o in seen_a if p == kept) == list(range(20))
                and sorted(o for p, o in seen_b if p == moved)
                == list(range(start_b, 20))
            ),
        )
    finally:
        a.close()
        if b is not None:
            b.close()
    everything = seen_a + seen_b
    assert len(everything) == len(set(everything)), "a message was delivered twice"
    # The kept partition continued exactly; the moved one started live in b.
    assert sorted(o for p, o in seen_a if p == kept) == list(range(20))
    assert start_b >= 10
    assert not any(p == kept for p, _ in seen_b)
