"""fake_detectors + fake_monitors -> data_reduction jobs -> da00, through the real broker."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import (
    INSTRUMENT,
    job_command,
    job_heartbeat,
    job_status,
    reduction_partitions,
    response_to,
    wait_until_consuming,
    workflow_config,
    workflow_id,
)

from ess.livedata.core.plugins import load_instrument
from ess.livedata.dashboard.backend import Backend
from ess.livedata.dashboard.feedback import CommandFeedback
from ess.livedata.dashboard.workflows import WorkflowLauncher
from ess.livedata.kafka.settings import KafkaSettings
from ess.livedata.protocol import (
    JobId,
    JobMessage,
    JobState,
    ResponseKind,
)

SERVICE = "data_reduction"
SOURCE = "panel_0"


def start_job(reader, send_commands, workflow: str, **params) -> JobId:
    """Start (or replace) ``workflow`` on panel_0; the new job's id."""
    config = workflow_config(workflow, SOURCE, params)
    response = response_to(reader, send_commands(config))
    assert response.response is ResponseKind.ACK, response.message
    assert response.device == SOURCE
    return config.job_id


def newer(reader, name: str, than: np.datetime64 | None = None):
    """The latest output ``name`` whose accumulation started after ``than``."""

    def found():
        data = reader.latest(name)
        if data is None:
            return None
        if than is not None and not data.coords["start_time"].value > than:
            return None
        return (data,)  # a DataArray has no truth value

    [data] = reader.wait_for(found, what=f"{name} starting after {than}")
    return data


def mean_wavelength(spectrum) -> float:
    edges = spectrum.coords["wavelength"].values
    centers = (edges[1:] + edges[:-1]) / 2
    return float(np.average(centers, weights=spectrum.values))


@pytest.fixture
def running(start, reader):
    """data_reduction consuming, and the dummy's fakes producing at 14 Hz."""
    service = start(SERVICE, "--dev")
    wait_until_consuming(reader, SERVICE, partitions=reduction_partitions())
    rate = ("--events-per-pulse", "500")
    start("fake_detectors", *rate)
    start("fake_monitors", "--mode", "ev44", *rate)
    return service


