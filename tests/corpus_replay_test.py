"""The facility's recorded commands, sent to livedata's services, get the recorded answers.

The corpus (``packages/livedata-protocol/tests/corpus``) was recorded from
the facility's services driven by its dashboard and NICOS. Here the four
dummy services run on the session broker with the fakes feeding them; every
recorded command and ROI request is sent in its recorded order, and what
comes back must have the recorded shape: the same responses (message id,
device, ACK or ERR, from as many services), results under the started jobs'
result keys with the recorded outputs and dimensionality, job heartbeats
that go active and end stopped, and NICOS device values whose span restarts
on a reset. One change to the recording: the scheduled ``total_counts``
start (014) is moved to the present, since a schedule is in data time.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import Producer
from conftest import INSTRUMENT, wait_until_consuming

from ess.livedata.core.message import StreamKind
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.streams import Topology
from ess.livedata.kafka.livedata_topics import LivedataTopic
from ess.livedata.protocol import (
    JobId,
    JobState,
    ResponseKind,
    ResultKey,
    WorkflowConfig,
    parse_command,
)

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).parents[1] / "packages/livedata-protocol/tests/corpus"
INPUTS = {
    "monitor_data": (StreamKind.MONITOR_EVENTS,),
    "detector_data": (StreamKind.DETECTOR_EVENTS, StreamKind.AREA_DETECTOR),
    "timeseries": (StreamKind.LOG,),
    "data_reduction": (
        StreamKind.DETECTOR_EVENTS,
        StreamKind.MONITOR_EVENTS,
        StreamKind.LOG,
    ),
}
"""The data each service reads besides commands (and detector_data ROIs)."""
SERVICES = tuple(INPUTS)
SCHEDULED = "014"
SECOND = 1_000_000_000


def recorded(kind: str) -> list[Path]:
    """The corpus files of one topic kind, in capture order."""
    return sorted((CORPUS / kind).glob("*.bin"))


def decoded(path: Path) -> dict:
    return json.loads(path.with_suffix(".json").read_text())["decoded"]


def replayed(path: Path) -> bytes:
    """The recorded command, with the scheduled job moved to the present."""
    payload = path.read_bytes()
    if not path.name.startswith(SCHEDULED):
        return payload
    raw = json.loads(payload)
    now = time.time_ns()
    raw["schedule"] = {"start_time": now + 4 * SECOND, "end_time": now + 12 * SECOND}
    return json.dumps(raw).encode()


def recorded_responses() -> Counter[tuple[str | None, str, str]]:
    """(message id, device, ACK/ERR) of every recorded response; the id of an
    answer to a command sent without one is drawn by the service: None."""
    sent = {decoded(p).get("message_id") for p in recorded("livedata_commands")}
    answers: Counter[tuple[str | None, str, str]] = Counter()
    for path in recorded("livedata_responses"):
        r = decoded(path)
        message_id = r["message_id"] if r["message_id"] in sent else None
        answers[message_id, r["device"], r["response"]] += 1
    return answers


def recorded_outputs() -> dict[str, dict[str, int]]:
    """Output name -> number of dims, per workflow, as the corpus has them."""
    outputs: dict[str, dict[str, int]] = {}
    for path in recorded("livedata_data"):
        message = decoded(path)
        key = ResultKey.from_source_name(message["source_name"])
        signal = next(v for v in message["data"] if v["name"] == "signal")
        outputs.setdefault(key.workflow_id.name, {})[key.output_name] = len(
            signal["shape"]
        )
    return outputs


def started_jobs() -> dict[JobId, str]:
    """Job id -> workflow name of every valid recorded start."""
    jobs = {}
    for path in recorded("livedata_commands"):
        command = parse_command(path.read_bytes())
        if isinstance(command, WorkflowConfig) and "invalid" not in path.name:
            jobs[command.job_id] = command.identifier.name
    return jobs


def partitions(service: str) -> int:
    """Partitions ``service`` consumes in dev: its data topics, commands, and
    the ROI topic for detector_data."""
    mapping = load_instrument(INSTRUMENT).stream_mapping(Topology.DEV)
    control = 2 if service == "detector_data" else 1
    return len(mapping.input_topics(INPUTS[service])) + control


def test_recorded_commands_get_the_recorded_answers(start, reader, bootstrap):
    for service in SERVICES:
        start(service, "--dev")
    for fake in ("fake_monitors", "fake_detectors", "fake_logdata"):
        start(fake)
    # A command sent before a service consumes is never seen by it.
    for service in SERVICES:
        wait_until_consuming(reader, service, partitions(service))

    producer = Producer({"bootstrap.servers": bootstrap})
    sends = [(p, LivedataTopic.COMMANDS) for p in recorded("livedata_commands")]
    sends += [(p, LivedataTopic.ROI) for p in recorded("livedata_roi")]
    jobs = started_jobs()
    seen_states: dict[JobId, set[JobState]] = {job: set() for job in jobs}
    before_stop: dict[str, dict[str, int]] = {}
    nicos_starts: list[int] = []

    def watch() -> None:
        reader.poll(0.5)
        for job_id, beat in reader.view.jobs().items():
            if job_id in seen_states:
                seen_states[job_id].add(beat.state)
        value = reader.view.nicos.get("monitor1_counts_total")
        if value is not None:
            start_time = value.data.coords["start_time"].value.astype("int64")
            if not nicos_starts or nicos_starts[-1] != start_time:
                nicos_starts.append(int(start_time))

    for path, topic in sorted(sends, key=lambda s: s[0].name):
        if path.name.startswith("075"):  # the first stop: note what ran
            before_stop.update(_published(reader, jobs))
            for _ in range(20):  # the scheduled job ran to its end meanwhile
                watch()
        producer.produce(topic.of(INSTRUMENT), replayed(path))
        producer.flush(10)
        for _ in range(3):
            watch()
    for _ in range(8):
        watch()

    answers = Counter(
        (r.message_id if r.message_id in _sent_ids() else None, r.device, r.response)
        for r in reader.responses
    )
    assert answers == recorded_responses()
    assert all(r.message for r in reader.responses if r.response is ResponseKind.ERR)

    corpus = recorded_outputs()
    assert set(before_stop) == set(jobs.values())
    for workflow, outputs in before_stop.items():
        common = set(outputs) & set(corpus[workflow])
        assert common, f"{workflow}: none of {sorted(corpus[workflow])}"
        assert {o: outputs[o] for o in common} == {
            o: corpus[workflow][o] for o in common
        }
    for name in ("current", "cumulative", "roi_spectra_current", "roi_rectangle"):
        assert name in before_stop["panel_0_xy"]

    stopped = {
        decoded(p)["job_id"]["source_name"]: JobId(**decoded(p)["job_id"])
        for p in recorded("livedata_commands")
        if "stop" in p.name
    }
    for job_id in stopped.values():
        assert JobState.STOPPED in seen_states[job_id], job_id
    scheduled = next(j for j, w in jobs.items() if w == "total_counts")
    assert {JobState.SCHEDULED, JobState.ACTIVE, JobState.STOPPED} <= seen_states[
        scheduled
    ]
    # The reset by job id (060) restarted monitor1's accumulation.
    assert len(nicos_starts) >= 2
    assert nicos_starts == sorted(nicos_starts)
    _facility_dummy_views_run(reader)


FACILITY_VIEWS = {
    "area_panel_xy/area_panel/cumulative": {"dim_0": 256, "dim_1": 256},
    "area_panel_xy/area_panel/current": {"dim_0": 256, "dim_1": 256},
    "panel_0_layers/panel_0/cumulative": {"layer": 4, "y": 32, "x": 128},
    "area_panel_xy/area_panel/counts_total_cumulative": {},
    "panel_0_layers/panel_0/counts_total_cumulative": {},
}
"""The facility dummy's views no recorded command names (dummy.yaml), by
``workflow/source/output``: their default jobs publish these dims."""


def _facility_dummy_views_run(reader) -> None:
    """``area_panel_xy`` (fed by fake_detectors' ad00 frames) and
    ``panel_0_layers`` publish the facility's dims, and area_panel's counts
    reach NICOS as the facility's device contract names them."""

    def published() -> bool:
        return all(reader.latest(name) is not None for name in FACILITY_VIEWS)

    reader.wait_for(published, timeout=30, what="the facility dummy's views")
    for name, sizes in FACILITY_VIEWS.items():
        data = reader.latest(name)
        assert dict(data.sizes) == sizes, name
        assert data.sum().value > 0, name
    device = reader.view.nicos.get("area_panel_counts_total")
    assert device is not None
    assert device.data.value > 0

    def counted() -> set[tuple[str, str, str | None]]:
        report = reader.latest_report("detector_data")
        stats = report.message.stream_stats if report else None
        return {
            (s.topic, s.source_name, s.stream)
            for s in (stats.streams if stats else [])
            if s.count > 0
        }

    # As the recorded stream_stats (046): messages per topic and source.
    reader.wait_for(
        lambda: (
            counted()
            >= {
                ("dummy_detector", "panel_0", "panel_0"),
                ("dummy_area_detector", "area_panel", "area_panel"),
            }
        ),
        timeout=10,
        what="detector_data's stream_stats",
    )


def _sent_ids() -> set[str | None]:
    return {decoded(p).get("message_id") for p in recorded("livedata_commands")}


def _published(reader, jobs: dict[JobId, str]) -> dict[str, dict[str, int]]:
    """Output name -> dims published so far, per workflow of ``jobs``."""
    outputs: dict[str, dict[str, int]] = {}
    for key in reader.view.keys():  # noqa: SIM118 (a view, not a dict)
        if key.job_id in jobs:
            data = reader.view.result(key)
            outputs.setdefault(key.workflow_id.name, {})[key.output_name] = data.ndim
    return outputs
