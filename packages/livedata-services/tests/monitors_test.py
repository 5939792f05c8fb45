"""monitor_data through the job protocol: ``monitor_histogram`` jobs per monitor."""

import numpy as np
import pytest
import scipp as sc
from job_driving import COMMANDS, act, job_of, run, start, started

from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.window import TimeWindow
from ess.livedata.processing.job_bindings import monitor_jobs
from ess.livedata.processing.job_protocol import default_job_number
from ess.livedata.protocol import JobId

MS = 1_000_000
W0 = TimeWindow(0, 1_000_000_000)
W1 = TimeWindow(1_000_000_000, 2_000_000_000)
M1 = StreamId(StreamKind.MONITOR_EVENTS, "monitor1")
HISTOGRAM = "monitor_histogram"


def events(toa_ms) -> Message:
    toa = (np.asarray(toa_ms, dtype=float) * MS).astype(np.int32)
    batch = EventBatch(
        reference_time=np.array([0], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=toa,
        pixel_id=np.empty(0, dtype=np.int32),
    )
    return Message(0, M1, batch)


def edges(start=0.0, stop=1000 / 14, num_bins=200, unit="ms") -> dict:
    return {
        "toa_edges": {"start": start, "stop": stop, "num_bins": num_bins, "unit": unit}
    }


def ledger(processor, monitor="monitor1") -> dict:
    return processor.status_details().model_dump()["ledger"][monitor]


@pytest.fixture(scope="module")
def loaded():
    return load_instrument("dummy")


@pytest.fixture
def processor(loaded):
    return monitor_jobs(loaded)


def test_default_jobs_publish_current_cumulative_and_totals(processor):
    out0 = run(processor, W0, events([1, 2, 3, 80]))
    assert out0[HISTOGRAM, "monitor1", "current"].sum().value == 3
    out1 = run(processor, W1, events([10, 20]))
    assert out1[HISTOGRAM, "monitor1", "current"].sum().value == 2
    cumulative = out1[HISTOGRAM, "monitor1", "cumulative"]
    assert cumulative.sum().value == 5
    assert cumulative.coords["start_time"].value == np.datetime64(W0.start, "ns")
    assert cumulative.coords["end_time"].value == np.datetime64(W1.end, "ns")
    assert cumulative.coords["time"].value == np.datetime64(W1.end, "ns")
    assert out1[HISTOGRAM, "monitor1", "counts_total"].value == 2
    assert out1[HISTOGRAM, "monitor1", "counts_total_cumulative"].value == 5
    assert ledger(processor) == {
        "received": 6,
        "counted": 5,
        "out_of_range": 1,
        "rejected": 0,
        "ignored": 0,
        "skipped": 0,
        "balanced": True,
    }


def test_default_job_numbers_are_the_same_in_every_worker(loaded):
    keys = []
    for _ in range(2):
        processor = monitor_jobs(loaded)
        keys.append(sorted(j.job_id.job_number for j in processor.jobs()))
    assert keys[0] == keys[1]
    assert len(set(keys[0])) == 2
    [monitor1] = [j for j in monitor_jobs(loaded).jobs() if j.source == "monitor1"]
    assert monitor1.job_id.job_number == default_job_number(
        monitor1.workflow, "monitor1"
    )


def test_cumulative_total_goes_to_nicos(processor):
    messages = processor.process_window(W0, {M1: [events([1, 2, 3])]})
    [nicos] = [m for m in messages if m.stream.kind is StreamKind.LIVEDATA_NICOS]
    assert nicos.stream.name == "monitor1_counts_total"
    assert nicos.value.value == 3
    assert nicos.value.coords["time"].value == nicos.value.coords["end_time"].value


def test_output_has_units_and_bin_edges(processor):
    current = run(processor, W0, events([1.0]))[HISTOGRAM, "monitor1", "current"]
    assert current.unit == sc.units.counts
    assert current.coords["time_of_arrival"].unit == sc.Unit("ms")
    edges = current.coords["time_of_arrival"]
    assert edges.sizes["time_of_arrival"] == current.sizes["time_of_arrival"] + 1
    assert current.name == "monitor1"


def test_reset_zeroes_cumulative_but_not_current(processor):
    run(processor, W0, events([1, 2]))
    job = job_of(processor, HISTOGRAM, "monitor1")
    [response] = act(processor, "reset", job)
    assert (response.response, response.device) == ("ACK", str(job))
    out = run(processor, W1, events([3]))
    cumulative = out[HISTOGRAM, "monitor1", "cumulative"]
    assert cumulative.sum().value == 1
    assert cumulative.coords["start_time"].value == np.datetime64(W1.start, "ns")
    assert out[HISTOGRAM, "monitor1", "current"].sum().value == 1


def test_reset_by_workflow_as_nicos_sends_it(processor):
    run(processor, W0, events([1, 2]))
    nicos = (
        b'{"kind": "job_command", "action": "reset",'
        b' "workflow_id": "dummy/monitor_histogram/1"}'
    )
    [response] = processor.handle_command(Message(0, COMMANDS, nicos))
    assert (response.value.response, response.value.device) == ("ACK", "all")
    assert response.value.message_id  # generated: NICOS sends none
    out = run(processor, W1, events([3]))
    assert out[HISTOGRAM, "monitor1", "counts_total_cumulative"].value == 1


def test_binning_from_workflow_config_changes_bins_and_range(processor):
    job = started(processor, HISTOGRAM, "monitor1", edges(10, 20, 5))
    out = run(processor, W0, events([5, 10, 12, 19.9, 20, 30]))
    current = out[HISTOGRAM, "monitor1", "current"]
    assert current.sizes == {"time_of_arrival": 5}
    assert list(current.values) == [1, 1, 0, 0, 1]
    assert ledger(processor)["out_of_range"] == 3
    assert processor.status_details().binning["monitor1"].bins == 5
    # The new job replaces the default one: one job, the command's number.
    assert [j.job_id for j in processor.jobs() if j.source == "monitor1"] == [job]


def test_binning_in_another_unit(processor):
    started(processor, HISTOGRAM, "monitor1", edges(0, 40_000, 4, unit="us"))
    current = run(processor, W0, events([5, 15, 25, 35, 45]))[
        HISTOGRAM, "monitor1", "current"
    ]
    assert current.coords["time_of_arrival"].unit == sc.Unit("us")
    assert current.values.tolist() == [1, 1, 1, 1]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"toa_edges": "not-a-bin-spec"}, "toa_edges"),
        (edges(num_bins=10**9), "num_bins"),
        (edges(start=20, stop=10), "stop must be greater than start"),
        (edges(unit="h"), "unit"),
    ],
)
def test_bad_params_are_refused_with_reason_and_change_nothing(
    processor, params, reason
):
    before = [j.job_id for j in processor.jobs()]
    _, [response] = start(processor, HISTOGRAM, "monitor1", params)
    assert (response.response, response.device) == ("ERR", "monitor1")
    assert reason in response.message
    assert [j.job_id for j in processor.jobs()] == before
    assert processor.status_details().commands_rejected == 1


