import math

import numpy as np
import pytest

from ess.livedata.core.job_commands import parse_params
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import load_instrument

MS = 1_000_000
PANEL = StreamId(StreamKind.DETECTOR_EVENTS, "panel_0")
MONITOR = StreamId(StreamKind.MONITOR_EVENTS, "monitor1")
H_OVER_MN = 3956.034  # m/s * angstrom


def batch(toa_ms, pulse_ns: int = 10**18) -> EventBatch:
    toa = (np.asarray(toa_ms, dtype=float) * MS).astype(np.int32)
    return EventBatch(
        reference_time=np.array([pulse_ns], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=toa,
        pixel_id=np.ones(toa.size, dtype=np.int32),
    )


@pytest.fixture(scope="module")
def dummy():
    return load_instrument("dummy")


def build(dummy, key: str, sources, **params):
    spec = dummy.workflow_specs[key]
    return dummy.workflow_factories()[key](parse_params(spec, params), sources)


def test_specs_and_factories_match(dummy):
    assert sorted(dummy.reduction_specs) == [
        "always_fails/v1",
        "monitor_normalized_counts/v1",
        "total_counts/v1",
        "wavelength_spectrum/v1",
    ]
    assert sorted(dummy.workflow_factories()) == sorted(dummy.reduction_specs)


def test_workflows_carry_the_facility_dummy_names_and_services(dummy):
    """The facility's dummy workflows, run by the same services (dummy.yaml)."""
    services = {s.name: s.service for s in dummy.workflow_specs.values()}
    assert services["monitor_histogram"] == "monitor_data"
    assert services["panel_0_xy"] == "detector_data"
    assert services["timeseries_data"] == "timeseries"
    assert services["total_counts"] == "data_reduction"
    assert services["panel_0_layers"] == "detector_data"
    assert services["area_panel_xy"] == "detector_data"
    assert dummy.workflow_specs["area_panel_xy/v1"].sources == ("area_panel",)
    monitors = dummy.workflow_specs["monitor_histogram/v1"]
    assert monitors.sources == ("monitor1", "monitor2")
    assert {"motion1", "motion2"} <= set(
        dummy.workflow_specs["timeseries_data/v1"].sources
    )
    # The facility's device contract (nicos_device_outputs in the facts).
    assert monitors.nicos_devices == {
        "counts_total_cumulative": "{source_name}_counts_total"
    }
    panel = dummy.workflow_specs["panel_0_xy/v1"]
    assert panel.nicos_devices == monitors.nicos_devices
    area = dummy.workflow_specs["area_panel_xy/v1"]
    assert area.nicos_devices == monitors.nicos_devices
    # The 3-D view takes no ROIs, as the facility's (roi: false).
    layers = {o.name for o in dummy.workflow_specs["panel_0_layers/v1"].output_specs}
    assert {"current", "cumulative", "counts_total_cumulative"} <= layers
    assert not any(name.startswith("roi_") for name in layers)


def test_total_counts_sums_the_events_of_its_sources(dummy):
    workflow = build(dummy, "total_counts/v1", [PANEL])
    workflow.accumulate({PANEL: [batch([1, 2, 3]), batch([4, 5])]})
    workflow.accumulate({PANEL: [batch([1, 2, 3, 4])]})
    assert workflow.finalize()["total_counts"].value == 9
    workflow.clear()
    assert workflow.finalize()["total_counts"].value == 0


def test_normalized_counts_follow_the_toa_range(dummy):
    wide = build(dummy, "monitor_normalized_counts/v1", [PANEL])
    narrow = build(
        dummy, "monitor_normalized_counts/v1", [PANEL], toa_min_ms=10, toa_max_ms=30
    )
    for workflow in (wide, narrow):
        workflow.accumulate({PANEL: [batch([5, 15, 25, 35])], MONITOR: [batch([1, 2])]})
        workflow.accumulate({PANEL: [batch([20], pulse_ns=2 * 10**18)]})
    wide_out, narrow_out = wide.finalize(), narrow.finalize()
    assert wide_out["ratio_cumulative"].value == 5 / 2
    assert narrow_out["ratio_cumulative"].value == 3 / 2
    history = narrow_out["ratio_history"]
    assert history.values[0] == 1.0
    assert math.isnan(history.values[1])  # no monitor events in that window
    assert history.coords["time"].values.astype(np.int64).tolist() == [
        10**18,
        2 * 10**18,
    ]
    narrow.clear()
    narrow.accumulate({PANEL: [batch([20])], MONITOR: [batch([1, 2, 3, 4])]})
    assert narrow.finalize()["ratio_history"].values.tolist() == [0.25]


def test_history_keeps_its_length(dummy):
    workflow = build(dummy, "monitor_normalized_counts/v1", [PANEL], history_length=2)
    for pulse in range(1, 4):
        workflow.accumulate({PANEL: [batch([1], pulse)], MONITOR: [batch([1], pulse)]})
    times = workflow.finalize()["ratio_history"].coords["time"]
    assert times.values.astype(np.int64).tolist() == [2, 3]


def test_wavelength_spectrum_follows_the_flight_path(dummy):
    toa_ms = 30.0
    peaks = {}
    for flight_path in (20.0, 29.0):
        workflow = build(
            dummy,
            "wavelength_spectrum/v1",
            [PANEL, MONITOR],
            flight_path_m=flight_path,
            wavelength_min=1,
            wavelength_max=11,
            bins=1000,
        )
        workflow.accumulate({PANEL: [batch([toa_ms] * 3)], MONITOR: [batch([toa_ms])]})
        spectrum = workflow.finalize()["spectrum"]
        assert spectrum.sum().value == 4
        centers = spectrum.coords["wavelength"].values
        peaks[flight_path] = centers[np.argmax(spectrum.values)]
    for flight_path, peak in peaks.items():
        expected = H_OVER_MN * toa_ms / 1000 / flight_path
        assert peak == pytest.approx(expected, abs=0.01)


def test_always_fails_fails(dummy):
    workflow = build(dummy, "always_fails/v1", [PANEL])
    with pytest.raises(RuntimeError, match="by design"):
        workflow.accumulate({PANEL: [batch([1])]})
