"""The end-to-end benchmark's short mode runs in CI (benchmarks/e2e/throughput.py).

It measures, it does not judge speed: a shared CI machine's timings say
little. What must hold is that the harness works on the session broker and
that every pulse the generator offered reached a published output.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "e2e" / "throughput.py"

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.alone]


def test_quick_run_measures_both_services_and_loses_no_pulse(bootstrap, tmp_path):
    command = [sys.executable, str(SCRIPT), "--quick", "--bootstrap", bootstrap]
    result = subprocess.run(
        [*command, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    steps = json.loads((tmp_path / "quick.json").read_text())["steps"]
    assert {step["service"] for step in steps} == {"monitor_data", "detector_data"}
    for step in steps:
        assert step["pulses_measured"] > 0, step
        assert step["pulses_missing"] == 0, step
        assert step["published_rate"] > 0, step
    assert (tmp_path / "quick.md").read_text().count("| base |") == len(steps)
    assert (tmp_path / "quick.png").stat().st_size > 0
