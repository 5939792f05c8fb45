"""Running livedata programs as real subprocesses in tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


class Program:
    """A ``python -m <module>`` subprocess with its output in a log file.

    Stopped with SIGINT (like Ctrl-C) so the test also proves a clean exit.
    """

    def __init__(
        self,
        module: str,
        args: Sequence[str],
        *,
        bootstrap_servers: str,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.module = module
        self.log_path = _unused_log_path(log_dir, module.rsplit(".", 1)[-1])
        environment = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
            "KAFKA2_BOOTSTRAP_SERVERS": bootstrap_servers,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=environment,
        )

    def log(self) -> str:
        return self.log_path.read_text()

    def wait(self, timeout: float) -> int:
        """Wait for a program that ends by itself (e.g. ``--pulses N``)."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.module} still running after {timeout} s:\n{self.log()}"
            ) from None

    def stop(self, timeout: float = 20) -> int:
        """SIGINT, then SIGKILL if it does not exit; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


def _unused_log_path(log_dir: Path, name: str) -> Path:
    """``<name>.log``, or ``<name>-2.log``... when programs share a module
    (e.g. two workers of one service), so no log overwrites another."""
    path = log_dir / f"{name}.log"
    copy = 1
    while path.exists():
        copy += 1
        path = log_dir / f"{name}-{copy}.log"
    return path
