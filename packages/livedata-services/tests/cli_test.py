import os
import subprocess
import sys

import pytest

from ess.livedata.core.plugins import installed_instruments


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ess.livedata.services.monitor_data", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def test_unknown_instrument_is_one_line_and_exit_2():
    result = run("--instrument", "nosuch")
    assert result.returncode == 2
    installed = ", ".join(installed_instruments())
    assert result.stderr.strip().splitlines() == [
        f"error: unknown instrument 'nosuch'; installed: {installed}"
    ]
    assert "dummy" in installed


def test_unknown_flag_is_usage_error_without_traceback():
    result = run("--instrument", "dummy", "--sink", "paper")
    assert result.returncode == 2
    assert "invalid choice: 'paper'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KAFKA_SECURITY_PROTOCOL", "PLAINTXT"),
        ("KAFKA2_BOOTSTRAP_SERVERS", "no-port-here"),
        ("LIVEDATA_ENV", "prod"),
    ],
)
def test_bad_environment_names_the_variable(variable, value):
    result = run("--instrument", "dummy", "--dev", **{variable: value})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {variable}")