def test_unknown_monitor_is_refused(processor):
    _, [response] = start(processor, HISTOGRAM, "monitor9")
    assert response.response == "ERR"
    assert "monitor9" in response.message


@pytest.mark.parametrize(
    "payload", [b"\xff\xfe garbage", b'{"kind": "explode"}', b"[" * 70000]
)
def test_what_is_not_a_command_is_counted_and_not_answered(processor, payload):
    assert processor.handle_command(Message(0, COMMANDS, payload)) == []
    assert processor.status_details().commands_rejected == 1


def test_commands_for_other_services_are_not_answered(processor):
    _, answers = start(processor, "panel_0_xy", "panel_0")
    assert answers == []
    assert act(processor, "reset", JobId(source_name="panel_0", job_number="x")) == []
    assert act(processor, "reset", workflow="panel_0_xy") == []
    assert processor.status_details().commands_accepted == 0


def test_stopped_job_ignores_events_and_publishes_nothing(processor):
    job = job_of(processor, HISTOGRAM, "monitor1")
    [response] = act(processor, "stop", job)
    assert response.response == "ACK"
    out = run(processor, W0, events([1, 2]))
    assert not [key for key in out if key[1] == "monitor1"]
    assert ledger(processor)["ignored"] == 2
    assert ledger(processor)["balanced"]
    # Stopping it again finds no job: silence, as from a service without it.
    assert act(processor, "stop", job) == []


def test_a_new_job_after_stop_counts_again(processor):
    act(processor, "stop", workflow=HISTOGRAM)
    assert processor.jobs() == []
    started(processor, HISTOGRAM, "monitor1")
    out = run(processor, W0, events([1, 2]))
    assert out[HISTOGRAM, "monitor1", "counts_total"].value == 2
    assert ledger(processor)["balanced"]


def test_histogram_input_is_rebinned_and_accounted(processor):
    edges_ns = np.linspace(0, 100 * MS, 11)
    spectrum = sc.DataArray(
        sc.array(dims=["toa"], values=np.full(10, 7.0), unit="counts"),
        coords={"toa": sc.array(dims=["toa"], values=edges_ns, unit="ns")},
    )
    stream = StreamId(StreamKind.MONITOR_COUNTS, "monitor1")
    out = run(processor, W0, Message(0, stream, spectrum))
    current = out[HISTOGRAM, "monitor1", "current"]
    # default range is one 71.4 ms frame: 7 full bins and 1.43 of the 8th
    assert current.sum().value == pytest.approx(7 * 7 + 7 * 0.142857, rel=1e-4)
    assert ledger(processor)["received"] == 70
    assert ledger(processor)["balanced"]


def test_a_config_the_accumulators_refuse_leaves_the_running_job(processor):
    job = job_of(processor, HISTOGRAM, "monitor1")
    _, [response] = start(processor, HISTOGRAM, "monitor1", edges(0, 20, 10, unit="s"))
    assert response.response == "ERR"
    assert "beyond 10 s" in response.message
    assert job_of(processor, HISTOGRAM, "monitor1") == job
    assert all(m.state == "active" for m in processor.job_heartbeats())
    out = run(processor, W0, events([1, 2]))
    assert out[HISTOGRAM, "monitor1", "counts_total"].value == 2
