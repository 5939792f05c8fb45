"""The long fuzz run (benchmarks/fuzz_adapters.py) works: a short run finds no crash."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "fuzz_adapters.py"


def test_short_fuzz_run_of_every_adapter_and_command_handler():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--seconds", "0.2", "--seed", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    targets = {row.split(" | ")[0].removeprefix("| ") for row in rows[1:]}
    assert {"ev44", "f144", "da00", "x5f2", "ad00"} <= targets
    assert "handle_command(monitor_data)" in targets
    assert "CRASH" not in result.stdout
