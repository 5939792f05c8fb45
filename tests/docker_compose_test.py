"""The compose files are deployable artefacts; no Docker engine runs here,
so their structure is checked instead: services, profiles, ports, and that
every Dockerfile and distribution they name exists."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from ess.livedata.kafka.settings import settings_from_env

ROOT = Path(__file__).parents[1]
DOCKER = ROOT / "docker"


def load(name: str) -> dict:
    return yaml.safe_load((DOCKER / name).read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return load("docker-compose.yml")


def test_profiles_and_dashboard_ports(compose):
    services = compose["services"]
    assert "profiles" not in services["kafka"]
    profiles = {name: set(s.get("profiles", [])) for name, s in services.items()}
    assert {p for ps in profiles.values() for p in ps} == {
        "monitor",
        "detector",
        "reduction",
    }
    ports = {
        name: s["ports"] for name, s in services.items() if name.startswith("dashboard")
    }
    assert ports == {
        "dashboard-monitors": ["5007:5007"],
        "dashboard-detectors": ["5008:5008"],
        "dashboard-reduction": ["5009:5009"],
    }
    assert profiles["monitor-data"] == {"monitor"}
    assert profiles["detector-data"] == {"detector"}
    assert "reduction" in profiles["data-reduction"]


def test_broker_runs_kraft_without_zookeeper(compose):
    env = compose["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert not any("zookeeper" in name for name in compose["services"])


class RecordingEnv:
    """Stands in for ``environs.Env``: records the variables settings read."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def str(self, name: str, default: str | None) -> str | None:
        self.names.append(name)
        return default


def kafka_variables() -> list[str]:
    """Every ``KAFKA_*`` / ``KAFKA2_*`` variable the Kafka settings read."""
    env = RecordingEnv()
    for prefix in ("KAFKA_", "KAFKA2_"):
        settings_from_env(prefix, {"bootstrap_servers": "kafka:9092"}, env=env)
    return env.names


def test_environment_is_passed_through(compose):
    variables = kafka_variables()
    assert "KAFKA2_SSL_KEY_PASSWORD" in variables  # SSL ones too
    for name, service in compose["services"].items():
        if name == "kafka":
            continue
        env = service["environment"]
        assert env["LIVEDATA_INSTRUMENT"] == "${LIVEDATA_INSTRUMENT:-dummy}"
        for variable in variables:
            assert variable in env, (name, variable)
            assert env[variable].startswith(f"${{{variable}:-"), (name, variable)


def test_user_guide_lists_every_kafka_variable():
    guide = (ROOT / "docs" / "user-guide.md").read_text()
    for variable in kafka_variables():
        if variable.startswith("KAFKA_"):
            assert f"`{variable}`" in guide, variable
    assert "`KAFKA2_*`" in guide


def test_commands_name_existing_modules(compose):
    for name, service in compose["services"].items():
        command = service.get("command")
        if not command:
            continue
        module = command[2] if command[0] == "python" else command[1].split(":")[0]
        parts = module.split(".")
        candidates = [
            p / "src" / Path(*parts).with_suffix(".py")
            for parent in ("packages",)
            for p in (ROOT / parent).iterdir()
        ]
        assert any(c.is_file() for c in candidates), f"{name}: {module} not found"


@pytest.mark.parametrize("dockerfile", sorted(DOCKER.glob("*.Dockerfile")))
def test_dockerfiles_copy_existing_distributions(dockerfile):
    text = dockerfile.read_text()
    copied = re.findall(r"^COPY (\S+) ", text, flags=re.MULTILINE)
    assert copied
    for path in copied:
        assert (ROOT / path).exists(), path
        if path.startswith("packages/"):
            assert tomllib.loads((ROOT / path / "pyproject.toml").read_text())


def test_each_role_installs_only_what_it_needs():
    dashboard = (DOCKER / "dashboard.Dockerfile").read_text()
    assert "livedata-services" not in dashboard
    assert "[reduction]" not in dashboard
    services = (DOCKER / "services.Dockerfile").read_text()
    assert "livedata-dashboard" not in services


def test_referenced_dockerfiles_exist(compose):
    for name, service in compose["services"].items():
        if "build" in service:
            assert (ROOT / service["build"]["dockerfile"]).is_file(), name


def test_ess_livedata_file_includes_the_stack():
    assert load("docker-compose-ess.livedata.yml")["include"] == ["docker-compose.yml"]
