"""Running livedata programs as real subprocesses in tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from ess.livedata.core.processes import die_with_parent


class LoggedProcess:
    """A subprocess with its output in a log file.

    Stopped with SIGINT (like Ctrl-C) so a test also proves a clean exit;
    the kernel kills it if the process that started it dies, so a killed
    test run or benchmark leaves nothing behind.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            preexec_fn=die_with_parent(),
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def wait(self, timeout: float) -> int:
        """Wait for a program that ends by itself (e.g. ``--pulses N``); one
        still running after ``timeout`` is stopped and reported with its log."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(
                f"{self.log_path.stem} still running after {timeout} s:\n"
                + self.log_tail(200)
            ) from None
        self._log.close()
        return code

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


class Program(LoggedProcess):
    """``python -m <module>`` against a Kafka broker (upstream and downstream)."""

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
        super().__init__(
            [sys.executable, "-m", module, *args],
            log_path=_unused_log_path(log_dir, module.rsplit(".", 1)[-1]),
            env={
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
                "KAFKA2_BOOTSTRAP_SERVERS": bootstrap_servers,
                **(env or {}),
            },
        )


def _unused_log_path(log_dir: Path, name: str) -> Path:
    """``<name>.log``, or ``<name>-2.log``... when programs share a module
    (e.g. two workers of one service), so no log overwrites another."""
    path = log_dir / f"{name}.log"
    copy = 1
    while path.exists():
        copy += 1
        path = log_dir / f"{name}-{copy}.log"
    return path
