"""The ESS packages' reductions as live jobs: fakes -> data_reduction -> da00.

LOKI's ``i_of_q`` (esssans) and DREAM's ``powder_reduction``
(essdiffraction) run in ``data_reduction`` on the instrument's stand-in
geometry file, fed by its fakes through the real broker. Each job is started
by the facility's ``workflow_config`` (typed params, the facility's aux
source roles) and stopped by ``job_command``; its outputs must come with the
dims and units the facility declares. LOKI's fake rear-bank ring is silver
behenate's first peak, so I(Q) must peak there; DREAM's results are fractions
of all counts (the facility's stand-in for proton charge), so they sum to at
most one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import scipp as sc
from browser_helpers import (
    caption_total,
    headless_chromium,
    open_dashboard,
    screenshot,
    unused_port,
    wait_for,
)
from conftest import (
    command_sender,
    create_instrument_topics,
    job_command,
    job_heartbeat,
    job_status,
    program_starter,
    reduction_partitions,
    response_to,
    wait_until_consuming,
    workflow_config,
)
from playwright.sync_api import Locator

from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.ess.stand_in import on_stand_in_geometry
from ess.livedata.instruments.loki.fake_data import SILVER_BEHENATE_Q
from ess.livedata.protocol import JobState, ResponseKind, WorkflowId
from ess.livedata.testing.processes import Program
from ess.livedata.testing.readers import LivedataReader

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

SERVICE = "data_reduction"
RUNNING = (JobState.ACTIVE, JobState.WARNING)
BUILD_TIMEOUT_S = 240
"""Loading the geometry and, on a fresh machine, computing the lookup table
(LOKI: 12 s on a quiet core, benchmarks/RESULTS.md) on a loaded 2-core box."""


@dataclass(frozen=True)
class Output:
    """An output as the facility declares it, with the sizes the params ask."""

    dims: tuple[str, ...]
    coords: dict[str, str]
    sizes: dict[str, int] = field(default_factory=dict)
    unit: str = "dimensionless"


@dataclass(frozen=True)
class Reduction:
    """One instrument's reduction job as the facility starts it."""

    instrument: str
    workflow: str
    bank: str
    params: dict[str, Any]
    aux_source_names: dict[str, str]
    outputs: dict[str, Output]
    check: Callable[[dict[str, sc.DataArray]], None]
    fake_args: tuple[str, ...] = field(default=("--events-per-pulse", "4000"))


def _i_of_q_peaks_at_silver_behenate(outputs: dict[str, sc.DataArray]) -> None:
    i_of_q = outputs["i_of_q"]
    edges = i_of_q.coords["Q"].values
    centres = (edges[1:] + edges[:-1]) / 2
    assert np.all(np.isfinite(i_of_q.values))
    peak = centres[np.nanargmax(i_of_q.values)]
    assert peak == pytest.approx(SILVER_BEHENATE_Q, abs=2 * (edges[1] - edges[0]))
    transmission = outputs["transmission_fraction"]
    assert np.nansum(transmission.values) > 0


def _powder_is_a_fraction_of_all_counts(outputs: dict[str, sc.DataArray]) -> None:
    focussed = outputs["focussed_data_dspacing"]
    total = float(np.nansum(focussed.values))
    assert 0 < total <= 1 + 1e-9
    both = outputs["focussed_data_dspacing_two_theta"]
    assert float(np.nansum(both.values)) <= 1 + 1e-9


