"""SASL over the real broker: right credentials work, wrong ones fail fast and clearly.

A dedicated broker has a SASL_PLAINTEXT listener accepting PLAIN and
SCRAM-SHA-512 (``LocalKafkaBroker(sasl_users=...)``) next to its PLAINTEXT
one, which the test's own reader uses. Services and fakes get their
credentials only from ``KAFKA_*`` (upstream) and ``KAFKA2_*`` (downstream).
A wrong password must end the program within seconds with one line naming
the variables, never a silent wait; no password may appear in any log.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import private_broker, wait_until_consuming
from reliability_helpers import INSTRUMENT, SERVICE

from ess.livedata.kafka.local_broker import LocalKafkaBroker
from ess.livedata.testing.processes import Program
from ess.livedata.testing.readers import LivedataReader

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

USERS = {"alice": "alice-Pw-7f3a9c", "bob": "bob-Pw-51d2e8"}
WRONG = "not-the-Pw-0b6e4d"
SECRETS = (*USERS.values(), WRONG)
EVENTS_PER_PULSE = 100


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory) -> Iterator[LocalKafkaBroker]:
    data_dir = tmp_path_factory.mktemp("sasl-kafka")
    with private_broker(data_dir, sasl_users=USERS) as broker:
        yield broker


def sasl_env(
    broker: LocalKafkaBroker, prefix: str, mechanism: str, user: str, password: str
) -> dict[str, str]:
    return {
        f"{prefix}BOOTSTRAP_SERVERS": broker.sasl_bootstrap_servers,
        f"{prefix}SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        f"{prefix}SASL_MECHANISM": mechanism,
        f"{prefix}SASL_USERNAME": user,
        f"{prefix}SASL_PASSWORD": password,
    }


def program(
    broker: LocalKafkaBroker, module: str, args: list[str], env: dict, log_dir: Path
) -> Program:
    log_dir.mkdir(parents=True, exist_ok=True)
    return Program(
        f"ess.livedata.services.{module}",
        ["--instrument", INSTRUMENT, *args],
        bootstrap_servers=broker.sasl_bootstrap_servers,
        log_dir=log_dir,
        env=env,
    )


def assert_no_secret(*logs: str) -> None:
    for log in logs:
        for secret in SECRETS:
            assert secret not in log


@pytest.mark.parametrize(
    ("upstream", "downstream"),
    [("PLAIN", "SCRAM-SHA-512"), ("SCRAM-SHA-512", "PLAIN")],
)
def test_right_credentials_let_data_flow(sasl_broker, tmp_path, upstream, downstream):
    env = sasl_env(sasl_broker, "KAFKA_", upstream, "alice", USERS["alice"])
    env |= sasl_env(sasl_broker, "KAFKA2_", downstream, "bob", USERS["bob"])
    reader = LivedataReader(sasl_broker.bootstrap_servers, INSTRUMENT)
    service = program(
        sasl_broker, SERVICE, ["--dev", "--log-level", "DEBUG"], env, tmp_path
    )
    try:
        wait_until_consuming(reader, SERVICE, partitions=2)
        fake = program(
            sasl_broker,
            "fake_monitors",
            ["--pulses", "14", "--events-per-pulse", str(EVENTS_PER_PULSE)],
            env,
            tmp_path,
        )
        assert fake.wait(60) == 0, fake.log()
        total = 14 * EVENTS_PER_PULSE
        reader.wait_for(
            lambda: (
                (d := reader.latest("monitor_histogram/monitor1/cumulative"))
                is not None
                and d.sum().value == total
            ),
            what=f"{total} events through SASL {upstream} / {downstream}",
        )
        fake.stop()
    finally:
        reader.close()
        code = service.stop()
    assert code == 0, service.log()
    assert_no_secret(service.log(), fake.log())


@pytest.mark.parametrize(
    ("module", "prefix", "mechanism"),
    [
        (SERVICE, "KAFKA_", "SCRAM-SHA-512"),
        (SERVICE, "KAFKA2_", "PLAIN"),
        ("fake_monitors", "KAFKA_", "PLAIN"),
    ],
)
def test_wrong_password_fails_fast_with_one_line_naming_the_variables(
    sasl_broker, tmp_path, module, prefix, mechanism
):
    right = {
        p: sasl_env(sasl_broker, p, mechanism, "alice", USERS["alice"])
        for p in ("KAFKA_", "KAFKA2_")
    }
    env = right["KAFKA_"] | right["KAFKA2_"]
    env |= sasl_env(sasl_broker, prefix, mechanism, "alice", WRONG)
    args = ["--dev"] if module == SERVICE else ["--pulses", "1"]
    started = time.monotonic()
    failed = program(sasl_broker, module, args, env, tmp_path)
    try:
        failed.wait(30)
    finally:
        code = failed.stop()  # also closes the log file
    elapsed = time.monotonic() - started
    log = failed.log()
    assert code == 1, log
    assert elapsed < 15, f"took {elapsed:.1f} s"
    errors = [line for line in log.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, log
    [line] = errors
    assert f"{prefix}SASL_USERNAME" in line
    assert f"{prefix}SASL_PASSWORD" in line
    assert "alice" in line
    assert "Traceback" not in log
    assert_no_secret(log)