def test_jobs_run_change_reset_fail_and_stop(running, reader, send_commands):
    ratio = f"monitor_normalized_counts/{SOURCE}/ratio_cumulative"
    spectrum = f"wavelength_spectrum/{SOURCE}/spectrum"
    norm = start_job(reader, send_commands, "monitor_normalized_counts")
    spec = start_job(
        reader,
        send_commands,
        "wavelength_spectrum",
        wavelength_max=20.0,
        flight_path_m=29.0,
    )

    # Outputs arrive, stamped with the window they cover.
    first_ratio = newer(reader, ratio)
    first_spectrum = newer(reader, spectrum)
    assert first_ratio.coords["end_time"].value > first_ratio.coords["start_time"].value
    assert first_spectrum.sum().value > 0
    history = newer(reader, f"monitor_normalized_counts/{SOURCE}/ratio_history")
    assert history.dims == ("time",)

    # A shorter flight path means longer wavelengths, in proportion: the new
    # config replaces the job on the source.
    spec = start_job(
        reader,
        send_commands,
        "wavelength_spectrum",
        wavelength_max=20.0,
        flight_path_m=14.5,
    )
    since = first_spectrum.coords["start_time"].value
    halved = newer(reader, spectrum, than=since)
    ratio_of_means = mean_wavelength(halved) / mean_wavelength(first_spectrum)
    assert ratio_of_means == pytest.approx(2.0, rel=0.05)
    reader.wait_for(
        lambda: (s := job_status(reader, spec)) and s.params["flight_path_m"] == 14.5,
        what="the new flight path in the status",
    )

    # Counting only a narrow range of arrival times lowers the ratio.
    wide = newer(reader, ratio).value
    norm = start_job(
        reader,
        send_commands,
        "monitor_normalized_counts",
        toa_min_ms=25.0,
        toa_max_ms=35.0,
    )
    narrow = newer(reader, ratio, than=first_ratio.coords["start_time"].value)
    assert narrow.value < 0.8 * wide

    # Reset: the cumulative result restarts from a later window.
    before = newer(reader, spectrum, than=since)
    reset = response_to(reader, send_commands(job_command("reset", spec)))
    assert (reset.response, reset.device) == (ResponseKind.ACK, str(spec))
    after = newer(reader, spectrum, than=before.coords["start_time"].value)
    assert after.coords["start_time"].value > before.coords["start_time"].value

    # A bad parameter is refused with pydantic's reason; no job is made.
    bad = workflow_config("wavelength_spectrum", SOURCE, {"bins": 0})
    response = response_to(reader, send_commands(bad))
    assert (response.response, response.device) == (ResponseKind.ERR, SOURCE)
    assert "bins: Input should be greater than or equal to 1" in response.message

    # A job whose workflow raises reports error; the others keep publishing.
    boom = start_job(reader, send_commands, "always_fails")
    failed = reader.wait_for(
        lambda: (j := job_heartbeat(reader, boom)) and j.state is JobState.ERROR and j,
        what="always_fails in error",
    )
    assert "by design" in failed.error
    assert job_heartbeat(reader, bad.job_id) is None
    assert job_status(reader, bad.job_id) is None
    published = len(reader.data[ratio])
    reader.wait_for(lambda: len(reader.data[ratio]) > published + 1, what="norm")
    assert job_heartbeat(reader, norm).state is JobState.ACTIVE
    assert job_heartbeat(reader, spec).state is JobState.ACTIVE

    # Stop: that job's outputs cease while the other job's continue.
    stop = response_to(reader, send_commands(job_command("stop", norm)))
    assert (stop.response, stop.device) == (ResponseKind.ACK, str(norm))
    reader.wait_for(
        lambda: job_heartbeat(reader, norm).state is JobState.STOPPED,
        what="norm stopped",
    )
    reader.poll(1.5)
    stopped_at = len(reader.data[ratio])
    spectra = len(reader.data[spectrum])
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        reader.poll()
    assert len(reader.data[ratio]) == stopped_at
    assert len(reader.data[spectrum]) > spectra
    assert running.stop() == 0


@pytest.fixture
def reduction_page_backend(bootstrap):
    """The reduction dashboard's backend (Kafka feed and command sender)."""
    backend = Backend.start(
        load_instrument(INSTRUMENT), KafkaSettings(bootstrap_servers=bootstrap)
    )
    try:
        yield backend
    finally:
        backend.stop()


def test_every_dummy_workflow_starts_from_the_reduction_page(
    start, reader, reduction_page_backend
):
    """Each workflow's Start button with its default form: the demo's path.

    The service runs as ``services.md`` lists it, without ``--dev``.

    The page's launcher builds the command and sends it with the dashboard's
    own sender; a working job publishes its outputs, ``always_fails`` reports
    its error (by design) in the service's status.
    """
    start(SERVICE)
    wait_until_consuming(reader, SERVICE, partitions=reduction_partitions())
    start("fake_detectors")
    start("fake_monitors", "--mode", "ev44")
    backend = reduction_page_backend
    feedback = CommandFeedback(backend.store)
    specs = backend.loaded.reduction_specs.values()
    assert {spec.name for spec in specs} == {
        "monitor_normalized_counts",
        "wavelength_spectrum",
        "always_fails",
        "total_counts",
    }
    for spec in specs:
        WorkflowLauncher(backend, spec, feedback).send_start()

    def job_of(spec) -> JobMessage | None:
        wanted = str(workflow_id(spec.name))
        found = [j for j in reader.view.jobs().values() if j.workflow_id == wanted]
        return found[-1] if found else None

    for spec in specs:
        job = reader.wait_for(lambda s=spec: job_of(s), what=spec.name)
        if spec.name == "always_fails":
            reader.wait_for(
                lambda s=spec: job_of(s).state is JobState.ERROR, what="its error"
            )
            continue
        for output in spec.output_specs:
            name = f"{spec.name}/{job.job_id.source_name}/{output.name}"
            reader.wait_for(lambda n=name: reader.latest(n) is not None, what=name)
        reader.wait_for(
            lambda s=spec: job_of(s).state is JobState.ACTIVE, what=f"{job} active"
        )
