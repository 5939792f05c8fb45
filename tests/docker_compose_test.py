"""The compose files are deployable artefacts; no Docker engine runs here,
so their structure is checked instead: services, profiles, ports, that every
Dockerfile and distribution they name exists, and that Debian's
docker-compose (1.29, the command services.md uses; installed for CI by
scripts/apt_install.sh) accepts them as the guide runs them."""

from __future__ import annotations

import os
import re
import subprocess
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


def _in_repo_distributions() -> dict[str, Path]:
    return {
        path.name: path
        for parent in ("packages", "instruments")
        for path in (ROOT / parent).iterdir()
        if (path / "pyproject.toml").is_file()
    }


@pytest.mark.parametrize("dockerfile", sorted(DOCKER.glob("*.Dockerfile")))
def test_dockerfiles_install_every_in_repo_dependency(dockerfile):
    """pip cannot find our distributions on PyPI: each image must install the
    in-repo ones its distributions depend on (livedata-protocol, -ess, ...)."""
    text = dockerfile.read_text()
    known = _in_repo_distributions()
    installed = set(re.findall(r"packages/(livedata-[\w-]+)", text))
    if "instruments/*/" in text:
        installed |= {
            name for name, path in known.items() if path.parent.name == "instruments"
        }
    for name in sorted(installed):
        project = tomllib.loads((known[name] / "pyproject.toml").read_text())["project"]
        for requirement in project.get("dependencies", []):
            dependency = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
            if dependency in known:
                assert dependency in installed, f"{name} needs {dependency}"


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


def test_ess_livedata_file_is_the_same_stack():
    ess = DOCKER / "docker-compose-ess.livedata.yml"
    assert ess.resolve() == (DOCKER / "docker-compose.yml").resolve()


def test_services_wait_for_a_healthy_broker(compose):
    kafka = compose["services"]["kafka"]
    assert "kafka-broker-api-versions.sh" in " ".join(kafka["healthcheck"]["test"])
    for name, service in compose["services"].items():
        if name != "kafka":
            assert service["depends_on"] == {"kafka": {"condition": "service_healthy"}}


def test_broker_listens_for_containers_and_for_the_host(compose):
    kafka = compose["services"]["kafka"]
    advertised = kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert set(advertised) == {"INTERNAL://kafka:29092", "EXTERNAL://localhost:9092"}
    assert kafka["ports"] == ["127.0.0.1:9092:9092"]
    env = compose["services"]["monitor-data"]["environment"]
    for prefix in ("KAFKA", "KAFKA2"):
        variable = f"{prefix}_BOOTSTRAP_SERVERS"
        assert env[variable] == f"${{{variable}:-kafka:29092}}"


GUIDE_PROFILES = [
    [],
    ["monitor"],
    ["detector"],
    ["reduction"],
    ["monitor", "reduction"],
]


@pytest.mark.parametrize("profiles", GUIDE_PROFILES, ids=lambda p: "+".join(p) or "-")
@pytest.mark.parametrize(
    "file", ["docker-compose.yml", "docker-compose-ess.livedata.yml"]
)
def test_docker_compose_accepts_the_file_as_the_guide_runs_it(file, profiles):
    flags = [arg for profile in profiles for arg in ("--profile", profile)]
    result = subprocess.run(
        ["docker-compose", *flags, "-f", file, "config"],
        cwd=DOCKER,
        env={**os.environ, "LIVEDATA_INSTRUMENT": "dummy"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert "kafka" in services
    expected = {
        "monitor": "dashboard-monitors",
        "detector": "dashboard-detectors",
        "reduction": "dashboard-reduction",
    }
    assert {expected[p] for p in profiles} <= set(services)
    assert services["kafka"]["healthcheck"]["retries"] == 30
