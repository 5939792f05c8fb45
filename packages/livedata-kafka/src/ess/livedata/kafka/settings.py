"""Kafka connection settings from packaged defaults and ``KAFKA_*`` variables.

There may be two brokers: *upstream* (``KAFKA_*``) with the instrument's raw
data, and *downstream* (``KAFKA2_*``) for livedata's own data, commands,
status and responses. Unless ``KAFKA2_BOOTSTRAP_SERVERS`` is set they are one
broker: downstream then takes each connection value from ``KAFKA2_*`` if given,
else from ``KAFKA_*``, so results never go to a broker nobody asked for.
Invalid values raise :class:`ConfigError` naming the
variable, so a typo fails at start-up with one clear line. A variable set to
the empty string counts as unset (as docker-compose passes ``${VAR:-}``).

Secrets (``*_SASL_PASSWORD``, ``*_SSL_KEY_PASSWORD``) are kept out of
``repr`` and never logged; only :meth:`KafkaSettings.client_config` has them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, overload

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
    variables: dict[str, str] = field(default_factory=dict)
    """Setting (``BOOTSTRAP_SERVERS``) to the variable it was read from, where
    that differs from ``env_prefix`` (a downstream value taken from ``KAFKA_*``)."""
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
        if name in self.variables:
            return self.variables[name]
        return f"{self.env_prefix}{name}" if self.env_prefix else name.lower()

    def describe(self) -> str:
        """Address and the variable that sets it, for the start-up log line."""
        return f"{self.bootstrap_servers} ({self.variable('BOOTSTRAP_SERVERS')})"


class _Reader:
    """Reads ``{prefix}NAME``, else ``{fallback}NAME``, else the file default.

    Remembers which variable each setting came from (the fallback's when the
    value is a default it inherited), so messages name what the user can set.
    """

    def __init__(self, env: Env, prefix: str, fallback: str | None) -> None:
        self.env, self.prefix, self.fallback = env, prefix, fallback
        self.variables: dict[str, str] = {}

    @overload
    def __call__(
        self, setting: str, default: str, validate: Callable[[str], Any] | None = None
    ) -> str: ...

    @overload
    def __call__(
        self,
        setting: str,
        default: str | None,
        validate: Callable[[str], Any] | None = None,
    ) -> str | None: ...

    def __call__(
        self,
        setting: str,
        default: str | None,
        validate: Callable[[str], Any] | None = None,
    ) -> str | None:
        """Setting ``setting`` (e.g. ``SASL_USERNAME``), validated."""
        name = self.variable(setting)
        try:
            value = self.env.str(f"{self.prefix}{setting}", None)
            if not value and self.fallback:
                name = self.variables[setting] = f"{self.fallback}{setting}"
                value = self.env.str(name, None)
        except EnvError as error:
            raise ConfigError(f"{name} is invalid: {error}") from None
        value = value or default
        if value is None or validate is None:
            return value
        try:
            validate(value)
        except ValidationError as error:
            message = "; ".join(error.messages)
            raise ConfigError(f"{name} is invalid: {message}") from None
        return value

    def variable(self, setting: str) -> str:
        return self.variables.get(setting, f"{self.prefix}{setting}")


def settings_from_env(
    prefix: str,
    defaults: dict[str, Any],
    env: Env | None = None,
    fallback: str | None = None,
) -> KafkaSettings:
    """Build settings from ``{prefix}*`` (else ``{fallback}*``) over ``defaults``."""
    read = _Reader(env or Env(), prefix, fallback)
    bootstrap = read("BOOTSTRAP_SERVERS", defaults["bootstrap_servers"], _BOOTSTRAP)
    protocol = read(
        "SECURITY_PROTOCOL",
        defaults.get("security_protocol", "PLAINTEXT"),
        OneOf(SECURITY_PROTOCOLS),
    )
    mechanism = read(
        "SASL_MECHANISM", defaults.get("sasl_mechanism"), OneOf(SASL_MECHANISMS)
    )
    username = read("SASL_USERNAME", defaults.get("sasl_username"))
    password = read("SASL_PASSWORD", defaults.get("sasl_password"))
    ssl = {
        key: read(key.upper(), defaults.get(key))
        for key in (
            "ssl_ca_location",
            "ssl_certificate_location",
            "ssl_key_location",
            "ssl_key_password",
        )
    }
    if protocol.startswith("SASL"):
        required = {"MECHANISM": mechanism, "USERNAME": username, "PASSWORD": password}
        for name, value in required.items():
            if not value:
                raise ConfigError(
                    f"{read.variable(f'SASL_{name}')} is required when"
                    f" {read.variable('SECURITY_PROTOCOL')} is {protocol}"
                )
    return KafkaSettings(
        bootstrap_servers=bootstrap,
        security_protocol=protocol,
        sasl_mechanism=mechanism if protocol.startswith("SASL") else None,
        sasl_username=username,
        sasl_password=password,
        **ssl,
        env_prefix=prefix,
        variables=read.variables,
        consumer=dict(defaults.get("consumer", {})),
        producer=dict(defaults.get("producer", {})),
    )


_CONNECTION = frozenset(
    {
        "bootstrap_servers",
        "security_protocol",
        "sasl_mechanism",
        "sasl_username",
        "sasl_password",
        "ssl_ca_location",
        "ssl_certificate_location",
        "ssl_key_location",
        "ssl_key_password",
    }
)


def upstream_settings(env: DeploymentEnv | None = None) -> KafkaSettings:
    """Broker with the instrument's raw data (``KAFKA_*``)."""
    return settings_from_env("KAFKA_", load_config("kafka_upstream", env))


def downstream_settings(env: DeploymentEnv | None = None) -> KafkaSettings:
    """Broker for livedata's own topics (``KAFKA2_*``).

    Without ``KAFKA2_BOOTSTRAP_SERVERS`` it is the upstream broker: connection
    values not given as ``KAFKA2_*`` come from ``KAFKA_*`` and the upstream
    defaults; only client tuning comes from the downstream defaults.
    """
    downstream = load_config("kafka_downstream", env)
    if Env().str("KAFKA2_BOOTSTRAP_SERVERS", None):
        return settings_from_env("KAFKA2_", downstream)
    upstream = load_config("kafka_upstream", env)
    connection = {k: v for k, v in upstream.items() if k in _CONNECTION}
    tuning = {k: v for k, v in downstream.items() if k not in _CONNECTION}
    return settings_from_env("KAFKA2_", {**tuning, **connection}, fallback="KAFKA_")


def describe_brokers(upstream: KafkaSettings, downstream: KafkaSettings) -> str:
    """One phrase for the start-up log: where raw data and results go."""
    same = upstream.bootstrap_servers == downstream.bootstrap_servers
    where = "same" if same else downstream.describe()
    return f"upstream {upstream.describe()}, downstream {where}"
