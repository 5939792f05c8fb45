"""The local Kafka broker: a real broker, restarts keep data, the CLI."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import psutil
import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

from ess.livedata.kafka.local_broker import (
    MAX_MESSAGE_BYTES,
    LocalBrokerError,
    LocalKafkaBroker,
    fetch_kafka,
)
from ess.livedata.kafka.local_broker.__main__ import client_port, is_free
from ess.livedata.testing.kafka import consume_all

CLI = [sys.executable, "-m", "ess.livedata.kafka.local_broker"]


def produce(bootstrap: str, topic: str, values: Iterable[bytes], **config) -> None:
    errors: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, _: object) -> None:
        if err is not None:
            errors.append(err)

    producer = Producer({"bootstrap.servers": bootstrap, **config})
    for value in values:
        producer.produce(topic, value, on_delivery=on_delivery)
    assert producer.flush(30) == 0
    assert errors == []


def read_in_group(bootstrap: str, topic: str, group: str, n: int) -> list[Message]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            # Fail instead of silently starting over if no offset is committed.
            "auto.offset.reset": "error",
        }
    )
    try:
        committed = consumer.committed([TopicPartition(topic, 0)], timeout=10)[0]
        if committed.offset < 0:
            consumer.assign([TopicPartition(topic, 0, 0)])
        else:
            consumer.subscribe([topic])
        messages: list[Message] = []
        deadline = time.monotonic() + 30
        while len(messages) < n and time.monotonic() < deadline:
            for msg in consumer.consume(n - len(messages), timeout=0.5):
                assert msg.error() is None, msg.error()
                messages.append(msg)
        assert len(messages) == n
        consumer.commit(
            offsets=[TopicPartition(topic, 0, messages[-1].offset() + 1)],
            asynchronous=False,
        )
        return messages
    finally:
        consumer.close()


def wait_gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def start_cli_broker(*args: str) -> tuple[subprocess.Popen[str], str, int]:
    """Start ``run`` and return the process, bootstrap address and Java pid.

    ``--port 0`` keeps 9092, the CLI's default, free for whatever else runs.
    """
    cli = subprocess.Popen(
        [*CLI, "run", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert cli.stdout is not None
    line = cli.stdout.readline().strip()
    assert re.fullmatch(r"export KAFKA_BOOTSTRAP_SERVERS=127\.0\.0\.1:\d+", line), line
    same = line.replace("KAFKA_", "KAFKA2_", 1)
    assert cli.stdout.readline().strip() == same
    (java,) = (
        p
        for p in psutil.Process(cli.pid).children(recursive=True)
        if "kafka.Kafka" in p.cmdline()
    )
    return cli, line.partition("=")[2], java.pid


@pytest.mark.kafka
def test_produce_consume_round_trip(kafka_broker, unique_topic) -> None:
    values = [f"message {i}".encode() for i in range(10)]
    produce(kafka_broker.bootstrap_servers, unique_topic, values)
    messages = consume_all(
        kafka_broker.bootstrap_servers, unique_topic, min_messages=10
    )
    assert [m.value() for m in messages] == values


@pytest.mark.kafka
def test_accepts_large_messages(local_kafka_broker, unique_topic) -> None:
    # ev44 and da00 messages of several MiB are normal at ESS.
    value = os.urandom(8 * 1024 * 1024)
    bootstrap = local_kafka_broker.bootstrap_servers
    produce(
        bootstrap, unique_topic, [value], **{"message.max.bytes": MAX_MESSAGE_BYTES}
    )
    (message,) = consume_all(bootstrap, unique_topic, min_messages=1)
    assert message.value() == value


@pytest.mark.kafka
def test_restart_keeps_messages_and_committed_offsets(
    local_kafka_broker, unique_topic
) -> None:
    bootstrap = local_kafka_broker.bootstrap_servers
    values = [f"before restart {i}".encode() for i in range(5)]
    produce(bootstrap, unique_topic, values)
    read_in_group(bootstrap, unique_topic, f"{unique_topic}-group", 3)

    local_kafka_broker.restart()

    assert local_kafka_broker.bootstrap_servers == bootstrap
    messages = consume_all(bootstrap, unique_topic, min_messages=5)
    assert [m.value() for m in messages] == values
    rest = read_in_group(bootstrap, unique_topic, f"{unique_topic}-group", 2)
    assert [m.value() for m in rest] == values[3:]


@pytest.mark.kafka
def test_stop_is_idempotent_and_start_failure_shows_the_log(tmp_path: Path) -> None:
    broker = LocalKafkaBroker(
        data_dir=tmp_path, extra_properties={"node.id": "not-a-number"}
    )
    with pytest.raises(
        LocalBrokerError, match=r"(?s)last lines of .*Invalid value not-a-number"
    ):
        broker.start(timeout=30)
    assert not broker.is_running
    broker.stop()
    broker.stop()


@pytest.mark.kafka
def test_fetch_runs_maven_only_once(tmp_path: Path) -> None:
    libs = fetch_kafka()
    assert (libs / ".complete").is_file()
    # Without mvn and java on PATH only the cache can answer.
    env = {**os.environ, "PATH": str(tmp_path)}
    env.pop("JAVA_HOME", None)
    result = subprocess.run(
        [*CLI, "fetch"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(libs)


@pytest.mark.kafka
@pytest.mark.slow
def test_cli_run_stops_cleanly_on_sigterm() -> None:
    cli, _, java = start_cli_broker()
    cli.send_signal(signal.SIGTERM)
    _, stderr = cli.communicate(timeout=30)
    assert cli.returncode == 0, stderr
    assert "Kafka broker stopped" in stderr
    assert wait_gone(java)  # stopped; reaping may lag on a loaded machine
    log = re.search(r"Broker log: (\S+)\. Press", stderr)
    assert log is not None
    assert not Path(log[1]).parent.exists()  # temporary data dir removed


@pytest.mark.kafka
@pytest.mark.slow
def test_broker_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    # A killed CLI cannot remove a temporary data directory: give it one.
    cli, bootstrap, java = start_cli_broker("--data-dir", str(tmp_path))
    cli.kill()  # no chance to clean up: only PR_SET_PDEATHSIG can stop the broker
    cli.communicate(timeout=10)
    assert wait_gone(java), f"broker {bootstrap} (pid {java}) outlived its parent"


def test_default_port_is_9092_when_free_else_any_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        assert not is_free(busy)
        assert client_port(None, default=busy) is None  # the broker picks one
    assert is_free(busy)
    assert client_port(None, default=busy) == busy
    assert client_port(9093, default=busy) == 9093
    assert client_port(0, default=busy) is None


def test_cli_rejects_bad_arguments() -> None:
    result = subprocess.run([*CLI, "run", "--port", "http"], capture_output=True)
    assert result.returncode == 2


def test_cli_names_missing_maven_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path), "LIVEDATA_CACHE_DIR": str(tmp_path)}
    result = subprocess.run(
        [*CLI, "fetch"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "'mvn' not found" in result.stderr
