"""Produce and consume throughput of the local Kafka broker with confluent-kafka.

Tells whether the test/demo broker (``ess.livedata.kafka.local_broker``) and
the Python clients keep up with realistic ESS message sizes: 1 KiB (logs,
status), 100 KiB and 1 MiB (typical ev44 event messages). For each size a
fresh single-partition topic receives about ``--total-mb`` of messages from
one producer, which one consumer then reads back from the beginning; the
medians over ``--repeats`` runs are printed as a markdown table.

    python benchmarks/broker_throughput.py                      # own broker
    python benchmarks/broker_throughput.py --bootstrap host:port
    python benchmarks/broker_throughput.py --total-mb 20 --repeats 1  # quick

Producer and consumer run one after the other in this process (not
concurrently), so each figure is what one Python client achieves on its own
while the broker writes to or reads from its (page-cached) log.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import time
import uuid
from dataclasses import dataclass

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic

from ess.livedata.kafka.local_broker import (
    KAFKA_VERSION,
    MAX_MESSAGE_BYTES,
    LocalKafkaBroker,
)

SIZES = (1024, 100 * 1024, 1024 * 1024)

PRODUCER_CONFIG = {
    "linger.ms": 5,
    "batch.size": 8 * 1024 * 1024,
    "compression.type": "none",
    "message.max.bytes": MAX_MESSAGE_BYTES,
    "queue.buffering.max.kbytes": 512 * 1024,
    "acks": "all",
}
CONSUMER_CONFIG = {
    "fetch.max.bytes": 64 * 1024 * 1024,
    "max.partition.fetch.bytes": MAX_MESSAGE_BYTES,
    "receive.message.max.bytes": 64 * 1024 * 1024 + 512,
    # Refetch as soon as the local queue has room instead of pausing 1 s.
    "fetch.queue.backoff.ms": 0,
    "enable.auto.commit": False,
}


@dataclass(frozen=True)
class Run:
    produce_s: float
    consume_s: float


def produce(bootstrap: str, topic: str, payload: bytes, count: int) -> float:
    """Seconds to produce ``count`` messages and have all acknowledged."""
    errors: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, _: object) -> None:
        if err is not None:
            errors.append(err)

    producer = Producer({"bootstrap.servers": bootstrap, **PRODUCER_CONFIG})
    start = time.perf_counter()
    for _ in range(count):
        while True:
            try:
                producer.produce(topic, payload, on_delivery=on_delivery)
                break
            except BufferError:  # local queue full: let librdkafka send
                producer.poll(0.01)
        producer.poll(0)
    if producer.flush(120) != 0 or errors:
        raise RuntimeError(f"produce failed: {errors[:1] or 'flush timed out'}")
    return time.perf_counter() - start


def consume(bootstrap: str, topic: str, count: int, size: int) -> float:
    """Seconds for one consumer to read ``count`` messages from the start."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{uuid.uuid4().hex}",
            **CONSUMER_CONFIG,
        }
    )
    try:
        start = time.perf_counter()
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        seen = 0
        while seen < count:
            # Never ask for more than remain: consume() would wait out its timeout.
            for msg in consumer.consume(min(1000, count - seen), timeout=1.0):
                if msg.error() is not None:
                    raise RuntimeError(f"consume failed: {msg.error()}")
                if len(msg.value() or b"") != size:
                    raise RuntimeError("message of unexpected size")
                seen += 1
            if time.perf_counter() - start > 300:
                raise RuntimeError(f"consumed only {seen} of {count} messages")
        return time.perf_counter() - start
    finally:
        consumer.close()


def run_once(admin: AdminClient, bootstrap: str, size: int, count: int) -> Run:
    topic = f"bench-{size}-{uuid.uuid4().hex[:8]}"
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)
    try:
        payload = os.urandom(size)
        return Run(
            produce_s=produce(bootstrap, topic, payload, count),
            consume_s=consume(bootstrap, topic, count, size),
        )
    finally:
        admin.delete_topics([topic])[topic].result(timeout=30)


def human(size: int) -> str:
    return f"{size // 1024**2} MiB" if size >= 1024**2 else f"{size // 1024} KiB"


def benchmark(bootstrap: str, total_mb: float, repeats: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    print(
        "| message size | messages | produce MB/s | produce msg/s "
        "| consume MB/s | consume msg/s |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for size in SIZES:
        count = max(1, round(total_mb * 1e6 / size))
        runs = [run_once(admin, bootstrap, size, count) for _ in range(repeats)]
        produce_s = statistics.median(r.produce_s for r in runs)
        consume_s = statistics.median(r.consume_s for r in runs)
        mb = count * size / 1e6
        print(
            f"| {human(size)} | {count} | {mb / produce_s:.0f} "
            f"| {count / produce_s:,.0f} | {mb / consume_s:.0f} "
            f"| {count / consume_s:,.0f} |",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", help="use this broker instead of starting one")
    parser.add_argument(
        "--total-mb", type=float, default=200, help="data per size and run (10^6 B)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.total_mb <= 0 or args.repeats < 1:
        parser.error("--total-mb and --repeats must be positive")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    print(
        f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" {args.total_mb:g} MB per size, median of {args.repeats} runs",
        file=sys.stderr,
    )
    try:
        if args.bootstrap:
            benchmark(args.bootstrap, args.total_mb, args.repeats)
        else:
            with LocalKafkaBroker() as broker:
                print(
                    f"Kafka {KAFKA_VERSION} at {broker.bootstrap_servers}",
                    file=sys.stderr,
                )
                benchmark(broker.bootstrap_servers, args.total_mb, args.repeats)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
