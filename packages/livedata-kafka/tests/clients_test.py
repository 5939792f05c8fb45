"""Client wiring without a broker: settings reach every client, outages log once,
rejected credentials fail with one line, and the offset policy resumes exactly."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition
from environs import Env

from ess.livedata.config import ConfigError
from ess.livedata.kafka import clients
from ess.livedata.kafka.clients import (
    BrokerWatch,
    LiveConsumer,
    ResumePositions,
    make_producer,
    require_brokers,
)
from ess.livedata.kafka.settings import KafkaSettings, settings_from_env

DEFAULTS = {"bootstrap_servers": "localhost:9092", "consumer": {"fetch.wait.max.ms": 5}}
SECRET = "pa55-w0rd-secret"


class Recorder:
    """Stands in for a confluent-kafka client class; keeps the config it got."""

    configs: list[dict[str, Any]]

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        type(self).configs.append({**config, **kwargs})

    def subscribe(self, *args: Any, **kwargs: Any) -> None:
        pass


@pytest.fixture
def recorded(monkeypatch) -> list[dict[str, Any]]:
    configs: list[dict[str, Any]] = []
    recorder = type("R", (Recorder,), {"configs": configs})
    for name in ("Consumer", "Producer"):
        monkeypatch.setattr(clients, name, recorder)
    return configs


def from_env(monkeypatch, prefix: str = "KAFKA_", **variables: str) -> KafkaSettings:
    for name, value in variables.items():
        monkeypatch.setenv(f"{prefix}{name}", value)
    return settings_from_env(prefix, DEFAULTS, Env())


def test_ssl_and_sasl_settings_reach_consumers_and_producers(monkeypatch, recorded):
    settings = from_env(
        monkeypatch,
        "KAFKA2_",
        SECURITY_PROTOCOL="SASL_SSL",
        SASL_MECHANISM="SCRAM-SHA-256",
        SASL_USERNAME="livedata",
        SASL_PASSWORD=SECRET,
        SSL_CA_LOCATION="/etc/ca.pem",
        SSL_CERTIFICATE_LOCATION="/etc/client.pem",
        SSL_KEY_LOCATION="/etc/client.key",
        SSL_KEY_PASSWORD="key-" + SECRET,
    )
    LiveConsumer(settings, "group", ["topic"])
    make_producer(settings)
    expected = {
        "bootstrap.servers": "localhost:9092",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-256",
        "sasl.username": "livedata",
        "sasl.password": SECRET,
        "ssl.ca.location": "/etc/ca.pem",
        "ssl.certificate.location": "/etc/client.pem",
        "ssl.key.location": "/etc/client.key",
        "ssl.key.password": "key-" + SECRET,
    }
    consumer, producer = recorded
    assert consumer.items() >= expected.items()
    assert consumer["fetch.wait.max.ms"] == 5
    assert consumer["enable.auto.commit"] is False
    assert producer.items() >= expected.items()
    assert SECRET not in repr(settings)
    assert settings.env_prefix == "KAFKA2_"


def test_ssl_only_needs_no_sasl(monkeypatch):
    settings = from_env(
        monkeypatch, SECURITY_PROTOCOL="SSL", SSL_CA_LOCATION="/etc/ca.pem"
    )
    assert settings.client_config() == {
        "bootstrap.servers": "localhost:9092",
        "security.protocol": "SSL",
        "ssl.ca.location": "/etc/ca.pem",
    }


def test_empty_variables_count_as_unset(monkeypatch):
    # docker-compose passes ${KAFKA_SASL_MECHANISM:-} as an empty string.
    settings = from_env(
        monkeypatch,
        SECURITY_PROTOCOL="",
        SASL_MECHANISM="",
        SASL_USERNAME="",
        SASL_PASSWORD="",
        SSL_CA_LOCATION="",
    )
    assert settings.client_config() == {
        "bootstrap.servers": "localhost:9092",
        "security.protocol": "PLAINTEXT",
    }


def test_invalid_values_still_name_the_variable(monkeypatch):
    with pytest.raises(ConfigError, match="KAFKA_SASL_MECHANISM is invalid"):
        from_env(monkeypatch, SASL_MECHANISM="GSSAPI")


class FakeAdmin:
    """AdminClient whose list_topics fails, reporting ``errors`` via error_cb."""

    errors: list[KafkaError] = []

    def __init__(self, config: dict[str, Any]) -> None:
        self._error_cb = config["error_cb"]
        self.config = config

    def list_topics(self, timeout: float) -> None:
        raise KafkaException(KafkaError(KafkaError._TRANSPORT, "no metadata"))

    def poll(self, timeout: float) -> None:
        for error in self.errors:
            self._error_cb(error)


def auth_error() -> KafkaError:
    return KafkaError(
        KafkaError._AUTHENTICATION,
        "sasl_plaintext://127.0.0.1:9093/bootstrap: SASL authentication error:"
        " Authentication failed: Invalid username or password"
        " (after 300ms in state AUTH_REQ)",
    )


@pytest.mark.parametrize("prefix", ["KAFKA_", "KAFKA2_"])
def test_rejected_credentials_raise_one_line_naming_the_variables(monkeypatch, prefix):
    monkeypatch.setattr(FakeAdmin, "errors", [auth_error()])
    monkeypatch.setattr(clients, "AdminClient", FakeAdmin)
    settings = from_env(
        monkeypatch,
        prefix,
        SECURITY_PROTOCOL="SASL_PLAINTEXT",
        SASL_MECHANISM="PLAIN",
        SASL_USERNAME="alice",
        SASL_PASSWORD=SECRET,
    )
    with pytest.raises(ConfigError) as info:
        require_brokers(settings, timeout_s=5)
    message = str(info.value)
    assert "\n" not in message
    assert f"{prefix}SASL_USERNAME" in message
    assert f"{prefix}SASL_PASSWORD" in message
    assert "Invalid username or password" in message
    assert "after 300ms" not in message
    assert SECRET not in message


def test_tls_failure_names_the_tls_variables(monkeypatch):
    error = KafkaError(
        KafkaError._SSL, "ssl://h:1/bootstrap: certificate verify failed"
    )
    monkeypatch.setattr(FakeAdmin, "errors", [error])
    monkeypatch.setattr(clients, "AdminClient", FakeAdmin)
    settings = from_env(monkeypatch, SECURITY_PROTOCOL="SSL")
    with pytest.raises(ConfigError, match="KAFKA_SSL_CA_LOCATION"):
        require_brokers(settings, timeout_s=5)


@pytest.mark.parametrize(
    ("prefix", "error", "reason"),
    [
        (
            "KAFKA_",
            KafkaError(
                KafkaError._TRANSPORT,
                "h:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed:"
                " Connection refused (after 0ms in state CONNECT)",
            ),
            "Connection refused",
        ),
        (
            "KAFKA2_",
            KafkaError(
                KafkaError._RESOLVE,
                "h:1/bootstrap: Failed to resolve 'h:1': Name or service not known"
                " (after 2ms in state CONNECT)",
            ),
            "Failed to resolve 'h:1'",
        ),
    ],
)
def test_unreachable_broker_is_one_line_naming_variable_and_address(
    monkeypatch, prefix, error, reason
):
    monkeypatch.setattr(FakeAdmin, "errors", [error])
    monkeypatch.setattr(clients, "AdminClient", FakeAdmin)
    settings = KafkaSettings("h:1", env_prefix=prefix)
    with pytest.raises(ConfigError) as info:
        require_brokers(settings, timeout_s=0.3)
    message = str(info.value)
    assert "\n" not in message
    assert f"Kafka at h:1 ({prefix}BOOTSTRAP_SERVERS)" in message
    assert "not reachable within 0.3 s" in message
    assert reason in message
    assert "after 2ms" not in message


def sasl_handshake_error(offered: str) -> KafkaError:
    return KafkaError(
        KafkaError._AUTHENTICATION,
        "sasl_plaintext://h:1/bootstrap: SASL PLAIN mechanism handshake failed:"
        " Broker: Request not valid in current SASL state: broker's supported"
        f" mechanisms: {offered} (after 1ms in state AUTH_HANDSHAKE)",
    )


def sasl_settings(monkeypatch) -> KafkaSettings:
    return from_env(
        monkeypatch,
        SECURITY_PROTOCOL="SASL_PLAINTEXT",
        SASL_MECHANISM="PLAIN",
        SASL_USERNAME="alice",
        SASL_PASSWORD=SECRET,
    )


def test_sasl_to_a_plaintext_listener_is_not_called_rejected_credentials(
    monkeypatch,
):
    monkeypatch.setattr(FakeAdmin, "errors", [sasl_handshake_error("")])
    monkeypatch.setattr(clients, "AdminClient", FakeAdmin)
    with pytest.raises(ConfigError) as info:
        require_brokers(sasl_settings(monkeypatch), timeout_s=5)
    message = str(info.value)
    assert "did not complete the SASL handshake" in message
    assert "KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT" in message
    assert "(KAFKA_BOOTSTRAP_SERVERS)" in message
    assert "credentials" not in message
    assert SECRET not in message


def test_sasl_mechanism_the_broker_lacks_names_the_mechanism_variable(monkeypatch):
    error = sasl_handshake_error("SCRAM-SHA-512")
    monkeypatch.setattr(FakeAdmin, "errors", [error])
    monkeypatch.setattr(clients, "AdminClient", FakeAdmin)
    with pytest.raises(ConfigError) as info:
        require_brokers(sasl_settings(monkeypatch), timeout_s=5)
    message = str(info.value)
    assert "does not offer SASL mechanism KAFKA_SASL_MECHANISM=PLAIN" in message
    assert "only SCRAM-SHA-512" in message


def test_outage_is_logged_once_across_clients_and_recovery_once(caplog):
    now = [0.0]
    watch = BrokerWatch("h:1", monotonic=lambda: now[0])
    with caplog.at_level(logging.DEBUG, logger="ess.livedata.kafka.clients"):
        for _ in range(50):
            watch.lost("consumer", "Connection refused")
            watch.lost("producer", "Connection refused")
        watch.reachable("consumer")
        assert watch.down  # the producer has not reconnected yet
        now[0] = 12.5
        watch.reachable("producer")
        watch.reachable("producer")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(warnings) == 1
    assert "lost connection to Kafka at h:1" in warnings[0].getMessage()
    assert [r.getMessage() for r in infos] == [
        "Kafka at h:1 reachable again after 12.5 s"
    ]
    assert watch.outages == 1
    assert not watch.down


class Record:
    def __init__(self, topic: str, partition: int, offset: int) -> None:
        self._where = (topic, partition, offset)

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return self._where[0]

    def partition(self) -> int:
        return self._where[1]

    def offset(self) -> int:
        return self._where[2]


def test_resume_positions_continue_known_partitions_and_start_new_ones_live():
    positions = ResumePositions()
    positions.record([Record("a", 0, 41), Record("a", 0, 42), Record("b", 1, 7)])
    a0, a1, b1 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 1)
    assert positions.start_offset(a0, low=0, high=100) == 43  # resumed
    assert positions.start_offset(a1, low=0, high=100) == 100  # new: live end
    assert positions.start_offset(b1, low=20, high=30) == 20  # lost to retention
    assert positions.start_offset(b1, low=0, high=5) == 5  # re-created topic
    assert positions.resumes(a0)
    assert not positions.resumes(a1)


class FakeConsumer:
    def __init__(self, watermarks: dict[tuple[str, int], tuple[int, int]]) -> None:
        self._watermarks = watermarks
        self.assigned: list[TopicPartition] = []

    def get_watermark_offsets(self, partition: TopicPartition, timeout: float):
        key = (partition.topic, partition.partition)
        if key not in self._watermarks:
            raise KafkaException(KafkaError(KafkaError._TRANSPORT, "down"))
        return self._watermarks[key]

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.assigned = list(partitions)

    def consume(self, num_messages: int, timeout: float) -> list[Record]:
        return [Record("a", 0, 9)]


def test_live_consumer_reassignment_resumes_where_it_stopped(monkeypatch, recorded):
    monkeypatch.setattr(
        clients, "watermarks", lambda c, p: c.get_watermark_offsets(p, 1)
    )
    consumer = LiveConsumer(KafkaSettings("h:1"), "g", ["a"])
    fake = FakeConsumer({("a", 0): (0, 10), ("a", 1): (0, 50)})
    consumer._consumer = fake  # type: ignore[assignment]
    consumer._on_assign(fake, [TopicPartition("a", 0)])
    assert [p.offset for p in fake.assigned] == [10]
    consumer.consume(10, 0.1)  # read offset 9
    fake._watermarks[("a", 0)] = (0, 25)  # 15 more produced meanwhile
    consumer._on_revoke(fake, [TopicPartition("a", 0)])
    assert consumer.assigned == []
    consumer._on_assign(fake, [TopicPartition("a", 0), TopicPartition("a", 1)])
    assert [p.offset for p in fake.assigned] == [10, 50]


def test_assignment_without_watermarks_starts_at_the_end(monkeypatch, recorded):
    monkeypatch.setattr(
        clients, "watermarks", lambda c, p: c.get_watermark_offsets(p, 1)
    )
    consumer = LiveConsumer(KafkaSettings("h:1"), "g", ["a"])
    fake = FakeConsumer({})
    consumer._on_assign(fake, [TopicPartition("a", 0)])
    assert [p.offset for p in fake.assigned] == [clients.OFFSET_END]
