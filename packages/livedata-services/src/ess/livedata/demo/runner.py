"""Starting, watching and stopping the demo's processes."""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ess.livedata.core.processes import die_with_parent
from ess.livedata.kafka.clients import LiveConsumer, ensure_topics
from ess.livedata.kafka.livedata_topics import (
    LivedataTopic,
    ServiceReport,
)
from ess.livedata.kafka.local_broker import LocalKafkaBroker
from ess.livedata.kafka.schemas.errors import DecodeError
from ess.livedata.kafka.schemas.x5f2 import decode_x5f2
from ess.livedata.kafka.settings import KafkaSettings

from .profiles import ProgramSpec
from .summary import StatusSummary
from .workdir import WorkDir, remove_stale

logger = logging.getLogger(__name__)
BROKER_DATA = "broker"  # in the demo's work folder, removed on the way out


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class Child:
    """One demo program; output goes to ``<log_dir>/<name>.log``."""

    def __init__(
        self, spec: ProgramSpec, instrument: str, env: dict[str, str], log_dir: Path
    ) -> None:
        self.spec = spec
        self.log_path = log_dir / f"{spec.name}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", spec.module, "--instrument", instrument, *spec.args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=die_with_parent(),
        )
        self.reported_exit = False

    def stop(self, timeout: float) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning(
                    "%s did not stop in %.0f s, killing it", self.spec.name, timeout
                )
                self.process.kill()
                self.process.wait()
        self._log.close()


class Demo:
    """Runs a broker (unless one is given), fakes, services and dashboards."""

    def __init__(
        self,
        instrument: str,
        programs: list[ProgramSpec],
        *,
        bootstrap_servers: str | None,
        log_dir: Path | None = None,
        prepare: Callable[[Path], None] | None = None,
        out=sys.stdout,
    ) -> None:
        """``prepare`` gets the demo's work folder before any program starts
        (e.g. to write stand-in geometry there, removed with the folder)."""
        self._instrument = instrument
        self._prepare = prepare
        self._programs = programs
        self._bootstrap = bootstrap_servers
        self._log_dir = log_dir
        self._out = out
        self._children: list[Child] = []
        self._broker: LocalKafkaBroker | None = None

    def _print(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    def run(self, stop: threading.Event, duration_s: float | None = None) -> None:
        """Start everything, print a summary each second until ``stop``.

        Whatever ends the run, the broker's data is deleted on the way out;
        the folders of earlier demos that were killed are deleted first.
        """
        for folder in remove_stale():
            self._print(f"removed {folder}, left by a demo that was killed")
        workdir = WorkDir()
        log_dir = self._log_dir or workdir.path / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        try:
            if self._prepare is not None:
                self._prepare(workdir.path)
            bootstrap = self._start_broker(workdir, log_dir)
            self._start_children(bootstrap, log_dir)
            self._watch(bootstrap, stop, duration_s)
        finally:
            self._shutdown()
            workdir.remove(BROKER_DATA)
            workdir.release()
            self._print(f"all stopped; logs in {log_dir}")

    def _start_broker(self, workdir: WorkDir, log_dir: Path) -> str:
        if self._bootstrap:
            self._print(f"using the Kafka broker at {self._bootstrap}")
            return self._bootstrap
        self._print("no KAFKA_BOOTSTRAP_SERVERS set: starting a local Kafka broker ...")
        self._broker = LocalKafkaBroker(
            data_dir=workdir.path / BROKER_DATA, log_file=log_dir / "broker.log"
        )
        self._broker.start()
        self._print(f"Kafka broker ready at {self._broker.bootstrap_servers}")
        return self._broker.bootstrap_servers

    def _start_children(self, bootstrap: str, log_dir: Path) -> None:
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "KAFKA2_BOOTSTRAP_SERVERS": os.environ.get(
                "KAFKA2_BOOTSTRAP_SERVERS", bootstrap
            ),
            "PYTHONUNBUFFERED": "1",
        }
        for spec in self._programs:
            if not _importable(spec.module):
                self._print(f"skipping {spec.name}: {spec.module} is not installed")
                continue
            self._children.append(Child(spec, self._instrument, env, log_dir))
        self._print(f"logs in {log_dir}")
        for child in self._children:
            if child.spec.url:
                self._print(f"{child.spec.name:<16} {child.spec.url}")

    def _watch(
        self, bootstrap: str, stop: threading.Event, duration_s: float | None
    ) -> None:
        settings = KafkaSettings(bootstrap_servers=bootstrap)
        topic = LivedataTopic.HEARTBEAT.of(self._instrument)
        ensure_topics(settings, [topic])
        consumer = LiveConsumer(settings, f"livedata-demo-{os.getpid()}", [topic])
        summary = StatusSummary()
        started = time.monotonic()
        next_print = started + 1.0
        try:
            while not stop.is_set():
                for record in consumer.consume(100, 0.2):
                    if record.error() is None:
                        try:
                            beat = decode_x5f2(record.value() or b"")
                            report = ServiceReport.of(beat)
                            if report is not None:
                                summary.update(report)
                        except DecodeError as error:
                            logger.warning("bad heartbeat: %s", error)
                self._report_exits()
                now = time.monotonic()
                if now >= next_print:
                    next_print = now + 1.0
                    lines = summary.lines() or ["waiting for the first heartbeats ..."]
                    self._print(f"--- {time.strftime('%H:%M:%S')}\n" + "\n".join(lines))
                if duration_s is not None and now - started >= duration_s:
                    break
        finally:
            consumer.close()

    def _report_exits(self) -> None:
        for child in self._children:
            code = child.process.poll()
            if code is not None and not child.reported_exit:
                child.reported_exit = True
                tail = child.log_path.read_text().splitlines()[-5:]
                self._print(
                    f"{child.spec.name} exited with code {code}; last lines of "
                    f"{child.log_path}:\n  " + "\n  ".join(tail)
                )

    def _shutdown(self) -> None:
        if self._children:
            self._print("stopping ...")
        for child in reversed(self._children):
            child.stop(timeout=15)
        if self._broker is not None:
            self._broker.stop()