LOKI = Reduction(
    instrument="loki",
    workflow="i_of_q/v2",
    bank="loki_detector_0",
    params={
        "q_min": 0.05,
        "q_max": 0.2,
        "q_bins": 30,
        "transmission_mode": "current_run",
    },
    aux_source_names={
        "incident_monitor": "beam_monitor_m1",
        "transmission_monitor": "beam_monitor_m3",
    },
    outputs={
        "i_of_q": Output(("Q",), {"Q": "1/angstrom"}, {"Q": 30}),
        "transmission_fraction": Output(("wavelength",), {"wavelength": "angstrom"}),
    },
    check=_i_of_q_peaks_at_silver_behenate,
)
DREAM = Reduction(
    instrument="dream",
    workflow="powder_reduction/v1",
    bank="mantle_detector",
    params={"dspacing_bins": 200, "two_theta_bins": 20},
    aux_source_names={"cave_monitor": "monitor_cave"},
    outputs={
        "focussed_data_dspacing": Output(
            ("dspacing",), {"dspacing": "angstrom"}, {"dspacing": 200}
        ),
        "focussed_data_dspacing_two_theta": Output(
            ("dspacing", "two_theta"),
            {"dspacing": "angstrom", "two_theta": "rad"},
            {"dspacing": 200, "two_theta": 20},
        ),
        "focussed_data_tof": Output(("tof",), {"tof": "us"}),
    },
    check=_powder_is_a_fraction_of_all_counts,
)


@dataclass
class Running:
    """data_reduction and the fakes of one instrument, on its stand-in file."""

    loaded: LoadedInstrument
    reader: LivedataReader
    send: Callable[..., str]
    stop_service: Callable[[], int]


@pytest.fixture(params=[LOKI, DREAM], ids=lambda r: r.instrument)
def running(request, kafka_broker, tmp_path) -> Iterator[tuple[Reduction, Running]]:
    case: Reduction = request.param
    bootstrap = kafka_broker.bootstrap_servers
    create_instrument_topics(bootstrap, instrument=case.instrument)
    with (
        on_stand_in_geometry(case.instrument, tmp_path) as loaded,
        program_starter(bootstrap, tmp_path, case.instrument) as start,
        command_sender(bootstrap, case.instrument) as send,
    ):
        reader = LivedataReader(bootstrap, case.instrument)
        try:
            service = start(SERVICE, "--dev")
            wait_until_consuming(
                reader, SERVICE, partitions=reduction_partitions(case.instrument)
            )
            start("fake_detectors", *case.fake_args)
            start("fake_monitors", "--mode", "ev44", *case.fake_args)
            yield case, Running(loaded, reader, send, service.stop)
        finally:
            reader.close()


def test_a_reduction_started_by_command_publishes_outputs_with_units(running):
    case, run = running
    reader = run.reader
    spec = run.loaded.workflow_specs[case.workflow]
    identifier = WorkflowId(
        instrument=case.instrument, name=spec.name, version=spec.version
    )
    config = workflow_config(
        identifier, case.bank, case.params, aux_source_names=case.aux_source_names
    )
    job = config.job_id

    response = response_to(reader, run.send(config))
    assert (response.response, response.device) == (ResponseKind.ACK, case.bank)
    status = reader.wait_for(lambda: job_status(reader, job), what="the job's status")
    assert status.sources == [case.bank]
    assert {k: status.params[k] for k in case.params} == case.params

    names = {o: f"{spec.name}/{case.bank}/{o}" for o in case.outputs}

    def accumulated_for(seconds: float) -> dict[str, sc.DataArray] | None:
        """Every output, once each covers ``seconds`` of data."""
        found = {o: reader.latest(n) for o, n in names.items()}
        if any(d is None for d in found.values()):
            return None
        spans = [
            (d.coords["end_time"].value - d.coords["start_time"].value)
            / np.timedelta64(1, "s")
            for d in found.values()
        ]
        return found if min(spans) >= seconds else None

    outputs = reader.wait_for(
        lambda: accumulated_for(3.0),
        timeout=BUILD_TIMEOUT_S,
        what=f"{case.workflow} outputs over 3 s of data",
    )
    # The heartbeat after the build: running; on a loaded machine it may skip
    # windows, visibly (WARNING).
    heartbeat = reader.wait_for(
        lambda: (
            (beat := job_heartbeat(reader, job))
            and not (beat.warning or "").startswith("preparing")
            and beat
        ),
        what="a heartbeat of the built job",
    )
    assert heartbeat.state in RUNNING, heartbeat
    if heartbeat.state is JobState.WARNING:
        assert "cannot keep up" in heartbeat.warning
    assert heartbeat.workflow_id == str(identifier)
    for name, expected in case.outputs.items():
        data = outputs[name]
        assert data.dims == expected.dims, name
        assert data.unit == sc.Unit(expected.unit), name
        for dim, unit in expected.coords.items():
            assert data.coords[dim].unit == sc.Unit(unit), (name, dim)
        assert {d: data.sizes[d] for d in expected.sizes} == expected.sizes, name
    case.check(outputs)

    # Stop: the job's heartbeat says so and its outputs cease.
    answer = response_to(reader, run.send(job_command("stop", job)))
    assert (answer.response, answer.device) == (ResponseKind.ACK, str(job))
    reader.wait_for(
        lambda: job_heartbeat(reader, job).state is JobState.STOPPED,
        what="the job stopped",
    )
    reader.poll(1.5)
    published = {o: len(reader.data[n]) for o, n in names.items()}
    reader.poll(3.0)
    assert {o: len(reader.data[n]) for o, n in names.items()} == published
    assert run.stop_service() == 0


