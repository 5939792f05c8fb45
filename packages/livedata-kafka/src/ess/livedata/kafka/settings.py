"""Kafka connection settings from packaged defaults and ``KAFKA_*`` variables.

There may be two brokers: *upstream* (``KAFKA_*``) with the instrument's raw
data, and *downstream* (``KAFKA2_*``) for livedata's own data, commands,
status and responses. Invalid values raise :class:`ConfigError` naming the
variable, so a typo fails at start-up with one clear line. A variable set to
the empty string counts as unset (as docker-compose passes ``${VAR:-}``).

Secrets (``*_SASL_PASSWORD``, ``*_SSL_KEY_PASSWORD``) are kept out of
``repr`` and never logged; only :meth:`KafkaSettings.client_config` has them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from environs import Env, EnvError
from marshmallow import ValidationError
from marshmallow.validate import OneOf, Regexp

from ess.livedata.config import ConfigError, DeploymentEnv, load_config

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
_BOOTSTRAP = Regexp(
    r"^[A-Za-z0-9_.\-\[\]:]+:\d{1,5}(,[A-Za-z0-9_.\-\[\]:]+:\d{1,5})*$",
    error="expected host:port[,host:port...]",
)


@dataclass(frozen=True)
class KafkaSettings:
    """Where and how to connect to one broker."""

    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    """Client certificate (PEM) for brokers that authenticate clients by TLS."""
    ssl_key_location: str | None = None
    ssl_key_password: str | None = field(default=None, repr=False)
    env_prefix: str = ""
    """``KAFKA_`` or ``KAFKA2_``: where the values came from, for error messages."""
    consumer: dict[str, Any] = field(default_factory=dict)
    """Tuning applied to consumers (fetch sizes, offset reset)."""
    producer: dict[str, Any] = field(default_factory=dict)
    """Tuning applied to producers (linger, message size)."""

    def client_config(self) -> dict[str, Any]:
        """librdkafka configuration for a consumer, producer or admin client."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            config["sasl.mechanism"] = self.sasl_mechanism
            config["sasl.username"] = self.sasl_username
            config["sasl.password"] = self.sasl_password
        optional = {
            "ssl.ca.location": self.ssl_ca_location,
            "ssl.certificate.location": self.ssl_certificate_location,
            "ssl.key.location": self.ssl_key_location,
            "ssl.key.password": self.ssl_key_password,
        }
        config.update({k: v for k, v in optional.items() if v})
        return config

    def variable(self, name: str) -> str:
        """The environment variable behind setting ``name``, e.g. ``SASL_PASSWORD``."""
        return f"{self.env_prefix}{name}" if self.env_prefix else name.lower()


def _read(
    env: Env,
    name: str,
    default: str | None,
    validate: Callable[[str], Any] | None = None,
) -> str | None:
    """``name`` from the environment, else ``default``; validated either way."""
    try:
        value = env.str(name, None) or default
    except EnvError as error:
        raise ConfigError(f"{name} is invalid: {error}") from None
    if value is None or validate is None:
        return value
    try:
        validate(value)
    except ValidationError as error:
        raise ConfigError(f"{name} is invalid: {'; '.join(error.messages)}") from None
    return value


def settings_from_env(
    prefix: str, defaults: dict[str, Any], env: Env | None = None
) -> KafkaSettings:
    """Build settings from ``{prefix}*`` variables over file ``defaults``."""
    env = env or Env()
    bootstrap = _read(
        env,
        f"{prefix}BOOTSTRAP_SERVERS",
        defaults["bootstrap_servers"],
        validate=_BOOTSTRAP,
    )
    protocol = _read(
        env,
        f"{prefix}SECURITY_PROTOCOL",
        defaults.get("security_protocol", "PLAINTEXT"),
        validate=OneOf(SECURITY_PROTOCOLS),
    )
    mechanism = _read(
        env,
        f"{prefix}SASL_MECHANISM",
        defaults.get("sasl_mechanism"),
        validate=OneOf(SASL_MECHANISMS),
    )
    username = _read(env, f"{prefix}SASL_USERNAME", defaults.get("sasl_username"))
    password = _read(env, f"{prefix}SASL_PASSWORD", defaults.get("sasl_password"))
    ssl = {
        key: _read(env, f"{prefix}{key.upper()}", defaults.get(key))
        for key in (
            "ssl_ca_location",
            "ssl_certificate_location",
            "ssl_key_location",
            "ssl_key_password",
        )
    }
    if protocol.startswith("SASL"):
        if not mechanism:
            raise ConfigError(
                f"{prefix}SASL_MECHANISM is required when {prefix}SECURITY_PROTOCOL"
                f" is {protocol}"
            )
        for name, value in (("USERNAME", username), ("PASSWORD", password)):
            if not value:
                raise ConfigError(
                    f"{prefix}SASL_{name} is required when {prefix}SECURITY_PROTOCOL"
                    f" is {protocol}"
                )
    return KafkaSettings(
        bootstrap_servers=bootstrap,
        security_protocol=protocol,
        sasl_mechanism=mechanism if protocol.startswith("SASL") else None,
        sasl_username=username,
        sasl_password=password,
        **ssl,
        env_prefix=prefix,
        consumer=dict(defaults.get("consumer", {})),
        producer=dict(defaults.get("producer", {})),
    )


def upstream_settings(env: DeploymentEnv | None = None) -> KafkaSettings:
    """Broker with the instrument's raw data (``KAFKA_*``)."""
    return settings_from_env("KAFKA_", load_config("kafka_upstream", env))


def downstream_settings(env: DeploymentEnv | None = None) -> KafkaSettings:
    """Broker for livedata's own topics (``KAFKA2_*``)."""
    return settings_from_env("KAFKA2_", load_config("kafka_downstream", env))
