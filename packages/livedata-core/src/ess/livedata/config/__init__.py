"""Configuration: packaged YAML defaults, picked by ``LIVEDATA_ENV``.

Files in :mod:`ess.livedata.config.defaults` are named ``<name>_<env>.yaml``;
``dev`` is used unless ``LIVEDATA_ENV`` says ``staging`` or ``production``.
"""

from __future__ import annotations

import enum
from importlib.resources import files
from typing import Any

import yaml
from environs import Env


class ConfigError(ValueError):
    """A configuration value (file or environment variable) is invalid."""


class DeploymentEnv(enum.StrEnum):
    """Which set of default files applies."""

    DEV = "dev"
    STAGING = "staging"
    PRODUCTION = "production"


def deployment_env(env: Env | None = None) -> DeploymentEnv:
    """Read ``LIVEDATA_ENV``, defaulting to ``dev``."""
    env = env or Env()
    choices = [e.value for e in DeploymentEnv]
    value = env.str("LIVEDATA_ENV", None) or "dev"
    if value not in choices:
        raise ConfigError(
            f"LIVEDATA_ENV must be one of {', '.join(choices)}, not {value!r}"
        )
    return DeploymentEnv(value)


def load_config(name: str, env: DeploymentEnv | None = None) -> dict[str, Any]:
    """Load the packaged defaults ``<name>_<env>.yaml`` as a dict."""
    env = env or deployment_env()
    resource = files(__name__).joinpath("defaults", f"{name}_{env.value}.yaml")
    if not resource.is_file():
        raise ConfigError(f"no configuration {name!r} for LIVEDATA_ENV={env.value}")
    try:
        loaded = yaml.safe_load(resource.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        message = f"configuration {resource.name} is not valid YAML: {error}"
        raise ConfigError(message) from error
    return loaded or {}