@pytest.mark.browser
@pytest.mark.parametrize("running", [LOKI], indirect=True, ids=["loki"])
def test_i_of_q_started_from_the_reduction_dashboard_fills_its_plot(running, tmp_path):
    """The reduction page's Start button with LOKI's default form: the job
    runs, the page plots its I(Q) and stops it."""
    case, run = running
    port = unused_port()
    dashboard = Program(
        "ess.livedata.dashboard.reduction",
        ["--instrument", case.instrument, "--port", str(port)],
        bootstrap_servers=run.reader.bootstrap_servers,
        log_dir=tmp_path,
    )
    try:
        # Serving only after its imports: over a minute on a loaded machine.
        wait_for(
            lambda: f"at http://127.0.0.1:{port}/" in dashboard.log(),
            "the dashboard to serve",
            BUILD_TIMEOUT_S,
        )
        with headless_chromium() as browser:
            context = browser.new_context(viewport={"width": 1400, "height": 1400})
            page = context.new_page()
            open_dashboard(page, f"http://127.0.0.1:{port}/")
            page.get_by_role("button", name="Start job").click()
            rows = page.locator(f'tr[data-job^="{case.bank}/"]')

            def running_row() -> Locator | None:
                """The bank's job row that runs (the table also lists ended jobs)."""
                for i in range(rows.count()):
                    row = rows.nth(i)
                    if JobState(row.get_attribute("data-state")) in RUNNING:
                        return row
                return None

            row = wait_for(
                running_row, "the started job active in the job table", BUILD_TIMEOUT_S
            )
            i_of_q = f"i_of_q/{case.bank}/i_of_q"
            wait_for(
                lambda: caption_total(page, i_of_q) is not None,
                "the I(Q) plot to fill",
                BUILD_TIMEOUT_S,
            )
            assert page.locator(".bk-Canvas").count() >= 1
            run.reader.wait_for(
                lambda: run.reader.latest(i_of_q) is not None,
                what="the published I(Q)",
            )
            published = run.reader.latest(i_of_q)
            assert published.coords["Q"].unit == sc.Unit("1/angstrom")
            screenshot(page, tmp_path / "loki-i-of-q.png")

            number = row.get_attribute("data-job").split("/")[1]
            label = f"i_of_q on {case.bank} ({number[:8]})"
            page.locator("select").filter(has_text=label).select_option(label=label)
            page.get_by_role("button", name="Stop job").click()
            wait_for(
                lambda: row.get_attribute("data-state") == "stopped",
                "the job's stopped heartbeat in the table",
            )
            context.close()
    finally:
        assert dashboard.stop() == 0, dashboard.log()
