import pytest
from environs import Env

from ess.livedata.config import ConfigError
from ess.livedata.kafka.settings import settings_from_env

DEFAULTS = {"bootstrap_servers": "localhost:9092", "consumer": {"fetch.wait.max.ms": 5}}


def settings(monkeypatch, **variables):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return settings_from_env("KAFKA_", DEFAULTS, Env())


def test_defaults_apply_without_variables(monkeypatch):
    s = settings(monkeypatch)
    assert s.client_config() == {
        "bootstrap.servers": "localhost:9092",
        "security.protocol": "PLAINTEXT",
    }
    assert s.consumer == {"fetch.wait.max.ms": 5}


def test_sasl_settings_reach_the_client_config(monkeypatch):
    s = settings(
        monkeypatch,
        KAFKA_BOOTSTRAP_SERVERS="broker1:9093,broker2:9093",
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        KAFKA_SASL_USERNAME="livedata",
        KAFKA_SASL_PASSWORD="s3cret",
    )
    assert s.client_config() == {
        "bootstrap.servers": "broker1:9093,broker2:9093",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "livedata",
        "sasl.password": "s3cret",
    }
    assert "s3cret" not in repr(s)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "PLAIN"}, "KAFKA_SECURITY_PROTOCOL is invalid"),
        (
            {"KAFKA_BOOTSTRAP_SERVERS": "localhost"},
            "KAFKA_BOOTSTRAP_SERVERS is invalid",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT"},
            "KAFKA_SASL_MECHANISM is required",
        ),
        (
            {
                "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "KAFKA_SASL_MECHANISM": "PLAIN",
            },
            "KAFKA_SASL_USERNAME is required",
        ),
        ({"KAFKA_SASL_MECHANISM": "MD5"}, "KAFKA_SASL_MECHANISM is invalid"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, variables, message):
    with pytest.raises(ConfigError, match=message):
        settings(monkeypatch, **variables)
