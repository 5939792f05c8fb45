"""fake_monitors -> monitor_data -> da00, through the real broker."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import (
    job_command,
    response_to,
    responses_to,
    wait_until_consuming,
    workflow_config,
)

from ess.livedata.core.plugins import load_instrument
from ess.livedata.fake.toa import sample_toa
from ess.livedata.protocol import ResponseKind

SERVICE = "monitor_data"
WORKFLOW = "monitor_histogram"
MONITORS = ("monitor1", "monitor2")
EVENTS_PER_PULSE = 1000
MS = 1_000_000


def expected_toa(pulses: int, seed: int) -> dict[str, np.ndarray]:
    """Regenerate what fake_monitors sends: same seed, same order of draws."""
    shape = load_instrument("dummy").fake_data_shapes().monitor_toa
    rng = np.random.default_rng(seed)
    drawn: dict[str, list[np.ndarray]] = {m: [] for m in MONITORS}
    for _ in range(pulses):
        for monitor in MONITORS:
            drawn[monitor].append(sample_toa(shape, EVENTS_PER_PULSE, rng))
    return {m: np.concatenate(v) for m, v in drawn.items()}


def cumulative(reader, monitor: str):
    return reader.latest(f"{WORKFLOW}/{monitor}/cumulative")


def run_fake(start, pulses: int, seed: int, mode: str = "ev44") -> None:
    fake = start(
        "fake_monitors",
        "--mode",
        mode,
        "--pulses",
        str(pulses),
        "--seed",
        str(seed),
        "--events-per-pulse",
        str(EVENTS_PER_PULSE),
    )
    assert fake.wait(timeout=60) == 0, fake.log()


def wait_for_total(reader, monitor: str, total: float) -> None:
    def reached():
        data = cumulative(reader, monitor)
        return data is not None and data.sum().value == pytest.approx(total)

    reader.wait_for(reached, timeout=30, what=f"{monitor} cumulative == {total}")


def test_ev44_counts_binning_command_and_reset(start, reader, send_commands):
    service = start(SERVICE, "--dev")
    wait_until_consuming(reader, SERVICE, partitions=2)

    edges = {"start": 10, "stop": 50, "num_bins": 40, "unit": "ms"}
    configs = [
        workflow_config(WORKFLOW, monitor, {"toa_edges": edges}) for monitor in MONITORS
    ]
    responses = responses_to(reader, send_commands(*configs), count=len(MONITORS))
    assert {r.device for r in responses} == set(MONITORS)
    assert {r.response for r in responses} == {ResponseKind.ACK}

    run_fake(start, pulses=20, seed=7)
    toa = expected_toa(20, seed=7)
    for monitor in MONITORS:
        in_range = int(
            np.count_nonzero((toa[monitor] >= 10 * MS) & (toa[monitor] < 50 * MS))
        )
        wait_for_total(reader, monitor, in_range)
        data = cumulative(reader, monitor)
        assert data.sizes == {"time_of_arrival": 40}
        assert str(data.coords["time_of_arrival"].unit) == "ms"
        assert data.coords["time_of_arrival"].values[[0, -1]].tolist() == [10, 50]
        ledger = reader.wait_for(
            lambda m=monitor: (
                (r := reader.latest_report(SERVICE))
                and m in r.details.ledger
                and r.details.ledger[m].received == toa[m].size
                and r.details.ledger[m]
            ),
            what="ledger to include all events",
        )
        assert ledger.counted == in_range
        assert ledger.out_of_range == toa[monitor].size - in_range
        assert ledger.balanced

    response = response_to(
        reader, send_commands(job_command("reset", workflow=WORKFLOW))
    )
    assert (response.response, response.device) == (ResponseKind.ACK, "all")
    run_fake(start, pulses=5, seed=8)
    toa = expected_toa(5, seed=8)
    for monitor in MONITORS:
        in_range = int(
            np.count_nonzero((toa[monitor] >= 10 * MS) & (toa[monitor] < 50 * MS))
        )
        wait_for_total(reader, monitor, in_range)
        current = reader.latest(f"{WORKFLOW}/{monitor}/current")
        assert (
            current.coords["end_time"].value
            == cumulative(reader, monitor).coords["end_time"].value
        )
    assert service.stop() == 0


def test_da00_spectra_are_accumulated(start, reader):
    start(SERVICE, "--dev")
    wait_until_consuming(reader, SERVICE, partitions=2)
    run_fake(start, pulses=14, seed=3, mode="da00")
    for monitor in MONITORS:
        wait_for_total(reader, monitor, 14 * EVENTS_PER_PULSE)
