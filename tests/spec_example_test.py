"""The Example section of the user's ``services.md``, run word for word.

The command strings are read from the spec file itself (the ```` ```sh ````
blocks under "## Example: Running the monitor data service") and run
verbatim, split with :func:`shlex.split`, with no ``KAFKA*`` variable set.
``python`` and ``gunicorn`` resolve through ``PATH`` with the test
interpreter's ``bin`` directory first, i.e. to the venv's. A leading
``NAME=value`` word is an environment assignment, as in a shell.

The broker is ``python -m ess.livedata.kafka.local_broker run`` on its default
address, localhost:9092, and the dashboard uses localhost:5007. To keep those
ports free on CI and away from other test brokers, the whole run happens in a
private network namespace: the test re-executes this file as a driver under
``unshare --net --fork`` (needs root) with only the loopback interface up, so
the browser runs in there too. Without ``unshare`` the test fails; it never
skips.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from browser_helpers import (
    caption_total,
    headless_chromium,
    open_dashboard,
    screenshot,
    wait_for,
)
from confluent_kafka.admin import AdminClient
from playwright.sync_api import Browser

from ess.livedata.testing.processes import LoggedProcess
from ess.livedata.testing.readers import LivedataReader

ROOT = Path(__file__).resolve().parents[1]
SPEC_ENV = "LIVEDATA_SERVICES_SPEC"
SECTION = "## Example: Running the monitor data service"
BROKER = "python -m ess.livedata.kafka.local_broker run"
CUMULATIVE = "monitor_histogram/monitor1/cumulative"
"""The published result, as the test reader names it and its plot on the
page is captioned: the current monitor_histogram job on monitor1."""
DEFAULT_BROKER = "localhost:9092 (KAFKA_BOOTSTRAP_SERVERS)"
DASHBOARD_URL = "http://localhost:5007/"
DRIVER_TIMEOUT_S = 900


def spec_path() -> Path:
    """``$LIVEDATA_SERVICES_SPEC``, else ``shared/spec/services.md`` next to
    the repository or one level up (the spec lives outside the repository)."""
    if os.environ.get(SPEC_ENV):
        return Path(os.environ[SPEC_ENV])
    for parent in ROOT.parents[:2]:
        candidate = parent / "shared" / "spec" / "services.md"
        if candidate.is_file():
            return candidate
    raise AssertionError(
        f"services.md not found next to {ROOT}; set {SPEC_ENV} to its path"
    )


def example_commands(markdown: str) -> list[str]:
    """Every command line of the ```sh blocks in the Example section, in order."""
    start = markdown.index(SECTION)
    end = markdown.find("\n## ", start + len(SECTION))
    section = markdown[start : end if end >= 0 else None]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL):
        for line in block.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                commands.append(line.strip())
    return commands


def test_example_section_lists_fake_service_and_both_dashboards():
    commands = example_commands(spec_path().read_text())
    assert commands == [
        "python -m ess.livedata.services.fake_monitors --mode ev44 --instrument dummy",
        "python -m ess.livedata.services.monitor_data --instrument dummy",
        "python -m ess.livedata.dashboard.monitors --instrument dummy",
        "LIVEDATA_INSTRUMENT=dummy gunicorn"
        " ess.livedata.dashboard.monitors_wsgi:application",
    ]


@pytest.mark.kafka
@pytest.mark.browser
@pytest.mark.slow
def test_example_section_runs_verbatim_and_shows_counts(tmp_path):
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.fail(
            "this test needs root and unshare(1) to run the Example on"
            " localhost:9092 and :5007 in a private network namespace",
            pytrace=False,
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA")}
    env[SPEC_ENV] = str(spec_path())
    result = subprocess.run(
        [
            "unshare",
            "--net",
            "--fork",
            "sh",
            "-c",
            'ip link set lo up && exec "$@"',
            "sh",
            sys.executable,
            __file__,
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=DRIVER_TIMEOUT_S,
    )
    print(result.stdout)
    logs = f"\n(program logs and screenshots in {tmp_path})"
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:] + logs
    assert "example passed" in result.stdout


# --- The driver, run inside the namespace ------------------------------------


def command_env(command: str) -> tuple[list[str], dict[str, str]]:
    """argv and environment of a shell command line with ``NAME=value`` words."""
    words = shlex.split(command)
    assignments = {}
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        assignments[name] = value
    return words, assignments


class Example:
    """Runs the spec's command lines as programs logged under ``log_dir``."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[LoggedProcess] = []
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        assert not [k for k in os.environ if k.startswith("KAFKA")]
        self.base_env = {"PATH": path}

    def start(self, command: str, name: str) -> LoggedProcess:
        argv, assignments = command_env(command)
        program = LoggedProcess(
            argv,
            log_path=self.log_dir / f"{name}.log",
            env=self.base_env | assignments,
        )
        self.running.append(program)
        return program

    @contextmanager
    def started(self, command: str, name: str) -> Iterator[LoggedProcess]:
        program = self.start(command, name)
        try:
            yield program
        finally:
            code = program.stop(timeout=30)
            self.running.remove(program)
            assert code == 0, f"{name} exited with {code}:\n{program.log_tail()}"

    def stop_all(self) -> None:
        for program in reversed(self.running):
            program.stop()


def wait_for_log(program: LoggedProcess, text: str, timeout: float = 180) -> None:
    def found() -> bool:
        assert program.running(), program.log_tail()
        return text in program.log()

    wait_for(found, f"{text!r} in {program.log_path.name}", timeout=timeout)


def check_dashboard(browser: Browser, url: str, screenshot_path: Path) -> float:
    """Open the page and wait for counts; returns the total it shows."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        open_dashboard(page, url)
        total = wait_for(
            lambda: caption_total(page, CUMULATIVE),
            "counts on the page",
            timeout=120,
        )
        strip = page.locator(".ld-broker").inner_text()
        assert strip == f"Broker: {DEFAULT_BROKER}", strip
        screenshot(page, screenshot_path)
        return total
    finally:
        context.close()


def drive(out_dir: Path, spec: Mapping[str, str]) -> None:
    """Broker on its default address, then the Example's commands in order."""
    fake, service, dashboard, gunicorn = example_commands(
        Path(spec[SPEC_ENV]).read_text()
    )
    example = Example(out_dir)
    try:
        broker = example.start(BROKER, "local_broker")
        wait_for_log(broker, "export KAFKA2_BOOTSTRAP_SERVERS=127.0.0.1:9092")
        assert "taken" not in broker.log(), broker.log_tail()
        example.start(fake, "fake_monitors")
        monitor_data = example.start(service, "monitor_data")
        wait_for_log(monitor_data, f"upstream {DEFAULT_BROKER}, downstream same")
        admin = AdminClient({"bootstrap.servers": "localhost:9092"})
        wait_for(
            lambda: "dummy_livedata_data" in admin.list_topics(timeout=5).topics,
            "monitor_data's first output to create dummy_livedata_data",
        )
        reader = LivedataReader("localhost:9092", "dummy")
        try:
            [data] = reader.wait_for(
                lambda: (
                    (d := reader.latest(CUMULATIVE)) is not None
                    and d.sum().value > 0
                    and (d,)
                ),  # a DataArray has no truth value
                timeout=120,
                what=f"counts on dummy_livedata_data ({CUMULATIVE})",
            )
        finally:
            reader.close()
        print(f"data topic: {CUMULATIVE} with {data.sum().value:g} counts")
        with headless_chromium() as browser:
            with example.started(dashboard, "dashboard") as program:
                wait_for_log(program, f"downstream {DEFAULT_BROKER}")
                total = check_dashboard(
                    browser, DASHBOARD_URL, out_dir / "example-dev-dashboard.png"
                )
                print(f"dashboard (dev mode): {total:g} counts")
            with example.started(gunicorn, "gunicorn"):
                total = check_dashboard(
                    browser, DASHBOARD_URL, out_dir / "example-gunicorn.png"
                )
                print(f"dashboard (gunicorn): {total:g} counts")
    finally:
        example.stop_all()
    print("example passed")


if __name__ == "__main__":
    drive(Path(sys.argv[1]), os.environ)
