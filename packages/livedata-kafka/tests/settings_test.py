import os

import pytest
from environs import Env

from ess.livedata.config import ConfigError, DeploymentEnv, load_config
from ess.livedata.kafka.settings import (
    describe_brokers,
    downstream_settings,
    settings_from_env,
    upstream_settings,
)

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


@pytest.fixture
def clean_env(monkeypatch):
    """No ``KAFKA*`` variables from the caller's shell."""
    for name in list(os.environ):
        if name.startswith("KAFKA"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_downstream_is_the_upstream_broker_unless_kafka2_bootstrap_is_set(clean_env):
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9093")
    clean_env.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    clean_env.setenv("KAFKA_SASL_MECHANISM", "PLAIN")
    clean_env.setenv("KAFKA_SASL_USERNAME", "livedata")
    clean_env.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    up = upstream_settings(DeploymentEnv.DEV)
    down = downstream_settings(DeploymentEnv.DEV)
    assert down.client_config() == up.client_config()
    assert down.variable("BOOTSTRAP_SERVERS") == "KAFKA_BOOTSTRAP_SERVERS"
    assert down.variable("SASL_PASSWORD") == "KAFKA_SASL_PASSWORD"
    assert (
        down.producer == load_config("kafka_downstream", DeploymentEnv.DEV)["producer"]
    )
    assert describe_brokers(up, down) == (
        "upstream broker:9093 (KAFKA_BOOTSTRAP_SERVERS), downstream same"
    )


def test_defaults_give_one_broker_in_every_environment(clean_env):
    for deployment in DeploymentEnv:
        up, down = upstream_settings(deployment), downstream_settings(deployment)
        assert down.client_config() == up.client_config()


def test_kafka2_values_override_the_inherited_ones_one_by_one(clean_env):
    clean_env.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    clean_env.setenv("KAFKA_SASL_MECHANISM", "PLAIN")
    clean_env.setenv("KAFKA_SASL_USERNAME", "raw-reader")
    clean_env.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    clean_env.setenv("KAFKA2_SASL_USERNAME", "livedata")
    down = downstream_settings(DeploymentEnv.DEV)
    assert down.sasl_username == "livedata"
    assert down.variable("SASL_USERNAME") == "KAFKA2_SASL_USERNAME"
    assert down.bootstrap_servers == "localhost:9092"
    assert down.variable("BOOTSTRAP_SERVERS") == "KAFKA_BOOTSTRAP_SERVERS"


def test_inherited_bad_value_names_the_upstream_variable(clean_env):
    clean_env.setenv("KAFKA_SECURITY_PROTOCOL", "PLAIN")
    with pytest.raises(ConfigError, match=r"^KAFKA_SECURITY_PROTOCOL is invalid"):
        downstream_settings(DeploymentEnv.DEV)


def test_kafka2_bootstrap_makes_a_separate_broker(clean_env):
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "raw:9092")
    clean_env.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    clean_env.setenv("KAFKA2_BOOTSTRAP_SERVERS", "results:9092")
    up = upstream_settings(DeploymentEnv.DEV)
    down = downstream_settings(DeploymentEnv.DEV)
    assert down.client_config() == {
        "bootstrap.servers": "results:9092",
        "security.protocol": "PLAINTEXT",
    }
    assert describe_brokers(up, down) == (
        "upstream raw:9092 (KAFKA_BOOTSTRAP_SERVERS),"
        " downstream results:9092 (KAFKA2_BOOTSTRAP_SERVERS)"
    )
