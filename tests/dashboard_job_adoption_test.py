"""A restarted dashboard re-adopts running jobs from their heartbeats.

The jobs are the facility's: a thread re-publishes the recorded job
heartbeats and results of the corpus (``monitor_histogram`` on monitor1 and
monitor2) every second, as running services would, and switches a job to its
``stopped`` heartbeat once the dashboard stopped it. The browser sees the
job's data, the dashboard is restarted, the new process shows the same job
and data, and its reset and stop reach the commands topic addressed to the
adopted job ids.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_helpers import (
    caption_total,
    headless_chromium,
    open_dashboard,
    screenshot,
    unused_port,
    wait_for,
)
from confluent_kafka import Consumer, Producer, TopicPartition
from conftest import INSTRUMENT
from playwright.sync_api import Page

from ess.livedata.dashboard.grid_store import STATE_DIR_ENV
from ess.livedata.kafka.clients import ensure_topics, high_watermark
from ess.livedata.kafka.livedata_topics import LivedataTopic, decode_record
from ess.livedata.kafka.schemas.x5f2 import encode_x5f2
from ess.livedata.kafka.settings import KafkaSettings
from ess.livedata.protocol import JobAction, JobCommand, JobId, JobState
from ess.livedata.testing.processes import Program

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CORPUS = Path(__file__).parents[1] / "packages/livedata-protocol/tests/corpus"
HEARTBEATS = sorted((CORPUS / "livedata_heartbeat").glob("03[45]-job-*-active.bin"))
RESULTS = sorted((CORPUS / "livedata_data").glob("02[34]-monitor_histogram-*.bin"))
NUMBER = "983544fe-98b9-451f-8902-e7b852baa1a5"
CUMULATIVE = "monitor_histogram/monitor1/cumulative"


class RecordedJobs:
    """Re-publishes recorded job heartbeats and results until closed; a job
    named in ``stopped`` heartbeats as stopped from then on."""

    def __init__(self, servers: str) -> None:
        self._producer = Producer({"bootstrap.servers": servers})
        self.stopped: set[JobId] = set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _beat(self, path: Path) -> bytes:
        beat = decode_record(LivedataTopic.HEARTBEAT, path.read_bytes())
        message = beat.status.message
        if message.job_id not in self.stopped:
            return path.read_bytes()
        stopped = message.model_copy(update={"state": JobState.STOPPED})
        status = beat.status.model_copy(
            update={"message": stopped, "status": int(stopped.nicos_status)}
        )
        return encode_x5f2(beat.model_copy(update={"status": status}))

    def _run(self) -> None:
        while not self._done.wait(1.0):
            for path in HEARTBEATS:
                self._producer.produce(
                    LivedataTopic.HEARTBEAT.of(INSTRUMENT), self._beat(path)
                )
            for path in RESULTS:
                self._producer.produce(
                    LivedataTopic.DATA.of(INSTRUMENT), path.read_bytes()
                )
            self._producer.flush(5)

    def close(self) -> None:
        self._done.set()
        self._thread.join(10)


class CommandLog:
    """Job commands sent on the commands topic from now on."""

    def __init__(self, servers: str) -> None:
        self._consumer = Consumer(
            {"bootstrap.servers": servers, "group.id": f"cmd-{uuid.uuid4().hex}"}
        )
        partition = TopicPartition(LivedataTopic.COMMANDS.of(INSTRUMENT), 0)
        partition.offset = high_watermark(self._consumer, partition)
        self._consumer.assign([partition])
        self.commands: list[JobCommand] = []

    def poll(self) -> list[JobCommand]:
        for record in self._consumer.consume(100, 0.5):
            if record.error() is None:
                command = decode_record(LivedataTopic.COMMANDS, record.value())
                if isinstance(command, JobCommand):
                    self.commands.append(command)
        return self.commands

    def close(self) -> None:
        self._consumer.close()


@pytest.fixture
def recorded(bootstrap) -> Iterator[RecordedJobs]:
    settings = KafkaSettings(bootstrap_servers=bootstrap)
    ensure_topics(settings, [t.of(INSTRUMENT) for t in LivedataTopic])
    jobs = RecordedJobs(bootstrap)
    try:
        yield jobs
    finally:
        jobs.close()


def job(source: str) -> JobId:
    return JobId(source_name=source, job_number=NUMBER)


def start_dashboard(name: str, bootstrap: str, tmp_path: Path) -> tuple[str, Program]:
    port = unused_port()
    program = Program(
        f"ess.livedata.dashboard.{name}",
        ["--instrument", INSTRUMENT, "--port", str(port)],
        bootstrap_servers=bootstrap,
        log_dir=tmp_path,
        env={STATE_DIR_ENV: str(tmp_path / "state")},
    )
    return f"http://127.0.0.1:{port}/", program


def shows_data(page: Page) -> float | None:
    return caption_total(page, CUMULATIVE)


def test_restarted_dashboard_adopts_resets_and_stops_running_jobs(
    bootstrap, recorded, tmp_path
):
    commands = CommandLog(bootstrap)
    with headless_chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        url, first = start_dashboard("monitors", bootstrap, tmp_path)
        try:
            open_dashboard(page, url)
            wait_for(lambda: shows_data(page), "the running job's data", 120)
            screenshot(page, tmp_path / "adoption-before-restart.png")
        finally:
            assert first.stop() == 0, first.log()

        url, second = start_dashboard("monitors", bootstrap, tmp_path)
        try:
            open_dashboard(page, url)
            total = wait_for(lambda: shows_data(page), "the adopted job's data", 120)
            assert total > 0
            screenshot(page, tmp_path / "adoption-after-restart.png")
            page.get_by_role("button", name="Reset cumulative").click()
            resets = wait_for(
                lambda: [c for c in commands.poll() if c.action is JobAction.RESET],
                "the reset on the commands topic",
            )
            assert {c.job_id for c in resets} == {job("monitor1"), job("monitor2")}
            wait_for(
                lambda: (
                    "reset monitor_histogram: sent" in page.inner_text(".ld-feedback")
                ),
                "the reset in the page's feedback",
            )
        finally:
            assert second.stop() == 0, second.log()

        url, reduction = start_dashboard("reduction", bootstrap, tmp_path)
        try:
            open_dashboard(page, url)
            row = page.locator(f'tr[data-job="monitor1/{NUMBER}"]')
            wait_for(
                lambda: row.count() and row.get_attribute("data-current") == "true",
                "the adopted job in the job table",
                120,
            )
            label = f"monitor_histogram on monitor1 ({NUMBER[:8]})"
            page.locator("select").filter(has_text=label).select_option(label=label)
            page.get_by_role("button", name="Stop job").click()
            stops = wait_for(
                lambda: [c for c in commands.poll() if c.action is JobAction.STOP],
                "the stop on the commands topic",
            )
            assert [c.job_id for c in stops] == [job("monitor1")]
            recorded.stopped.add(job("monitor1"))
            wait_for(
                lambda: row.get_attribute("data-state") == "stopped",
                "the job's stopped heartbeat in the table",
            )
            assert row.get_attribute("data-current") == "false"
            screenshot(page, tmp_path / "adoption-stopped.png")
        finally:
            assert reduction.stop() == 0, reduction.log()
    commands.close()
